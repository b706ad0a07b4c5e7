// The memmap class: a typed n-d array over a mapped file.
import ndarrayFactory from 'ndarray';
import type { NdArray } from 'ndarray';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { ADVICE_CODES, MAP_POPULATE, MODE_CODES, maxBufferLength, native, type NativeMapping } from './binding';
import {
  type CanonicalDType,
  type DataTypes,
  type DType,
  type DTypeName,
  type DTypeString,
  type InputTypes,
  type ValueTypes,
  parseDType,
} from './dtype';
import { asMemmapError, guarded, guardPrototype } from './boundary';
import { describe, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { halfToNumber, numberToHalf } from './float16';
import { WideNdArray } from './ndview';
import { checkNumpySize, indexColumns, type IndexItem, linearIndex, normalizeOrder, normalizeShape, type Order, sizeOf, stridesFor, type ViewSpec, viewOf } from './layout';
import { normalizeMode, normalizeOffset, readOptions } from './options';

export type Mode = 'r' | 'r+' | 'w+' | 'c';
/** Modes as numpy spells them, long aliases included. */
export type ModeInput = Mode | 'readonly' | 'readwrite' | 'write' | 'copyonwrite';
export type Advice = keyof typeof ADVICE_CODES;

export interface MemmapOptions<D extends DTypeString = DTypeString> {
  /** Element type. Default 'uint8' (as numpy). */
  dtype?: D;
  /** Dimensions. Default: 1-d, inferred from (file size - offset) / itemsize. Required for 'w+'. */
  shape?: number | readonly number[];
  /** Default 'r' (numpy's default is 'r+'; read-only is safer). */
  mode?: ModeInput;
  /** Byte offset of the array in the file; any value, aligned or not. Default 0. */
  offset?: number | bigint;
  /** Memory layout: 'C' (row-major, default) or 'F' (column-major). */
  order?: Order | 'c' | 'f';
  /** Pre-fault every page at open (MAP_POPULATE on Linux). Default false. */
  populate?: boolean;
}

/** Which pages of the array are in RAM now (mincore). */
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

/** Window size and count for the first element accesses (a multiple of every itemsize). */
const SMALL_WINDOW = 1 << 16;
const SMALL_WINDOWS_MAX = 8;

/**
 * Default segments() window and the windows of arrays past the ArrayBuffer
 * limit: 1 GiB keeps element indices far below 2^31, where V8's loops over
 * TypedArrays stay on their fast integer path (they deoptimize past it).
 */
const SEGMENT_BYTES = 2 ** 30;

/** One window of an array, as segments() yields it. */
export interface Segment<N extends DTypeName = DTypeName> {
  /** Index (in elements, file order) of the first element of `data`. */
  start: number;
  /** Number of elements in this window. */
  length: number;
  /** Zero-copy view of the window (complex: interleaved, so 2 * length numbers). */
  data: DataTypes[N];
}

/** What share() returns: plain data, safe to postMessage to a worker. */
export interface SharedMemmap {
  type: 'memmap.shared';
  /** 128 random bits (hex): names one mapping of this process, unforgeably. */
  id: string;
  filename: string | Uint8Array;
  descr: string;
  shape: number[];
  order: Order;
  mode: Mode;
  reportMode?: Mode;
  offset: number;
}

/**
 * A path as the OS gets it: a string, or a Buffer when the caller gave bytes
 * that are not UTF-8 (as fs does, those bytes reach the OS unchanged).
 */
export type FilePath = string | Buffer;

/** A FilePath for messages and `err.path` (lossy for non-UTF-8 bytes). */
export function displayPath(p: FilePath): string {
  return typeof p === 'string' ? p : p.toString();
}

/**
 * The path the OS gets: the caller's, exactly (a string, or a Buffer's bytes
 * when they are not UTF-8), with no lexical normalisation — the kernel, not
 * us, resolves `..` after a symlink and a trailing `/` (path.resolve() would
 * collapse `lnk/..` and drop the `/`, opening another file than fs does). A
 * relative path stays relative: the kernel resolves it against the working
 * directory itself, whatever bytes that directory's name holds.
 */
export function normalizePath(file: unknown): FilePath {
  let p: FilePath;
  if (typeof file === 'string') p = file;
  else if (Buffer.isBuffer(file) || file instanceof Uint8Array) {
    const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
    const text = bytes.toString('utf8');
    // Bytes that are not UTF-8 would decode to U+FFFD and name another file.
    p = Buffer.byteLength(text) === bytes.length && Buffer.from(text, 'utf8').equals(bytes) ? text : Buffer.from(bytes);
  } else if (file instanceof URL) {
    try {
      p = fileURLToPath(file);
    } catch {
      throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `not a file: URL of a local path: ${file.href}`);
    }
  } else throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'path must be a string, Buffer or file: URL');
  // The OS would silently cut the path at a NUL byte and open another file.
  if (typeof p === 'string' ? p.includes('\0') : p.includes(0)) throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', 'path must not contain NUL bytes');
  return p;
}

/**
 * `filename`: an OS path made absolute by putting the working directory in
 * front (a leading `./` goes, nothing else changes), so it names the file the
 * OS opened. Left relative when the working directory has no exact name
 * (deleted, or not UTF-8: process.cwd() would decode it lossily).
 */
export function absoluteName(p: FilePath): FilePath {
  if (p.length === 0) return p;
  if (typeof p === 'string' ? path.isAbsolute(p) : p[0] === 0x2f) return p;
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    return p;
  }
  if (cwd.includes('\ufffd')) return p;
  const dir = cwd.endsWith(path.sep) ? cwd : cwd + path.sep;
  if (typeof p === 'string') return dir + p.replace(/^(\.\/+)+/, '');
  let skip = 0;
  while (p[skip] === 0x2e && p[skip + 1] === 0x2f) for (skip += 2; p[skip] === 0x2f; skip++);
  return Buffer.concat([Buffer.from(dir), p.subarray(skip)]);
}

type Reader = (view: DataView, byte: number) => unknown;
type Writer = (view: DataView, byte: number, value: unknown) => void;

function intWriter(name: DTypeName, min: number, max: number, put: (v: DataView, b: number, n: number) => void): Writer {
  return (view, byte, value) => {
    if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
      throw new MemmapTypeError('ERR_INVALID_VALUE', `${name} value must be a number`);
    }
    let n = Number(value);
    if (!Number.isFinite(n)) throw new MemmapRangeError('ERR_INVALID_VALUE', `cannot store ${n} in ${name}`);
    n = Math.trunc(n);
    if (n < min || n > max) throw new MemmapRangeError('ERR_OUT_OF_RANGE', `${n} is out of bounds for ${name}`);
    put(view, byte, n);
  };
}

function toFloat(name: DTypeName, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return Number(value);
  throw new MemmapTypeError('ERR_INVALID_VALUE', `${name} value must be a number`);
}

function toComplex(name: DTypeName, value: unknown): [number, number] {
  if (Array.isArray(value) && value.length === 2) return [toFloat(name, value[0]), toFloat(name, value[1])];
  if (typeof value === 'object' && value !== null && 're' in value) {
    const c = value as { re: unknown; im?: unknown };
    const re = c.re;
    const im = c.im; // each getter runs once
    return [toFloat(name, re), im === undefined ? 0 : toFloat(name, im)];
  }
  return [toFloat(name, value), 0];
}

function accessors(dt: DType): { read: Reader; write: Writer } {
  const le = dt.byteOrder !== '>';
  const name = dt.name;
  switch (name) {
    case 'bool':
      return {
        read: (v, b) => v.getUint8(b) !== 0,
        write: (v, b, x) => {
          if (typeof x !== 'boolean' && typeof x !== 'number' && typeof x !== 'bigint') {
            throw new MemmapTypeError('ERR_INVALID_VALUE', 'bool value must be a boolean or number');
          }
          // numpy: bool(nan) is True, bool(-0.0) False
          v.setUint8(b, x === false || x === 0 || x === 0n ? 0 : 1);
        },
      };
    case 'int8':
      return { read: (v, b) => v.getInt8(b), write: intWriter(name, -128, 127, (v, b, n) => v.setInt8(b, n)) };
    case 'uint8':
      return { read: (v, b) => v.getUint8(b), write: intWriter(name, 0, 255, (v, b, n) => v.setUint8(b, n)) };
    case 'int16':
      return { read: (v, b) => v.getInt16(b, le), write: intWriter(name, -32768, 32767, (v, b, n) => v.setInt16(b, n, le)) };
    case 'uint16':
      return { read: (v, b) => v.getUint16(b, le), write: intWriter(name, 0, 65535, (v, b, n) => v.setUint16(b, n, le)) };
    case 'int32':
      return { read: (v, b) => v.getInt32(b, le), write: intWriter(name, -(2 ** 31), 2 ** 31 - 1, (v, b, n) => v.setInt32(b, n, le)) };
    case 'uint32':
      return { read: (v, b) => v.getUint32(b, le), write: intWriter(name, 0, 2 ** 32 - 1, (v, b, n) => v.setUint32(b, n, le)) };
    case 'int64':
    case 'uint64': {
      const signed = name === 'int64';
      const min = signed ? -(2n ** 63n) : 0n;
      const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
      return {
        read: signed ? (v, b) => v.getBigInt64(b, le) : (v, b) => v.getBigUint64(b, le),
        write: (v, b, x) => {
          let n: bigint;
          if (typeof x === 'bigint') n = x;
          else if (typeof x === 'number') {
            if (!Number.isFinite(x)) throw new MemmapRangeError('ERR_INVALID_VALUE', `cannot store ${x} in ${name}`);
            n = BigInt(Math.trunc(x)); // exact for every integer-valued double, as numpy's cast
          }
          else if (typeof x === 'boolean') n = x ? 1n : 0n;
          else throw new MemmapTypeError('ERR_INVALID_VALUE', `${name} value must be a bigint or a number`);
          if (n < min || n > max) throw new MemmapRangeError('ERR_OUT_OF_RANGE', `${n} is out of bounds for ${name}`);
          if (signed) v.setBigInt64(b, n, le);
          else v.setBigUint64(b, n, le);
        },
      };
    }
    case 'float16':
      return {
        read: (v, b) => halfToNumber(v.getUint16(b, le)),
        write: (v, b, x) => v.setUint16(b, numberToHalf(toFloat(name, x)), le),
      };
    case 'float32':
      return { read: (v, b) => v.getFloat32(b, le), write: (v, b, x) => v.setFloat32(b, toFloat(name, x), le) };
    case 'float64':
      return { read: (v, b) => v.getFloat64(b, le), write: (v, b, x) => v.setFloat64(b, toFloat(name, x), le) };
    case 'complex64':
      return {
        read: (v, b) => ({ re: v.getFloat32(b, le), im: v.getFloat32(b + 4, le) }),
        write: (v, b, x) => {
          const [re, im] = toComplex(name, x);
          v.setFloat32(b, re, le);
          v.setFloat32(b + 4, im, le);
        },
      };
    case 'complex128':
      return {
        read: (v, b) => ({ re: v.getFloat64(b, le), im: v.getFloat64(b + 8, le) }),
        write: (v, b, x) => {
          const [re, im] = toComplex(name, x);
          v.setFloat64(b, re, le);
          v.setFloat64(b + 8, im, le);
        },
      };
  }
}

type AnyTypedArray = DataTypes[DTypeName];
type TypedArrayCtor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => AnyTypedArray;

const Float16ArrayCtor = (globalThis as { Float16Array?: TypedArrayCtor }).Float16Array;

/** True where the runtime has Float16Array, so float16 `data` is a Float16Array (else raw Uint16Array bits). */
export const hasFloat16Array = typeof Float16ArrayCtor === 'function';

const CTORS: Record<DTypeName, TypedArrayCtor> = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float16: Float16ArrayCtor ?? Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  complex64: Float32Array,
  complex128: Float64Array,
};

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
  /** Reported as `mode` (openNpy 'w+' reports 'r+', as numpy). */
  reportMode?: Mode;
}

/**
 * Opens, sizes and maps the file; the file is left untouched on every error path of r, r+ and c (a file 'r+'
 * grew is shrunk back to its size when the mapping then fails).
 */
export function mapFile<N extends DTypeName>(spec: MapSpec): MemmapArray<N> {
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
    if (spec.shape === undefined) {
      // As numpy: with no shape there must be data to map, in every mode.
      if (fileSize === 0) {
        throw new MemmapError('ERR_EMPTY_FILE', `cannot map an empty file: ${filename}`, { path: displayPath(filename) });
      }
      const bytes = fileSize - offset;
      if (bytes <= 0) {
        throw new MemmapError('ERR_FILE_TOO_SHORT', `offset ${offset} is beyond the end of ${filename} (${fileSize} bytes)`, { path: displayPath(filename) });
      }
      if (bytes % itemsize !== 0) {
        throw new MemmapError('ERR_SIZE_MISMATCH', `size of available data (${bytes} bytes) is not a multiple of the ${dtype.name} itemsize ${itemsize}`, { path: displayPath(filename) });
      }
      shape = [bytes / itemsize];
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
    mapping = new native.Mapping(fd, MODE_CODES[mode], offset, byteLength, spec.populate ? MAP_POPULATE : 0);
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
  return new MemmapArray<N>(kInternal, spec, shape, mapping);
}

const kInternal = Symbol('memmap.internal');

/** Element type codes of the native kernels (src-native/kernels.h ElemType). */
const ELEM_CODES: Record<DTypeName, number> = {
  bool: 0,
  int8: 1,
  uint8: 2,
  int16: 3,
  uint16: 4,
  int32: 5,
  uint32: 6,
  int64: 7,
  uint64: 8,
  float16: 9,
  float32: 10,
  float64: 11,
  complex64: 12,
  complex128: 13,
};

/**
 * A view as the native kernels take it: [byteOffset, ndim, ...shape,
 * ...byteStrides] in a Float64Array built here, so reading it runs no user
 * code (an Array's elements could be getters).
 */
function viewDescriptor(offset: number, shape: readonly number[], strides: readonly number[], scale: number): Float64Array {
  const n = shape.length;
  const d = new Float64Array(2 + 2 * n);
  d[0] = offset;
  d[1] = n;
  for (let k = 0; k < n; k++) {
    d[2 + k] = shape[k];
    d[2 + n + k] = strides[k] * scale;
  }
  return d;
}

/** The bytes of a TypedArray: Node-API does not know every TypedArray type (Float16Array). */
function bytesOf(t: AnyTypedArray): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/** What sum() returns for each dtype: get()'s types, with bool summed as a count. */
export type SumTypes = { [K in keyof ValueTypes]: K extends 'bool' ? number : ValueTypes[K] };

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

  #mapping: NativeMapping | null;
  readonly #spec: MapSpec;
  /** Bytes per internal window: the whole array when it fits one ArrayBuffer. */
  readonly #window: number;
  readonly #fits: boolean;
  // Maps, not Arrays: an accessor someone defines on Array.prototype[0] must
  // not be able to stand in for a cached buffer.
  #buffers = new Map<number, ArrayBuffer>();
  #views = new Map<number, DataView>();
  #view0: DataView | null = null;
  /** Small windows for the first get()/set() calls, so open + read one element stays cheap. */
  #small: Map<number, DataView> | null = null;
  /** Offset inside the view #viewFor() returned last. */
  #at = 0;
  #data: AnyTypedArray | null = null;
  #bytes: Uint8Array | null = null;
  readonly #dt: DType;
  readonly #read: Reader;
  readonly #write: Writer;

  /** @internal use memmap() or openNpy(). */
  constructor(token: symbol, spec: MapSpec, shape: number[], mapping: NativeMapping) {
    if (token !== kInternal) throw new MemmapTypeError('ERR_ILLEGAL_CONSTRUCTOR', 'use memmap() or openNpy() to create a MemmapArray');
    const dt = spec.dtype;
    this.#dt = dt;
    this.dtype = dt.name as N;
    this.descr = dt.descr;
    this.byteOrder = dt.byteOrder;
    this.itemsize = dt.itemsize;
    this.shape = Object.freeze(shape.slice());
    this.ndim = shape.length;
    this.order = spec.order;
    this.strides = Object.freeze(stridesFor(shape, spec.order));
    this.mode = spec.reportMode ?? spec.mode;
    this.offset = spec.offset;
    this.filename = spec.filename;
    this.size = sizeOf(shape);
    this.byteLength = this.size * dt.itemsize;
    this.readonly = spec.mode === 'r';
    this.#mapping = mapping;
    this.#spec = spec;
    this.#fits = this.byteLength <= maxBufferLength;
    this.#window = this.#fits ? Math.max(this.byteLength, 1) : Math.floor(Math.min(maxBufferLength, SEGMENT_BYTES) / dt.itemsize) * dt.itemsize;
    // No ArrayBuffer yet: V8 counts a view over the whole mapping as external
    // memory and collects garbage for it, so a big one is made only when needed.
    if (this.byteLength > SMALL_WINDOW) this.#small = new Map();
    const { read, write } = accessors(dt);
    this.#read = read;
    this.#write = write;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#mapping === null;
  }

  #live(): NativeMapping {
    if (this.#mapping === null) throw new MemmapError('ERR_CLOSED', `memmap of ${this.filename} is closed`, { path: displayPath(this.filename) });
    return this.#mapping;
  }

  /** ArrayBuffer over internal window `s` (created on first use, detached by close()). */
  #segment(s: number): ArrayBuffer {
    let buf = this.#buffers.get(s);
    // A buffer moved away with ArrayBuffer.prototype.transfer() is detached
    // here: every cached view goes, new ones are made over the mapping.
    if (buf !== undefined && buf.byteLength === 0 && this.byteLength > 0) {
      this.#dropViews();
      buf = undefined;
    }
    if (buf === undefined) {
      const start = s * this.#window;
      buf = this.#live().buffer(start, Math.min(this.#window, this.byteLength - start));
      this.#buffers.set(s, buf);
    }
    return buf;
  }

  #segView(s: number): DataView {
    let view = this.#views.get(s);
    if (view === undefined) {
      view = new DataView(this.#segment(s));
      this.#views.set(s, view);
    }
    return view;
  }

  /** The view holding byte `b` of the array; sets #at to b's offset in it. */
  #viewFor(b: number): DataView {
    if (this.#view0 !== null) {
      this.#at = b;
      return this.#view0;
    }
    if (this.#small !== null) {
      const w = Math.floor(b / SMALL_WINDOW);
      let view = this.#small.get(w);
      if (view === undefined && this.#small.size < SMALL_WINDOWS_MAX) {
        const start = w * SMALL_WINDOW;
        view = new DataView(this.#live().buffer(start, Math.min(SMALL_WINDOW, this.byteLength - start)));
        this.#small.set(w, view);
      }
      if (view !== undefined) {
        this.#at = b - w * SMALL_WINDOW;
        return view;
      }
      this.#small = null; // access is spread out: switch to whole-array windows
    }
    if (this.#fits) {
      this.#view0 = new DataView(this.#segment(0));
      this.#at = b;
      return this.#view0;
    }
    const s = Math.floor(b / this.#window);
    this.#at = b - s * this.#window;
    return this.#segView(s);
  }

  /** Forgets every cached buffer and view (close() detaches them all the same). */
  #dropViews(): void {
    this.#buffers = new Map();
    this.#views = new Map();
    this.#view0 = null;
    this.#data = null;
    this.#bytes = null;
    this.#small = this.byteLength > SMALL_WINDOW ? new Map() : null;
  }

  /** Reads element `k` (linear, in elements) whatever window it lies in. */
  #readAt(k: number): unknown {
    return this.#readByte(k * this.itemsize, this.#read);
  }

  #writeAt(k: number, value: unknown): void {
    // Complex values may be objects with getters: run them before a view is
    // chosen, so they cannot detach it (transfer()) between choice and store.
    this.#writeByte(k * this.itemsize, this.#write, this.#dt.kind === 'c' ? toComplex(this.#dt.name, value) : value);
  }

  /** read(view, offset) of the byte `b`, through fresh views if cached ones were transfer()red away. */
  #readByte(b: number, read: Reader): unknown {
    try {
      return read(this.#viewFor(b), this.#at);
    } catch (err) {
      if (err instanceof MemmapError) throw err;
      this.#live(); // closed meanwhile: ERR_CLOSED
      this.#dropViews();
      return read(this.#viewFor(b), this.#at);
    }
  }

  #writeByte(b: number, write: Writer, value: unknown): void {
    try {
      write(this.#viewFor(b), this.#at, value);
    } catch (err) {
      if (err instanceof MemmapError) throw err;
      this.#live();
      this.#dropViews();
      write(this.#viewFor(b), this.#at, value);
    }
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
    if (!this.#fits) {
      throw new MemmapError(
        'ERR_TOO_LARGE',
        `array of ${this.byteLength} bytes exceeds the largest ArrayBuffer this Node.js supports (${maxBufferLength} bytes): use segments(), get()/set() or ndarray()`,
      );
    }
  }

  /**
   * Zero-copy TypedArray over exactly the array's elements (complex: interleaved
   * re/im; bool: Uint8Array; float16: Float16Array where the runtime has one,
   * else Uint16Array of raw bits). Throws ERR_BYTE_ORDER for a non-native byte
   * order (use get()/set()/ndarray(), or `bytes`) and ERR_CLOSED after close().
   */
  get data(): DataTypes[N] {
    this.#live();
    this.#checkNativeOrder();
    this.#checkFits();
    if (this.#data !== null && this.#data.length === 0 && this.size > 0) this.#dropViews(); // transfer()red away
    if (this.#data === null) {
      const per = this.#dt.kind === 'c' ? 2 : 1;
      this.#data = new CTORS[this.#dt.name](this.#segment(0), 0, this.size * per);
      // get()/set() share the whole-array buffer from now on.
      this.#view0 ??= new DataView(this.#segment(0));
      this.#small = null;
    }
    return this.#data as DataTypes[N];
  }

  /**
   * Zero-copy TypedArrays over consecutive windows of the array, in element
   * order (the file's order): the way to scan an array larger than one
   * ArrayBuffer at TypedArray speed. `maxBytes` caps a window (default 1 GiB,
   * so an array up to 1 GiB comes as one segment over the buffer of `data`).
   * Views are detached by close(), like `data`.
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
    const per = this.#dt.kind === 'c' ? 2 : 1;
    const Ctor = CTORS[this.#dt.name];
    for (let start = 0; start < this.byteLength; start += step) {
      const len = Math.min(step, this.byteLength - start);
      const buf = step === this.#window || step >= this.byteLength ? this.#segment(start / this.#window) : this.#live().buffer(start, len);
      const length = len / this.itemsize;
      yield { start: start / this.itemsize, length, data: new Ctor(buf, 0, length * per) as DataTypes[N] };
    }
  }

  /** Zero-copy Uint8Array over the array's raw bytes (any byte order). */
  get bytes(): Uint8Array {
    this.#live();
    this.#checkFits();
    if (this.#bytes !== null && this.#bytes.length === 0 && this.byteLength > 0) this.#dropViews(); // transfer()red away
    if (this.#bytes === null) this.#bytes = new Uint8Array(this.#segment(0), 0, this.byteLength);
    return this.#bytes;
  }

  /** Element at the given indices (negative indices count from the end, as numpy). */
  get(...index: number[]): ValueTypes[N] {
    this.#live();
    return this.#readAt(linearIndex(this.shape, this.strides, index, index.length)) as ValueTypes[N];
  }

  /** set(i, j, …, value): stores value at the indices. Throws ERR_READ_ONLY in mode 'r'. */
  set(...indexAndValue: [...index: number[], value: InputTypes[N]]): void {
    this.#writable();
    const n = indexAndValue.length - 1;
    if (n < 0) throw new MemmapTypeError('ERR_INVALID_INDEX', 'set() needs a value');
    try {
      this.#writeAt(linearIndex(this.shape, this.strides, indexAndValue, n), indexAndValue[n]);
    } catch (err) {
      throw asMemmapError(err); // the value's getters may have thrown
    }
  }

  /**
   * A scijs `ndarray` sharing this memory (lo/hi/step/transpose/pick work and
   * never copy). Complex arrays get a trailing axis of length 2 (re, im).
   * Non-native byte order and float16 without Float16Array use get/set accessors.
   */
  ndarray(): NdArray {
    this.#live();
    const complex = this.#dt.kind === 'c';
    const shape = complex ? [...this.shape, 2] : this.shape.slice();
    const strides = complex ? [...this.strides.map((s) => s * 2), 1] : this.strides.slice();
    // scijs ndarray keeps offsets in int32; bigger arrays get an exact-offset twin.
    const wide = this.size * (complex ? 2 : 1) > 0x7fffffff;
    const direct = !wide && this.#fits && this.#dt.isNative && (this.#dt.name !== 'float16' || hasFloat16Array);
    if (direct) return ndarrayFactory(this.data as never, shape, strides, 0);
    let read: (i: number) => unknown;
    let write: (i: number, v: unknown) => void;
    if (complex) {
      // Component i of the interleaved (re, im) pairs, read as a float of half the itemsize.
      const part = accessors(parseDType(this.#dt.byteOrder + 'f' + this.itemsize / 2));
      const half = this.itemsize / 2;
      const byteOf = (i: number) => Math.floor(i / 2) * this.itemsize + (i % 2) * half;
      read = (i) => this.#readByte(byteOf(i), part.read);
      write = (i, v) => this.#writeByte(byteOf(i), part.write, typeof v === 'number' ? v : toFloat(this.#dt.name, v));
    } else {
      read = (i) => this.#readAt(i);
      write = (i, v) => this.#writeAt(i, v);
    }
    const self = this;
    const count = this.size * (complex ? 2 : 1);
    const generic = {
      get length() {
        return self.closed ? 0 : self.size * (complex ? 2 : 1);
      },
      // Like a TypedArray, which scijs indexes without bounds checks: an
      // index outside the array reads undefined and writes nothing.
      get: guarded((i: number): unknown => (this.closed || !(i >= 0 && i < count) || !Number.isInteger(i) ? undefined : read(i))),
      set: guarded((i: number, v: unknown): void => {
        this.#writable();
        if (i >= 0 && i < count && Number.isInteger(i)) write(i, v);
      }),
    };
    if (wide) return new WideNdArray(generic, shape, strides, 0) as unknown as NdArray;
    return ndarrayFactory(generic as never, shape, strides, 0);
  }

  /** The native view (bytes) of `a[index]`. */
  #nativeView(index: readonly IndexItem[]): ViewSpec {
    return viewOf(this.shape, this.strides, index, this.itemsize);
  }

  /**
   * Sum of the elements of `a[...index]` (numpy basic indexing: an integer
   * picks, null takes a whole axis, [start, stop, step] slices; no index sums
   * everything), computed natively without creating any ArrayBuffer, the way
   * numpy's `a[index].sum(dtype=float64)` is: floats and float16 accumulate in
   * float64, pairwise in blocks; integers and bool in 64 bits (wrapping, like
   * numpy); int64/uint64 return a bigint, complex a {re, im}. Any byte order.
   * Throws ERR_SIGBUS instead of crashing if a page cannot be read (the file
   * shrank under the mapping).
   */
  sum(...index: IndexItem[]): SumTypes[N] {
    const mapping = this.#live();
    const v = this.#nativeView(index);
    const r = mapping.sum(ELEM_CODES[this.#dt.name], !this.#dt.isNative, viewDescriptor(v.offset, v.shape, v.strides, 1));
    if (r instanceof Float64Array) return { re: r[0], im: r[1] } as SumTypes[N];
    return r as SumTypes[N];
  }

  /**
   * A copy of `a[...index]` (indexing as in sum()) as a new TypedArray in C
   * order of the selection, in this machine's byte order whatever the file's
   * (the same TypedArray type as `data`; complex interleaved). numpy's
   * `np.array(a[index])`. Reads only the pages the selection touches and makes
   * no view of the mapping, so it is cheap on arrays of any size.
   */
  read(...index: IndexItem[]): DataTypes[N] {
    const mapping = this.#live();
    const v = this.#nativeView(index);
    const count = sizeOf(v.shape);
    const out = this.#allocate(count);
    mapping.copy(ELEM_CODES[this.#dt.name], !this.#dt.isNative, viewDescriptor(v.offset, v.shape, v.strides, 1), bytesOf(out));
    return out;
  }

  /**
   * The elements at the given coordinates, one integer array per axis, all of
   * one length (numpy's `a[ii, jj]`), as a new TypedArray like read() returns.
   * Negative indices count from the end; out-of-range ones throw ERR_OUT_OF_RANGE.
   */
  gather(...coords: ArrayLike<number | bigint>[]): DataTypes[N] {
    const mapping = this.#live();
    // Checked (count, lengths, item types, size) and converted here; bounds and offsets natively (a JS loop cost more than the reads).
    const { count, columns } = indexColumns(coords, this.ndim, this.itemsize, maxBufferLength);
    const size = this.itemsize;
    const out = this.#allocate(count);
    const bad = mapping.gather(ELEM_CODES[this.#dt.name], !this.#dt.isNative, columns, viewDescriptor(0, this.shape, this.strides, size), bytesOf(out));
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
    const per = this.#dt.kind === 'c' ? 2 : 1;
    if (count * this.itemsize > maxBufferLength) {
      throw new MemmapError('ERR_TOO_LARGE', `a copy of ${count * this.itemsize} bytes exceeds the largest ArrayBuffer this Node.js supports (${maxBufferLength} bytes)`);
    }
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(count * this.itemsize);
    } catch (err) {
      throw new MemmapError('ERR_TOO_LARGE', `a copy of ${count * this.itemsize} bytes cannot be allocated`, { cause: err });
    }
    return new CTORS[this.#dt.name](buffer, 0, count * per) as DataTypes[N];
  }

  /** Writes dirty pages to disk (msync). No-op for modes 'r' and 'c'. */
  flush(): void {
    this.#live().flush(); // the native side skips private ('r', 'c') mappings
  }

  /** Tells the kernel how the array will be read (madvise). */
  advise(advice: Advice): void {
    this.#live();
    const code = typeof advice === 'string' && Object.hasOwn(ADVICE_CODES, advice) ? ADVICE_CODES[advice] : undefined;
    if (code === undefined) {
      throw new MemmapTypeError('ERR_INVALID_ADVICE', `advice must be one of ${Object.keys(ADVICE_CODES).join(', ')}, got ${describe(advice)}`);
    }
    (this.#mapping as NativeMapping).advise(code);
  }

  /** Which of the array's pages are in RAM now (mincore); touches nothing. */
  residency(): Residency {
    this.#live();
    const pageSize = native.pageSize;
    const firstPageOffset = this.offset - (this.offset % pageSize);
    const pages = (this.#mapping as NativeMapping).residency();
    const start = this.offset - firstPageOffset; // array start within the mapped range
    const end = start + this.byteLength;
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
      totalBytes: this.byteLength,
      residentBytes,
      fraction: this.byteLength === 0 ? 1 : residentBytes / this.byteLength,
      pageSize,
      totalPages: pages.length,
      residentPages,
      firstPageOffset,
      pages,
    };
  }

  /**
   * Detaches every ArrayBuffer handed out (views read as length 0), then
   * unmaps. Idempotent. Further method calls throw ERR_CLOSED.
   */
  close(): void {
    const mapping = this.#mapping;
    if (mapping === null) return;
    this.#mapping = null;
    this.#view0 = null;
    this.#small = null;
    this.#buffers = new Map();
    this.#views = new Map();
    this.#data = null;
    this.#bytes = null;
    mapping.close();
  }

  /**
   * A small structured-cloneable token for this mapping: post it to a
   * worker_thread and call fromShared(token) there to get the same memory
   * without copying. The memory stays mapped until every thread's array over
   * it is closed or collected.
   */
  share(): SharedMemmap {
    const mapping = this.#live();
    const { mode, reportMode, order, offset, filename, dtype } = this.#spec;
    const token: Omit<SharedMemmap, 'id'> = { type: 'memmap.shared', filename, descr: dtype.descr, shape: this.shape.slice(), order, mode, reportMode, offset };
    // The first share() of a region stores what it is; fromShared() checks
    // every field of a token against that, not against the token itself.
    const id = mapping.share(tokenMeta(token));
    return { ...token, id };
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [inspect.custom](): string {
    const state = this.closed ? 'closed' : `mode '${this.mode}'`;
    return `MemmapArray <${this.descr}> shape [${this.shape.join(', ')}] order ${this.order}, ${state}, ${this.filename}`;
  }
}

const MEMMAP_OPTIONS = ['dtype', 'shape', 'mode', 'offset', 'order', 'populate'] as const;

// Every method and getter keeps the error contract (see boundary.ts); get(),
// set() and data/bytes, the hot ones, carry their own try/catch or cannot
// meet foreign errors.
guardPrototype(MemmapArray.prototype, ['get', 'set', 'data', 'bytes', 'closed']);

/**
 * Maps `file` as a typed n-d array, like numpy.memmap. Options are read as own
 * data properties only (see readOptions()); an unknown one is ERR_UNKNOWN_OPTION.
 *
 * Errors: MemmapError with `code` ERR_… for bad input, or the errno name
 * (ENOENT, EACCES, EISDIR, …) with `syscall` and `path` when the OS refuses.
 */
export function memmap<D extends DTypeString = 'uint8'>(
  file: string | Buffer | URL,
  options: MemmapOptions<D> = {},
): MemmapArray<CanonicalDType<D>> {
  const o = readOptions(options, MEMMAP_OPTIONS, 'memmap()');
  const osPath = normalizePath(file);
  const mode = normalizeMode(o.mode);
  const dtype = parseDType(o.dtype ?? 'uint8');
  const shape = o.shape === undefined ? undefined : normalizeShape(o.shape);
  if (shape !== undefined) checkNumpySize(shape, dtype.itemsize);
  const spec: MapSpec = {
    filename: absoluteName(osPath),
    osPath,
    mode,
    dtype,
    shape,
    offset: normalizeOffset(o.offset),
    order: normalizeOrder(o.order),
    populate: Boolean(o.populate),
    reportMode: undefined, // own: a polluted Object.prototype.reportMode must not be read
  };
  return mapFile<CanonicalDType<D>>(spec);
}

/**
 * Rebuilds, in this thread, the array another thread share()d. No copy: both
 * see the same memory, and writes in 'r+' are visible to every thread at once.
 * Throws ERR_INVALID_TOKEN for anything but an unedited token of a mapping of
 * this process that some holder still has open.
 */
export function fromShared<N extends DTypeName = DTypeName>(token: SharedMemmap): MemmapArray<N> {
  const bad = (why: string): MemmapError => new MemmapError('ERR_INVALID_TOKEN', `not a share() token of a live mapping of this process: ${why}`);
  if (typeof token !== 'object' || token === null) throw bad('not an object');
  // Own data properties only: a getter or a polluted prototype cannot supply a field.
  const field = (name: string): unknown => {
    const d = Object.getOwnPropertyDescriptor(token, name);
    return d !== undefined && Object.hasOwn(d, 'value') ? d.value : undefined;
  };
  const id = field('id');
  if (field('type') !== 'memmap.shared' || typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) throw bad('no memmap.shared type or id');
  const given: Omit<SharedMemmap, 'id'> = {
    type: 'memmap.shared',
    filename: field('filename') as SharedMemmap['filename'],
    descr: field('descr') as string,
    shape: field('shape') as number[],
    order: field('order') as Order,
    mode: field('mode') as Mode,
    reportMode: field('reportMode') as Mode | undefined,
    offset: field('offset') as number,
  };
  let meta: string | undefined;
  let mapping: NativeMapping;
  try {
    // A string or bytes, nothing else: Buffer.from() of another object would run its code and read any `length`.
    if (typeof given.filename !== 'string' && !(given.filename instanceof Uint8Array)) throw new TypeError('filename');
    given.filename = typeof given.filename === 'string' || Buffer.isBuffer(given.filename) ? given.filename : Buffer.from(given.filename);
    meta = tokenMeta(given);
  } catch {
    throw bad('fields are not plain data');
  }
  try {
    mapping = new native.Mapping('shared', id);
  } catch (err) {
    if (err instanceof MemmapError) throw err;
    throw bad('unknown id');
  }
  if (mapping.meta !== meta) {
    mapping.close();
    throw bad('its fields do not describe the mapping with this id');
  }
  // Built from what share() recorded, which equals the token.
  const spec: MapSpec = {
    filename: typeof given.filename === 'string' ? given.filename : Buffer.from(given.filename),
    mode: given.mode,
    reportMode: given.reportMode,
    dtype: parseDType(given.descr),
    shape: (JSON.parse(meta as string) as unknown[])[2] as number[], // the own elements tokenMeta() read, not the token's own slice()
    offset: given.offset,
    order: given.order,
    populate: false,
  };
  return new MemmapArray<N>(kInternal, spec, spec.shape as number[], mapping);
}

/** The canonical text of a token's fields (the id aside), as share() stores it. */
function tokenMeta(t: Omit<SharedMemmap, 'id'>): string {
  const filename = typeof t.filename === 'string' ? t.filename : { bytes: Buffer.from(t.filename).toString('hex') };
  if (!Array.isArray(t.shape)) throw new TypeError('shape');
  const shape = Array.from({ length: t.shape.length }, (_, k) => Object.getOwnPropertyDescriptor(t.shape, k)?.value as unknown);
  const plain = (v: unknown): unknown => {
    if (v === undefined || v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'object' && v === filename) return v;
    throw new TypeError('not plain');
  };
  return JSON.stringify([plain(filename), plain(t.descr), shape.map(plain), plain(t.order), plain(t.mode), plain(t.reportMode ?? null), plain(t.offset)]);
}

/**
 * Drops a file's pages from the page cache (fdatasync + posix_fadvise
 * DONTNEED), without root. Pages that are still mapped stay resident: close
 * arrays over the file first. Used for cold-cache benchmarks.
 */
export function evict(file: string | Buffer | URL): void {
  native.evictFile(normalizePath(file));
}

/** The machine's page size in bytes. */
export const pageSize: number = native.pageSize;
