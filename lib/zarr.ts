// Zarr arrays on local disk (issue 13): openZarr() opens a v2 (`.zarray`) or
// v3 (`zarr.json`) array directory, read-only or 'r+'; createZarr() makes one
// (lib/zarr-write.ts); listZarr() describes a group. Reads walk the chunks a selection touches and copy each
// chunk's part with the native copy kernel; reductions run chunk by chunk (lib/zarr-reduce.ts). view() makes a
// ZarrArray over a selection of the same store (an index composed with every call's).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { inspect } from 'node:util';
import { maxBufferLength, native } from './binding';
import type { MeanTypes, Reduced, ReduceArgs, SumTypes } from './array';
import { cancellable, MemmapArray as MemmapArrayClass, type MemmapArray, memoryArray, newBuffer, outBytes, signalOf, valueReader } from './array';
import { guardPrototype } from './boundary';
import { type Codec, codecOf } from './codec';
import { type CanonicalDType, type DataTypes, type DType, DTYPES, type DTypeName, type DTypeString, ELEM_CODES, type InputTypes, parseDType, type ValueTypes } from './dtype';
import { describe, fsError, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { dtypeRepr, type Printable, reprOf, strOf, tupleRepr } from './format';
import { axisIndex, indexColumns, type IndexItem, sizeOf, stridesFor, viewDescriptor, viewOf } from './layout';
import { mapArray, pageSize } from './memmap';
import { editBytes } from './storage-mapped';
import { ADVICE_CODES, type Advice, adviceCode } from './modes';
import { appendOwn, normalizeMode, ownSlots, readOptions } from './options';
import { displayPath, normalizePath } from './paths';
import type { AccumulateOptions, ReduceOptions, VarianceOptions } from './reduce';
import { abortError, type AsyncOptions, isAborted, onAbort, plan, type Reduction, splitArgs } from './reduce';
import type { AsyncStorage, CancelToken, Storage } from './storage';
import { HeapStorage } from './storage-heap';
import { type ChunkData, ChunkStore, DEFAULT_LIMITS, type DirtyChunk, MAPPINGS_BUDGET, type PlacedFile, type StoreLimits } from './zarr-chunks';
import { coalesce, ReadAhead } from './zarr-prefetch';
import { offThreadWorth, runOffThread } from './zarr-offthread';
import { permutedStrides } from './zarr-codec-transpose';
import { withFileLock } from './zarr-lock';
import { type ChunkBlock, reduceChunked, type ZarrSource } from './zarr-reduce';
import { createRawFile, type CreateZarrOptions, createZarrStore, isRaw, storedElement, writeDirty } from './zarr-write';
import { settingsFromDoc } from './zarr-compressor';
import { isObject, own, parseJsonObject, v2Meta, v3Meta, type ZarrMeta } from './zarr-meta';

export interface OpenZarrOptions {
  /** 'r' (default) or 'r+' (set(), write(), fill(); one writer per chunk file, see docs). */
  mode?: 'r' | 'r+';
  /** A member of the group at `path`, e.g. 'a/b' (`/`-separated, no `..`). */
  path?: string;
  /**
   * Chunk files (shards) kept mapped, most recently used (default 1024; 1 to 32768). A full scan of a store of more
   * files maps them again each time; every store of a thread together keeps at most 32768 (the off-thread worker 8192).
   */
  maxMappings?: number;
  /** Bytes of decoded (compressed) chunks kept in memory (default 64 MiB; 0 keeps none). */
  cacheBytes?: number;
}

/** What ZarrArray.residency() returns. */
export interface ZarrResidency {
  /** Chunks along each axis (inner chunks when sharded). */
  grid: number[];
  /** Per chunk, C order over the grid: the fraction of its stored bytes in the page cache, -1 when not stored. */
  chunks: Float32Array;
  storedBytes: number;
  residentBytes: number;
  /** residentBytes / storedBytes (1 when nothing is stored). */
  fraction: number;
}

/** What listZarr() returns. */
export interface ZarrNodeInfo {
  nodeType: 'array' | 'group';
  zarrFormat: 2 | 3;
  attributes: Record<string, unknown>;
  /** Direct children that are Zarr nodes, by name (a group's; an array has none). */
  members: { name: string; nodeType: 'array' | 'group' }[];
}

const ZARR_JSON = 'zarr.json';

/** The directory `path` (+ member `sub`) names, absolute. */
function nodeDir(p: unknown, sub: unknown, fn: string): string {
  const file = normalizePath(p);
  if (typeof file !== 'string') throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `${fn} takes a path that is valid UTF-8 (a string or file: URL)`);
  let dir = nodePath.resolve(file);
  if (sub !== undefined) {
    if (typeof sub !== 'string') throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `${fn} option path must be a string, got ${describe(sub)}`);
    const parts = sub.split('/').filter((s) => s !== '' && s !== '.');
    if (parts.some((s) => s === '..' || s.includes('\0') || s.includes('\\'))) {
      throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `${fn} option path must name a member inside the group (no "..")`);
    }
    dir = nodePath.join(dir, ...parts);
  }
  return dir;
}

/** Metadata larger than this is refused (ERR_ZARR_METADATA). */
const MAX_METADATA_BYTES = 64 * 2 ** 20;

/**
 * A metadata file's text. Opened non-blocking and read only when a regular file of bounded size: a FIFO would hang
 * readFileSync, a link to /dev/zero would read forever.
 */
function readText(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOCTTY ?? 0));
  } catch (err) {
    throw fsError(err, file);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new MemmapError('ERR_ZARR_METADATA', `${file} is not a regular file`, { path: file });
    if (st.size > MAX_METADATA_BYTES) throw new MemmapError('ERR_ZARR_METADATA', `${file}: ${st.size} bytes of metadata (at most ${MAX_METADATA_BYTES})`, { path: file });
    const buf = Buffer.alloc(st.size);
    let n = 0;
    for (let k = 0; n < buf.length && (k = fs.readSync(fd, buf, n, buf.length - n, n)) > 0; ) n += k;
    return buf.toString('utf8', 0, n);
  } catch (err) {
    if (err instanceof MemmapError) throw err;
    throw fsError(err, file);
  } finally {
    fs.closeSync(fd);
  }
}

function exists(file: string): boolean {
  return fs.existsSync(file);
}

/** The node at `dir`: its format and metadata document. */
function readNode(dir: string): { format: 2 | 3; kind: 'array' | 'group'; doc: Record<string, unknown>; attributes: Record<string, unknown>; where: string } {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    throw fsError(err, dir);
  }
  if (!st.isDirectory()) throw new MemmapError('ERR_NOT_ZARR_ARRAY', `${dir} is not a directory: a Zarr array or group is one`, { path: dir });
  const v3 = nodePath.join(dir, ZARR_JSON);
  if (exists(v3)) {
    const doc = parseJsonObject(readText(v3), v3);
    const kind = own(doc, 'node_type') === 'group' ? 'group' : 'array';
    const attrs = own(doc, 'attributes');
    const attributes = isObject(attrs) ? attrs : {};
    return { format: 3, kind, doc, attributes, where: v3 };
  }
  const attrsFile = nodePath.join(dir, '.zattrs');
  const attributes = exists(attrsFile) ? parseJsonObject(readText(attrsFile), attrsFile) : {};
  for (const [name, kind] of [['.zarray', 'array'], ['.zgroup', 'group']] as const) {
    const f = nodePath.join(dir, name);
    if (exists(f)) return { format: 2, kind, doc: parseJsonObject(readText(f), f), attributes, where: f };
  }
  throw new MemmapError('ERR_NOT_ZARR_ARRAY', `${dir} holds no Zarr metadata (zarr.json, .zarray or .zgroup)`, { path: dir });
}

/**
 * Opens a Zarr array directory (v3 `zarr.json` or v2 `.zarray`) for reading.
 * @throws ERR_NOT_ZARR_ARRAY (a group, or no Zarr metadata), ERR_ZARR_METADATA, ERR_ZARR_UNSUPPORTED,
 * ERR_UNSUPPORTED_CODEC, ERR_UNKNOWN_OPTION, ERR_INVALID_MODE, OS codes (ENOENT, …).
 */
export function openZarr<N extends DTypeName = DTypeName>(path: string | URL, options?: OpenZarrOptions): ZarrArray<N> {
  const o = readOptions(options, ['mode', 'path', 'maxMappings', 'cacheBytes'], 'openZarr()');
  const mode = normalizeMode(o.mode ?? 'r');
  if (mode !== 'r' && mode !== 'r+') throw new MemmapError('ERR_INVALID_MODE', `openZarr() opens arrays with mode 'r' or 'r+', not '${mode}' (createZarr() creates one)`);
  const dir = nodeDir(path, o.path, 'openZarr()');
  const node = readNode(dir);
  if (node.kind !== 'array') throw new MemmapError('ERR_NOT_ZARR_ARRAY', `${dir} is a Zarr group, not an array: open a member with { path }, list them with listZarr()`, { path: dir });
  const meta = node.format === 3 ? v3Meta(node.doc, node.where) : v2Meta(node.doc, node.attributes, node.where);
  if (mode === 'r+') meta.levels = settingsFromDoc(node.doc, node.format, (meta.codecs.sharding?.codecs ?? meta.codecs).stored.itemsize);
  const limits: StoreLimits = {
    mappings: cacheBound(o.maxMappings, DEFAULT_LIMITS.mappings, 1, MAPPINGS_BUDGET, 'maxMappings'),
    decodedBytes: cacheBound(o.cacheBytes, DEFAULT_LIMITS.decodedBytes, 0, Number.MAX_SAFE_INTEGER, 'cacheBytes'),
  };
  return new ZarrArray<N>(kInternal, dir, meta, mode, undefined, limits);
}

/** An integer option in [min, max], or its default when absent. */
function cacheBound(value: unknown, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `openZarr(): ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new MemmapRangeError('ERR_INVALID_ARG_VALUE', `openZarr(): ${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/**
 * Creates a Zarr array directory (v3 by default, or v2) and opens it with mode 'r+'. Chunks are written when set;
 * a chunk never written reads as the fill value. Every option is checked before anything is written.
 * @throws ERR_SHAPE_REQUIRED, ERR_DTYPE_REQUIRED, ERR_INVALID_SHAPE (shape, chunks, shards), ERR_INVALID_DTYPE,
 * ERR_UNSUPPORTED_CODEC, ERR_INVALID_VALUE (fillValue), ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE, ERR_ZARR_UNSUPPORTED
 * (shards with v2), ERR_UNKNOWN_OPTION, EEXIST (a non-empty target without overwrite), ERR_NOT_ZARR_ARRAY (overwrite of a
 * directory that is not a Zarr node), OS codes.
 */
export function createZarr<D extends DTypeString>(path: string | URL, options: CreateZarrOptions<D>): ZarrArray<CanonicalDType<D>> {
  const dir = createZarrStore(path, options);
  return openZarr<CanonicalDType<D>>(dir, { mode: 'r+' });
}

/**
 * Describes the Zarr node at `path` (a group or an array): format, attributes, and a group's direct members.
 * @throws ERR_NOT_ZARR_ARRAY (no Zarr metadata there), ERR_ZARR_METADATA, ERR_UNKNOWN_OPTION, OS codes (ENOENT, …).
 */
export function listZarr(path: string | URL, options?: { path?: string }): ZarrNodeInfo {
  const o = readOptions(options, ['path'], 'listZarr()');
  const dir = nodeDir(path, o.path, 'listZarr()');
  const node = readNode(dir);
  const members: ZarrNodeInfo['members'] = [];
  if (node.kind === 'group') {
    const names = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    for (const name of names) {
      const sub = nodePath.join(dir, name);
      let kind: 'array' | 'group' | null = null;
      if (node.format === 3 && exists(nodePath.join(sub, ZARR_JSON))) {
        kind = own(parseJsonObject(readText(nodePath.join(sub, ZARR_JSON)), nodePath.join(sub, ZARR_JSON)), 'node_type') === 'group' ? 'group' : 'array';
      } else if (node.format === 2) {
        kind = exists(nodePath.join(sub, '.zarray')) ? 'array' : exists(nodePath.join(sub, '.zgroup')) ? 'group' : null;
      }
      if (kind !== null) members.push({ name, nodeType: kind });
    }
  }
  return { nodeType: node.kind, zarrFormat: node.format, attributes: node.attributes, members };
}

const kInternal = Symbol('memmap.zarr');
/** Chunk runs one read may cross along its axes (each a small object: more would exhaust the JS heap). */
const MAX_RUNS = 2 ** 22;
/** Chunk blocks one native.reduceChunks() call takes at most. */
const BLOCKS_PER_CALL = 1024;
/** Chunk parts one native copy call takes at most (its records: 8 doubles each for a 2-d read). */
const PARTS_PER_CALL = 4096;
let isZarr: (x: unknown) => boolean;
/**
 * Writes this process made to any Zarr store (write(), and flush() or close() writing changed chunks): an off-thread
 * call during which it changes runs again here. One count for all stores: a path can be spelt many ways (links).
 */
let writes = 0;

/** The store's changed chunks, to write now (counted as a write: see `writes`). */
function takeWrites(store: ChunkStore): DirtyChunk[] {
  const dirty = store.takeDirty();
  if (dirty.length > 0) writes++;
  return dirty;
}
let metaOf: (z: ZarrArray) => ZarrMeta;

/**
 * What a ZarrArray's metadata says, as one string (the off-thread worker's opening of a store must say the same:
 * lib/zarr-offthread-worker.ts); null when it cannot be written out.
 */
export function zarrFingerprint(z: ZarrArray): string | null {
  const m = metaOf(z);
  try {
    return JSON.stringify([m.zarrFormat, m.shape, m.dtype.descr, m.grid, m.key(m.shape.map(() => 0)), Array.from(m.fill), m.codecs], (_k, v: unknown) =>
      typeof v === 'function' ? undefined : ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : typeof v === 'bigint' ? `${v}n` : v,
    );
  } catch {
    return null;
  }
}

/** One axis of a selection: its runs within single chunks. */
interface Run {
  chunk: number;
  /** First output position (along the kept axis) and count. */
  at: number;
  n: number;
  /** First element inside the chunk, and the step. */
  inner: number;
  step: number;
}

/**
 * A read-only Zarr array (v2 or v3) on local disk: `openZarr()` makes one.
 * Chunks are read where they are touched; uncompressed ones are mapped in place.
 */
export class ZarrArray<N extends DTypeName = DTypeName> {
  readonly dtype: N;
  /** Dimensions (frozen). */
  readonly shape: readonly number[];
  /** Chunk shape (a shard's inner chunks when sharded), frozen. */
  readonly chunks: readonly number[];
  /** Shard shape of a sharded v3 array, else null. */
  readonly shards: readonly number[] | null;
  readonly ndim: number;
  readonly size: number;
  readonly itemsize: number;
  readonly zarrFormat: 2 | 3;
  /** User attributes (v3 `attributes`, v2 `.zattrs`), frozen. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** v3 `dimension_names`, or null. */
  readonly dimensionNames: readonly (string | null)[] | null;
  /** The fill value as the metadata spells it. */
  readonly fillValue: unknown;
  /** Absolute path of the array directory. */
  readonly path: string;
  readonly mode: 'r' | 'r+';
  readonly readonly: boolean;

  #store: ChunkStore | null;
  /** A view's array (whose store it shares), else null. */
  readonly #base: ZarrArray | null;
  /** A view's selection of the stored array, per stored axis; null for the array itself. */
  readonly #win: Axis[] | null;
  readonly #meta: ZarrMeta;
  readonly #dt: DType;
  readonly #fill: HeapStorage;
  readonly #storedCodec: Codec;
  /** Arrays chunk() returned, with the file each maps (null: in memory). */
  readonly #arrays = new Map<MemmapArray, string | null>();
  /** Off-thread calls in flight (the array itself, not a view): their cancel flags, set by close(). */
  readonly #offCalls = new Set<Int32Array>();

  /** @internal use openZarr(). @throws ERR_ILLEGAL_CONSTRUCTOR. */
  constructor(token: symbol, dir: string, meta: ZarrMeta, mode: 'r' | 'r+' = 'r', view?: { base: ZarrArray; store: ChunkStore; fill: HeapStorage; win: Axis[] }, limits: StoreLimits = DEFAULT_LIMITS) {
    if (token !== kInternal) throw new MemmapTypeError('ERR_ILLEGAL_CONSTRUCTOR', 'use openZarr() to open a Zarr array');
    this.#meta = meta;
    this.#dt = meta.dtype;
    this.mode = mode;
    this.readonly = mode === 'r';
    this.#store = view === undefined ? new ChunkStore(dir, meta, mode === 'r+', limits) : view.store;
    this.#base = view === undefined ? null : view.base;
    this.#win = view === undefined ? null : view.win;
    this.#fill = view === undefined ? new HeapStorage(meta.fill) : view.fill;
    this.#storedCodec = codecOf(meta.codecs.stored);
    this.dtype = meta.dtype.name as N;
    const shape = this.#win === null ? meta.shape.slice() : this.#win.filter((x) => x.kept).map((x) => x.count);
    this.shape = Object.freeze(shape);
    this.chunks = Object.freeze(this.#store.chunkShape.slice());
    this.shards = meta.codecs.sharding === null ? null : Object.freeze(meta.grid.slice());
    this.ndim = shape.length;
    this.size = sizeOf(shape);
    this.itemsize = meta.dtype.itemsize;
    this.zarrFormat = meta.zarrFormat;
    this.attributes = Object.freeze({ ...meta.attributes });
    this.dimensionNames = meta.dimensionNames === null ? null : Object.freeze(meta.dimensionNames.slice());
    this.fillValue = meta.fillValue;
    this.path = dir;
  }

  static {
    isZarr = (x: unknown): boolean => typeof x === 'object' && x !== null && #store in x;
    metaOf = (z: ZarrArray): ZarrMeta => z.#meta;
  }

  /** True after close() (of this array, or of the array a view was made from). */
  get closed(): boolean {
    return this.#store === null || (this.#base !== null && this.#base.closed);
  }

  #live(): ChunkStore {
    if (this.#store === null || (this.#base !== null && this.#base.closed)) throw new MemmapError('ERR_CLOSED', `Zarr array ${this.path} is closed`, { path: this.path });
    return this.#store;
  }

  /**
   * Element at the given indices (negative count from the end).
   * @throws ERR_OUT_OF_RANGE, ERR_INVALID_INDEX, ERR_CHECKSUM, ERR_ZARR_CHUNK, ERR_CLOSED.
   */
  get(...index: number[]): ValueTypes[N] {
    const store = this.#live();
    if (index.length !== this.ndim) throw new MemmapRangeError('ERR_INVALID_INDEX', `expected ${this.ndim} indices, got ${index.length}`);
    if (this.#win !== null) index = this.#compose(index) as number[];
    const coords: number[] = [];
    let at = 0;
    const inner: number[] = [];
    const base = this.#meta.shape;
    for (let d = 0; d < base.length; d++) {
      const i = axisIndex(index[d], base[d], d);
      coords.push(Math.floor(i / this.chunks[d]));
      inner.push(i % this.chunks[d]);
    }
    const data = store.chunk(coords);
    if (data === null) return codecOf(this.#dt).read(new DataView(this.#meta.fill.buffer, this.#meta.fill.byteOffset, this.itemsize), 0) as ValueTypes[N];
    for (let d = 0; d < base.length; d++) at += inner[d] * data.strides[d];
    const byte = data.offset + at * this.itemsize;
    if (data.view !== null) return this.#storedCodec.read(data.view, byte) as ValueTypes[N];
    // A mapped chunk: copied by the native kernel (a page the file lost is ERR_SIGBUS; a DataView read would die).
    const tmp = new Uint8Array(this.itemsize);
    data.storage.copy(ELEM_CODES.uint8, false, viewDescriptor(byte, [this.itemsize], [1], 1), tmp);
    return this.#storedCodec.read(new DataView(tmp.buffer), 0) as ValueTypes[N];
  }

  /** Per axis: kept or not, and its runs over chunks; the selection's shape. */
  #select(index: readonly IndexItem[]): { shape: number[]; runs: Run[][]; kept: boolean[] } {
    if (this.#win !== null) index = this.#compose(index);
    const shape = this.#meta.shape;
    const ndim = shape.length;
    const cstrides = stridesFor(shape, 'C');
    const v = viewOf(shape, cstrides, index, 1); // checks every item as MemmapArray.read() does
    const kept: boolean[] = [];
    for (let d = 0; d < ndim; d++) {
      const item = d < index.length ? index[d] : null;
      kept.push(!(typeof item === 'number' || typeof item === 'bigint'));
    }
    const runs: Run[][] = [];
    const total = sizeOf(v.shape) * this.itemsize;
    if (total === 0) return { shape: v.shape, runs, kept };
    // Before the runs are built (one pass over each axis of the selection): a huge selection must not loop for ages.
    if (total > maxBufferLength) throw new MemmapError('ERR_TOO_LARGE', `a copy of ${total} bytes exceeds the largest ArrayBuffer this Node.js supports (${maxBufferLength} bytes)`);
    // The chunks each axis crosses, counted before any run is built (at most one more than its extent covers).
    let bound = 0;
    for (let d = 0, k = 0; d < ndim; d++) {
      if (!kept[d]) {
        bound += 1;
        continue;
      }
      const n = v.shape[k];
      const span = n > 1 ? (n - 1) * Math.abs(v.strides[k] / cstrides[d]) : 0;
      const crossed = Math.floor(span / this.chunks[d]) + 2;
      bound += n < crossed ? n : crossed;
      k++;
    }
    if (bound > MAX_RUNS) throw new MemmapError('ERR_TOO_LARGE', `the selection crosses more than ${MAX_RUNS} chunks along its axes: read it in parts`);
    let rest = v.offset;
    let k = 0;
    let nruns = 0;
    for (let d = 0; d < ndim; d++) {
      const start = Math.floor(rest / cstrides[d]);
      rest -= start * cstrides[d];
      let count = 1;
      let step = 1;
      if (kept[d]) {
        count = v.shape[k];
        if (count > 1) step = v.strides[k] / cstrides[d];
        k++;
      }
      const c = this.chunks[d];
      const axis: Run[] = [];
      // One step per run, not per index: on Node 22+ an ArrayBuffer may hold 2^53 bytes, so `total` alone does not
      // bound this loop.
      for (let j = 0; j < count; ) {
        const i = start + j * step;
        const chunk = Math.floor(i / c);
        // The indices j, j + 1, ... that stay in this chunk.
        const left = count - j;
        const inChunk = step > 0 ? Math.ceil(((chunk + 1) * c - i) / step) : step < 0 ? Math.floor((i - chunk * c) / -step) + 1 : left;
        const n = inChunk < left ? inChunk : left;
        if (++nruns > MAX_RUNS) throw new MemmapError('ERR_TOO_LARGE', `the selection crosses more than ${MAX_RUNS} chunks along its axes: read it in parts`);
        axis.push({ chunk, at: j, n, inner: i - chunk * c, step });
        j += n;
      }
      runs.push(axis);
    }
    return { shape: v.shape, runs, kept };
  }

  /** Visits each chunk's part of the selection (C order of the chunk grid) as a view over the selection's axes. */
  #blocks(index: readonly IndexItem[], visit: (b: ChunkBlock) => void, readAhead = true): void {
    const store = this.#live();
    const { shape, runs, kept } = this.#select(index);
    if (sizeOf(shape) === 0) return;
    const ndim = this.#meta.shape.length;
    const itemsize = this.itemsize;
    const pick = new Array<number>(ndim).fill(0);
    const ahead = new ReadAhead((c) => store.locate(c), runs, itemsize, pageSize, this.shards !== null);
    for (;;) {
      const coords: number[] = [];
      for (let d = 0; d < ndim; d++) coords.push(runs[d][pick[d]].chunk);
      if (readAhead) ahead.next();
      const data: ChunkData | null = store.chunk(coords);
      const bshape: number[] = [];
      const bstrides: number[] = [];
      const at: number[] = [];
      let offset = 0;
      for (let d = 0; d < ndim; d++) {
        const r = runs[d][pick[d]];
        const st = data === null ? 0 : data.strides[d];
        offset += r.inner * st;
        if (kept[d]) {
          bshape.push(r.n);
          bstrides.push(r.n > 1 ? r.step * st * itemsize : 0);
          at.push(r.at);
        }
      }
      const storage: Storage = data === null ? this.#fill : data.storage;
      const base = data === null ? 0 : data.offset + offset * itemsize;
      visit({ storage, swap: data !== null && !data.dtype.isNative, base, shape: bshape, strides: bstrides, at });
      let d = ndim - 1;
      for (; d >= 0; d--) {
        if (++pick[d] < runs[d].length) break;
        pick[d] = 0;
      }
      if (d < 0) break;
    }
  }

  /**
   * ZarrSource.blockBatches(): #blocks()' walk, `run` called per batch of at most BLOCKS_PER_CALL blocks, store.batchFiles
   * files and half the decoded bytes the store keeps; what a batch reads stays mapped and decoded until `run` returns.
   */
  #blockBatches(index: readonly IndexItem[], run: (blocks: ChunkBlock[]) => void): void {
    const store = this.#live();
    const holdFiles = store.inPlace;
    let release = store.hold(null, holdFiles);
    let batch: ChunkBlock[] = [];
    const sources = new Set<Storage>();
    let files = 0;
    let held = 0;
    const flush = (carry: Storage | null): void => {
      const blocks = batch;
      batch = [];
      sources.clear();
      files = held = 0;
      run(blocks);
      release(carry);
      release = store.hold(carry, holdFiles);
    };
    try {
      // No read-ahead of mapped files here: the files it maps would join the batch's hold (native.reduceChunks asks
      // for the batch's mapped bytes itself). Compressed chunks' stored bytes are requested as in #copyParts.
      this.#blocks(index, (b) => {
        if (!sources.has(b.storage)) {
          const mapped = b.storage.willneed !== undefined;
          const decoded = !mapped && b.storage !== this.#fill;
          if (batch.length > 0 && ((mapped && files >= store.batchFiles) || (decoded && held >= store.limits.decodedBytes / 2))) flush(b.storage);
          sources.add(b.storage);
          if (mapped) files++;
          else if (decoded) held += b.storage.length;
        }
        batch.push(b);
        if (batch.length >= BLOCKS_PER_CALL) flush(null);
      }, !holdFiles);
      if (batch.length > 0) flush(null);
    } finally {
      release();
    }
  }

  /** ZarrSource.gridParts(): #blocks()' walk without its per-part objects (a scan's first pass meets thousands of chunks). */
  #gridParts(index: readonly IndexItem[]): { storages: Storage[]; desc: Float64Array; bytes: number[]; release: () => void } {
    const store = this.#live();
    const { shape, runs, kept } = this.#select(index);
    const storages: Storage[] = [];
    const bytes: number[] = [];
    if (sizeOf(shape) === 0) return { storages, desc: new Float64Array(0), bytes, release: () => {} };
    // What the call reads stays mapped (and decoded) until it has run: release() after it.
    const release = store.hold();
    try {
      return { ...this.#gridWalk(store, runs, kept, shape.length), release };
    } catch (err) {
      release();
      throw err;
    }
  }

  #gridWalk(store: ChunkStore, runs: Run[][], kept: boolean[], nk: number): { storages: Storage[]; desc: Float64Array; bytes: number[] } {
    const storages: Storage[] = [];
    const bytes: number[] = [];
    const ndim = runs.length;
    const itemsize = this.itemsize;
    const record = 3 + nk;
    let count = 1;
    for (let d = 0; d < ndim; d++) count *= runs[d].length;
    const desc = new Float64Array(count * record);
    // Per axis and run: which file along the axis (numbered densely in this walk) and the chunk's place in it, so a
    // part's file and index entry are a few multiply-adds (a where() per part was most of a first scan's JavaScript).
    const per = store.perShard;
    const fileAt: Int32Array[] = [];
    const innerAt: Int32Array[] = [];
    const fileMul = new Array<number>(ndim).fill(1);
    const innerMul = new Array<number>(ndim).fill(1);
    for (let d = ndim - 1; d >= 0; d--) {
      const axis = runs[d];
      const f = new Int32Array(axis.length);
      const c = new Int32Array(axis.length);
      const dense = new Map<number, number>();
      for (let r = 0; r < axis.length; r++) {
        const outer = Math.floor(axis[r].chunk / per[d]);
        let k = dense.get(outer);
        if (k === undefined) dense.set(outer, (k = dense.size));
        f[r] = k;
        c[r] = axis[r].chunk - outer * per[d];
      }
      fileAt[d] = f;
      innerAt[d] = c;
      if (d > 0) {
        fileMul[d - 1] = fileMul[d] * dense.size;
        innerMul[d - 1] = innerMul[d] * per[d];
      }
    }
    // Each file's placement (placedFile(): null when chunk() is asked for each of its chunks), found on first use.
    const placedOf = new Map<number, PlacedFile | null>();
    const ids = new Map<Storage, number>();
    let last: Storage | null = null;
    let lastId = -1;
    const pick = new Array<number>(ndim).fill(0);
    // chunk() keeps nothing of `coords` (where() copies what it remembers): one list for the whole walk.
    const coords = new Array<number>(ndim).fill(0);
    let fileNo = -1;
    let placed: PlacedFile | null = null;
    for (let p = 0; p < count; p++) {
      let f = 0;
      let inner = 0;
      for (let d = 0; d < ndim; d++) {
        f += fileAt[d][pick[d]] * fileMul[d];
        inner += innerAt[d][pick[d]] * innerMul[d];
      }
      if (f !== fileNo) {
        let hit = placedOf.get(f);
        if (hit === undefined) {
          for (let d = 0; d < ndim; d++) coords[d] = runs[d][pick[d]].chunk;
          hit = store.placedFile(store.where(coords).file);
          placedOf.set(f, hit);
        }
        placed = hit;
        fileNo = f;
      }
      let storage: Storage = this.#fill;
      let base = 0;
      let strides: readonly number[] | null = null;
      let swap = false;
      const start = placed === null ? -1 : placed.index === null ? 0 : placed.index[2 * inner];
      const length = placed === null ? -1 : placed.index === null ? placed.length : placed.index[2 * inner + 1];
      if (placed !== null && start >= 0 && length === placed.expect && start + length <= placed.length) {
        storage = placed.storage;
        base = start;
        strides = placed.strides;
        swap = placed.swap;
      } else {
        for (let d = 0; d < ndim; d++) coords[d] = runs[d][pick[d]].chunk;
        const c = store.chunk(coords);
        if (c !== null) {
          storage = c.storage;
          base = c.offset;
          strides = c.strides;
          swap = !c.dtype.isNative;
        }
      }
      let id = lastId;
      if (storage !== last) {
        id = ids.get(storage) ?? -1;
        if (id < 0) {
          id = storages.length;
          ids.set(storage, id);
          storages.push(storage);
          bytes.push(0);
        }
        last = storage;
        lastId = id;
      }
      let o = p * record;
      let offset = 0;
      let elems = 1;
      desc[o] = id;
      desc[o + 2] = swap ? 1 : 0;
      o += 3;
      for (let d = 0; d < ndim; d++) {
        const r = runs[d][pick[d]];
        const st = strides === null ? 0 : strides[d];
        offset += r.inner * st;
        elems *= r.n;
        if (kept[d]) desc[o++] = r.n > 1 ? r.step * st * itemsize : 0;
      }
      desc[p * record + 1] = strides === null ? 0 : base + offset * itemsize;
      bytes[id] += elems * itemsize;
      for (let d = ndim - 1; d >= 0; d--) {
        if (++pick[d] < runs[d].length) break;
        pick[d] = 0;
      }
    }
    return { storages, desc, bytes };
  }

  /**
   * The selection's elements in C order, this machine's byte order, into a new buffer or the bytes `into` gives for
   * the selection's shape (read()'s `out`, checked before anything is read).
   */
  #gather(index: readonly IndexItem[], into?: (shape: number[]) => Uint8Array): { shape: number[]; bytes: Uint8Array } {
    this.#live();
    const sel = this.#select(index);
    const total = sizeOf(sel.shape) * this.itemsize; // at most maxBufferLength: #select checked
    // Every byte is written below (missing chunks from the fill value): no zero fill.
    const bytes = into === undefined ? new Uint8Array(newBuffer(total, true)) : into(sel.shape);
    // Checked again: `into` may run caller code (an `out` array's getters).
    const store = this.#live();
    if (total > 0) this.#copyParts(store, sel, bytes);
    return { shape: sel.shape, bytes };
  }

  /**
   * Copies the selection into `out` (C order): each chunk's part straight to its place, many chunks per native call
   * (src-native/chunk_copy.cc), which asks for the mapped ones' bytes ahead of the copy. Compressed chunks are decoded
   * here first, their stored bytes requested ahead by ReadAhead.
   */
  #copyParts(store: ChunkStore, sel: { shape: number[]; runs: Run[][]; kept: boolean[] }, out: Uint8Array): void {
    const { shape, runs, kept } = sel;
    const ndim = runs.length;
    const itemsize = this.itemsize;
    const nk = shape.length;
    const cstrides = stridesFor(shape, 'C');
    const dstStrides = new Float64Array(nk);
    for (let k = 0; k < nk; k++) dstStrides[k] = cstrides[k] * itemsize;
    let count = 1;
    for (let d = 0; d < ndim; d++) count *= runs[d].length;
    const record = 4 + 2 * nk;
    const parts = new Float64Array(Math.min(count, PARTS_PER_CALL) * record);
    // The storages a call reads, in own slots (native code reads the list: no Array.prototype setter may run).
    const room = Math.min(count, 8);
    let sources = ownSlots<unknown>(room);
    let nsrc = 0;
    const sourceOf = new Map<Storage, number>();
    let n = 0;
    let files = 0;
    let held = 0;
    const type = ELEM_CODES[this.#dt.name];
    // The files and decoded chunks a call collects stay alive until it has run (the store would unmap or drop the
    // oldest past its bounds); `carry`: the chunk just opened, which goes into the next call.
    // (A compressed store's calls read decoded copies: only those are kept, not the files they came from.)
    const holdFiles = store.inPlace;
    let release = store.hold(null, holdFiles);
    const flush = (carry: Storage | null): void => {
      sources.length = nsrc;
      native.copyChunks(type, sources, n * record === parts.length ? parts : parts.subarray(0, n * record), dstStrides, out);
      release(carry);
      release = store.hold(carry, holdFiles);
      n = files = held = nsrc = 0;
      sources = ownSlots<unknown>(room);
      sourceOf.clear();
    };
    const ahead = store.inPlace ? null : new ReadAhead((c) => store.locate(c), runs, itemsize, pageSize, this.shards !== null);
    const pick = new Array<number>(ndim).fill(0);
    const coords = new Array<number>(ndim).fill(0);
    try {
      for (;;) {
        for (let d = 0; d < ndim; d++) coords[d] = runs[d][pick[d]].chunk;
        ahead?.next();
        const data = store.chunk(coords);
        const storage = data === null ? this.#fill : data.storage;
        let source = sourceOf.get(storage);
        if (source === undefined) {
          // A call takes at most store.batchFiles files and half the decoded bytes the store keeps (the store keeps
          // what a call holds until it has run, past its bounds if need be).
          const mapped = data !== null && data.file !== null;
          if (n > 0 && ((mapped && files >= store.batchFiles) || (!mapped && data !== null && held >= store.limits.decodedBytes / 2))) flush(storage);
          source = nsrc++;
          if (source < room) sources[source] = storage.gridSource();
          else appendOwn(sources, storage.gridSource());
          sourceOf.set(storage, source);
          if (mapped) files++;
          else if (data !== null) held += storage.length;
        }
        const o = n * record;
        parts[o] = source;
        parts[o + 1] = data !== null && !data.dtype.isNative ? 1 : 0;
        let src = data === null ? 0 : data.offset;
        let dst = 0;
        for (let d = 0, k = 0; d < ndim; d++) {
          const r = runs[d][pick[d]];
          const st = data === null ? 0 : data.strides[d] * itemsize;
          src += r.inner * st;
          if (kept[d]) {
            dst += r.at * dstStrides[k];
            parts[o + 4 + k] = r.n;
            parts[o + 4 + nk + k] = r.n > 1 ? r.step * st : 0;
            k++;
          }
        }
        parts[o + 2] = src;
        parts[o + 3] = dst;
        if (++n * record === parts.length) flush(null);
        let d = ndim - 1;
        for (; d >= 0; d--) {
          if (++pick[d] < runs[d].length) break;
          pick[d] = 0;
        }
        if (d < 0) break;
      }
      if (n > 0) flush(null);
    } finally {
      release();
    }
  }

  /** What lib/zarr-reduce.ts needs of this array. */
  #source(): ZarrSource {
    return {
      dt: this.#dt,
      layout: (index) => {
        const { shape, runs, kept } = this.#select(index);
        const out: [number, number][][] = [];
        if (sizeOf(shape) === 0) return { shape, runs: shape.map(() => [[0, 0]] as [number, number][]) };
        for (let d = 0; d < kept.length; d++) if (kept[d]) out.push(runs[d].map((r) => [r.at, r.n] as [number, number]));
        return { shape, runs: out };
      },
      blockBatches: (index, run) => this.#blockBatches(index, run),
      gridParts: (index) => this.#gridParts(index),
      scanAdvice: (storage, scanning) => storage.advise(scanning ? ADVICE_CODES.sequential : this.#live().advice),
      assemble: (index, into) => this.#gather(index, into),
      rowSpans: (index) => {
        const { runs, kept } = this.#select(index);
        const per = this.#live().perShard;
        const first = kept.indexOf(true);
        // Groups of consecutive runs whose chunk lies in one group of `size` chunks: how many, and the fewest
        // elements one holds (runs come in the selection's order, so a group's runs are consecutive, either step sign).
        const groups = (axis: readonly Run[], size: number): { count: number; least: number } => {
          let count = 0;
          let least = Infinity;
          let at = NaN;
          let n = 0;
          for (const r of axis) {
            const g = Math.floor(r.chunk / size);
            if (g !== at) {
              if (count > 0) least = Math.min(least, n);
              count++;
              at = g;
              n = 0;
            }
            n += r.n;
          }
          return { count, least: Math.min(least, n) };
        };
        const files = { across: 1, rows: 1 };
        const chunks = { across: 1, rows: 1 };
        for (let d = 0; d < runs.length; d++) {
          const f = groups(runs[d], per[d]);
          const c = groups(runs[d], 1);
          if (d === first) {
            files.rows = Math.max(1, f.least);
            chunks.rows = Math.max(1, c.least);
          } else {
            files.across *= f.count;
            chunks.across *= c.count;
          }
        }
        const store = this.#live();
        return { files, chunks, decoded: store.inPlace ? 0 : sizeOf(store.chunkShape) * this.itemsize, limits: store.limits };
      },
      box: (index, at, shape) => {
        const axes = axesOf(this.shape, index);
        let k = 0;
        return axes.map((x) => {
          if (!x.kept) return x.start;
          const j = k++;
          return sliceItem(x.start + at[j] * x.step, shape[j], x.step);
        });
      },
    };
  }

  /**
   * A copy of `a[...index]` (numpy basic indexing, as MemmapArray.read()) as a new TypedArray in C order of the
   * selection, this machine's byte order; missing chunks read as the fill value. A trailing `{ out }` (a TypedArray of
   * this dtype holding exactly the selection's elements, or a writable C-order array of its dtype and shape) receives
   * them instead and is returned, as numpy's `out=`.
   * @throws ERR_INVALID_INDEX, ERR_OUT_OF_RANGE, ERR_UNKNOWN_OPTION, ERR_TOO_LARGE, ERR_CHECKSUM, ERR_ZARR_CHUNK, ERR_CLOSED;
   * for `out`: ERR_INVALID_ARG_TYPE (not a TypedArray of this dtype or an array), ERR_DTYPE_MISMATCH, ERR_SHAPE_MISMATCH,
   * ERR_READ_ONLY, ERR_NOT_CONTIGUOUS.
   */
  read(...args: [...IndexItem[], { out?: DataTypes[N] | MemmapArray<N> }] | IndexItem[]): DataTypes[N] {
    const { index, options } = splitArgs(args);
    const o = readOptions(options, ['out'], 'read()');
    if (o.out !== undefined) {
      const out = o.out;
      this.#gather(index, (shape) => outBytes(out, this.#dt, shape, false));
      return out as DataTypes[N];
    }
    const { bytes } = this.#gather(index);
    const { array, lanes } = DTYPES[this.#dt.name];
    return new array(bytes.buffer as ArrayBuffer, 0, (bytes.byteLength / this.itemsize) * lanes) as DataTypes[N];
  }

  /**
   * The elements at the given coordinates, one integer array per axis, all of one length (numpy's `z[ii, jj]`), as a
   * new TypedArray like read() returns; negative indices count from the end. Points are grouped by chunk and each
   * chunk's are read with the native gather kernel.
   * @throws ERR_OUT_OF_RANGE, ERR_INVALID_INDEX, ERR_TOO_LARGE, ERR_CHECKSUM, ERR_ZARR_CHUNK, ERR_CLOSED.
   */
  gather(...coords: ArrayLike<number | bigint>[]): DataTypes[N] {
    const store = this.#live();
    const { count, at, groups } = this.#groups(coords);
    const ndim = this.#meta.shape.length;
    const itemsize = this.itemsize;
    const out = new Uint8Array(count * itemsize);
    const type = ELEM_CODES[this.#dt.name];
    this.#prefetchPoints(store, groups.values(), at);
    for (const { chunk, points } of groups.values()) {
      const data = store.chunk(chunk);
      const m = points.length;
      const tmp = new Uint8Array(m * itemsize);
      if (data === null) {
        for (let p = 0; p < m; p++) tmp.set(this.#meta.fill, p * itemsize);
      } else {
        const inner: Float64Array[] = [];
        for (let d = 0; d < ndim; d++) {
          const col = new Float64Array(m);
          for (let p = 0; p < m; p++) col[p] = at[d][points[p]] - chunk[d] * this.chunks[d];
          inner.push(col);
        }
        const strides = data.strides.map((st) => st * itemsize);
        const bad = data.storage.gather(type, !data.dtype.isNative, inner, viewDescriptor(data.offset, this.chunks, strides, 1), tmp);
        if (bad !== undefined) throw new MemmapError('ERR_ZARR_CHUNK', `${data.file ?? this.path}: a gathered point fell outside its chunk`);
      }
      for (let p = 0; p < m; p++) out.set(tmp.subarray(p * itemsize, (p + 1) * itemsize), points[p] * itemsize);
    }
    const { array, lanes } = DTYPES[this.#dt.name];
    return new array(out.buffer, 0, count * lanes) as DataTypes[N];
  }

  /** gather()'s points checked and normalised (`at`: per stored axis), grouped by chunk in order of first use. */
  #groups(coords: readonly ArrayLike<number | bigint>[]): { count: number; at: Float64Array[]; groups: Map<string, { chunk: number[]; points: number[] }> } {
    const { count, columns } = indexColumns(coords, this.ndim, this.itemsize, maxBufferLength);
    const ndim = this.#meta.shape.length;
    const win = this.#win;
    // Chunk of each point, and the points of each chunk (in order of first use). `at`: the indices in the stored
    // array, normalised (columns may be the caller's own Float64Arrays: never written).
    const at = this.#meta.shape.map(() => new Float64Array(count));
    const groups = new Map<string, { chunk: number[]; points: number[] }>();
    for (let k = 0; k < count; k++) {
      const chunk: number[] = [];
      for (let d = 0, j = 0; d < ndim; d++) {
        let i: number;
        if (win !== null && !win[d].kept) i = win[d].start;
        else {
          const vd = win === null ? d : j++;
          const v = columns[vd][k];
          if (!Number.isInteger(v)) throw new MemmapTypeError('ERR_INVALID_INDEX', `index ${describe(v)} (array ${vd}, position ${k}) must be an integer`);
          const n = this.shape[vd];
          i = v < 0 ? v + n : v;
          if (i < 0 || i >= n) throw new MemmapRangeError('ERR_OUT_OF_RANGE', `index ${v} (array ${vd}, position ${k}) is out of bounds for axis ${vd} with size ${n}`);
          if (win !== null) i = win[d].start + i * win[d].step;
        }
        at[d][k] = i;
        chunk.push(Math.floor(i / this.chunks[d]));
      }
      const key = chunk.join(',');
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { chunk, points: [k] });
      else g.points.push(k);
    }
    return { count, at, groups };
  }

  /**
   * Starts reading what gather() will touch: the page of each point of a chunk read in place, the stored bytes of
   * an encoded one (decoded whole), one willneed call per file.
   */
  #prefetchPoints(store: ChunkStore, groups: Iterable<{ chunk: number[]; points: number[] }>, at: readonly Float64Array[]): void {
    const batch = new Map<Storage, number[]>();
    // A batch's files stay mapped until their willneed calls (the store would unmap the oldest past its bound).
    let release = store.hold();
    const flush = (): void => {
      for (const [storage, ranges] of batch) if (!storage.closed) storage.willneed?.(coalesce(ranges, pageSize));
      batch.clear();
      release();
      release = store.hold();
    };
    try {
      for (const { chunk, points } of groups) {
        // At most 32 files per batch, so a batch keeps the store near its bound (a full one is asked for first).
        if (batch.size >= 32) flush();
        const s = store.locate(chunk);
        if (s === null || s.storage.willneed === undefined) continue;
        let list = batch.get(s.storage);
        if (list === undefined) batch.set(s.storage, (list = []));
        if (s.strides === null) list.push(s.start, s.length);
        else {
          for (const p of points) {
            let e = 0;
            for (let d = 0; d < at.length; d++) e += (at[d][p] - chunk[d] * this.chunks[d]) * s.strides[d];
            list.push(s.start + e * this.itemsize, this.itemsize);
          }
        }
      }
      flush();
    } finally {
      release();
    }
  }

  /** `a[...index]` as an in-memory MemmapArray (shape of the selection). @throws as read(). */
  copy(...index: IndexItem[]): MemmapArray<N> {
    const { shape, bytes } = this.#gather(index);
    return memoryArray(this.#dt, shape, bytes) as MemmapArray<N>;
  }

  /**
   * The stored chunk at chunk-grid coordinates `coords` (inner chunks when sharded), full size (edge chunks too) as a
   * MemmapArray: a zero-copy read-only mapping of the file when the chunk is stored uncompressed (C or F layout), else
   * an in-memory copy; a chunk never written is an in-memory array of the fill value. It stays valid until it or
   * this array is closed.
   * @throws ERR_INVALID_INDEX, ERR_OUT_OF_RANGE (coordinates outside the chunk grid), ERR_CHECKSUM, ERR_ZARR_CHUNK, ERR_CLOSED.
   */
  chunk(...coords: number[]): MemmapArray<N> {
    const store = this.#live();
    const base = this.#meta.shape;
    if (coords.length !== base.length) throw new MemmapRangeError('ERR_INVALID_INDEX', `expected ${base.length} chunk coordinates, got ${coords.length}`);
    const c: number[] = [];
    for (let d = 0; d < base.length; d++) c.push(axisIndex(coords[d], Math.ceil(base[d] / this.chunks[d]), d));
    const data = store.chunk(c);
    const shape = this.chunks.slice();
    const n = sizeOf(shape);
    let a: MemmapArray;
    const order = data === null ? null : layoutOrder(shape, data.strides);
    if (data !== null && data.file !== null && order !== null) {
      a = mapArray({ filename: data.file, mode: 'r', dtype: data.dtype, shape, offset: data.offset, order, populate: false });
    } else {
      const bytes = new Uint8Array(n * this.itemsize);
      const storage = data === null ? this.#fill : data.storage;
      const strides = data === null ? shape.map(() => 0) : data.strides.map((s) => s * this.itemsize);
      storage.copy(ELEM_CODES[this.#dt.name], data !== null && !data.dtype.isNative, viewDescriptor(data === null ? 0 : data.offset, shape, strides, 1), bytes);
      a = memoryArray(this.#dt, shape, bytes);
    }
    // Arrays the caller closed are dropped now and then, so the set holds only live ones.
    const owner = this.#base ?? this;
    if (owner.#arrays.size >= 64) for (const x of owner.#arrays.keys()) if (x.closed) owner.#arrays.delete(x);
    owner.#arrays.set(a, data !== null && data.file !== null && order !== null ? data.file : null);
    return a as MemmapArray<N>;
  }

  async #reduceAsync(op: Reduction, args: readonly unknown[]): Promise<unknown> {
    const { index, options } = splitArgs(args);
    let rest: unknown = options;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      const o = { ...(options as Record<string, unknown>) };
      signal = signalOf(o.signal, `${op}Async()`);
      delete o.signal;
      rest = o;
    }
    const off = await this.#offThread(op === 'count_nonzero' ? 'countNonzero' : op, index, rest, signal, op);
    if (off !== null) return off.value;
    await this.#ready(this.#touched(index), signal);
    return this.#reduce(op, rest === undefined ? index : [...index, rest]);
  }

  /**
   * Runs `method` over `index` on the off-thread copy of the store when the selection is large (lib/zarr-offthread.ts),
   * and gives its result; null when it runs here instead: a small selection, an `out` array, changed compressed
   * chunks not yet written, no thread. Rejects with ERR_ABORTED at once when `signal` aborts (the thread's call runs
   * on and is dropped), with ERR_CLOSED when the array was closed meanwhile.
   */
  async #offThread(method: string, index: readonly IndexItem[], options: unknown, signal: AbortSignal | undefined, op?: Reduction): Promise<{ value: unknown } | null> {
    let store = this.#live();
    if (signal !== undefined && isAborted(signal)) throw abortError(signal);
    if (store.dirtyBytes > 0 || (typeof options === 'object' && options !== null && 'out' in options)) return null;
    let plain: IndexItem[];
    let shape: number[];
    try {
      const axes = axesOf(this.#meta.shape, this.#win === null ? index : this.#compose(index));
      plain = axes.map((w) => (w.kept ? sliceItem(w.start, w.count, w.step) : w.start));
      shape = axes.filter((w) => w.kept).map((w) => w.count);
    } catch {
      return null; // a bad index: the call here throws its error
    }
    if (!offThreadWorth(sizeOf(shape) * this.itemsize)) return null;
    // The options checked here as the sync call checks them (plain values only: a structured clone would run getters).
    if (op !== undefined) plan(op, this.#dt, { offset: 0, shape, strides: stridesFor(shape, 'C').map((x) => x * this.itemsize) }, options, false);
    const fingerprint = zarrFingerprint(this);
    store = this.#live(); // the index's items may have run caller code
    if (fingerprint === null || store.dirtyBytes > 0) return null;
    const before = writes;
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const owner = this.#base ?? this;
    owner.#offCalls.add(cancel);
    const call = runOffThread({
      path: this.path,
      maxMappings: store.limits.mappings,
      cacheBytes: store.limits.decodedBytes,
      advice: store.advice,
      fingerprint,
      method,
      args: options === undefined ? plain : [...plain, options],
      cancel,
    });
    // Raced against an abort, the thread's call may settle after nobody awaits it: its rejection is handled here.
    call.catch(() => {});
    let stop: (() => void) | undefined;
    const abortion =
      signal === undefined
        ? null
        : new Promise<never>((_, reject) => {
            const aborted = (): void => {
              Atomics.store(cancel, 0, 1); // a call not started yet is skipped by the thread
              reject(abortError(signal));
            };
            onAbort(signal, aborted, true);
            stop = () => onAbort(signal, aborted, false);
          });
    try {
      const r = await (abortion === null ? call : Promise.race([call, abortion]));
      this.#live();
      // A write from this process while the thread read the store (it may have seen part of it): run it here, after it.
      return writes === before ? r : null;
    } finally {
      stop?.();
      owner.#offCalls.delete(cancel);
    }
  }

  /**
   * read() off the JavaScript thread: the chunks it touches are faulted in or decoded on the libuv pool first (see
   * the reductions' async twins). A trailing `{ signal }` aborts. Never throws: rejects as read() throws, and with ERR_ABORTED.
   */
  async readAsync(...args: [...IndexItem[], { signal?: AbortSignal }] | IndexItem[]): Promise<DataTypes[N]> {
    const { index, options } = splitArgs(args);
    const o = readOptions(options, ['signal'], 'readAsync()');
    const signal = signalOf(o.signal, 'readAsync()');
    const off = await this.#offThread('read', index, undefined, signal);
    if (off !== null) return off.value as DataTypes[N];
    await this.#ready(this.#touched(index), signal);
    return this.read(...index);
  }

  /**
   * gather() off the JavaScript thread, as readAsync(). A trailing options object `{ signal }` (not an array or
   * array-like) aborts. Never throws: rejects as gather() throws, and with ERR_ABORTED.
   */
  async gatherAsync(...args: (ArrayLike<number | bigint> | { signal?: AbortSignal })[]): Promise<DataTypes[N]> {
    const n = args.length;
    const last = n > 0 ? args[n - 1] : undefined;
    const hasOptions = n > this.ndim || (typeof last === 'object' && last !== null && !ArrayBuffer.isView(last) && !Array.isArray(last) && !Object.hasOwn(last, 'length'));
    const o = readOptions(hasOptions ? last : undefined, ['signal'], 'gatherAsync()');
    const signal = signalOf(o.signal, 'gatherAsync()');
    const coords = (hasOptions ? args.slice(0, -1) : args) as ArrayLike<number | bigint>[];
    const { groups } = this.#groups(coords);
    await this.#ready([...groups.values()].map((g) => g.chunk), signal);
    return this.gather(...coords);
  }

  /** The chunk-grid coordinates `index`'s selection touches, C order of the grid. */
  #touched(index: readonly IndexItem[]): number[][] {
    const { shape, runs } = this.#select(index);
    const out: number[][] = [];
    if (sizeOf(shape) === 0) return out;
    const pick = runs.map(() => 0);
    for (;;) {
      out.push(runs.map((r, d) => r[pick[d]].chunk));
      let d = runs.length - 1;
      for (; d >= 0; d--) {
        if (++pick[d] < runs[d].length) break;
        pick[d] = 0;
      }
      if (d < 0) return out;
    }
  }

  /**
   * Loads `chunks` off the JavaScript thread (ChunkStore.load()), four at a time. Compressed chunks past half the
   * decoded-chunk cache are left to the call itself (loaded now, they would be evicted before it reads them).
   */
  async #ready(chunks: number[][], signal: AbortSignal | undefined): Promise<void> {
    const store = this.#live();
    if (signal !== undefined && isAborted(signal)) throw abortError(signal);
    const sh = this.#meta.codecs.sharding;
    const chunkBytes = sizeOf(this.chunks) * this.itemsize;
    const list = isRaw(sh === null ? this.#meta.codecs : sh.codecs) ? chunks : chunks.slice(0, Math.max(1, Math.floor(store.limits.decodedBytes / 2 / Math.max(chunkBytes, 1))));
    const wrap = <T>(storage: AsyncStorage, run: (c: CancelToken | undefined) => Promise<T>): Promise<T> => cancellable(storage, signal, run);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length) {
        await store.load(list[next++], wrap);
        if (signal !== undefined && isAborted(signal)) throw abortError(signal);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (signal !== undefined && isAborted(signal)) throw abortError(signal);
  }

  #reduce(op: Reduction, args: readonly unknown[]): unknown {
    this.#live();
    const done = reduceChunked(this.#source(), op, args);
    if (done !== undefined) return done.value;
    // A float sum, mean or variance of everything: numpy's pairwise order spans the whole selection.
    const { index, options } = splitArgs(args);
    const { shape, bytes } = this.#gather(index);
    const a = memoryArray(this.#dt, shape, bytes) as unknown as Record<string, (...x: unknown[]) => unknown>;
    return a[op === 'count_nonzero' ? 'countNonzero' : op](...(options === undefined ? [] : [options]));
  }

  /** numpy's sum() of `a[...index]` (as MemmapArray.sum(), over the selection read into memory). @throws as read(), and as MemmapArray.sum(). */
  sum<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, SumTypes[N]> {
    return this.#reduce('sum', args) as Reduced<O, SumTypes[N]>;
  }
  /** As MemmapArray.prod(). @throws as sum(). */
  prod<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, SumTypes[N]> {
    return this.#reduce('prod', args) as Reduced<O, SumTypes[N]>;
  }
  /** As MemmapArray.mean(). @throws as sum(). */
  mean<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, MeanTypes[N]> {
    return this.#reduce('mean', args) as Reduced<O, MeanTypes[N]>;
  }
  /** As MemmapArray.var(). @throws as sum(). */
  var<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('var', args) as Reduced<O, number>;
  }
  /** As MemmapArray.std(). @throws as sum(). */
  std<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('std', args) as Reduced<O, number>;
  }
  /** As MemmapArray.min(). @throws as sum(), ERR_EMPTY_REDUCTION. */
  min<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return this.#reduce('min', args) as Reduced<O, ValueTypes[N]>;
  }
  /** As MemmapArray.max(). @throws as sum(), ERR_EMPTY_REDUCTION. */
  max<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return this.#reduce('max', args) as Reduced<O, ValueTypes[N]>;
  }
  /** As MemmapArray.argmin(). @throws as sum(), ERR_EMPTY_REDUCTION. */
  argmin<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('argmin', args) as Reduced<O, number>;
  }
  /** As MemmapArray.argmax(). @throws as sum(), ERR_EMPTY_REDUCTION. */
  argmax<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('argmax', args) as Reduced<O, number>;
  }
  /** As MemmapArray.any(). @throws as sum(). */
  any<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, boolean> {
    return this.#reduce('any', args) as Reduced<O, boolean>;
  }
  /** As MemmapArray.all(). @throws as sum(). */
  all<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, boolean> {
    return this.#reduce('all', args) as Reduced<O, boolean>;
  }
  /** As MemmapArray.countNonzero(). @throws as sum(). */
  countNonzero<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('count_nonzero', args) as Reduced<O, number>;
  }
  /** As MemmapArray.nansum(). @throws as sum(). */
  nansum<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, SumTypes[N]> {
    return this.#reduce('nansum', args) as Reduced<O, SumTypes[N]>;
  }
  /** As MemmapArray.nanmean(). @throws as sum(). */
  nanmean<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, MeanTypes[N]> {
    return this.#reduce('nanmean', args) as Reduced<O, MeanTypes[N]>;
  }
  /** As MemmapArray.nanvar(). @throws as sum(). */
  nanvar<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('nanvar', args) as Reduced<O, number>;
  }
  /** As MemmapArray.nanstd(). @throws as sum(). */
  nanstd<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('nanstd', args) as Reduced<O, number>;
  }
  /** As MemmapArray.nanmin(). @throws as sum(), ERR_EMPTY_REDUCTION. */
  nanmin<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return this.#reduce('nanmin', args) as Reduced<O, ValueTypes[N]>;
  }
  /** As MemmapArray.nanmax(). @throws as sum(), ERR_EMPTY_REDUCTION. */
  nanmax<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return this.#reduce('nanmax', args) as Reduced<O, ValueTypes[N]>;
  }
  /** As MemmapArray.nanargmin(). @throws as sum(), ERR_EMPTY_REDUCTION, ERR_ALL_NAN. */
  nanargmin<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('nanargmin', args) as Reduced<O, number>;
  }
  /** As MemmapArray.nanargmax(). @throws as sum(), ERR_EMPTY_REDUCTION, ERR_ALL_NAN. */
  nanargmax<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return this.#reduce('nanargmax', args) as Reduced<O, number>;
  }

  // The async twins: the same results; the chunks a call touches are made ready first off the JavaScript thread
  // (raw chunks' pages faulted in by the native prefetch, compressed ones copied and inflated on the libuv pool, four
  // at a time), then the call runs as the sync one does. `signal` aborts (ERR_ABORTED, name 'AbortError'); close()
  // meanwhile is safe: native calls in flight keep their mapping, and the call then rejects with ERR_CLOSED.
  /** sum() off the JavaScript thread, as above. Never throws: rejects as sum() throws, and with ERR_ABORTED. */
  sumAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, SumTypes[N]>> {
    return this.#reduceAsync('sum', args) as Promise<Reduced<O, SumTypes[N]>>;
  }
  /** prod() off the JavaScript thread, as above. Never throws: rejects as prod() throws, and with ERR_ABORTED. */
  prodAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, SumTypes[N]>> {
    return this.#reduceAsync('prod', args) as Promise<Reduced<O, SumTypes[N]>>;
  }
  /** mean() off the JavaScript thread, as above. Never throws: rejects as mean() throws, and with ERR_ABORTED. */
  meanAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, MeanTypes[N]>> {
    return this.#reduceAsync('mean', args) as Promise<Reduced<O, MeanTypes[N]>>;
  }
  /** var() off the JavaScript thread, as above. Never throws: rejects as var() throws, and with ERR_ABORTED. */
  varAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('var', args) as Promise<Reduced<O, number>>;
  }
  /** std() off the JavaScript thread, as above. Never throws: rejects as std() throws, and with ERR_ABORTED. */
  stdAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('std', args) as Promise<Reduced<O, number>>;
  }
  /** min() off the JavaScript thread, as above. Never throws: rejects as min() throws, and with ERR_ABORTED. */
  minAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return this.#reduceAsync('min', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** max() off the JavaScript thread, as above. Never throws: rejects as max() throws, and with ERR_ABORTED. */
  maxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return this.#reduceAsync('max', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** argmin() off the JavaScript thread, as above. Never throws: rejects as argmin() throws, and with ERR_ABORTED. */
  argminAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('argmin', args) as Promise<Reduced<O, number>>;
  }
  /** argmax() off the JavaScript thread, as above. Never throws: rejects as argmax() throws, and with ERR_ABORTED. */
  argmaxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('argmax', args) as Promise<Reduced<O, number>>;
  }
  /** any() off the JavaScript thread, as above. Never throws: rejects as any() throws, and with ERR_ABORTED. */
  anyAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, boolean>> {
    return this.#reduceAsync('any', args) as Promise<Reduced<O, boolean>>;
  }
  /** all() off the JavaScript thread, as above. Never throws: rejects as all() throws, and with ERR_ABORTED. */
  allAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, boolean>> {
    return this.#reduceAsync('all', args) as Promise<Reduced<O, boolean>>;
  }
  /** countNonzero() off the JavaScript thread, as above. Never throws: rejects as countNonzero() throws, and with ERR_ABORTED. */
  countNonzeroAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('count_nonzero', args) as Promise<Reduced<O, number>>;
  }
  /** nansum() off the JavaScript thread, as above. Never throws: rejects as nansum() throws, and with ERR_ABORTED. */
  nansumAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, SumTypes[N]>> {
    return this.#reduceAsync('nansum', args) as Promise<Reduced<O, SumTypes[N]>>;
  }
  /** nanmean() off the JavaScript thread, as above. Never throws: rejects as nanmean() throws, and with ERR_ABORTED. */
  nanmeanAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, MeanTypes[N]>> {
    return this.#reduceAsync('nanmean', args) as Promise<Reduced<O, MeanTypes[N]>>;
  }
  /** nanvar() off the JavaScript thread, as above. Never throws: rejects as nanvar() throws, and with ERR_ABORTED. */
  nanvarAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('nanvar', args) as Promise<Reduced<O, number>>;
  }
  /** nanstd() off the JavaScript thread, as above. Never throws: rejects as nanstd() throws, and with ERR_ABORTED. */
  nanstdAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('nanstd', args) as Promise<Reduced<O, number>>;
  }
  /** nanmin() off the JavaScript thread, as above. Never throws: rejects as nanmin() throws, and with ERR_ABORTED. */
  nanminAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return this.#reduceAsync('nanmin', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** nanmax() off the JavaScript thread, as above. Never throws: rejects as nanmax() throws, and with ERR_ABORTED. */
  nanmaxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return this.#reduceAsync('nanmax', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** nanargmin() off the JavaScript thread, as above. Never throws: rejects as nanargmin() throws, and with ERR_ABORTED. */
  nanargminAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('nanargmin', args) as Promise<Reduced<O, number>>;
  }
  /** nanargmax() off the JavaScript thread, as above. Never throws: rejects as nanargmax() throws, and with ERR_ABORTED. */
  nanargmaxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return this.#reduceAsync('nanargmax', args) as Promise<Reduced<O, number>>;
  }

  /**
   * Narrows the type: `if (z.is('float32')) z.read()` is a Float32Array. Any dtype string; byte order is not compared.
   * @throws ERR_INVALID_DTYPE for a string that is not a dtype.
   */
  is<D extends DTypeString>(dtype: D): this is ZarrArray<CanonicalDType<D>> {
    return parseDType(dtype).name === this.dtype;
  }

  /**
   * Which stored chunks are in the page cache now (mincore over their bytes on disk, compressed or not; touches no
   * chunk): `grid` the chunk grid (inner chunks when sharded), `chunks` one fraction per chunk in C order of the grid
   * (-1: not stored, reads as the fill value), and totals over the stored bytes.
   * @throws ERR_CLOSED, ERR_CHECKSUM (a shard index), ERR_ZARR_CHUNK, OS codes.
   */
  residency(): ZarrResidency {
    const store = this.#live();
    const grid = this.#meta.shape.map((s, d) => Math.ceil(s / this.chunks[d]));
    const n = sizeOf(grid);
    const chunks = new Float32Array(n);
    const pages = new Map<string, Uint8Array>();
    const page = pageSize;
    let total = 0;
    let resident = 0;
    const c = new Array<number>(grid.length).fill(0);
    for (let k = 0; k < n; k++) {
      const r = store.storedRange(c, pages);
      if (r === null) chunks[k] = -1;
      else {
        let inside = 0;
        for (let p = Math.floor(r.start / page); p * page < r.start + r.length; p++) {
          if (r.pages[p]) inside += Math.min((p + 1) * page, r.start + r.length) - Math.max(p * page, r.start);
        }
        chunks[k] = r.length === 0 ? 1 : inside / r.length;
        total += r.length;
        resident += inside;
      }
      for (let d = grid.length - 1; d >= 0; d--) {
        if (++c[d] < grid[d]) break;
        c[d] = 0;
      }
    }
    return { grid, chunks, storedBytes: total, residentBytes: resident, fraction: total === 0 ? 1 : resident / total };
  }

  /**
   * Tells the kernel how the chunk files will be read (madvise of each chunk or shard mapping). 'random' by default:
   * the kernel's read-ahead would pull in chunks a read does not touch, so each read prefetches exactly the bytes
   * it touches instead. 'normal', 'sequential' and 'random' also hold for files mapped later; 'willneed' and
   * 'dontneed' act on the files mapped now.
   * @throws ERR_INVALID_ADVICE for an unknown advice; ERR_CLOSED.
   */
  advise(advice: Advice): void {
    this.#live().advise(adviceCode(advice));
  }

  /** Chunk and shard files mapped now (at most 64: the least recently used is closed). @throws ERR_CLOSED. */
  get openMappings(): number {
    return this.#live().openMappings;
  }

  /**
   * Writes `source` into `a[...index]` (numpy basic indexing, as read()): a TypedArray of this dtype holding the
   * selection's elements in C order (this machine's byte order), a MemmapArray or ZarrArray of the selection's shape,
   * or one value for every element. Raw chunks are written in place through their mapping (a missing chunk or
   * shard file is first created at full size, filled with the fill value); compressed ones are decoded, changed in
   * memory and re-encoded whole by flush(), close(), or once more than 64 MiB of them are held.
   * @throws ERR_READ_ONLY, ERR_INVALID_INDEX, ERR_OUT_OF_RANGE, ERR_DTYPE_MISMATCH, ERR_SIZE_MISMATCH, ERR_SHAPE_MISMATCH,
   * ERR_INVALID_VALUE, ERR_CHECKSUM, ERR_ZARR_CHUNK, ERR_CLOSED, OS codes.
   */
  write(...indexAndSource: [...index: IndexItem[], source: unknown]): void {
    const store = this.#live();
    if (this.readonly) throw new MemmapError('ERR_READ_ONLY', `Zarr array ${this.path} is open read-only (mode 'r')`, { path: this.path });
    if (indexAndSource.length === 0) throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'write() needs a source');
    // An off-thread call reading the store meanwhile runs again here (#offThread()).
    writes++;
    const source = indexAndSource[indexAndSource.length - 1];
    const { shape, runs, kept } = this.#select(indexAndSource.slice(0, -1) as IndexItem[]);
    const count = sizeOf(shape);
    const src = this.#sourceBytes(source, shape, count);
    if (count === 0) return;
    const ndim = this.#meta.shape.length;
    const itemsize = this.itemsize;
    const outStrides = src.scalar ? shape.map(() => 0) : stridesFor(shape, 'C');
    const chunkBytes = sizeOf(this.chunks) * itemsize;
    const pick = new Array<number>(ndim).fill(0);
    for (;;) {
      const coords: number[] = [];
      for (let d = 0; d < ndim; d++) coords.push(runs[d][pick[d]].chunk);
      const data = this.#chunkForWrite(store, coords);
      const block: BlockRun[] = [];
      let k = 0;
      for (let d = 0; d < ndim; d++) {
        const r = runs[d][pick[d]];
        block.push({ n: r.n, dst0: r.inner * data.strides[d], dstStep: r.step * data.strides[d], src0: kept[d] ? r.at * outStrides[k] : 0, srcStep: kept[d] ? outStrides[k] : 0 });
        if (kept[d]) k++;
      }
      // In place through the chunk's mapping (a copy stored back where the runtime refuses a view of it).
      editBytes(data.storage, data.offset, chunkBytes, (dst) => scatter(dst, src.bytes, block, itemsize, data.dtype.isNative ? 0 : data.dtype.kind === 'c' ? itemsize / 2 : itemsize));
      // Bounded memory however large the write: changed compressed chunks are written out as they pile up.
      if (store.dirtyBytes > store.limits.decodedBytes) writeDirty(store, this.#meta, store.takeDirty());
      let d = ndim - 1;
      for (; d >= 0; d--) {
        if (++pick[d] < runs[d].length) break;
        pick[d] = 0;
      }
      if (d < 0) break;
    }
  }

  /**
   * Stores `value` at the given indices (negative count from the end), as MemmapArray.set().
   * @throws as write(), ERR_INVALID_INDEX (not one index per axis).
   */
  set(...indexAndValue: [...index: number[], value: InputTypes[N]]): void {
    const n = indexAndValue.length - 1;
    if (n !== this.ndim) throw new MemmapRangeError('ERR_INVALID_INDEX', `set() takes ${this.ndim} indices and a value, got ${Math.max(n, 0)} indices`);
    const value = indexAndValue[n];
    if (typeof value === 'object' && value !== null && (ArrayBuffer.isView(value) || isZarr(value) || value instanceof MemmapArrayClass)) {
      throw new MemmapTypeError('ERR_INVALID_VALUE', 'set() stores one value; write() stores a region');
    }
    (this.write as (...a: unknown[]) => void)(...indexAndValue);
  }

  /** Stores `value` in every element (every chunk is written). @throws as write(). */
  fill(value: InputTypes[N]): void {
    this.write(value as unknown as IndexItem);
  }

  /** The chunk at `coords`, writable: mapped in place (a missing raw file created first) or in memory and dirty. */
  #chunkForWrite(store: ChunkStore, coords: readonly number[]): ChunkData {
    const sh = this.#meta.codecs.sharding;
    const codecs = sh === null ? this.#meta.codecs : sh.codecs;
    let data = store.chunk(coords);
    if (data === null && isRaw(codecs)) {
      const { file } = store.where(coords);
      if (!fs.existsSync(file)) {
        // Under the shard's lock, checked again: another writer may have just created it (and written into it).
        withFileLock(file, () => {
          if (!fs.existsSync(file)) createRawFile(store, this.#meta, coords, file);
        });
      }
      // Looked up again unless the lookup above read the file itself (then the chunk is an empty inner chunk): another
      // writer may have created the file since that lookup found it missing, and the chunk must then be written in
      // place too. Left in memory, it would be written back by rebuilding the shard and renaming it over the file the
      // other writers are writing into (their writes lost). A mapping this store holds is never closed here.
      if (!store.mapsFile(file)) {
        store.forget(file);
        data = store.chunk(coords);
      }
    }
    if (data === null) {
      // A chunk never written (or an empty inner chunk of a shard someone else wrote): the fill value, in memory.
      const elem = storedElement(this.#meta.fill, codecs.stored);
      const bytes = new Uint8Array(sizeOf(this.chunks) * elem.length);
      for (let i = 0; i < bytes.length; i += elem.length) bytes.set(elem, i);
      data = { storage: new HeapStorage(bytes), offset: 0, strides: permutedStrides(this.chunks, codecs.order), dtype: codecs.stored, file: null, view: new DataView(bytes.buffer) };
    }
    if (data.file === null) store.markDirty(coords, data);
    return data;
  }

  /** The source of write() as native-order bytes of the selection (C order), or one element (`scalar`). */
  #sourceBytes(source: unknown, shape: readonly number[], count: number): { bytes: Uint8Array; scalar: boolean } {
    const { array, lanes } = DTYPES[this.#dt.name];
    if (ArrayBuffer.isView(source)) {
      if ((source as object).constructor !== array) {
        throw new MemmapTypeError('ERR_DTYPE_MISMATCH', `write() to a ${this.dtype} array needs a ${array.name}, got ${describe(source)}`);
      }
      const v = source as unknown as { buffer: ArrayBuffer; byteOffset: number; byteLength: number; length: number };
      if (v.length !== count * lanes) throw new MemmapRangeError('ERR_SIZE_MISMATCH', `write(): the selection has ${count} elements, the source ${v.length / lanes}`);
      return { bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), scalar: false };
    }
    if (isZarr(source) || source instanceof MemmapArrayClass) {
      const a = source as unknown as { dtype: string; shape: readonly number[]; read(): ArrayLike<unknown> & { buffer: ArrayBuffer; byteOffset: number; byteLength: number } };
      if (a.dtype !== this.dtype) throw new MemmapTypeError('ERR_DTYPE_MISMATCH', `write(): source dtype ${a.dtype} is not ${this.dtype}`);
      if (a.shape.length !== shape.length || a.shape.some((n, d) => n !== shape[d])) {
        throw new MemmapRangeError('ERR_SHAPE_MISMATCH', `write(): source shape (${a.shape.join(', ')}) is not the selection's (${shape.join(', ')})`);
      }
      const t = a.read();
      return { bytes: new Uint8Array(t.buffer, t.byteOffset, t.byteLength), scalar: false };
    }
    const bytes = new Uint8Array(this.itemsize);
    try {
      codecOf(this.#dt).write(new DataView(bytes.buffer), 0, source);
    } catch (err) {
      if (err instanceof MemmapError) throw err;
      throw new MemmapTypeError('ERR_INVALID_VALUE', `write(): cannot store ${describe(source)} in ${this.dtype}`, { cause: err });
    }
    return { bytes, scalar: true };
  }

  /**
   * Writes changed compressed chunks (re-encoded whole; a shard is rebuilt and renamed over the old one) and msyncs
   * the chunks written in place. No-op for mode 'r'. @throws ERR_CLOSED, ERR_BUSY (Windows: a file to replace is
   * still mapped, by a chunk() array or another reader; its changes are kept), OS codes.
   */
  flush(): void {
    const store = this.#live();
    if (this.readonly) return;
    writeDirty(store, this.#meta, takeWrites(store), (file) => this.#mapped(file));
    store.flushMappings();
  }

  /**
   * flush() (mode 'r+'), then closes every chunk mapping and every array chunk() returned, and every view. Idempotent;
   * later calls throw ERR_CLOSED. A view's close() closes only the view (its changes stay for the array's flush()).
   */
  close(): void {
    const store = this.#store;
    if (store === null) return;
    if (this.#base !== null) {
      this.#store = null;
      return;
    }
    try {
      // chunk() arrays first: Windows cannot replace a shard they map.
      for (const a of this.#arrays.keys()) a.close();
      this.#arrays.clear();
      if (!this.readonly) writeDirty(store, this.#meta, takeWrites(store));
    } finally {
      this.#store = null;
      store.close();
      for (const flag of this.#offCalls) Atomics.store(flag, 0, 1);
    }
  }

  /** Whether an open array chunk() returned maps `file`. */
  #mapped(file: string): boolean {
    for (const [a, f] of (this.#base ?? this).#arrays) if (f === file && !a.closed) return true;
    return false;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** A one-line description (values are not read): path, shape, dtype, chunks, format. Never throws. */
  describe(): string {
    if (!isZarr(this)) return '[object ZarrArray]';
    const state = this.closed ? ', closed' : '';
    return `ZarrArray(${JSON.stringify(displayPath(this.path))}, shape=${tupleRepr(this.shape)}, dtype=${dtypeRepr(this.#dt)}, chunks=${tupleRepr(this.chunks)}, zarr_format=${this.zarrFormat}${state})`;
  }

  /** numpy's str() of the values (summarised past 1000 elements, reading only the chunks of those shown). Never throws. */
  toString(): string {
    if (!isZarr(this)) return '[object ZarrArray]';
    return this.#print(strOf);
  }

  /** numpy's repr() of the values, as `ZarrArray([[0., 1.], [2., 3.]], dtype=float32)`. Never throws. */
  [inspect.custom](): string {
    if (!isZarr(this)) return 'ZarrArray {}';
    return this.#print((p) => reprOf(p, 'ZarrArray'));
  }

  /** Printing never throws: a closed array, or one whose chunks cannot be read, prints its description. */
  #print(how: (p: Printable) => string): string {
    if (!this.closed) {
      try {
        return how({ shape: this.shape, dtype: this.#dt, fetch: (coords) => valueReader(this.#dt, Reflect.apply(this.gather, this, coords) as ArrayLike<unknown>) });
      } catch (err) {
        const code = err instanceof MemmapError ? err.code : 'error';
        return this.describe().replace(/\)$/, `, unreadable: ${code})`);
      }
    }
    return this.describe();
  }

  /** There is no one TypedArray over a chunked array. @throws ERR_ZARR_UNSUPPORTED (read(), chunk() or view() instead). */
  get data(): never {
    throw new MemmapError('ERR_ZARR_UNSUPPORTED', 'a ZarrArray has no single data TypedArray: its elements live in many chunks. Use read() for a copy, chunk() for one chunk (zero-copy when raw), or view()');
  }

  /**
   * A ZarrArray over `z[...index]` (numpy basic indexing, as read()), sharing this array's chunks and caches: every
   * call on it composes its index with this one, so nothing is read until then. chunk(), residency(), chunks and
   * shards still describe the stored array. Closing the array closes its views.
   * @throws ERR_INVALID_INDEX, ERR_OUT_OF_RANGE, ERR_CLOSED.
   */
  view(...index: IndexItem[]): ZarrArray<N> {
    const store = this.#live();
    const items: IndexItem[] = [];
    for (const x of index) items.push(x);
    const composed = this.#win === null ? items : this.#compose(items);
    const win = axesOf(this.#meta.shape, composed);
    return new ZarrArray<N>(kInternal, this.path, this.#meta, this.mode, { base: this.#base ?? this, store, fill: this.#fill, win });
  }

  /** `index` (over this view's axes) as an index of the stored array. */
  #compose(index: readonly IndexItem[]): IndexItem[] {
    const win = this.#win as Axis[];
    const user = axesOf(this.shape, index);
    let j = 0;
    return win.map((w) => {
      if (!w.kept) return w.start;
      const u = user[j++];
      const start = w.start + u.start * w.step;
      return u.kept ? sliceItem(start, u.count, w.step * u.step) : start;
    });
  }

  /**
   * Iterates over the first axis, as numpy: the elements of a 1-d array, views (z[i], nothing read yet) of an n-d one.
   * @throws ERR_ZERO_DIM for a 0-d array; ERR_CLOSED.
   */
  *[Symbol.iterator](): Generator<ZarrArray<N> | ValueTypes[N], void, undefined> {
    if (this.ndim === 0) throw new MemmapTypeError('ERR_ZERO_DIM', 'a 0-d array cannot be iterated (use get())');
    const n = this.shape[0];
    for (let i = 0; i < n; i++) yield this.ndim === 1 ? this.get(i) : this.view(i);
  }
}

guardPrototype(ZarrArray.prototype, [], (x) => isZarr(x));

/** One axis of a block write(): `n` positions, element offsets and steps in the chunk and in the source. */
interface BlockRun {
  n: number;
  dst0: number;
  dstStep: number;
  src0: number;
  srcStep: number;
}

/**
 * Copies the block's elements from `src` (native order) into the chunk bytes `dst`; `swapLane` > 0 reverses the
 * bytes of each lane of that size (a big-endian chunk). Rows contiguous on both sides are copied whole.
 */
function scatter(dst: Uint8Array, src: Uint8Array, block: readonly BlockRun[], itemsize: number, swapLane: number): void {
  const n = block.length;
  const last = n === 0 ? { n: 1, dst0: 0, dstStep: 1, src0: 0, srcStep: 1 } : block[n - 1];
  const outer = block.slice(0, Math.max(n - 1, 0));
  const j = new Array<number>(outer.length).fill(0);
  const whole = swapLane === 0 && last.dstStep === 1 && last.srcStep === 1;
  for (;;) {
    let di = last.dst0;
    let si = last.src0;
    for (let d = 0; d < outer.length; d++) {
      di += outer[d].dst0 + j[d] * outer[d].dstStep;
      si += outer[d].src0 + j[d] * outer[d].srcStep;
    }
    if (whole) dst.set(src.subarray(si * itemsize, (si + last.n) * itemsize), di * itemsize);
    else {
      for (let k = 0; k < last.n; k++) {
        const s = (si + k * last.srcStep) * itemsize;
        const t = (di + k * last.dstStep) * itemsize;
        if (swapLane === 0) for (let b = 0; b < itemsize; b++) dst[t + b] = src[s + b];
        else for (let b = 0; b < itemsize; b++) dst[t + b] = src[s + (b - (b % swapLane)) + swapLane - 1 - (b % swapLane)];
      }
    }
    let d = outer.length - 1;
    for (; d >= 0; d--) {
      if (++j[d] < outer[d].n) break;
      j[d] = 0;
    }
    if (d < 0) break;
  }
}

/** One axis of a selection of a shape: its first index, step and count; kept (a slice) or dropped (an integer). */
interface Axis {
  start: number;
  step: number;
  count: number;
  kept: boolean;
}

/** The selection `index` makes of `shape` (numpy basic indexing, checked as read() checks it), axis by axis. */
function axesOf(shape: readonly number[], index: readonly IndexItem[]): Axis[] {
  const cstrides = stridesFor(shape, 'C');
  const v = viewOf(shape, cstrides, index, 1);
  const out: Axis[] = [];
  let rest = v.offset;
  for (let d = 0, k = 0; d < shape.length; d++) {
    const item = d < index.length ? index[d] : null;
    const kept = !(typeof item === 'number' || typeof item === 'bigint');
    const start = cstrides[d] === 0 ? 0 : Math.floor(rest / cstrides[d]);
    rest -= start * cstrides[d];
    let count = 1;
    let step = 1;
    if (kept) {
      count = v.shape[k];
      // (An empty selection's view has zero strides: its other axes keep step 1, which reads nothing either way.)
      if (count > 1 && v.strides[k] !== 0) step = v.strides[k] / cstrides[d];
      k++;
    }
    out.push({ start, step, count, kept });
  }
  return out;
}

/** The slice of `count` positions from `start` by `step` (a negative step running past 0 stops with null). */
function sliceItem(start: number, count: number, step: number): IndexItem {
  const stop = start + count * step;
  return [start, stop < 0 ? null : stop, step];
}

/** 'C' or 'F' when these strides are that layout of `shape`, else null. */
function layoutOrder(shape: readonly number[], strides: readonly number[]): 'C' | 'F' | null {
  const same = (o: 'C' | 'F'): boolean => stridesFor(shape, o).every((s, d) => shape[d] <= 1 || s === strides[d]);
  return same('C') ? 'C' : same('F') ? 'F' : null;
}
