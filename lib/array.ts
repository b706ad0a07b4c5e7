// MemmapArray: the public API over a view (dtype, shape, strides, offset) and
// a Storage. Element codecs live in codec.ts, the windows elements are read
// through in windows.ts, the scijs adapter in ndarray.ts, share tokens in
// share.ts; this file holds only the methods users call.
import { inspect } from 'node:util';
import type { NdArray } from 'ndarray';
import { maxBufferLength } from './binding';
import { asMemmapError, guardPrototype } from './boundary';
import { type Codec, codecOf, toComplex } from './codec';
import { type CanonicalDType, type DataTypes, type DType, DTYPES, type DTypeName, type DTypeString, ELEM_CODES, hasFloat16Array, type InputTypes, parseDType, type ValueTypes } from './dtype';
import { halfToNumber } from './float16';
import { dtypeRepr, type Printable, reprOf, strOf, tupleRepr } from './format';
import { describe, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { checkNumpySize, indexColumns, type IndexItem, linearIndex, normalizeShape, type Order, sizeOf, stridesFor, type ViewSpec, viewDescriptor, viewOf } from './layout';
import { toNdArray } from './ndarray';
import { ADVICE_CODES, type Advice, type Mode } from './modes';
import { appendOwn, readOptions } from './options';
import { displayPath, type FilePath } from './paths';
import { type ByteRange, isShareable, type Storage } from './storage';
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
  /** `keepSize`: refuse (ERR_SHARED) to make the file shorter. */
  resize(shape: readonly number[], next: number[], keepSize: boolean): { storage: Storage; shape: number[] };
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

  /** @internal use memmap() or openNpy(). */
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
   * @throws (on the first next()) ERR_BYTE_ORDER, ERR_UNKNOWN_OPTION, ERR_INVALID_ARG_VALUE for a bad maxBytes, ERR_CLOSED.
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
   * @throws ERR_TOO_LARGE past one ArrayBuffer; ERR_CLOSED after close().
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
      data: () => base.data,
      readElement: (k) => windows.read(k * this.itemsize, this.#codec.read),
      writeElement: (k, v) => this.#writeAt(k, v),
      readByte: (b, read) => windows.read(b, read),
      writeByte: (b, write, v) => windows.write(b, write, v),
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
   * Sum of the elements of `a[...index]` (numpy basic indexing: an integer
   * picks, null takes a whole axis, [start, stop, step] slices; no index sums
   * everything), computed natively without creating any ArrayBuffer, the way
   * numpy's `a[index].sum(dtype=float64)` is: floats and float16 accumulate in
   * float64 in numpy's order (its result to the last bit; complex as
   * dtype=complex128); integers and bool in 64 bits (wrapping, like numpy);
   * int64/uint64 return a bigint, complex a {re, im}. Any byte order; large
   * sums use several native threads without changing the result.
   * @throws ERR_OUT_OF_RANGE / ERR_INVALID_INDEX for a bad index; ERR_CLOSED.
   * @throws ERR_SIGBUS instead of crashing if a page cannot be read (the file shrank under the mapping).
   */
  sum(...index: IndexItem[]): SumTypes[N] {
    const storage = this.#live();
    const v = this.#nativeView(index);
    const r = storage.sum(ELEM_CODES[this.#dt.name], !this.#dt.isNative, viewDescriptor(v.offset, v.shape, v.strides, 1));
    if (r instanceof Float64Array) return { re: r[0], im: r[1] } as SumTypes[N];
    return r as SumTypes[N];
  }

  /**
   * A copy of `a[...index]` (indexing as in sum()) as a new TypedArray in C
   * order of the selection, in this machine's byte order whatever the file's
   * (the same TypedArray type as `data`; complex interleaved). numpy's
   * `np.array(a[index])`. Reads only the pages the selection touches and makes
   * no view of the mapping, so it is cheap on arrays of any size.
   * @throws as sum(), and ERR_TOO_LARGE when the copy would not fit one ArrayBuffer.
   */
  read(...index: IndexItem[]): DataTypes[N] {
    const storage = this.#live();
    const v = this.#nativeView(index);
    const out = this.#allocate(sizeOf(v.shape));
    storage.copy(ELEM_CODES[this.#dt.name], !this.#dt.isNative, viewDescriptor(v.offset, v.shape, v.strides, 1), bytesOf(out));
    return out;
  }

  /**
   * The elements at the given coordinates, one integer array per axis, all of
   * one length (numpy's `a[ii, jj]`), as a new TypedArray like read() returns.
   * Negative indices count from the end.
   * @throws ERR_OUT_OF_RANGE for an index out of bounds; ERR_INVALID_INDEX for bad index arrays; ERR_TOO_LARGE; ERR_CLOSED; ERR_SIGBUS.
   */
  gather(...coords: ArrayLike<number | bigint>[]): DataTypes[N] {
    const storage = this.#live();
    // Checked (count, lengths, item types, size) and converted here; bounds and offsets natively (a JS loop cost more than the reads).
    const { count, columns } = indexColumns(coords, this.ndim, this.itemsize, maxBufferLength);
    const out = this.#allocate(count);
    const bad = storage.gather(ELEM_CODES[this.#dt.name], !this.#dt.isNative, columns, viewDescriptor(this.#off * this.itemsize, this.shape, this.strides, this.itemsize), bytesOf(out));
    if (bad !== undefined) {
      // [kind (0: not an integer, 1: out of range), axis, position]
      const d = bad[1];
      const k = bad[2];
      const where = `index ${describe(columns[d][k])} (array ${d}, position ${k})`;
      if (bad[0] === 0) throw new MemmapTypeError('ERR_INVALID_INDEX', `${where} must be an integer`);
      throw new MemmapRangeError('ERR_OUT_OF_RANGE', `${where} is out of bounds for axis ${d} with size ${this.shape[d]}`);
    }
    return out;
  }

  /** A new heap TypedArray of `count` elements of this dtype. */
  #allocate(count: number): DataTypes[N] {
    const bytes = count * this.itemsize;
    if (bytes > maxBufferLength) {
      throw new MemmapError('ERR_TOO_LARGE', `a copy of ${bytes} bytes exceeds the largest ArrayBuffer this Node.js supports (${maxBufferLength} bytes)`);
    }
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(bytes);
    } catch (err) {
      throw new MemmapError('ERR_TOO_LARGE', `a copy of ${bytes} bytes cannot be allocated`, { cause: err });
    }
    return this.#typed({ buffer, byteOffset: 0 }, count);
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
    const code = typeof advice === 'string' && Object.hasOwn(ADVICE_CODES, advice) ? ADVICE_CODES[advice] : undefined;
    if (code === undefined) {
      throw new MemmapTypeError('ERR_INVALID_ADVICE', `advice must be one of ${Object.keys(ADVICE_CODES).join(', ')}, got ${describe(advice)}`);
    }
    storage.advise(code);
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
    return this.#swap(prepared, this.#remapper().resize(this.shape, next, this.#shared).storage);
  }

  #remapper(): Remapper {
    const remap = this.#spec.remap;
    if (remap === undefined) throw new MemmapError('ERR_SHARED', `this array came from fromShared(): refresh() and resize() work in the thread that opened ${this.filename}`);
    return remap;
  }

  /** Windows over `storage` only: once the array is closed or remapped they throw ERR_CLOSED. */
  #windowsOver(storage: Storage): Windows {
    return new Windows(() => (this.#storage === storage ? storage : this.#stale()), this.byteLength, this.itemsize);
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
      windows: new Windows(() => (holder.storage !== null && this.#storage === holder.storage ? holder.storage : this.#stale()), size * this.itemsize, this.itemsize),
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
    return this.#print(reprOf);
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
    return `memmap(<${state}>, shape=${tupleRepr(this.shape)}, dtype=${dtypeRepr(this.#dt)})`;
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
guardPrototype(MemmapArray.prototype, ['get', 'set', 'data', 'bytes', 'closed']);

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
function bytesOf(t: AnyTypedArray): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/** get()'s value of element k of a TypedArray that read() or gather() returned. */
function valueReader(dt: DType, t: ArrayLike<unknown>): (k: number) => unknown {
  if (dt.kind === 'c') return (k) => ({ re: t[2 * k], im: t[2 * k + 1] });
  if (dt.kind === 'b') return (k) => t[k] !== 0;
  if (dt.name === 'float16' && !hasFloat16Array) return (k) => halfToNumber(t[k] as number);
  return (k) => t[k];
}
