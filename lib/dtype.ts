// dtype parsing: canonical names and numpy's type strings ('<f8', 'f4', '|u1', '?', …).
import { describe, MemmapTypeError } from './errors';
import { isData } from './options';

export type DTypeName =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'complex64'
  | 'complex128';

type Order = '<' | '>' | '=' | '|' | '';

/** Every string accepted for each dtype, so option types can infer the data type. */
export interface DTypeAliases {
  bool: 'bool' | 'bool_' | '?' | `${Order}?` | `${Order}b1`;
  int8: 'int8' | 'byte' | 'b' | `${Order}i1` | `${Order}b`;
  uint8: 'uint8' | 'ubyte' | 'B' | `${Order}u1` | `${Order}B`;
  int16: 'int16' | 'short' | 'h' | `${Order}i2` | `${Order}h`;
  uint16: 'uint16' | 'ushort' | 'H' | `${Order}u2` | `${Order}H`;
  int32: 'int32' | 'intc' | 'i' | `${Order}i4` | `${Order}i`;
  uint32: 'uint32' | 'uintc' | 'I' | `${Order}u4` | `${Order}I`;
  int64: 'int64' | 'int' | 'long' | 'longlong' | 'intp' | 'q' | 'l' | 'p' | `${Order}i8` | `${Order}q` | `${Order}l` | `${Order}p`;
  uint64: 'uint64' | 'uint' | 'ulong' | 'ulonglong' | 'uintp' | 'Q' | 'L' | 'P' | `${Order}u8` | `${Order}Q` | `${Order}L` | `${Order}P`;
  float16: 'float16' | 'half' | 'e' | `${Order}f2` | `${Order}e`;
  float32: 'float32' | 'single' | 'f' | `${Order}f4` | `${Order}f`;
  float64: 'float64' | 'double' | 'float' | 'd' | `${Order}f8` | `${Order}d`;
  complex64: 'complex64' | 'csingle' | 'F' | `${Order}c8` | `${Order}F`;
  complex128: 'complex128' | 'cdouble' | 'complex' | 'D' | `${Order}c16` | `${Order}D`;
}

/** Any string memmap accepts as a dtype. */
export type DTypeString = DTypeAliases[DTypeName];

/** The canonical dtype name behind an accepted dtype string. */
export type CanonicalDType<S extends string> = {
  [K in DTypeName]: S extends DTypeAliases[K] ? K : never;
}[DTypeName];

/** A runtime Float16Array type, where the runtime has one (Node 24+ / flag). */
export interface Float16ArrayLike extends ArrayLike<number> {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly BYTES_PER_ELEMENT: 2;
  [index: number]: number;
}

/** What `data` is for each dtype (complex: interleaved real, imaginary). */
export interface DataTypes {
  bool: Uint8Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  float16: Float16ArrayLike | Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  complex64: Float32Array;
  complex128: Float64Array;
}

/** A complex element as get() returns it. */
export interface Complex {
  re: number;
  im: number;
}

/** What get() returns for each dtype. */
export interface ValueTypes {
  bool: boolean;
  int8: number;
  uint8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: bigint;
  uint64: bigint;
  float16: number;
  float32: number;
  float64: number;
  complex64: Complex;
  complex128: Complex;
}

/** What set() accepts for each dtype. */
export interface InputTypes extends Omit<ValueTypes, 'bool' | 'int64' | 'uint64' | 'complex64' | 'complex128'> {
  bool: boolean | number;
  int64: bigint | number;
  uint64: bigint | number;
  complex64: Complex | [number, number] | number;
  complex128: Complex | [number, number] | number;
}

export type Kind = 'b' | 'i' | 'u' | 'f' | 'c';

/** A parsed dtype. */
export interface DType {
  /** Canonical name, e.g. 'float32'. */
  readonly name: DTypeName;
  /** numpy kind character. */
  readonly kind: Kind;
  /** Bytes per element. */
  readonly itemsize: number;
  /** '<' little-endian, '>' big-endian, '|' not applicable (one byte). */
  readonly byteOrder: '<' | '>' | '|';
  /** True when the bytes are in this machine's order (or one byte wide). */
  readonly isNative: boolean;
  /** numpy's `dtype.str`, e.g. '<f4', '|b1', '>i8'. */
  readonly descr: string;
}

export const MACHINE_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const BY_CODE: Record<string, DTypeName> = {
  b1: 'bool',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  c8: 'complex64',
  c16: 'complex128',
};

const CHARS: Record<string, DTypeName> = {
  '?': 'bool',
  b: 'int8',
  B: 'uint8',
  h: 'int16',
  H: 'uint16',
  i: 'int32',
  I: 'uint32',
  l: 'int64',
  L: 'uint64',
  q: 'int64',
  Q: 'uint64',
  p: 'int64', // intp on 64-bit platforms
  P: 'uint64',
  e: 'float16',
  f: 'float32',
  d: 'float64',
  F: 'complex64',
  D: 'complex128',
};

const NAMES: Record<string, DTypeName> = {
  bool: 'bool',
  bool_: 'bool',
  int8: 'int8',
  byte: 'int8',
  uint8: 'uint8',
  ubyte: 'uint8',
  int16: 'int16',
  short: 'int16',
  uint16: 'uint16',
  ushort: 'uint16',
  int32: 'int32',
  intc: 'int32',
  uint32: 'uint32',
  uintc: 'uint32',
  int64: 'int64',
  int: 'int64',
  long: 'int64',
  longlong: 'int64',
  intp: 'int64',
  uint64: 'uint64',
  uint: 'uint64',
  ulong: 'uint64',
  ulonglong: 'uint64',
  uintp: 'uint64',
  float16: 'float16',
  half: 'float16',
  float32: 'float32',
  single: 'float32',
  float64: 'float64',
  double: 'float64',
  float: 'float64',
  complex64: 'complex64',
  csingle: 'complex64',
  complex128: 'complex128',
  cdouble: 'complex128',
  complex: 'complex128',
};

const INFO: Record<DTypeName, { kind: Kind; itemsize: number }> = {
  bool: { kind: 'b', itemsize: 1 },
  int8: { kind: 'i', itemsize: 1 },
  uint8: { kind: 'u', itemsize: 1 },
  int16: { kind: 'i', itemsize: 2 },
  uint16: { kind: 'u', itemsize: 2 },
  int32: { kind: 'i', itemsize: 4 },
  uint32: { kind: 'u', itemsize: 4 },
  int64: { kind: 'i', itemsize: 8 },
  uint64: { kind: 'u', itemsize: 8 },
  float16: { kind: 'f', itemsize: 2 },
  float32: { kind: 'f', itemsize: 4 },
  float64: { kind: 'f', itemsize: 8 },
  complex64: { kind: 'c', itemsize: 8 },
  complex128: { kind: 'c', itemsize: 16 },
};

/** table[key] for an own key only: user strings such as 'constructor' or '__proto__' find nothing. */
function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const cache = new Map<string, DType>();

function make(name: DTypeName, order: string): DType {
  const { kind, itemsize } = INFO[name]; // name is a DTypeName: never a user string
  const native = MACHINE_LITTLE_ENDIAN ? '<' : '>';
  let byteOrder: '<' | '>' | '|';
  if (itemsize === 1) byteOrder = '|';
  else if (order === '<' || order === '>') byteOrder = order;
  else byteOrder = native;
  const descr = `${byteOrder}${kind}${itemsize}`;
  return Object.freeze({ name, kind, itemsize, byteOrder, isNative: byteOrder === '|' || byteOrder === native, descr });
}

/**
 * The string `descr` of a dtype object (a parsed DType, a MemmapArray, an
 * NpyHeader): an own data property only, read without running any getter;
 * undefined if there is none. A Proxy whose trap throws is ERR_INVALID_DTYPE.
 */
function ownDescr(input: object): string | undefined {
  let desc: PropertyDescriptor | undefined;
  try {
    desc = Reflect.getOwnPropertyDescriptor(input, 'descr');
  } catch (err) {
    throw new MemmapTypeError('ERR_INVALID_DTYPE', 'dtype object cannot be read: reading its descr threw', { cause: err });
  }
  return desc !== undefined && isData(desc) && typeof desc.value === 'string' ? desc.value : undefined;
}

/**
 * Parses a dtype given as a canonical name ('float32'), a numpy type string
 * ('<f8', 'f4', '|u1', '=i2', '>i4', '<c16', '?'), a type character ('d'),
 * or an object with an own string `descr` (a DType, a MemmapArray). Throws MemmapTypeError ERR_INVALID_DTYPE for anything else (structured,
 * object, string, datetime and void dtypes included).
 */
export function parseDType(input: unknown): DType {
  if (typeof input === 'object' && input !== null) {
    const descr = ownDescr(input);
    if (descr !== undefined) return parseDType(descr);
  }
  if (typeof input !== 'string') {
    throw new MemmapTypeError('ERR_INVALID_DTYPE', `dtype must be a string such as 'float32' or '<f4', got ${describe(input)}`);
  }
  const hit = cache.get(input);
  if (hit) return hit;
  let name: DTypeName | undefined = lookup(NAMES, input);
  let order = '=';
  if (!name) {
    const m = /^([<>=|]?)([a-zA-Z?])(\d*)$/.exec(input);
    if (m) {
      order = m[1] || '=';
      name = m[3] ? lookup(BY_CODE, m[2] + m[3]) : lookup(CHARS, m[2]);
      // numpy reads '|' ("not applicable") on a multi-byte type as native order: '|f4' is '<f4' here
    }
  }
  if (!name) {
    throw new MemmapTypeError('ERR_INVALID_DTYPE', `unsupported dtype ${describe(input)}: memmap maps bool, ` +
      'int8..int64, uint8..uint64, float16/32/64 and complex64/128 in either byte order');
  }
  const dt = make(name, order);
  cache.set(input, dt);
  return dt;
}
