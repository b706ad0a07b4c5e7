'use strict';
// Writers of Zarr stores for the tests: zarr-python 2.13 (Debian's
// python3-zarr, run with Debian's own /usr/bin/python3), zarrita (npm, ESM, a
// devDependency; MEMMAP_ZARRITA may name another node_modules holding it), and a small hand writer for what neither makes
// (gzip/crc32c/sharded v3 chunks). The hand writer has its own bitwise CRC-32C,
// not lib/'s table, checked against RFC 3720's test vector.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');
const { cIndices } = require('./numpy');

const SYSTEM_PYTHON = process.env.MEMMAP_ZARR_PYTHON || '/usr/bin/python3';
const ZARRITA = process.env.MEMMAP_ZARRITA;

let pythonOk;
/** Debian's python with zarr 2.x and numcodecs, or null. */
function zarrPython() {
  if (pythonOk === undefined) {
    const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import zarr, numcodecs, numpy; assert zarr.__version__.startswith("2.")'], { stdio: 'ignore' });
    pythonOk = r.status === 0 ? SYSTEM_PYTHON : null;
  }
  return pythonOk;
}

/** Runs python code with zarr; argv become sys.argv[1:]; returns stdout. */
function runZarrPython(code, argv = []) {
  const r = spawnSync(zarrPython(), ['-c', code, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** { zarr, FileSystemStore } from zarrita, or null when it is not installed. */
async function loadZarrita() {
  try {
    if (ZARRITA) {
      const zarr = await import(pathToFileURL(path.join(ZARRITA, 'zarrita/dist/src/index.js')).href);
      const FileSystemStore = (await import(pathToFileURL(path.join(ZARRITA, '@zarrita/storage/dist/src/fs.js')).href)).default;
      return { zarr, FileSystemStore };
    }
    const zarr = await import('zarrita');
    const FileSystemStore = (await import('@zarrita/storage/fs')).default;
    return { zarr, FileSystemStore };
  } catch {
    return null;
  }
}

/**
 * Skips the current test (with the reason printed) when a cross-check tool is missing; in CI
 * (MEMMAP_CI=1, set by .ci/run, which installs python3-zarr; zarrita is a devDependency) a missing tool is a failure instead.
 */
function needTool(ctx, ok, what, requiredInCI) {
  if (ok) return;
  if (requiredInCI && process.env.MEMMAP_CI === '1') throw new Error(`${what} is required in CI`);
  console.log(`      (skipped: ${what} is not available)`);
  ctx.skip();
}

/** Bitwise CRC-32C (Castagnoli), independent of lib/'s table. */
function crc32cBitwise(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
if (crc32cBitwise(Buffer.from('123456789')) !== 0xe3069283) throw new Error('test crc32c is wrong');

/** bytes + their crc32c (4 bytes, little-endian). */
function withCrc(bytes) {
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(crc32cBitwise(bytes));
  return Buffer.concat([Buffer.from(bytes), sum]);
}

/** bytes after the encoding codecs `after` ('gzip', 'crc32c'), in order. */
function encodeBytes(bytes, after) {
  let b = Buffer.from(bytes);
  for (const c of after) b = c === 'gzip' ? zlib.gzipSync(b) : c === 'zlib' ? zlib.deflateSync(b) : withCrc(b);
  return b;
}

/** Element k of a C-order chunk of `shape` sliced from `values` (C order, `arrayShape`), edge chunks padded with `pad`. */
function chunkValues(values, arrayShape, chunkShape, coords, pad) {
  const n = chunkShape.reduce((a, b) => a * b, 1);
  const out = new values.constructor(n).fill(pad);
  const idx = chunkShape.map(() => 0);
  for (let k = 0; k < n; k++) {
    let src = 0;
    let inside = true;
    for (let d = 0; d < chunkShape.length; d++) {
      const i = coords[d] * chunkShape[d] + idx[d];
      if (i >= arrayShape[d]) inside = false;
      src = src * arrayShape[d] + i;
    }
    if (inside) out[k] = values[src];
    for (let d = chunkShape.length - 1; d >= 0; d--) {
      if (++idx[d] < chunkShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Writes a v3 array by hand: float32/int32 little-endian `values` (C order), chunks encoded with `after`
 * (gzip/crc32c), or sharded (`shard`: shard shape; `innerAfter` codecs; index at `indexAt`, in `indexEndian`, crc32c on it
 * unless `indexCrc` is false).
 * `skip(coords)` leaves a chunk (or inner chunk) unwritten / empty. Returns the metadata written.
 */
function writeV3(dir, { shape, chunks, dtype, values, fill = 0, after = [], shard = null, innerAfter = [], indexAt = 'end', indexEndian = 'little', indexCrc = true, skip = () => false, pad = 0 }) {
  fs.mkdirSync(dir, { recursive: true });
  const bytesCodec = { name: 'bytes', configuration: { endian: 'little' } };
  const innerCodecs = [bytesCodec, ...innerAfter.map((name) => ({ name, configuration: name === 'gzip' ? { level: 5 } : undefined }))];
  const codecs = shard
    ? [{ name: 'sharding_indexed', configuration: { chunk_shape: chunks, codecs: innerCodecs, index_codecs: [{ name: 'bytes', configuration: { endian: indexEndian } }, ...(indexCrc ? [{ name: 'crc32c' }] : [])], index_location: indexAt } }]
    : [bytesCodec, ...after.map((name) => (name === 'gzip' ? { name, configuration: { level: 5 } } : { name }))];
  const grid = shard ?? chunks;
  const meta = {
    zarr_format: 3,
    node_type: 'array',
    shape,
    data_type: dtype,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: grid } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    codecs: JSON.parse(JSON.stringify(codecs)),
    fill_value: fill,
    attributes: { written: 'by hand' },
  };
  fs.writeFileSync(path.join(dir, 'zarr.json'), JSON.stringify(meta));
  const put = (coords, bytes) => {
    const file = path.join(dir, 'c', ...coords.map(String));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
  };
  const asBytes = (t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  const counts = shape.map((s, d) => Math.ceil(s / grid[d]));
  for (const sc of cIndices(counts)) {
    if (!shard) {
      if (!skip(sc)) put(sc, encodeBytes(asBytes(chunkValues(values, shape, chunks, sc, pad)), after));
      continue;
    }
    const per = shard.map((s, d) => s / chunks[d]);
    const n = per.reduce((a, b) => a * b, 1);
    const index = Buffer.alloc(16 * n, 0xff);
    const parts = [];
    let at = indexAt === 'start' ? 16 * n + (indexCrc ? 4 : 0) : 0;
    let k = 0;
    let any = false;
    for (const ic of cIndices(per)) {
      const coords = ic.map((c, d) => sc[d] * per[d] + c);
      if (!skip(coords) && coords.every((c, d) => c * chunks[d] < shape[d])) {
        const b = encodeBytes(asBytes(chunkValues(values, shape, chunks, coords, pad)), innerAfter);
        const put64 = indexEndian === 'big' ? 'writeBigUInt64BE' : 'writeBigUInt64LE';
        index[put64](BigInt(at), 16 * k);
        index[put64](BigInt(b.length), 16 * k + 8);
        parts.push(b);
        at += b.length;
        any = true;
      }
      k++;
    }
    if (!any) continue;
    const idx = indexCrc ? withCrc(index) : index;
    put(sc, indexAt === 'start' ? Buffer.concat([idx, ...parts]) : Buffer.concat([...parts, idx]));
  }
  return meta;
}

/** zarrita's get() result in C order (it may hand back another layout). */
function cOrder(got) {
  const { data, shape, stride } = got;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new data.constructor(n);
  let k = 0;
  for (const idx of cIndices(shape)) out[k++] = data[idx.reduce((s, i, d) => s + i * stride[d], 0)];
  return out;
}

module.exports = { zarrPython, runZarrPython, loadZarrita, needTool, crc32cBitwise, withCrc, writeV3, cOrder, chunkValues };
