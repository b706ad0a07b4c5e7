'use strict';
// openZarr()'s cache bounds: maxMappings (chunk files kept mapped, and a budget for the whole process) and cacheBytes
// (decoded chunks kept). Values stay right at every bound; what is mapped or decoded is counted.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { createZarr, openZarr, memmap, MemmapRangeError, MemmapTypeError } = require('..');
const { mappedFileCount, setMappingsBudget, MAPPINGS_BUDGET, MAX_MAPPINGS, MAX_DECODED_BYTES } = require('../dist/zarr-chunks');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');

describe('openZarr() cache bounds: maxMappings and cacheBytes', function () {
  this.timeout(120000);
  const tmp = useTmpDir();

  // Runs `before()` ahead of each call of obj[name] (each of `names`) until the returned function restores them.
  function spy(obj, names, before) {
    const original = Object.fromEntries(names.map((name) => [name, obj[name]]));
    for (const name of names) {
      obj[name] = (...args) => {
        before();
        return original[name](...args);
      };
    }
    return () => Object.assign(obj, original);
  }

  // A v2 store of `rows` chunk files (one row each) and the same values as a C-order file.
  function store(name, rows, cols, opts = {}) {
    const dir = tmp.file(name);
    const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.3) * 100 + (i % 7) * 0.25);
    const z = createZarr(dir, { shape: [rows, cols], dtype: 'float32', chunks: [1, cols], zarrFormat: 2, ...opts });
    z.write(values);
    z.close();
    fs.writeFileSync(tmp.file(`${name}.raw`), Buffer.from(values.buffer));
    const flat = memmap(tmp.file(`${name}.raw`), { dtype: 'float32', shape: [rows, cols] });
    return { dir, flat };
  }

  it('defaults: 1024 mappings, 64 MiB of decoded chunks, 32768 mappings in the process', function () {
    assert.equal(MAX_MAPPINGS, 1024);
    assert.equal(MAX_DECODED_BYTES, 64 * 2 ** 20);
    assert.equal(MAPPINGS_BUDGET, 32768);
  });

  it('bad values: ERR_INVALID_ARG_TYPE for a non-number, ERR_INVALID_ARG_VALUE outside the range or not an integer', function () {
    const { dir, flat } = store('bad', 2, 4);
    for (const bad of ['8', 8n, null, {}]) {
      throwsCode(() => openZarr(dir, { maxMappings: bad }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
      throwsCode(() => openZarr(dir, { cacheBytes: bad }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
    }
    for (const bad of [0, -1, 1.5, NaN, Infinity, MAPPINGS_BUDGET + 1]) throwsCode(() => openZarr(dir, { maxMappings: bad }), 'ERR_INVALID_ARG_VALUE', MemmapRangeError);
    for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 53]) throwsCode(() => openZarr(dir, { cacheBytes: bad }), 'ERR_INVALID_ARG_VALUE', MemmapRangeError);
    for (const ok of [{ maxMappings: 1 }, { maxMappings: MAPPINGS_BUDGET }, { cacheBytes: 0 }, { cacheBytes: 2 ** 53 - 1 }]) {
      const a = openZarr(dir, ok);
      assert.equal(a.sum(), flat.sum());
      a.close();
    }
    flat.close();
  });

  it('maxMappings: a store keeps at most that many chunk files mapped, and every read still gives the values', function () {
    const { dir, flat } = store('mappings', 40, 300);
    const base = mappedFileCount();
    for (const maxMappings of [1, 3, 8, 40]) {
      const a = openZarr(dir, { maxMappings });
      const got = [a.sum(), a.var(), a.sum(null, [2, 290, 3]), a.mean(1), a.read([3, 37], [5, 9])];
      const want = [flat.sum(), flat.var(), flat.sum(null, [2, 290, 3]), flat.mean(1), flat.read([3, 37], [5, 9])];
      assert.deepEqual(got, want, `maxMappings ${maxMappings}`);
      assert.equal(mappedFileCount() - base, maxMappings, `maxMappings ${maxMappings}: files mapped after the reads`);
      a.close();
      assert.equal(mappedFileCount(), base);
    }
    flat.close();
  });

  it('by default a store of 100 files keeps them all mapped: a second scan maps nothing again', function () {
    const { dir, flat } = store('hundred', 100, 64);
    const base = mappedFileCount();
    const a = openZarr(dir);
    assert.equal(a.sum(), flat.sum());
    assert.equal(mappedFileCount() - base, 100);
    assert.equal(a.sum(), flat.sum());
    assert.equal(mappedFileCount() - base, 100);
    a.close();
    assert.equal(mappedFileCount(), base);
    flat.close();
  });

  it('the process-wide budget: past it a store unmaps its own oldest files, down to its floor', function () {
    const one = store('budget-a', 40, 16);
    const two = store('budget-b', 30, 16);
    const base = mappedFileCount();
    const old = setMappingsBudget(base + 38, 4);
    try {
      const a = openZarr(one.dir, { maxMappings: 40 });
      const b = openZarr(two.dir);
      // A call keeps every file it reads mapped until it has run; then a store past the budget unmaps its oldest.
      assert.equal(a.sum(), one.flat.sum());
      assert.equal(mappedFileCount() - base, 38);
      // b, with the process already at its budget, keeps its floor of 4 files.
      assert.equal(b.sum(), two.flat.sum());
      assert.equal(mappedFileCount() - base, 42);
      assert.deepEqual(b.read([25, 30], [3, 9]), two.flat.read([25, 30], [3, 9]));
      assert.equal(mappedFileCount() - base, 42);
      a.close();
      b.close();
      assert.equal(mappedFileCount(), base);
    } finally {
      setMappingsBudget(...old);
      one.flat.close();
      two.flat.close();
    }
  });

  it('every call at every bound, after a get() (the file it left most recently used): the values, never ERR_CLOSED', async function () {
    const { native } = require('../dist/binding');
    const kinds = [
      ['raw-v2', { chunks: [1, 24], zarrFormat: 2 }],
      ['gzip-v2', { chunks: [1, 24], zarrFormat: 2, compressor: 'gzip' }],
      ['raw-v3', { chunks: [1, 8], shards: [1, 24] }],
      ['gzip-v3', { chunks: [1, 8], shards: [1, 24], compressor: 'gzip' }],
    ];
    const rows = [0, 1, 2, 3];
    const cols = [0, 20, 40, 60];
    for (const [name, opts] of kinds) {
      const dir = tmp.file(`calls-${name}`);
      const values = Float32Array.from({ length: 4 * 72 }, (_, i) => Math.cos(i * 0.9) * 10 + (i % 3) * 0.125);
      const z = createZarr(dir, { shape: [4, 72], dtype: 'float32', ...opts });
      z.write(values);
      z.close();
      const flat = (i, j) => values[i * 72 + j];
      let kernel = 0;
      const restore = spy(native, ['sumGrid'], () => kernel++);
      try {
        for (const maxMappings of [1, 2, 3, 1024]) {
          for (const cacheBytes of [0, 96, 144, 2 ** 26]) {
            const a = openZarr(dir, { maxMappings, cacheBytes });
            const what = `${name} maxMappings ${maxMappings} cacheBytes ${cacheBytes}`;
            const want = values.reduce((x, y) => x + y, 0);
            assert.equal(a.get(0, 0), flat(0, 0));
            assert.deepEqual([...a.gather(rows, cols)], rows.map((i, k) => flat(i, cols[k])), what);
            a.get(3, 71);
            kernel = 0;
            assert.ok(Math.abs(a.sum() - want) < 1e-3, what);
            assert.ok(kernel > 0, `${what}: the sum ran in the kernel`);
            assert.equal(a.max(), Math.max(...values), what);
            a.get(0, 0);
            assert.deepEqual([...a.read()], [...values], what);
            a.get(1, 30);
            assert.deepEqual([...(await a.readAsync())], [...values], what);
            assert.deepEqual([...(await a.gatherAsync(rows, cols))], rows.map((i, k) => flat(i, cols[k])), what);
            assert.equal(await a.sumAsync(), a.sum(), what);
            assert.ok(a.openMappings <= Math.max(maxMappings, 1), `${what}: ${a.openMappings} mapped after the calls`);
            a.close();
          }
        }
      } finally {
        restore();
      }
    }
  });

  it('a walk over more files than the process may map lets its hold go: the sum is right, the files stay bounded', function () {
    const { dir, flat } = store('wide', 1, 80 * 4, { chunks: [1, 4] }); // 80 files across one row
    const base = mappedFileCount();
    const old = setMappingsBudget(base + 50, 4);
    const { native } = require('../dist/binding');
    let most = 0;
    const restore = spy(native, ['sumGrid', 'copyChunks'], () => (most = Math.max(most, mappedFileCount() - base)));
    try {
      const a = openZarr(dir, { maxMappings: 64 });
      assert.equal(a.sum(), flat.sum());
      assert.deepEqual(a.read(), flat.read());
      assert.ok(most > 0 && most <= 51, `${most} files mapped at a native call`);
      a.close();
    } finally {
      restore();
      setMappingsBudget(...old);
      flat.close();
    }
  });

  it('a copy over missing chunk files and a process past its budget: the values (missing files hold nothing)', function () {
    const { dir, flat } = store('sparse', 80, 16);
    for (let i = 1; i <= 70; i++) fs.unlinkSync(`${dir}/${i}.0`);
    const values = flat.read();
    values.fill(0, 16, 71 * 16); // the fill value
    const old = setMappingsBudget(mappedFileCount(), 64);
    try {
      const a = openZarr(dir);
      assert.deepEqual(a.read(), values);
      assert.equal(a.sum(), values.reduce((x, y) => x + y, 0));
      assert.equal(a.max(), Math.max(...values));
      a.close();
    } finally {
      setMappingsBudget(...old);
      flat.close();
    }
  });

  it('a compressed copy keeps its decoded chunks, not the files they came from: the store stays at maxMappings', function () {
    const { native } = require('../dist/binding');
    const { dir, flat } = store('zlib-many', 600, 8, { compressor: 'zlib' });
    const base = mappedFileCount();
    let most = 0;
    const restore = spy(native, ['copyChunks'], () => (most = Math.max(most, mappedFileCount() - base)));
    try {
      const a = openZarr(dir, { maxMappings: 4 });
      assert.deepEqual(a.read(), flat.read());
      assert.ok(most > 0 && most <= 4, `${most} files mapped at a copy`);
      a.close();
      assert.equal(mappedFileCount(), base);
    } finally {
      restore();
      flat.close();
    }
  });

  it('more shards than the store keeps, walked by max() (a read-ahead over many files): the values', function () {
    // 1100 shards of two 1 x 1 chunks: the read-ahead of the block walk locates more than maxMappings files at once.
    const { dir, flat } = store('many-shards', 1, 2200, { chunks: [1, 1], shards: [1, 2], zarrFormat: 3 });
    for (const maxMappings of [undefined, 8]) {
      const a = openZarr(dir, { maxMappings });
      assert.deepEqual([a.max(), a.argmin(), a.sum(null, [3, 2100, 7])], [flat.max(), flat.argmin(), flat.sum(null, [3, 2100, 7])]);
      a.close();
    }
    flat.close();
  });

  it('cacheBytes: decoded chunks are kept up to it (0: none), and values stay right', function () {
    const { dir, flat } = store('gzip', 12, 1024, { compressor: 'gzip' });
    let decodes = 0;
    const restore = spy(zlib, ['gunzipSync'], () => decodes++);
    try {
      const scans = (options) => {
        const a = openZarr(dir, options);
        const counts = [];
        for (let k = 0; k < 2; k++) {
          decodes = 0;
          assert.equal(a.sum(), flat.sum());
          counts.push(decodes);
        }
        assert.deepEqual(a.read([2, 5]), flat.read([2, 5]));
        a.close();
        return counts;
      };
      assert.deepEqual(scans(undefined), [12, 0]);
      assert.deepEqual(scans({ cacheBytes: 0 }), [12, 12]);
      assert.deepEqual(scans({ cacheBytes: 12 * 4096 }), [12, 0]);
      // Room for 5 chunks: a scan in order evicts each before it comes round again.
      assert.deepEqual(scans({ cacheBytes: 5 * 4096 }), [12, 12]);
    } finally {
      restore();
      flat.close();
    }
  });
});
