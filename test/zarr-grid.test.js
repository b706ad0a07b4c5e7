'use strict';
// Full float sums of a ZarrArray by the native kernel over its chunk grid (src-native/chunked.cc, issue 13): numpy's
// bits over the assembled array for every float and complex type, ragged and 128-aligned grids (the block-by-block
// fast path), fill chunks, big-endian and compressed chunks, strided selections, and a sum split into many calls.
// Then native.sumGrid() itself against bad grids and hostile callers.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { createZarr, openZarr, evict, memmap } = require('..');
const { native } = require('../dist/binding');
const { setGridBytes } = require('../dist/zarr-reduce');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { numpyJSON } = require('./helpers/numpy');

// `rows`: rows written (the rest stay the fill value, read from no file).
const CASES = [
  { name: 'f4-aligned-sharded', dtype: 'float32', shape: [300, 1024], chunks: [64, 256], shards: [128, 512], fill: 0.5, rows: 280 },
  // Rows a multiple of 8192 (each buffer within a row: its tree added level by level for all rows at once); tasks of
  // 2^22 elements that start mid-row (2^22 is no multiple of 24576).
  { name: 'f4-rows-8192', dtype: 'float32', shape: [21, 8192], chunks: [8, 2048], shards: [16, 8192], fill: 2, rows: 19 },
  { name: 'f4-rows-24576', dtype: 'float32', shape: [200, 24576], chunks: [64, 8192], fill: 0, rows: 200 },
  { name: 'f4-ragged', dtype: 'float32', shape: [37, 651], chunks: [8, 100], fill: 0, rows: 37 },
  { name: 'f4-gzip', dtype: 'float32', shape: [50, 1024], chunks: [16, 256], compressor: 'gzip', fill: 0, rows: 50 },
  { name: 'f8-be-v2', dtype: '>f8', shape: [200, 384], chunks: [50, 128], zarrFormat: 2, fill: -1, rows: 170 },
  { name: 'f8-aligned', dtype: 'float64', shape: [130, 1280], chunks: [32, 256], fill: 0, rows: 130 },
  { name: 'c8', dtype: 'complex64', shape: [64, 256], chunks: [16, 128], fill: 0, rows: 60 },
  { name: 'c16-3d', dtype: 'complex128', shape: [6, 40, 70], chunks: [4, 16, 32], fill: 0, rows: 6 },
  { name: 'f2', dtype: 'float16', shape: [100, 256], chunks: [32, 128], fill: 0, rows: 100 },
];
const SEL = [[3, -2], [null, null, -3]];

describe('ZarrArray full sums by the native kernel over the chunk grid', function () {
  this.timeout(300000);
  const tmp = useTmpDir();
  let calls = 0;
  let sumGrid;
  before(function () {
    sumGrid = native.sumGrid;
    native.sumGrid = (...args) => {
      calls++;
      return sumGrid(...args);
    };
  });
  after(function () {
    native.sumGrid = sumGrid;
  });

  it("sum/mean/var/std of everything and of a strided selection: numpy's bits, in one call or many", function () {
    const got = {};
    for (const c of CASES) {
      const dir = tmp.file(c.name);
      const z = createZarr(dir, { shape: c.shape, dtype: c.dtype, chunks: c.chunks, shards: c.shards, compressor: c.compressor ?? null, zarrFormat: c.zarrFormat ?? 3, fillValue: c.fill });
      const T = z.read(...c.shape.map(() => [0, 1])).constructor;
      const lanes = c.dtype.startsWith('complex') ? 2 : 1;
      const inner = c.shape.slice(1).reduce((a, b) => a * b, 1);
      const n = c.rows * inner * lanes;
      const v = T === Uint16Array ? null : T.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 1e3 + (i % 11) * 1e-3);
      const values = v ?? new Uint16Array(n).map((_, i) => 0x3c00 + (i % 977)); // float16 bits
      z.write([0, c.rows], null, values);
      z.close();
      const a = openZarr(dir);
      const results = [];
      for (const bytes of [64 * 2 ** 20, 50000]) {
        const old = setGridBytes(bytes);
        try {
          calls = 0;
          const r = [a.sum(), a.mean(), a.sum(...SEL)];
          if (!c.dtype.startsWith('complex') && c.dtype !== 'float16') r.push(a.var(), a.std({ ddof: 1 }));
          assert.ok(calls >= (bytes < 1e6 ? 2 : 1), `${c.name}: the grid kernel ran (${calls} calls)`);
          results.push(r.map((x) => (typeof x === 'number' ? x : [x.re, x.im])));
        } finally {
          setGridBytes(old);
        }
      }
      assert.deepEqual(results[1], results[0], `${c.name}: many calls give the bits of one`);
      got[c.name] = results[0];
      fs.writeFileSync(tmp.file(`${c.name}.raw`), Buffer.from(a.read().buffer));
      a.close();
    }
    const want = numpyJSON(
      `
cases, where = json.loads(sys.argv[1]), sys.argv[2]
out = {}
for c in cases:
    dt = np.dtype(c['dtype']).newbyteorder('=')
    a = np.fromfile(os.path.join(where, c['name'] + '.raw'), dtype=dt).reshape(c['shape'])
    acc = np.complex128 if dt.kind == 'c' else np.float64
    s = np.ascontiguousarray(a[3:-2, ::-3])  # zarr's z[...] is a contiguous copy
    r = [a.sum(dtype=acc), a.mean(dtype=acc), s.sum(dtype=acc)]
    if dt.kind == 'f' and dt.itemsize > 2:
        r += [a.var(dtype=np.float64), a.std(dtype=np.float64, ddof=1)]
    out[c['name']] = [[float(x.real), float(x.imag)] if dt.kind == 'c' else float(x) for x in r]
emit(out)
`,
      [JSON.stringify(CASES), tmp.dir],
    );
    for (const c of CASES) assert.deepEqual(got[c.name], want[c.name], c.name);
  });

  it('reductions along an axis in many bands (bands of unequal sizes in one buffer) give the bits of one band', function () {
    const { setBandBytes } = require('../dist/zarr-reduce');
    const dir = tmp.file('bands');
    // Ragged chunks; the selections start and end inside chunks, so the first and last bands are the smallest.
    const z = createZarr(dir, { shape: [45, 70, 33], dtype: 'float32', chunks: [8, 16, 10], fillValue: 0 });
    z.write(Float32Array.from({ length: 45 * 70 * 33 }, (_, i) => Math.sin(i * 0.11) * 100 + (i % 7) * 1e-3));
    const sels = [[], [[5, 41], [3, 67]], [[40, 2, -3]]];
    const calls = (a) =>
      sels.flatMap((sel) => [
        a.sum(...sel, { axis: 0 }),
        a.sum(...sel, { axis: 2 }),
        a.mean(...sel, { axis: [0, 2] }),
        a.var(...sel, { axis: 1, ddof: 1 }),
        a.argmax(...sel, { axis: 2 }),
      ]);
    const one = calls(z).map((r) => Array.from(r.data ?? r.read()));
    for (const bytes of [1, 3000, 20000]) {
      const old = setBandBytes(bytes);
      let many;
      try {
        many = calls(z).map((r) => Array.from(r.data ?? r.read()));
      } finally {
        setBandBytes(old);
      }
      assert.deepEqual(many, one, `bands of ${bytes} bytes`);
    }
    z.close();
  });

  // A store written from `values` (createZarr options `opts`) beside the same values as a C-order file; `check`
  // gets both open and the calls native.sumGrid() received (per call: its sources, its chunk parts).
  function withStore(name, shape, opts, values, check, openOptions = {}) {
    const dir = tmp.file(name);
    const z = createZarr(dir, { shape, dtype: 'float32', ...opts });
    z.write(values);
    z.close();
    fs.writeFileSync(tmp.file(`${name}.raw`), Buffer.from(values.buffer));
    const flat = memmap(tmp.file(`${name}.raw`), { dtype: 'float32', shape });
    const a = openZarr(dir, openOptions);
    const calls = [];
    const inner = native.sumGrid;
    native.sumGrid = (...args) => {
      calls.push({ sources: args[0].length, parts: args[1].length / (3 + shape.length) }); // a part: source, base, swap, strides
      return inner(...args);
    };
    try {
      check(a, flat, calls);
    } finally {
      native.sumGrid = inner;
      a.close();
      flat.close();
    }
  }
  const most = (calls, key) => Math.max(...calls.map((c) => c[key]));

  it('rows of many chunk files: each call maps no more files than the store keeps, and the sum keeps its bits', function () {
    const maxMappings = 64;
    // 32 chunk files per chunk row, 16 chunk rows: 512 files, 8x what the store keeps mapped.
    const shape = [64, 8192];
    const values = Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => Math.cos(i * 0.11) * 100 + i * 1e-4);
    withStore('many-files', shape, { chunks: [4, 256], zarrFormat: 2 }, values, (a, flat, calls) => {
      const got = [a.sum(), a.mean(), a.sum([1, -1], [null, null, -1]), a.var()];
      const want = [flat.sum(), flat.mean(), flat.sum([1, -1], [null, null, -1]), flat.var()];
      assert.deepEqual(got, want);
      assert.ok(calls.length >= 8, `the grid kernel ran (${calls.length} calls)`);
      assert.ok(most(calls, 'sources') <= maxMappings, `files per call: ${most(calls, 'sources')}`);
    }, { maxMappings });
  });

  it('more shards across a row than the store keeps mapped: a call keeps all it reads, and the kernel sums them', function () {
    const { mappedFileCount } = require('../dist/zarr-chunks');
    const maxMappings = 64;
    // 100 shards across, each holding 4 rows of chunks: every row of chunks visits all 100 again.
    const shape = [8, 1600];
    const values = Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => Math.sin(i * 0.7) * 50 + (i % 5) * 1e-3);
    const base = mappedFileCount();
    withStore('shards-across', shape, { chunks: [1, 4], shards: [4, 16] }, values, (a, flat, calls) => {
      assert.deepEqual([a.sum(), a.mean(), a.var(), a.sum([1, 7], [null, null, -3])], [flat.sum(), flat.mean(), flat.var(), flat.sum([1, 7], [null, null, -3])]);
      assert.deepEqual([a.sum([0, 4]), a.sum([4, 8])], [flat.sum([0, 4]), flat.sum([4, 8])]);
      // Every sum ran in the kernel (none went to assembling rows), calls over 100 files or more.
      assert.ok(calls.length >= 6 && most(calls, 'sources') >= 100, `calls ${calls.length}, files ${most(calls, 'sources')}`);
      assert.equal(mappedFileCount() - base, maxMappings, 'back to the bound after the calls');
    }, { maxMappings });
  });

  it('tiny chunks: each call takes a bounded number of chunk parts, and the sum keeps its bits', function () {
    // 131072 chunks of 2 x 4 in two shards: one call would list them all.
    const shape = [1024, 1024];
    const values = Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => Math.sin(i * 0.013) * 10 + (i % 7) * 1e-3);
    withStore('tiny-chunks', shape, { chunks: [2, 4], shards: [512, 1024] }, values, (a, flat, calls) => {
      assert.equal(a.sum(), flat.sum());
      assert.equal(a.var(), flat.var());
      assert.ok(calls.length >= 4, `calls: ${calls.length}`);
      assert.ok(most(calls, 'parts') <= 2 ** 16, `chunk parts per call: ${most(calls, 'parts')}`);
    });
  });

  it('compressed chunks: each call holds no more decoded chunks than the decode cache keeps (no fall back to assembling)', function () {
    const { MAX_DECODED_BYTES } = require('../dist/zarr-chunks');
    // 72 MiB of float32 in 256 KiB gzip chunks: more than the decode cache's 64 MiB.
    const shape = [4608, 4096];
    const values = new Float32Array(shape[0] * shape[1]).fill(1.5);
    for (let i = 0; i < values.length; i += 4097) values[i] = (i % 13) * 0.25;
    withStore('gzip-big', shape, { chunks: [256, 256], compressor: 'gzip' }, values, (a, flat, calls) => {
      assert.equal(a.sum(), flat.sum());
      // All 288 chunks went through the kernel (a call that lost a chunk to the cache would send the scan elsewhere).
      assert.equal(calls.reduce((x, c) => x + c.parts, 0), 288);
      const chunk = 256 * 256 * 4;
      assert.ok(most(calls, 'parts') * chunk <= MAX_DECODED_BYTES, `decoded bytes per call: ${most(calls, 'parts') * chunk}`);
    });
  });

  it('callRows(): the rows of one call under each bound', function () {
    const { callRows } = require('../dist/zarr-reduce');
    // A store that keeps 64 files mapped and 64 MiB of decoded chunks.
    const spans = (files, chunks, decoded = 0) => ({ rowSpans: () => ({ files, chunks, decoded, limits: { mappings: 64, decodedBytes: 64 * 2 ** 20 } }) });
    const old = setGridBytes(2 ** 30);
    try {
      // 16384 x 16384 float32 in 4 x 4 shards of 256 x 256 chunks: the GiB fits one call.
      assert.equal(callRows(spans({ across: 4, rows: 4096 }, { across: 64, rows: 256 }), [], 65536), 16384);
      // The same compressed: 64 MiB of decoded chunks per call, less a row of chunks (3 rows of 64 chunks of 256 KiB).
      assert.equal(callRows(spans({ across: 4, rows: 4096 }, { across: 64, rows: 256 }, 262144), [], 65536), 768);
      // One file per chunk, 32 across: two files rows fit 64 mappings, one is kept spare.
      assert.equal(callRows(spans({ across: 32, rows: 4 }, { across: 32, rows: 4 }), [], 32768), 4);
      // Tiny chunks: 2^16 of them per call at most.
      assert.equal(callRows(spans({ across: 1, rows: 512 }, { across: 256, rows: 2 }), [], 4096), 510);
      // More files across than the store keeps: one row of files (the store keeps them mapped until the call has run).
      assert.equal(callRows(spans({ across: 100, rows: 8 }, { across: 100, rows: 8 }), [], 4096), 8);
    } finally {
      setGridBytes(old);
    }
  });

  // The mapping of `file` in /proc/self/smaps: its VmFlags (sr sequential, rr random, hg / nh huge pages asked for /
  // against) and its Rss (bytes of it mapped in this process).
  const smaps = (file) => {
    const lines = fs.readFileSync('/proc/self/smaps', 'utf8').split('\n');
    const at = lines.findIndex((l) => l.endsWith(` ${file}`));
    if (at < 0) return null;
    const rest = lines.slice(at + 1);
    const end = rest.findIndex((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l));
    const entry = end < 0 ? rest : rest.slice(0, end);
    const flags = entry.find((l) => l.startsWith('VmFlags:'));
    const kB = (name) => Number(/(\d+) kB/.exec(entry.find((l) => l.startsWith(`${name}:`)))[1]) * 1024;
    return { flags: new Set(flags.slice(8).trim().split(/\s+/)), rss: kB('Rss'), pmd: kB('FilePmdMapped') };
  };
  const vmFlags = (file) => smaps(file)?.flags ?? null;

  /** A 2048 x 2048 float32 store in one 16 MiB shard (a scan reads more than SCAN_BYTES of it): [dir, shard path]. */
  const oneShard = (name, value) => {
    const dir = tmp.file(name);
    const z = createZarr(dir, { shape: [2048, 2048], dtype: 'float32', chunks: [256, 256], shards: [2048, 2048] });
    z.write([0, 2048], null, Float32Array.from({ length: 2048 * 2048 }, (_, i) => value(i)));
    z.close();
    return [dir, fs.realpathSync(`${dir}/c/0/0`)];
  };
  const MiB = 2 ** 20;
  const TMPFS_MAGIC = 0x01021994;
  /**
   * Puts `file` in the page cache as 4 KiB folios, as small reads by another program leave it: MADV_WILLNEED reads
   * page by page, at most read_ahead_kb per call (so a window of 4 MiB at a time).
   */
  const smallFolios = (file) => {
    // Written back first: dirty pages stay in the page cache through an eviction.
    const fd = fs.openSync(file, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    evict(file);
    const size = fs.statSync(file).size;
    const step = 4 * MiB;
    for (let at = 0; at < size; at += step) {
      const m = memmap(file, { dtype: 'uint8', offset: at, shape: [Math.min(step, size - at)] });
      try {
        m.advise('willneed');
        for (let k = 0; k < 500 && m.residency().fraction < 1; k++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      } finally {
        m.close();
      }
    }
  };

  it('a scan reads its chunk files through their mappings: from 4 KiB folios, from the disk, from huge folios (Linux)', function () {
    if (process.platform !== 'linux') this.skip();
    // tmpfs pages cannot be evicted.
    if (fs.statfsSync(tmp.dir).type === TMPFS_MAGIC) this.skip();
    const [dir, shard] = oneShard('scan-map', (i) => i % 2);
    const want = 2048 * 1024;
    // In the page cache in 4 KiB folios (as another program's small reads leave it): mapped, under the scan's
    // sequential advice (fault-around maps 64 KiB a fault; copying with pread measured 1.6x slower on a warm 1 GiB
    // store, and a second scan in the process finds the pages mapped already).
    smallFolios(shard);
    let a = openZarr(dir);
    try {
      a.get(0, 0);
      assert.equal(a.sum(), want);
      assert.ok(smaps(shard).rss >= 15 * MiB, `mapped: Rss ${smaps(shard).rss}`);
      assert.equal(a.sum(), want);
    } finally {
      a.close();
    }
    // Writes are seen, before and after flush() (a file written through its mapping is read there after).
    a = openZarr(dir, { mode: 'r+' });
    try {
      a.get(0, 0);
      a.set(5, 7, 100); // was 1
      assert.equal(a.sum(), want + 99);
      a.flush();
      assert.equal(a.sum(), want + 99);
      a.set(2047, 2047, 0); // was 1
      a.flush();
      assert.equal(a.sum(), want + 98);
    } finally {
      a.close();
    }
    const t = openZarr(dir);
    try {
      assert.equal(t.get(5, 7), 100);
      assert.equal(t.get(2047, 2047), 0);
    } finally {
      t.close();
    }
    // Not in the page cache: mapped (and the pages read in huge folios); a later scan reads the mapping again.
    evict(shard);
    a = openZarr(dir);
    let huge = false;
    try {
      assert.equal(a.sum(), want + 98);
      const m = smaps(shard);
      assert.ok(m.rss >= 15 * MiB, `cold: mapped, Rss ${m.rss}`);
      // Where the kernel and filesystem give file mappings huge pages (kernel 6.18 with ext4 here), the scan got them.
      huge = m.pmd > 0;
      assert.equal(a.sum(), want + 98);
    } finally {
      a.close();
    }
    // Huge folios in the page cache map with an entry per 2 MiB: a new mapping's scan maps them so.
    if (huge) {
      a = openZarr(dir);
      try {
        assert.equal(a.sum(), want + 98);
        const m = smaps(shard);
        assert.ok(m.rss >= 15 * MiB && m.pmd >= 14 * MiB, `huge folios: mapped, Rss ${m.rss}, PMD-mapped ${m.pmd}`);
      } finally {
        a.close();
      }
    }
  });

  it('a chunk file replaced on disk after it was mapped is summed from the mapping, not the new file (Linux)', function () {
    if (process.platform !== 'linux') this.skip();
    const [dir, shard] = oneShard('scan-replaced', (i) => i % 2);
    const [, other] = oneShard('scan-other', (i) => i % 4);
    const a = openZarr(dir);
    try {
      a.get(0, 0);
      fs.renameSync(other, shard);
      // The mapping still holds the old file: its sum, not the new file's (2048 * 2048 * 1.5).
      assert.equal(a.sum(), 2048 * 1024);
    } finally {
      a.close();
    }
    const b = openZarr(dir);
    try {
      assert.equal(b.sum(), 2048 * 2048 * 1.5);
    } finally {
      b.close();
    }
  });

  it('a scan streams its chunk files in huge pages, then gives them back their random advice (Linux)', function () {
    // Without transparent huge pages in the kernel MADV_HUGEPAGE is refused (EINVAL) and nothing changes.
    if (process.platform !== 'linux' || !fs.existsSync('/sys/kernel/mm/transparent_hugepage')) this.skip();
    const [dir, shard] = oneShard('scan-advice', (i) => i % 2);
    const a = openZarr(dir);
    try {
      a.get(0, 0); // maps the shard
      const before = vmFlags(shard);
      assert.ok(before.has('rr') && !before.has('hg') && !before.has('nh'), `random, no huge-page advice: ${[...before]}`);
      let during = null;
      const sumGrid2 = native.sumGrid;
      native.sumGrid = (...args) => {
        during = vmFlags(shard);
        return sumGrid2(...args);
      };
      try {
        assert.equal(a.sum(), 2048 * 1024);
      } finally {
        native.sumGrid = sumGrid2;
      }
      assert.ok(during.has('sr') && !during.has('rr'), `sequential during the scan: ${[...during]}`);
      const after = vmFlags(shard);
      // nh: huge pages were asked for in the scan and turned off with the random advice.
      assert.ok(after.has('rr') && !after.has('sr') && after.has('nh') && !after.has('hg'), `random and no huge pages after: ${[...after]}`);
      // A lasting advise('sequential') keeps huge pages after a scan.
      a.advise('sequential');
      a.sum();
      const lasting = vmFlags(shard);
      assert.ok(lasting.has('sr') && lasting.has('hg'), `sequential with huge pages: ${[...lasting]}`);
    } finally {
      a.close();
    }
  });
});

/** A native Mapping of 16 float32 (0..15), read-only, in `tmp`'s dir. */
function f32Mapping(tmp) {
  const file = tmp.file(`m${Math.random()}.f32`);
  fs.writeFileSync(file, Buffer.from(Float32Array.from({ length: 16 }, (_, i) => i).buffer));
  const fd = fs.openSync(file, 'r');
  try {
    return new native.Mapping(fd, native.tables.modes.r, 0, 64, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** [a Mapping, then heap bytes whose getter closes that Mapping]: a source list that closes its first source as it is read. */
function closingSources(tmp) {
  const m = f32Mapping(tmp);
  const sources = [m, null];
  Object.defineProperty(sources, 1, {
    get() {
      m.close();
      return new Uint8Array(16);
    },
  });
  return { m, sources };
}

describe('native.sumGrid(): bad grids and hostile callers', function () {
  const tmp = useTmpDir();
  const { ELEM_CODES } = require('../dist/dtype');
  const f32 = ELEM_CODES.float32;
  const grid = (...starts) => Float64Array.from([starts.length, ...starts.flatMap((s) => [s.length, ...s])]);
  const range = (from, to, total, buffered = 1) => Float64Array.of(0, from, to, total, buffered, 0, 0);
  const one = Float64Array.of(0, 0, 0, 4);
  const mapping = () => f32Mapping(tmp);

  it('sums blocks of a mapping and of heap bytes (one byte-swapped) as numpy would', function () {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = Buffer.alloc(16);
    [5, 6, 7, 8].forEach((x, i) => b.writeFloatBE(x, 4 * i));
    const m = mapping();
    // Blocks along one axis: [1..4] (heap), [5..8] (swapped heap), [12..15] (the mapping, from byte 48).
    const blocks = Float64Array.of(0, 0, 0, 4, 1, 0, 1, 4, 2, 48, 0, 4);
    const r = native.sumGrid([new Uint8Array(a.buffer), new Uint8Array(b.buffer, b.byteOffset, 16), m], blocks, grid([0, 4, 8, 12]), f32, false, 0, 0, range(0, 12, 12));
    assert.deepEqual(Array.from(r), [36 + 54, 0]);
    m.close();
  });

  it('refuses blocks outside their bytes (ERR_OUT_OF_RANGE), grids that do not tile and bad ranges (ERR_INVALID_ARG_VALUE)', function () {
    const bytes = new Uint8Array(16);
    throwsCode(() => native.sumGrid([bytes], Float64Array.of(0, 4, 0, 4), grid([0, 4]), f32, false, 0, 0, range(0, 4, 4)), 'ERR_OUT_OF_RANGE');
    throwsCode(() => native.sumGrid([bytes], Float64Array.of(0, -4, 0, 4), grid([0, 4]), f32, false, 0, 0, range(0, 4, 4)), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => native.sumGrid([bytes], Float64Array.of(0, 8, 0, -4), grid([0, 4]), f32, false, 0, 0, range(0, 4, 4)), 'ERR_OUT_OF_RANGE');
    throwsCode(() => native.sumGrid([bytes], one, grid([0, 4, 8]), f32, false, 0, 0, range(0, 8, 8)), 'ERR_INVALID_ARG_VALUE'); // 2 runs, 1 block
    throwsCode(() => native.sumGrid([bytes], one, grid([0, 0]), f32, false, 0, 0, range(0, 0, 0)), 'ERR_INVALID_ARG_VALUE'); // an empty run
    throwsCode(() => native.sumGrid([bytes], Float64Array.of(1, 0, 0, 4), grid([0, 4]), f32, false, 0, 0, range(0, 4, 4)), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => native.sumGrid([{}], one, grid([0, 4]), f32, false, 0, 0, range(0, 4, 4)), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => native.sumGrid([bytes], one, grid([0, 4]), f32, false, 0, 0, range(1, 4, 4)), 'ERR_INVALID_ARG_VALUE'); // buffers start at 8192k
    throwsCode(() => native.sumGrid([bytes], one, grid([0, 4]), f32, false, 0, 0, range(0, 5, 5)), 'ERR_INVALID_ARG_VALUE'); // past the grid
    throwsCode(() => native.sumGrid([bytes], one, grid([0, 4]), ELEM_CODES.int32, false, 0, 0, range(0, 4, 4)), 'ERR_INVALID_ARG_VALUE');
  });

  it('a closed Mapping, or one a getter closes while the sources are read, is ERR_CLOSED; nothing reads unmapped memory', function () {
    const { m, sources } = closingSources(tmp);
    throwsCode(() => native.sumGrid(sources, Float64Array.of(0, 0, 0, 4, 1, 0, 0, 4), grid([0, 4, 8]), f32, false, 0, 0, range(0, 8, 8)), 'ERR_CLOSED');
    throwsCode(() => native.sumGrid([m], one, grid([0, 4]), f32, false, 0, 0, range(0, 4, 4)), 'ERR_CLOSED');
  });
});

describe('native.reduceChunks(): many blocks in one call, bad blocks and hostile callers', function () {
  const tmp = useTmpDir();
  const { ELEM_CODES } = require('../dist/dtype');
  const { REDUCTIONS } = require('../dist/reduce');
  const f32 = ELEM_CODES.float32;
  const i64 = ELEM_CODES.int64;
  const op = (name) => REDUCTIONS.indexOf(name);
  const mapping = () => f32Mapping(tmp);
  // [source, swap, dstOffset, offset, ndim, shape..., strides...] per block.
  const blocks = (...list) => Float64Array.from(list.flat());

  it('reduces blocks of mappings and heap bytes (one byte-swapped) on several threads, each into its place', function () {
    const a = new Float32Array([1, 9, 3, 4]);
    const b = Buffer.alloc(16);
    [5, 6, 17, 8].forEach((x, i) => b.writeFloatBE(x, 4 * i));
    const m = mapping();
    const sources = [new Uint8Array(a.buffer), new Uint8Array(b.buffer, b.byteOffset, 16), m];
    // max along axis 1 of 2 x 2 views (kept axis 0): results 2 float32 per block.
    const desc = blocks([0, 0, 0, 0, 2, 2, 2, 8, 4], [1, 1, 8, 0, 2, 2, 2, 8, 4], [2, 0, 16, 32, 2, 2, 2, 16, 4], [2, 0, 24, 4, 2, 2, 2, 8, 8]);
    for (const threads of [1, 2, 4]) {
      const dst = new Uint8Array(32);
      native.reduceChunks(f32, 1, op('max'), f32, 0, threads, sources, desc, dst);
      assert.deepEqual(Array.from(new Float32Array(dst.buffer)), [9, 4, 6, 17, 9, 13, 3, 5], `${threads} threads`);
    }
    const args = new Uint8Array(16);
    native.reduceChunks(f32, 0, op('argmax'), i64, 0, 0, sources, blocks([0, 0, 0, 0, 1, 4, 4], [1, 1, 8, 0, 1, 4, 4]), args);
    assert.deepEqual(Array.from(new BigInt64Array(args.buffer)), [1n, 2n]);
    m.close();
  });

  it('refuses blocks outside their bytes (ERR_OUT_OF_RANGE), bad records and results past the destination (ERR_INVALID_ARG_VALUE)', function () {
    const bytes = new Uint8Array(16);
    const dst = new Uint8Array(8);
    const call = (desc, d = dst, sources = [bytes]) => native.reduceChunks(f32, 0, op('max'), f32, 0, 1, sources, desc, d);
    throwsCode(() => call(blocks([0, 0, 0, 4, 1, 4, 4])), 'ERR_OUT_OF_RANGE'); // past the heap bytes
    throwsCode(() => call(blocks([0, 0, 0, 0, 1, 5, 4])), 'ERR_OUT_OF_RANGE');
    throwsCode(() => call(blocks([0, 0, 0, 8, 1, 4, -4])), 'ERR_OUT_OF_RANGE'); // backwards from byte 8: 8, 4, 0, -4
    throwsCode(() => call(blocks([0, 0, 0, -4, 1, 4, 4])), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => call(blocks([1, 0, 0, 0, 1, 4, 4])), 'ERR_INVALID_ARG_VALUE'); // no such source
    throwsCode(() => call(blocks([0, 0, 6, 0, 1, 4, 4])), 'ERR_INVALID_ARG_VALUE'); // result past the destination
    throwsCode(() => call(blocks([0, 0, 0, 0, 1, 4, 4], [0, 0, 4, 0, 2, 2, 2, 8, 4])), 'ERR_INVALID_ARG_VALUE'); // two ndims
    throwsCode(() => call(Float64Array.of(0, 0, 0, 0, 1, 4)), 'ERR_INVALID_ARG_VALUE'); // not whole records
    throwsCode(() => call(blocks([0, 0, 0, 0.5, 1, 4, 4])), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => call(blocks([0, 0, 0, 0, 1, 4, 4]), dst, [{}]), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => call(blocks([0, 0, 0, 0, 1, 4, 4]), bytes.subarray(0, 4)), 'ERR_INVALID_ARG_VALUE'); // overlaps its source
    throwsCode(() => native.reduceChunks(f32, 2, op('max'), f32, 0, 1, [bytes], blocks([0, 0, 0, 0, 1, 4, 4]), dst), 'ERR_INVALID_ARG_VALUE'); // nkeep > ndim
    throwsCode(() => native.reduceChunks(f32, 0, op('min'), f32, 0, 1, [bytes], blocks([0, 0, 0, 0, 1, 0, 4]), dst), 'ERR_EMPTY_REDUCTION');
    // Nothing was written where a block failed.
    assert.deepEqual(Array.from(dst), [0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('a closed Mapping, or one a getter closes while the sources are read, is ERR_CLOSED; nothing reads unmapped memory', function () {
    const { m, sources } = closingSources(tmp);
    const desc = blocks([0, 0, 0, 0, 1, 4, 4], [1, 0, 4, 0, 1, 4, 4]);
    throwsCode(() => native.reduceChunks(f32, 0, op('max'), f32, 0, 2, sources, desc, new Uint8Array(8)), 'ERR_CLOSED');
    throwsCode(() => native.reduceChunks(f32, 0, op('max'), f32, 0, 2, [m], blocks([0, 0, 0, 0, 1, 4, 4]), new Uint8Array(4)), 'ERR_CLOSED');
  });
});

describe('ZarrArray reductions by chunk in batches (native.reduceChunks)', function () {
  this.timeout(120000);
  const tmp = useTmpDir();

  it("min/max/any/count_nonzero/integer sums and argmin/argmax: the in-memory array's results, in few native calls, within the store's bounds", function () {
    const shape = [70, 90];
    const values = Int32Array.from({ length: 70 * 90 }, (_, i) => ((i * 7919) % 1013) - 500);
    values[3333] = 600; // one largest and one smallest
    values[77] = -600;
    const layouts = [
      { name: 'v2-files', opts: { chunks: [7, 9], zarrFormat: 2 }, open: { maxMappings: 8 } }, // 100 chunk files
      { name: 'sharded', opts: { chunks: [7, 9], shards: [14, 18] }, open: {} },
      { name: 'zstd', opts: { chunks: [7, 9], compressor: 'zstd' }, open: { cacheBytes: 4096 } }, // a decoded chunk is 252 bytes
    ];
    const { native: n } = require('../dist/binding');
    const real = n.reduceChunks;
    let calls = 0;
    n.reduceChunks = (...a) => {
      calls++;
      return real(...a);
    };
    try {
      for (const l of layouts) {
        const dir = tmp.file(l.name);
        const w = createZarr(dir, { shape, dtype: 'int32', fillValue: 0, ...l.opts });
        w.write(values);
        w.close();
        const z = openZarr(dir, l.open);
        const m = z.view([1, 68, 2], [null, null, -1]);
        for (const a of [z, m]) {
          const mem = memoryOf(a.read(), a.shape);
          for (const [op, args] of [['max', []], ['min', [{ axis: 0 }]], ['any', [{ axis: 1 }]], ['countNonzero', []], ['sum', [{ axis: 0, dtype: 'int64' }]], ['argmax', []], ['argmin', []]]) {
            calls = 0;
            const got = a[op](...args);
            const want = mem[op](...args);
            assert.deepEqual(plainOf(got), plainOf(want), `${l.name} ${op}(${JSON.stringify(args)})`);
            assert.ok(calls >= 1, `${l.name} ${op}: reduceChunks ran`);
            // A batch takes at most half the files the store keeps mapped (v2: 100 files, 8 kept), and half the
            // decoded bytes it keeps (zstd: 252-byte chunks, 4096 kept); all 25 shards fit one.
            if (a === z && op === 'max') assert.ok(l.name === 'sharded' ? calls === 1 : calls >= 12, `${l.name}: ${calls} calls`);
          }
        }
        z.close();
      }
    } finally {
      n.reduceChunks = real;
    }
  });

  it('with the process at its mapping budget, and a bound of 4 files: no call finds a file closed, none maps more than 4', function () {
    const { setMappingsBudget, mappedFileCount } = require('../dist/zarr-chunks');
    const values = Float32Array.from({ length: 60 * 80 }, (_, i) => ((i * 7919) % 997) - 400);
    const layouts = [
      { name: 'b-v2', opts: { chunks: [3, 4], zarrFormat: 2 } }, // 400 chunk files
      { name: 'b-sharded', opts: { chunks: [3, 4], shards: [3, 8] } }, // 200 shard files
    ];
    const { native: n } = require('../dist/binding');
    const real = n.reduceChunks;
    let most = 0;
    n.reduceChunks = (...a) => {
      most = Math.max(most, mappedFileCount());
      return real(...a);
    };
    for (const l of layouts) {
      const dir = tmp.file(l.name);
      const w = createZarr(dir, { shape: [60, 80], dtype: 'float32', fillValue: 0, ...l.opts });
      w.write(values);
      w.close();
      const mem = memoryOf(values, [60, 80], 'float32');
      // A budget the process is past (other stores of this run may be open too), and one it is far from; the floor 64.
      for (const total of [4, 100000]) {
        const old = setMappingsBudget(total, 64);
        try {
          const base = mappedFileCount();
          const z = openZarr(dir, { maxMappings: 4 });
          most = base;
          for (const [op, args] of [['max', []], ['min', [{ axis: 0 }]], ['argmax', []], ['nanargmin', [{}]], ['any', [{ axis: 1 }]]]) {
            assert.deepEqual(plainOf(z[op](...args)), plainOf(mem[op](...args)), `${l.name} ${op} budget ${total}`);
          }
          assert.ok(most - base <= 4, `${l.name}: ${most - base} files of the store mapped during a call`);
          z.close();
        } finally {
          setMappingsBudget(...old);
        }
      }
      mem.close();
    }
    n.reduceChunks = real;
  });

  /** The values as an in-memory MemmapArray (memmap of a temp file of them). */
  function memoryOf(typed, shape, dtype = 'int32') {
    const file = tmp.file(`mem${Math.random()}.bin`);
    fs.writeFileSync(file, Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength));
    return memmap(file, { dtype, shape });
  }

  function plainOf(r) {
    if (r !== null && typeof r === 'object' && typeof r.read === 'function') return { shape: [...r.shape], values: Array.from(r.read(), String) };
    return typeof r === 'bigint' ? `${r}n` : r;
  }
});
