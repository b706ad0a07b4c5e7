'use strict';
// The zstd, blosc and lz4 codecs (issue 13), read and written, v2 and v3:
// round trips through memmap, interop both ways with zarr-python 2.13 (v2;
// Debian's /usr/bin/python3 with numcodecs 0.11, values from numpy) and
// zarrita (v3, and v2 for reading), and hostile chunks (sizes that lie, bombs,
// garbage) giving ERR_ZARR_CHUNK in a child process, with the store unchanged.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { createZarr, openZarr, MemmapError, MemmapRangeError, MemmapTypeError } = require('..');
const { useTmpDir, snapshot } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { runFixture, expectCleanExit } = require('./helpers/child');
const Z = require('./helpers/zarr');

const CLI = path.join(__dirname, '..', 'bin', 'memmap.js');
const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);
const bytesOf = (t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);

/** Deterministic, compressible values (a slow ramp plus a small LCG term). */
function values(Ctor, n, seed) {
  const out = new Ctor(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = ((i >> 4) % 100) + ((s >>> 24) % 4);
    out[i] = Ctor === Float32Array || Ctor === Float64Array ? v / 4 - 3 : v;
  }
  return out;
}


function readMeta(dir) {
  const v3 = path.join(dir, 'zarr.json');
  return JSON.parse(fs.readFileSync(fs.existsSync(v3) ? v3 : path.join(dir, '.zarray'), 'utf8'));
}

const CTOR = { float32: Float32Array, float64: Float64Array, int16: Int16Array, uint8: Uint8Array, int32: Int32Array };

describe('zstd, blosc, lz4: memmap writes, memmap reads', function () {
  const tmp = useTmpDir();
  const CASES = [
    { fmt: 3, compressor: 'zstd', dtype: 'float32' },
    { fmt: 3, compressor: 'zstd', dtype: 'int16', shards: null },
    { fmt: 3, compressor: 'blosc', dtype: 'float64' },
    { fmt: 3, compressor: 'blosc', dtype: 'uint8', shards: null },
    { fmt: 3, compressor: { name: 'blosc', configuration: { cname: 'lz4hc', clevel: 9, shuffle: 'bitshuffle' } }, dtype: 'int32' },
    { fmt: 3, compressor: { name: 'zstd', configuration: { level: -5, checksum: false } }, dtype: 'float64', order: 'F' },
    { fmt: 2, compressor: 'zstd', dtype: 'float32' },
    { fmt: 2, compressor: 'blosc', dtype: 'int16', order: 'F' },
    { fmt: 2, compressor: { id: 'blosc', cname: 'zlib', clevel: 1, shuffle: -1, blocksize: 0 }, dtype: 'uint8' },
    { fmt: 2, compressor: 'lz4', dtype: 'float64' },
    { fmt: 2, compressor: { id: 'lz4', acceleration: 8 }, dtype: 'int32' },
  ];
  for (const c of CASES) {
    const label = `v${c.fmt} ${JSON.stringify(c.compressor)} ${c.dtype}${c.shards === null ? ' unsharded' : ''}${c.order ? ` order ${c.order}` : ''}`;
    it(`${label}: edge chunks, reopened 'r+' and changed, read back`, function () {
      const dir = tmp.file(`rt-${Math.random().toString(36).slice(2)}`);
      const shape = [37, 29];
      const Ctor = CTOR[c.dtype];
      const opts = { shape, dtype: c.dtype, chunks: [8, 8], compressor: c.compressor, zarrFormat: c.fmt, fillValue: 2, ...(c.order ? { order: c.order } : {}) };
      if (c.shards !== undefined) opts.shards = c.shards;
      const z = createZarr(dir, opts);
      const want = values(Ctor, sizeOf(shape), 7);
      z.write(null, null, want);
      z.close();
      const meta = readMeta(dir);
      const r = openZarr(dir, { mode: 'r+' });
      assert.ok(bytesOf(r.read()).equals(bytesOf(want)));
      const patch = values(Ctor, 3 * 5, 99);
      r.write([30, 33], [20, 25], patch);
      r.close();
      for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) want[(30 + i) * shape[1] + 20 + j] = patch[i * 5 + j];
      const back = openZarr(dir);
      try {
        assert.ok(bytesOf(back.read()).equals(bytesOf(want)), 'values after the rewrite');
        assert.equal(back.get(36, 28), want[want.length - 1]);
      } finally {
        back.close();
      }
      assert.deepEqual(readMeta(dir), meta, "a rewrite keeps the store's metadata");
    });
  }

  it('the metadata: zarr-python\'s defaults for each name, and the codec JSON as given', function () {
    const meta = (compressor, fmt, dtype = 'float32') => {
      const dir = tmp.file(`m-${Math.random().toString(36).slice(2)}`);
      createZarr(dir, { shape: [4], dtype, compressor, zarrFormat: fmt, ...(fmt === 3 ? { shards: null } : {}) }).close();
      const m = readMeta(dir);
      return fmt === 3 ? m.codecs[1] : m.compressor;
    };
    // zarr-python 3: ZstdCodec(level=0, checksum=False); BloscCodec(cname='zstd', clevel=5, shuffle from the item size).
    assert.deepEqual(meta('zstd', 3), { name: 'zstd', configuration: { level: 0, checksum: false } });
    assert.deepEqual(meta('blosc', 3), { name: 'blosc', configuration: { typesize: 4, cname: 'zstd', clevel: 5, shuffle: 'shuffle', blocksize: 0 } });
    assert.deepEqual(meta('blosc', 3, 'uint8'), { name: 'blosc', configuration: { typesize: 1, cname: 'zstd', clevel: 5, shuffle: 'bitshuffle', blocksize: 0 } });
    // numcodecs / zarr-python 2: Zstd(level=1), Blosc(cname='lz4', clevel=5, shuffle=SHUFFLE), LZ4(acceleration=1).
    assert.deepEqual(meta('zstd', 2), { id: 'zstd', level: 1 });
    assert.deepEqual(meta('blosc', 2), { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 });
    assert.deepEqual(meta('lz4', 2), { id: 'lz4', acceleration: 1 });
    assert.deepEqual(meta({ id: 'blosc', cname: 'zstd', clevel: 3, shuffle: 2 }, 2), { id: 'blosc', cname: 'zstd', clevel: 3, shuffle: 2, blocksize: 0 });
    assert.deepEqual(meta({ name: 'blosc', configuration: { cname: 'blosclz', shuffle: 'noshuffle', typesize: 4, clevel: 1, blocksize: 0 } }, 3), {
      name: 'blosc',
      configuration: { typesize: 4, cname: 'blosclz', clevel: 1, shuffle: 'noshuffle', blocksize: 0 },
    });
  });

  it('chunks are what the metadata says: a zstd frame declaring its size, a blosc header of the cname, lz4 size-prefixed', function () {
    const chunkFile = (compressor, fmt) => {
      const dir = tmp.file(`h-${Math.random().toString(36).slice(2)}`);
      const z = createZarr(dir, { shape: [64], dtype: 'float32', chunks: [64], compressor, zarrFormat: fmt, ...(fmt === 3 ? { shards: null } : {}) });
      z.write(null, values(Float32Array, 64, 1));
      z.close();
      return fs.readFileSync(path.join(dir, fmt === 3 ? 'c/0' : '0'));
    };
    const zstd = chunkFile('zstd', 3);
    assert.equal(zstd.readUInt32LE(0), 0xfd2fb528);
    assert.ok(zstd[4] >> 6 !== 0 || (zstd[4] >> 5) & 1, 'the frame declares its content size');
    const blosc = chunkFile({ name: 'blosc', configuration: { cname: 'zstd', shuffle: 'bitshuffle' } }, 3);
    assert.equal(blosc.readUInt32LE(4), 256, 'blosc nbytes');
    assert.equal(blosc.readUInt32LE(12), blosc.length, 'blosc cbytes');
    assert.equal((blosc[2] >> 5) & 7, 4, 'blosc flags name zstd (format code 4)');
    assert.equal(blosc[2] & 4, 4, 'bitshuffle flag');
    const lz4 = chunkFile('lz4', 2);
    assert.equal(lz4.readUInt32LE(0), 256, 'numcodecs LZ4 prefixes the uncompressed size');
  });
});

describe('createZarr(): bad compressor options', function () {
  const tmp = useTmpDir();
  const bad = [
    [{ compressor: 'lz4' }, 'ERR_UNSUPPORTED_CODEC', MemmapError],
    [{ compressor: 'brotli' }, 'ERR_UNSUPPORTED_CODEC', MemmapError],
    [{ compressor: { name: 'zstd', configuration: { checksum: true } } }, 'ERR_UNSUPPORTED_CODEC', MemmapError],
    [{ compressor: { name: 'zstd', configuration: { level: 23 } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { name: 'zstd', configuration: { level: 1.5 } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { name: 'zstd', configuration: { checksum: 'yes' } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { name: 'zstd', configuration: { levle: 3 } } }, 'ERR_UNKNOWN_OPTION', MemmapTypeError],
    [{ compressor: { name: 'blosc', configuration: { cname: 'snappy' } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { name: 'blosc', configuration: { clevel: 10 } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { name: 'blosc', configuration: { shuffle: 'byteshuffle' } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { name: 'blosc', configuration: { typesize: 0 } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { name: 'blosc', configuration: { blocksize: -1 } } }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { id: 'blosc', shuffle: 3 }, zarrFormat: 2 }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: { id: 'lz4', acceleration: 0 }, zarrFormat: 2 }, 'ERR_INVALID_ARG_VALUE', MemmapRangeError],
    [{ compressor: 'zstd', chunks: [2 ** 28], shape: [2 ** 28] }, 'ERR_INVALID_SHAPE', MemmapRangeError],
  ];
  for (const [opts, code, cls] of bad) {
    it(`${JSON.stringify(opts)} -> ${code}, nothing written`, function () {
      const dir = tmp.file(`bad-${Math.random().toString(36).slice(2)}`);
      throwsCode(() => createZarr(dir, { shape: [4, 4], dtype: 'f4', ...opts }), code, cls);
      assert.equal(fs.existsSync(dir), false);
    });
  }
});

// ---- zarr-python 2.13 (v2) -----------------------------------------------------

const PY_WRITE = `
import sys, json, numpy as np, zarr, numcodecs
root = sys.argv[1]
cases = json.loads(sys.argv[2])
for c in cases:
    rng = np.random.default_rng(c['seed'])
    a = (np.arange(37 * 29).reshape(37, 29) // 7 + rng.integers(0, 3, (37, 29))).astype(c['dtype'])
    k = c['codec']
    comp = numcodecs.Blosc(cname=k['cname'], clevel=5, shuffle=k['shuffle']) if k['id'] == 'blosc' else numcodecs.Zstd(level=k['level']) if k['id'] == 'zstd' else numcodecs.LZ4(acceleration=k['acceleration'])
    z = zarr.open(f"{root}/{c['name']}", mode='w', shape=a.shape, chunks=(8, 8), dtype=a.dtype, compressor=comp, fill_value=0)
    z[...] = a
    np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tofile(f"{root}/{c['name']}.npy.bin")
`;

describe('v2 interop with zarr-python 2.13 (numcodecs 0.11)', function () {
  const tmp = useTmpDir();
  const CNAMES = ['lz4', 'lz4hc', 'blosclz', 'zstd', 'zlib'];
  const SHUFFLES = [0, 1, 2, -1];

  it('memmap reads what zarr-python writes: blosc (every cname x shuffle), zstd, lz4; values equal numpy\'s', function () {
    Z.needTool(this, Z.zarrPython(), "zarr-python 2.x for Debian's /usr/bin/python3", true);
    const cases = [];
    let seed = 1;
    for (const cname of CNAMES) {
      for (const shuffle of SHUFFLES) cases.push({ name: `blosc-${cname}-${shuffle}`, dtype: seed % 2 ? '<f4' : '|u1', seed: seed++, codec: { id: 'blosc', cname, shuffle } });
    }
    cases.push({ name: 'zstd-1', dtype: '<i2', seed: seed++, codec: { id: 'zstd', level: 1 } });
    cases.push({ name: 'zstd-19', dtype: '>f8', seed: seed++, codec: { id: 'zstd', level: 19 } });
    cases.push({ name: 'lz4-1', dtype: '<f8', seed: seed++, codec: { id: 'lz4', acceleration: 1 } });
    cases.push({ name: 'lz4-5', dtype: '<u2', seed: seed++, codec: { id: 'lz4', acceleration: 5 } });
    Z.runZarrPython(PY_WRITE, [tmp.dir, JSON.stringify(cases)]);
    for (const c of cases) {
      const a = openZarr(tmp.file(c.name));
      try {
        const want = fs.readFileSync(tmp.file(`${c.name}.npy.bin`));
        assert.ok(bytesOf(a.read()).equals(want), c.name);
      } finally {
        a.close();
      }
    }
  });

  it('zarr-python reads what memmap writes: blosc (every cname x shuffle), zstd, lz4', function () {
    Z.needTool(this, Z.zarrPython(), "zarr-python 2.x for Debian's /usr/bin/python3", true);
    const comps = [];
    for (const cname of CNAMES) for (const shuffle of SHUFFLES) comps.push({ id: 'blosc', cname, shuffle });
    comps.push('zstd', { id: 'zstd', level: 7 }, 'lz4', { id: 'lz4', acceleration: 3 }, 'blosc');
    const names = [];
    comps.forEach((compressor, k) => {
      const dtype = ['float32', 'uint8', 'int16', 'float64'][k % 4];
      const name = `w${k}`;
      const z = createZarr(tmp.file(name), { shape: [37, 29], dtype, chunks: [8, 8], compressor, zarrFormat: 2, fillValue: 1 });
      const v = values(CTOR[dtype], 30 * 29, k);
      z.write([0, 30], null, v);
      z.close();
      fs.writeFileSync(tmp.file(`${name}.want`), bytesOf(v));
      names.push([name, dtype]);
    });
    const out = Z.runZarrPython(
      `import sys, numpy as np, zarr
for name in sys.argv[2:]:
    z = zarr.open(f"{sys.argv[1]}/{name}", mode='r')
    a = z[:30]
    assert (z[30:] == 1).all(), name
    np.ascontiguousarray(a).tofile(f"{sys.argv[1]}/{name}.py.bin")
    print(name, z.compressor)`,
      [tmp.dir, ...names.map(([n]) => n)],
    );
    for (const [name] of names) assert.ok(fs.readFileSync(tmp.file(`${name}.py.bin`)).equals(fs.readFileSync(tmp.file(`${name}.want`))), name);
    assert.match(out, /Blosc\(cname='zlib', clevel=5, shuffle=AUTOSHUFFLE/);
    assert.match(out, /LZ4\(acceleration=3\)/);
  });
});

// ---- zarrita -------------------------------------------------------------------

describe('interop with zarrita (numcodecs.js)', function () {
  const tmp = useTmpDir();
  let Zr = null;
  before(async function () {
    Zr = await Z.loadZarrita();
    Z.needTool(this, Zr, 'zarrita (a devDependency: npm install)', true);
  });

  it('memmap reads v3 zstd and blosc arrays zarrita writes', async function () {
    const { zarr, FileSystemStore } = Zr;
    const store = new FileSystemStore(tmp.dir);
    const bytes = { name: 'bytes', configuration: { endian: 'little' } };
    const cases = {
      zstd: [bytes, { name: 'zstd', configuration: { level: 3, checksum: false } }],
      blosc: [bytes, { name: 'blosc', configuration: { cname: 'lz4', clevel: 5, shuffle: 1, typesize: 4, blocksize: 0 } }],
    };
    for (const [name, codecs] of Object.entries(cases)) {
      const arr = await zarr.create(zarr.root(store).resolve(`zr-${name}`), { shape: [37, 29], chunkShape: [8, 8], dtype: 'float32', codecs, fillValue: 0 });
      const data = values(Float32Array, 37 * 29, 5);
      await zarr.set(arr, null, { data, shape: [37, 29], stride: [29, 1] });
      const a = openZarr(tmp.file(`zr-${name}`));
      try {
        assert.ok(bytesOf(a.read()).equals(bytesOf(data)), name);
      } finally {
        a.close();
      }
    }
  });

  it('zarrita reads what memmap writes: v3 zstd and blosc (sharded and not), v2 zstd, blosc, lz4', async function () {
    const { zarr, FileSystemStore } = Zr;
    const CASES = [
      { fmt: 3, compressor: 'zstd', shards: null },
      { fmt: 3, compressor: 'blosc', shards: null },
      { fmt: 3, compressor: { name: 'blosc', configuration: { cname: 'zstd', shuffle: 'bitshuffle' } }, shards: [16, 16] },
      { fmt: 3, compressor: 'zstd', shards: [16, 16] },
      { fmt: 2, compressor: 'zstd' },
      { fmt: 2, compressor: 'blosc' },
      { fmt: 2, compressor: 'lz4' },
    ];
    for (const [k, c] of CASES.entries()) {
      const name = `mm-${k}`;
      const z = createZarr(tmp.file(name), { shape: [37, 29], dtype: 'float64', chunks: [8, 8], compressor: c.compressor, zarrFormat: c.fmt, ...(c.fmt === 3 ? { shards: c.shards } : {}) });
      const data = values(Float64Array, 37 * 29, k);
      z.write(null, null, data);
      z.close();
      const opener = c.fmt === 3 ? zarr.open.v3 : zarr.open.v2;
      const arr = await opener(zarr.root(new FileSystemStore(tmp.dir)).resolve(name), { kind: 'array' });
      const got = Z.cOrder(await zarr.get(arr, null));
      assert.ok(bytesOf(got).equals(bytesOf(data)), `${name} ${JSON.stringify(c)}`);
    }
  });
});

// ---- hostile chunks --------------------------------------------------------------

describe('hostile compressed chunks: ERR_ZARR_CHUNK, never a crash or a huge allocation; the store unchanged', function () {
  const tmp = useTmpDir();

  /** An unsharded 64-element float32 store (one 256-byte chunk) with `compressor`, whose chunk file is then `bytes`. */
  function store(name, compressor, fmt, bytes) {
    const dir = tmp.file(name);
    const z = createZarr(dir, { shape: [64], dtype: 'float32', chunks: [64], compressor, zarrFormat: fmt, ...(fmt === 3 ? { shards: null } : {}) });
    z.write(null, values(Float32Array, 64, 3));
    z.close();
    const file = path.join(dir, fmt === 3 ? 'c/0' : '0');
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, typeof bytes === 'function' ? bytes(good) : bytes);
    return dir;
  }

  /** `zstd -c` of a file of `n` bytes (sparse zeros, or `fill`): the frame declares its size; `stream`: from a pipe, it does not. */
  function zstdCli(n, { fill = 0, stream = false, data = null } = {}) {
    const file = tmp.file(`zin-${n}-${fill}`);
    if (data !== null) fs.writeFileSync(file, data);
    else if (fill === 0) fs.truncateSync(fs.openSync(file, 'w') && file, n);
    else fs.writeFileSync(file, Buffer.alloc(n, fill));
    const r = stream ? spawnSync('sh', ['-c', `cat "${file}" | zstd -c -q`], { maxBuffer: 1 << 24 }) : spawnSync('zstd', ['-c', '-q', file], { maxBuffer: 1 << 24 });
    fs.rmSync(file);
    return r.status === 0 ? r.stdout : null;
  }

  it('a zstd frame with a content checksum (the zstd CLI\'s) is read, its checksum verified', function () {
    if (spawnSync('zstd', ['--version']).status !== 0) {
      if (process.env.MEMMAP_CI === '1') throw new Error('the zstd CLI is required in CI');
      this.skip();
    }
    const want = values(Float32Array, 64, 3);
    const frame = zstdCli(256, { data: bytesOf(want) });
    assert.equal(frame[4] & 4, 4, 'the frame has a checksum');
    const dir = store('zstd-cli', 'zstd', 3, frame);
    const a = openZarr(dir);
    try {
      assert.ok(bytesOf(a.read()).equals(bytesOf(want)));
    } finally {
      a.close();
    }
  });

  it('sizes that lie, bombs and garbage, for each codec', function () {
    const hasZstd = spawnSync('zstd', ['--version']).status === 0;
    const cases = {
      // zstd: a real bomb (256 MiB of zeros in a few KiB, size declared), one declaring no size, a header cut short, garbage.
      'zstd-bomb': ['zstd', 3, () => zstdCli(2 ** 28)],
      'zstd-bomb-no-size': ['zstd', 3, () => zstdCli(2 ** 28, { stream: true })],
      'zstd-no-size': ['zstd', 3, () => zstdCli(256, { fill: 1, stream: true })],
      'zstd-streamed': ['zstd', 3, (good) => good.subarray(0, 5)],
      'zstd-truncated': ['zstd', 3, (good) => good.subarray(0, good.length - 3)],
      'zstd-garbage': ['zstd', 2, Buffer.from('not zstd at all, just text')],
      'zstd-smaller': ['zstd', 2, () => zstdCli(128, { fill: 1 })],
      // The zstd CLI adds a content checksum: one byte of it changed.
      'zstd-checksum': ['zstd', 3, () => {
        const f = zstdCli(256, { data: bytesOf(values(Float32Array, 64, 3)) });
        f[f.length - 1] ^= 1;
        return f;
      }],
      // blosc: nbytes past the chunk, cbytes not the stored length, a valid header over garbage, too short.
      'blosc-nbytes': ['blosc', 3, (good) => Buffer.concat([good.subarray(0, 4), Buffer.from([0, 0, 0, 0x40]), good.subarray(8)])],
      'blosc-cbytes': ['blosc', 3, (good) => Buffer.concat([good.subarray(0, 12), Buffer.from([0xff, 0xff, 0xff, 0x7f]), good.subarray(16)])],
      // Blosc 1 has no checksum: a body of garbage under a valid header may decode to garbage of the right size
      // (checked below apart: no crash, and an error, if any, is coded).
      'blosc-body': ['blosc', 2, (good) => Buffer.concat([good.subarray(0, 16), Buffer.alloc(good.length - 16, 0xa5)])],
      'blosc-short': ['blosc', 2, Buffer.from([2, 1, 33, 4, 0, 1])],
      // lz4: a size prefix past the chunk, one smaller than the data, a body that is not lz4, no prefix.
      'lz4-prefix': ['lz4', 2, (good) => Buffer.concat([Buffer.from([0, 0, 0, 0x7f]), good.subarray(4)])],
      'lz4-prefix-small': ['lz4', 2, (good) => Buffer.concat([Buffer.from([16, 0, 0, 0]), good.subarray(4)])],
      'lz4-body': ['lz4', 2, (good) => Buffer.concat([good.subarray(0, 4), Buffer.alloc(40, 0xff)])],
      'lz4-none': ['lz4', 2, Buffer.from([1, 2])],
    };
    const dirs = [];
    for (const [name, [codec, fmt, bytes]] of Object.entries(cases)) {
      if (name.startsWith('zstd-') && /bomb|size|smaller|checksum/.test(name) && !hasZstd) {
        if (process.env.MEMMAP_CI === '1') throw new Error('the zstd CLI is required in CI');
        continue;
      }
      dirs.push([name, store(name, codec, fmt, bytes)]);
    }
    const before = dirs.map(([, d]) => snapshot(d));
    const good = store('good', 'zstd', 3, (g) => g);
    // One child reads them all: a bad chunk must not leave the codec broken for the next (good) read.
    const r = runFixture('zarr-codec-hostile.js', [good, ...dirs.map(([, d]) => d)], { timeout: 120000 });
    const out = JSON.parse(expectCleanExit(r));
    for (const [k, [name]] of dirs.entries()) {
      if (name === 'blosc-body') {
        assert.ok(out.results[k].code === null || out.results[k].code === 'ERR_ZARR_CHUNK', JSON.stringify(out.results[k]));
        continue;
      }
      assert.deepEqual(out.results[k], { code: 'ERR_ZARR_CHUNK', isMemmapError: true, rw: 'ERR_ZARR_CHUNK' }, name);
    }
    assert.equal(out.good, true, 'a good chunk reads after each bad one');
    // Not under ASan: its shadow memory and allocator quarantine set the peak RSS there (the other stages check it).
    if (out.peakRss !== null && !process.env.MEMMAP_SANITIZER) assert.ok(out.peakRss < 2 ** 27, `no bomb was expanded (peak RSS ${out.peakRss} bytes)`);
    // (blosc-body read as data, so its write went through.)
    dirs.forEach(([name, d], k) => name === 'blosc-body' || assert.deepEqual(snapshot(d), before[k], `${name}: files changed`));
  });
});

// ---- memmap convert ----------------------------------------------------------------

describe('memmap convert --compressor zstd|blosc|lz4', function () {
  const tmp = useTmpDir();
  const cli = (...args) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

  it('raw -> Zarr (each compressor) -> raw is byte-identical; info names the codec; lz4 needs v2', function () {
    const raw = tmp.file('in.raw');
    const src = values(Int16Array, 33 * 21, 4);
    fs.writeFileSync(raw, bytesOf(src));
    for (const [comp, fmt] of [['zstd', '3'], ['blosc', '3'], ['zstd', '2'], ['blosc', '2'], ['lz4', '2']]) {
      const out = tmp.file(`${comp}${fmt}.zarr`);
      let r = cli('convert', raw, out, '--dtype', 'int16', '--shape', '33,21', '--chunks', '10,8', '--compressor', comp, '--zarr-format', fmt);
      assert.equal(r.status, 0, r.stderr);
      const back = tmp.file(`${comp}${fmt}.raw`);
      r = cli('convert', out, back, '--to', 'raw');
      assert.equal(r.status, 0, r.stderr);
      assert.ok(fs.readFileSync(back).equals(fs.readFileSync(raw)), `${comp} v${fmt}`);
      const info = JSON.parse(cli('info', out, '--json').stdout);
      assert.ok(info.codecs.includes(comp), JSON.stringify(info.codecs));
      assert.ok(info.ratio > 1, `${comp} v${fmt} compresses (ratio ${info.ratio})`);
    }
    const r = cli('convert', raw, tmp.file('lz4v3.zarr'), '--dtype', 'int16', '--compressor', 'lz4');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ERR_UNSUPPORTED_CODEC/);
    assert.equal(fs.existsSync(tmp.file('lz4v3.zarr')), false);
  });
});
