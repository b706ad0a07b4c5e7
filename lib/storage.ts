// Where an array's bytes live. The view model (dtype, shape, strides, offset:
// lib/layout.ts) and the kernels do not care: an array is a view over a
// Storage. A new kind of storage (chunk mappings, decoded chunks) is a new
// file implementing this interface; storage-mapped.ts (a file mapping) and
// storage-heap.ts (an ArrayBuffer) are the two so far.

/**
 * Bytes of an ArrayBuffer: a plain record (own data properties), so using it
 * runs none of the TypedArray getters someone may have patched.
 */
export interface ByteRange {
  readonly buffer: ArrayBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
}

/**
 * Byte storage with the native kernels over it. Offsets and lengths are in
 * bytes; a `view` is a descriptor from viewDescriptor() whose offset and
 * strides address this storage's bytes; `type` is a native element code
 * (ELEM_CODES) and `swap` says the bytes are not in this machine's order.
 * Every method but close() throws ERR_CLOSED once closed.
 */
export interface Storage {
  /** Bytes the storage holds. */
  readonly length: number;
  readonly closed: boolean;
  /**
   * Zero-copy bytes [start, start + length), detached by close(). A window of
   * a mapping is an ArrayBuffer of its own (a transfer() of it moves only it).
   */
  bytes(start: number, length: number): ByteRange;
  /**
   * Copies bytes [start, start + length) into `dst` with a read of the backing
   * file, not through memory: true if done, false if the storage cannot (a
   * buffer of it was handed out, so memory may differ from the file). Absent
   * where there is no file. ERR_SIGBUS if the file lost those bytes.
   */
  readAt?(start: number, length: number, dst: Uint8Array): boolean;
  /**
   * Copies bytes [start, start + length) of the memory into `dst` / the first
   * `length` bytes of `src` into the memory: how elements are read and written
   * where bytes() throws ERR_NO_EXTERNAL_BUFFERS (a runtime that refuses
   * ArrayBuffers over a mapping). Absent where bytes() always works.
   */
  load?(start: number, length: number, dst: Uint8Array): void;
  store?(start: number, length: number, src: Uint8Array): void;
  /**
   * Sum of the view's elements: number, bigint (64-bit integers) or Float64Array [re, im].
   * `threads`: native threads to use (undefined or 0: the default); the result does not depend on it.
   */
  sum(type: number, swap: boolean, view: Float64Array, threads?: number): number | bigint | Float64Array;
  /** The view's elements in C order into `dst` (exactly their bytes), in this machine's byte order. */
  copy(type: number, swap: boolean, view: Float64Array, dst: Uint8Array): void;
  /**
   * Element k of `dst` is the element at (coords[0][k], coords[1][k], ...) of
   * the view; undefined, or Float64Array [kind (0 not an integer, 1 out of
   * range), axis, position] of the first bad coordinate.
   */
  gather(type: number, swap: boolean, coords: Float64Array[], view: Float64Array, dst: Uint8Array): undefined | Float64Array;
  /**
   * The reduction `op` (a native.tables.reductions code) over dims [nkeep, ndim) of the view: one `outType`
   * element per position of the kept dims [0, nkeep), C order, into `dst` (exactly their bytes, this machine's
   * byte order). `ddof` is var's; `threads` 0 = default. Throws ERR_EMPTY_REDUCTION (min/max/arg ops over no
   * elements), ERR_ALL_NAN (nanargmin/nanargmax of a slice of only NaN).
   */
  reduce(type: number, swap: boolean, view: Float64Array, nkeep: number, op: number, outType: number, ddof: number, threads: number, dst: Uint8Array): void;
  /**
   * What the kernels over many storages at once (native.sumGrid: a Zarr array's chunks) read the bytes from: the
   * native Mapping, or the bytes. ERR_CLOSED once closed.
   */
  gridSource(): unknown;
  /** Writes changes to where the bytes come from (msync); no-op where there is nothing to write to. */
  flush(): void;
  /** How the bytes will be read (an ADVICE_CODES value); a hint, no-op where it means nothing. */
  advise(advice: number): void;
  /**
   * Starts reading the byte ranges [start, length, start, length, ...] into the page cache (MADV_WILLNEED), whatever
   * the advice; absent where the bytes are in memory already.
   */
  willneed?(ranges: Float64Array): void;
  /** One byte per page of the storage (1 = in RAM). */
  residency(): Uint8Array;
  /**
   * Releases the bytes. Idempotent. A mapping detaches every buffer it handed
   * out first; heap storage forgets its bytes (the caller's ArrayBuffer stays).
   */
  close(): void;
}

/** A storage other threads can adopt (fromShared()): a file mapping. */
export interface ShareableStorage extends Storage {
  /** Registers the storage for fromShared(); `meta` is kept with the first share. */
  share(meta: string): string;
  /** What the first share() stored; undefined once closed. */
  readonly meta: string | undefined;
}

export function isShareable(storage: Storage): storage is ShareableStorage {
  return typeof (storage as Partial<ShareableStorage>).share === 'function';
}

/** A native cancellation flag (native.Cancel): cancel() makes a running kernel stop at its next slice. */
export interface CancelToken {
  cancel(): void;
}

/**
 * Storage whose kernels can run off the JavaScript thread (a file mapping:
 * page faults block). Each returns a Promise; the storage stays mapped until
 * the call ends, whatever close() does meanwhile. Results come back in fresh
 * ArrayBuffers. Heap storage has none: its bytes are in memory already.
 */
export interface AsyncStorage extends Storage {
  /** A fresh cancellation flag to pass to one call. */
  newCancel(): CancelToken;
  sumAsync(type: number, swap: boolean, view: Float64Array, threads: number, cancel: CancelToken | undefined): Promise<number | bigint | Float64Array>;
  copyAsync(type: number, swap: boolean, view: Float64Array, cancel: CancelToken | undefined): Promise<ArrayBuffer>;
  gatherAsync(type: number, swap: boolean, coords: Float64Array[], view: Float64Array, cancel: CancelToken | undefined): Promise<ArrayBuffer | Float64Array>;
  reduceAsync(type: number, swap: boolean, view: Float64Array, nkeep: number, op: number, outType: number, ddof: number, threads: number, cancel: CancelToken | undefined): Promise<ArrayBuffer>;
  /** Reads every page the view's elements occupy into the page cache; resolves once they are resident. */
  prefetch(view: Float64Array, itemsize: number, cancel: CancelToken | undefined): Promise<undefined>;
}

export function isAsync(storage: Storage): storage is AsyncStorage {
  return typeof (storage as Partial<AsyncStorage>).reduceAsync === 'function';
}

/** A storage that refused a window: it has load() and store(). */
export type Copying = Storage & Required<Pick<Storage, 'load' | 'store'>>;
