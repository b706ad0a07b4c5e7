'use strict';
// The write side of Zarr (issue 13): createZarr(), write()/set()/fill() on
// 'r+' arrays, and `memmap convert`. Every store memmap writes is read back by
// openZarr and by another implementation: zarr-python 2.13 (v2, Debian's
// /usr/bin/python3) and zarrita (v3, sharded with the index at the end). The
// expected values are a plain JS model of the writes, never memmap's output.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { createZarr, openZarr, pageSize, memmap, MemmapError, MemmapTypeError, MemmapRangeError } = require('..');
const { useTmpDir, snapshot, fingerprint } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { runPython } = require('./helpers/python');
const Z = require('./helpers/zarr');
const { skipOnWindows, windows } = require('./helpers/platform');

const CLI = path.join(__dirname, '..', 'bin', 'memmap.js');
const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

/** Deterministic values (a small LCG), as `Ctor` elements. */
function values(Ctor, n, seed) {
  const out = new Ctor(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = (s >>> 8) % 2000;
    out[i] = Ctor === Float32Array || Ctor === Float64Array ? (v - 1000) / 8 : Ctor === Uint8Array || Ctor === Uint16Array ? v % 250 : v - 1000;
  }
  return out;
}

/** A C-order model of the array: fill everywhere, then each write applied. */
class Model {
  constructor(Ctor, shape, fill) {
    this.shape = shape;
    this.data = new Ctor(sizeOf(shape)).fill(fill);
  }
  /** Writes `src` (C order) into the box [lo, hi) per axis. */
  write(box, src) {
    const shape = box.map(([a, b]) => b - a);
    let k = 0;
    const idx = box.map(([a]) => a);
    const n = sizeOf(shape);
    for (let c = 0; c < n; c++) {
      let flat = 0;
      for (let d = 0; d < this.shape.length; d++) flat = flat * this.shape[d] + idx[d];
      this.data[flat] = src[k++];
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d] < box[d][1]) break;
        idx[d] = box[d][0];
      }
    }
  }
}

/** Element-wise equality, NaN equal to NaN. */
function sameArray(got, want, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) assert.fail(`${what}: element ${i} is ${a}, expected ${b}`);
  }
}


/** What zarr-python 2.13 reads from a v2 store: z[...] as little-endian C-order bytes. */
function zarrPythonRead(dir, dtype) {
  const out = `${dir}.py.bin`;
  Z.runZarrPython(
    `import sys, numpy as np, zarr
z = zarr.open(sys.argv[1], mode='r')
np.ascontiguousarray(z[...]).astype(np.dtype(sys.argv[3])).tofile(sys.argv[2])
print(z.order, z.compressor)`,
    [dir, out, dtype],
  );
  return fs.readFileSync(out);
}

const WRITES = [
  // [box per axis, seed]
  [[[1, 9], [2, 11]], 1],
  [[[0, 3], [0, 4]], 2],
  [[[8, 10], [10, 13]], 3],
];

function writeAll(z, model, Ctor) {
  for (const [box, seed] of WRITES) {
    const src = values(Ctor, sizeOf(box.map(([a, b]) => b - a)), seed);
    z.write(...box, src);
    model.write(box, src);
  }
  z.set(9, 12, 77);
  model.write([[9, 10], [12, 13]], [77]);
  z.set(-10, -13, 6);
  model.write([[0, 1], [0, 1]], [6]);
}

describe('createZarr(): v2 stores, read back by openZarr and zarr-python 2.13', function () {
  const tmp = useTmpDir();
  const CASES = [
    { name: 'raw_C_nan', dtype: 'float32', Ctor: Float32Array, compressor: null, order: 'C', fill: NaN },
    { name: 'zlib_F', dtype: 'float64', Ctor: Float64Array, compressor: 'zlib', order: 'F', fill: -Infinity },
    { name: 'gzip_C_i2', dtype: 'int16', Ctor: Int16Array, compressor: 'gzip', order: 'C', fill: 3 },
    { name: 'raw_F_u8', dtype: 'uint8', Ctor: Uint8Array, compressor: { id: 'zlib', level: 4 }, order: 'F', fill: 9 },
  ];
  for (const c of CASES) {
    it(`${c.name}: partial edge chunks, set()/write(), reopen 'r+' and write again`, function () {
      Z.needTool(this, Z.zarrPython(), "zarr-python 2.x for Debian's /usr/bin/python3", true);
      const dir = tmp.file(c.name);
      const shape = [10, 13];
      const model = new Model(c.Ctor, shape, c.fill);
      const z = createZarr(dir, { shape, dtype: c.dtype, chunks: [4, 5], compressor: c.compressor, order: c.order, fillValue: c.fill, zarrFormat: 2, attributes: { units: 'm' } });
      assert.equal(z.mode, 'r+');
      assert.equal(z.readonly, false);
      writeAll(z, model, c.Ctor);
      sameArray(z.read(), model.data, 'before close');
      z.close();
      const r = openZarr(dir, { mode: 'r+' });
      assert.deepEqual({ ...r.attributes }, { units: 'm' });
      r.write([4, 6], null, values(c.Ctor, 2 * 13, 9));
      model.write([[4, 6], [0, 13]], values(c.Ctor, 2 * 13, 9));
      r.close();
      const back = openZarr(dir);
      sameArray(back.read(), model.data, 'openZarr');
      back.close();
      const meta = JSON.parse(fs.readFileSync(path.join(dir, '.zarray'), 'utf8'));
      assert.equal(meta.order, c.order);
      assert.equal(meta.dimension_separator, '.');
      const descr = { float32: '<f4', float64: '<f8', int16: '<i2', uint8: '|u1' }[c.dtype];
      const py = zarrPythonRead(dir, descr);
      sameArray(new c.Ctor(py.buffer, py.byteOffset, py.length / c.Ctor.BYTES_PER_ELEMENT), model.data, 'zarr-python');
    });
  }

  it('Dask computes on a v2 store memmap wrote (dask.array.from_zarr)', function () {
    const ok = Z.zarrPython() !== null && spawnSync(Z.zarrPython(), ['-c', 'import dask.array'], { stdio: 'ignore' }).status === 0;
    Z.needTool(this, ok, "Dask for Debian's /usr/bin/python3 (apt-get install python3-dask)", false);
    const dir = tmp.file('for_dask');
    const shape = [37, 23];
    const src = values(Float64Array, sizeOf(shape), 21);
    const z = createZarr(dir, { shape, dtype: 'float64', chunks: [10, 8], compressor: 'zlib', zarrFormat: 2 });
    z.write(src);
    z.close();
    const out = Z.runZarrPython(`import sys, dask.array as da
a = da.from_zarr(sys.argv[1])
print(repr(float(a.sum().compute())), repr(float(a[:, 5].max().compute())), a.numblocks)`, [dir]).trim().split(' ');
    let sum = 0;
    for (const v of src) sum += v; // the values are multiples of 1/8: every partial sum is exact
    let max = -Infinity;
    for (let i = 0; i < shape[0]; i++) max = Math.max(max, src[i * shape[1] + 5]);
    assert.equal(Number(out[0]), sum);
    assert.equal(Number(out[1]), max);
    assert.equal(out.slice(2).join(' '), '(4, 3)');
  });

  it("a store zarr-python wrote, opened 'r+', changed, read back by zarr-python", function () {
    Z.needTool(this, Z.zarrPython(), "zarr-python 2.x for Debian's /usr/bin/python3", true);
    const dir = tmp.file('by_python');
    Z.runZarrPython(
      `import sys, numpy as np, zarr, numcodecs
z = zarr.open(sys.argv[1], mode='w', shape=(9, 7), chunks=(4, 3), dtype='>i4', compressor=numcodecs.GZip(level=2), fill_value=-1, order='F')
z[:5, :] = np.arange(35, dtype='>i4').reshape(5, 7)
z.attrs['keep'] = [1, 2]`,
      [dir],
    );
    const model = new Model(Int32Array, [9, 7], -1);
    model.write([[0, 5], [0, 7]], Int32Array.from({ length: 35 }, (_, i) => i));
    const z = openZarr(dir, { mode: 'r+' });
    const src = values(Int32Array, 4 * 3, 5);
    z.write([3, 7], [2, 5], src);
    model.write([[3, 7], [2, 5]], src);
    z.set(8, 6, 123456);
    model.write([[8, 9], [6, 7]], [123456]);
    z.close();
    const py = zarrPythonRead(dir, '<i4');
    sameArray(new Int32Array(py.buffer, py.byteOffset, py.length / 4), model.data, 'zarr-python');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, '.zattrs'), 'utf8')), { keep: [1, 2] });
  });
});

describe('createZarr(): v3 stores, read back by openZarr and zarrita', function () {
  const tmp = useTmpDir();
  let Zr;
  before(async function () {
    Zr = await Z.loadZarrita();
  });
  const CASES = [
    { name: 'raw_unsharded', opts: { shards: null } },
    { name: 'gzip_unsharded', opts: { shards: null, compressor: 'gzip' } },
    { name: 'raw_sharded', opts: { shards: [8, 10] } },
    { name: 'gzip_sharded', opts: { shards: [8, 10], compressor: { name: 'gzip', configuration: { level: 1 } } } },
    { name: 'raw_default_shards', opts: {} },
    { name: 'raw_unsharded_F', opts: { shards: null, order: 'F' } },
    { name: 'gzip_sharded_F', opts: { shards: [8, 15], order: 'F', compressor: 'gzip' } },
  ];
  for (const c of CASES) {
    it(`${c.name}: written, reopened, compared element for element`, async function () {
      Z.needTool(this, Zr, 'zarrita (a devDependency: npm install)', true);
      const dir = tmp.file(c.name);
      const shape = [10, 13];
      const model = new Model(Float32Array, shape, NaN);
      const z = createZarr(dir, { shape, dtype: 'float32', chunks: [4, 5], fillValue: NaN, dimensionNames: ['y', 'x'], ...c.opts });
      writeAll(z, model, Float32Array);
      z.close();
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'zarr.json'), 'utf8'));
      assert.equal(meta.fill_value, 'NaN');
      assert.deepEqual(meta.dimension_names, ['y', 'x']);
      const r = openZarr(dir);
      sameArray(r.read(), model.data, 'openZarr');
      r.close();
      const arr = await Zr.zarr.open.v3(new Zr.FileSystemStore(dir), { kind: 'array' });
      const got = await Zr.zarr.get(arr, [null, null]);
      sameArray(Z.cOrder(got), model.data, 'zarrita');
    });
  }

  it('complex fill values and bool/int64 arrays round-trip through zarrita', async function () {
    Z.needTool(this, Zr, 'zarrita (a devDependency: npm install)', true);
    const dir = tmp.file('i8');
    const z = createZarr(dir, { shape: [6], dtype: 'int64', chunks: [4], fillValue: -7 });
    z.set(1, 5n);
    z.close();
    const arr = await Zr.zarr.open.v3(new Zr.FileSystemStore(dir), { kind: 'array' });
    assert.deepEqual(Array.from((await Zr.zarr.get(arr, [null])).data), [-7n, 5n, -7n, -7n, -7n, -7n]);
    const c = createZarr(tmp.file('c8'), { shape: [3], dtype: 'complex64', chunks: [2], fillValue: { re: Infinity, im: -1.5 }, shards: null });
    assert.deepEqual(JSON.parse(fs.readFileSync(tmp.file('c8/zarr.json'), 'utf8')).fill_value, ['Infinity', -1.5]);
    assert.deepEqual(c.get(2), { re: Infinity, im: -1.5 });
    c.close();
  });

  it('a raw shard keeps its inner chunks page-aligned, index at the end with crc32c; chunks are read mapped in place', function () {
    const dir = tmp.file('aligned');
    // 30 x 30 float64 inner chunks (7200 bytes: packed, they would not start on pages) and 10 x 10 (800 bytes:
    // 1024-aligned, so none straddles a page).
    for (const [chunks, name] of [[[30, 30], 'big'], [[10, 10], 'small']]) {
      const d = path.join(dir, name);
      const shape = [70, 50];
      const z = createZarr(d, { shape, dtype: 'float64', chunks, shards: [chunks[0] * 2, chunks[1] * 2] });
      const src = values(Float64Array, sizeOf(shape), 11);
      z.write(src);
      z.close();
      const shard = path.join(d, 'c', '1', '0');
      const bytes = fs.readFileSync(shard);
      const n = 4;
      const index = bytes.subarray(bytes.length - 16 * n - 4);
      const sum = index.readUInt32LE(16 * n);
      assert.equal(sum, Z.crc32cBitwise(index.subarray(0, 16 * n)), 'index crc32c');
      const chunkBytes = chunks[0] * chunks[1] * 8;
      const align = chunkBytes >= pageSize ? pageSize : 2 ** Math.ceil(Math.log2(chunkBytes));
      const r = openZarr(d);
      for (let i = 0; i < n; i++) {
        const off = Number(index.readBigUInt64LE(16 * i));
        const nbytes = Number(index.readBigUInt64LE(16 * i + 8));
        if (off === 2 ** 64 - 1) continue; // an inner chunk wholly past the array's edge
        assert.equal(nbytes, chunkBytes);
        assert.equal(off % align, 0, `inner chunk ${i} at ${off}`);
        assert.ok(Math.floor(off / pageSize) === Math.floor((off + Math.min(nbytes, pageSize) - 1) / pageSize), 'no small chunk straddles a page');
        const ci = 2 + Math.floor(i / 2);
        const cj = i % 2;
        const c = r.chunk(ci, cj);
        assert.equal(c.filename, shard, 'mapped from the shard file');
        assert.equal(c.offset, off);
        // Its values are the ones written (rows/cols inside the array).
        for (let y = 0; y < chunks[0] && ci * chunks[0] + y < shape[0]; y += 7) {
          for (let x = 0; x < chunks[1] && cj * chunks[1] + x < shape[1]; x += 5) {
            assert.equal(c.get(y, x), src[(ci * chunks[0] + y) * shape[1] + cj * chunks[1] + x]);
          }
        }
      }
      assert.ok(r.openMappings >= 1);
      r.close();
    }
  });

  it('a compressed shard is replaced whole: a reader that has it open keeps a consistent old shard; a new one reads the new', function () {
    const dir = tmp.file('swap');
    const w = createZarr(dir, { shape: [8, 8], dtype: 'int16', chunks: [4, 4], shards: [8, 8], compressor: 'gzip' });
    w.fill(1);
    w.flush();
    const shard = path.join(dir, 'c', '0', '0');
    const before = fs.statSync(shard).ino;
    const r = openZarr(dir);
    assert.equal(r.get(0, 0), 1); // maps the shard and reads its index
    w.write([0, 4], [0, 4], 2);
    if (windows) {
      // Windows renames over no mapped file: the reader must go first; nothing is written, the change is kept.
      const old = fingerprint(shard);
      throwsCode(() => w.flush(), 'ERR_BUSY');
      assert.equal(fingerprint(shard), old);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'c', '0')), ['0'], 'no temporary file left');
      assert.equal(w.get(0, 0), 2);
      r.close();
    }
    w.flush();
    assert.notEqual(fs.statSync(shard).ino, before, 'a new file, renamed over the old one');
    assert.equal(fs.readdirSync(path.join(dir, 'c', '0')).length, 1, 'no temporary file left');
    if (!windows) {
      assert.equal(r.get(7, 7), 1, 'the old mapping still reads the old shard (its index and data agree)');
      r.close();
    }
    const r2 = openZarr(dir);
    assert.equal(r2.get(0, 0), 2);
    assert.equal(r2.get(7, 7), 1);
    r2.close();
    w.close();
  });

  it('a chunk() array over a shard being replaced: elsewhere it keeps the old file; on Windows flush() is ERR_BUSY until it is closed; close() closes it first', function () {
    const dir = tmp.file('chunkheld');
    // A raw shard of two inner chunks, the second an empty entry: writing it rebuilds the shard (a rename).
    Z.writeV3(dir, { shape: [8], chunks: [4], shard: [8], dtype: 'int32', values: new Int32Array(8).fill(5), skip: (c) => c[0] === 1 });
    const shard = path.join(dir, 'c', '0');
    const z = openZarr(dir, { mode: 'r+' });
    const held = z.chunk(0); // maps the shard file itself
    assert.deepEqual(Array.from(held.read()), [5, 5, 5, 5]);
    z.write([4, 8], 6);
    if (windows) {
      const old = fingerprint(shard);
      throwsCode(() => z.flush(), 'ERR_BUSY');
      assert.equal(fingerprint(shard), old);
      assert.deepEqual(Array.from(z.read()), [5, 5, 5, 5, 6, 6, 6, 6], 'the change is kept in memory');
      held.close();
    }
    z.flush();
    if (!windows) assert.deepEqual([held.closed, Array.from(held.read())], [false, [5, 5, 5, 5]], 'still mapping the old file');
    const r = openZarr(dir);
    assert.deepEqual(Array.from(r.read()), [5, 5, 5, 5, 6, 6, 6, 6]);
    r.close();
    // Compressed now? No: still raw. A second rebuild through close(), with a chunk() array open over the shard.
    fs.rmSync(shard);
    Z.writeV3(dir, { shape: [8], chunks: [4], shard: [8], dtype: 'int32', values: new Int32Array(8).fill(5), skip: (c) => c[0] === 1 });
    const y = openZarr(dir, { mode: 'r+' });
    const again = y.chunk(0);
    y.write([4, 6], 7);
    y.close(); // closes `again` before the shard is replaced
    assert.equal(again.closed, true);
    if (!windows) held.close();
    const r2 = openZarr(dir);
    assert.deepEqual(Array.from(r2.read()), [5, 5, 5, 5, 7, 7, 0, 0]);
    r2.close();
    z.close();
  });

  it("'r+' on shards written by hand (index at the start, big-endian, no crc32c; empty inner chunks; inner crc32c): rebuilt as the metadata says", function () {
    for (const [name, extra] of [
      ['hand-start', { indexAt: 'start', indexEndian: 'big', indexCrc: false }],
      ['hand-innercrc', { innerAfter: ['crc32c'] }],
    ]) {
      const dir = tmp.file(name);
      const shape = [12, 10];
      const vals = values(Float32Array, sizeOf(shape), 41);
      // Inner chunk (1, 1) and (2, 0) are empty entries of their shards.
      Z.writeV3(dir, { shape, chunks: [4, 5], shard: [8, 10], dtype: 'float32', values: vals, fill: 0, skip: (c) => (c[0] === 1 && c[1] === 1) || (c[0] === 2 && c[1] === 0), ...extra });
      const model = new Model(Float32Array, shape, 0);
      model.write([[0, 12], [0, 10]], vals);
      model.write([[4, 8], [5, 10]], new Float32Array(20)); // the skipped ones read as the fill value
      model.write([[8, 12], [0, 5]], new Float32Array(20));
      const z = openZarr(dir, { mode: 'r+' });
      const src = values(Float32Array, 6 * 4, 42);
      z.write([3, 9], [3, 7], src); // crosses stored and empty inner chunks of both shards
      model.write([[3, 9], [3, 7]], src);
      z.close();
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'zarr.json'), 'utf8'));
      assert.deepEqual(meta.attributes, { written: 'by hand' }, 'metadata untouched');
      const r = openZarr(dir);
      sameArray(r.read(), model.data, name);
      r.close();
      if (extra.indexAt === 'start') {
        // The rebuilt shard still has its index first, big-endian, and page-aligned raw inner chunks.
        const b = fs.readFileSync(path.join(dir, 'c', '0', '0'));
        for (let i = 0; i < 4; i++) {
          const off = Number(b.readBigUInt64BE(16 * i));
          assert.ok(off >= 64, `entry ${i} after the index`);
          assert.equal(off % 128, 0, `entry ${i} at ${off}: an 80-byte chunk on a 128-byte boundary`);
        }
      }
    }
  });

  it('writes to a raw array go through the mapping: another open array sees them without a flush', function () {
    const dir = tmp.file('inplace');
    const w = createZarr(dir, { shape: [16, 16], dtype: 'int32', chunks: [8, 8] });
    w.set(3, 4, 1); // creates the shard file
    const r = openZarr(dir);
    assert.equal(r.get(3, 4), 1);
    w.set(3, 4, 99);
    assert.equal(r.get(3, 4), 99);
    r.close();
    w.close();
  });

  it('changed compressed chunks are written out once more than 64 MiB of them are held', function () {
    const dir = tmp.file('spill');
    const z = createZarr(dir, { shape: [3000, 3000], dtype: 'float64', chunks: [500, 500], shards: null, compressor: 'gzip', fillValue: 0 });
    z.fill(0.5); // 72 MB of decoded chunks
    const early = fs.readdirSync(path.join(dir, 'c'), { recursive: true }).filter((f) => fs.statSync(path.join(dir, 'c', f)).isFile()).length;
    assert.ok(early > 0 && early < 36, `${early} chunk files written before flush()`);
    z.close();
    const r = openZarr(dir);
    assert.equal(r.sum(), 3000 * 3000 * 0.5);
    assert.equal(r.min(), 0.5);
    r.close();
  });

  it("rewritten chunks keep the store's compression level (v2 zlib 9, v3 gzip 1 inside shards)", function () {
    const zlib = require('node:zlib');
    const src = values(Int32Array, 64 * 64, 31).map((v) => v % 50);
    for (const [name, opts, chunkFile, dec, enc, level, other] of [
      ['lvl2', { zarrFormat: 2, compressor: { id: 'zlib', level: 9 } }, '0.0', zlib.inflateSync, zlib.deflateSync, 9, 1],
      ['lvl3', { shards: null, compressor: { name: 'gzip', configuration: { level: 1 } } }, 'c/0/0', zlib.gunzipSync, zlib.gzipSync, 1, 9],
    ]) {
      const dir = tmp.file(name);
      createZarr(dir, { shape: [64, 64], dtype: 'int32', chunks: [64, 64], ...opts }).close();
      const z = openZarr(dir, { mode: 'r+' });
      z.write(src);
      z.close();
      const stored = fs.readFileSync(path.join(dir, chunkFile));
      const raw = dec(stored);
      assert.ok(Buffer.from(src.buffer).equals(raw));
      assert.ok(!enc(raw, { level }).equals(enc(raw, { level: other })), 'the two levels differ on this data');
      assert.ok(stored.equals(enc(raw, { level })), `${name}: written at level ${level}`);
    }
  });

  it('a flush() that fails keeps the changed chunks for the next one', function () {
    const dir = tmp.file('failflush');
    const z = createZarr(dir, { shape: [4, 4], dtype: 'int8', chunks: [2, 2], shards: null, compressor: 'gzip' });
    z.write([0, 2], [0, 2], 7);
    const blocker = path.join(dir, 'c', '0', '0');
    fs.mkdirSync(path.join(blocker, 'x'), { recursive: true }); // a directory where the chunk file goes: rename fails
    throwsCode(() => z.flush(), windows ? 'EPERM' : 'EISDIR', MemmapError);
    assert.equal(z.get(1, 1), 7, 'still readable from memory');
    fs.rmSync(blocker, { recursive: true });
    z.flush();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'c', '0')), ['0'], 'no temporary file left');
    z.close();
    const r = openZarr(dir);
    assert.deepEqual(Array.from(r.read()), [7, 7, 0, 0, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    r.close();
  });

  it('fill() and write() from a MemmapArray on a gzip array', function () {
    const dir = tmp.file('misc');
    const z = createZarr(dir, { shape: [40, 30], dtype: 'uint16', chunks: [10, 10], compressor: 'gzip', shards: null });
    z.fill(5);
    const file = tmp.file('src.u2');
    const src = values(Uint16Array, 10 * 30, 4);
    fs.writeFileSync(file, Buffer.from(src.buffer));
    const m = memmap(file, { dtype: 'uint16', shape: [10, 30] });
    z.write([10, 20], null, m);
    m.close();
    z.close();
    const model = new Model(Uint16Array, [40, 30], 5);
    model.write([[10, 20], [0, 30]], src);
    const r = openZarr(dir);
    sameArray(r.read(), model.data, 'after fill + write');
    r.close();
  });
});

describe('residency() and the residency map of memmap info', function () {
  const tmp = useTmpDir();
  it('evicted shards are not resident; a read of one chunk brings in (at least) that chunk; missing chunks are -1', function () {
    skipOnWindows(this, 'evict() cannot drop cached pages there and residency() is the working set');
    const { evict } = require('..');
    const dir = tmp.file('res');
    const z = createZarr(dir, { shape: [512, 384], dtype: 'float64', chunks: [64, 64], shards: [256, 128] });
    z.write([0, 256], null, 1); // shard row 0 only: shard row 1 is never stored
    z.close();
    const shards = fs.readdirSync(path.join(dir, 'c'), { recursive: true }).map((f) => path.join(dir, 'c', f)).filter((f) => fs.statSync(f).isFile());
    assert.equal(shards.length, 3);
    for (const f of shards) evict(f);
    const r = openZarr(dir);
    let res = r.residency();
    assert.deepEqual(res.grid, [8, 6]);
    assert.equal(res.storedBytes, 4 * 6 * 64 * 64 * 8);
    for (let k = 0; k < 48; k++) assert.equal(res.chunks[k], k < 24 ? 0 : -1, `chunk ${k} after eviction`);
    assert.equal(res.residentBytes, 0);
    r.read([64, 128], [64, 128]); // chunk (1, 1)
    res = r.residency();
    assert.equal(res.chunks[1 * 6 + 1], 1);
    assert.ok(res.residentBytes >= 64 * 64 * 8);
    r.close();
    const info = JSON.parse(spawnSync(process.execPath, [CLI, 'info', dir, '--json'], { encoding: 'utf8' }).stdout);
    assert.equal(info.residencyMap.length, 8);
    assert.equal(info.residencyMap[1][1], '#');
    assert.equal(info.residencyMap[5], '      ', 'shard row 1 is not stored');
    assert.equal(info.residentBytes, res.residentBytes);
  });
});

describe('several processes writing different shards of one array', function () {
  const tmp = useTmpDir();
  for (const compressor of [null, 'gzip']) {
    it(`${compressor ?? 'raw'}: two writers at once, each its own shards; every value lands`, async function () {
      const dir = tmp.file(`conc-${compressor ?? 'raw'}`);
      const shape = [64, 48];
      createZarr(dir, { shape, dtype: 'int32', chunks: [8, 8], shards: [32, 48], compressor }).close();
      // Writer k owns shard row k (rows 32k..32k+31) and writes it in 8-row strips, element value = k * 10000 + flat index.
      const script = `
const { openZarr } = require(${JSON.stringify(path.join(__dirname, '..'))});
const k = Number(process.argv[1]);
const z = openZarr(process.argv[2], { mode: 'r+' });
for (let r = 32 * k; r < 32 * k + 32; r += 8) {
  const src = new Int32Array(8 * 48).map((_, i) => k * 10000 + r * 48 + i);
  z.write([r, r + 8], null, src);
  z.flush();
}
z.close();`;
      const run = (k) =>
        new Promise((resolve, reject) => {
          const p = require('node:child_process').spawn(process.execPath, ['-e', script, String(k), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          p.stderr.on('data', (d) => (err += d));
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${k}: ${err}`))));
        });
      await Promise.all([run(0), run(1)]);
      const want = new Int32Array(sizeOf(shape)).map((_, i) => Math.floor(i / (32 * 48)) * 10000 + i);
      const r = openZarr(dir);
      sameArray(r.read(), want, 'after both writers');
      r.close();
    });
  }
});

describe('createZarr() and write(): bad input', function () {
  const tmp = useTmpDir();
  const bad = [
    [{ shape: [4, -1], dtype: 'f4' }, 'ERR_INVALID_SHAPE', MemmapRangeError],
    [{ shape: [4, 4], dtype: 'f4', chunks: [2] }, 'ERR_INVALID_SHAPE', MemmapRangeError],
    [{ shape: [4, 4], dtype: 'f4', chunks: [0, 2] }, 'ERR_INVALID_SHAPE', MemmapRangeError],
    [{ shape: [4, 4], dtype: 'f4', chunks: [2, 2], shards: [3, 2] }, 'ERR_INVALID_SHAPE', MemmapRangeError],
    [{ shape: [4, 4], dtype: 'float31' }, 'ERR_INVALID_DTYPE', MemmapTypeError],
    [{ shape: [4, 4], dtype: 'f4', compressor: 'lz4' }, 'ERR_UNSUPPORTED_CODEC', MemmapError],
    [{ shape: [4, 4], dtype: 'f4', compressor: { id: 'bz2' }, zarrFormat: 2 }, 'ERR_UNSUPPORTED_CODEC', MemmapError],
    [{ shape: [4, 4], dtype: 'f4', compressor: 'zlib' }, 'ERR_UNSUPPORTED_CODEC', MemmapError],
    [{ shape: [4, 4], dtype: 'f4', zarrFormat: 2, shards: [2, 2] }, 'ERR_ZARR_UNSUPPORTED', MemmapError],
    [{ shape: [4, 4], dtype: 'i1', fillValue: 300 }, 'ERR_INVALID_VALUE', MemmapTypeError],
    [{ shape: [4, 4], dtype: 'f4', zarrFormat: 4 }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ shape: [4, 4], dtype: 'f4', chunk: [2, 2] }, 'ERR_UNKNOWN_OPTION', MemmapError],
    [{ dtype: 'f4' }, 'ERR_SHAPE_REQUIRED', MemmapTypeError],
  ];
  for (const [opts, code, cls] of bad) {
    it(`${JSON.stringify(opts)} -> ${code}, nothing written`, function () {
      const dir = tmp.file(`bad-${code}-${Math.random().toString(36).slice(2)}`);
      throwsCode(() => createZarr(dir, opts), code, cls);
      assert.equal(fs.existsSync(dir), false);
    });
  }

  it('an existing non-empty target is refused (EEXIST) and left unchanged; overwrite replaces only a Zarr node', function () {
    const dir = tmp.file('exists');
    const first = createZarr(dir, { shape: [4], dtype: 'u1', chunks: [2] });
    first.fill(3);
    first.close();
    const before = snapshot(dir);
    throwsCode(() => createZarr(dir, { shape: [8], dtype: 'u1' }), 'EEXIST', MemmapError);
    assert.deepEqual(snapshot(dir), before);
    const z = createZarr(dir, { shape: [8], dtype: 'u1', chunks: [4], overwrite: true });
    assert.deepEqual(Array.from(z.read()), [0, 0, 0, 0, 0, 0, 0, 0]);
    z.close();
    const plain = tmp.file('plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'notes.txt'), 'keep me');
    throwsCode(() => createZarr(plain, { shape: [2], dtype: 'u1', overwrite: true }), 'ERR_NOT_ZARR_ARRAY', MemmapError);
    assert.equal(fs.readFileSync(path.join(plain, 'notes.txt'), 'utf8'), 'keep me');
  });

  it("write() errors: read-only, wrong dtype or size, bad index, closed; nothing changes", function () {
    const dir = tmp.file('werr');
    const z = createZarr(dir, { shape: [6, 6], dtype: 'float32', chunks: [3, 3], shards: null });
    z.fill(1);
    z.close();
    const before = snapshot(dir);
    const r = openZarr(dir);
    throwsCode(() => r.set(0, 0, 2), 'ERR_READ_ONLY', MemmapError);
    r.close();
    const w = openZarr(dir, { mode: 'r+' });
    throwsCode(() => w.write([0, 2], [0, 2], new Float64Array(4)), 'ERR_DTYPE_MISMATCH', MemmapTypeError);
    throwsCode(() => w.write([0, 2], [0, 2], new Float32Array(5)), 'ERR_SIZE_MISMATCH', MemmapRangeError);
    throwsCode(() => w.write(9, new Float32Array(6)), 'ERR_OUT_OF_RANGE', MemmapRangeError);
    throwsCode(() => w.set(0, 1), 'ERR_INVALID_INDEX', MemmapRangeError);
    throwsCode(() => w.set(0, 0, 'x'), 'ERR_INVALID_VALUE', MemmapError);
    w.close();
    throwsCode(() => w.set(0, 0, 1), 'ERR_CLOSED', MemmapError);
    assert.deepEqual(snapshot(dir), before);
    throwsCode(() => openZarr(dir, { mode: 'w+' }), 'ERR_INVALID_MODE', MemmapError);
  });
});

describe('memmap convert and memmap info on Zarr', function () {
  const tmp = useTmpDir();
  const cli = (...args) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

  it('.npy -> Zarr v3 sharded (gzip and raw) -> .npy is byte-identical; numpy agrees', function () {
    const npy = tmp.file('in.npy');
    runPython(
      `import sys, numpy as np
a = (np.arange(150 * 90, dtype='<f8').reshape(150, 90) * 0.37) - 11
a[3, 4] = np.nan
np.save(sys.argv[1], a)`,
      [npy],
    );
    for (const comp of ['gzip', 'none']) {
      const zdir = tmp.file(`conv-${comp}.zarr`);
      let r = cli('convert', npy, zdir, '--chunks', '32,20', '--shards', '64,40', '--compressor', comp);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
      const out = tmp.file(`back-${comp}.npy`);
      r = cli('convert', zdir, out);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(fs.readFileSync(npy).equals(fs.readFileSync(out)), `${comp}: the .npy differs`);
      const same = runPython(`import sys, numpy as np; a = np.load(sys.argv[1]); b = np.load(sys.argv[2]); print(np.array_equal(a, b, equal_nan=True), a.dtype, a.shape)`, [npy, out]);
      assert.equal(same.trim(), 'True float64 (150, 90)');
      const info = JSON.parse(cli('info', zdir, '--json').stdout);
      assert.deepEqual(info.chunks, [32, 20]);
      assert.deepEqual(info.shards, [64, 40]);
      assert.deepEqual(info.chunkGrid, [5, 5]);
      assert.equal(info.logicalBytes, 150 * 90 * 8);
      const stored = fs.readdirSync(path.join(zdir, 'c'), { recursive: true }).map((f) => path.join(zdir, 'c', f)).filter((f) => fs.statSync(f).isFile()).reduce((s, f) => s + fs.statSync(f).size, 0);
      assert.equal(info.storedBytes, stored);
      assert.equal(info.ratio, info.logicalBytes / stored);
    }
  });

  it('a progress bar on stderr when it is a terminal (script(1) gives it one)', function () {
    const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
    if (script.status !== 0) this.skip();
    const raw = tmp.file('tty.raw');
    fs.writeFileSync(raw, Buffer.alloc(64 * 64));
    const cmd = [process.execPath, CLI, 'convert', raw, tmp.file('tty.zarr'), '--shape', '64,64', '--chunks', '16,16', '--shards', 'none'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /100% \(16\/16 blocks\)/);
  });

  it('raw -> Zarr v2 (zlib) read by zarr-python; Zarr -> raw; info on a group; bad options', function () {
    Z.needTool(this, Z.zarrPython(), "zarr-python 2.x for Debian's /usr/bin/python3", true);
    const raw = tmp.file('in.raw');
    const src = values(Int16Array, 33 * 21, 8);
    fs.writeFileSync(raw, Buffer.from(src.buffer));
    const zdir = tmp.file('v2out');
    let r = cli('convert', raw, zdir, '--dtype', 'int16', '--shape', '33,21', '--zarr-format', '2', '--chunks', '10,8', '--compressor', 'zlib');
    assert.equal(r.status, 0, r.stderr);
    const py = zarrPythonRead(zdir, '<i2');
    sameArray(new Int16Array(py.buffer, py.byteOffset, py.length / 2), src, 'zarr-python');
    const back = tmp.file('back.raw');
    r = cli('convert', zdir, back, '--to', 'raw');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.readFileSync(back).equals(fs.readFileSync(raw)));
    r = cli('convert', zdir, back);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /EEXIST/);
    r = cli('convert', raw, tmp.file('x.zarr'), '--dtype', 'int16', '--compressor', 'bz2');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ERR_UNSUPPORTED_CODEC/);
    assert.equal(fs.existsSync(tmp.file('x.zarr')), false);
    r = cli('info', raw, '--chunks', '2');
    assert.equal(r.status, 2);
    // A v2 group holding the array.
    Z.runZarrPython(`import sys, zarr; g = zarr.open_group(sys.argv[1], mode='w'); g.attrs['title'] = 't'; g.create_dataset('a', shape=(3,), dtype='i1')`, [tmp.file('grp')]);
    const info = JSON.parse(cli('info', tmp.file('grp'), '--json').stdout);
    assert.equal(info.nodeType, 'group');
    assert.deepEqual(info.members, [{ name: 'a', nodeType: 'array' }]);
    assert.deepEqual(info.attributes, { title: 't' });
    const text = cli('info', zdir).stdout;
    assert.match(text, /Zarr v2 array/);
    assert.match(text, /grid \(4, 3\)/);
  });
});
