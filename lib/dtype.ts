// The dtype registry (one row per dtype, every per-dtype fact derived from it) and
// dtype parsing: canonical names and numpy's type strings ('<f8', 'f4', '|u1', '?', …).
import { describe, MemmapTypeError } from './errors';
import { isData } from './options';

/** A byte-order prefix of a type code ('' for none). */
type ByteOrderPrefix = '<' | '>' | '=' | '|' | '';

/** A runtime Float16Array type, where the runtime has one (Node 24+ / flag). */
export interface Float16ArrayLike extends ArrayLike<number> {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly BYTES_PER_ELEMENT: 2;
  [index: number]: number;
}

/** A complex element as get() returns it. */
export interface Complex {
  re: number;
  im: number;
}

export type Kind = 'b' | 'i' | 'u' | 'f' | 'c';

/** How one stored scalar is read and written (lib/codec.ts); complex numbers are two. */
export type Scalar = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float16' | 'float32' | 'float64';

export type TypedArrayCtor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => ArrayLike<unknown>;

const Float16ArrayCtor = (globalThis as { Float16Array?: TypedArrayCtor }).Float16Array;

/** True where the runtime has Float16Array, so float16 `data` is a Float16Array (else raw Uint16Array bits). */
export const hasFloat16Array = typeof Float16ArrayCtor === 'function';

interface Row<Names extends readonly string[], Codes extends readonly string[]> {
  /** numpy kind character. */
  kind: Kind;
  itemsize: number;
  /** Names accepted as they are ('float32', 'single'). */
  names: Names;
  /** Type codes accepted with an optional byte-order prefix ('f4', 'f': '<f4', '=f'). */
  codes: Codes;
  scalar: Scalar;
  /** 2 for complex (re, im), else 1. */
  lanes: 1 | 2;
  /** What `data` is: a TypedArray of the scalar (complex interleaved). */
  array: TypedArrayCtor;
}

/** Type-level facts of a row: what `data`, get() and set() use. */
interface Types<Data, Value, Input> {
  data: Data;
  value: Value;
  input: Input;
}

/** A row with its types attached (a phantom field: nothing at run time). */
function row<Data, Value, Input = Value>() {
  return <const N extends readonly string[], const C extends readonly string[]>(r: Row<N, C>): Row<N, C> & { readonly types?: Types<Data, Value, Input> } => Object.freeze(r);
}

/**
 * The dtypes, one row each. Adding a dtype is one row here (plus a codec in
 * lib/codec.ts if its scalar is new) and one line in src-native/dtypes.h;
 * test/registry.test.js checks that the addon's table matches this one.
 * The order is the native element code.
 */
export const DTYPES = Object.freeze({
  bool: row<Uint8Array, boolean, boolean | number>()({ kind: 'b', itemsize: 1, names: ['bool', 'bool_'], codes: ['?', 'b1'], scalar: 'bool', lanes: 1, array: Uint8Array }),
  int8: row<Int8Array, number>()({ kind: 'i', itemsize: 1, names: ['int8', 'byte'], codes: ['i1', 'b'], scalar: 'int8', lanes: 1, array: Int8Array }),
  uint8: row<Uint8Array, number>()({ kind: 'u', itemsize: 1, names: ['uint8', 'ubyte'], codes: ['u1', 'B'], scalar: 'uint8', lanes: 1, array: Uint8Array }),
  int16: row<Int16Array, number>()({ kind: 'i', itemsize: 2, names: ['int16', 'short'], codes: ['i2', 'h'], scalar: 'int16', lanes: 1, array: Int16Array }),
  uint16: row<Uint16Array, number>()({ kind: 'u', itemsize: 2, names: ['uint16', 'ushort'], codes: ['u2', 'H'], scalar: 'uint16', lanes: 1, array: Uint16Array }),
  int32: row<Int32Array, number>()({ kind: 'i', itemsize: 4, names: ['int32', 'intc'], codes: ['i4', 'i'], scalar: 'int32', lanes: 1, array: Int32Array }),
  uint32: row<Uint32Array, number>()({ kind: 'u', itemsize: 4, names: ['uint32', 'uintc'], codes: ['u4', 'I'], scalar: 'uint32', lanes: 1, array: Uint32Array }),
  // intp/'p' are int64 on the 64-bit platforms memmap runs on.
  int64: row<BigInt64Array, bigint, bigint | number>()({
    kind: 'i',
    itemsize: 8,
    names: ['int64', 'int', 'long', 'longlong', 'intp'],
    codes: ['i8', 'q', 'l', 'p'],
    scalar: 'int64',
    lanes: 1,
    array: BigInt64Array,
  }),
  uint64: row<BigUint64Array, bigint, bigint | number>()({
    kind: 'u',
    itemsize: 8,
    names: ['uint64', 'uint', 'ulong', 'ulonglong', 'uintp'],
    codes: ['u8', 'Q', 'L', 'P'],
    scalar: 'uint64',
    lanes: 1,
    array: BigUint64Array,
  }),
  float16: row<Float16ArrayLike | Uint16Array, number>()({ kind: 'f', itemsize: 2, names: ['float16', 'half'], codes: ['f2', 'e'], scalar: 'float16', lanes: 1, array: Float16ArrayCtor ?? Uint16Array }),
  float32: row<Float32Array, number>()({ kind: 'f', itemsize: 4, names: ['float32', 'single'], codes: ['f4', 'f'], scalar: 'float32', lanes: 1, array: Float32Array }),
  float64: row<Float64Array, number>()({ kind: 'f', itemsize: 8, names: ['float64', 'double', 'float'], codes: ['f8', 'd'], scalar: 'float64', lanes: 1, array: Float64Array }),
  complex64: row<Float32Array, Complex, Complex | [number, number] | number>()({ kind: 'c', itemsize: 8, names: ['complex64', 'csingle'], codes: ['c8', 'F'], scalar: 'float32', lanes: 2, array: Float32Array }),
  complex128: row<Float64Array, Complex, Complex | [number, number] | number>()({
    kind: 'c',
    itemsize: 16,
    names: ['complex128', 'cdouble', 'complex'],
    codes: ['c16', 'D'],
    scalar: 'float64',
    lanes: 2,
    array: Float64Array,
  }),
});

type Table = typeof DTYPES;

export type DTypeName = keyof Table;

/** Every string accepted for each dtype, so option types can infer the data type. */
export type DTypeAliases = { [K in DTypeName]: Table[K]['names'][number] | `${ByteOrderPrefix}${Table[K]['codes'][number]}` };

/** Any string memmap accepts as a dtype. */
export type DTypeString = DTypeAliases[DTypeName];

/** The canonical dtype name behind an accepted dtype string. */
export type CanonicalDType<S extends string> = {
  [K in DTypeName]: S extends DTypeAliases[K] ? K : never;
}[DTypeName];

type TypesOf<K extends DTypeName> = NonNullable<Table[K]['types']>;

/** What `data` is for each dtype (complex: interleaved real, imaginary). */
export type DataTypes = { [K in DTypeName]: TypesOf<K>['data'] };

/** What get() returns for each dtype. */
export type ValueTypes = { [K in DTypeName]: TypesOf<K>['value'] };

/** What set() accepts for each dtype. */
export type InputTypes = { [K in DTypeName]: TypesOf<K>['input'] };

/** The native element code of each dtype: its position in DTYPES (and in src-native/dtypes.h). */
export const ELEM_CODES: Readonly<Record<DTypeName, number>> = Object.freeze(Object.fromEntries(Object.keys(DTYPES).map((name, code) => [name, code])) as Record<DTypeName, number>);


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

/** Every accepted name, and every type code without its byte-order prefix, to its dtype. */
const NAMES = new Map<string, DTypeName>();
const CODES = new Map<string, DTypeName>();
for (const name of Object.keys(DTYPES) as DTypeName[]) {
  for (const n of DTYPES[name].names) NAMES.set(n, name);
  for (const c of DTYPES[name].codes) CODES.set(c, name);
}

const cache = new Map<string, DType>();

function make(name: DTypeName, order: string): DType {
  const { kind, itemsize } = DTYPES[name]; // name is a DTypeName: never a user string
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
 * or an object with an own string `descr` (a DType, a MemmapArray).
 * @throws MemmapTypeError ERR_INVALID_DTYPE for anything else (structured,
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
  // Maps, not objects: user strings such as 'constructor' or '__proto__' find nothing.
  let name = NAMES.get(input);
  let order = '=';
  if (!name) {
    const c0 = input[0];
    const prefixed = input.length > 1 && (c0 === '<' || c0 === '>' || c0 === '=' || c0 === '|'); // no String.prototype method: it may be patched
    order = prefixed ? input[0] : '=';
    // numpy reads '|' ("not applicable") on a multi-byte type as native order: '|f4' is '<f4' here
    name = CODES.get(prefixed ? input.slice(1) : input);
  }
  if (!name) {
    throw new MemmapTypeError('ERR_INVALID_DTYPE', `unsupported dtype ${describe(input)}: memmap maps bool, ` +
      'int8..int64, uint8..uint64, float16/32/64 and complex64/128 in either byte order');
  }
  const dt = make(name, order);
  cache.set(input, dt);
  return dt;
}
