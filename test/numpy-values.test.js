'use strict';
// memmap() values, shapes and strides cross-checked with real numpy, both
// ways, for every dtype and byte order (test/helpers/dtypes.js) in C and F
// order, 0-d to 3-d, empty, at odd offsets: raw files numpy writes (values
// from test/helpers/numpy_gen.py) are read by memmap through get(),
// ndarray() and data, and files memmap('w+') writes are read by np.memmap /
// np.fromfile; inferred shapes; all 65 536 float16 bit patterns and numpy's
// float16 rounding. .npy files against numpy are in npy-numpy.test.js.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { memmap, parseDType, hasFloat16Array } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { numpyJSON, fromNumpy, sameValue, show, cIndices } = require('./helpers/numpy');
const { DESCRS } = require('./helpers/dtypes');

// [shape, order, offset]: 1-d to 3-d, C and F, aligned and unaligned offsets, 0-d and empty
const LAYOUTS = [
  [[7], 'C', 0],
  [[3, 5], 'C', 1],
  [[3, 5], 'F', 4097],
  [[2, 3, 4], 'F', 13],
  [[2, 3, 4], 'C', 4096],
  [[], 'C', 3],
  [[0, 3], 'C', 5],
  [[3, 0, 2], 'F', 5],
  [[2, 0, 3], 'C', 5],
];

// numpy writes each case's file (values() of numpy_gen.py over the dtype's
// whole range, odd bytes before the array) and reports the values in C order
// (encode()), np.memmap's strides and the shape it infers without one.
const PY_WRITE = `
out = []
for n, c in enumerate(json.load(open(sys.argv[1]))):
    dt = np.dtype(c['descr'])
    shape, order, offset = tuple(c['shape']), c['order'], c['offset']
    size = int(np.prod(shape))
    a = values(dt, size, np.random.default_rng(n)).reshape(shape)
    write_raw(c['file'], a, order, offset, pad=lambda i: (i * 13 + 7) % 256)
    m = np.memmap(c['file'], dtype=dt, mode='r', offset=offset, shape=shape, order=order)
    assert m.tobytes(order='C') == a.tobytes(order='C')
    inferred = np.memmap(c['file'], dtype=dt, mode='r', offset=offset) if size else None
    out.append({'values': encode(a), 'strides': list(m.strides),
                'inferred': None if inferred is None else [list(inferred.shape), list(inferred.strides)]})
emit(out)
`;

// numpy reads each case's file (written by memmap('w+')) with np.memmap and np.fromfile.
const PY_READ = `
out = []
for c in json.load(open(sys.argv[1])):
    dt = np.dtype(c['descr'])
    shape, order, offset = tuple(c['shape']), c['order'], c['offset']
    m = np.memmap(c['file'], dtype=dt, mode='r', offset=offset, shape=shape, order=order)
    raw = np.fromfile(c['file'], dtype=np.uint8)
    flat = np.fromfile(c['file'], dtype=dt, offset=offset)
    out.append({'values': encode(m), 'strides': list(m.strides), 'fileSize': int(raw.size),
                'prefixZero': bool((raw[:offset] == 0).all()),
                'fromfile': encode(flat.reshape(shape, order=order)) if shape else encode(flat.reshape(()))})
emit(out)
`;

function cases(dir, prefix) {
  const list = [];
  for (const descr of DESCRS) {
    for (const [shape, order, offset] of LAYOUTS) {
      list.push({ descr, shape, order, offset, file: path.join(dir, `${prefix}${list.length}.bin`) });
    }
  }
  return list;
}

function label(c) {
  return `${c.descr} ${JSON.stringify(c.shape)} ${c.order} offset ${c.offset}`;
}

/** Calls fn(case, n, its dtype, its label) for each case. */
function eachCase(list, fn) {
  list.forEach((c, n) => fn(c, n, parseDType(c.descr), label(c)));
}

function runCases(dir, code, list) {
  const json = path.join(dir, `cases-${Date.now()}.json`);
  fs.writeFileSync(json, JSON.stringify(list));
  return numpyJSON(code, [json]);
}

describe('numpy cross-checks', function () {
  const tmp = useTmpDir();

  describe('files written by numpy, read by memmap', function () {
    let list;
    let results;
    before(function () {
      list = cases(tmp.dir, 'np');
      results = runCases(tmp.dir, PY_WRITE, list);
    });

    it('every element, through get(), ndarray() and data, for every dtype, layout and offset', function () {
      let checked = 0;
      eachCase(list, (c, n, dt, what) => {
        const a = memmap(c.file, { dtype: c.descr, shape: c.shape, order: c.order, offset: c.offset });
        try {
          assert.equal(a.descr, c.descr, what);
          assert.deepEqual(a.strides, results[n].strides.map((s) => s / dt.itemsize), `strides of ${what}`);
          const nd = a.ndarray();
          const direct = dt.isNative && !(dt.name === 'float16' && !hasFloat16Array);
          const data = direct ? a.data : null;
          let k = 0;
          for (const idx of cIndices(c.shape)) {
            const want = fromNumpy(dt, results[n].values[k++]);
            const got = a.get(...idx);
            assert.ok(sameValue(got, want), `${what} get(${idx}) = ${show(got)}, numpy ${show(want)}`);
            const lin = idx.reduce((s, i, d) => s + i * a.strides[d], 0);
            if (dt.kind === 'c') {
              assert.ok(sameValue({ re: nd.get(...idx, 0), im: nd.get(...idx, 1) }, want), `${what} ndarray(${idx})`);
              if (data) assert.ok(sameValue({ re: data[2 * lin], im: data[2 * lin + 1] }, want), `${what} data[${lin}]`);
            } else {
              const ndv = nd.get(...idx);
              // scijs ndarray over a bool array holds the raw bytes
              assert.ok(sameValue(dt.kind === 'b' ? ndv !== 0 : ndv, want), `${what} ndarray(${idx}) = ${ndv}`);
              if (data) assert.ok(sameValue(dt.kind === 'b' ? data[lin] !== 0 : data[lin], want), `${what} data[${lin}]`);
            }
            checked++;
          }
          assert.equal(k, results[n].values.length);
        } finally {
          a.close();
        }
      });
      assert.ok(checked > 2000, `checked ${checked} elements`);
    });

    it('an omitted shape is inferred with the same shape and strides as numpy', function () {
      list.forEach((c, n) => {
        if (!results[n].inferred) return;
        const [shape, strides] = results[n].inferred;
        const a = memmap(c.file, { dtype: c.descr, offset: c.offset });
        assert.deepEqual(a.shape, shape, c.descr);
        assert.deepEqual(a.strides, strides.map((s) => s / a.itemsize), c.descr);
        a.close();
      });
    });
  });

  describe('files written by memmap(w+), read by numpy', function () {
    let list;
    let written;
    let results;

    /** Deterministic values for dtype `dt` (what set() receives). */
    function valueFor(dt, k) {
      const r = Math.sin(k * 12.9898 + dt.itemsize) * 43758.5453;
      const frac = r - Math.floor(r);
      switch (dt.kind) {
        case 'b':
          return frac < 0.5;
        case 'i':
        case 'u': {
          const bits = dt.itemsize * 8;
          if (bits === 64) {
            const big = BigInt(Math.floor(frac * 2 ** 32)) * 2n ** 32n + BigInt(k * 2654435761 % 2 ** 32);
            return dt.kind === 'i' ? big - 2n ** 63n : big;
          }
          const span = 2 ** bits;
          const u = Math.floor(frac * span);
          return dt.kind === 'i' ? u - span / 2 : u;
        }
        default: {
          const specials = [NaN, Infinity, -Infinity, -0, 5e-324, 1e-40];
          const f = k < specials.length ? specials[k] : (frac - 0.5) * 10 ** ((k % 17) - 8);
          return dt.kind === 'c' ? { re: f, im: -f / 3 } : f;
        }
      }
    }

    /** What numpy must read back for value v stored as dt. */
    function stored(dt, v) {
      const round = (x) => (dt.itemsize === 4 || (dt.kind === 'c' && dt.itemsize === 8) ? Math.fround(x) : x);
      if (dt.kind === 'c') return { re: round(v.re), im: round(v.im) };
      if (dt.kind === 'f' && dt.itemsize === 2) return null; // exact rounding is the float16 test's job
      if (dt.kind === 'f') return round(v);
      return v;
    }

    before(function () {
      list = cases(tmp.dir, 'mm');
      written = list.map((c) => {
        const dt = parseDType(c.descr);
        const a = memmap(c.file, { mode: 'w+', dtype: c.descr, shape: c.shape, order: c.order, offset: c.offset });
        const vals = [];
        let k = 0;
        for (const idx of cIndices(c.shape)) {
          const v = valueFor(dt, k++);
          a.set(...idx, v);
          vals.push(v);
        }
        a.flush();
        a.close();
        return vals;
      });
      results = runCases(tmp.dir, PY_READ, list);
    });

    it('numpy reads back every element, with the same strides', function () {
      let checked = 0;
      eachCase(list, (c, n, dt, what) => {
        const r = results[n];
        assert.deepEqual(r.strides.map((s) => s / dt.itemsize), memmapStrides(c), `strides of ${what}`);
        written[n].forEach((v, k) => {
          const want = stored(dt, v);
          if (want === null) return;
          const fromMemmap = fromNumpy(dt, r.values[k]);
          const fromFile = fromNumpy(dt, r.fromfile[k]);
          assert.ok(sameValue(fromMemmap, want), `${what} #${k}: numpy memmap read ${show(fromMemmap)}, wrote ${show(want)}`);
          assert.ok(sameValue(fromFile, want), `${what} #${k}: numpy fromfile read ${show(fromFile)}, wrote ${show(want)}`);
          checked++;
        });
      });
      assert.ok(checked > 1500, `checked ${checked} elements`);
    });

    it('the file is exactly offset + nbytes, zero before the array', function () {
      list.forEach((c, n) => {
        const size = c.shape.reduce((a, b) => a * b, 1);
        assert.equal(results[n].fileSize, c.offset + size * parseDType(c.descr).itemsize, c.file);
        assert.equal(results[n].prefixZero, true, c.file);
      });
    });

    function memmapStrides(c) {
      const a = memmap(c.file, { dtype: c.descr, shape: c.shape, order: c.order, offset: c.offset });
      const s = a.strides.slice();
      a.close();
      return s;
    }
  });

  describe('float16', function () {
    const F16 = parseDType('float16');
    it('all 65536 bit patterns read as numpy reads them (both byte orders, get() and ndarray())', function () {
      const out = numpyJSON(`
bits = np.arange(65536, dtype=np.uint32).astype('<u2')
bits.tofile(sys.argv[1])
bits.astype('>u2').tofile(sys.argv[2])
emit(encode(bits.view('<f2')))
`, [tmp.file('f16le.bin'), tmp.file('f16be.bin')]);
      assert.equal(out.length, 65536);
      for (const [file, descr] of [[tmp.file('f16le.bin'), '<f2'], [tmp.file('f16be.bin'), '>f2']]) {
        const a = memmap(file, { dtype: descr });
        const nd = a.ndarray();
        for (let b = 0; b < 65536; b++) {
          const want = fromNumpy(F16, out[b]);
          if (!Object.is(a.get(b), want)) assert.fail(`${descr} bits 0x${b.toString(16)}: get() ${a.get(b)}, numpy ${want}`);
          if (!Object.is(nd.get(b), want)) assert.fail(`${descr} bits 0x${b.toString(16)}: ndarray ${nd.get(b)}, numpy ${want}`);
        }
        a.close();
      }
    });

    it('set() rounds like numpy (nearest-even, subnormals, overflow to inf, nan)', function () {
      const doubles = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e6, Infinity, -Infinity, NaN,
        2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -25 * 1.0000001, 2 ** -14, 2 ** -14 - 2 ** -25, 2 ** -14 - 2 ** -26,
        1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -40, 2049, 2051, 0.1, -0.3, 1 / 3, 5e-324, -5e-324, 1e-9];
      let seed = 7;
      for (let k = 0; k < 3000; k++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const e = (seed % 44) - 28;
        doubles.push(((seed / 2 ** 31) - 0.5) * 2 ** e);
      }
      const src = tmp.file('f16-src.f8');
      fs.writeFileSync(src, Buffer.from(new Float64Array(doubles).buffer));
      for (const descr of ['<f2', '>f2']) {
        const file = tmp.file(`f16-set${descr[0] === '<' ? 'le' : 'be'}.bin`);
        const a = memmap(file, { mode: 'w+', dtype: descr, shape: [doubles.length] });
        doubles.forEach((d, k) => (k % 2 ? a.ndarray().set(k, d) : a.set(k, d)));
        a.flush();
        a.close();
        const r = numpyJSON(`
src = np.fromfile(sys.argv[1], dtype='<f8')
want = src.astype(np.float16).view(np.uint16)
got = np.fromfile(sys.argv[2], dtype=sys.argv[3]).astype(np.float16).view(np.uint16)
bad = [[i, float(src[i]), int(got[i]), int(want[i])] for i in np.nonzero(got != want)[0][:10]]
emit({'n': int(got.size), 'bad': bad})
`, [src, file, descr]);
        assert.equal(r.n, doubles.length);
        assert.deepEqual(r.bad, [], `${descr} [index, value, memmap bits, numpy bits]`);
      }
    });
  });
});
