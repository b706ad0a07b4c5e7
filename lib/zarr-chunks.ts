// The chunks of one Zarr array: where each lives and its bytes. Uncompressed
// chunk and shard files (codecs: bytes, transpose, crc32c) are mapped and read
// in place; compressed ones are decoded into memory. Both are kept in small
// LRU caches: open mappings (each file a mapping; vm.max_map_count bounds them)
// and decoded chunks (by bytes).
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { maxBufferLength } from './binding';
import { type DType, ELEM_CODES, parseDType } from './dtype';
import { MemmapError } from './errors';
import { sizeOf, viewDescriptor } from './layout';
import { ADVICE_CODES } from './modes';
import { type AsyncStorage, type CancelToken, isAsync, type Storage } from './storage';
import { HeapStorage } from './storage-heap';
import { mapFile } from './storage-mapped';
import { crc32cDecode } from './zarr-codec-crc32c';
import { decodeShardIndex, shardIndexBytes } from './zarr-codec-sharding';
import { permutedStrides } from './zarr-codec-transpose';
import { decodeChain, WASM_CODECS } from './zarr-decode';
import { decodeOffThread } from './zarr-decode-pool';
import type { ChunkCodecs, ZarrMeta } from './zarr-meta';

/** A chunk's elements: bytes of `storage` from `offset`, at element `strides` in the chunk's axes, of dtype `dtype`. */
export interface ChunkData {
  storage: Storage;
  offset: number;
  /** Shared by the chunks of one codec chain: never changed. */
  readonly strides: readonly number[];
  dtype: DType;
  /** The file it is mapped in place from; null when decoded into memory. */
  file: string | null;
  /** The decoded bytes for single elements (get()), `offset` included; null for a mapped chunk. */
  view: DataView | null;
}

/** A chunk changed in memory: its coordinates, file (a shard when sharded) and number in the shard. */
export interface DirtyChunk {
  coords: number[];
  file: string;
  inner: number;
  data: ChunkData;
}

/** Where a chunk's stored bytes are, for a prefetch: `strides` (elements) when it is read in place, else null. */
export interface StoredChunk {
  storage: Storage;
  start: number;
  length: number;
  strides: number[] | null;
}

/** Advice a mapping keeps (applied to every chunk file mapped later); willneed and dontneed act once. */
const LASTING_ADVICE: readonly number[] = [ADVICE_CODES.normal, ADVICE_CODES.sequential, ADVICE_CODES.random];

/** Chunk files all stores of the process have mapped now (tests). */
export const mappedFileCount = (): number => mappedFiles;

/** Default bounds of a store's caches (openZarr()'s maxMappings and cacheBytes). */
export const MAX_MAPPINGS = 1024;
export const MAX_DECODED_BYTES = 64 * 2 ** 20;
/**
 * Chunk files mapped by all stores of the process together: half of Linux's default vm.max_map_count (65530). Past
 * it, a store that maps another file first unmaps its own oldest, down to 64.
 */
export const MAPPINGS_BUDGET = 32768;
let budget = MAPPINGS_BUDGET;
let minMappings = 64;
let mappedFiles = 0;

/** Sets the budget (of this thread's module instance) and the floor a store keeps under it; returns the old pair. Tests, and the off-thread worker (a budget of its own). */
export function setMappingsBudget(total: number, floor: number): [number, number] {
  const old: [number, number] = [budget, minMappings];
  budget = total;
  minMappings = floor;
  return old;
}

/** A store's cache bounds. */
export interface StoreLimits {
  /** Chunk files kept mapped (most recently used). */
  readonly mappings: number;
  /** Bytes of decoded chunks kept. */
  readonly decodedBytes: number;
}
export const DEFAULT_LIMITS: StoreLimits = { mappings: MAX_MAPPINGS, decodedBytes: MAX_DECODED_BYTES };

const UINT8 = parseDType('uint8');

interface FileEntry {
  file: string;
  storage: Storage | null;
  length: number;
  /** Shard index: [offset, nbytes] per inner chunk, -1 for an empty one. */
  index: Float64Array | null;
  /** Chunks (inner chunk numbers; 0 for a whole file) whose checksums were checked. */
  verified: Set<number>;
  /** What chunk() returned for the chunks read in place, by inner chunk number (valid while the entry is). */
  mapped: Map<number, ChunkData>;
}

/**
 * A chunk file whose chunks are read in place with nothing pending (see ChunkStore.placedFile()): the mapping, the
 * shard index (null: the file is one chunk, from byte 0), and what every chunk of it must be.
 */
export interface PlacedFile {
  readonly storage: Storage;
  readonly index: Float64Array | null;
  /** Bytes of the file. */
  readonly length: number;
  /** Bytes of one chunk. */
  readonly expect: number;
  readonly strides: readonly number[];
  readonly swap: boolean;
}

/** gzip/zlib off the JavaScript thread (node:zlib's async API), bounded as the sync decoders are. */
function inflateAsync(codec: string, bytes: Uint8Array, where: string, maxOutputLength: number): Promise<Uint8Array> {
  const run = codec === 'gzip' ? zlib.gunzip : zlib.inflate;
  return new Promise((resolve, reject) => {
    run(bytes, { maxOutputLength }, (err, out) => {
      if (err === null) resolve(out);
      else reject(new MemmapError('ERR_ZARR_CHUNK', `${where}: not valid ${codec} data`, { path: where, cause: err }));
    });
  });
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class ChunkStore {
  readonly #dir: string;
  readonly #meta: ZarrMeta;
  /** Inner chunk shape (the grid's when not sharded). */
  readonly chunkShape: number[];
  readonly #perShard: number[];
  readonly #files = new Map<string, FileEntry>();
  /** The entry #open() returned last (the newest in #files while it is there): a scan asks for one shard many times in a row. */
  #mru: FileEntry | null = null;
  /** where()'s last chunk file: the outer coordinates, key and path (a scan's chunks come a shard row at a time). */
  #lastOuter: number[] | null = null;
  #lastKey = '';
  #lastFile = '';
  /** How in-place chunks of a codec chain are read (computed once per chain: a scan reads thousands of chunks). */
  readonly #placed = new Map<ChunkCodecs, { inPlace: boolean; strides: readonly number[]; expect: number }>();
  /** Chunk file paths by key (path.join costs a read of a small block as much as the rest of its lookup). */
  readonly #paths = new Map<string, string>();
  readonly #decoded = new Map<string, { data: ChunkData; bytes: number }>();
  #decodedBytes = 0;
  /** 'r+': files mapped writable; only raw chunks (no bytes -> bytes codec, not even crc32c) are used in place. */
  readonly #writable: boolean;
  /** Chunks changed in memory and not yet written (compressed, or new in a shard), by cache key. */
  readonly #dirty = new Map<string, DirtyChunk>();
  #dirtyBytes = 0;
  #closed = false;
  /**
   * madvise of every chunk mapping. Random by default: the kernel's read-ahead (read_ahead_kb, often MiBs) would
   * pull in neighbouring chunks a read does not touch; reads prefetch exactly their chunks' bytes instead.
   */
  #advice: number = ADVICE_CODES.random;
  readonly limits: StoreLimits;
  /** Files a walk is collecting for one native call (hold()): not unmapped until it releases them. */
  #held: Set<FileEntry> | null = null;
  /** How many of #held are mapped (a missing file's entry holds nothing). */
  #heldFiles = 0;
  /** Decoded chunks the cache let go of during a hold (a walk may have them in its call): closed on release. */
  #letGo: Storage[] = [];
  /** Between hold() and its release (the file hold may have let go; decoded chunks are still kept). */
  #holding = false;
  #holdToken: object | null = null;

  constructor(dir: string, meta: ZarrMeta, writable = false, limits: StoreLimits = DEFAULT_LIMITS) {
    this.#dir = dir;
    this.limits = limits;
    this.#meta = meta;
    this.#writable = writable;
    const sh = meta.codecs.sharding;
    this.chunkShape = sh === null ? meta.grid.slice() : sh.inner.slice();
    this.#perShard = sh === null ? meta.grid.map(() => 1) : meta.grid.map((g, d) => g / sh.inner[d]);
  }

  /** Whether stored chunks are read in place (mapped) rather than decoded into memory. */
  get inPlace(): boolean {
    const sh = this.#meta.codecs.sharding;
    return this.#inPlace(sh === null ? this.#meta.codecs : sh.codecs);
  }

  /** Inner chunks per shard along each axis (all 1 when not sharded). */
  get perShard(): readonly number[] {
    return this.#perShard;
  }

  /** Where the chunk at `coords` (inner-chunk grid) is stored: its file (a shard when sharded), its key, its index in the shard. */
  where(coords: readonly number[]): { file: string; key: string; inner: number } {
    const sharded = this.#meta.codecs.sharding !== null;
    const ps = this.#perShard;
    const last = this.#lastOuter;
    let same = last !== null && last.length === coords.length;
    let inner = 0;
    for (let d = 0; d < coords.length; d++) {
      const o = sharded ? Math.floor(coords[d] / ps[d]) : coords[d];
      if (sharded) inner = inner * ps[d] + (coords[d] - o * ps[d]);
      if (same && (last as number[])[d] !== o) same = false;
    }
    if (same) return { file: this.#lastFile, key: this.#lastKey, inner };
    const outer = sharded ? coords.map((c, d) => Math.floor(c / ps[d])) : coords.slice();
    const key = this.#meta.key(outer);
    let file = this.#paths.get(key);
    if (file === undefined) {
      if (this.#paths.size >= 4096) this.#paths.clear();
      this.#paths.set(key, (file = path.join(this.#dir, key)));
    }
    this.#lastOuter = outer;
    this.#lastKey = key;
    this.#lastFile = file;
    return { file, key, inner };
  }

  /** The chunk's elements, or null where nothing is stored (the fill value). */
  chunk(coords: readonly number[]): ChunkData | null {
    this.#checkOpen();
    const { file, key, inner } = this.where(coords);
    const cacheKey = this.#dirty.size > 0 || this.#decoded.size > 0 ? `${key}#${inner}` : null;
    if (cacheKey !== null) {
      const dirty = this.#dirty.get(cacheKey);
      if (dirty !== undefined) return dirty.data;
      const hit = this.#decoded.get(cacheKey);
      if (hit !== undefined) {
        this.#decoded.delete(cacheKey);
        this.#decoded.set(cacheKey, hit);
        return hit.data;
      }
    }
    const entry = this.#open(file);
    const known = entry.mapped.get(inner);
    if (known !== undefined) return known;
    const r = this.#range(entry, inner);
    if (r === null) return null;
    const { start, length, codecs } = r;
    if (r.outside) {
      throw new MemmapError('ERR_ZARR_CHUNK', `${file}: index entry ${inner} (offset ${start}, ${length} bytes) is outside the shard (${entry.length} bytes)`, { path: file });
    }
    const data = this.#decode(entry, start, length, codecs, inner);
    if (data.file === null) this.#keepDecoded(cacheKey ?? `${key}#${inner}`, data, length);
    else entry.mapped.set(inner, data);
    return data;
  }

  /**
   * `file`'s chunks as a scan reads them without chunk() (no ChunkData made and kept per chunk: a scan's first pass
   * meets thousands): null when chunk() must be asked for each (not read in place, checksums to verify, chunks
   * changed or decoded in memory, the file missing). A chunk whose index entry is empty, out of the file, or of the
   * wrong size is still chunk()'s to report.
   */
  placedFile(file: string): PlacedFile | null {
    this.#checkOpen();
    if (this.#dirty.size > 0 || this.#decoded.size > 0) return null;
    const sh = this.#meta.codecs.sharding;
    const codecs = sh === null ? this.#meta.codecs : sh.codecs;
    const placed = this.#placement(codecs);
    if (!placed.inPlace || codecs.after.length > 0) return null;
    const entry = this.#open(file);
    if (entry.storage === null) return null;
    const index = sh === null ? null : (entry.index ??= this.#readIndex(entry));
    return { storage: entry.storage, index, length: entry.length, expect: placed.expect, strides: placed.strides, swap: !codecs.stored.isNative };
  }

  /** A copy of the bytes, made by the native copy kernel: a page the file lost is ERR_SIGBUS, not a crash. */
  #window(entry: FileEntry, start: number, length: number): Uint8Array {
    if (length > maxBufferLength) throw new MemmapError('ERR_TOO_LARGE', `${entry.file}: ${length} bytes exceed the largest ArrayBuffer`, { path: entry.file });
    const out = new Uint8Array(length);
    (entry.storage as Storage).copy(ELEM_CODES.uint8, false, viewDescriptor(start, [length], [1], 1), out);
    return out;
  }

  #placement(codecs: ChunkCodecs): { inPlace: boolean; strides: readonly number[]; expect: number } {
    let p = this.#placed.get(codecs);
    if (p === undefined) {
      p = { inPlace: this.#inPlace(codecs), strides: permutedStrides(this.chunkShape, codecs.order), expect: sizeOf(this.chunkShape) * codecs.stored.itemsize };
      this.#placed.set(codecs, p);
    }
    return p;
  }

  #decode(entry: FileEntry, start: number, length: number, codecs: ChunkCodecs, inner: number): ChunkData {
    const shape = this.chunkShape;
    const placed = this.#placement(codecs);
    const expect = placed.expect;
    const where = entry.file;
    const wrongSize = (n: number): MemmapError =>
      new MemmapError('ERR_ZARR_CHUNK', `${where}: a chunk of ${shape.join(' x ')} ${codecs.stored.name} holds ${expect} bytes, this one ${n}`, { path: where });
    if (placed.inPlace) {
      // Chunks share their strides array: nothing changes it (ChunkData's readers only read it).
      const strides = placed.strides;
      // In place: only checksums to check, once per mapping.
      const sums = codecs.after.length;
      if (sums > 0 && !entry.verified.has(inner)) {
        let bytes = this.#window(entry, start, length);
        for (let i = 0; i < sums; i++) bytes = crc32cDecode(bytes, where);
        entry.verified.add(inner);
      }
      if (length - 4 * sums !== expect) throw wrongSize(length - 4 * sums);
      // No DataView over the mapping: JavaScript reading a page the file lost dies of SIGBUS (get() copies natively).
      return { storage: entry.storage as Storage, offset: start, strides, dtype: codecs.stored, file: entry.file, view: null };
    }
    // Decompressed output is bounded by what the chunk can hold (+ the checksums still to strip): no gzip bomb.
    const limit = Math.min(expect + 4 * codecs.after.length, maxBufferLength);
    const bytes = decodeChain(codecs.after, this.#window(entry, start, length), where, limit);
    if (bytes.length !== expect) throw wrongSize(bytes.length);
    return { storage: new HeapStorage(bytes), offset: 0, strides: placed.strides, dtype: codecs.stored, file: null, view: dataView(bytes) };
  }

  /** Closed during a call (a getter of an argument): no mapping may be made that close() will not release. */
  #checkOpen(): void {
    if (this.#closed) throw new MemmapError('ERR_CLOSED', `Zarr array ${this.#dir} is closed`, { path: this.#dir });
  }

  /** Whether chunks with these codecs are read in place (only checksums to strip; raw only when writable). */
  #inPlace(codecs: ChunkCodecs): boolean {
    return codecs.after.every((c) => c === 'crc32c') && !(this.#writable && codecs.after.length > 0);
  }

  /**
   * Where the chunk at `coords` is stored and how (for a prefetch); null when reading it needs no file bytes (in
   * memory already, not stored, an index entry out of its shard: chunk() reports that one).
   */
  locate(coords: readonly number[]): StoredChunk | null {
    this.#checkOpen();
    const { file, key, inner } = this.where(coords);
    const cacheKey = `${key}#${inner}`;
    if (this.#dirty.has(cacheKey) || this.#decoded.has(cacheKey)) return null;
    const entry = this.#open(file);
    const r = this.#range(entry, inner);
    if (r === null || r.outside) return null;
    const strides = this.#inPlace(r.codecs) ? permutedStrides(this.chunkShape, r.codecs.order) : null;
    return { storage: entry.storage as Storage, start: r.start, length: r.length, strides };
  }

  /** The stored bytes of inner chunk `inner` of the file (the whole file unsharded); null when not stored. */
  #range(entry: FileEntry, inner: number): { start: number; length: number; codecs: ChunkCodecs; outside: boolean } | null {
    if (entry.storage === null) return null;
    const sh = this.#meta.codecs.sharding;
    if (sh === null) return { start: 0, length: entry.length, codecs: this.#meta.codecs, outside: false };
    const index = (entry.index ??= this.#readIndex(entry));
    const start = index[2 * inner];
    const length = index[2 * inner + 1];
    if (start === -1 && length === -1) return null;
    return { start, length, codecs: sh.codecs, outside: start < 0 || length < 0 || start + length > entry.length };
  }

  /**
   * Makes chunk(coords) cheap with the work off the JavaScript thread (the async twins): a chunk read in place has
   * its pages faulted in by the native prefetch; a compressed one has its bytes copied by the native kernel on the
   * libuv pool, then decoded (gzip/zlib by node:zlib's async API; zstd/blosc/lz4 by the decode pool's threads) and
   * joins the decoded-chunk cache as chunk() would put it. `wrap` runs one native async call with the caller's
   * cancellation. Nothing is cached once the store is closed.
   */
  async load(coords: readonly number[], wrap: <T>(storage: AsyncStorage, run: (c: CancelToken | undefined) => Promise<T>) => Promise<T>): Promise<void> {
    this.#checkOpen();
    const { file, key, inner } = this.where(coords);
    const cacheKey = `${key}#${inner}`;
    if (this.#dirty.has(cacheKey) || this.#decoded.has(cacheKey)) return;
    const entry = this.#open(file);
    const r = this.#range(entry, inner);
    const storage = entry.storage;
    if (r === null || r.outside || storage === null || !isAsync(storage)) return;
    const window = viewDescriptor(r.start, [r.length], [1], 1);
    if (this.#inPlace(r.codecs)) {
      await wrap(storage, (c) => storage.prefetch(window, 1, c));
      return;
    }
    let bytes: Uint8Array = new Uint8Array(await wrap(storage, (c) => storage.copyAsync(ELEM_CODES.uint8, false, window, c)));
    const expect = sizeOf(this.chunkShape) * r.codecs.stored.itemsize;
    const limit = Math.min(expect + 4 * r.codecs.after.length, maxBufferLength);
    if (r.codecs.after.some((c) => WASM_CODECS.includes(c))) {
      // The whole chain on a pool thread; null: no thread can start here, chunk() decodes it when the call reads it.
      const out = await decodeOffThread(r.codecs.after, bytes, entry.file, limit);
      if (out === null) return;
      bytes = out;
    } else {
      for (let i = r.codecs.after.length - 1; i >= 0; i--) {
        const c = r.codecs.after[i];
        bytes = c === 'crc32c' ? crc32cDecode(bytes, entry.file) : await inflateAsync(c, bytes, entry.file, limit);
      }
    }
    if (this.#closed || this.#dirty.has(cacheKey) || this.#decoded.has(cacheKey)) return;
    // A wrong size is left for chunk() to report (ERR_ZARR_CHUNK) when the call reads it.
    if (bytes.length !== expect) return;
    const data: ChunkData = { storage: new HeapStorage(bytes), offset: 0, strides: permutedStrides(this.chunkShape, r.codecs.order), dtype: r.codecs.stored, file: null, view: dataView(bytes) };
    this.#keepDecoded(cacheKey, data, r.length);
  }

  /** The advice every chunk mapping has (random unless advise() changed it). */
  get advice(): number {
    return this.#advice;
  }

  /** Sets the advice of every chunk mapping (lasting advice: also of those mapped later). */
  advise(advice: number): void {
    if (LASTING_ADVICE.includes(advice)) this.#advice = advice;
    for (const e of this.#files.values()) e.storage?.advise(advice);
  }

  #keepDecoded(key: string, data: ChunkData, _encoded: number): void {
    const bytes = data.storage.length;
    if (bytes > this.limits.decodedBytes) return;
    this.#decoded.set(key, { data, bytes });
    this.#decodedBytes += bytes;
    for (const [k, v] of this.#decoded) {
      if (this.#decodedBytes <= this.limits.decodedBytes) break;
      this.#decoded.delete(k);
      this.#decodedBytes -= v.bytes;
      if (this.#holding) this.#letGo.push(v.data.storage);
      else v.data.storage.close();
    }
  }

  #readIndex(entry: FileEntry): Float64Array {
    const sh = this.#meta.codecs.sharding;
    if (sh === null) throw new MemmapError('ERR_ZARR_CHUNK', 'not sharded');
    const count = this.#perShard.reduce((a, b) => a * b, 1);
    const size = shardIndexBytes(count, sh.indexCrc);
    if (entry.length < size) {
      throw new MemmapError('ERR_ZARR_CHUNK', `${entry.file}: ${entry.length} bytes cannot hold a shard index of ${size} bytes`, { path: entry.file });
    }
    const at = sh.indexAtStart ? 0 : entry.length - size;
    // A read() of the index, not a fault of the mapping: a fault would pull the shard in by read-ahead.
    const bytes = new Uint8Array(size);
    const read = (entry.storage as Storage).readAt?.(at, size, bytes) === true;
    return decodeShardIndex(read ? bytes : this.#window(entry, at, size), count, sh.indexEndian, sh.indexCrc, entry.file);
  }

  /** The file's entry, mapped (or known missing), most recently used last. */
  #open(file: string): FileEntry {
    const mru = this.#mru;
    if (mru !== null && mru.file === file) {
      this.#keep(mru);
      return mru;
    }
    const hit = this.#files.get(file);
    if (hit !== undefined) {
      this.#files.delete(file);
      this.#files.set(file, hit);
      this.#mru = hit;
      this.#keep(hit);
      return hit;
    }
    let storage: Storage | null = null;
    try {
      storage = mapFile({ filename: file, mode: this.#writable ? 'r+' : 'r', dtype: UINT8, shape: undefined, offset: 0, order: 'C', populate: false }).storage;
      if (this.#advice !== ADVICE_CODES.normal) storage.advise(this.#advice);
    } catch (err) {
      const code = err instanceof MemmapError ? err.code : '';
      if (code === 'ERR_EMPTY_FILE') throw new MemmapError('ERR_ZARR_CHUNK', `${file}: an empty chunk file`, { path: file });
      if (code !== 'ENOENT') throw err;
    }
    const entry: FileEntry = { file, storage, length: storage === null ? 0 : storage.length, index: null, verified: new Set(), mapped: new Map() };
    this.#files.set(file, entry);
    if (storage !== null) mappedFiles++;
    this.#keep(entry);
    this.#trim();
    // A hold of more files than the floor that keeps the process past its budget lets go (see hold()).
    if (this.#held !== null && mappedFiles > budget && this.#heldFiles > minMappings) {
      this.#held = null;
      this.#trim();
    }
    this.#mru = entry;
    return entry;
  }

  /**
   * Unmaps the least recently used files over the store's bound (or its floor, over the process's budget), oldest
   * first, up to the first held one (a hold's files are the newest: each use moves a file to the end) or `keep`'s.
   */
  #trim(keep: Storage | null = null): void {
    const over = (): boolean => this.#files.size > this.limits.mappings || (mappedFiles > budget && this.#files.size > minMappings);
    if (!over()) return;
    for (const [k, e] of this.#files) {
      if (this.#held?.has(e) === true || (keep !== null && e.storage === keep)) return;
      this.#files.delete(k);
      if (this.#mru === e) this.#mru = null;
      this.#unmap(e);
      if (!over()) return;
    }
  }

  /**
   * Keeps every file opened from now on mapped, and every decoded chunk the cache lets go of alive, until the returned
   * function runs: a walk collects a native call's chunks (the store may go past its bound meanwhile; the walks bound
   * how many files one call takes). A hold of more than `batchFiles * 2` mapped files that keeps the process past its budget
   * lets go (the store unmaps as usual: the walk then finds a source closed and takes its slower path); up to that
   * many it always holds. One hold at a time: a new one ends the last.
   * `carry` (the storage of the chunk the last walk step opened, not yet in a call): kept through the release that
   * ends the previous hold and held by this one. `files` false: decoded chunks only (a call that reads no mapping).
   */
  hold(carry: Storage | null = null, files = true): (carry?: Storage | null) => void {
    const held = new Set<FileEntry>();
    this.#held = files ? held : null;
    this.#heldFiles = 0;
    const mru = this.#mru;
    if (files && carry !== null && mru !== null && mru.storage === carry) this.#keep(mru);
    this.#holding = true;
    const token = {};
    this.#holdToken = token;
    return (keep: Storage | null = null) => {
      if (this.#holdToken !== token) return;
      this.#holdToken = null;
      this.#holding = false;
      this.#held = null;
      const kept = this.#letGo.splice(0).filter((s) => {
        if (s === keep) return true;
        s.close();
        return false;
      });
      this.#letGo.push(...kept);
      if (!this.#closed) this.#trim(keep);
    };
  }

  /** Adds the entry to the current hold, if any. */
  #keep(entry: FileEntry): void {
    const held = this.#held;
    if (held === null || held.has(entry)) return;
    held.add(entry);
    if (entry.storage !== null) this.#heldFiles++;
  }

  /** Closes the entry's mapping (once: the entry leaves #files with it). */
  #unmap(entry: FileEntry): void {
    if (entry.storage === null) return;
    mappedFiles--;
    entry.storage.close();
  }

  /** Files one native call of a walk with no slower path (a copy) may take: a hold of that many never lets go. */
  get batchFiles(): number {
    return Math.max(1, Math.floor(Math.min(this.limits.mappings, minMappings) / 2));
  }

  /** Whether the store holds a mapping of `file` now (not when it found the file missing, or never opened it). */
  mapsFile(file: string): boolean {
    return (this.#files.get(file)?.storage ?? null) !== null;
  }

  /** Mappings open now (tests check the bound). */
  get openMappings(): number {
    let n = 0;
    for (const e of this.#files.values()) if (e.storage !== null) n++;
    return n;
  }

  /**
   * Keeps `data` (the chunk at `coords`, in memory) as changed: reads see it, and takeDirty() hands it to the writer.
   * A chunk in the decode cache moves out of it, so eviction cannot close it.
   */
  markDirty(coords: readonly number[], data: ChunkData): void {
    const { file, key, inner } = this.where(coords);
    const cacheKey = `${key}#${inner}`;
    if (this.#dirty.has(cacheKey)) return;
    const hit = this.#decoded.get(cacheKey);
    if (hit !== undefined && hit.data === data) {
      this.#decoded.delete(cacheKey);
      this.#decodedBytes -= hit.bytes;
    }
    this.#dirty.set(cacheKey, { coords: coords.slice(), file, inner, data });
    this.#dirtyBytes += data.storage.length;
  }

  /** Bytes of changed chunks held in memory. */
  get dirtyBytes(): number {
    return this.#dirtyBytes;
  }

  /** The changed chunks, which stop being tracked (their storage is the caller's to close). */
  takeDirty(): DirtyChunk[] {
    const out = [...this.#dirty.values()];
    this.#dirty.clear();
    this.#dirtyBytes = 0;
    return out;
  }

  /** A shard's index and stored bytes (null when the shard file does not exist), to rebuild it. */
  shardParts(file: string): { index: Float64Array; bytes: (start: number, length: number) => Uint8Array } | null {
    const entry = this.#open(file);
    if (entry.storage === null) return null;
    const index = (entry.index ??= this.#readIndex(entry));
    return { index, bytes: (start, length) => this.#window(entry, start, length) };
  }

  /** Drops what is cached of `file` (it was replaced): its mapping, and its decoded chunks. */
  forget(file: string): void {
    const e = this.#files.get(file);
    if (e !== undefined) {
      this.#files.delete(file);
      if (this.#mru === e) this.#mru = null;
      this.#unmap(e);
    }
    const key = path.relative(this.#dir, file).split(path.sep).join('/');
    for (const [k, v] of this.#decoded) {
      if (k.slice(0, k.lastIndexOf('#')) !== key) continue;
      this.#decoded.delete(k);
      this.#decodedBytes -= v.bytes;
      v.data.storage.close();
    }
  }

  /**
   * Where the chunk at `coords` is stored, as it is on disk (encoded): its file, its byte range, and that file's
   * page residency (one byte per page from offset 0, computed once per file in `pages`); null when not stored.
   */
  storedRange(coords: readonly number[], pages: Map<string, Uint8Array>): { start: number; length: number; pages: Uint8Array } | null {
    const { file, inner } = this.where(coords);
    const entry = this.#open(file);
    const r = this.#range(entry, inner);
    if (r === null || r.outside) return null;
    const { start, length } = r;
    let p = pages.get(file);
    if (p === undefined) {
      p = (entry.storage as Storage).residency();
      pages.set(file, p);
    }
    return { start, length, pages: p };
  }

  /** msync of every writable mapping. */
  flushMappings(): void {
    for (const e of this.#files.values()) e.storage?.flush();
  }

  close(): void {
    for (const d of this.#dirty.values()) d.data.storage.close();
    this.#dirty.clear();
    this.#dirtyBytes = 0;
    this.#closed = true;
    for (const e of this.#files.values()) this.#unmap(e);
    this.#files.clear();
    this.#mru = null;
    this.#held = null;
    this.#holding = false;
    this.#holdToken = null;
    for (const s of this.#letGo.splice(0)) s.close();
    for (const v of this.#decoded.values()) v.data.storage.close();
    this.#decoded.clear();
    this.#decodedBytes = 0;
  }
}
