// MemmapArray: the public API over a view (dtype, shape, strides, offset) and
// a Storage. Element codecs live in codec.ts, the windows elements are read
// through in windows.ts, the scijs adapter in ndarray.ts, share tokens in
// share.ts; this file holds only the methods users call.
import { inspect } from 'node:util';
import type { NdArray } from 'ndarray';
import { maxBufferLength } from './binding';
import { asMemmapError, guardPrototype } from './boundary';
import { type Codec, codecOf, toComplex } from './codec';
import { type CanonicalDType, type Complex, type DataTypes, type DType, DTYPES, type DTypeName, type DTypeString, ELEM_CODES, hasFloat16Array, type InputTypes, MACHINE_LITTLE_ENDIAN, parseDType, type ValueTypes } from './dtype';
import { halfToNumber } from './float16';
import { dtypeRepr, type Printable, reprOf, strOf, tupleRepr } from './format';
import { describe, isNoExternalBuffers, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { axisIndex, checkNumpySize, indexColumns, type IndexItem, linearIndex, normalizeShape, type Order, sizeOf, stridesFor, type ViewSpec, viewDescriptor, viewOf } from './layout';
import { toNdArray } from './ndarray';
import { type Advice, adviceCode, type Mode } from './modes';
import { appendOwn, readOptions } from './options';
import { displayPath, type FilePath } from './paths';
import { abortError, type AccumulateOptions, type AsyncOptions, isAbortSignal, isAborted, isList, onAbort, plan, type ReduceOptions, type ReducePlan, type Reduction, splitArgs, sqrtInPlace, type VarianceOptions } from './reduce';
import { type AsyncStorage, type ByteRange, type CancelToken, isAsync, isShareable, type Storage } from './storage';
import { HeapStorage } from './storage-heap';
import { type Residency, residencyOf } from './storage-mapped';
import { type SharedMemmap, tokenMeta } from './share';
import { SEGMENT_BYTES, Windows } from './windows';

/** One window of an array, as segments() yields it. */
export interface Segment<N extends DTypeName = DTypeName> {
  /** Index (in elements, file order) of the first element of `data`. */
  start: number;
  /** Number of elements in this window. */
  length: number;
  /** Zero-copy view of the window (complex: interleaved, so 2 * length numbers). */
  data: DataTypes[N];
}

/** What sum() returns for each dtype: get()'s types, with bool summed as a count. */
export type SumTypes = { [K in keyof ValueTypes]: K extends 'bool' ? number : ValueTypes[K] };

/** Internal: what an array is, beside its storage and shape. */
export interface ArraySpec {
  /** What the array reports (absolute). */
  filename: FilePath;
  mode: Mode;
  dtype: DType;
  /** Byte offset of the array in its file. */
  offset: number;
  order: Order;
  /** How the array's format maps its file again (refresh(), resize()); fromShared() arrays have none. */
  remap?: Remapper;
}

/** Internal: a format's remapping of its file, at the shape of the file now or at a new shape (remapFile()). */
export interface Remapper {
  refresh(shape: readonly number[]): { storage: Storage; shape: number[] };
  /**
   * `keepSize`: refuse (ERR_SHARED) to make the file shorter. `release` (Windows, shrinking): unmap the old array now.
   * @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …).
   */
  resize(shape: readonly number[], next: number[], keepSize: boolean, release?: () => void): { storage: Storage; shape: number[] };
}

const kInternal = Symbol('memmap.internal');

/** Internal: the array over `storage` (whose byte 0 is the array's first). */
export function createArray<N extends DTypeName>(spec: ArraySpec, shape: number[], storage: Storage): MemmapArray<N> {
  return new MemmapArray<N>(kInternal, spec, shape, storage);
}

type AnyTypedArray = DataTypes[DTypeName];

/** Internal: what makes an array a view (see view()). */
interface ViewOf<N extends DTypeName> {
  base: MemmapArray<N>;
  /** Element offset of element [0, …, 0] in the storage. */
  off: number;
  /** Element strides. */
  strides: number[];
  windows: Windows;
}

/**
 * 'C' or 'F' when elements with these strides fill a contiguous span in that
 * order (axes of length 1 or less move nowhere); undefined otherwise.
 */
function layoutOf(shape: readonly number[], strides: readonly number[]): Order | undefined {
  for (let d = 0; d < shape.length; d++) if (shape[d] === 0) return 'C'; // no element: contiguous, as numpy
  let c = true;
  let f = true;
  for (let d = shape.length - 1, step = 1; d >= 0; d--) {
    if (shape[d] > 1 && strides[d] !== step) c = false;
    step *= shape[d];
  }
  for (let d = 0, step = 1; d < shape.length; d++) {
    if (shape[d] > 1 && strides[d] !== step) f = false;
    step *= shape[d];
  }
  return c ? 'C' : f ? 'F' : undefined;
}

/** What refresh()/resize() need, made before the file changes. */
interface Prepared {
  shape: readonly number[];
  strides: readonly number[];
  size: number;
  byteLength: number;
  holder: { storage: Storage | null };
  windows: Windows;
}

/** Taken at load: refresh()/resize() must not meet a patched one after the file changed. */
const freeze = Object.freeze;

/** Set in the class's static block: `x`, if it is a MemmapArray, else ERR_INVALID_ARG_TYPE. */
let checkReceiver: <T>(x: T) => T;
/** Set in the class's static block: whether `x` is a MemmapArray itself (not a Proxy of one). */
let isArray: (x: unknown) => boolean;

/**
 * A typed n-d array over a memory-mapped file. Create it with `memmap()` or
 * `openNpy()`; release it with `close()` (or `using`).
 */
export class MemmapArray<N extends DTypeName = DTypeName> {
  /** Canonical dtype name, e.g. 'float32'. */
  readonly dtype: N;
  /** numpy's dtype string, byte order included, e.g. '<f4' or '>i8'. */
  readonly descr: string;
  /** '<' little-endian, '>' big-endian, '|' one byte wide. */
  readonly byteOrder: '<' | '>' | '|';
  /** Bytes per element. */
  readonly itemsize: number;
  /** Dimensions (frozen); refresh() and resize() replace it, and strides, ndim, size and byteLength with it. */
  readonly shape: readonly number[];
  /** Element strides (not bytes), for the array's order. */
  readonly strides: readonly number[];
  readonly ndim: number;
  readonly order: Order;
  readonly mode: Mode;
  /** Byte offset of the array in the file, as given. */
  readonly offset: number;
  /**
   * Path of the mapped file, made absolute without normalisation (it names the
   * file the OS opened). A Buffer only when the caller gave a Buffer path
   * whose bytes are not UTF-8.
   */
  readonly filename: FilePath;
  /** Number of elements. */
  readonly size: number;
  /** size * itemsize. */
  readonly byteLength: number;
  /** True for mode 'r': set() throws, and stray writes through `data` stay private to this process. */
  readonly readonly: boolean;

  /**
   * The array this is a view of (view() and iteration make views), or null:
   * a view shares its base's memory and lives until it or its base is closed.
   */
  readonly base: MemmapArray<N> | null;

  #storage: Storage | null;
  /** A view: its base (checked for close/remap on every call); null for an array that owns its storage. */
  readonly #base: MemmapArray<N> | null;
  /** Element offset of element [0, …, 0] in the storage (0 for a base). */
  readonly #off: number;
  /** The elements occupy [#off, #off + size) in the storage, in C or F order (`data` works). */
  readonly #contiguous: boolean;
  #viewData: AnyTypedArray | null = null;
  /** What `data` returned last: valid while #storage is the same (close() and refresh()/resize() clear it). */
  #data: DataTypes[N] | null = null;
  readonly #spec: ArraySpec;
  #windows: Windows;
  /** share()d, or adopted: other threads may map the file's bytes, so resize() never cuts it. */
  #shared = false;
  readonly #dt: DType;
  readonly #codec: Codec;
  /** get()'s value is the element as its TypedArray holds it (not complex, nor float16 as raw bits): read() of one element can go through get()'s path. */
  readonly #valueIsElement: boolean;

  /** @internal use memmap() or openNpy(). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  constructor(token: symbol, spec: ArraySpec, shape: number[], storage: Storage, view?: ViewOf<N>) {
    if (token !== kInternal) throw new MemmapTypeError('ERR_ILLEGAL_CONSTRUCTOR', 'use memmap() or openNpy() to create a MemmapArray');
    const dt = spec.dtype;
    this.#dt = dt;
    this.dtype = dt.name as N;
    this.descr = dt.descr;
    this.byteOrder = dt.byteOrder;
    this.itemsize = dt.itemsize;
    this.shape = freeze(copyOf(shape));
    this.ndim = shape.length;
    const strides = view === undefined ? stridesFor(shape, spec.order) : view.strides;
    const layout = view === undefined ? spec.order : layoutOf(shape, strides);
    this.order = layout ?? spec.order;
    this.strides = freeze(copyOf(strides));
    this.mode = spec.mode;
    this.#off = view === undefined ? 0 : view.off;
    this.#contiguous = layout !== undefined;
    this.#base = view === undefined ? null : view.base;
    this.base = this.#base;
    this.offset = spec.offset + this.#off * dt.itemsize;
    this.filename = spec.filename;
    this.size = sizeOf(shape);
    this.byteLength = this.size * dt.itemsize;
    this.readonly = spec.mode === 'r';
    this.#storage = storage;
    this.#spec = spec;
    this.#windows = view === undefined ? this.#windowsOver(storage) : view.windows;
    this.#codec = codecOf(dt);
    this.#valueIsElement = dt.kind !== 'c' && (dt.name !== 'float16' || hasFloat16Array);
  }

  /** True after close(). */
  get closed(): boolean {
    const self = checkReceiver(this);
    return self.#storage === null || (self.#base !== null && self.#base.#storage !== self.#storage);
  }

  /** The unguarded hot paths (get, set, data, bytes, closed) on a receiver that is not an array: a coded error. */
  static {
    isArray = (x: unknown): boolean => typeof x === 'object' && x !== null && #storage in x;
    checkReceiver = <T>(x: T): T => {
      if (typeof x !== 'object' || x === null || !(#storage in x)) {
        throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'called on an object that is not a MemmapArray');
      }
      return x;
    };
  }

  #live(): Storage {
    const storage = this.#storage;
    if (storage === null) throw new MemmapError('ERR_CLOSED', `memmap of ${this.filename} is closed`, { path: displayPath(this.filename) });
    if (this.#base !== null && this.#base.#storage !== storage) {
      throw new MemmapError('ERR_CLOSED', `the array this view of ${this.filename} was taken from is closed, or mapped again by refresh()/resize()`, { path: displayPath(this.filename) });
    }
    return storage;
  }

  /** The base array for what only a base does (share(), refresh(), resize()); ERR_VIEW for a view. */
  #notView(what: string): void {
    if (this.#base !== null) throw new MemmapError('ERR_VIEW', `${what} of a view: call it on the array the view was taken from (a.base)`);
  }

  /** `data` of a view: a TypedArray over its span of the storage (ERR_NOT_CONTIGUOUS when it has none). */
  #viewTyped(): DataTypes[N] {
    if (!this.#contiguous) {
      throw new MemmapError('ERR_NOT_CONTIGUOUS', 'this view is not contiguous (a step, a column, a transposed layout): use read() for a copy, get(), or ndarray()');
    }
    const t = this.#viewData;
    if (t !== null && (t.length > 0 || this.size === 0)) return t as DataTypes[N];
    const start = this.#off * this.itemsize;
    const fits = this.#windows.fits;
    const win = fits ? this.#windows.segment(0) : this.#windows.range(start, this.byteLength);
    const typed = this.#typed({ buffer: win.buffer, byteOffset: win.byteOffset + (fits ? start : 0) }, this.size);
    this.#viewData = typed;
    return typed;
  }

  #writable(): void {
    this.#live();
    if (this.readonly) throw new MemmapError('ERR_READ_ONLY', `memmap of ${this.filename} was opened read-only (mode 'r')`);
  }

  #checkNativeOrder(): void {
    if (!this.#dt.isNative) {
      throw new MemmapError(
        'ERR_BYTE_ORDER',
        `data of a ${this.descr} array would read wrong numbers on this ${this.byteOrder === '>' ? 'little' : 'big'}-endian machine; use get()/set()/ndarray() or the raw bytes`,
      );
    }
  }

  #checkFits(): void {
    if (this.#base === null ? !this.#windows.fits : this.byteLength > maxBufferLength) {
      throw new MemmapError(
        'ERR_TOO_LARGE',
        `array of ${this.byteLength} bytes exceeds the largest ArrayBuffer this Node.js supports (${maxBufferLength} bytes): use segments(), get()/set() or ndarray()`,
      );
    }
  }

  /** A TypedArray of `count` elements of this dtype over a window. */
  #typed(win: { buffer: ArrayBuffer; byteOffset: number }, count: number): DataTypes[N] {
    const { array, lanes } = DTYPES[this.#dt.name];
    return new array(win.buffer, win.byteOffset, count * lanes) as DataTypes[N];
  }

  /**
   * Zero-copy TypedArray over exactly the array's elements (complex: interleaved
   * re/im; bool: Uint8Array; float16: Float16Array where the runtime has one,
   * else Uint16Array of raw bits).
   * @throws ERR_BYTE_ORDER for a non-native byte order (use get()/set()/ndarray(), or `bytes`).
   * @throws ERR_TOO_LARGE past one ArrayBuffer (use segments()); ERR_CLOSED after close().
   * @throws ERR_NO_EXTERNAL_BUFFERS for a file-backed array where the runtime refuses ArrayBuffers over a mapping (Electron).
   */
  get data(): DataTypes[N] {
    // The hot path (a.data[k] in a loop): the cached array while it is ours and not moved away.
    if (#storage in this) {
      const cached = this.#data;
      if (cached !== null && this.#storage !== null && (cached.length > 0 || (this.size === 0 && this.#base === null))) return cached;
    }
    checkReceiver(this).#live();
    this.#checkNativeOrder();
    this.#checkFits();
    const data = this.#base !== null ? this.#viewTyped() : this.#windows.whole(this.#makeWhole, this.size === 0);
    this.#data = data;
    return data;
  }

  /** whole()'s maker, made once (a closure per `data` access cost more than the access). */
  readonly #makeWhole = (win: ByteRange): DataTypes[N] => this.#typed(win, this.size);

  /**
   * Zero-copy TypedArrays over consecutive windows of the array, in element
   * order (the file's order): the way to scan an array larger than one
   * ArrayBuffer at TypedArray speed. `maxBytes` caps a window (default 1 GiB,
   * so an array up to 1 GiB comes as one segment over the buffer of `data`).
   * Views are detached by close(), like `data`.
   * @throws (on the first next()) ERR_BYTE_ORDER, ERR_UNKNOWN_OPTION, ERR_INVALID_ARG_VALUE for a bad maxBytes, ERR_NO_EXTERNAL_BUFFERS as `data`, ERR_CLOSED.
   */
  *segments(options: { maxBytes?: number } = {}): Generator<Segment<N>, void, undefined> {
    // Options first: a Proxy's traps may run caller code (even close()), which the checks below then see.
    const max = readOptions(options, ['maxBytes'], 'segments()').maxBytes ?? SEGMENT_BYTES;
    this.#live();
    this.#checkNativeOrder();
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
      throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `maxBytes must be a positive integer, got ${describe(max)}`);
    }
    const step = Math.floor(Math.min(max, maxBufferLength) / this.itemsize) * this.itemsize;
    if (step === 0) throw new MemmapRangeError('ERR_INVALID_ARG_VALUE', `maxBytes must be at least the itemsize (${this.itemsize})`);
    const windows = this.#windows;
    if (this.#base !== null && !this.#contiguous) this.#viewTyped(); // ERR_NOT_CONTIGUOUS
    const at = this.#off * this.itemsize;
    for (let start = 0; start < this.byteLength; start += step) {
      const len = Math.min(step, this.byteLength - start);
      const own = this.#base === null && (step === windows.window || step >= this.byteLength);
      const win = own ? windows.segment(start / windows.window) : windows.range(at + start, len);
      const length = len / this.itemsize;
      yield { start: start / this.itemsize, length, data: this.#typed(win, length) };
    }
  }

  /**
   * Zero-copy Uint8Array over the array's raw bytes (any byte order).
   * @throws ERR_TOO_LARGE past one ArrayBuffer; ERR_NO_EXTERNAL_BUFFERS as `data`; ERR_CLOSED after close().
   */
  get bytes(): Uint8Array {
    checkReceiver(this).#live();
    this.#checkFits();
    if (this.#base !== null) {
      const t = this.#viewTyped();
      return new Uint8Array(t.buffer, t.byteOffset, this.byteLength);
    }
    return this.#windows.bytes();
  }

  /**
   * Element at the given indices (negative indices count from the end, as numpy).
   * @throws ERR_OUT_OF_RANGE out of bounds; ERR_INVALID_INDEX for the wrong count or a non-integer; ERR_CLOSED.
   */
  get(...index: number[]): ValueTypes[N] {
    checkReceiver(this).#live();
    return this.#windows.read((this.#off + linearIndex(this.shape, this.strides, index, index.length)) * this.itemsize, this.#codec.read) as ValueTypes[N];
  }

  /**
   * set(i, j, …, value): stores value at the indices.
   * @throws ERR_READ_ONLY in mode 'r'; ERR_INVALID_VALUE / ERR_OUT_OF_RANGE for a value the dtype cannot hold; index errors as get().
   */
  set(...indexAndValue: [...index: number[], value: InputTypes[N]]): void {
    checkReceiver(this).#writable();
    const n = indexAndValue.length - 1;
    if (n < 0) throw new MemmapTypeError('ERR_INVALID_INDEX', 'set() needs a value');
    try {
      this.#writeAt(this.#off + linearIndex(this.shape, this.strides, indexAndValue, n), indexAndValue[n]);
    } catch (err) {
      throw asMemmapError(err); // the value's getters may have thrown
    }
  }

  #writeAt(k: number, value: unknown): void {
    // Complex values may be objects with getters: run them before a view is
    // chosen, so they cannot detach it (transfer()) between choice and store.
    this.#windows.write(k * this.itemsize, this.#codec.write, this.#dt.kind === 'c' ? toComplex(this.#dt.name, value) : value);
  }

  /**
   * A scijs `ndarray` sharing this memory (lo/hi/step/transpose/pick work and
   * never copy). Complex arrays get a trailing axis of length 2 (re, im).
   * Non-native byte order and float16 without Float16Array use get/set accessors.
   * @throws ERR_CLOSED after close().
   */
  ndarray(): NdArray {
    const storage = this.#live();
    const windows = this.#windows;
    const base = this.#base ?? this;
    return toNdArray({
      dtype: this.#dt,
      shape: this.shape,
      strides: this.strides,
      offset: this.#off,
      extent: base.size,
      fits: windows.fits,
      isClosed: () => this.closed || base.#storage !== storage, // closed, or remapped by refresh()/resize()
      data: () => {
        try {
          return base.data;
        } catch (err) {
          if (isNoExternalBuffers(err)) return null; // the runtime refuses a view of the mapping: accessors
          throw err;
        }
      },
      readElement: (k) => windows.read(k * this.itemsize, this.#codec.read),
      writeElement: (k, v) => this.#writeAt(k, v),
      readByte: (b, read) => windows.read(b, read),
      writeByte: (b, write, v, width) => windows.write(b, write, v, width),
      checkWritable: () => (this.#storage === storage ? this.#writable() : this.#stale()),
    });
  }

  /** The native view (bytes) of `a[index]`. */
  #nativeView(index: readonly IndexItem[]): ViewSpec {
    const v = viewOf(this.shape, this.strides, index, this.itemsize);
    if (this.#off !== 0 && sizeOf(v.shape) > 0) v.offset += this.#off * this.itemsize;
    return v;
  }

  /**
   * A copy of `a[...index]` (indexing as in sum()) as a new TypedArray in C
   * order of the selection, in this machine's byte order whatever the file's
   * (the same TypedArray type as `data`; complex interleaved). numpy's
   * `np.array(a[index])`. Reads only the pages the selection touches and makes
   * no view of the mapping, so it is cheap on arrays of any size. A trailing
   * `{ out }` (a TypedArray of this dtype's type and exactly the selection's
   * element count, or a writable C-contiguous array of its shape) is filled
   * instead, with no allocation, and returned.
   * @throws as sum(), and ERR_TOO_LARGE when the copy would not fit one ArrayBuffer; ERR_DTYPE_MISMATCH/ERR_SHAPE_MISMATCH for a bad `out`.
   */
  read(...args: [...IndexItem[], { out?: DataTypes[N] | MemmapArray<N> }] | IndexItem[]): DataTypes[N] {
    checkReceiver(this);
    const fast = this.#readIntegers(args);
    if (fast !== null) return fast;
    const { index, options } = splitArgs(args);
    const o = readOptions(options, ['out'], 'read()');
    const v = this.#nativeView(index);
    const storage = this.#live();
    const count = sizeOf(v.shape);
    if (o.out === undefined) {
      const out = this.#allocateAs(this.#dt, count, true) as DataTypes[N];
      storage.copy(ELEM_CODES[this.#dt.name], !this.#dt.isNative, viewDescriptor(v.offset, v.shape, v.strides, 1), bytesOf(out));
      return out;
    }
    this.#copyInto(storage, v, outBytes(o.out, nativeOf(this.#dt), v.shape, false));
    return o.out as DataTypes[N];
  }

  /**
   * read() of integer indices only (numbers, then at most an options object),
   * the common case of a row or one element: the native descriptor comes
   * straight from the indices, with no index or shape arrays (appending to
   * them costs more than copying a 64 KiB row), and one element with no `out`
   * is read as get() reads it. null when the arguments need the general path
   * (nothing has been read from them then).
   */
  #readIntegers(args: readonly unknown[]): DataTypes[N] | null {
    const n = args.length;
    const ndim = this.ndim;
    let k = 0;
    while (k < n && typeof args[k] === 'number') k++;
    if (k > ndim || n - k > 1) return null;
    let out: unknown;
    if (k < n) {
      const options = args[k];
      if (typeof options !== 'object' || options === null || isList(options)) return null;
      out = readOptions(options, ['out'], 'read()').out;
    }
    const shape = this.shape;
    const strides = this.strides;
    let at = this.#off;
    for (let d = 0; d < k; d++) at += axisIndex(args[d], shape[d], d) * strides[d];
    let count = 1;
    for (let d = k; d < ndim; d++) count *= shape[d];
    const storage = this.#live();
    const dt = this.#dt;
    if (out === undefined && count === 1 && this.#valueIsElement) {
      // A TypedArray of one element lives on V8's heap: no ArrayBuffer to allocate (that cost more than the read).
      const one = new (DTYPES[dt.name].array as unknown as new (length: number) => DataTypes[N])(1);
      one[0] = this.#windows.read(at * this.itemsize, this.#codec.read) as never;
      return one;
    }
    // The selection's descriptor, as viewOf() + viewDescriptor() make it: no offset or strides when it is empty, no stride on an axis of length <= 1.
    const rest = ndim - k;
    const view = new Float64Array(2 + 2 * rest);
    view[0] = count === 0 ? 0 : at * this.itemsize;
    view[1] = rest;
    for (let d = 0; d < rest; d++) {
      const dim = shape[k + d];
      view[2 + d] = dim;
      view[2 + rest + d] = count === 0 || dim <= 1 ? 0 : strides[k + d] * this.itemsize;
    }
    if (out === undefined) {
      const result = this.#allocateAs(dt, count, true) as DataTypes[N];
      storage.copy(ELEM_CODES[dt.name], !dt.isNative, view, bytesOf(result));
      return result;
    }
    const nat = nativeOf(dt);
    let dst: Uint8Array;
    if (isArray(out)) {
      const selected: number[] = [];
      for (let d = k; d < ndim; d++) appendOwn(selected, shape[d]);
      dst = outBytes(out, nat, selected, false);
    } else {
      dst = typedOutBytes(out, nat, count, false);
    }
    this.#copyView(storage, view, dst);
    return out as DataTypes[N];
  }

  /**
   * The elements at the given coordinates, one integer array per axis, all of
   * one length (numpy's `a[ii, jj]`), as a new TypedArray like read() returns.
   * Negative indices count from the end.
   * @throws ERR_OUT_OF_RANGE for an index out of bounds; ERR_INVALID_INDEX for bad index arrays; ERR_TOO_LARGE; ERR_CLOSED; ERR_SIGBUS.
   */
  gather(...coords: ArrayLike<number | bigint>[]): DataTypes[N] {
    checkReceiver(this);
    const storage = this.#live();
    // Checked (count, lengths, item types, size) and converted here; bounds and offsets natively (a JS loop cost more than the reads).
    const { count, columns } = indexColumns(coords, this.ndim, this.itemsize, maxBufferLength);
    const out = this.#allocate(count);
    const bad = storage.gather(ELEM_CODES[this.#dt.name], !this.#dt.isNative, columns, viewDescriptor(this.#off * this.itemsize, this.shape, this.strides, this.itemsize), bytesOf(out));
    if (bad !== undefined) throw this.#badCoordinate(bad, columns);
    return out;
  }

  /** The error for gather()'s first bad coordinate: [kind (0: not an integer, 1: out of range), axis, position]. */
  #badCoordinate(bad: Float64Array, columns: Float64Array[]): MemmapError {
    const d = bad[1];
    const k = bad[2];
    const where = `index ${describe(columns[d][k])} (array ${d}, position ${k})`;
    if (bad[0] === 0) return new MemmapTypeError('ERR_INVALID_INDEX', `${where} must be an integer`);
    return new MemmapRangeError('ERR_OUT_OF_RANGE', `${where} is out of bounds for axis ${d} with size ${this.shape[d]}`);
  }

  /** A new heap TypedArray of `count` elements of this dtype. */
  #allocate(count: number): DataTypes[N] {
    return this.#allocateAs(this.#dt, count) as DataTypes[N];
  }

  /** A new heap TypedArray of `count` elements of `dt` (`uninitialized`: see newBuffer()). */
  #allocateAs(dt: DType, count: number, uninitialized = false): AnyTypedArray {
    const { array, lanes } = DTYPES[dt.name];
    return new array(newBuffer(count * dt.itemsize, uninitialized), 0, count * lanes) as AnyTypedArray;
  }

  // ---- reductions (numpy's, planned in reduce.ts, run natively) ----------

  /** The selection `a[...index]` in bytes of the storage. */
  #selection(index: readonly IndexItem[]): ViewSpec {
    return this.#nativeView(index);
  }

  /** Bytes the result of `p` goes into: the caller's `out`, or a new buffer. */
  #target(p: ReducePlan): Uint8Array {
    if (p.out !== undefined) return outBytes(p.out, p.dtype, p.shape, false);
    const bytes = sizeOf(p.shape) * p.dtype.itemsize;
    return bytesOf(this.#allocateAs(p.dtype, bytes / p.dtype.itemsize));
  }

  /** The value the call returns, once `bytes` hold the results. */
  #finish(p: ReducePlan, bytes: Uint8Array): unknown {
    if (p.sqrt) {
      const { array } = DTYPES[p.dtype.name];
      sqrtInPlace(new array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / p.dtype.itemsize) as Float64Array);
    }
    if (p.out !== undefined) return p.out;
    if (p.scalar) return scalarOf(p, bytes);
    return memoryArray(p.dtype, p.shape, bytes);
  }

  /** numpy's exact full sum (sum_view) serves sum() and mean() of floats with the default accumulator. */
  #exactSum(p: ReducePlan): boolean {
    if (!p.scalar || !p.defaultDType) return false;
    if (p.op === 'sum') return true;
    return p.op === 'mean' && (this.#dt.kind === 'f' || this.#dt.kind === 'c');
  }

  #runReduce(p: ReducePlan, storage: Storage): unknown {
    const type = ELEM_CODES[this.#dt.name];
    const swap = !this.#dt.isNative;
    if (this.#exactSum(p)) return exactValue(p, storage.sum(type, swap, p.view, p.threads), this.#dt);
    // The result may land in the array's own memory (out: a view of it): the kernel reads and writes element by element, so go through a copy.
    const direct = !(isArray(p.out) && (p.out as MemmapArray).#storage === storage);
    const bytes = direct ? this.#target(p) : bytesOf(this.#allocateAs(p.dtype, sizeOf(p.shape)));
    const run = (dst: Uint8Array): void => storage.reduce(type, swap, p.view, p.nkeep, p.code, ELEM_CODES[p.dtype.name], p.ddof, p.threads, dst);
    try {
      run(bytes);
    } catch (err) {
      // out a TypedArray over the source's memory (its data, a subarray of it): through a copy as well.
      if (!isOverlap(err)) throw err;
      const tmp = new Uint8Array(bytes.byteLength);
      run(tmp);
      bytes.set(tmp);
    }
    if (!direct) outBytes(p.out, p.dtype, p.shape, false).set(bytes);
    return this.#finish(p, direct ? bytes : outBytes(p.out, p.dtype, p.shape, false));
  }

  #reduce(op: Reduction, args: readonly unknown[]): unknown {
    const { index, options } = splitArgs(args);
    const v = this.#selection(index);
    const p = plan(op, this.#dt, v, options, false);
    return this.#runReduce(p, this.#live()); // #live() after the options: a Proxy's traps may have closed the array
  }

  async #reduceAsync(op: Reduction, args: readonly unknown[]): Promise<unknown> {
    const { index, options } = splitArgs(args);
    const v = this.#selection(index);
    const p = plan(op, this.#dt, v, options, true);
    const storage = this.#live();
    if (p.out !== undefined) outBytes(p.out, p.dtype, p.shape, false); // refuse a bad out before any work
    if (!isAsync(storage)) return this.#runReduce(p, storage);
    const type = ELEM_CODES[this.#dt.name];
    const swap = !this.#dt.isNative;
    if (this.#exactSum(p)) {
      const r = await cancellable(storage, p.signal, (c) => storage.sumAsync(type, swap, p.view, p.threads, c));
      return exactValue(p, r, this.#dt);
    }
    const buf = await cancellable(storage, p.signal, (c) => storage.reduceAsync(type, swap, p.view, p.nkeep, p.code, ELEM_CODES[p.dtype.name], p.ddof, p.threads, c));
    const got = new Uint8Array(buf);
    if (p.out === undefined) return this.#finish(p, got);
    const dst = outBytes(p.out, p.dtype, p.shape, false); // checked again: it may have been detached or closed meanwhile
    dst.set(got);
    return this.#finish(p, dst);
  }

  /**
   * Sum of `a[...index]` (numpy basic indexing, as view() takes it), along
   * `axis` or of everything: numpy's `a[index].sum(axis, dtype, out, keepdims)`.
   * Floats accumulate in float64 (numpy's `dtype=float64`, bit for bit:
   * pairwise, in numpy's order), integers in 64 bits (wrapping, as numpy),
   * bool counts; `dtype` picks another accumulator (float32 gives numpy's
   * default float32 sum). With no axis: a number (bigint for int64/uint64,
   * {re, im} for complex); along an axis: an in-memory array.
   * @throws ERR_INVALID_AXIS, ERR_INVALID_DTYPE, ERR_UNKNOWN_OPTION, ERR_DTYPE_MISMATCH/ERR_SHAPE_MISMATCH for `out`; ERR_OUT_OF_RANGE / ERR_INVALID_INDEX for a bad index; ERR_CLOSED; ERR_SIGBUS.
   */
  sum<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, SumTypes[N]> {
    return checkReceiver(this).#reduce('sum', args) as Reduced<O, SumTypes[N]>;
  }
  /** Product, numpy's `prod()` (accumulators as sum(); sequential, as numpy's). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  prod<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, SumTypes[N]> {
    return checkReceiver(this).#reduce('prod', args) as Reduced<O, SumTypes[N]>;
  }
  /** Mean, numpy's `mean(dtype=float64)`: the float64 sum (bit for bit) divided by the count. Empty: NaN. @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  mean<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, MeanTypes[N]> {
    return checkReceiver(this).#reduce('mean', args) as Reduced<O, MeanTypes[N]>;
  }
  /** Variance, numpy's `var(ddof)`: mean of |x - mean|² (two passes, float64), divided by n - ddof. Complex gives a real variance. @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  var<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('var', args) as Reduced<O, number>;
  }
  /** Standard deviation: the square root of var(). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  std<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('std', args) as Reduced<O, number>;
  }
  /** Smallest element; NaN if any is NaN (numpy's `min()`). @throws ERR_EMPTY_REDUCTION for an empty selection or axis. */
  min<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return checkReceiver(this).#reduce('min', args) as Reduced<O, ValueTypes[N]>;
  }
  /** Largest element; NaN if any is NaN (numpy's `max()`). @throws ERR_EMPTY_REDUCTION. */
  max<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return checkReceiver(this).#reduce('max', args) as Reduced<O, ValueTypes[N]>;
  }
  /** Index of the smallest element (flat, C order of the selection, with no axis; int64 along one axis); the first on ties or NaN. @throws ERR_EMPTY_REDUCTION. */
  argmin<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('argmin', args) as Reduced<O, number>;
  }
  /** Index of the largest element, as argmin(). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  argmax<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('argmax', args) as Reduced<O, number>;
  }
  /** Whether any element is nonzero (NaN counts as nonzero). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  any<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, boolean> {
    return checkReceiver(this).#reduce('any', args) as Reduced<O, boolean>;
  }
  /** Whether every element is nonzero. @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  all<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, boolean> {
    return checkReceiver(this).#reduce('all', args) as Reduced<O, boolean>;
  }
  /** Number of nonzero elements (numpy's `count_nonzero`); int64 along an axis. @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  countNonzero<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('count_nonzero', args) as Reduced<O, number>;
  }
  /** Sum treating NaN as zero (numpy's `nansum`). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  nansum<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, SumTypes[N]> {
    return checkReceiver(this).#reduce('nansum', args) as Reduced<O, SumTypes[N]>;
  }
  /** Mean of the elements that are not NaN (numpy's `nanmean`); NaN where all are. @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  nanmean<O extends AccumulateOptions = object>(...args: ReduceArgs<O>): Reduced<O, MeanTypes[N]> {
    return checkReceiver(this).#reduce('nanmean', args) as Reduced<O, MeanTypes[N]>;
  }
  /** Variance of the elements that are not NaN (numpy's `nanvar`). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  nanvar<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('nanvar', args) as Reduced<O, number>;
  }
  /** Standard deviation of the elements that are not NaN (numpy's `nanstd`). @throws as sum() (ERR_INVALID_AXIS, ERR_INVALID_DTYPE, `out` errors, ERR_CLOSED, ERR_SIGBUS, …). */
  nanstd<O extends VarianceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('nanstd', args) as Reduced<O, number>;
  }
  /** Smallest element ignoring NaN (NaN where all are NaN, as numpy's `nanmin`). @throws ERR_EMPTY_REDUCTION. */
  nanmin<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return checkReceiver(this).#reduce('nanmin', args) as Reduced<O, ValueTypes[N]>;
  }
  /** Largest element ignoring NaN. @throws ERR_EMPTY_REDUCTION. */
  nanmax<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, ValueTypes[N]> {
    return checkReceiver(this).#reduce('nanmax', args) as Reduced<O, ValueTypes[N]>;
  }
  /** Index of the smallest element ignoring NaN. @throws ERR_ALL_NAN where a slice holds only NaN; ERR_EMPTY_REDUCTION. */
  nanargmin<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('nanargmin', args) as Reduced<O, number>;
  }
  /** Index of the largest element ignoring NaN. @throws ERR_ALL_NAN; ERR_EMPTY_REDUCTION. */
  nanargmax<O extends ReduceOptions = object>(...args: ReduceArgs<O>): Reduced<O, number> {
    return checkReceiver(this).#reduce('nanargmax', args) as Reduced<O, number>;
  }

  // The async twins: the same result, computed on the libuv thread pool (a
  // file mapping; page faults never block the event loop), cancellable with
  // `signal` (rejects ERR_ABORTED, name 'AbortError'). close() meanwhile is
  // safe: the mapping stays until the call ends.
  /** sum() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  sumAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, SumTypes[N]>> {
    return checkReceiver(this).#reduceAsync('sum', args) as Promise<Reduced<O, SumTypes[N]>>;
  }
  /** prod() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  prodAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, SumTypes[N]>> {
    return checkReceiver(this).#reduceAsync('prod', args) as Promise<Reduced<O, SumTypes[N]>>;
  }
  /** mean() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  meanAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, MeanTypes[N]>> {
    return checkReceiver(this).#reduceAsync('mean', args) as Promise<Reduced<O, MeanTypes[N]>>;
  }
  /** var() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  varAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('var', args) as Promise<Reduced<O, number>>;
  }
  /** std() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  stdAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('std', args) as Promise<Reduced<O, number>>;
  }
  /** min() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  minAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return checkReceiver(this).#reduceAsync('min', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** max() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  maxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return checkReceiver(this).#reduceAsync('max', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** argmin() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  argminAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('argmin', args) as Promise<Reduced<O, number>>;
  }
  /** argmax() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  argmaxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('argmax', args) as Promise<Reduced<O, number>>;
  }
  /** any() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  anyAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, boolean>> {
    return checkReceiver(this).#reduceAsync('any', args) as Promise<Reduced<O, boolean>>;
  }
  /** all() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  allAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, boolean>> {
    return checkReceiver(this).#reduceAsync('all', args) as Promise<Reduced<O, boolean>>;
  }
  /** countNonzero() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  countNonzeroAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('count_nonzero', args) as Promise<Reduced<O, number>>;
  }
  /** nansum() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nansumAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, SumTypes[N]>> {
    return checkReceiver(this).#reduceAsync('nansum', args) as Promise<Reduced<O, SumTypes[N]>>;
  }
  /** nanmean() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nanmeanAsync<O extends AccumulateOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, MeanTypes[N]>> {
    return checkReceiver(this).#reduceAsync('nanmean', args) as Promise<Reduced<O, MeanTypes[N]>>;
  }
  /** nanvar() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nanvarAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('nanvar', args) as Promise<Reduced<O, number>>;
  }
  /** nanstd() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nanstdAsync<O extends VarianceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('nanstd', args) as Promise<Reduced<O, number>>;
  }
  /** nanmin() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nanminAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return checkReceiver(this).#reduceAsync('nanmin', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** nanmax() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nanmaxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, ValueTypes[N]>> {
    return checkReceiver(this).#reduceAsync('nanmax', args) as Promise<Reduced<O, ValueTypes[N]>>;
  }
  /** nanargmin() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nanargminAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('nanargmin', args) as Promise<Reduced<O, number>>;
  }
  /** nanargmax() off the event loop. Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  nanargmaxAsync<O extends ReduceOptions & AsyncOptions = object>(...args: ReduceArgs<O>): Promise<Reduced<O, number>> {
    return checkReceiver(this).#reduceAsync('nanargmax', args) as Promise<Reduced<O, number>>;
  }

  /**
   * A copy of `a[...index]` as a new in-memory array (C order, this machine's
   * byte order) with the same API: numpy's `a[index].copy()`. With `out` (a
   * writable C-contiguous array of the same shape and dtype), fills it instead.
   * @throws as read().
   */
  copy(...args: [...IndexItem[], { out?: MemmapArray<N> }] | IndexItem[]): MemmapArray<N> {
    checkReceiver(this);
    const { index, options } = splitArgs(args);
    const o = readOptions(options, ['out'], 'copy()');
    const v = this.#nativeView(index);
    const storage = this.#live();
    const dt = nativeOf(this.#dt);
    const dst = o.out === undefined ? bytesOf(this.#allocateAs(dt, sizeOf(v.shape))) : outBytes(o.out, dt, v.shape, true);
    this.#copyInto(storage, v, dst);
    return (o.out ?? memoryArray(dt, v.shape, dst)) as MemmapArray<N>;
  }

  /** copy() off the event loop (`signal` cancels). Never throws. Rejects as the sync call throws, and with ERR_ABORTED when `signal` aborts. */
  async copyAsync(...args: [...IndexItem[], { signal?: AbortSignal }] | IndexItem[]): Promise<MemmapArray<N>> {
    checkReceiver(this);
    const { index, options } = splitArgs(args);
    const o = readOptions(options, ['signal'], 'copyAsync()');
    const v = this.#nativeView(index);
    const got = await this.#copyAsync(v, signalOf(o.signal, 'copyAsync()'));
    return memoryArray(nativeOf(this.#dt), v.shape, got) as MemmapArray<N>;
  }

  /** The selection's elements in C order into `dst`, through a copy when `dst` is this array's own memory. */
  #copyInto(storage: Storage, v: ViewSpec, dst: Uint8Array): void {
    this.#copyView(storage, viewDescriptor(v.offset, v.shape, v.strides, 1), dst);
  }

  /** #copyInto() of a native view descriptor. */
  #copyView(storage: Storage, view: Float64Array, dst: Uint8Array): void {
    const type = ELEM_CODES[this.#dt.name];
    try {
      storage.copy(type, !this.#dt.isNative, view, dst);
    } catch (err) {
      if (!isOverlap(err)) throw err;
      const tmp = new Uint8Array(dst.byteLength);
      storage.copy(type, !this.#dt.isNative, view, tmp);
      dst.set(tmp);
    }
  }

  async #copyAsync(v: ViewSpec, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const storage = this.#live();
    if (!isAsync(storage)) {
      const dst = bytesOf(this.#allocateAs(nativeOf(this.#dt), sizeOf(v.shape)));
      this.#copyInto(storage, v, dst);
      return dst;
    }
    const buf = await cancellable(storage, signal, (c) => storage.copyAsync(ELEM_CODES[this.#dt.name], !this.#dt.isNative, viewDescriptor(v.offset, v.shape, v.strides, 1), c));
    return new Uint8Array(buf);
  }

  /**
   * read() off the event loop: the copy runs on the libuv thread pool, so a
   * cold read (page faults on disk) never blocks the event loop. `signal`
   * cancels (ERR_ABORTED); `out` (a TypedArray as read() takes) is filled when
   * the read ends. Never throws. It rejects as read() throws, and with ERR_ABORTED.
   */
  async readAsync(...args: [...IndexItem[], { signal?: AbortSignal; out?: DataTypes[N] }] | IndexItem[]): Promise<DataTypes[N]> {
    checkReceiver(this);
    const { index, options } = splitArgs(args);
    const o = readOptions(options, ['signal', 'out'], 'readAsync()');
    const v = this.#nativeView(index);
    const dt = nativeOf(this.#dt);
    if (o.out !== undefined) outBytes(o.out, dt, v.shape, false);
    const got = await this.#copyAsync(v, signalOf(o.signal, 'readAsync()'));
    if (o.out !== undefined) {
      outBytes(o.out, dt, v.shape, false).set(got);
      return o.out as DataTypes[N];
    }
    return this.#typed({ buffer: got.buffer as ArrayBuffer, byteOffset: got.byteOffset }, sizeOf(v.shape));
  }

  /**
   * gather() off the event loop. A trailing options object `{ signal }` (one
   * that is not an array or array-like) cancels. Never throws. It rejects as
   * gather() throws, and with ERR_ABORTED.
   */
  async gatherAsync(...args: (ArrayLike<number | bigint> | { signal?: AbortSignal })[]): Promise<DataTypes[N]> {
    checkReceiver(this);
    const n = args.length;
    const last = n > 0 ? args[n - 1] : undefined;
    const hasOptions = n > this.ndim || (typeof last === 'object' && last !== null && !ArrayBuffer.isView(last) && !Array.isArray(last) && !Object.hasOwn(last, 'length'));
    const o = readOptions(hasOptions ? last : undefined, ['signal'], 'gatherAsync()');
    const coords: ArrayLike<number | bigint>[] = [];
    for (let i = 0; i < (hasOptions ? n - 1 : n); i++) appendOwn(coords, args[i] as ArrayLike<number | bigint>);
    const signal = signalOf(o.signal, 'gatherAsync()');
    const storage = this.#live();
    if (!isAsync(storage)) return Reflect.apply(this.gather, this, coords) as DataTypes[N];
    const { count, columns } = indexColumns(coords, this.ndim, this.itemsize, maxBufferLength);
    const view = viewDescriptor(this.#off * this.itemsize, this.shape, this.strides, this.itemsize);
    const got = await cancellable(storage, signal, (c) => storage.gatherAsync(ELEM_CODES[this.#dt.name], !this.#dt.isNative, columns, view, c));
    if (got instanceof Float64Array) throw this.#badCoordinate(got, columns);
    return this.#typed({ buffer: got, byteOffset: 0 }, count);
  }

  /**
   * Reads the pages of `a[...index]` into the page cache off the event loop
   * (madvise WILLNEED, then a touch of each page) and resolves once they are
   * resident, so the reads that follow do not fault on disk. A hint for
   * in-memory arrays (resolves at once). Never throws. It rejects with
   * ERR_OUT_OF_RANGE/ERR_INVALID_INDEX, ERR_CLOSED, ERR_SIGBUS, ERR_ABORTED.
   */
  async prefetch(...args: [...IndexItem[], { signal?: AbortSignal }] | IndexItem[]): Promise<void> {
    checkReceiver(this);
    const { index, options } = splitArgs(args);
    const o = readOptions(options, ['signal'], 'prefetch()');
    const v = this.#nativeView(index);
    const signal = signalOf(o.signal, 'prefetch()');
    const storage = this.#live();
    if (!isAsync(storage)) return;
    await cancellable(storage, signal, (c) => storage.prefetch(viewDescriptor(v.offset, v.shape, v.strides, 1), this.itemsize, c));
  }


  /**
   * Writes dirty pages to disk (msync). No-op for modes 'r' and 'c'.
   * @throws ERR_CLOSED; the errno name (EIO, …) when msync fails.
   */
  flush(): void {
    this.#live().flush(); // the native side skips private ('r', 'c') mappings
  }

  /**
   * Tells the kernel how the array will be read (madvise).
   * @throws ERR_INVALID_ADVICE for an unknown advice; ERR_CLOSED.
   */
  advise(advice: Advice): void {
    const storage = this.#live();
    storage.advise(adviceCode(advice));
  }

  /**
   * Which of the array's pages are in RAM now (mincore); touches nothing.
   * @throws ERR_CLOSED.
   */
  residency(): Residency {
    const base = this.#base ?? this;
    return residencyOf(this.#live().residency(), base.offset, base.byteLength);
  }

  /**
   * Detaches every ArrayBuffer handed out (views read as length 0), then
   * unmaps. Idempotent. Further method calls throw ERR_CLOSED.
   */
  close(): void {
    const storage = this.#storage;
    if (storage === null) return;
    this.#storage = null;
    this.#viewData = null;
    this.#data = null;
    if (this.#base !== null) return; // a view ends; its base and the memory stay
    this.#windows.drop();
    storage.close();
  }

  /**
   * A small structured-cloneable token for this mapping: post it to a
   * worker_thread and call fromShared(token) there to get the same memory
   * without copying. The memory stays mapped until every thread's array over
   * it is closed or collected.
   * @throws ERR_CLOSED.
   */
  share(): SharedMemmap {
    const storage = this.#live();
    this.#notView('share()');
    if (!isShareable(storage)) throw new MemmapError('ERR_INVALID_ARG_VALUE', 'this array is not backed by a file mapping: share() has nothing to share');
    const { mode, order, offset, filename, dtype } = this.#spec;
    const token: Omit<SharedMemmap, 'id'> = { type: 'memmap.shared', filename, descr: dtype.descr, shape: copyOf(this.shape), order, mode, offset };
    // The first share() of a region stores what it is; fromShared() checks
    // every field of a token against that, not against the token itself.
    const id = storage.share(tokenMeta(token));
    this.#shared = true;
    return { ...token, id };
  }

  /**
   * Follows a file that grew: maps it again with the growth axis (the first; the last in order 'F', as numpy's .npy
   * writers grow) set to the whole rows the file now holds past the offset. A partial trailing row (a write half done)
   * is left out; a file that shrank gives fewer rows. The file is not touched (a .npy header is neither read nor
   * written). Every view handed out before (`data`, `bytes`, segments(), ndarray()) is detached as by close(); mode
   * 'c' loses its private changes. Other threads' arrays (fromShared()) keep their own mapping. Returns the array.
   * @throws ERR_CLOSED; ERR_SHARED for an array from fromShared(); the errno name when the OS refuses (the array is then unchanged).
   */
  refresh(): this {
    this.#live();
    this.#notView('refresh()');
    const next = this.#remapper().refresh(this.shape); // the file is not touched
    let prepared: Prepared;
    try {
      prepared = this.#prepare(next.shape);
    } catch (err) {
      next.storage.close(); // the array keeps its mapping
      throw err;
    }
    return this.#swap(prepared, next.storage);
  }

  /**
   * Resizes the file and the mapping to `shape` (any number of axes): the elements keep their place in the file's
   * order, as numpy's ndarray.resize keeps the flat data; the file is made to end where the array ends (growing adds
   * zeros, shrinking cuts). A .npy file's header gets the new shape, in place. Views handed out before are detached
   * as by refresh(). Returns the array.
   * @throws ERR_READ_ONLY in modes 'r' and 'c'; ERR_INVALID_SHAPE; ERR_SHARED to shorten the file of an array that
   * was share()d (other threads may still map the bytes) or to resize one from fromShared(); ERR_NPY_HEADER_TOO_LARGE
   * when the shape does not fit the .npy header; ERR_CLOSED; the errno name when the OS refuses. The file and the
   * array are unchanged on every error.
   */
  resize(shape: number | readonly number[]): this {
    const next = normalizeShape(shape); // may run a Proxy's traps, which may close the array: checked after
    checkNumpySize(next, this.itemsize);
    this.#writable();
    this.#notView('resize()');
    if (this.mode === 'c') throw new MemmapError('ERR_READ_ONLY', `memmap of ${this.filename} is copy-on-write (mode 'c'): resize() would write the file`);
    // Everything the array needs is made before the file changes: after it, only assignments run.
    const prepared = this.#prepare(next);
    const remapper = this.#remapper();
    const old = this.#storage as Storage;
    let released = false;
    // Windows: the file is cut only once the old mapping is gone (its views detach as by close()).
    const release = (): void => {
      released = true;
      this.#windows.drop();
      old.close();
    };
    let storage: Storage;
    try {
      storage = remapper.resize(this.shape, next, this.#shared, release).storage;
    } catch (err) {
      if (released) this.#remapOrClose(remapper);
      throw err;
    }
    return this.#swap(prepared, storage);
  }

  /** After a failed Windows shrink unmapped the array: map the file (unchanged, or cut) again at the shape it now holds. */
  #remapOrClose(remapper: Remapper): void {
    try {
      const again = remapper.refresh(this.shape);
      this.#swap(this.#prepare(again.shape), again.storage);
    } catch {
      this.close();
    }
  }

  #remapper(): Remapper {
    const remap = this.#spec.remap;
    if (remap === undefined) throw new MemmapError('ERR_SHARED', `this array came from fromShared(): refresh() and resize() work in the thread that opened ${this.filename}`);
    return remap;
  }

  /** Windows over `storage` only: once the array is closed or remapped they throw ERR_CLOSED. */
  #windowsOver(storage: Storage): Windows {
    return new Windows(() => (this.#storage === storage ? storage : this.#stale()), this.byteLength, this.itemsize, storage.readAt !== undefined);
  }

  #stale(): never {
    this.#live();
    throw new MemmapError('ERR_CLOSED', `this view of ${this.filename} was made before refresh() or resize() mapped the file again`, { path: displayPath(this.filename) });
  }

  /** What the array becomes at `shape`, made before anything changes (this may throw: built-ins may be patched). */
  #prepare(shape: readonly number[]): Prepared {
    const copy: number[] = [];
    for (let d = 0; d < shape.length; d++) appendOwn(copy, shape[d]);
    const size = sizeOf(copy);
    const holder: { storage: Storage | null } = { storage: null };
    return {
      shape: freeze(copy),
      strides: freeze(stridesFor(copy, this.order)),
      size,
      byteLength: size * this.itemsize,
      holder,
      windows: new Windows(() => (holder.storage !== null && this.#storage === holder.storage ? holder.storage : this.#stale()), size * this.itemsize, this.itemsize, true),
    };
  }

  /** Takes the new mapping and what #prepare() made: assignments only, so it cannot fail halfway. The old mapping is closed as by close(). */
  #swap(p: Prepared, storage: Storage): this {
    const old = this.#storage as Storage;
    const self = this as { -readonly [K in 'shape' | 'strides' | 'ndim' | 'size' | 'byteLength']: MemmapArray[K] };
    self.shape = p.shape;
    self.ndim = p.shape.length;
    self.strides = p.strides;
    self.size = p.size;
    self.byteLength = p.byteLength;
    this.#storage = storage;
    p.holder.storage = storage;
    this.#windows = p.windows; // the old windows now throw ERR_CLOSED (their storage is not the array's)
    this.#viewData = null;
    this.#data = null;
    old.close();
    return this;
  }

  /**
   * A view of `a[...index]` (numpy basic indexing, as sum() takes it: an
   * integer picks and drops its axis, null takes a whole axis, [start, stop,
   * step] slices, negative steps included): an array over the same memory, no
   * copy. Every method works on it; `data` only when its elements are
   * contiguous (ERR_NOT_CONTIGUOUS otherwise). It lives until it or `a` is
   * closed (or `a` is mapped again by refresh()/resize()); closing it leaves `a` open.
   * @throws ERR_OUT_OF_RANGE / ERR_INVALID_INDEX for a bad index; ERR_CLOSED.
   */
  view(...index: IndexItem[]): MemmapArray<N> {
    const storage = this.#live();
    const v = viewOf(this.shape, this.strides, index, 1);
    const off = sizeOf(v.shape) > 0 ? this.#off + v.offset : this.#off;
    return new MemmapArray<N>(kInternal, this.#spec, v.shape, storage, { base: this.#base ?? this, off, strides: v.strides, windows: this.#windows });
  }

  /**
   * Iterates over the first axis, as numpy: the elements of a 1-d array, and
   * views (a[i], no copy) of an n-d one. `[...a]` and `Array.from(a)` work.
   * @throws ERR_ZERO_DIM for a 0-d array; ERR_CLOSED.
   */
  *[Symbol.iterator](): Generator<MemmapArray<N> | ValueTypes[N], void, undefined> {
    if (this.ndim === 0) throw new MemmapTypeError('ERR_ZERO_DIM', 'a 0-d array cannot be iterated (use get())');
    const n = this.shape[0];
    for (let i = 0; i < n; i++) yield this.ndim === 1 ? this.get(i) : this.view(i);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * numpy's repr(): the values (summarised past 1000 elements, reading only
   * the pages of the elements shown) and the dtype in numpy's words, e.g.
   * `memmap([[0., 1.], [2., 3.]], dtype=float32)`.
   */
  [inspect.custom](): string {
    if (!isArray(this)) return 'MemmapArray {}'; // a Proxy of an array, or an object inheriting from one
    return this.#print((p) => reprOf(p, this.#spec.filename === '' ? 'array' : 'memmap'));
  }

  /** numpy's str(): `[[0. 1.]\n [2. 3.]]` (a closed array: its description). Never throws. */
  toString(): string {
    if (!isArray(this)) return '[object MemmapArray]';
    return this.#print(strOf);
  }

  /** Printing never throws: a closed array, or one whose pages cannot be read (ERR_SIGBUS), prints its description. */
  #print(how: (p: Printable) => string): string {
    let state = 'closed';
    if (!this.closed) {
      try {
        return how(this.#printable());
      } catch (err) {
        state = `unreadable: ${err instanceof MemmapError ? err.code : 'error'}`;
      }
    }
    return `${this.#spec.filename === '' ? 'array' : 'memmap'}(<${state}>, shape=${tupleRepr(this.shape)}, dtype=${dtypeRepr(this.#dt)})`;
  }

  #printable(): Printable {
    // Reflect.apply reads the list by index: a spread would run a patched Array iterator.
    return { shape: this.shape, dtype: this.#dt, fetch: (coords) => valueReader(this.#dt, Reflect.apply(this.gather, this, coords) as ArrayLike<unknown>) };
  }

  /**
   * What JSON.stringify() writes: a description of the array, not its values
   * (those can be gigabytes): `{ type: 'memmap', filename, descr, dtype,
   * shape, order, mode, offset, closed }`. Use tolist() for the values. Never throws.
   */
  toJSON(): MemmapJSON {
    return {
      type: 'memmap',
      filename: displayPath(this.filename),
      descr: this.descr,
      dtype: this.dtype,
      shape: copyOf(this.shape),
      order: this.order,
      mode: this.mode,
      offset: this.offset,
      closed: this.closed,
    };
  }

  /**
   * `shape[0]`, as numpy's len().
   * @throws ERR_ZERO_DIM for a 0-d array, which has no length (numpy: TypeError).
   */
  get length(): number {
    if (this.ndim === 0) throw new MemmapTypeError('ERR_ZERO_DIM', 'a 0-d array has no length (use get())');
    return this.shape[0];
  }

  /**
   * The values as nested plain arrays, like numpy's tolist(): numbers,
   * bigints (64-bit integers), booleans, {re, im}. A 0-d array gives its value.
   * @throws ERR_TOO_LARGE past TOLIST_MAX elements (2^24): use read() or segments(); ERR_CLOSED.
   */
  tolist(): unknown {
    this.#live();
    if (this.size > TOLIST_MAX) {
      throw new MemmapRangeError('ERR_TOO_LARGE', `tolist() of ${this.size} elements would build ${this.size} JavaScript values (the limit is ${TOLIST_MAX}); use read(), segments() or data`);
    }
    const value = valueReader(this.#dt, this.read());
    if (this.ndim === 0) return value(0);
    let k = 0;
    const nest = (axis: number): unknown[] => {
      const n = this.shape[axis];
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) appendOwn(out, axis === this.ndim - 1 ? value(k++) : nest(axis + 1));
      return out;
    };
    return nest(0);
  }

  /**
   * A copy of the whole array as a new TypedArray in C order, in this
   * machine's byte order (`read()` with no index; numpy's `np.array(a)`).
   * @throws as read().
   */
  toArray(): DataTypes[N] {
    return this.read();
  }

  /**
   * Narrows the array's type: `if (a.is('int16')) a.data` is an Int16Array.
   * Any dtype string works ('<i2', 'short'); byte order is not compared.
   * @throws ERR_INVALID_DTYPE for a string that is not a dtype.
   */
  is<D extends DTypeString>(dtype: D): this is MemmapArray<CanonicalDType<D>> {
    return parseDType(dtype).name === this.dtype;
  }
}

// Every method and getter keeps the error contract (see boundary.ts); get(),
// set() and data/bytes, the hot ones, carry their own try/catch or cannot
// meet foreign errors.
guardPrototype(MemmapArray.prototype, ['get', 'set', 'data', 'bytes', 'closed'], (x) => isArray(x));

/** The most elements tolist() converts (2^24). */
export const TOLIST_MAX = 2 ** 24;

/** What toJSON() gives. */
export interface MemmapJSON {
  type: 'memmap';
  filename: string;
  descr: string;
  dtype: DTypeName;
  shape: number[];
  order: Order;
  mode: Mode;
  offset: number;
  closed: boolean;
}

/** A plain copy of a shape or strides (no Array.prototype method: it may be patched). */
function copyOf(a: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) appendOwn(out, a[i]);
  return out;
}

/** The bytes of a TypedArray: Node-API does not know every TypedArray type (Float16Array). */
/** The native error for a destination over the source's own memory (the kernels copy element by element). */
function isOverlap(err: unknown): boolean {
  return err instanceof MemmapError && err.code === 'ERR_INVALID_ARG_VALUE' && /overlaps/.test(err.message);
}

function bytesOf(t: AnyTypedArray): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/** get()'s value of element k of a TypedArray that read() or gather() returned. */
export function valueReader(dt: DType, t: ArrayLike<unknown>): (k: number) => unknown {
  if (dt.kind === 'c') return (k) => ({ re: t[2 * k], im: t[2 * k + 1] });
  if (dt.kind === 'b') return (k) => t[k] !== 0;
  if (dt.name === 'float16' && !hasFloat16Array) return (k) => halfToNumber(t[k] as number);
  return (k) => t[k];
}

/** What mean() returns for each dtype with no axis: a number, {re, im} for complex. */
export type MeanTypes = { [K in keyof ValueTypes]: K extends 'complex64' | 'complex128' ? Complex : number };

/** A reduction's arguments: index items (as view() takes them), then an optional options object. */
export type ReduceArgs<O> = IndexItem[] | [...IndexItem[], O];

/**
 * What a reduction returns for options `O`: `out` itself when given; an
 * in-memory array along an axis or with keepdims; else the scalar `S`.
 */
export type Reduced<O, S> = O extends { out: infer T } ? T : O extends { keepdims: true } ? MemmapArray : O extends { axis: number | readonly number[] } ? MemmapArray : S;

/** The dtype with this machine's byte order (what copies and results hold). */
function nativeOf(dt: DType): DType {
  return dt.isNative ? dt : parseDType((MACHINE_LITTLE_ENDIAN ? '<' : '>') + dt.descr.slice(1));
}

/** The spec of arrays that live in memory (results, copies): no file. */
function memorySpec(dtype: DType): ArraySpec {
  return { filename: '', mode: 'r+', dtype, offset: 0, order: 'C' };
}

/** Internal: an in-memory C-order array over `bytes` (no copy): results of reductions and copies. */
export function memoryArray(dtype: DType, shape: readonly number[], bytes: Uint8Array): MemmapArray {
  return createArray(memorySpec(dtype), copyOf(shape), new HeapStorage(bytes));
}

/** TypedArray.prototype's getters, taken at load: a subclass or a patch cannot lie about where the bytes are. */
const typedProto = Object.getPrototypeOf(Int8Array.prototype) as object;
const typedGetter = (name: string) => Object.getOwnPropertyDescriptor(typedProto, name)?.get as (this: unknown) => unknown;
const getBuffer = typedGetter('buffer');
const getByteOffset = typedGetter('byteOffset');
const getByteLength = typedGetter('byteLength');
const getLength = typedGetter('length');

/**
 * The bytes `out` offers for a result of `dt` and `shape`: an array (writable,
 * same dtype and shape, C contiguous) or, unless `arrayOnly`, a TypedArray of
 * the dtype's type holding exactly the result's elements (complex: interleaved).
 */
export function outBytes(out: unknown, dt: DType, shape: readonly number[], arrayOnly: boolean): Uint8Array {
  if (isArray(out)) {
    const a = out as MemmapArray;
    if (a.dtype !== dt.name || a.descr !== dt.descr) throw new MemmapError('ERR_DTYPE_MISMATCH', `out has dtype ${a.descr}; the result is ${dt.descr}`);
    let same = a.shape.length === shape.length;
    for (let d = 0; same && d < shape.length; d++) same = a.shape[d] === shape[d];
    if (!same) throw new MemmapError('ERR_SHAPE_MISMATCH', `out has shape ${tupleRepr(a.shape)}; the result has shape ${tupleRepr(shape)}`);
    if (a.readonly) throw new MemmapError('ERR_READ_ONLY', 'out is read-only');
    if (a.order !== 'C' && a.ndim > 1 && a.size > 1) throw new MemmapError('ERR_NOT_CONTIGUOUS', 'out must be C contiguous (an F-order array holds its elements in another order)');
    const bytes = bytesOf(a.data as AnyTypedArray);
    // Own properties can lie (shape, data): the bytes must hold exactly the result.
    if (bytes.byteLength !== sizeOf(shape) * dt.itemsize) throw new MemmapError('ERR_SHAPE_MISMATCH', `out holds ${bytes.byteLength} bytes; the result has ${sizeOf(shape) * dt.itemsize}`);
    return bytes;
  }
  return typedOutBytes(out, dt, sizeOf(shape), arrayOnly);
}

/** outBytes() of an `out` that is not an array: a TypedArray of the dtype's type holding exactly `count` elements. */
function typedOutBytes(out: unknown, dt: DType, count: number, arrayOnly: boolean): Uint8Array {
  const { array, lanes } = DTYPES[dt.name];
  if (arrayOnly || !ArrayBuffer.isView(out) || !(out instanceof array)) {
    throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `out must be ${arrayOnly ? 'an array' : `a ${array.name} or an array`} of ${dt.name}, got ${describe(out)}`);
  }
  const want = count * lanes;
  const length = Reflect.apply(getLength, out, []) as number;
  if (length !== want) throw new MemmapError('ERR_SHAPE_MISMATCH', `out holds ${length} values; the result has ${want}`);
  return new Uint8Array(Reflect.apply(getBuffer, out, []) as ArrayBuffer, Reflect.apply(getByteOffset, out, []) as number, Reflect.apply(getByteLength, out, []) as number);
}

/**
 * A new ArrayBuffer of `bytes` bytes; ERR_TOO_LARGE past the largest one this Node.js supports or when the allocation
 * fails. `uninitialized`: not zero-filled (Buffer.allocUnsafeSlow's memory, never pooled), for a copy that writes every
 * byte before anyone sees it (zero-filling 256 KiB cost a read about as much as the copy itself).
 */
export function newBuffer(bytes: number, uninitialized = false): ArrayBuffer {
  if (bytes > maxBufferLength) {
    throw new MemmapError('ERR_TOO_LARGE', `a copy of ${bytes} bytes exceeds the largest ArrayBuffer this Node.js supports (${maxBufferLength} bytes)`);
  }
  try {
    return uninitialized ? (Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer) : new ArrayBuffer(bytes);
  } catch (err) {
    throw new MemmapError('ERR_TOO_LARGE', `a copy of ${bytes} bytes cannot be allocated`, { cause: err });
  }
}

/** The scalar a full reduction returns, from the result's bytes. */
export function scalarOf(p: ReducePlan, bytes: Uint8Array): unknown {
  const value = codecOf(p.dtype).read(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
  if (p.family === 'arg' || p.family === 'count') return Number(value);
  // sum() of bool and integers up to 32 bits gives a number, as it always has (exact below 2^53).
  if ((p.op === 'sum' || p.op === 'nansum') && p.defaultDType && typeof value === 'bigint' && p.input.itemsize < 8) return Number(value);
  return value;
}

/** sum()/mean() from sum_view's exact value. */
export function exactValue(p: ReducePlan, r: number | bigint | Float64Array, dt: DType): unknown {
  const n = p.reduced;
  if (r instanceof Float64Array) return p.op === 'mean' ? complexOverCount(r[0], r[1], n) : { re: r[0], im: r[1] };
  if (p.op === 'mean') return (r as number) / n;
  if (dt.kind === 'b' || ((dt.kind === 'i' || dt.kind === 'u') && dt.itemsize < 8)) return r;
  return r;
}

/** numpy's complex true_divide by a real count (Smith's method with a zero imaginary part): (re + im·0)·(1/n). */
function complexOverCount(re: number, im: number, n: number): Complex {
  if (n === 0) return { re: re / 0, im: im / 0 };
  const scale = 1 / n;
  return { re: (re + im * 0) * scale, im: (im - re * 0) * scale };
}

export function signalOf(value: unknown, fn: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!isAbortSignal(value)) throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `${fn} signal must be an AbortSignal, got ${describe(value)}`);
  return value;
}

/**
 * Runs a native async call with a cancel token wired to `signal`: an abort
 * before or during the call rejects with ERR_ABORTED (name AbortError).
 */
export async function cancellable<T>(storage: AsyncStorage, signal: AbortSignal | undefined, run: (token: CancelToken | undefined) => Promise<T>): Promise<T> {
  if (signal === undefined) return run(undefined);
  if (isAborted(signal)) throw abortError(signal);
  const token = storage.newCancel();
  const cancel = (): void => token.cancel();
  onAbort(signal, cancel, true);
  try {
    const r = await run(token);
    if (isAborted(signal)) throw abortError(signal);
    return r;
  } catch (err) {
    if (isAborted(signal)) throw abortError(signal);
    throw err;
  } finally {
    onAbort(signal, cancel, false);
  }
}
