// File storage: a file mapped with mmap() by the native Mapping, as a Storage
// (lib/storage.ts). mapFile() opens, sizes and maps.
import * as fs from 'node:fs';
import { native, type NativeMapping } from './binding';
import type { DType } from './dtype';
import { fsError, isNoExternalBuffers, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { type Order, sizeOf } from './layout';
import { MAP_FLAGS, type Mode, MODE_CODES } from './modes';
import { displayPath, type FilePath } from './paths';
import type { AsyncStorage, ByteRange, CancelToken, Copying, ShareableStorage, Storage } from './storage';

/**
 * Set by the first refusal of an ArrayBuffer over a mapping (Electron's V8
 * memory cage; an addon built with NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED):
 * from then on bytes() refuses at once, without asking the runtime again.
 */
let refused = false;

function noExternalBuffers(cause: unknown): MemmapError {
  return new MemmapError(
    'ERR_NO_EXTERNAL_BUFFERS',
    'this runtime (e.g. Electron, whose V8 memory cage refuses ArrayBuffers over memory it did not allocate) gives no zero-copy view of a mapping: `data`, `bytes` and segments() cannot work; use read()/readAsync() for a copy, get()/set(), gather(), the reductions or ndarray(), which read and write through copies',
    { cause },
  );
}

/** A native Mapping as a Storage: each window is an external ArrayBuffer of its own. */
export class MappedStorage implements ShareableStorage, AsyncStorage {
  readonly #m: NativeMapping;
  constructor(mapping: NativeMapping) {
    this.#m = mapping;
  }
  get length(): number {
    return this.#m.length;
  }
  get closed(): boolean {
    return this.#m.closed;
  }
  get meta(): string | undefined {
    return this.#m.meta;
  }
  bytes(start: number, length: number): ByteRange {
    // An empty window is a plain ArrayBuffer of no bytes, which every runtime allows.
    if (refused && length > 0) throw noExternalBuffers(undefined);
    let buffer: ArrayBuffer;
    try {
      buffer = this.#m.buffer(start, length);
    } catch (err) {
      if (!isNoExternalBuffers(err)) throw err;
      refused = true;
      throw noExternalBuffers(err);
    }
    return { buffer, byteOffset: 0, byteLength: length };
  }
  gridSource(): unknown {
    if (this.#m.closed) throw new MemmapError('ERR_CLOSED', 'memmap is closed');
    return this.#m;
  }
  readAt(start: number, length: number, dst: Uint8Array): boolean {
    return this.#m.readAt(start, length, dst);
  }
  load(start: number, length: number, dst: Uint8Array): void {
    this.#m.load(start, length, dst);
  }
  store(start: number, length: number, src: Uint8Array): void {
    this.#m.store(start, length, src);
  }
  sum(type: number, swap: boolean, view: Float64Array, threads?: number): number | bigint | Float64Array {
    return this.#m.sum(type, swap, view, threads);
  }
  reduce(type: number, swap: boolean, view: Float64Array, nkeep: number, op: number, outType: number, ddof: number, threads: number, dst: Uint8Array): void {
    this.#m.reduce(type, swap, view, nkeep, op, outType, ddof, threads, dst);
  }
  copy(type: number, swap: boolean, view: Float64Array, dst: Uint8Array): void {
    this.#m.copy(type, swap, view, dst);
  }
  gather(type: number, swap: boolean, coords: Float64Array[], view: Float64Array, dst: Uint8Array): undefined | Float64Array {
    return this.#m.gather(type, swap, coords, view, dst);
  }
  // The async twins (see NativeMapping): promises, settled from the libuv thread pool.
  sumAsync(type: number, swap: boolean, view: Float64Array, threads: number, cancel: CancelToken | undefined): Promise<number | bigint | Float64Array> {
    return this.#m.sumAsync(type, swap, view, threads, cancel);
  }
  copyAsync(type: number, swap: boolean, view: Float64Array, cancel: CancelToken | undefined): Promise<ArrayBuffer> {
    return this.#m.copyAsync(type, swap, view, cancel);
  }
  gatherAsync(type: number, swap: boolean, coords: Float64Array[], view: Float64Array, cancel: CancelToken | undefined): Promise<ArrayBuffer | Float64Array> {
    return this.#m.gatherAsync(type, swap, coords, view, cancel);
  }
  newCancel(): CancelToken {
    return new native.Cancel();
  }
  reduceAsync(type: number, swap: boolean, view: Float64Array, nkeep: number, op: number, outType: number, ddof: number, threads: number, cancel: CancelToken | undefined): Promise<ArrayBuffer> {
    return this.#m.reduceAsync(type, swap, view, nkeep, op, outType, ddof, threads, cancel);
  }
  prefetch(view: Float64Array, itemsize: number, cancel: CancelToken | undefined): Promise<undefined> {
    return this.#m.prefetch(view, itemsize, cancel);
  }
  flush(): void {
    this.#m.flush();
  }
  advise(advice: number): void {
    this.#m.advise(advice);
  }
  willneed(ranges: Float64Array): void {
    // A hint: an addon built before willneed() existed (an old prebuild) just reads without it.
    if (typeof this.#m.willneed === 'function') this.#m.willneed(ranges);
  }
  residency(): Uint8Array {
    return this.#m.residency();
  }
  share(meta: string): string {
    return this.#m.share(meta);
  }
  close(): void {
    this.#m.close();
  }
}

/** Internal: everything needed to map one array. Arguments are already validated. */
export interface MapSpec {
  /** What the array reports (absolute). */
  filename: FilePath;
  /** What the OS gets (the caller's path); `filename` when absent. */
  osPath?: FilePath;
  mode: Mode;
  dtype: DType;
  shape: number[] | undefined;
  offset: number;
  order: Order;
  populate: boolean;
  /** Inferred shape: ignore a trailing partial element instead of ERR_SIZE_MISMATCH. */
  partial?: boolean;
  /**
   * Refuse a file named `*.npy` that starts with the .npy magic when the array
   * starts at byte 0 (memmap() without allowNpy). Only such names are read at
   * open: memmap() reads nothing of other files until they are touched.
   */
  refuseNpy?: boolean;
}

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Whether the open file starts with the .npy magic (one pread of 6 bytes). */
function startsWithNpyMagic(fd: number, fileSize: number): boolean {
  if (fileSize < NPY_MAGIC.length) return false;
  const head = Buffer.alloc(NPY_MAGIC.length);
  try {
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(NPY_MAGIC);
  } catch {
    return false; // unreadable here: mmap will say why
  }
}

/**
 * Opens, sizes and maps the file; the file is left untouched on every error path of r, r+ and c (a file 'r+'
 * grew is shrunk back to its size when the mapping then fails).
 */
export function mapFile(spec: MapSpec): { storage: MappedStorage; shape: number[] } {
  const { filename, mode, dtype, offset } = spec;
  const itemsize = dtype.itemsize;
  if (spec.shape === undefined && mode === 'w+') {
    throw new MemmapTypeError('ERR_SHAPE_REQUIRED', "shape is required for mode 'w+'");
  }
  // Check the extent before open(): 'w+' truncates the file there.
  if (spec.shape !== undefined) {
    const bytes = sizeOf(spec.shape) * itemsize;
    if (!Number.isSafeInteger(bytes)) throw new MemmapRangeError('ERR_INVALID_SHAPE', 'shape has too many bytes');
    if (!Number.isSafeInteger(offset + bytes)) {
      throw new MemmapRangeError('ERR_INVALID_OFFSET', `offset ${offset} + ${bytes} bytes ends past 2^53 - 1`);
    }
  }
  const opened = native.openFile(spec.osPath ?? filename, MODE_CODES[mode]); // Float64Array: indexing runs no user code
  const fd = opened[0];
  const fileSize = opened[1];
  let mapping: NativeMapping;
  let shape: number[];
  let grew = false; // 'r+' grew the file
  try {
    // Before anything can change the file ('r+' may grow it below).
    if (spec.refuseNpy && offset === 0 && mode !== 'w+' && /\.npy$/i.test(displayPath(filename)) && startsWithNpyMagic(fd, fileSize)) {
      throw new MemmapError('ERR_NPY_FILE', `${displayPath(filename)} is a .npy file: memmap() would read its header as data; use openNpy(), or pass { allowNpy: true } to map the raw bytes`, { path: displayPath(filename) });
    }
    if (spec.shape === undefined) {
      // As numpy: with no shape there must be data to map, in every mode.
      if (fileSize === 0) {
        throw new MemmapError('ERR_EMPTY_FILE', `cannot map an empty file: ${filename}`, { path: displayPath(filename) });
      }
      const bytes = fileSize - offset;
      if (bytes <= 0) {
        throw new MemmapError('ERR_FILE_TOO_SHORT', `offset ${offset} is beyond the end of ${filename} (${fileSize} bytes)`, { path: displayPath(filename) });
      }
      if (bytes % itemsize !== 0 && !spec.partial) {
        throw new MemmapError('ERR_SIZE_MISMATCH', `size of available data (${bytes} bytes) is not a multiple of the ${dtype.name} itemsize ${itemsize}`, { path: displayPath(filename) });
      }
      shape = [Math.floor(bytes / itemsize)];
    } else {
      shape = spec.shape;
      const needed = offset + sizeOf(shape) * itemsize;
      if (mode === 'r' || mode === 'c') {
        if (fileSize === 0) throw new MemmapError('ERR_EMPTY_FILE', `cannot map an empty file: ${filename}`, { path: displayPath(filename) });
        if (fileSize < needed) {
          throw new MemmapError('ERR_FILE_TOO_SHORT', `${filename} is ${fileSize} bytes; the array needs ${needed}`, { path: displayPath(filename) });
        }
      } else if (mode === 'w+' || fileSize < needed) {
        grew = mode === 'r+';
        native.resizeFile(fd, needed, displayPath(filename));
      }
    }
    const byteLength = sizeOf(shape) * itemsize;
    mapping = new native.Mapping(fd, MODE_CODES[mode], offset, byteLength, spec.populate ? MAP_FLAGS.populate : 0, spec.osPath ?? filename);
  } catch (err) {
    // 'r+' grew the file, then failed (e.g. mmap: ENOMEM): give the file back its size and times (best effort;
    // the caller gets the original error either way).
    if (grew) {
      try {
        // Size and times as openFile() saw them, to the nanosecond (ftruncate + futimens).
        native.restoreFile(fd, fileSize, opened[2], opened[3], opened[4], opened[5]);
      } catch {
        try {
          native.resizeFile(fd, fileSize); // times before 1970: the size at least
        } catch {
          // the file stays grown (zeros past its old end)
        }
      }
    }
    // The native layer knows the fd, not the file: name it for OS errors (mmap, ftruncate).
    if (err instanceof MemmapError && err.path === undefined) err.path = displayPath(filename);
    throw err;
  } finally {
    native.closeFile(fd);
  }
  return { storage: new MappedStorage(mapping), shape };
}

/** The axis a file grows along: the slowest-varying one (0 in C order, the last in F order), as numpy's .npy writers grow it. */
export function growthAxis(ndim: number, order: Order): number {
  return order === 'F' ? ndim - 1 : 0;
}

/** What remapFile() does: follow the file as it is now, or resize it to `shape` (writing a format's `header` at byte 0). */
export type Remap = { refresh: true } | { shape: number[]; header?: Buffer; keepSize?: boolean; release?: () => void };

/**
 * Maps the file of `spec` (an array of shape `shape`) again, by its path. Refresh: the growth axis becomes the whole
 * rows the file now holds past the offset (a partial trailing row is ignored; fewer rows if it shrank), the file
 * untouched. Resize (modes 'r+'/'w+'): the file is set to end where the array of `how.shape` ends and `how.header`, if
 * any, is written at byte 0 (`keepSize`: never make the file shorter, ERR_SHARED). Every error path leaves the file's size, bytes and times as they were.
 * Windows cuts no file that is mapped (error 1224): there a shrink calls `release` (the caller unmaps the old array),
 * cuts, then maps.
 */
export function remapFile(spec: MapSpec, shape: readonly number[], how: Remap): { storage: MappedStorage; shape: number[] } {
  const { filename, mode, offset, dtype } = spec;
  const path = displayPath(filename);
  const opened = native.openFile(spec.osPath ?? filename, MODE_CODES[mode === 'w+' ? 'r+' : mode]); // never truncate again
  const fd = opened[0];
  const fileSize = opened[1];
  let target: number[];
  let mapping: NativeMapping | undefined;
  let grew = false;
  let oldHeader: Buffer | undefined;
  try {
    if ('refresh' in how) {
      target = shape.slice();
      const axis = growthAxis(shape.length, spec.order);
      let rowBytes = dtype.itemsize;
      for (let d = 0; d < shape.length; d++) if (d !== axis) rowBytes *= shape[d];
      if (shape.length > 0 && rowBytes > 0) target[axis] = Math.max(0, Math.floor((fileSize - offset) / rowBytes));
      else if (fileSize < offset + sizeOf(shape) * dtype.itemsize) {
        throw new MemmapError('ERR_FILE_TOO_SHORT', `${filename} is ${fileSize} bytes; the array needs ${offset + sizeOf(shape) * dtype.itemsize}`, { path });
      }
    } else {
      target = how.shape;
      const needed = offset + sizeOf(target) * dtype.itemsize;
      if (!Number.isSafeInteger(needed)) throw new MemmapRangeError('ERR_INVALID_SHAPE', 'shape has too many bytes');
      if (needed < fileSize && how.keepSize) {
        throw new MemmapError('ERR_SHARED', `${filename} was share()d: other threads may still map the ${fileSize - needed} bytes resize() would cut`, { path });
      }
      if (how.header !== undefined) oldHeader = readExactly(fd, how.header.length, path);
      if (needed > fileSize) {
        grew = true;
        native.resizeFile(fd, needed, path);
      }
      const map = (): NativeMapping => new native.Mapping(fd, MODE_CODES[mode], offset, needed - offset, spec.populate ? MAP_FLAGS.populate : 0, spec.osPath ?? filename);
      const unmapFirst = needed < fileSize && process.platform === 'win32';
      if (!unmapFirst) mapping = map();
      if (how.header !== undefined) writeExactly(fd, how.header, path);
      if (unmapFirst) how.release?.();
      if (needed < fileSize) native.resizeFile(fd, needed, path); // cut only once all else worked: cut bytes cannot come back
      mapping ??= map();
      return { storage: new MappedStorage(mapping), shape: target };
    }
    const length = sizeOf(target) * dtype.itemsize;
    mapping = new native.Mapping(fd, MODE_CODES[mode], offset, length, spec.populate ? MAP_FLAGS.populate : 0, spec.osPath ?? filename);
    return { storage: new MappedStorage(mapping), shape: target };
  } catch (err) {
    // Best effort, the caller gets the original error either way: the old header, then the old size and times.
    try {
      mapping?.close();
      if (oldHeader !== undefined) writeExactly(fd, oldHeader, path);
      if (grew || oldHeader !== undefined) native.restoreFile(fd, fileSize, opened[2], opened[3], opened[4], opened[5]);
    } catch {
      // the file keeps what the failed step left
    }
    if (err instanceof MemmapError && err.path === undefined) err.path = path;
    throw err;
  } finally {
    native.closeFile(fd);
  }
}

function readExactly(fd: number, length: number, path: string): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  try {
    while (done < length) {
      const n = fs.readSync(fd, buf, done, length - done, done);
      if (n === 0) throw new MemmapError('ERR_FILE_TOO_SHORT', `${path} ends inside its header`, { path });
      done += n;
    }
  } catch (err) {
    throw err instanceof MemmapError ? err : fsError(err, path);
  }
  return buf;
}

function writeExactly(fd: number, bytes: Buffer, path: string): void {
  let done = 0;
  try {
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, done);
  } catch (err) {
    throw fsError(err, path);
  }
}

/** Which pages of an array are in RAM now (mincore). */
export interface Residency {
  /** Bytes of the array (`byteLength`). */
  totalBytes: number;
  /** Bytes of the array that lie on resident pages. */
  residentBytes: number;
  /** residentBytes / totalBytes (1 for an empty array). */
  fraction: number;
  pageSize: number;
  /** Pages covering the array; pages[0] starts at file offset `firstPageOffset`. */
  totalPages: number;
  residentPages: number;
  firstPageOffset: number;
  /** One byte per page: 1 resident, 0 not. */
  pages: Uint8Array;
}

/** Residency of `byteLength` bytes mapped from file offset `offset`, from the storage's per-page bytes. */
export function residencyOf(pages: Uint8Array, offset: number, byteLength: number): Residency {
  const pageSize = native.pageSize;
  const firstPageOffset = offset - (offset % pageSize);
  const start = offset - firstPageOffset; // array start within the mapped range
  const end = start + byteLength;
  let residentPages = 0;
  let residentBytes = 0;
  for (let p = 0; p < pages.length; p++) {
    if (!pages[p]) continue;
    residentPages++;
    const lo = Math.max(p * pageSize, start);
    const hi = Math.min((p + 1) * pageSize, end);
    if (hi > lo) residentBytes += hi - lo;
  }
  return {
    totalBytes: byteLength,
    residentBytes,
    fraction: byteLength === 0 ? 1 : residentBytes / byteLength,
    pageSize,
    totalPages: pages.length,
    residentPages,
    firstPageOffset,
    pages,
  };
}

/** Bytes [start, start + length) of `storage` itself, or the storage where the runtime refuses buffers over it (load() and store() then work). */
function ownBytes(storage: Storage, start: number, length: number): Uint8Array | Copying {
  let w: ByteRange;
  try {
    w = storage.bytes(start, length);
  } catch (err) {
    if (isNoExternalBuffers(err) && storage.load !== undefined && storage.store !== undefined) return storage as Copying;
    throw err;
  }
  return new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
}

/**
 * Runs `edit` over bytes [start, start + length) of `storage`: its own bytes
 * where it has them, else a copy (load()) stored back (store()) once `edit`
 * returned.
 */
export function editBytes(storage: Storage, start: number, length: number, edit: (bytes: Uint8Array) => void): void {
  const own = ownBytes(storage, start, length);
  if (own instanceof Uint8Array) return edit(own);
  const copy = new Uint8Array(length);
  own.load(start, length, copy);
  edit(copy);
  own.store(start, length, copy);
}

/** Bytes [start, start + length) of `storage` to read: its own where it has them, else a copy (load()). */
export function readBytes(storage: Storage, start: number, length: number): Uint8Array {
  const own = ownBytes(storage, start, length);
  if (own instanceof Uint8Array) return own;
  const copy = new Uint8Array(length);
  own.load(start, length, copy);
  return copy;
}
