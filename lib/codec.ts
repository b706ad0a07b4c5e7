// Element values: reading and writing one element of any dtype at a byte of a
// DataView, with numpy's conversions and range checks. Used by get()/set(),
// the ndarray adapter and anything else that touches single elements.
import { type DType, DTYPES, type DTypeName, type Scalar } from './dtype';
import { MemmapRangeError, MemmapTypeError } from './errors';
import { halfToNumber, numberToHalf } from './float16';

export type Reader = (view: DataView, byte: number) => unknown;
/** Stores `value` (checked and converted as numpy would) at `byte`. */
export type Writer = (view: DataView, byte: number, value: unknown) => void;

export interface Codec {
  read: Reader;
  write: Writer;
}

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

function bigIntCodec(name: DTypeName, signed: boolean, le: boolean): Codec {
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
      } else if (typeof x === 'boolean') n = x ? 1n : 0n;
      else throw new MemmapTypeError('ERR_INVALID_VALUE', `${name} value must be a bigint or a number`);
      if (n < min || n > max) throw new MemmapRangeError('ERR_OUT_OF_RANGE', `${n} is out of bounds for ${name}`);
      if (signed) v.setBigInt64(b, n, le);
      else v.setBigUint64(b, n, le);
    },
  };
}

/** A number for a float element: numbers, bigints and booleans, as numpy's float(). */
export function toFloat(name: DTypeName, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return Number(value);
  throw new MemmapTypeError('ERR_INVALID_VALUE', `${name} value must be a number`);
}

/**
 * [re, im] of a complex value: {re, im} (each getter read once), [re, im], or
 * a real number. Convert before choosing a view: getters may run user code.
 */
export function toComplex(name: DTypeName, value: unknown): [number, number] {
  if (Array.isArray(value) && value.length === 2) return [toFloat(name, value[0]), toFloat(name, value[1])];
  if (typeof value === 'object' && value !== null && 're' in value) {
    const c = value as { re: unknown; im?: unknown };
    const re = c.re;
    const im = c.im; // each getter runs once
    return [toFloat(name, re), im === undefined ? 0 : toFloat(name, im)];
  }
  return [toFloat(name, value), 0];
}

/** The codec of one scalar: `name` for messages, `le` its byte order. */
function scalarCodec(scalar: Scalar, name: DTypeName, le: boolean): Codec {
  switch (scalar) {
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
      return bigIntCodec(name, true, le);
    case 'uint64':
      return bigIntCodec(name, false, le);
    case 'float16':
      return { read: (v, b) => halfToNumber(v.getUint16(b, le)), write: (v, b, x) => v.setUint16(b, numberToHalf(toFloat(name, x)), le) };
    case 'float32':
      return { read: (v, b) => v.getFloat32(b, le), write: (v, b, x) => v.setFloat32(b, toFloat(name, x), le) };
    case 'float64':
      return { read: (v, b) => v.getFloat64(b, le), write: (v, b, x) => v.setFloat64(b, toFloat(name, x), le) };
  }
}

/** Element codec of a dtype: complex numbers are two scalars, read as {re, im}. */
export function codecOf(dt: DType): Codec {
  const { scalar, lanes } = DTYPES[dt.name];
  const part = scalarCodec(scalar, dt.name, dt.byteOrder !== '>');
  if (lanes === 1) return part;
  const half = dt.itemsize / 2;
  return {
    read: (v, b) => ({ re: part.read(v, b), im: part.read(v, b + half) }),
    write: (v, b, x) => {
      const [re, im] = toComplex(dt.name, x);
      part.write(v, b, re);
      part.write(v, b + half, im);
    },
  };
}

/** The codec of one component (re or im) of a complex dtype: its scalar as a float. */
export function partCodecOf(dt: DType): Codec {
  return scalarCodec(DTYPES[dt.name].scalar, dt.name, dt.byteOrder !== '>');
}
