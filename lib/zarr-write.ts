// The write side of Zarr: createZarr() (metadata for v2 and v3, as zarr-python
// writes it), chunk and shard encoding, and the files. Every file is written to
// a temporary name and renamed over the old one, so a reader sees the old file
// or the new one, never half of either: a shard's data and index change together.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { pageSize } from './memmap';
import { codecOf } from './codec';
import { type DType, type DTypeString, parseDType } from './dtype';
import { describe, fsError, MemmapError, MemmapRangeError, MemmapTypeError, osError } from './errors';
import { normalizeOrder, normalizeShape, type Order, sizeOf } from './layout';
import { readOptions } from './options';
import { normalizePath } from './paths';
import { crc32c } from './zarr-codec-crc32c';
import { shardIndexBytes } from './zarr-codec-sharding';
import { isObject } from './zarr-meta';
import { readBytes } from './storage-mapped';
import type { BytesCodecName, ChunkCodecs, CodecSettings, Sharding, ZarrMeta } from './zarr-meta';
import { compressionOf, defaultSettings } from './zarr-compressor';
import { bloscEncode } from './zarr-codec-blosc';
import { lz4Encode } from './zarr-codec-lz4';
import { zstdEncode } from './zarr-codec-zstd';
import { MAX_WASM_BYTES } from './zarr-wasm';

const WASM_CODECS = new Set(['zstd', 'blosc', 'lz4']);
import type { ChunkData, ChunkStore, DirtyChunk } from './zarr-chunks';
import { withFileLock } from './zarr-lock';

/** What createZarr() accepts as `compressor`. */
export type ZarrCompressor =
  | null
  | 'gzip'
  | 'zlib'
  | 'zstd'
  | 'blosc'
  | 'lz4'
  | { name: string; configuration?: Record<string, unknown> }
  | { id: string; [option: string]: unknown };

export interface CreateZarrOptions<D extends DTypeString = DTypeString> {
  shape: number | readonly number[];
  /** Element type (any memmap dtype string; stored little-endian); it types the result. */
  dtype: D;
  /** Chunk shape (a shard's inner chunks). Default: about 1 MiB, equal power-of-two sides, clipped to the shape. */
  chunks?: readonly number[];
  /** v3 shard shape, a multiple of `chunks`; null: unsharded. Default: up to 64 chunks per shard (8 x 8 in 2-d). */
  shards?: readonly number[] | null;
  /** null (default: raw little-endian chunks), 'gzip', 'zstd', 'blosc', 'zlib' and 'lz4' (v2 only), or the codec's Zarr JSON. */
  compressor?: ZarrCompressor;
  /** Value of chunks never written: a number, NaN, ±Infinity, a bigint, a boolean, or { re, im } / [re, im]. Default 0. */
  fillValue?: unknown;
  /** 3 (default) or 2. */
  zarrFormat?: 2 | 3;
  /** Axis names (v3 `dimension_names`; v2: xarray's `_ARRAY_DIMENSIONS` attribute). */
  dimensionNames?: readonly (string | null)[];
  /** User attributes (JSON). */
  attributes?: Record<string, unknown>;
  /** Element order inside a chunk: 'C' (default) or 'F' (v2 `order`, v3 a transpose codec). */
  order?: Order;
  /** Replace an existing Zarr array or group at `path` (zarr-python's mode 'w'); default false refuses (mode 'w-'). */
  overwrite?: boolean;
}

const CHUNK_TARGET_BYTES = 2 ** 20;
const CHUNKS_PER_SHARD = 64;

/** Default chunk shape: equal power-of-two sides of about 1 MiB, clipped to the shape. */
export function defaultChunks(shape: readonly number[], itemsize: number): number[] {
  const n = shape.length;
  if (n === 0) return [];
  const side = 2 ** Math.floor(Math.log2(Math.max(1, CHUNK_TARGET_BYTES / itemsize)) / n);
  return shape.map((s) => Math.max(1, Math.min(s, side)));
}

/** Default shard shape: up to 64 chunks (2^floor(6/ndim) per axis), clipped to the chunk grid. */
export function defaultShards(shape: readonly number[], chunks: readonly number[]): number[] {
  const per = 2 ** Math.floor(Math.log2(CHUNKS_PER_SHARD) / Math.max(1, shape.length));
  return chunks.map((c, d) => c * Math.max(1, Math.min(per, Math.ceil(shape[d] / c))));
}

/** A float in Zarr JSON: a number, or "NaN" / "Infinity" / "-Infinity". */
function jsonFloat(x: number): number | string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

/** The fill value as Zarr JSON (v2 and v3 spell these alike), checked against the dtype. */
function fillJson(dt: DType, x: unknown): unknown {
  const bad = (cause?: unknown): never => {
    throw new MemmapTypeError('ERR_INVALID_VALUE', `createZarr(): fillValue ${describe(x)} does not fit ${dt.name}`, cause === undefined ? {} : { cause });
  };
  try {
    codecOf(dt).write(new DataView(new ArrayBuffer(dt.itemsize)), 0, x); // range and type checks, as set()
  } catch (err) {
    bad(err);
  }
  if (dt.kind === 'b') return Boolean(x);
  if (dt.kind === 'i' || dt.kind === 'u') {
    const n = Number(x);
    if (!Number.isSafeInteger(n)) bad();
    return n;
  }
  if (dt.kind === 'f') return jsonFloat(Number(x));
  const v = new DataView(new ArrayBuffer(16));
  const c = parseDType(dt.itemsize === 8 ? '<c8' : '<c16');
  codecOf(c).write(v, 0, x);
  const half = dt.itemsize / 2;
  const re = half === 4 ? v.getFloat32(0, true) : v.getFloat64(0, true);
  const im = half === 4 ? v.getFloat32(4, true) : v.getFloat64(8, true);
  return [jsonFloat(re), jsonFloat(im)];
}

function checkChunks(x: unknown, shape: readonly number[], what: string): number[] {
  const s = normalizeShape(x, `createZarr() option ${what}`);
  if (s.length !== shape.length) throw new MemmapRangeError('ERR_INVALID_SHAPE', `createZarr(): ${what} has ${s.length} dimensions, shape ${shape.length}`);
  if (s.some((c) => c < 1)) throw new MemmapRangeError('ERR_INVALID_SHAPE', `createZarr(): ${what} must hold positive integers`);
  return s;
}

function writeFileAtomic(file: string, write: (fd: number) => void): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let fd = -1;
  try {
    fs.mkdirSync(nodePath.dirname(file), { recursive: true });
    fd = fs.openSync(tmp, 'wx');
    write(fd);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd >= 0) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (inUseOnWindows(err, file)) {
      throw new MemmapError('ERR_BUSY', `${file} is in use (mapped or open by another reader): Windows cannot replace it until that reader closes it`, { path: file, syscall: 'rename', cause: err });
    }
    throw err instanceof MemmapError ? err : fsError(err, file);
  }
}

/** Windows refuses to rename over a file some process maps or holds open without FILE_SHARE_DELETE. */
function inUseOnWindows(err: unknown, file: string): boolean {
  if (process.platform !== 'win32') return false;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY') return false;
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function writeJson(file: string, doc: unknown): void {
  const text = Buffer.from(JSON.stringify(doc, null, 2) + '\n');
  writeFileAtomic(file, (fd) => fs.writeSync(fd, text));
}

/** Zarr metadata files of a node at `dir`. */
const META_FILES = ['zarr.json', '.zarray', '.zgroup', '.zattrs'];

/**
 * Creates a Zarr array directory (metadata only: chunks are written when set) and returns its path.
 * Every option is checked before anything is written.
 */
export function createZarrStore(path: unknown, options: unknown): string {
  const file = normalizePath(path);
  if (typeof file !== 'string') throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'createZarr() takes a path that is valid UTF-8 (a string or file: URL)');
  if (options === undefined) throw new MemmapTypeError('ERR_SHAPE_REQUIRED', 'createZarr() needs options { shape, dtype }');
  const o = readOptions(options, ['shape', 'dtype', 'chunks', 'shards', 'compressor', 'fillValue', 'zarrFormat', 'dimensionNames', 'attributes', 'order', 'overwrite'], 'createZarr()');
  if (o.shape === undefined) throw new MemmapTypeError('ERR_SHAPE_REQUIRED', 'createZarr() needs a shape');
  if (o.dtype === undefined) throw new MemmapTypeError('ERR_DTYPE_REQUIRED', 'createZarr() needs a dtype');
  const shape = normalizeShape(o.shape, 'createZarr() option shape');
  const dt = parseDType(o.dtype);
  const format = o.zarrFormat ?? 3;
  if (format !== 2 && format !== 3) throw new MemmapRangeError('ERR_INVALID_ARG_VALUE', `createZarr() option zarrFormat must be 2 or 3, got ${describe(format)}`);
  const chunks = o.chunks === undefined ? defaultChunks(shape, dt.itemsize) : checkChunks(o.chunks, shape, 'chunks');
  let shards: number[] | null = null;
  if (format === 3 && o.shards !== null) shards = o.shards === undefined ? defaultShards(shape, chunks) : checkChunks(o.shards, shape, 'shards');
  if (format === 2 && o.shards !== undefined && o.shards !== null) throw new MemmapError('ERR_ZARR_UNSUPPORTED', 'createZarr(): shards need zarrFormat 3');
  if (shards !== null) {
    for (let d = 0; d < shape.length; d++) {
      if (shards[d] % chunks[d] !== 0) throw new MemmapRangeError('ERR_INVALID_SHAPE', `createZarr(): the shard shape (${shards.join(', ')}) must be a multiple of the chunk shape (${chunks.join(', ')})`);
    }
  }
  const compression = compressionOf(o.compressor, format, dt.itemsize);
  // The wasm codecs work in a 32-bit memory: chunks too large for them are refused now, not at the first write.
  if (compression !== null && WASM_CODECS.has(compression.name) && sizeOf(chunks) * dt.itemsize > MAX_WASM_BYTES / 2) {
    throw new MemmapRangeError('ERR_INVALID_SHAPE', `createZarr(): ${compression.name} chunks hold at most ${MAX_WASM_BYTES / 2} bytes; these ${sizeOf(chunks) * dt.itemsize}`);
  }
  const order = o.order === undefined ? 'C' : normalizeOrder(o.order);
  const fill = fillJson(dt, o.fillValue ?? 0);
  const attributes = o.attributes ?? {};
  if (!isObject(attributes)) throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `createZarr() option attributes must be an object, got ${describe(attributes)}`);
  let attrs: Record<string, unknown>;
  try {
    attrs = JSON.parse(JSON.stringify(attributes)) as Record<string, unknown>;
  } catch (err) {
    throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', 'createZarr() option attributes must be JSON-serialisable', { cause: err });
  }
  let dims: (string | null)[] | null = null;
  if (o.dimensionNames !== undefined) {
    const n = o.dimensionNames;
    if (!Array.isArray(n) || n.length !== shape.length || n.some((x) => x !== null && typeof x !== 'string')) {
      throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', 'createZarr() option dimensionNames must list a string or null per dimension');
    }
    dims = n.slice() as (string | null)[];
  }
  const overwrite = o.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'createZarr() option overwrite must be a boolean');

  const dir = nodePath.resolve(file);
  prepareDir(dir, overwrite);
  const bytesCodec = { name: 'bytes', configuration: { endian: 'little' } };
  const after = compression === null ? [] : [compression.v3];
  const transpose = order === 'F' && shape.length > 1 ? [{ name: 'transpose', configuration: { order: shape.map((_, i) => shape.length - 1 - i) } }] : [];
  if (format === 3) {
    const inner = [...transpose, bytesCodec, ...after];
    const codecs =
      shards === null
        ? inner
        : [{ name: 'sharding_indexed', configuration: { chunk_shape: chunks, codecs: inner, index_codecs: [bytesCodec, { name: 'crc32c' }], index_location: 'end' } }];
    const doc: Record<string, unknown> = {
      shape,
      data_type: dt.name,
      chunk_grid: { name: 'regular', configuration: { chunk_shape: shards ?? chunks } },
      chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
      fill_value: fill,
      codecs,
      attributes: attrs,
      zarr_format: 3,
      node_type: 'array',
      storage_transformers: [],
    };
    if (dims !== null) doc.dimension_names = dims;
    writeJson(nodePath.join(dir, 'zarr.json'), doc);
  } else {
    const doc = {
      zarr_format: 2,
      shape,
      chunks,
      dtype: `${dt.itemsize === 1 ? '|' : '<'}${dt.kind}${dt.itemsize}`,
      compressor: compression === null ? null : compression.v2,
      fill_value: fill,
      order,
      filters: null,
      dimension_separator: '.',
    };
    if (dims !== null) attrs._ARRAY_DIMENSIONS = dims;
    writeJson(nodePath.join(dir, '.zattrs'), attrs);
    writeJson(nodePath.join(dir, '.zarray'), doc);
  }
  return dir;
}

/** Makes `dir` an empty directory: refuses anything there unless `overwrite` and it is a Zarr node. */
function prepareDir(dir: string, overwrite: boolean): void {
  let entries: string[] | null = null;
  try {
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw osError('EEXIST', `createZarr(): ${dir} exists and is not a directory`, { path: dir });
    entries = fs.readdirSync(dir);
  } catch (err) {
    if (err instanceof MemmapError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, dir);
  }
  if (entries !== null && entries.length > 0) {
    if (!overwrite) throw osError('EEXIST', `createZarr(): ${dir} is not empty (pass { overwrite: true } to replace a Zarr array or group)`, { path: dir });
    if (!entries.some((e) => META_FILES.includes(e))) {
      throw new MemmapError('ERR_NOT_ZARR_ARRAY', `createZarr(): ${dir} holds files but no Zarr metadata: not overwritten`, { path: dir });
    }
    for (const e of entries) {
      const f = nodePath.join(dir, e);
      try {
        fs.rmSync(f, { recursive: true, force: true });
      } catch (err) {
        throw fsError(err, f); // Windows: EPERM while an open array maps a chunk of it
      }
    }
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw fsError(err, dir);
  }
}

// ---- chunk and shard files ---------------------------------------------------

/** bytes after the encoding codecs, in order. */
export function encodeChunk(bytes: Uint8Array, after: readonly BytesCodecName[], levels: CodecSettings): Uint8Array {
  let out = bytes;
  for (const c of after) {
    if (c === 'gzip') out = gzipSync(out, { level: levels.gzip });
    else if (c === 'zlib') out = deflateSync(out, { level: levels.zlib });
    else if (c === 'zstd') out = zstdEncode(out, levels.zstd);
    else if (c === 'blosc') out = bloscEncode(out, levels.blosc);
    else if (c === 'lz4') out = lz4Encode(out, levels.lz4);
    else {
      const sum = new Uint8Array(out.length + 4);
      sum.set(out);
      new DataView(sum.buffer).setUint32(out.length, crc32c(out), true);
      out = sum;
    }
  }
  return out;
}

/** Where an uncompressed inner chunk of `n` bytes may start: a page boundary, or (smaller chunks) a power of two so none straddles a page. */
export function chunkAlignment(n: number): number {
  const page = pageSize;
  if (n >= page) return page;
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** One element of `stored` (its byte order) from a native-order element. */
export function storedElement(native_: Uint8Array, stored: DType): Uint8Array {
  if (stored.isNative) return native_.slice();
  const out = native_.slice();
  const lane = stored.kind === 'c' ? stored.itemsize / 2 : stored.itemsize;
  for (let s = 0; s < out.length; s += lane) out.subarray(s, s + lane).reverse();
  return out;
}

/** Writes `count` copies of `elem` at `pos` (nothing when every byte is 0: the file is zero-filled already). */
function writePattern(fd: number, pos: number, elem: Uint8Array, count: number): void {
  if (elem.every((b) => b === 0)) return;
  const block = Math.max(1, Math.floor(2 ** 20 / elem.length));
  const buf = Buffer.alloc(Math.min(block, count) * elem.length);
  for (let i = 0; i < buf.length; i += elem.length) buf.set(elem, i);
  for (let done = 0; done < count; ) {
    const n = Math.min(block, count - done);
    fs.writeSync(fd, buf, 0, n * elem.length, pos + done * elem.length);
    done += n;
  }
}

/** The shard index bytes: (offset, nbytes) per inner chunk, 2^64-1 twice for an empty one, + crc32c. */
function encodeIndex(entries: readonly ([number, number] | null)[], sh: Sharding): Uint8Array {
  const body = new Uint8Array(16 * entries.length);
  const v = new DataView(body.buffer);
  const little = sh.indexEndian === 'little';
  const empty = 2n ** 64n - 1n;
  entries.forEach((e, i) => {
    v.setBigUint64(16 * i, e === null ? empty : BigInt(e[0]), little);
    v.setBigUint64(16 * i + 8, e === null ? empty : BigInt(e[1]), little);
  });
  return sh.indexCrc ? encodeChunk(body, ['crc32c'], defaultSettings(3, 1)) : body;
}

/**
 * Writes a shard file of `count` inner chunks: part i is its encoded bytes, null (empty), or `{ fill }` (an
 * uncompressed chunk of `n` bytes filled with one element). Uncompressed shards (`aligned`) put each inner chunk on
 * a chunkAlignment() boundary, so it can be mapped and read in place; the index goes at the end (or the start).
 */
export function writeShard(file: string, parts: readonly (Uint8Array | { fill: Uint8Array; n: number } | null)[], sh: Sharding, aligned: boolean): void {
  const indexBytes = shardIndexBytes(parts.length, sh.indexCrc);
  let pos = sh.indexAtStart ? indexBytes : 0;
  const entries: ([number, number] | null)[] = [];
  for (const p of parts) {
    if (p === null) {
      entries.push(null);
      continue;
    }
    const n = p instanceof Uint8Array ? p.length : p.n;
    if (aligned) pos = alignUp(pos, chunkAlignment(n));
    entries.push([pos, n]);
    pos += n;
  }
  const index = encodeIndex(entries, sh);
  writeFileAtomic(file, (fd) => {
    fs.ftruncateSync(fd, pos + (sh.indexAtStart ? 0 : indexBytes));
    parts.forEach((p, i) => {
      const e = entries[i];
      if (p === null || e === null) return;
      if (p instanceof Uint8Array) fs.writeSync(fd, p, 0, p.length, e[0]);
      else writePattern(fd, e[0], p.fill, p.n / p.fill.length);
    });
    fs.writeSync(fd, index, 0, index.length, sh.indexAtStart ? 0 : pos); // the index last
  });
}

/** Writes a whole (unsharded) chunk file: encoded bytes, or `n` bytes of one repeated element. */
export function writeChunkFile(file: string, part: Uint8Array | { fill: Uint8Array; n: number }): void {
  writeFileAtomic(file, (fd) => {
    if (part instanceof Uint8Array) fs.writeSync(fd, part, 0, part.length, 0);
    else {
      fs.ftruncateSync(fd, part.n);
      writePattern(fd, 0, part.fill, part.n / part.fill.length);
    }
  });
}

/** Settings chunks are rewritten with: the store's own, else the defaults. */
export function levelsOf(meta: ZarrMeta): CodecSettings {
  const sh = meta.codecs.sharding;
  return meta.levels ?? defaultSettings(meta.zarrFormat, (sh === null ? meta.codecs : sh.codecs).stored.itemsize);
}

/** Chunks are stored raw (mapped and written in place): no bytes -> bytes codec. */
export function isRaw(codecs: ChunkCodecs): boolean {
  return codecs.after.length === 0;
}

/** Bytes of a chunk in its stored layout: `n` from `data.offset`. */
function chunkBytesOf(data: ChunkData, n: number): Uint8Array {
  return readBytes(data.storage, data.offset, n);
}

/**
 * Before `file` is replaced: its cached mapping is closed (Windows cannot rename over a mapped file; elsewhere a
 * reader of the old file keeps it), and on Windows a caller's array still over it is ERR_BUSY, before anything is written.
 */
function release(store: ChunkStore, file: string, inUse: (file: string) => boolean): void {
  if (process.platform === 'win32' && inUse(file)) {
    throw new MemmapError('ERR_BUSY', `${file} is mapped by an array chunk() returned: Windows cannot replace it until that array is closed`, { path: file });
  }
  store.forget(file);
}

/**
 * Writes changed in-memory chunks: a whole chunk file each when unsharded; when sharded, each touched shard is
 * rebuilt (its other inner chunks copied as stored) and replaced in one rename, data and index together.
 */
export function writeDirty(store: ChunkStore, meta: ZarrMeta, dirty: readonly DirtyChunk[], inUse: (file: string) => boolean = () => false): void {
  const levels = levelsOf(meta);
  const sh = meta.codecs.sharding;
  const n = sizeOf(store.chunkShape) * (sh === null ? meta.codecs.stored : sh.codecs.stored).itemsize;
  const done = new Set<DirtyChunk>();
  try {
    if (sh === null) {
      for (const d of dirty) {
        const bytes = encodeChunk(chunkBytesOf(d.data, n), meta.codecs.after, levels);
        release(store, d.file, inUse);
        writeChunkFile(d.file, bytes);
        done.add(d);
      }
      return;
    }
    const byFile = new Map<string, DirtyChunk[]>();
    for (const d of dirty) {
      const list = byFile.get(d.file);
      if (list === undefined) byFile.set(d.file, [d]);
      else list.push(d);
    }
    const count = store.perShard.reduce((a, b) => a * b, 1);
    for (const [file, list] of byFile) {
      // One writer per shard at a time (zarr-lock.ts); the shard is read again under the lock, so the inner chunks
      // other writers changed since it was mapped are kept.
      withFileLock(file, () => {
        store.forget(file);
        const old = store.shardParts(file);
        const parts: (Uint8Array | null)[] = [];
        for (let i = 0; i < count; i++) {
          const off = old === null ? -1 : old.index[2 * i];
          parts.push(old === null || off < 0 ? null : old.bytes(off, old.index[2 * i + 1]).slice());
        }
        for (const d of list) parts[d.inner] = encodeChunk(chunkBytesOf(d.data, n), sh.codecs.after, levels);
        release(store, file, inUse);
        writeShard(file, parts, sh, isRaw(sh.codecs));
        store.forget(file);
      });
      for (const d of list) done.add(d);
    }
  } finally {
    // Chunks not written (an error) stay changed in memory, for the next flush(); the written ones are released.
    for (const d of dirty) {
      if (done.has(d)) d.data.storage.close();
      else store.markDirty(d.coords, d.data);
    }
  }
}

/**
 * Creates the missing file of a raw chunk at `coords` at full size, filled with the fill value: a chunk file, or a
 * shard with every inner chunk that overlaps the array in place (page-aligned) and empty entries for the rest.
 */
export function createRawFile(store: ChunkStore, meta: ZarrMeta, coords: readonly number[], file: string): void {
  const sh = meta.codecs.sharding;
  const stored = sh === null ? meta.codecs.stored : sh.codecs.stored;
  const elem = storedElement(meta.fill, stored);
  const n = sizeOf(store.chunkShape) * stored.itemsize;
  if (sh === null) {
    writeChunkFile(file, { fill: elem, n });
    return;
  }
  const per = store.perShard;
  const count = per.reduce((a, b) => a * b, 1);
  const parts: ({ fill: Uint8Array; n: number } | null)[] = [];
  for (let i = 0; i < count; i++) {
    // Inner chunk i (C order in the shard): does it overlap the array?
    let rest = i;
    let inside = true;
    for (let d = per.length - 1; d >= 0; d--) {
      const local = rest % per[d];
      rest = Math.floor(rest / per[d]);
      const c = Math.floor(coords[d] / per[d]) * per[d] + local;
      if (c * store.chunkShape[d] >= meta.shape[d]) inside = false;
    }
    parts.push(inside ? { fill: elem, n } : null);
  }
  writeShard(file, parts, sh, true);
}
