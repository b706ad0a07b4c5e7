'use strict';
// sum(), read() and gather(), the native loops over the mapping: checked
// against numpy's a[index].sum(), np.array(a[index]) and a[ii, jj, kk] for
// every dtype (test/helpers/dtypes.js) x byte order x C/F x index expression;
// bad indices, empty selections and 0-d arrays. The same calls on arrays past
// one ArrayBuffer are in big-arrays.test.js.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, MemmapError } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { numpyJSON } = require('./helpers/numpy');
const { CODES } = require('./helpers/dtypes');

const SHAPE = [7, 13, 11];
const OFFSET = 24;

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

// Writes one file per dtype x byte order x order (small values, so that sums
// compare), and reports numpy's sum and bytes of a[index] for every index,
// and of a[ii, jj, kk] for the gather coordinates.
const PY = `
import base64
d, shape, offset, codes, indexes, coords = args()
shape = tuple(shape)
rng = np.random.default_rng(7)
out = {}
for code in codes:
    for bo in '<>':
        for order in 'CF':
            dt = np.dtype(bo + code)
            kind = dt.kind
            v = values(dt, int(np.prod(shape)), rng, full=False).reshape(shape)
            name = '%s/%s%s-%s.arr' % (d, 'L' if bo == '<' else 'B', code, order)
            write_raw(name, v, order, offset, pad=b'\\x07')
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
emit(out)
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
      ref = numpyJSON(PY, [tmp.dir, JSON.stringify(SHAPE), OFFSET, JSON.stringify(CODES), JSON.stringify(INDEXES.map((x) => x[1])), JSON.stringify(coords)]);
    });

    it('covers what it claims', function () {
      assert.equal(Object.keys(ref).length, CODES.length * 2 * 2);
    });

    it('sum() equals numpy (floats and complex bit for bit)', function () {
      let checked = 0;
      for (const [file, r] of Object.entries(ref)) {
        const [, bo, code, order] = /\/([LB])(\w+)-([CF])\.arr$/.exec(file);
        const a = memmap(file, { dtype: (bo === 'L' ? '<' : '>') + code, shape: SHAPE, order, offset: OFFSET });
        INDEXES.forEach(([args, expr], k) => {
          const want = r.cases[k].sum;
          const got = a.sum(...args);
          const what = `${file} a[${expr}]`;
          if (code[0] === 'c') {
            assert.ok(Object.is(got.re, Number(want[0])), `${what}: re ${got.re} vs ${want[0]}`);
            assert.ok(Object.is(got.im, Number(want[1])), `${what}: im ${got.im} vs ${want[1]}`);
          } else if (code[0] === 'f') {
            assert.ok(Object.is(got, Number(want)), `${what}: ${got} vs ${want}`);
          } else if (code === 'i8' || code === 'u8') {
            assert.equal(got, BigInt(want), what);
          } else {
            assert.equal(got, Number(want), what);
          }
          checked++;
        });
        a.close();
      }
      assert.equal(checked, CODES.length * 4 * INDEXES.length);
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
        throwsCode(() => a[fn](() => 0), 'ERR_INVALID_INDEX', TypeError);
        throwsCode(() => a[fn]({ start: 0 }), 'ERR_UNKNOWN_OPTION', TypeError); // a trailing object is the options
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

  it('errors are MemmapError instances', function () {
    const file = tmp.file('one.u8');
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    const a = memmap(file);
    assert.throws(() => a.sum(9), MemmapError);
    assert.equal(a.sum(), 6);
    a.close();
  });
});
