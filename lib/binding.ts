// Loads the native addon (prebuilt binary or local build) and wires its errors
// to MemmapError.
import { constants as bufferConstants } from 'node:buffer';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { nativeError } from './errors';

export interface NativeMapping {
  buffer(start: number, length: number): ArrayBuffer;
  flush(start?: number, length?: number): void;
  advise(advice: number): void;
  residency(): Uint8Array;
  close(): void;
  /** Registers the region for fromShared(); `meta` is kept with the first share. */
  share(meta: string): string;
  /** `view`: [byteOffset, ndim, ...shape, ...byteStrides] (see viewDescriptor()). */
  sum(type: number, swap: boolean, view: Float64Array): number | bigint | Float64Array;
  copy(type: number, swap: boolean, view: Float64Array, dst: Uint8Array): void;
  /** undefined, or Float64Array [kind (0 not an integer, 1 out of range), axis, position] of a bad coordinate. */
  gather(type: number, swap: boolean, coords: Float64Array[], view: Float64Array, dst: Uint8Array): undefined | Float64Array;
  readonly closed: boolean;
  readonly length: number;
  /** What the first share() stored; undefined once closed. */
  readonly meta: string | undefined;
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
  Mapping: {
    new (fd: number, mode: number, offset: number, length: number, flags: number): NativeMapping;
    new (adopt: 'shared', id: string): NativeMapping;
  };
  readonly pageSize: number;
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
const regard = (event: string | symbol): void => {
  if (event === 'SIGBUS') native.guardSigbus();
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

export const MODE_CODES = { r: 0, 'r+': 1, 'w+': 2, c: 3 } as const;
export const ADVICE_CODES = { normal: 0, sequential: 1, random: 2, willneed: 3, dontneed: 4 } as const;
export const MAP_POPULATE = 1;
