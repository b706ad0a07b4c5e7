'use strict';
// Issue 13's chunked layouts of the suite's data: Zarr v3 stores made from the
// C-order data file by `memmap convert` (createZarr + write, shard by shard),
// written once into the data directory and reused while they match. A store is
// a directory: the cache helpers (kit/cache.js) count and evict all its files.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

/** Inner chunks and shards of the stores: 256 x 256 float32 = 256 KiB per chunk, 16 x 16 chunks (64 MiB) per shard. */
const CHUNK = 256;
const SHARD = 4096;

/**
 * The layouts, by suite layout name: how `memmap convert` writes them. `codec` names a compressor that may be
 * missing from this build (the layout's cases are then skipped with the reason).
 */
const ZARR_LAYOUTS = {
  zarr: { title: 'Zarr v3, sharded, uncompressed (raw inner chunks, page-aligned, crc32c index at the end)', compressor: null },
  'zarr-zstd': { title: 'Zarr v3, sharded, zstd-compressed inner chunks', compressor: 'zstd' },
};

const isZarrLayout = (layout) => Object.hasOwn(ZARR_LAYOUTS, layout);

/** Chunk and shard shape for an n x n array (smaller arrays, e.g. the warm-up's, get one shard: a whole number of chunks). */
function geometry(n) {
  const chunk = Math.min(CHUNK, n);
  const shard = Math.min(SHARD, Math.ceil(n / chunk) * chunk);
  return { chunks: [chunk, chunk], shards: [shard, shard] };
}

/** Why `layout` cannot be written by this build (its codec is missing), or null. */
function missingCodec(layout, lib = require('../..')) {
  const { compressor } = ZARR_LAYOUTS[layout];
  if (compressor === null) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-bench-codec-'));
  try {
    lib.createZarr(path.join(dir, 'probe.zarr'), { shape: [4], dtype: 'float32', chunks: [4], compressor }).close();
    return null;
  } catch (err) {
    return `${compressor} codec not available in this build (${err.code ?? err.message})`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Returns {file: the store's directory}, converting `source` (the C-order data file of the same n) into it when
 * missing or made from something else (a meta JSON beside it records what it was made from).
 */
function ensureZarrStore(dir, n, layout, source, log = () => {}) {
  const { compressor } = ZARR_LAYOUTS[layout];
  const { chunks, shards } = geometry(n);
  const store = path.join(dir, `f32-${n}x${n}-${layout}.zarr`);
  const metaFile = `${store}.json`;
  const src = fs.statSync(source);
  const want = { source: path.basename(source), sourceBytes: src.size, sourceMtimeMs: Math.round(src.mtimeMs), chunks, shards, compressor };
  let ok = false;
  try {
    ok = JSON.stringify(JSON.parse(fs.readFileSync(metaFile, 'utf8'))) === JSON.stringify(want) && fs.existsSync(path.join(store, 'zarr.json'));
  } catch {
    ok = false;
  }
  if (!ok) {
    log(`writing ${store} (memmap convert, chunks ${chunks.join('x')}, shards ${shards.join('x')}${compressor ? `, ${compressor}` : ''})…`);
    fs.rmSync(metaFile, { force: true });
    fs.rmSync(store, { recursive: true, force: true });
    const args = [path.join(__dirname, '../../bin/memmap.js'), 'convert', source, store, '--dtype', 'float32', '--shape', `${n},${n}`, '--chunks', chunks.join(','), '--shards', shards.join(',')];
    if (compressor) args.push('--compressor', compressor);
    execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    fs.writeFileSync(metaFile, JSON.stringify(want));
  }
  return { file: store, n, layout };
}

/** Stored bytes of the chunks a workload touches in an n x n store (uncompressed: float32 chunks), or null. */
function touchedBytes(workload, n, p, layout) {
  if (!isZarrLayout(layout) || ZARR_LAYOUTS[layout].compressor !== null) return null;
  const c = geometry(n).chunks[0];
  const per = Math.ceil(n / c);
  const chunks = { scan: per * per, row: per, col: per, block: 1 }[workload];
  return chunks === undefined ? null : chunks * c * c * 4;
}

/** The regular files of a path: itself, or every file under a directory. */
function filesOf(p) {
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs.readdirSync(p, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? e.path, e.name));
}

module.exports = { CHUNK, SHARD, ZARR_LAYOUTS, isZarrLayout, geometry, missingCodec, ensureZarrStore, touchedBytes, filesOf };
