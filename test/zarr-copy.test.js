'use strict';
// ZarrArray.read(): every chunk's part of a selection copied straight to its place in the result, many chunks per
// native call (native.copyChunks, src-native/chunk_copy.cc), and read()'s `out`. Values are checked against the same
// values in a C-order file read by MemmapArray.read() (the other copy path; test/zarr-read.test.js checks read()
// against numpy and zarr-python for every codec and byte order). The native entry's hostile and re-entrant
// arguments run in a child process (fixtures/zarr-copy-hostile.js).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { createZarr, openZarr, memmap } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { fixtureJSON } = require('./helpers/child');

const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

/** Every file under `dir` with its fingerprint, to show a call left the store as it was. */
function storeState(dir) {
  const out = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const f = path.join(e.parentPath ?? e.path, e.name);
    out[path.relative(dir, f)] = fingerprint(f);
  }
  return out;
}

// Stores of the same values, each a different way chunks are read: mapped shards, one mapped file per chunk
// (more files than the mapping cache holds), decoded chunks (F order, zlib), chunks never written (fill value).
const LAYOUTS = [
  { name: 'sharded raw float32, ragged edges', dtype: 'float32', shape: [37, 53], options: { chunks: [8, 8], shards: [16, 16] } },
  { name: 'unsharded raw int16: 525 chunk files', dtype: 'int16', shape: [20, 300], options: { chunks: [3, 4], shards: null } },
  { name: 'v2 zlib float64, F order', dtype: 'float64', shape: [19, 23], options: { chunks: [5, 7], zarrFormat: 2, compressor: 'zlib', order: 'F' } },
  { name: 'sharded gzip uint8, 3-d', dtype: 'uint8', shape: [6, 9, 11], options: { chunks: [2, 4, 3], shards: [4, 8, 6], compressor: 'gzip' } },
  { name: 'sharded raw float32, half the chunks missing', dtype: 'float32', shape: [24, 40], options: { chunks: [4, 8], shards: [8, 16], fillValue: -7.5 }, missing: true },
];

const SELECTIONS = [
  [],
  [[3, 17], [5, 21]],
  [[null, null, 2], [null, null, -3]],
  [4, [1, 19]],
  [[2, 3], [7, 8]],
  [[10, 2, -1]],
  [[5, 5]],
  [-1, -1],
];

describe('ZarrArray.read(): chunk parts copied natively in one call', function () {
  const tmp = useTmpDir();

  for (const l of LAYOUTS) {
    it(`${l.name}: every selection has the C-order file's values`, function () {
      const dir = tmp.file(l.name.replace(/[^a-z0-9]+/gi, '-'));
      const n = sizeOf(l.shape);
      const file = `${dir}.raw`;
      const ref = memmap(file, { dtype: l.dtype, shape: l.shape, mode: 'w+' });
      for (let k = 0; k < n; k++) ref.data[k] = (k * 37) % 251;
      if (l.missing) {
        // The chunks written are those of every other chunk row; the rest read as the fill value.
        const [ci] = l.options.chunks;
        for (let i = 0; i < l.shape[0]; i++) if (Math.floor(i / ci) % 2 === 1) ref.data.fill(l.options.fillValue, i * l.shape[1], (i + 1) * l.shape[1]);
      }
      const z = createZarr(dir, { dtype: l.dtype, shape: l.shape, ...l.options });
      if (l.missing) {
        const [ci] = l.options.chunks;
        for (let i0 = 0; i0 < l.shape[0]; i0 += 2 * ci) z.write([i0, i0 + ci], ref.read([i0, i0 + ci]));
      } else z.write(ref.read());
      z.close();
      const r = openZarr(dir);
      try {
        for (const sel of SELECTIONS) {
          const s = sel.slice(0, l.shape.length);
          const want = ref.read(...s);
          const got = r.read(...s);
          assert.equal(got.constructor, want.constructor, `${JSON.stringify(s)}: type`);
          assert.deepEqual(Array.from(got), Array.from(want), `${l.name} ${JSON.stringify(s)}`);
          // Its own buffer, exactly the result.
          assert.equal(got.byteOffset, 0);
          assert.equal(got.buffer.byteLength, got.byteLength);
        }
      } finally {
        r.close();
        ref.close();
      }
    });
  }

  it('a selection of 5000 chunks (two native calls) and one over more files than the mapping cache holds', function () {
    const n = 10000;
    const values = Float64Array.from({ length: n }, (_, k) => k * 0.5 - 17);
    const dir = tmp.file('many-parts');
    const z = createZarr(dir, { dtype: 'float64', shape: [n], chunks: [2], shards: [1000] });
    z.write(values);
    z.close();
    const r = openZarr(dir);
    assert.deepEqual(Array.from(r.read()), Array.from(values));
    assert.deepEqual(Array.from(r.read([n - 1, null, -3])), Array.from(values).reverse().filter((_, k) => k % 3 === 0));
    r.close();
    const dir2 = tmp.file('many-files');
    const z2 = createZarr(dir2, { dtype: 'float64', shape: [n], chunks: [50], shards: null });
    z2.write(values);
    z2.close();
    const r2 = openZarr(dir2);
    assert.deepEqual(Array.from(r2.read([3, n - 5])), Array.from(values.subarray(3, n - 5)));
    r2.close();
  });

  it('selections of 8 MiB or more (parts spread over threads): byte-swapped, fill-value and strided parts in place', function () {
    const shape = [1100, 2100];
    const n = sizeOf(shape);
    const file = tmp.file('big.raw');
    const ref = memmap(file, { dtype: 'float32', shape, mode: 'w+' });
    for (let k = 0; k < n; k++) ref.data[k] = (k % 65521) * 0.25;
    const dir = tmp.file('big-be');
    const z = createZarr(dir, { dtype: '>f4', shape, chunks: [100, 300], zarrFormat: 2, fillValue: 3 });
    // Chunk rows 2 and 7 never written: they read as the fill value.
    for (let i = 0; i < 11; i++) if (i !== 2 && i !== 7) z.write([i * 100, (i + 1) * 100], ref.read([i * 100, (i + 1) * 100]));
    z.close();
    ref.data.fill(3, 200 * 2100, 300 * 2100);
    ref.data.fill(3, 700 * 2100, 800 * 2100);
    const r = openZarr(dir);
    try {
      for (const sel of [[], [[null, null, -1], [5, 2099, 1]], [[1099, 0, -1]], [[3, 1090], [null, null, -1]]]) {
        const want = ref.read(...sel);
        assert.ok(want.byteLength >= 8 * 2 ** 20, `${JSON.stringify(sel)} is 8 MiB or more`);
        assert.deepEqual(r.read(...sel), want, JSON.stringify(sel));
      }
    } finally {
      r.close();
      ref.close();
    }
  });

  it('chunks changed in memory (mode r+, not flushed) are read as changed', function () {
    const dir = tmp.file('dirty');
    const z = createZarr(dir, { dtype: 'int32', shape: [12, 12], chunks: [4, 4], compressor: 'gzip' });
    z.write(Int32Array.from({ length: 144 }, (_, k) => k));
    z.flush();
    z.write([2, 6], [3, 9], 99);
    const got = z.read([0, 8], [2, 10]);
    for (let i = 0; i < 8; i++) {
      for (let j = 2; j < 10; j++) assert.equal(got[i * 8 + (j - 2)], i >= 2 && i < 6 && j >= 3 && j < 9 ? 99 : i * 12 + j, `${i},${j}`);
    }
    z.close();
  });
});

describe('ZarrArray.read() { out }', function () {
  const tmp = useTmpDir();
  let dir;
  let values;
  before(function () {
    dir = tmp.file('out');
    values = Float32Array.from({ length: 30 * 40 }, (_, k) => k / 4);
    const z = createZarr(dir, { dtype: 'float32', shape: [30, 40], chunks: [8, 8], shards: [16, 16] });
    z.write(values);
    z.close();
  });
  const block = (r0, r1, c0, c1) => {
    const out = [];
    for (let i = r0; i < r1; i++) for (let j = c0; j < c1; j++) out.push(values[i * 40 + j]);
    return out;
  };

  it('a TypedArray of the dtype and size, or a writable C-order array of the shape: filled and returned', function () {
    const z = openZarr(dir);
    const out = new Float32Array(12 * 20).fill(NaN);
    assert.equal(z.read([5, 17], [3, 23], { out }), out);
    assert.deepEqual(Array.from(out), block(5, 17, 3, 23));
    const arr = z.copy([0, 12], [0, 20]);
    arr.data.fill(0);
    assert.equal(z.read([5, 17], [3, 23], { out: arr }), arr);
    assert.deepEqual(Array.from(arr.data), block(5, 17, 3, 23));
    z.close();
  });

  it('a wrong out is refused with its code before anything is read; out and the store are unchanged', function () {
    const z = openZarr(dir);
    const before = storeState(dir);
    const cases = [
      [new Float64Array(240), 'ERR_INVALID_ARG_TYPE'],
      [new Float32Array(239), 'ERR_SHAPE_MISMATCH'],
      [[1, 2, 3], 'ERR_INVALID_ARG_TYPE'],
      [z.copy([0, 12], [0, 21]), 'ERR_SHAPE_MISMATCH'],
      [memmap(tmp.file('f8.raw'), { dtype: 'float64', shape: [12, 20], mode: 'w+' }), 'ERR_DTYPE_MISMATCH'],
    ];
    for (const [out, code] of cases) {
      // (throwsCode checks the class too: MemmapError or its Type/Range kin)
      const copy = ArrayBuffer.isView(out) ? out.slice() : Array.isArray(out) ? out.slice() : out.data.slice();
      throwsCode(() => z.read([5, 17], [3, 23], { out }), code);
      const now = ArrayBuffer.isView(out) ? out : Array.isArray(out) ? out : out.data;
      assert.deepEqual(Array.from(now), Array.from(copy));
    }
    const ro = memmap(tmp.file('ro.raw'), { dtype: 'float32', shape: [12, 20], mode: 'w+' });
    ro.close();
    const readonlyOut = memmap(tmp.file('ro.raw'), { dtype: 'float32', shape: [12, 20], mode: 'r' });
    throwsCode(() => z.read([5, 17], [3, 23], { out: readonlyOut }), 'ERR_READ_ONLY');
    readonlyOut.close();
    throwsCode(() => z.read([5, 17], { out: new Float32Array(240), extra: 1 }), 'ERR_UNKNOWN_OPTION');
    assert.deepEqual(storeState(dir), before);
    z.close();
  });

  it("an out whose own getters close the array mid-call: ERR_CLOSED, nothing written, nothing crashes", function () {
    const z = openZarr(dir);
    const arr = z.copy([0, 12], [0, 20]);
    arr.data.fill(-1);
    Object.defineProperty(arr, 'shape', {
      get() {
        z.close();
        return [12, 20];
      },
    });
    throwsCode(() => z.read([5, 17], [3, 23], { out: arr }), 'ERR_CLOSED');
    assert.ok(arr.data.every((v) => v === -1));
    assert.ok(z.closed);
  });
});

describe('native.copyChunks: hostile and re-entrant arguments (child process)', function () {
  const tmp = useTmpDir();
  it('closed or swapped sources, bad records, small destinations: coded errors, never a crash', function () {
    const r = fixtureJSON('zarr-copy-hostile.js', [tmp.dir]);
    for (const [name, code] of Object.entries(r.expected)) assert.equal(r.got[name], code, name);
    assert.ok(r.got.ok, 'a valid call copies');
  });
});
