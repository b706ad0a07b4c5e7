'use strict';
// sum(), read() and gather(): native loops over the mapping, checked against
// numpy's a[index].sum(), np.array(a[index]) and a[ii, jj, kk].
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, MemmapError } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { pythonJSON } = require('./helpers/python');

const SHAPE = [7, 13, 11];
const OFFSET = 24;
const DTYPES = ['b1', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4', 'f8', 'c8', 'c16'];

// Index specs as [JS arguments, Python index expression].
const INDEXES = [
  [[], '...'],
  [[3], '3'],
  [[-1, null, 4], '-1, :, 4'],
  [[[1, 6, 2], [null, null, -3]], '1:6:2, ::-3'],
  [[null, [2, 100], [-5, null]], ':, 2:100, -5:'],
  [[[5, 2]], '5:2'],
  [[[null, null, -1], 0, [1, -1, 4]], '::-1, 0, 1:-1:4'],
  [[[-100, 100, 3], [-2, -12, -2], 10], '-100:100:3, -2:-12:-2, 10'],
  [[2, 3, 4], '2, 3, 4'],
];

// Coordinates for gather(): every element once in a scrambled order, plus negatives.
function coordsFor(shape, n) {
  const out = shape.map(() => []);
  let x = 12345;
  for (let k = 0; k < n; k++) {
    for (let d = 0; d < shape.length; d++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const i = x % shape[d];
      out[d].push(k % 5 === 0 ? i - shape[d] : i);
    }
  }
  return out;
}

const PY = `
import base64, json, sys
import numpy as np
d = sys.argv[1]
shape = tuple(json.loads(sys.argv[2])); offset = int(sys.argv[3])
dtypes = json.loads(sys.argv[4]); indexes = json.loads(sys.argv[5]); coords = json.loads(sys.argv[6])
rng = np.random.default_rng(7)
out = {}
for code in dtypes:
    for bo in '<>':
        for order in 'CF':
            dt = np.dtype(bo + code)
            kind = dt.kind
            if kind == 'b':
                v = rng.integers(0, 2, shape).astype(bool)
            elif kind in 'iu':
                info = np.iinfo(dt)
                v = rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dt)
            elif kind == 'f':
                v = (rng.standard_normal(shape) * 100).astype(dt)
            else:
                v = (rng.standard_normal(shape) * 100 + 1j * rng.standard_normal(shape) * 100).astype(dt)
            name = '%s/%s%s-%s.arr' % (d, 'L' if bo == '<' else 'B', code, order)
            with open(name, 'wb') as f:
                f.write(b'\\x07' * offset)
                f.write(np.asarray(v, order=order).tobytes(order=order))
            a = np.memmap(name, dtype=dt, mode='r', offset=offset, shape=shape, order=order)
            res = []
            for expr in indexes:
                sel = eval('a[%s]' % expr)
                sel = np.asarray(sel)
                if kind == 'f':
                    s = repr(float(sel.sum(dtype=np.float64)))
                elif kind == 'c':
                    c = complex(sel.sum(dtype=np.complex128)); s = [repr(c.real), repr(c.imag)]
                else:
                    s = str(int(sel.sum(dtype=np.uint64 if kind == 'u' else np.int64)))
                data = np.ascontiguousarray(sel).astype(dt.newbyteorder('='))
                res.append({'sum': s, 'read': base64.b64encode(data.tobytes()).decode()})
            g = a[tuple(np.array(c) for c in coords)].astype(dt.newbyteorder('='))
            out[name] = {'cases': res, 'gather': base64.b64encode(g.tobytes()).decode()}
print(json.dumps(out))
`;

function bytesOf(ta) {
  return Buffer.from(ta.buffer, ta.byteOffset, ta.byteLength);
}

describe('sum(), read() and gather()', function () {
  const tmp = useTmpDir();

  describe('against numpy (every dtype x byte order x C/F x index)', function () {
    let ref;
    const coords = coordsFor(SHAPE, 200);
    before(function () {
      ref = pythonJSON(PY, [tmp.dir, JSON.stringify(SHAPE), OFFSET, JSON.stringify(DTYPES), JSON.stringify(INDEXES.map((x) => x[1])), JSON.stringify(coords)]);
    });

    it('covers what it claims', function () {
      assert.equal(Object.keys(ref).length, DTYPES.length * 2 * 2);
    });

    it('sum() equals numpy (floats: float32/float16 to the last bit, float64/complex within 1e-12)', function () {
      let checked = 0;
      for (const [file, r] of Object.entries(ref)) {
        const [, bo, code, order] = /\/([LB])(\w+)-([CF])\.arr$/.exec(file);
        const a = memmap(file, { dtype: (bo === 'L' ? '<' : '>') + code, shape: SHAPE, order, offset: OFFSET });
        INDEXES.forEach(([args, expr], k) => {
          const want = r.cases[k].sum;
          const got = a.sum(...args);
          const what = `${file} a[${expr}]`;
          if (code[0] === 'c') {
            assert.ok(Math.abs(got.re - Number(want[0])) <= 1e-12 * Math.max(1, Math.abs(Number(want[0]))), `${what}: re ${got.re} vs ${want[0]}`);
            assert.ok(Math.abs(got.im - Number(want[1])) <= 1e-12 * Math.max(1, Math.abs(Number(want[1]))), `${what}: im ${got.im} vs ${want[1]}`);
          } else if (code === 'f8') {
            assert.ok(Math.abs(got - Number(want)) <= 1e-12 * Math.max(1, Math.abs(Number(want))), `${what}: ${got} vs ${want}`);
          } else if (code[0] === 'f') {
            assert.equal(got, Number(want), what);
          } else if (code === 'i8' || code === 'u8') {
            assert.equal(got, BigInt(want), what);
          } else {
            assert.equal(got, Number(want), what);
          }
          checked++;
        });
        a.close();
      }
      assert.equal(checked, DTYPES.length * 4 * INDEXES.length);
    });

    it('read() returns the bytes of np.array(a[index]) in native order; gather() those of a[ii, jj, kk]', function () {
      for (const [file, r] of Object.entries(ref)) {
        const [, bo, code, order] = /\/([LB])(\w+)-([CF])\.arr$/.exec(file);
        const a = memmap(file, { dtype: (bo === 'L' ? '<' : '>') + code, shape: SHAPE, order, offset: OFFSET });
        INDEXES.forEach(([args, expr], k) => {
          const got = a.read(...args);
          assert.equal(got.constructor, code === 'f2' && typeof globalThis.Float16Array !== 'function' ? Uint16Array : got.constructor);
          assert.deepEqual(bytesOf(got), Buffer.from(r.cases[k].read, 'base64'), `${file} a[${expr}]`);
        });
        assert.deepEqual(bytesOf(a.gather(...coords)), Buffer.from(r.gather, 'base64'), `${file} gather`);
        a.close();
      }
    });

    it("the same values after advise('sequential') (the scans then read ahead of themselves)", function () {
      for (const file of Object.keys(ref).filter((f) => /[LB](i4|f4|c8|u8)-[CF]\.arr$/.test(f))) {
        const [, bo, code, order] = /\/([LB])(\w+)-([CF])\.arr$/.exec(file);
        const opts = { dtype: (bo === 'L' ? '<' : '>') + code, shape: SHAPE, order, offset: OFFSET };
        const a = memmap(file, opts);
        const b = memmap(file, opts);
        b.advise('sequential');
        for (const [args] of INDEXES) {
          assert.deepEqual(b.sum(...args), a.sum(...args), file);
          assert.deepEqual(b.read(...args), a.read(...args), file);
        }
        a.close();
        b.close();
      }
    });

    it('read() and gather() return the TypedArray type of data; complex interleaved', function () {
      const file = Object.keys(ref).find((f) => f.endsWith('Lf4-C.arr'));
      const a = memmap(file, { dtype: 'float32', shape: SHAPE, offset: OFFSET });
      assert.ok(a.read(1) instanceof Float32Array);
      assert.equal(a.read(1).length, 13 * 11);
      assert.equal(a.read(1, 2, 3).length, 1);
      assert.equal(a.read(1, 2, 3)[0], a.get(1, 2, 3));
      assert.deepEqual(Array.from(a.gather([0, -1], [0, -1], [0, -1])), [a.get(0, 0, 0), a.get(6, 12, 10)]);
      a.close();
      const c = memmap(Object.keys(ref).find((f) => f.endsWith('Bc16-F.arr')), { dtype: '>c16', shape: SHAPE, order: 'F', offset: OFFSET });
      const row = c.read(2, 3);
      assert.ok(row instanceof Float64Array);
      assert.equal(row.length, 22);
      assert.deepEqual({ re: row[2], im: row[3] }, c.get(2, 3, 1));
      c.close();
    });
  });

  describe('bad input', function () {
    it('is refused with a coded error and leaves the file unchanged', function () {
      const file = tmp.file('bad.f32');
      fs.writeFileSync(file, Buffer.alloc(4 * 6 * 5, 1));
      const before = fingerprint(file);
      const a = memmap(file, { dtype: 'float32', shape: [6, 5], mode: 'r+' });
      for (const fn of ['sum', 'read']) {
        throwsCode(() => a[fn](1, 2, 3), 'ERR_INVALID_INDEX', RangeError);
        throwsCode(() => a[fn](6), 'ERR_OUT_OF_RANGE', RangeError);
        throwsCode(() => a[fn](-7), 'ERR_OUT_OF_RANGE', RangeError);
        throwsCode(() => a[fn](null, 5), 'ERR_OUT_OF_RANGE', RangeError);
        throwsCode(() => a[fn](1.5), 'ERR_INVALID_INDEX', TypeError);
        throwsCode(() => a[fn]('1'), 'ERR_INVALID_INDEX', TypeError);
        throwsCode(() => a[fn]({}), 'ERR_INVALID_INDEX', TypeError);
        throwsCode(() => a[fn]([0, 1, 2, 3]), 'ERR_INVALID_INDEX', TypeError);
        throwsCode(() => a[fn]([0, 4, 0]), 'ERR_INVALID_INDEX', RangeError);
        throwsCode(() => a[fn]([0.5, 4]), 'ERR_INVALID_INDEX', TypeError);
      }
      throwsCode(() => a.gather([1, 2]), 'ERR_INVALID_INDEX', RangeError);
      throwsCode(() => a.gather([1, 2], [1]), 'ERR_INVALID_INDEX', RangeError);
      throwsCode(() => a.gather([1, 6], [1, 1]), 'ERR_OUT_OF_RANGE', RangeError);
      throwsCode(() => a.gather([0], [-6]), 'ERR_OUT_OF_RANGE', RangeError);
      throwsCode(() => a.gather([0.5], [1]), 'ERR_INVALID_INDEX', TypeError);
      throwsCode(() => a.gather(3, [1]), 'ERR_INVALID_INDEX', TypeError);
      assert.equal(a.sum(), 30 * new Float32Array(Buffer.alloc(4, 1).buffer)[0]);
      a.close();
      for (const fn of ['sum', 'read']) throwsCode(() => a[fn](), 'ERR_CLOSED');
      throwsCode(() => a.gather([0], [0]), 'ERR_CLOSED');
      assert.equal(fingerprint(file), before);
    });

    it('empty selections and 0-d arrays', function () {
      const file = tmp.file('small.i32');
      fs.writeFileSync(file, Buffer.from(new Int32Array([5, -7, 9]).buffer));
      const a = memmap(file, { dtype: 'int32' });
      assert.equal(a.sum([2, 1]), 0);
      assert.equal(a.read([2, 1]).length, 0);
      assert.equal(a.gather([]).length, 0);
      assert.equal(a.sum([null, null, -1]), 7);
      assert.deepEqual(Array.from(a.read([null, null, -1])), [9, -7, 5]);
      a.close();
      const z = memmap(file, { dtype: 'int32', shape: [], offset: 4 });
      assert.equal(z.sum(), -7);
      assert.deepEqual(Array.from(z.read()), [-7]);
      assert.deepEqual(Array.from(z.gather()), [-7]);
      z.close();
      const e = memmap(file, { dtype: 'int32', shape: [0, 3] });
      assert.equal(e.sum(), 0);
      assert.equal(e.read().length, 0);
      e.close();
    });
  });

  describe('arrays larger than one ArrayBuffer', function () {
    it('reach the far end of a 5 GiB float64 array without data', function () {
      const file = tmp.file('big.f64');
      const rows = 81920;
      const cols = 8192; // 5 GiB
      const fd = fs.openSync(file, 'w');
      try {
        fs.ftruncateSync(fd, rows * cols * 8);
        const last = new Float64Array(cols).map((_, j) => j + 1);
        fs.writeSync(fd, Buffer.from(last.buffer), 0, last.byteLength, (rows - 1) * cols * 8);
      } finally {
        fs.closeSync(fd);
      }
      const a = memmap(file, { dtype: 'float64', shape: [rows, cols] });
      assert.equal(a.sum(-1), (cols * (cols + 1)) / 2);
      assert.equal(a.sum(null, -1), cols);
      assert.equal(a.sum([rows - 2, null], [cols - 3, null]), cols + cols - 1 + cols - 2);
      assert.deepEqual(Array.from(a.read(-1, [-3, null])), [cols - 2, cols - 1, cols]);
      assert.deepEqual(Array.from(a.gather([-1, rows - 1, 0], [0, -1, -1])), [1, cols, 0]);
      a.close();
      fs.rmSync(file);
    });
  });

  it('errors are MemmapError instances', function () {
    const file = tmp.file('one.u8');
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    const a = memmap(file);
    assert.throws(() => a.sum(9), MemmapError);
    assert.equal(a.sum(), 6);
    a.close();
  });
});
