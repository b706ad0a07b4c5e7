'use strict';
// Chunked reads read only what they touch: chunk mappings are advised random
// (no read-ahead into other chunks) and a read prefetches exactly the byte
// ranges it touches (lib/zarr-prefetch.ts). Unit tests of the range
// computation, then residency after cold reads of a real sharded store.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { createZarr, openZarr, evict, MemmapError } = require('..');
const { coalesce, blockExtent, ReadAhead, AHEAD_BYTES, AHEAD_FILES } = require('../dist/zarr-prefetch');
const { native } = require('../dist/binding');
const { useTmpDir } = require('./helpers/tmp');
const { skipOnWindows } = require('./helpers/platform');

const PAGE = 4096;

describe('zarr prefetch: touched ranges', function () {
  it('coalesce sorts, drops empty ranges and merges ranges whose pages touch', function () {
    assert.deepEqual([...coalesce([], PAGE)], []);
    assert.deepEqual([...coalesce([8192, 100, 0, 10, 50, 0], PAGE)], [0, 10, 8192, 100]);
    // 0..10 and 4000..4100 share page 0; 4100..8192 ends where page 2 starts: one range.
    assert.deepEqual([...coalesce([4000, 100, 0, 10, 4100, 4092, 8192, 1], PAGE)], [0, 8193]);
    // A whole free page between them: two ranges.
    assert.deepEqual([...coalesce([0, 4096, 8192, 4096], PAGE)], [0, 4096, 8192, 4096]);
    // Overlapping and contained ranges.
    assert.deepEqual([...coalesce([0, 10000, 100, 50, 9000, 3000], PAGE)], [0, 12000]);
  });

  it('blockExtent: a row, a column and a block of a 256 x 256 float32 chunk (C and F layout)', function () {
    const C = [256, 1];
    const F = [1, 256];
    const all = (inner, n, step = 1) => ({ chunk: 0, inner, n, step });
    // Row 10 of a C-order chunk at byte 1000: 1 KiB.
    assert.deepEqual(blockExtent(1000, C, [all(10, 1), all(0, 256)], 4), [1000 + 10 * 1024, 1000 + 11 * 1024]);
    // Column 5: from row 0 to row 255, one element each.
    assert.deepEqual(blockExtent(0, C, [all(0, 256), all(5, 1)], 4), [20, 255 * 1024 + 24]);
    // The same column of an F-order chunk is contiguous.
    assert.deepEqual(blockExtent(0, F, [all(0, 256), all(5, 1)], 4), [5 * 1024, 6 * 1024]);
    // The whole chunk; a reversed run (negative step) covers the same bytes.
    assert.deepEqual(blockExtent(0, C, [all(0, 256), all(0, 256)], 4), [0, 256 * 1024]);
    assert.deepEqual(blockExtent(0, C, [all(255, 256, -1), all(0, 256)], 4), [0, 256 * 1024]);
  });

  /** A walk over fake chunks: every chunk stored in place in one file, C order, 64 KiB apart. */
  function fakeWalk(runs, { sharded = true, chunkBytes = 65536, inPlace = true } = {}) {
    const calls = [];
    const storages = new Map();
    const storageOf = (file) => {
      if (!storages.has(file)) storages.set(file, { willneed: (r) => calls.push({ file, ranges: [...r] }) });
      return storages.get(file);
    };
    const located = [];
    const locate = (coords) => {
      located.push(coords.join(','));
      const k = coords[0] * 100 + coords[1];
      const file = sharded ? 0 : k;
      return { storage: storageOf(file), start: sharded ? k * chunkBytes : 0, length: chunkBytes, strides: inPlace ? [128, 1] : null };
    };
    return { calls, located, ra: new ReadAhead(locate, runs, 4, PAGE, sharded) };
  }

  it('ReadAhead requests each chunk once, in walk order, only the bytes the block touches', function () {
    // Rows 0..127 of column 3 in chunks (0..3, 0): a column through 4 chunks of 128 x 128 float32.
    const axis0 = [0, 1, 2, 3].map((c) => ({ chunk: c, inner: 0, n: 128, step: 1 }));
    const axis1 = [{ chunk: 0, inner: 3, n: 1, step: 1 }];
    const { calls, located, ra } = fakeWalk([axis0, axis1]);
    for (let k = 0; k < 4; k++) ra.next();
    assert.deepEqual(located, ['0,0', '1,0', '2,0', '3,0']);
    assert.equal(calls.length, 1, 'one request for the whole (small) walk');
    const want = [];
    for (let c = 0; c < 4; c++) want.push(c * 100 * 65536 + 12, 127 * 512 + 4);
    assert.deepEqual(calls[0].ranges, [...coalesce(want, PAGE)]);
  });

  it('ReadAhead keeps a window: a long walk is requested in parts, each part ahead of its copy', function () {
    const chunkBytes = 4 * 2 ** 20;
    const n = (4 * AHEAD_BYTES) / chunkBytes;
    const axis0 = Array.from({ length: n }, (_, c) => ({ chunk: c, inner: 0, n: 1024, step: 1 }));
    const axis1 = [{ chunk: 0, inner: 0, n: 1024, step: 1 }];
    const { calls, located, ra } = fakeWalk([axis0, axis1], { chunkBytes, inPlace: false });
    ra.next();
    assert.equal(located.length, AHEAD_BYTES / chunkBytes, 'the first request covers one window');
    for (let k = 1; k < n; k++) {
      ra.next();
      assert.ok(located.length > k, `chunk ${k} was requested before its copy`);
      assert.ok(located.length - k <= AHEAD_BYTES / chunkBytes, `at most one window ahead at chunk ${k}`);
    }
    assert.equal(located.length, n);
    assert.ok(calls.length > 2 && calls.length < n, `${calls.length} requests for ${n} chunks`);
    // Encoded chunks (strides null) are requested whole: one range per chunk (they lie 100 chunks apart here).
    const first = [];
    for (let c = 0; c < AHEAD_BYTES / chunkBytes; c++) first.push(c * 100 * chunkBytes, chunkBytes);
    assert.deepEqual(calls[0].ranges, first);
  });

  it('ReadAhead on unsharded stores requests at most AHEAD_FILES chunk files ahead', function () {
    const axis0 = Array.from({ length: 100 }, (_, c) => ({ chunk: c, inner: 0, n: 1, step: 1 }));
    const axis1 = [{ chunk: 0, inner: 0, n: 1, step: 1 }];
    const { located, ra } = fakeWalk([axis0, axis1], { sharded: false });
    for (let k = 0; k < 100; k++) {
      ra.next();
      assert.ok(located.length - k <= AHEAD_FILES, `at most ${AHEAD_FILES} files ahead at chunk ${k}`);
    }
    assert.equal(located.length, 100);
  });
});

describe('zarr prefetch: native willneed', function () {
  const tmp = useTmpDir();
  const open = (file) => {
    const opened = native.openFile(file, native.tables.modes.r);
    try {
      return new native.Mapping(opened[0], native.tables.modes.r, 0, opened[1], 0);
    } finally {
      native.closeFile(opened[0]);
    }
  };

  it('reads exactly the ranges asked for (Linux: residency after eviction), clips ranges past the end', function () {
    skipOnWindows(this, 'evict() cannot drop cached pages there and residency() is the working set');
    const file = tmp.file('w.bin');
    fs.writeFileSync(file, Buffer.alloc(64 * PAGE, 7));
    evict(file);
    const m = open(file);
    try {
      m.advise(native.tables.advice.random);
      assert.equal(m.residency().reduce((s, x) => s + x, 0), 0, 'evicted');
      m.willneed(Float64Array.of(PAGE * 3 + 5, 10, PAGE * 10, PAGE * 2, PAGE * 63, 1e9, 1e12, 5));
      // madvise WILLNEED starts the reads; a second residency() a moment later sees them.
      let res;
      for (let k = 0; k < 100; k++) {
        res = [...m.residency()];
        if (res.filter(Boolean).length >= 4) break;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
      const resident = res.flatMap((x, p) => (x ? [p] : []));
      assert.deepEqual(resident, [3, 10, 11, 63]);
    } finally {
      m.close();
    }
  });

  it('refuses what is not [start, length] pairs of non-negative integers; ERR_CLOSED after close', function () {
    const file = tmp.file('x.bin');
    fs.writeFileSync(file, Buffer.alloc(PAGE));
    const m = open(file);
    const bad = (err) => err instanceof MemmapError && err.code === 'ERR_INVALID_ARG_VALUE';
    assert.throws(() => m.willneed([0, 1]), bad);
    assert.throws(() => m.willneed(Float64Array.of(0)), bad);
    assert.throws(() => m.willneed(Float64Array.of(-1, 1)), bad);
    assert.throws(() => m.willneed(Float64Array.of(0.5, 1)), bad);
    m.willneed(new Float64Array(0));
    m.close();
    assert.throws(() => m.willneed(Float64Array.of(0, 1)), (err) => err instanceof MemmapError && err.code === 'ERR_CLOSED');
  });
});

describe('zarr prefetch: cold reads of a sharded store read only the chunks they touch', function () {
  const tmp = useTmpDir();
  // 2048 x 2048 float32, chunks 128 x 128 (64 KiB), shards 1024 x 1024 (4 MiB, 64 chunks): 16 x 16 chunks.
  const N = 2048;
  const CH = 128;
  let dir;
  before(function () {
    dir = tmp.file('a.zarr');
    const z = createZarr(dir, { shape: [N, N], dtype: 'float32', chunks: [CH, CH], shards: [1024, 1024] });
    const band = new Float32Array(CH * N);
    for (let r = 0; r < N; r += CH) {
      for (let k = 0; k < band.length; k++) band[k] = (r * N + k) % 1021;
      z.write([r, r + CH], null, band);
    }
    z.close();
  });
  const shardFiles = () => fs.readdirSync(path.join(dir, 'c'), { recursive: true }).map((f) => path.join(dir, 'c', f)).filter((f) => fs.statSync(f).isFile());
  const cold = () => {
    for (const f of shardFiles()) evict(f);
  };
  /** Grid positions (i, j) of the chunks with any byte resident. */
  const residentChunks = (z) => {
    const r = z.residency();
    const out = [];
    for (let k = 0; k < r.chunks.length; k++) if (r.chunks[k] > 0) out.push(`${Math.floor(k / r.grid[1])},${k % r.grid[1]}`);
    return out;
  };
  const grid = N / CH;

  for (const [what, read, touched] of [
    ['a column', (z) => z.read(null, 700), (i, j) => j === Math.floor(700 / CH)],
    ['a row', (z) => z.read(1500), (i) => i === Math.floor(1500 / CH)],
    ['a block across 4 chunks', (z) => z.read([100, 200], [1000, 1100]), (i, j) => (i === 0 || i === 1) && (j === 7 || j === 8)],
    ['a gather of 3 points', (z) => z.gather([5, 1030, 2000], [5, 1030, 40]), (i, j) => ['0,0', '8,8', '15,0'].includes(`${i},${j}`)],
    ['a sum along axis 0 of a column band', (z) => z.sum([0, N], [256, 260], { axis: 0 }), (i, j) => j === 2],
  ]) {
    it(`${what}: the chunks it touches are resident after a cold read, no other chunk is`, function () {
      skipOnWindows(this, 'evict() cannot drop cached pages there and residency() is the working set');
      cold();
      const z = openZarr(dir);
      try {
        assert.deepEqual(residentChunks(z), [], 'cold');
        read(z);
        const want = [];
        for (let i = 0; i < grid; i++) for (let j = 0; j < grid; j++) if (touched(i, j)) want.push(`${i},${j}`);
        assert.deepEqual(residentChunks(z), want);
      } finally {
        z.close();
      }
    });
  }

  it('the values read are right (against the formula written)', function () {
    const z = openZarr(dir);
    try {
      const col = z.read(null, 700);
      for (let i = 0; i < N; i++) assert.equal(col[i], (i * N + 700) % 1021, `row ${i}`);
      assert.deepEqual([...z.gather([5, 1030], [5, 1030])], [(5 * N + 5) % 1021, (1030 * N + 1030) % 1021]);
    } finally {
      z.close();
    }
  });

  it("advise('normal') lets the kernel's read-ahead in again (what the default 'random' prevents)", function () {
    skipOnWindows(this, 'evict() cannot drop cached pages there and residency() is the working set');
    cold();
    const z = openZarr(dir);
    try {
      // get() faults one page in without a prefetch: with 'random', that page alone.
      assert.equal(z.get(1500, 700), (1500 * N + 700) % 1021);
      assert.equal(z.residency().residentBytes, PAGE);
      // With 'normal' (for mappings made later too), a fault in another shard reads around it (read_ahead_kb, at
      // least 128 KiB on Linux by default).
      z.advise('normal');
      assert.equal(z.get(300, 100), (300 * N + 100) % 1021);
      const r = z.residency();
      assert.ok(r.residentBytes >= 8 * PAGE, `read-ahead read ${r.residentBytes} bytes`);
    } finally {
      z.close();
    }
  });

  it('advise() checks its argument (ERR_INVALID_ADVICE) and throws ERR_CLOSED after close', function () {
    const z = openZarr(dir);
    assert.throws(() => z.advise('bogus'), (err) => err instanceof MemmapError && err.code === 'ERR_INVALID_ADVICE');
    assert.throws(() => z.advise(2), (err) => err instanceof MemmapError && err.code === 'ERR_INVALID_ADVICE');
    z.advise('sequential');
    z.advise('willneed');
    z.advise('random');
    z.close();
    assert.throws(() => z.advise('random'), (err) => err instanceof MemmapError && err.code === 'ERR_CLOSED');
  });
});
