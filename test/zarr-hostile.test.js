'use strict';
// openZarr() against hostile stores and callers: crafted metadata, shard
// indexes and chunk files, files that are not regular files, compression
// bombs, files shrinking while mapped, close() from inside a call, patched
// built-ins, 10,000 open/close cycles. Whatever could hang, crash or exhaust
// the heap runs in a child (test/fixtures/zarr-hostile.js). Errors are matched
// by class and code; the stores on disk are left unchanged.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { openZarr, listZarr, MemmapError, MemmapTypeError } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { runFixture } = require('./helpers/child');
const { writeV3, withCrc } = require('./helpers/zarr');
const { skipOnWindows, wine } = require('./helpers/platform');

const BYTES = { name: 'bytes', configuration: { endian: 'little' } };
const TIMEOUT = wine ? 180000 : 60000; // a hang detector; wine is slow to map files

/** Runs one fixture case in a child; asserts it exited cleanly (no signal, no hang) and returns its JSON. */
function hostile(tmp, which, execArgv = [], args = []) {
  const dir = fs.mkdtempSync(path.join(tmp.dir, `${which}-`));
  const r = runFixture('zarr-hostile.js', [which, dir, ...args], { execArgv: ['--expose-gc', ...execArgv], timeout: TIMEOUT });
  const detail = `status ${r.status}, signal ${r.signal}${r.error ? ` (${r.error.code})` : ''}\nstdout: ${r.stdout}\nstderr: ${String(r.stderr).slice(-2000)}`;
  assert.equal(r.signal, null, `child was killed (a crash, or a hang past ${TIMEOUT} ms): ${detail}`);
  assert.equal(r.status, 0, `child failed: ${detail}`);
  return JSON.parse(r.stdout);
}

const coded = (code, name = 'MemmapError') => ({ code, name, memmap: true });

/** Every file below `dir`, with its fingerprint. */
// The single shard c/0 of a 1-d store of four inner chunks (index at the end, crc32c): patch(off, nbytes) rewrites
// inner chunk 1's index entry (with a valid checksum) and returns the store's snapshot.
function indexPatcher(d) {
  const shard = path.join(d, 'c', '0');
  const orig = fs.readFileSync(shard);
  const at = orig.length - 4 - 64;
  const patch = (off, nbytes) => {
    const b = Buffer.from(orig);
    const idx = Buffer.from(b.subarray(at, at + 64));
    idx.writeBigUInt64LE(off, 16);
    idx.writeBigUInt64LE(nbytes, 24);
    withCrc(idx).copy(b, at);
    fs.writeFileSync(shard, b);
    return snapshot(d);
  };
  return { shard, orig, patch };
}

function snapshot(dir) {
  const out = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const f = path.join(e.parentPath ?? e.path, e.name);
    if (e.isFile()) out[path.relative(dir, f)] = fingerprint(f);
  }
  return out;
}

function v3(dir, over = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const meta = { zarr_format: 3, node_type: 'array', shape: [8], data_type: 'int32', chunk_grid: { name: 'regular', configuration: { chunk_shape: [4] } }, codecs: [BYTES], fill_value: 0, ...over };
  fs.writeFileSync(path.join(dir, 'zarr.json'), JSON.stringify(meta));
  return dir;
}

describe('zarr hostile: stores that would hang, crash or exhaust memory (child processes)', function () {
  this.timeout(300000);
  const tmp = useTmpDir();

  it('metadata that is a FIFO or a link to /dev/zero is ERR_ZARR_METADATA, not a hang (openZarr and listZarr)', function () {
    skipOnWindows(this, 'no mkfifo or /dev/zero');
    assert.deepEqual(hostile(tmp, 'fifo-zarr-json'), { open: coded('ERR_ZARR_METADATA'), list: coded('ERR_ZARR_METADATA') });
    assert.deepEqual(hostile(tmp, 'fifo-zattrs'), { open: coded('ERR_ZARR_METADATA') });
    assert.deepEqual(hostile(tmp, 'dev-zero-zarr-json'), { open: coded('ERR_ZARR_METADATA') });
    assert.deepEqual(hostile(tmp, 'fifo-member-zarr-json'), { list: coded('ERR_ZARR_METADATA') });
  });

  it('chunk files that are a FIFO, /dev/zero or a directory are coded errors, not a hang', function () {
    skipOnWindows(this, 'no mkfifo or /dev/zero');
    assert.deepEqual(hostile(tmp, 'odd-chunk-files'), { fifo: coded('ENODEV'), devZero: coded('ENODEV'), directory: coded('EISDIR') });
  });

  it('a gzip or zlib bomb (1 MiB inflating to 1 GiB, for a 16-byte chunk) is ERR_ZARR_CHUNK without inflating it', function () {
    const out = hostile(tmp, 'bomb');
    assert.deepEqual(out.gzip, coded('ERR_ZARR_CHUNK'));
    assert.deepEqual(out.zlib, coded('ERR_ZARR_CHUNK'));
    // Inflating 1 GiB takes seconds and a GiB of memory; stopping at the chunk's size, milliseconds and nothing.
    assert.ok(out.gzipMs < 2000 && out.rssMiB < 700, JSON.stringify(out));
  });

  it('a mapped chunk file that shrank: get(), read(), gather(), sum() are ERR_SIGBUS (get() no longer reads the mapping from JS)', function () {
    skipOnWindows(this, 'Windows refuses to shrink a mapped file (error 1224), so no page is lost to truncation');
    const out = hostile(tmp, 'truncated-mapped');
    for (const k of ['get', 'read', 'gather', 'sum']) assert.deepEqual(out[k], coded('ERR_SIGBUS'), k);
  });

  it('a shard that shrank under a full float sum (the native kernel over the chunk grid): ERR_SIGBUS, not a crash', function () {
    skipOnWindows(this, 'a mapped file cannot shrink on Windows');
    assert.deepEqual(hostile(tmp, 'truncated-grid'), { first: { value: 256 * 512 }, sum: coded('ERR_SIGBUS'), var: coded('ERR_SIGBUS') });
    assert.deepEqual(hostile(tmp, 'truncated-grid-tail'), { first: { value: 256 * 512 }, sum: coded('ERR_SIGBUS') });
  });

  it('a shard that shrank: the crc32c check and the gzip inflate of an inner chunk are ERR_SIGBUS, not a crash', function () {
    skipOnWindows(this, 'Windows refuses to shrink a mapped file (error 1224), so no page is lost to truncation');
    assert.deepEqual(hostile(tmp, 'truncated-shard-crc'), { first: { value: 3 }, get: coded('ERR_SIGBUS') });
    const out = hostile(tmp, 'truncated-shard-gzip');
    assert.deepEqual(out.get, coded('ERR_SIGBUS'));
  });

  it('a selection of 2^50 elements is ERR_TOO_LARGE at once (not after a pass over every index)', function () {
    const out = hostile(tmp, 'huge-selection');
    assert.deepEqual(out.read, coded('ERR_TOO_LARGE'));
    assert.deepEqual(out.sum, coded('ERR_TOO_LARGE'));
    // A hang detector, not a timing bar: a pass over 2^50 indices takes days, the refusal milliseconds.
    assert.ok(out.ms < 20000, JSON.stringify(out));
  });

  it('a read crossing 2^27 one-element chunks is ERR_TOO_LARGE, not a heap exhausted (the JS heap capped at 1 GiB)', function () {
    assert.deepEqual(hostile(tmp, 'many-chunk-runs', ['--max-old-space-size=1024']), { read: coded('ERR_TOO_LARGE'), small: { value: 1000 } });
  });

  it('close() from a Proxy trap of an argument mid-call: ERR_CLOSED, and no mapping is left behind', function () {
    assert.deepEqual(hostile(tmp, 'close-in-getter'), { gather: coded('ERR_CLOSED'), mapsAfterGather: 0, read: coded('ERR_CLOSED'), readClosed: true, maps: 0 });
  });

  it('patched built-ins and foreign receivers give MemmapErrors only', function () {
    const out = hostile(tmp, 'patched-builtins');
    assert.deepEqual(out.getPatchedDataView, coded('ERR_CALLBACK'));
    assert.deepEqual(out.openPatchedParse, coded('ERR_ZARR_METADATA'));
    assert.deepEqual(out.openParseProxy, coded('ERR_CALLBACK'));
    assert.deepEqual(out.readPatchedPush, coded('ERR_CALLBACK'));
    assert.deepEqual(out.getAfter, { value: 0x01010101 });
    for (const m of ['get', 'read', 'gather', 'chunk', 'close', 'sum', 'copy', 'closed', 'openMappings']) assert.deepEqual(out[`foreign ${m}`], coded('ERR_INVALID_ARG_TYPE', 'MemmapTypeError'), m);
    assert.deepEqual(out['foreign toString'], { value: '[object ZarrArray]' });
  });

  it('10,000 open / get / read / chunk / close cycles leave no mapping and no fd open (Windows: no chunk file held)', function () {
    // wine makes a mapping in ~12 ms (a cycle maps 16 files): 10,000 cycles would take half an hour there.
    const cycles = wine ? 100 : 10000;
    if (wine) this.test.title += ` [wine: ${cycles} cycles, a mapping costs ~12 ms there]`;
    assert.deepEqual(hostile(tmp, 'open-close', [], [cycles]), { maps: 0, fds: 0, openMappings: 16, mapsClosed: 0 });
  });
});

describe('zarr hostile: crafted metadata, shard indexes and chunks (in process)', function () {
  const tmp = useTmpDir();
  let n = 0;
  const fresh = (over) => v3(path.join(tmp.dir, `m${n++}`), over);

  it('deeply nested JSON in data_type or fill_value is ERR_ZARR_UNSUPPORTED / ERR_ZARR_METADATA (not ERR_CALLBACK)', function () {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    for (const [field, code] of [['data_type', 'ERR_ZARR_UNSUPPORTED'], ['fill_value', 'ERR_ZARR_METADATA']]) {
      const d = fresh();
      const file = path.join(d, 'zarr.json');
      const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
      doc[field] = '@';
      fs.writeFileSync(file, JSON.stringify(doc).replace('"@"', deep));
      throwsCode(() => openZarr(d), code);
    }
    // Deep attributes are kept as they are.
    const d = fresh();
    const file = path.join(d, 'zarr.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"fill_value":0', `"fill_value":0,"attributes":{"a":${deep}}`));
    const z = openZarr(d);
    assert.ok(Array.isArray(z.attributes.a));
    assert.equal(listZarr(d).nodeType, 'array');
    z.close();
  });

  it('shapes: 2^53, a product past 2^53, negative, fractional, strings; chunk shape 0; shards not a multiple', function () {
    const grid = (chunk_shape) => ({ name: 'regular', configuration: { chunk_shape } });
    throwsCode(() => openZarr(fresh({ shape: [2 ** 53], chunk_grid: grid([1]) })), 'ERR_ZARR_METADATA');
    throwsCode(() => openZarr(fresh({ shape: [2 ** 40, 2 ** 40], chunk_grid: grid([1, 1]) })), 'ERR_ZARR_METADATA'); // was ERR_INVALID_SHAPE
    for (const shape of [[-1], [1.5], ['8'], [null], {}]) throwsCode(() => openZarr(fresh({ shape })), 'ERR_ZARR_METADATA');
    throwsCode(() => openZarr(fresh({ chunk_grid: grid([0]) })), 'ERR_ZARR_METADATA');
    throwsCode(() => openZarr(fresh({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [3] } }] })), 'ERR_ZARR_METADATA');
    const z = openZarr(fresh({ shape: [0, 5], chunk_grid: grid([2, 2]) }));
    assert.equal(z.read().length, 0);
    assert.equal(z.sum(), 0);
    throwsCode(() => z.chunk(0, 0), 'ERR_OUT_OF_RANGE');
  });

  it('data types, fill values, key separators: coded errors; __proto__ and constructor keys add nothing', function () {
    for (const data_type of ['float128', '__proto__', 'toString', 'constructor', 7, null]) throwsCode(() => openZarr(fresh({ data_type })), 'ERR_ZARR_UNSUPPORTED');
    for (const fill_value of ['abc', 2 ** 40, {}, [1, 2], true]) throwsCode(() => openZarr(fresh({ fill_value })), 'ERR_ZARR_METADATA');
    throwsCode(() => openZarr(fresh({ chunk_key_encoding: { name: 'default', configuration: { separator: '/../' } } })), 'ERR_ZARR_METADATA');
    const d = fresh();
    const file = path.join(d, 'zarr.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('{', '{"__proto__":{"shape":[1]},"constructor":{"x":1},'));
    const z = openZarr(d);
    assert.deepEqual(z.shape, [8]);
    z.close();
    // .zarray next to zarr.json: v3 wins.
    fs.writeFileSync(path.join(d, '.zarray'), '{"zarr_format":2}');
    assert.equal(openZarr(d).zarrFormat, 3);
    const v2 = (over) => {
      const dd = path.join(tmp.dir, `v2-${n++}`);
      fs.mkdirSync(dd);
      fs.writeFileSync(path.join(dd, '.zarray'), JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: '<i4', compressor: null, fill_value: 0, order: 'C', filters: null, ...over }));
      return dd;
    };
    for (const dimension_separator of ['..', '\\', '', 0]) throwsCode(() => openZarr(v2({ dimension_separator })), 'ERR_ZARR_METADATA');
    for (const dtype of ['|O', '|V8', '<U4', '<M8[ns]', [['a', '<i4']]]) throwsCode(() => openZarr(v2({ dtype })), 'ERR_ZARR_UNSUPPORTED');
  });

  it('shard index entries past the end, at 2^63, overflowing, too short or long are ERR_ZARR_CHUNK; overlapping ones read', function () {
    const d = path.join(tmp.dir, 'shard');
    writeV3(d, { shape: [16], chunks: [4], dtype: 'int32', values: new Int32Array(16).map((_, i) => i), shard: [16] });
    const { shard, orig, patch } = indexPatcher(d);
    for (const [off, nbytes] of [[1000n, 16n], [2n ** 63n, 16n], [2n ** 64n - 2n, 16n], [0n, 8n], [0n, 32n], [0n, 2n ** 63n], [2n ** 53n - 1n, 2n ** 53n - 1n], [0n, 0n]]) {
      const before = patch(off, nbytes);
      const z = openZarr(d);
      throwsCode(() => z.read(), 'ERR_ZARR_CHUNK');
      throwsCode(() => z.get(5), 'ERR_ZARR_CHUNK');
      assert.equal(z.get(0), 0); // the other inner chunks still read
      z.close();
      assert.deepEqual(snapshot(d), before);
    }
    patch(0n, 16n); // inner chunk 1 is inner chunk 0's bytes
    const z = openZarr(d);
    assert.deepEqual(Array.from(z.read([0, 8])), [0, 1, 2, 3, 0, 1, 2, 3]);
    z.close();
    fs.writeFileSync(shard, orig.subarray(0, 20)); // too short for its index
    throwsCode(() => openZarr(d).get(0), 'ERR_ZARR_CHUNK');
  });

  it('float sums over the chunk grid meet the same bad index entries: ERR_ZARR_CHUNK; an empty entry sums as the fill value', function () {
    const d = path.join(tmp.dir, 'shard-f4');
    const values = Float32Array.from({ length: 16 }, (_, i) => i + 0.5);
    writeV3(d, { shape: [16], chunks: [4], dtype: 'float32', values, shard: [16], fill: 2 });
    const { patch } = indexPatcher(d);
    for (const [off, nbytes] of [[1000n, 16n], [2n ** 63n, 16n], [0n, 8n], [0n, 32n], [2n ** 53n - 1n, 2n ** 53n - 1n], [0n, 0n]]) {
      const before = patch(off, nbytes);
      const z = openZarr(d);
      throwsCode(() => z.sum(), 'ERR_ZARR_CHUNK');
      throwsCode(() => z.var(), 'ERR_ZARR_CHUNK');
      assert.equal(z.sum([0, 4]), 0.5 + 1.5 + 2.5 + 3.5); // the chunks before it still sum
      z.close();
      assert.deepEqual(snapshot(d), before);
    }
    patch(2n ** 64n - 1n, 2n ** 64n - 1n); // inner chunk 1 empty: the fill value
    const z = openZarr(d);
    const want = values.reduce((s, x, i) => s + (i >= 4 && i < 8 ? 2 : x), 0);
    assert.equal(z.sum(), want);
    z.close();
  });

  it('chunk files shorter or longer than the chunk, empty, or with a bad crc32c are coded errors', function () {
    const d = fresh({ shape: [12] });
    fs.mkdirSync(path.join(d, 'c'));
    fs.writeFileSync(path.join(d, 'c', '0'), Buffer.alloc(12));
    fs.writeFileSync(path.join(d, 'c', '1'), Buffer.alloc(20));
    fs.writeFileSync(path.join(d, 'c', '2'), Buffer.alloc(0));
    const before = snapshot(d);
    const z = openZarr(d);
    throwsCode(() => z.get(0), 'ERR_ZARR_CHUNK');
    throwsCode(() => z.get(5), 'ERR_ZARR_CHUNK');
    throwsCode(() => z.chunk(1), 'ERR_ZARR_CHUNK');
    throwsCode(() => z.get(9), 'ERR_ZARR_CHUNK');
    z.close();
    const c = fresh({ codecs: [BYTES, { name: 'crc32c' }] });
    fs.mkdirSync(path.join(c, 'c'));
    fs.writeFileSync(path.join(c, 'c', '0'), Buffer.alloc(20, 1));
    fs.writeFileSync(path.join(c, 'c', '1'), Buffer.alloc(3, 1));
    throwsCode(() => openZarr(c).get(0), 'ERR_CHECKSUM');
    throwsCode(() => openZarr(c).get(4), 'ERR_ZARR_CHUNK');
    assert.deepEqual(snapshot(d), before);
  });

  it('the path option: "..", NUL, backslashes and non-strings are refused; a leading "/" stays inside the group', function () {
    const g = path.join(tmp.dir, 'grp');
    v3(path.join(g, 'arr'));
    fs.writeFileSync(path.join(g, 'zarr.json'), '{"zarr_format":3,"node_type":"group"}');
    for (const p of ['..', '../grp/arr', 'arr/..', 'arr/\0', 'arr\\..']) throwsCode(() => openZarr(g, { path: p }), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
    for (const p of [Buffer.from('arr'), 1, {}]) throwsCode(() => openZarr(g, { path: p }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
    assert.equal(openZarr(g, { path: '/arr' }).path, path.join(g, 'arr'));
    throwsCode(() => openZarr(g, { path: '/etc' }), 'ENOENT');
    throwsCode(() => openZarr(`${g}\0`), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => openZarr(new URL('http://example.com/')), 'ERR_INVALID_ARG_VALUE');
    assert.deepEqual(openZarr(new URL(`file://${path.join(g, 'arr')}`)).shape, [8]);
    throwsCode(() => openZarr(g, { get path() { return 'arr'; } }), 'ERR_INVALID_ARG_VALUE');
    throwsCode(() => openZarr(g, new Proxy({}, { ownKeys() { throw new Error('trap'); } })), 'ERR_INVALID_ARG_VALUE');
    const err = throwsCode(() => openZarr(g), 'ERR_NOT_ZARR_ARRAY');
    assert.ok(err instanceof MemmapError);
  });
});
