// numpy .npy files: header parsing and writing byte-compatible with
// numpy.lib.format, and mapping the data with mapFile().
import * as fs from 'node:fs';
import { native } from './binding';
import { type CanonicalDType, type DType, type DTypeName, type DTypeString, parseDType } from './dtype';
import { describe, fsError as osFsError, MemmapError, type MemmapErrorCode, MemmapRangeError, MemmapTypeError } from './errors';
import { checkNumpySize, isTooBigForNumpy, MAX_DIMS, normalizeShape, sizeOf } from './layout';
import type { MemmapArray } from './array';
import { tupleRepr } from './format';
import { mapArray } from './memmap';
import { MODE_CODES, type ModeInput } from './modes';
import { absoluteName, displayPath, type FilePath, normalizePath } from './paths';
import { appendOwn, normalizeMode, ownArrayItems, readOptions } from './options';
import { parsePyLiteral, PyLiteralError, type PyValue } from './pyliteral';

/** A .npy format version, [major, minor]. */
export type NpyVersion = readonly [1, 0] | readonly [2, 0] | readonly [3, 0];

/** What readNpyHeader() returns. */
export interface NpyHeader {
  /** Format version of the file, e.g. [1, 0]. */
  version: [number, number];
  /** Canonical dtype name, e.g. 'float32'. */
  dtype: DTypeName;
  /** numpy's dtype string with byte order, e.g. '<f4' (normalised; the file may spell it 'f4' or 'float32'). */
  descr: string;
  shape: number[];
  fortranOrder: boolean;
  /** Byte offset of the first element in the file. */
  dataOffset: number;
  /** Bytes of array data the header describes (size * itemsize). */
  byteLength: number;
}

export interface ReadNpyHeaderOptions {
  /** Largest header (in characters, as numpy counts) to parse. Default 10000, as numpy. */
  maxHeaderSize?: number;
}

export interface OpenNpyOptions<D extends DTypeString = DTypeString> extends ReadNpyHeaderOptions {
  /** 'r' (default), 'r+', 'c' open an existing file; 'w+' creates (or truncates) one. */
  mode?: ModeInput;
  /**
   * Element type: required for 'w+'; in the other modes, the dtype the file
   * must have (ERR_DTYPE_MISMATCH otherwise; a byte order is compared only
   * when given, as in '>f4'), which also types the result.
   */
  dtype?: D;
  /** Dimensions: required for 'w+'; in the other modes, the shape the file must have (ERR_SHAPE_MISMATCH otherwise). */
  shape?: number | readonly number[];
  /** Column-major layout for 'w+'. Default false. */
  fortranOrder?: boolean;
  /** Format version for 'w+'. Default: 1.0, or 2.0 if the header does not fit 1.0 (as numpy). */
  version?: readonly [number, number];
  /** Pre-fault every page at open (MAP_POPULATE on Linux). Default false. */
  populate?: boolean;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const MAGIC_LEN = MAGIC.length + 2;
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;
/** numpy's default max_header_size. */
export const DEFAULT_MAX_HEADER_SIZE = 10000;

type VersionKey = '1.0' | '2.0' | '3.0';
const LENGTH_BYTES: Record<VersionKey, number> = { '1.0': 2, '2.0': 4, '3.0': 4 };

function versionKey(major: number, minor: number): VersionKey | undefined {
  const key = `${major}.${minor}`;
  return Object.hasOwn(LENGTH_BYTES, key) ? (key as VersionKey) : undefined;
}

function npyError(code: MemmapErrorCode, message: string, file: FilePath): MemmapError {
  return new MemmapError(code, message, { path: displayPath(file) });
}

function fsError(err: unknown, file: FilePath): MemmapError {
  return osFsError(err, displayPath(file));
}

function readAt(fd: number, length: number, position: number, file: FilePath): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, done, length - done, position + done);
    } catch (err) {
      throw fsError(err, file);
    }
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

function snippet(text: string): string {
  const t = text.trimEnd();
  return JSON.stringify(t.length > 80 ? t.slice(0, 77) + '...' : t);
}

function describeDescr(v: PyValue): string {
  switch (v.type) {
    case 'str':
      return JSON.stringify(v.value);
    case 'list':
      return `[${v.items.map(describeDescr).join(', ')}]`;
    case 'tuple':
      return `(${v.items.map(describeDescr).join(', ')})`;
    case 'int':
      return String(v.value);
    default:
      return v.type;
  }
}

// What a numpy type string we cannot map is, for the error message.
function unsupportedKind(descr: string): string {
  const m = /^[<>=|]?([a-zA-Z?])/.exec(descr);
  const c = m ? m[1] : '';
  if (c === 'S' || c === 'a') return 'byte string';
  if (c === 'U') return 'unicode string';
  if (c === 'O') return 'Python object';
  if (c === 'M' || c === 'm') return 'datetime/timedelta';
  if (c === 'V') return 'void (raw bytes or structured)';
  if (c === 'f' || c === 'c' || c === 'g' || c === 'G') return 'extended precision float';
  return 'unknown or unsupported';
}

function toDType(v: PyValue, file: FilePath): DType {
  if (v.type === 'list') {
    throw npyError('ERR_NPY_DTYPE', `${file}: structured dtype ${describeDescr(v)} cannot be mapped; memmap maps bool, int, uint, float and complex arrays`, file);
  }
  if (v.type === 'tuple') {
    throw npyError('ERR_NPY_DTYPE', `${file}: sub-array dtype ${describeDescr(v)} cannot be mapped`, file);
  }
  if (v.type !== 'str') throw npyError('ERR_NPY_HEADER', `${file}: descr is not a valid dtype descriptor: ${describeDescr(v)}`, file);
  const descr = v.value;
  try {
    return parseDType(descr);
  } catch {
    // refused below, naming the dtype
  }
  throw npyError('ERR_NPY_DTYPE', `${file}: dtype ${JSON.stringify(descr)} (${unsupportedKind(descr)}) cannot be mapped; memmap maps bool, int8..int64, uint8..uint64, float16/32/64 and complex64/128`, file);
}

/** Parses the header text (the dict literal) into dtype, shape and order, as numpy's _read_array_header. */
function interpretHeader(text: string, version: VersionKey, file: FilePath): { dtype: DType; shape: number[]; fortranOrder: boolean } {
  let d: PyValue;
  try {
    d = parsePyLiteral(text, { numpyRetry: version !== '3.0' });
  } catch (err) {
    if (!(err instanceof PyLiteralError)) throw err;
    throw npyError('ERR_NPY_HEADER', `${file}: cannot parse .npy header (${err.message} at character ${err.pos}): ${snippet(text)}`, file);
  }
  if (d.type !== 'dict') throw npyError('ERR_NPY_HEADER', `${file}: .npy header is not a dictionary: ${snippet(text)}`, file);
  // Loops, not Array.prototype methods: a caller may have patched those (the parser builds no holes either).
  const entries = new Map<string, PyValue>();
  let badKey = false;
  for (let i = 0; i < d.keys.length; i++) {
    const k = d.keys[i];
    if (k.type === 'str') entries.set(k.value, d.values[i]);
    else badKey = true;
  }
  const exact = entries.size === 3 && entries.has('descr') && entries.has('fortran_order') && entries.has('shape');
  if (badKey || !exact) {
    throw npyError('ERR_NPY_HEADER', `${file}: .npy header must have exactly the keys descr, fortran_order and shape; got ${snippet(text)}`, file);
  }
  const shapeV = entries.get('shape') as PyValue;
  if (shapeV.type !== 'tuple') throw npyError('ERR_NPY_HEADER', `${file}: shape is not a tuple of non-negative integers: ${snippet(text)}`, file);
  const shape: number[] = [];
  for (let i = 0; i < shapeV.items.length; i++) {
    const x = shapeV.items[i];
    if (x.type !== 'int' || x.value < 0n) throw npyError('ERR_NPY_HEADER', `${file}: shape is not a tuple of non-negative integers: ${snippet(text)}`, file);
    appendOwn(shape, Number(x.value));
  }
  for (let i = 0; i < shapeV.items.length; i++) {
    if ((shapeV.items[i] as { value: bigint }).value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw npyError('ERR_NPY_HEADER', `${file}: a shape dimension exceeds 2^53 - 1, the largest exact integer in JavaScript: ${snippet(text)}`, file);
    }
  }
  const fo = entries.get('fortran_order') as PyValue;
  if (fo.type !== 'bool') throw npyError('ERR_NPY_HEADER', `${file}: fortran_order is not a valid bool: ${snippet(text)}`, file);
  const dtype = toDType(entries.get('descr') as PyValue, file);
  // numpy cannot make an array of this header either: np.load() fails.
  if (shape.length > MAX_DIMS) {
    throw npyError('ERR_NPY_HEADER', `${file}: shape has ${shape.length} dimensions; numpy arrays have at most ${MAX_DIMS}`, file);
  }
  if (isTooBigForNumpy(shape, dtype.itemsize)) {
    throw npyError('ERR_NPY_HEADER', `${file}: shape (${shape.join(', ')}) of ${dtype.descr} is too big: its non-zero dimensions times the itemsize exceed 2^63 - 1 bytes, as numpy refuses`, file);
  }
  return { dtype, shape, fortranOrder: fo.value };
}

function checkMaxHeaderSize(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_HEADER_SIZE;
  if (typeof value !== 'number' || Number.isNaN(value) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `maxHeaderSize must be an integer, got ${describe(value)}`);
  }
  if (value < 0) throw new MemmapRangeError('ERR_INVALID_ARG_VALUE', `maxHeaderSize must be non-negative, got ${value}`);
  return value;
}

/** Reads and validates the header of an open file: reads only header bytes, never the data. */
function readHeaderFd(fd: number, fileSize: number, file: FilePath, maxHeaderSize: number): NpyHeader {
  const head = readAt(fd, Math.min(fileSize, MAGIC_LEN + 4), 0, file);
  const prefix = head.subarray(0, Math.min(head.length, MAGIC.length));
  if (!prefix.equals(MAGIC.subarray(0, prefix.length))) {
    throw npyError('ERR_NPY_BAD_MAGIC', `${file} is not a .npy file: it does not start with \\x93NUMPY`, file);
  }
  if (head.length < MAGIC_LEN) throw npyError('ERR_NPY_TRUNCATED', `${file} is truncated: ${head.length} bytes, shorter than the .npy magic string`, file);
  const [major, minor] = [head[6], head[7]];
  const version = versionKey(major, minor);
  if (!version) throw npyError('ERR_NPY_VERSION', `${file}: unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`, file);
  const lenBytes = LENGTH_BYTES[version];
  if (head.length < MAGIC_LEN + lenBytes) throw npyError('ERR_NPY_TRUNCATED', `${file} is truncated inside the header length field`, file);
  const headerLength = lenBytes === 2 ? head.readUInt16LE(MAGIC_LEN) : head.readUInt32LE(MAGIC_LEN);
  const dataOffset = MAGIC_LEN + lenBytes + headerLength;
  if (dataOffset > fileSize) {
    throw npyError('ERR_NPY_TRUNCATED', `${file} is truncated: the header says it is ${headerLength} bytes but the file has ${fileSize - MAGIC_LEN - lenBytes} after the length field`, file);
  }
  const tooLarge = (chars: number | string): MemmapError =>
    npyError('ERR_NPY_HEADER_TOO_LARGE', `${file}: .npy header of ${chars} characters exceeds maxHeaderSize ${maxHeaderSize} (raise maxHeaderSize if you trust the file)`, file);
  // latin1: one character per byte; utf8: at least one per 4 bytes. Refuse before reading when we can.
  if (headerLength > (version === '3.0' ? 4 * maxHeaderSize : maxHeaderSize)) throw tooLarge(version === '3.0' ? `over ${maxHeaderSize}` : headerLength);
  const raw = readAt(fd, headerLength, MAGIC_LEN + lenBytes, file);
  if (raw.length < headerLength) throw npyError('ERR_NPY_TRUNCATED', `${file} is truncated inside the header`, file);
  let text: string;
  if (version === '3.0') {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      throw npyError('ERR_NPY_HEADER', `${file}: .npy 3.0 header is not valid UTF-8`, file);
    }
    let chars = 0;
    for (const _ of text) chars++;
    if (chars > maxHeaderSize) throw tooLarge(chars);
  } else {
    text = raw.toString('latin1');
  }
  const { dtype, shape, fortranOrder } = interpretHeader(text, version, file);
  const size = shape.reduce((a, b) => a * b, 1);
  const byteLength = size * dtype.itemsize;
  if (!Number.isSafeInteger(dataOffset + byteLength)) throw npyError('ERR_NPY_HEADER', `${file}: shape (${shape.join(', ')}) has too many elements`, file);
  return { version: [major, minor], dtype: dtype.name, descr: dtype.descr, shape, fortranOrder, dataOffset, byteLength };
}

/**
 * Reads a .npy file's header (and only the header) like numpy's reader:
 * versions 1.0/2.0/3.0, any padding, quote style and key order.
 * @throws ERR_NPY_BAD_MAGIC, ERR_NPY_VERSION, ERR_NPY_HEADER, ERR_NPY_HEADER_TOO_LARGE, ERR_NPY_TRUNCATED for malformed
 * files; ERR_NPY_DTYPE for dtypes memmap cannot map; ERR_UNKNOWN_OPTION; the errno name (ENOENT, …) when the OS refuses.
 */
export function readNpyHeader(file: string | Buffer | URL, options: ReadNpyHeaderOptions = {}): NpyHeader {
  const o = readOptions(options, ['maxHeaderSize'], 'readNpyHeader()');
  const osPath = normalizePath(file);
  const filename = absoluteName(osPath);
  const maxHeaderSize = checkMaxHeaderSize(o.maxHeaderSize);
  const opened = native.openFile(osPath, MODE_CODES.r);
  const fd = opened[0];
  const fileSize = opened[1];
  try {
    return readHeaderFd(fd, fileSize, filename, maxHeaderSize);
  } finally {
    native.closeFile(fd);
  }
}

/** The header's dict, as numpy writes it (sorted keys, trailing comma). */
function headerDict(descr: string, shape: readonly number[], fortranOrder: boolean): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${pyRepr(shape)}, }`;
}

/** Magic, version, length field, `text`, space padding and a newline: `total` bytes after the length field. */
function frameHeader(text: string, v: VersionKey, total: number): Buffer {
  const lenBytes = LENGTH_BYTES[v];
  const out = Buffer.alloc(MAGIC_LEN + lenBytes + total, 0x20);
  MAGIC.copy(out, 0);
  out[6] = Number(v[0]);
  out[7] = 0;
  if (lenBytes === 2) out.writeUInt16LE(total, MAGIC_LEN);
  else out.writeUInt32LE(total, MAGIC_LEN);
  out.write(text, MAGIC_LEN + lenBytes, 'latin1'); // the dict repr is ASCII: latin1 and utf8 agree
  out[out.length - 1] = 0x0a;
  return out;
}

/**
 * For resize(): the header of a file with `descr` and order, at `shape`, in exactly `length` bytes (the data stays where
 * it is), in the file's format version.
 * @throws ERR_NPY_HEADER_TOO_LARGE when the shape's text does not fit the header's padding.
 */
function resizedHeader(descr: string, fortranOrder: boolean, v: VersionKey, length: number, file: FilePath): (shape: readonly number[]) => Buffer {
  return (shape) => {
    const text = headerDict(descr, shape, fortranOrder);
    const total = length - MAGIC_LEN - LENGTH_BYTES[v];
    if (text.length + 1 > total) {
      throw npyError('ERR_NPY_HEADER_TOO_LARGE', `${file}: the header for shape ${pyRepr(shape)} needs ${text.length + 1} bytes, the file's header has ${total}; resize() does not move the data`, file);
    }
    return frameHeader(text, v, total);
  };
}

function pyRepr(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * The header numpy writes (np.save / open_memmap) for this dtype, shape and
 * order: sorted dict repr, GROWTH_AXIS_MAX_DIGITS spare spaces, space padding
 * to a 64-byte boundary and a final newline. Version 1.0 unless it needs 2.0.
 */
export function formatNpyHeader(descr: string, shape: readonly number[], fortranOrder: boolean, version?: readonly [number, number]): Buffer {
  let header = headerDict(descr, shape, fortranOrder);
  if (shape.length > 0) {
    const growth = String(shape[fortranOrder ? shape.length - 1 : 0]);
    header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - growth.length));
  }
  const wrap = (v: VersionKey): Buffer | undefined => {
    const lenBytes = LENGTH_BYTES[v];
    const hlen = header.length + 1;
    const padlen = ARRAY_ALIGN - ((MAGIC_LEN + lenBytes + hlen) % ARRAY_ALIGN);
    const total = hlen + padlen;
    return total >= 2 ** (8 * lenBytes) ? undefined : frameHeader(header, v, total);
  };
  if (version === undefined) return (wrap('1.0') ?? wrap('2.0')) as Buffer;
  const v = ownArrayItems(version, 'version', 2, 'ERR_NPY_VERSION', true);
  const key = v !== undefined && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number' ? versionKey(v[0], v[1]) : undefined;
  if (!key) {
    let got = describe(version);
    if (v !== undefined) {
      got = '[';
      for (let i = 0; i < v.length; i++) got += (i > 0 ? ', ' : '') + describe(v[i]);
      got += ']';
    }
    throw new MemmapRangeError('ERR_NPY_VERSION', `version must be [1, 0], [2, 0] or [3, 0], got ${got}`);
  }
  const out = wrap(key);
  if (!out) throw new MemmapRangeError('ERR_NPY_HEADER_TOO_LARGE', `header of ${header.length + 1} bytes is too big for version ${key}`);
  return out;
}

const OPEN_NPY_OPTIONS = ['mode', 'dtype', 'shape', 'fortranOrder', 'version', 'maxHeaderSize', 'populate'] as const;

/**
 * Opens a .npy file as a memory-mapped array, like
 * `np.load(file, mmap_mode=mode)` / `np.lib.format.open_memmap`. In mode
 * 'w+' it writes numpy's header for `dtype`, `shape` and `fortranOrder`
 * (byte-identical to np.save), sizes the file and returns an array in mode 'r+'.
 * @throws as readNpyHeader() for the file; ERR_DTYPE_REQUIRED, ERR_SHAPE_REQUIRED, ERR_INVALID_SHAPE, ERR_INVALID_MODE,
 * ERR_NPY_VERSION for bad 'w+' options; ERR_FILE_TOO_SHORT; the errno name when the OS refuses.
 */
export function openNpy<D extends DTypeString>(
  file: string | Buffer | URL,
  options: OpenNpyOptions<D> & { dtype: D },
): MemmapArray<CanonicalDType<D>>;
export function openNpy(file: string | Buffer | URL, options?: OpenNpyOptions): MemmapArray;
export function openNpy(file: string | Buffer | URL, options: OpenNpyOptions = {}): MemmapArray {
  const o = readOptions(options, OPEN_NPY_OPTIONS, 'openNpy()');
  const osPath = normalizePath(file);
  const filename = absoluteName(osPath);
  const mode = normalizeMode(o.mode);
  const populate = Boolean(o.populate);
  const maxHeaderSize = checkMaxHeaderSize(o.maxHeaderSize);
  if (mode === 'w+') {
    if (o.dtype === undefined) throw new MemmapTypeError('ERR_DTYPE_REQUIRED', "dtype is required for mode 'w+'");
    if (o.shape === undefined) throw new MemmapTypeError('ERR_SHAPE_REQUIRED', "shape is required for mode 'w+'");
    const dtype = parseDType(o.dtype);
    const shape = normalizeShape(o.shape);
    checkNumpySize(shape, dtype.itemsize);
    if (o.fortranOrder !== undefined && typeof o.fortranOrder !== 'boolean') {
      throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `fortranOrder must be a boolean, got ${describe(o.fortranOrder)}`);
    }
    const fortranOrder = o.fortranOrder === true;
    // Everything is validated before the file is created or truncated.
    const header = formatNpyHeader(dtype.descr, shape, fortranOrder, o.version as readonly [number, number] | undefined);
    if (!Number.isSafeInteger(header.length + sizeOf(shape) * dtype.itemsize)) {
      throw new MemmapRangeError('ERR_INVALID_SHAPE', 'shape has too many bytes');
    }
    const fd = native.openFile(osPath, MODE_CODES['w+'])[0];
    try {
      try {
        fs.writeSync(fd, header, 0, header.length, 0);
      } catch (err) {
        throw fsError(err, filename);
      }
      // Sized before it is mapped: if mapping then fails (ENOMEM), the file is still a complete .npy of zeros.
      native.resizeFile(fd, header.length + sizeOf(shape) * dtype.itemsize, displayPath(filename));
    } finally {
      native.closeFile(fd);
    }
    // As numpy: the header is written, so the data is mapped read-write ('r+' grows the file).
    const written = versionKey(header[6], 0) as VersionKey;
    const spec = { filename, osPath, mode: 'r+' as const, dtype, shape, offset: header.length, order: fortranOrder ? ('F' as const) : ('C' as const), populate };
    return mapArray(spec, resizedHeader(dtype.descr, fortranOrder, written, header.length, filename));
  }
  // What the caller says the file holds, checked before anything is opened.
  const wantDType = o.dtype === undefined ? undefined : parseDType(o.dtype);
  const wantShape = o.shape === undefined ? undefined : normalizeShape(o.shape);
  const opened = native.openFile(osPath, MODE_CODES.r);
  const fd = opened[0];
  const fileSize = opened[1];
  let h: NpyHeader;
  try {
    h = readHeaderFd(fd, fileSize, filename, maxHeaderSize);
  } finally {
    native.closeFile(fd);
  }
  if (wantDType !== undefined) {
    const explicitOrder = typeof o.dtype === 'string' && /^[<>]/.test(o.dtype) && wantDType.itemsize > 1;
    if (wantDType.name !== h.dtype || (explicitOrder && wantDType.descr !== h.descr)) {
      throw npyError('ERR_DTYPE_MISMATCH', `${filename} holds ${h.descr} (${h.dtype}), not the ${explicitOrder ? wantDType.descr : wantDType.name} asked for`, filename);
    }
  }
  if (wantShape !== undefined && (wantShape.length !== h.shape.length || wantShape.some((n, i) => n !== h.shape[i]))) {
    throw npyError('ERR_SHAPE_MISMATCH', `${filename} has shape ${tupleRepr(h.shape)}, not the ${tupleRepr(wantShape)} asked for`, filename);
  }
  if ((mode === 'r' || mode === 'c') && fileSize < h.dataOffset + h.byteLength) {
    throw npyError('ERR_NPY_TRUNCATED', `${filename} is truncated: the header describes ${h.byteLength} bytes of data at offset ${h.dataOffset}, the file has ${fileSize - h.dataOffset}`, filename);
  }
  const spec = { filename, osPath, mode, dtype: parseDType(h.descr), shape: h.shape, offset: h.dataOffset, order: h.fortranOrder ? ('F' as const) : ('C' as const), populate };
  return mapArray(spec, resizedHeader(h.descr, h.fortranOrder, versionKey(h.version[0], h.version[1]) as VersionKey, h.dataOffset, filename));
}
