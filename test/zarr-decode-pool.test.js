'use strict';
// The async twins decode zstd, blosc and lz4 chunks on worker threads (lib/zarr-decode-pool.ts, issue 13): the same
// bytes as the sync calls, no wasm decode on the JavaScript thread, the same error codes, threads started only when
// needed and never keeping a process alive, a thread that dies replaced, abort and close() as for the other codecs.
// Hostile chunks and dying threads run in a child process (test/fixtures/zarr-decode-pool.js).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { spawnSync } = require('node:child_process');
const { createZarr, openZarr, MemmapError } = require('..');
const wasm = require('../dist/zarr-wasm');
const { decodeOffThread, decodePoolForTests: pool, POOL_SIZE } = require('../dist/zarr-decode-pool');
const { decodeChain } = require('../dist/zarr-decode');
const { zstdEncode } = require('../dist/zarr-codec-zstd');
const { lz4Encode } = require('../dist/zarr-codec-lz4');
const { useTmpDir } = require('./helpers/tmp');
const { isMemmapError } = require('./helpers/assert');
const { runFixture, expectCleanExit } = require('./helpers/child');
const { withCrc } = require('./helpers/zarr');

const SHAPE = [150, 130];
const CHUNKS = [32, 32];
const hex = (t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('hex');
const values = Float32Array.from({ length: SHAPE[0] * SHAPE[1] }, (_, i) => (i % 17 === 0 ? NaN : Math.round(Math.sin(i / 40) * 1000) / 8));

// Each store: createZarr() options; `crc` adds a crc32c after the compressor (v3, unsharded) by hand.
const STORES = [
  { name: 'zstd-sharded', opts: { compressor: 'zstd', shards: [64, 64] } },
  { name: 'zstd-crc32c', opts: { compressor: 'zstd', shards: null }, crc: true },
  { name: 'blosc-lz4-bitshuffle', opts: { compressor: { name: 'blosc', configuration: { cname: 'lz4', clevel: 5, shuffle: 'bitshuffle' } }, shards: null } },
  { name: 'blosc-zstd-v2-F', opts: { compressor: { id: 'blosc', cname: 'zstd', clevel: 3, shuffle: 1, blocksize: 0 }, zarrFormat: 2, order: 'F' } },
  { name: 'lz4-v2', opts: { compressor: 'lz4', zarrFormat: 2 } },
];

/** Writes a store whose written part is `values` (the last 20 rows stay the fill value). */
function makeStore(dir, { opts, crc }) {
  const z = createZarr(dir, { shape: SHAPE, dtype: 'float32', chunks: CHUNKS, fillValue: 2.5, ...opts });
  z.write([0, 130], null, values.subarray(0, 130 * 130));
  z.close();
  if (!crc) return;
  const metaFile = path.join(dir, 'zarr.json');
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  meta.codecs.push({ name: 'crc32c' });
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  for (const f of walk(path.join(dir, 'c'))) fs.writeFileSync(f, withCrc(fs.readFileSync(f)));
}

/** Counts the wasm codec calls made on this thread while `fn` runs. */
async function mainThreadWasmCalls(fn) {
  const original = wasm.wasmCall;
  let calls = 0;
  wasm.wasmCall = (...args) => {
    calls++;
    return original(...args);
  };
  try {
    return { result: await fn(), calls };
  } finally {
    wasm.wasmCall = original;
  }
}

async function rejectsCode(p, code) {
  let caught;
  await assert.rejects(p, (err) => {
    caught = err;
    return isMemmapError(err, code);
  });
  return caught;
}

describe('async twins decode zstd, blosc and lz4 chunks on worker threads', function () {
  this.timeout(120000);
  const tmp = useTmpDir();
  before(function () {
    for (const s of STORES) makeStore(tmp.file(s.name), s);
    makeStore(tmp.file('gzip'), { opts: { compressor: 'gzip' } });
    makeStore(tmp.file('raw'), { opts: {} });
  });

  for (const s of STORES) {
    it(`${s.name}: readAsync, gatherAsync and reductions' twins give the sync calls' bits, decoded off the JavaScript thread`, async function () {
      const want = openZarr(tmp.file(s.name));
      const decoded = pool.state().decoded;
      const a = openZarr(tmp.file(s.name));
      try {
        const ii = [0, 149, 77, -1, 31, 32];
        const jj = [129, 0, 64, 3, -2, 33];
        const { result, calls } = await mainThreadWasmCalls(async () => ({
          all: await a.readAsync(),
          part: await a.readAsync([5, 140, 3], [null, null, -7]),
          points: await a.gatherAsync(ii, jj),
          sum: await a.sumAsync(),
          nanmax: await a.nanmaxAsync({ axis: 0 }),
          mean: await a.view([10, 100]).nanmeanAsync({ axis: 1 }),
        }));
        assert.equal(calls, 0, 'no chunk decoded on the JavaScript thread');
        // 5 x 5 chunks: every one decoded by a pool thread, once (then from the decode cache).
        assert.equal(pool.state().decoded - decoded, 25);
        assert.equal(hex(result.all), hex(want.read()));
        assert.equal(hex(result.part), hex(want.read([5, 140, 3], [null, null, -7])));
        assert.equal(hex(result.points), hex(want.gather(ii, jj)));
        assert.deepEqual(result.sum, want.sum());
        assert.equal(hex(result.nanmax.read()), hex(want.nanmax({ axis: 0 }).read()));
        assert.equal(hex(result.mean.read()), hex(want.view([10, 100]).nanmean({ axis: 1 }).read()));
        // The check can fail: the sync path of a fresh array decodes on this thread.
        const fresh = openZarr(tmp.file(s.name));
        const sync = await mainThreadWasmCalls(() => fresh.read());
        fresh.close();
        assert.ok(sync.calls >= 25, `${sync.calls} wasm calls on this thread`);
        assert.equal(hex(sync.result), hex(result.all));
        assert.equal(hex(result.all.subarray(0, 130 * 130)), hex(values.subarray(0, 130 * 130)));
      } finally {
        a.close();
        want.close();
      }
    });
  }

  it('many calls at once (more chunks than threads, queued): each gets its own bits, never more than POOL_SIZE threads', async function () {
    const arrays = STORES.flatMap((s) => [openZarr(tmp.file(s.name)), openZarr(tmp.file(s.name))]);
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, pool.state().threads)), 1);
    try {
      const got = await Promise.all(arrays.map((a, i) => (i % 2 === 0 ? a.readAsync() : a.readAsync([100, 150], [null, null, -1]))));
      arrays.forEach((a, i) => {
        const fresh = openZarr(tmp.file(STORES[i >> 1].name));
        assert.equal(hex(got[i]), hex(i % 2 === 0 ? fresh.read() : fresh.read([100, 150], [null, null, -1])), STORES[i >> 1].name);
        fresh.close();
      });
    } finally {
      clearInterval(watch);
      for (const a of arrays) a.close();
    }
    assert.ok(most <= POOL_SIZE, `${most} threads`);
    assert.equal(pool.state().queued, 0);
  });

  it('gzip stays on node:zlib and raw chunks on the native prefetch: no pool job', async function () {
    const before = pool.state().decoded;
    for (const name of ['gzip', 'raw']) {
      const a = openZarr(tmp.file(name));
      assert.equal(hex(await a.readAsync()), hex(openZarr(tmp.file('zstd-sharded')).read()));
      a.close();
    }
    assert.equal(pool.state().decoded, before);
  });

  it('decodeOffThread() moves its input (transfer list) and gives decodeChain()\'s bytes and errors', async function () {
    const plain = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251);
    const frame = zstdEncode(plain, 3);
    const input = frame.slice();
    const got = await decodeOffThread(['zstd'], input, 'x', plain.length);
    assert.equal(input.byteLength, 0, 'the input was transferred (detached here)');
    assert.equal(hex(got), hex(plain));
    assert.equal(hex(got), hex(decodeChain(['zstd'], frame, 'x', plain.length)));
    // A frame declaring more than the chunk holds (a bomb), garbage, a checksum that does not match.
    await rejectsCode(decodeOffThread(['zstd'], frame.slice(), 'x', plain.length - 1), 'ERR_ZARR_CHUNK');
    await rejectsCode(decodeOffThread(['lz4'], new Uint8Array([8, 0, 0, 0, 0xff, 0xff, 0xff]), 'x', 8), 'ERR_ZARR_CHUNK');
    await rejectsCode(decodeOffThread(['blosc'], new Uint8Array(10), 'x', 8), 'ERR_ZARR_CHUNK');
    const sum = withCrc(lz4Encode(plain, 1));
    sum[sum.length - 1] ^= 1;
    const err = await rejectsCode(decodeOffThread(['lz4', 'crc32c'], new Uint8Array(sum), 'where/c/0', plain.length + 4), 'ERR_CHECKSUM');
    assert.equal(err.path, 'where/c/0');
    assert.ok(err instanceof MemmapError);
  });

  it('an aborted signal rejects with ERR_ABORTED (AbortError), before and during the call', async function () {
    for (const s of STORES) {
      const a = openZarr(tmp.file(s.name));
      try {
        const ac = new AbortController();
        ac.abort(new Error('stop'));
        const err = await rejectsCode(a.readAsync({ signal: ac.signal }), 'ERR_ABORTED');
        assert.equal(err.name, 'AbortError');
        await rejectsCode(a.sumAsync({ signal: ac.signal }), 'ERR_ABORTED');
        const during = new AbortController();
        const p = a.meanAsync({ axis: 0, signal: during.signal });
        during.abort();
        await rejectsCode(p, 'ERR_ABORTED');
        // Not aborted: the same array still reads.
        assert.equal(hex(await a.readAsync(7, { signal: new AbortController().signal })), hex(a.read(7)));
      } finally {
        a.close();
      }
    }
  });

  it('close() during async calls: they reject with ERR_CLOSED, nothing is cached, a reopened array reads', async function () {
    for (const s of STORES) {
      const a = openZarr(tmp.file(s.name));
      const calls = [a.sumAsync(), a.readAsync(), a.argmaxAsync({ axis: 1 }), a.gatherAsync([1, 2], [3, 4]), a.view(5).stdAsync()];
      a.close();
      const codes = (await Promise.allSettled(calls)).map((r) => (r.status === 'rejected' && r.reason instanceof MemmapError ? r.reason.code : r.status));
      assert.deepEqual(codes, calls.map(() => 'ERR_CLOSED'), s.name);
      await rejectsCode(a.readAsync(), 'ERR_CLOSED');
      const b = openZarr(tmp.file(s.name));
      assert.equal(hex(await b.readAsync([0, 130])), hex(values.subarray(0, 130 * 130)));
      b.close();
    }
  });

  it('idle threads end (and are started again when needed); never more than POOL_SIZE', async function () {
    assert.ok(POOL_SIZE >= 1 && POOL_SIZE <= 4);
    pool.setIdleMs(1);
    try {
      const a = openZarr(tmp.file('lz4-v2'));
      const want = openZarr(tmp.file('lz4-v2')).read();
      const p = a.readAsync();
      assert.ok(pool.state().threads <= POOL_SIZE);
      assert.equal(hex(await p), hex(want));
      while (pool.state().threads > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const started = pool.state().started;
      const b = openZarr(tmp.file('lz4-v2'));
      assert.equal(hex(await b.readAsync()), hex(want));
      assert.ok(pool.state().started > started, 'a new thread decoded');
      a.close();
      b.close();
    } finally {
      pool.setIdleMs(10000);
    }
  });
});

describe('the decode pool in a process of its own', function () {
  this.timeout(120000);
  const tmp = useTmpDir();
  before(function () {
    makeStore(tmp.file('zstd'), { opts: { compressor: 'zstd' } });
    makeStore(tmp.file('raw'), { opts: {} });
    makeStore(tmp.file('gzip'), { opts: { compressor: 'gzip' } });
  });

  it('threads start only for a zstd/blosc/lz4 async call, at most POOL_SIZE, and the process exits by itself after', function () {
    const r = runFixture('zarr-decode-pool.js', ['lazy-exit', tmp.file('zstd'), tmp.file('raw'), tmp.file('gzip')], { timeout: 30000 });
    const got = JSON.parse(expectCleanExit(r));
    assert.equal(got.before, 0, 'sync calls and raw/gzip async calls start no thread');
    assert.equal(got.async, got.sync);
    assert.equal(got.decoded, 25);
    // The threads are still there (idle, unref()'d): the exit did not wait for them to end.
    assert.ok(got.threads >= 1 && got.threads <= got.poolSize && got.started === got.threads, JSON.stringify(got));
  });

  it('hostile chunks (bombs, lies, garbage, a wrong checksum) reject as the sync read throws, with the same code', function () {
    const good = tmp.file('zstd');
    const plain = new Uint8Array(32 * 32 * 4);
    const cases = {
      // A zstd frame declaring more bytes than the chunk holds.
      'zstd-bomb': ['zstd', zstdEncode(new Uint8Array(plain.length * 64), 1)],
      'zstd-garbage': ['zstd', new Uint8Array(100).fill(0x5a)],
      'zstd-truncated': ['zstd', zstdEncode(plain, 1).subarray(0, 12)],
      'lz4-lying-size': ['lz4', Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.from(lz4Encode(plain, 1)).subarray(4)])],
      'lz4-garbage': ['lz4', Buffer.concat([Buffer.from([0, 16, 0, 0]), Buffer.alloc(50, 0xee)])],
      'blosc-short': ['blosc', new Uint8Array(9)],
      'zstd-bad-crc32c': ['zstd-crc', withCrc(zstdEncode(plain, 1))],
    };
    const dirs = [];
    for (const [name, [codec, bytes]] of Object.entries(cases)) {
      const dir = tmp.file(name);
      const crc = codec === 'zstd-crc';
      const compressor = crc ? 'zstd' : codec;
      makeStore(dir, { opts: { compressor, shards: null, ...(codec === 'lz4' ? { zarrFormat: 2, shards: undefined } : {}) }, crc });
      const chunk = codec === 'lz4' ? path.join(dir, '1.2') : path.join(dir, 'c', '1', '2');
      const b = Buffer.from(bytes);
      if (crc) b[b.length - 1] ^= 0xff;
      fs.writeFileSync(chunk, b);
      dirs.push(dir);
    }
    const r = runFixture('zarr-decode-pool.js', ['hostile', ...dirs, good], { timeout: 60000 });
    const got = JSON.parse(expectCleanExit(r));
    const names = Object.keys(cases);
    got.out.slice(0, names.length).forEach((o, i) => {
      const want = names[i] === 'zstd-bad-crc32c' ? 'ERR_CHECKSUM' : 'ERR_ZARR_CHUNK';
      assert.deepEqual(o, { async: { code: want, isMemmapError: true }, sync: { code: want, isMemmapError: true } }, names[i]);
    });
    // The good store after all of them: the threads still decode.
    const last = got.out[names.length];
    assert.equal(last.async.code, null);
    assert.equal(last.async.hash, last.sync.hash);
    assert.equal(got.state.died, 0);
    assert.ok(got.state.decoded >= 25);
  });

  it('a thread that dies rejects its job with ERR_ZARR_CHUNK and is replaced', function () {
    const r = runFixture('zarr-decode-pool.js', ['die', tmp.file('zstd')], { timeout: 60000 });
    const got = JSON.parse(expectCleanExit(r));
    assert.deepEqual(got.died, { code: 'ERR_ZARR_CHUNK', isMemmapError: true });
    assert.equal(got.afterDeath.died, 1);
    assert.equal(got.again.code, null);
    assert.equal(got.again.hash, got.sync.hash);
    // The dead thread left the pool and another started in its place.
    assert.ok(got.state.started >= 2 && got.state.threads >= 1 && got.state.threads <= POOL_SIZE, JSON.stringify(got));
  });

  it('a codec the threads cannot load rejects with ERR_UNSUPPORTED_CODEC, as the sync read throws', function () {
    const hook = path.join(__dirname, 'fixtures', 'numcodecs-wrong-version.js');
    const r = runFixture('zarr-decode-pool.js', ['unsupported', tmp.file('zstd')], { execArgv: ['--require', hook], timeout: 60000 });
    const got = JSON.parse(expectCleanExit(r));
    assert.deepEqual(got.async, { code: 'ERR_UNSUPPORTED_CODEC', isMemmapError: true });
    assert.deepEqual(got.sync, { code: 'ERR_UNSUPPORTED_CODEC', isMemmapError: true });
    assert.ok(got.state.started >= 1, 'the refusal came from a pool thread');
    assert.equal(got.state.decoded, 0);
  });

  it('works from ESM (import), the worker file found beside the module', function () {
    const script = `
import { openZarr } from ${JSON.stringify(pathToFileURL(path.join(__dirname, '..', 'dist', 'index.mjs')).href)};
import { createRequire } from 'node:module';
const { decodePoolForTests } = createRequire(import.meta.url)(${JSON.stringify(path.join(__dirname, '..', 'dist', 'zarr-decode-pool.js'))});
const a = openZarr(process.argv[1]);
const got = await a.readAsync();
console.log(JSON.stringify({ n: got.length, first: got[1], decoded: decodePoolForTests.state().decoded, want: openZarr(process.argv[1]).read()[1] }));
`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, tmp.file('zstd')], { encoding: 'utf8', timeout: 60000 });
    const got = JSON.parse(expectCleanExit(r));
    assert.deepEqual(got, { n: SHAPE[0] * SHAPE[1], first: values[1], decoded: 25, want: values[1] });
  });
});
