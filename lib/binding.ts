// Loads the native addon (prebuilt binary or local build) and wires its errors
// to MemmapError.
import { constants as bufferConstants } from 'node:buffer';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { nativeError } from './errors';
import type { AsyncStorage, CancelToken, ShareableStorage } from './storage';

/**
 * The native Mapping: one file mapping (MappedStorage wraps it as a Storage). Its async twins run on the libuv thread
 * pool with the mapping pinned (a close() meanwhile unmaps once they end); every error, ERR_CLOSED included, is a
 * rejection, and a cancel() of the token one was given rejects it with ERR_ABORTED.
 */
export interface NativeMapping extends Omit<ShareableStorage, 'bytes'>, Omit<AsyncStorage, 'bytes'> {
  /** An external ArrayBuffer over [start, start + length) of the mapping. */
  buffer(start: number, length: number): ArrayBuffer;
  readAt(start: number, length: number, dst: Uint8Array): boolean;
  /** Copies `length` bytes at `start` of the mapping into `dst` (SIGBUS-guarded memmove). */
  load(start: number, length: number, dst: Uint8Array): void;
  /** Copies the first `length` bytes of `src` to `start` of the mapping; ERR_READ_ONLY for mode 'r'. */
  store(start: number, length: number, src: Uint8Array): void;
  willneed(ranges: Float64Array): void;
}

/** The tables the addon is built from (src-native/dtypes.h, mapping.h), reported at load. */
export interface NativeTables {
  dtypes: { name: string; kind: string; itemsize: number; code: number }[];
  modes: Record<string, number>;
  advice: Record<string, number>;
  mapFlags: Record<string, number>;
  /** Reduction op codes (src-native/reduce.h MEMMAP_REDUCTIONS). */
  reductions: Record<string, number>;
}

export interface NativeBinding {
  init(makeError: typeof nativeError, maxBufferLength: number): void;
  /** The times let restoreFile() undo a growth completely. */
  /** Float64Array [fd, size, atimeSec, atimeNsec, mtimeSec, mtimeNsec]. */
  openFile(path: string | Uint8Array, mode: number): Float64Array;
  resizeFile(fd: number, size: number, path?: string): void;
  restoreFile(fd: number, size: number, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void;
  closeFile(fd: number): void;
  evictFile(path: string | Uint8Array): void;
  /** `fromMainThread`: the main thread's listener hook is in place from now on. */
  guardSigbus(fromMainThread?: boolean): void;
  /** Marks buffers whose memory was transfer()red away before the env goes (see binding.cc). */
  scanEscapes(): void;
  /** The kernels over the bytes of a TypedArray (heap storage); arguments as Storage's after `bytes`. */
  sumBytes(bytes: Uint8Array, type: number, swap: boolean, view: Float64Array, threads?: number): number | bigint | Float64Array;
  reduceBytes(bytes: Uint8Array, type: number, swap: boolean, view: Float64Array, nkeep: number, op: number, outType: number, ddof: number, threads: number, dst: Uint8Array): void;
  /**
   * Part of numpy's float sum over a selection cut into blocks (src-native/chunked.h): `sources` are Storage.gridSource()
   * values; `blocks` per block [source, byte offset, swap, byte strides...]; `starts` [ndim, per axis: count, run
   * starts..., extent]; `range` [origin, from, to, total, buffered, accRe, accIm]. Returns [re, im].
   */
  sumGrid(sources: unknown[], blocks: Float64Array, starts: Float64Array, type: number, squares: boolean, meanRe: number, meanIm: number, range: Float64Array, threads?: number): Float64Array;
  /** A cancellation flag for the async kernels (shared with the native job). */
  Cancel: new () => CancelToken;
  copyBytes(bytes: Uint8Array, type: number, swap: boolean, view: Float64Array, dst: Uint8Array): void;
  gatherBytes(bytes: Uint8Array, type: number, swap: boolean, coords: Float64Array[], view: Float64Array, dst: Uint8Array): undefined | Float64Array;
  reduceBytes(bytes: Uint8Array, type: number, swap: boolean, view: Float64Array, nkeep: number, op: number, outType: number, ddof: number, threads: number, dst: Uint8Array): void;
  readonly tables: NativeTables;
  Mapping: {
    /** `path`: the file's path, for the first element reads (readAt); omitted, readAt() is always false. */
    new (fd: number, mode: number, offset: number, length: number, flags: number, path?: string | Uint8Array): NativeMapping;
    new (adopt: 'shared', id: string): NativeMapping;
  };
  readonly pageSize: number;
  /**
   * A selection across chunks copied into `dst` in one call (src-native/chunk_copy.h): `sources` the Mappings and
   * heap bytes it reads (Storage.gridSource()), `dstStrides` the destination's byte strides (one per axis, ndim),
   * `parts` records [source, swap, src, dst, shape[ndim], srcStrides[ndim]] (byte offsets and strides). Every mapping
   * stays mapped until it returns; mapped parts are asked for (MADV_WILLNEED) a window ahead of the copy.
   */
  copyChunks(type: number, sources: unknown[], parts: Float64Array, dstStrides: Float64Array, dst: Uint8Array): void;
  reduceChunks(type: number, nkeep: number, op: number, outType: number, ddof: number, threads: number, sources: unknown[], blocks: Float64Array, dst: Uint8Array): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;

/** Largest ArrayBuffer the running Node accepts (4 GiB on Node 20, 2^53-1 on 22+). */
export const maxBufferLength: number = bufferConstants.MAX_LENGTH;

export const native = load(path.join(__dirname, '..')) as NativeBinding;
native.init(nativeError, maxBufferLength);

// libuv installs its own SIGBUS handler when a process.on('SIGBUS') listener
// is added and resets the signal to SIG_DFL when the last is removed; either
// would break the guard of native scans (a fault would spin or kill). Node's
// own 'newListener'/'removeListener' hooks run first (registered at
// bootstrap), so ours see libuv's change and put memmap's handler back in
// front, chaining signals sent with kill() to libuv's.
// On macOS a lost page may arrive as SIGSEGV too, guarded the same way.
const faultSignals = process.platform === 'darwin' ? ['SIGBUS', 'SIGSEGV'] : ['SIGBUS'];
const regard = (event: string | symbol): void => {
  if (typeof event === 'string' && faultSignals.includes(event)) native.guardSigbus();
};
process.on('newListener', regard);
process.on('removeListener', regard);
// Only the main thread's process.on() reaches libuv's signal handling; once it
// is hooked, native calls stop checking the handler on every call.
if (isMainThread) native.guardSigbus(true);
// A worker's teardown calls every pending buffer finalizer, even for memory a
// transfer()red ArrayBuffer in another thread still uses; tell those apart
// while JavaScript can still run.
else process.on('exit', () => native.scanEscapes());
