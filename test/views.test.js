'use strict';
// Views and iteration: a.view(...index) is numpy's a[index] (basic indexing,
// negative steps included) over the same memory, checked against numpy for
// every dtype and byte order; views of views; every method on a view; `data`
// only when contiguous; iteration over the first axis ([...a], Array.from);
// and the lifecycle: closing a view leaves its base open, closing or
// remapping the base ends its views.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, openNpy, MemmapArray } = require('..');
const { DESCRS } = require('./helpers/dtypes');
const { numpyJSON, fromNumpy } = require('./helpers/numpy');
const { throwsCode } = require('./helpers/assert');
const { useTmpDir } = require('./helpers/tmp');
const { parseDType } = require('..');

/** Index expressions as JS (for view()) and as numpy source. */
const INDEXES = [
  [[1], '1'],
  [[null, 2], ':, 2'],
  [[[null, null, -1]], '::-1'],
  [[[1, 3], [null, null, 2]], '1:3, ::2'],
  [[-1, [4, 0, -2], 0], '-1, 4:0:-2, 0'],
  [[[null, null, -2], null, [1, 4]], '::-2, :, 1:4'],
  [[0, 0, 0], '0, 0, 0'],
  [[[2, 2]], '2:2'],
];

describe('views: a.view(...index) is numpy\'s a[index] over the same memory', function () {
  const tmp = useTmpDir();

  it('agrees with numpy (values, shape) for every dtype, byte order, C and F, and a view of a view', function () {
    const cases = numpyJSON(
      `
d = sys.argv[1]
idx = json.loads(sys.argv[3])
out = []
rng = np.random.default_rng(5)
for descr in json.loads(sys.argv[2]):
    dt = np.dtype(descr)
    for order in 'CF':
        a = np.asfortranarray(values(dt, 60, rng, False).reshape(3, 4, 5)) if order == 'F' else values(dt, 60, rng, False).reshape(3, 4, 5)
        f = os.path.join(d, descr.replace('<', 'l').replace('>', 'b').replace('|', '') + order + '.npy')
        np.save(f, a)
        views = []
        for src in idx:
            v = eval('a[' + src + ']')
            views.append({'shape': list(np.shape(v)), 'flat': encode(v)})
        vv = a[1:, ::-1][::-1, 1]
        out.append({'file': f, 'descr': descr, 'views': views, 'vv': {'shape': list(vv.shape), 'flat': encode(vv)}})
emit(out)
`,
      [tmp.dir, JSON.stringify(DESCRS), JSON.stringify(INDEXES.map((x) => x[1]))],
    );
    for (const c of cases) {
      const a = openNpy(c.file);
      const dt = parseDType(c.descr);
      for (let k = 0; k < INDEXES.length; k++) {
        const want = c.views[k];
        const v = a.view(...INDEXES[k][0]);
        const what = `${c.file} [${INDEXES[k][1]}]`;
        assert.ok(v instanceof MemmapArray, what);
        assert.equal(v.base, a, what);
        assert.deepEqual([...v.shape], want.shape, `${what} shape`);
        const flat = want.flat.map((x) => fromNumpy(dt, x));
        assert.deepEqual(v.shape.length === 0 ? [v.tolist()] : [v.tolist()].flat(Infinity), flat, `${what} values`);
        assert.deepEqual(v.read(), a.read(...INDEXES[k][0]), `${what} read() = a.read(index)`);
        // sum() of the view and of the index agree (same kernel, same order of elements).
        const s1 = v.sum();
        const s2 = a.sum(...INDEXES[k][0]);
        assert.deepEqual(s1, s2, `${what} sum`);
      }
      const vv = a.view([1, null], [null, null, -1]).view([null, null, -1], 1);
      assert.deepEqual([vv.tolist()].flat(Infinity), c.vv.flat.map((x) => fromNumpy(dt, x)), `${c.file} view of a view`);
      assert.equal(vv.base, a);
      a.close();
    }
  });

  it('get/set/gather/ndarray/data through a view reach the base\'s memory; data needs a contiguous view', function () {
    const f = tmp.file('a.f4');
    const buf = Buffer.alloc(3 * 4 * 4);
    for (let i = 0; i < 12; i++) buf.writeFloatLE(i, 4 * i);
    fs.writeFileSync(f, buf);
    const a = memmap(f, { dtype: 'float32', shape: [3, 4], mode: 'r+' });
    const row = a.view(1);
    assert.deepEqual([...row.data], [4, 5, 6, 7]);
    assert.equal(row.data.buffer, a.data.buffer, 'the same memory');
    assert.equal(row.offset, 16);
    row.set(2, 60);
    assert.equal(a.get(1, 2), 60);
    const col = a.view(null, 2);
    assert.equal(col.order, 'C');
    throwsCode(() => col.data, 'ERR_NOT_CONTIGUOUS');
    throwsCode(() => col.bytes, 'ERR_NOT_CONTIGUOUS');
    throwsCode(() => [...col.segments()], 'ERR_NOT_CONTIGUOUS');
    assert.deepEqual([...col.gather([2, 0])], [10, 2]);
    assert.deepEqual(col.ndarray().get(1), 60);
    col.ndarray().set(0, -1);
    assert.equal(a.get(0, 2), -1);
    const rev = a.view([null, null, -1], [null, null, -1]);
    assert.equal(rev.get(0, 0), 11);
    assert.equal(rev.ndarray().get(2, 3), 0);
    assert.deepEqual([...a.view([1, 3]).data], [4, 5, 60, 7, 8, 9, 10, 11], 'rows 1:3 are contiguous');
    assert.equal(a.view(null, [0, 0]).data.length, 0, 'an empty view is contiguous, as numpy');
    a.close();
  });

  it('iterates over the first axis: elements of a 1-d array, views of an n-d one; 0-d refuses', function () {
    const f = tmp.file('it.i2');
    const buf = Buffer.alloc(2 * 6);
    for (let i = 0; i < 6; i++) buf.writeInt16LE(i * 3, 2 * i);
    fs.writeFileSync(f, buf);
    const flat = memmap(f, { dtype: 'int16' });
    assert.deepEqual([...flat], [0, 3, 6, 9, 12, 15]);
    assert.deepEqual(Array.from(flat), [0, 3, 6, 9, 12, 15]);
    const grid = memmap(f, { dtype: 'int16', shape: [3, 2] });
    const rows = [...grid];
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r.tolist()), [[0, 3], [6, 9], [12, 15]]);
    let n = 0;
    for (const r of grid) n += r.length;
    assert.equal(n, 6);
    const zero = memmap(f, { dtype: 'int16', shape: [] });
    throwsCode(() => [...zero], 'ERR_ZERO_DIM');
    for (const a of [flat, grid, zero]) a.close();
    throwsCode(() => [...grid], 'ERR_CLOSED');
  });

  it('closing a view leaves the base open; closing the base, or refresh()/resize() of it, ends every view', function () {
    const f = tmp.file('life.u1');
    fs.writeFileSync(f, Buffer.alloc(24));
    const a = memmap(f, { shape: [4, 6], mode: 'r+' });
    const v = a.view(1);
    const w = v.view([2, 4]);
    v.close();
    assert.equal(v.closed, true);
    throwsCode(() => v.get(0), 'ERR_CLOSED');
    assert.equal(w.closed, false, 'a view of a closed view still views the base');
    assert.equal(a.get(1, 2), 0);
    a.resize([5, 6]);
    assert.equal(w.closed, true);
    throwsCode(() => w.sum(), 'ERR_CLOSED');
    const u = a.view(4);
    throwsCode(() => u.share(), 'ERR_VIEW');
    throwsCode(() => u.refresh(), 'ERR_VIEW');
    throwsCode(() => u.resize([2]), 'ERR_VIEW');
    a.close();
    assert.equal(u.closed, true);
    throwsCode(() => u.tolist(), 'ERR_CLOSED');
    assert.equal(String(u), 'memmap(<closed>, shape=(6,), dtype=uint8)');
  });
});
