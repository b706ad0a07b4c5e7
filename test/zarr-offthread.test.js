'use strict';
// Large async calls of a ZarrArray run whole on a worker thread (lib/zarr-offthread.ts): the same results and errors
// as the sync calls, writes seen, close and abort meanwhile, a thread that dies, small calls left where they were.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { createZarr, openZarr, MemmapError, MemmapRangeError, MemmapTypeError } = require('..');
const { offThreadForTests } = require('../dist/zarr-offthread');
const { useTmpDir } = require('./helpers/tmp');

const calls = () => offThreadForTests.state().calls;

/** A plain, comparable form of a result: numbers, bigints, {re, im}, TypedArrays and arrays of results. */
function plain(r) {
  if (r !== null && typeof r === 'object' && typeof r.read === 'function' && r.shape) return { shape: [...r.shape], dtype: r.dtype, values: plain(r.read()) };
  if (ArrayBuffer.isView(r)) return { type: r.constructor.name, values: Array.from(r, (x) => (typeof x === 'bigint' ? `${x}n` : Object.is(x, -0) ? '-0' : x)) };
  if (typeof r === 'bigint') return `${r}n`;
  return r;
}

/** What fn() gives or throws: its plain result, or the error's class and code. */
async function outcome(fn) {
  try {
    return { value: plain(await fn()) };
  } catch (err) {
    return { error: err instanceof MemmapError ? [err.name, err.code] : `not a MemmapError: ${err}` };
  }
}

describe('ZarrArray async calls on the worker thread', function () {
  this.timeout(120000);
  const tmp = useTmpDir();
  let oldBytes;
  before(function () {
    oldBytes = offThreadForTests.setBytes(0); // every call goes to the thread unless it cannot
  });
  after(function () {
    offThreadForTests.setBytes(oldBytes);
  });

  function store(name, opts, values) {
    const dir = tmp.file(name);
    const z = createZarr(dir, opts);
    if (typeof values === 'function') values(z);
    else if (values) z.write(values);
    z.close();
    return dir;
  }

  it("every reduction and read: the sync call's result, bit for bit, and it ran on the thread", async function () {
    const layouts = [
      { name: 'f4-sharded', opts: { shape: [37, 50, 9], dtype: 'float32', chunks: [8, 16, 4], shards: [16, 32, 8], fillValue: 0.5 } },
      { name: 'f8-gzip-v2', opts: { shape: [37, 50, 9], dtype: '>f8', chunks: [10, 20, 9], compressor: 'gzip', zarrFormat: 2, fillValue: 0 } },
      { name: 'i2-zstd', opts: { shape: [37, 50, 9], dtype: 'int16', chunks: [16, 16, 16], compressor: 'zstd', fillValue: -3 } },
      { name: 'c8', opts: { shape: [37, 50, 9], dtype: 'complex64', chunks: [8, 25, 9], fillValue: 0 } },
    ];
    const n = 37 * 50 * 9;
    for (const l of layouts) {
      const complex = l.opts.dtype.startsWith('complex');
      const T = { float32: Float32Array, '>f8': Float64Array, int16: Int16Array, complex64: Float32Array }[l.opts.dtype];
      const values = T.from({ length: n * (complex ? 2 : 1) }, (_, i) => (i % 97 === 0 ? (T === Int16Array ? 0 : NaN) : Math.sin(i * 0.3) * 300));
      // Rows 30 on are never written: their chunks read as the fill value.
      const z = openZarr(store(l.name, l.opts, (w) => w.write([0, 30], values.subarray(0, 30 * 50 * 9 * (complex ? 2 : 1)))));
      const v = z.view([2, 35], null, [null, null, -2]);
      const cases = [
        ['read', []],
        ['read', [[3, -1, 2], 7]],
        ['sum', []],
        ['sum', [{ axis: 0 }]],
        ['sum', [[1, 30], { axis: [1, 2], keepdims: true }]],
        ['mean', [{ axis: 2, dtype: 'float64' }]],
        ['var', [{ ddof: 1 }]],
        ['std', [{ axis: 1 }]],
        ['min', [{ axis: 1 }]],
        ['max', []],
        ['argmin', [{ axis: 2 }]],
        ['argmax', []],
        ['nansum', [{ axis: 0 }]],
        ['nanmax', []],
        ['nanargmin', []],
        ['any', [{ axis: 0 }]],
        ['all', []],
        ['countNonzero', [{ axis: 1 }]],
        ['prod', [[0, 2], 0, [0, 3]]],
      ];
      for (const a of [z, v]) {
        for (const [m, args] of cases) {
          if (complex && /arg|min|max/.test(m)) continue;
          const want = await outcome(() => a[m](...args));
          const before = calls();
          const got = await outcome(() => a[`${m}Async`](...args));
          assert.deepEqual(got, want, `${l.name} ${a === v ? 'view' : 'array'} ${m}(${JSON.stringify(args)})`);
          if (want.value !== undefined) assert.equal(calls(), before + 1, `${l.name} ${m}: ran on the thread`);
        }
      }
      z.close();
    }
  });

  it("errors: the sync call's class and code (also an OS error's fields, and a bad chunk's checksum)", async function () {
    const dir = store('err', { shape: [64, 64], dtype: 'float32', chunks: [16, 16], shards: [32, 32] }, new Float32Array(64 * 64).fill(1));
    const z = openZarr(dir);
    for (const [m, args] of [
      ['sum', [{ axis: 2 }]],
      ['sum', [{ dtype: 'not a dtype' }]],
      ['argmax', [{ axis: [0, 1] }]],
      ['min', [[70, 80]]],
      ['max', [{ axis: [0, 0] }]],
      ['mean', [{ bogus: 1 }]],
      ['sum', [{ axis: 0, bogus: () => 1 }]], // not cloneable: runs here, throws here
    ]) {
      const want = await outcome(() => z[m](...args));
      assert.ok(want.error, `${m}(${JSON.stringify(args)}) throws`);
      assert.deepEqual(await outcome(() => z[`${m}Async`](...args)), want, `${m}Async(${JSON.stringify(args)})`);
    }
    // A shard whose index checksum is wrong: ERR_CHECKSUM from the thread, as here.
    const shard = path.join(dir, 'c', '1', '1');
    const bytes = fs.readFileSync(shard);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(shard, bytes);
    const y = openZarr(dir);
    const before = calls();
    const err = await y.sumAsync().then(() => assert.fail('resolved'), (e) => e);
    assert.ok(err instanceof MemmapError && err.code === 'ERR_CHECKSUM', `got ${err.code}`);
    assert.equal(calls(), before);
    assert.equal(offThreadForTests.state().died, 0);
    z.close();
    y.close();
    assert.ok(MemmapRangeError && MemmapTypeError);
  });

  it('writes made before the call are seen: raw in place, a new chunk, compressed ones written or still in memory', async function () {
    for (const compressor of [null, 'zstd']) {
      const dir = store(`w-${compressor}`, { shape: [40, 40], dtype: 'float64', chunks: [10, 10], shards: [20, 20], compressor, fillValue: 0 }, null);
      const z = openZarr(dir, { mode: 'r+' });
      z.write([0, 10], null, new Float64Array(400).fill(1)); // chunks a first call has not seen yet
      if (compressor) z.flush();
      assert.equal(await z.sumAsync(), 400);
      z.write([30, 40], [30, 40], new Float64Array(100).fill(2)); // a chunk never written before
      z.set(0, 0, 5);
      const before = calls();
      assert.equal(await z.sumAsync(), 400 + 200 + 4);
      // Compressed chunks changed in memory (not written yet) are read here, where they are; after flush() there.
      assert.equal(calls(), compressor ? before : before + 1);
      z.flush();
      assert.deepEqual(Array.from((await z.sumAsync({ axis: 0 })).read().subarray(0, 2)), [14, 10]);
      assert.equal(calls(), compressor ? before + 1 : before + 2);
      z.close();
    }
  });

  it('a write from this thread while the thread reads: the call runs again here, after it (never a mix of old and new)', async function () {
    const dir = store('torn', { shape: [512, 512], dtype: 'float32', chunks: [64, 64], shards: [256, 256] }, new Float32Array(512 * 512).fill(1));
    const z = openZarr(dir, { mode: 'r+' });
    for (let k = 0; k < 3; k++) {
      const p = z.readAsync();
      const q = z.sumAsync({ axis: 0 });
      z.fill(k + 2);
      const values = await p;
      assert.ok(values.every((x) => x === k + 2), `read ${k}: all new`);
      assert.ok((await q).read().every((x) => x === (k + 2) * 512), `sum ${k}: all new`);
    }
    z.close();
  });

  it('another opening writes the store, or its metadata changes on disk: each call reads the store as it is then', async function () {
    const dir = store('ext', { shape: [64, 64], dtype: 'int32', chunks: [16, 16], shards: [32, 32], fillValue: 0 }, (w) => w.write([0, 16], null, new Int32Array(16 * 64).fill(1)));
    const a = openZarr(dir);
    assert.equal(await a.sumAsync(), 1024);
    const b = openZarr(dir, { mode: 'r+' });
    b.write([40, 56], [40, 56], new Int32Array(256).fill(3)); // a shard no file held before
    b.set(0, 0, 11);
    b.close();
    let before = calls();
    assert.equal(await a.sumAsync(), 1024 + 768 + 10);
    assert.equal(calls(), before + 1);
    // The array's directory moved away: the thread cannot open it, the call runs here (as the sync one does).
    fs.renameSync(dir, `${dir}-moved`);
    before = calls();
    assert.deepEqual(await outcome(() => a.sumAsync()), await outcome(() => a.sum()));
    assert.equal(calls(), before);
    fs.renameSync(`${dir}-moved`, dir);
    // Another fill value in the metadata on disk: not this array any more, the call runs here.
    const meta = path.join(dir, 'zarr.json');
    const doc = JSON.parse(fs.readFileSync(meta, 'utf8'));
    doc.fill_value = 5;
    fs.writeFileSync(meta, JSON.stringify(doc));
    before = calls();
    assert.deepEqual(await outcome(() => a.sumAsync()), await outcome(() => a.sum()));
    assert.equal(calls(), before);
    a.close();
  });

  it('a write reaching the disk during a call through flush(), or through another spelling of the path: the call runs again here', async function () {
    const dir = store('fl', { shape: [512, 512], dtype: 'float32', chunks: [64, 64], compressor: 'zstd' }, new Float32Array(512 * 512).fill(1));
    const link = `${dir}-link`;
    const vias = [dir];
    try {
      fs.symlinkSync(dir, link, 'junction'); // (Windows: a junction needs no privilege)
      vias.push(link);
    } catch {
      // no links here: the path only
    }
    for (const via of vias) {
      const w = openZarr(dir, { mode: 'r+', cacheBytes: 64 * 2 ** 20 });
      w.fill(via === dir ? 2 : 3); // kept in memory: compressed chunks are written by flush()
      const r = openZarr(via);
      const p = r.readAsync();
      w.flush();
      const values = await p;
      assert.ok(values.every((x) => x === (via === dir ? 2 : 3)), `through ${via === dir ? 'the path' : 'a link'}: all new`);
      w.close();
      r.close();
    }
  });

  it("options are checked here as the sync call checks them (an accessor inside one is refused, not run on the thread's copy)", async function () {
    const dir = store('opt', { shape: [64, 64], dtype: 'float32', chunks: [16, 16] }, new Float32Array(4096).fill(1));
    const z = openZarr(dir);
    let runs = 0;
    const axis = [0];
    Object.defineProperty(axis, 0, {
      get() {
        runs++;
        return 0;
      },
    });
    const want = await outcome(() => z.sum({ axis }));
    const got = await outcome(() => z.sumAsync({ axis }));
    assert.ok(want.error, 'the sync call refuses it');
    assert.deepEqual(got, want);
    // A signal whose own addEventListener does nothing still aborts the call.
    const ac = new AbortController();
    ac.signal.addEventListener = () => {};
    const p = z.sumAsync({ signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e) => e instanceof MemmapError && e.code === 'ERR_ABORTED');
    z.close();
    assert.ok(runs >= 0);
  });

  it('calls aborted or closed before the thread starts them are skipped there', async function () {
    const dir = store('q', { shape: [256, 256], dtype: 'float64', chunks: [32, 32], compressor: 'zstd' }, new Float64Array(256 * 256).fill(1));
    const z = openZarr(dir);
    await z.sumAsync(); // the thread is up
    const before = calls();
    const ac = new AbortController();
    const ps = Array.from({ length: 6 }, () => z.varAsync({ axis: 0, signal: ac.signal }));
    ac.abort();
    for (const p of ps) await assert.rejects(p, (e) => e.code === 'ERR_ABORTED');
    const qs = Array.from({ length: 6 }, () => z.maxAsync({ axis: 1 }));
    z.close();
    for (const q of qs) await assert.rejects(q, (e) => e.code === 'ERR_CLOSED');
    const y = openZarr(dir);
    assert.equal(await y.sumAsync(), 256 * 256);
    // At most the call the thread had started when each batch was cancelled ran, then this one.
    assert.ok(calls() - before <= 3, `${calls() - before} calls ran`);
    y.close();
  });

  it('close() during a call rejects it with ERR_CLOSED; an abort rejects at once with ERR_ABORTED; out arrays stay here', async function () {
    const dir = store('c', { shape: [256, 256], dtype: 'float32', chunks: [32, 32] }, new Float32Array(256 * 256).fill(3));
    const z = openZarr(dir);
    const p = z.sumAsync({ axis: 1 });
    z.close();
    await assert.rejects(p, (e) => e instanceof MemmapError && e.code === 'ERR_CLOSED');
    const y = openZarr(dir);
    const ac = new AbortController();
    const q = y.varAsync({ signal: ac.signal });
    ac.abort();
    await assert.rejects(q, (e) => e instanceof MemmapError && e.code === 'ERR_ABORTED');
    assert.equal(await y.sumAsync(), 3 * 256 * 256); // the thread is fine after
    const before = calls();
    const out = new Float64Array(256);
    assert.equal(await y.sumAsync({ axis: 0, out }), out);
    assert.equal(out[7], 3 * 256);
    assert.equal(calls(), before);
    y.close();
  });

  it('a thread that dies mid-call leaves the call to this thread (same result); the next call starts another', async function () {
    const dir = store('d', { shape: [100, 100], dtype: 'int32', chunks: [30, 30] }, Int32Array.from({ length: 10000 }, (_, i) => i));
    const z = openZarr(dir);
    const want = z.sum({ axis: 0 }).read();
    const { died, started } = offThreadForTests.state();
    offThreadForTests.exitOnNextCall(3);
    assert.deepEqual((await z.sumAsync({ axis: 0 })).read(), want);
    assert.equal(offThreadForTests.state().died, died + 1);
    const before = calls();
    assert.deepEqual((await z.sumAsync({ axis: 0 })).read(), want);
    assert.equal(calls(), before + 1);
    assert.equal(offThreadForTests.state().started, started + 1);
    z.close();
  });

  it('small selections stay on this thread at the default bound; the store changed on disk: this thread', async function () {
    const dir = store('s', { shape: [64, 64], dtype: 'float32', chunks: [16, 16] }, new Float32Array(4096).fill(1));
    const z = openZarr(dir);
    const old = offThreadForTests.setBytes(oldBytes);
    try {
      const before = calls();
      assert.equal(await z.sumAsync(), 4096);
      assert.equal(calls(), before);
    } finally {
      offThreadForTests.setBytes(old);
    }
    // The array replaced by one of another shape: the thread's opening does not match, the call runs here.
    store('s2', { shape: [8, 8], dtype: 'float32', chunks: [4, 4] }, null);
    fs.copyFileSync(path.join(tmp.file('s2'), 'zarr.json'), path.join(dir, 'zarr.json'));
    const before = calls();
    assert.equal(await z.sumAsync(), 4096);
    assert.equal(calls(), before);
    z.close();
  });

  it('a script that used an async call exits on its own (the idle thread keeps no process alive)', function () {
    const dir = store('x', { shape: [64, 64], dtype: 'float32', chunks: [16, 16] }, new Float32Array(4096).fill(2));
    const script = `
      const { openZarr } = require(${JSON.stringify(path.join(__dirname, '..'))});
      require(${JSON.stringify(path.join(__dirname, '../dist/zarr-offthread'))}).offThreadForTests.setBytes(0);
      const z = openZarr(${JSON.stringify(dir)});
      z.sumAsync().then((s) => console.log(s, require(${JSON.stringify(path.join(__dirname, '../dist/zarr-offthread'))}).offThreadForTests.state().calls));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '8192 1');
  });
});
