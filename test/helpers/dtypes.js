'use strict';
// The one list of the dtypes memmap supports, for every test that iterates
// dtypes: numpy's type code, memmap's name, kind, itemsize, and the
// TypedArray behind `data` in native byte order (complex: interleaved
// re, im; float16 without Float16Array: raw bits).
const { hasFloat16Array } = require('../..');

const DTYPES = [
  { code: 'b1', name: 'bool', kind: 'b', itemsize: 1, TypedArray: Uint8Array },
  { code: 'i1', name: 'int8', kind: 'i', itemsize: 1, TypedArray: Int8Array },
  { code: 'u1', name: 'uint8', kind: 'u', itemsize: 1, TypedArray: Uint8Array },
  { code: 'i2', name: 'int16', kind: 'i', itemsize: 2, TypedArray: Int16Array },
  { code: 'u2', name: 'uint16', kind: 'u', itemsize: 2, TypedArray: Uint16Array },
  { code: 'i4', name: 'int32', kind: 'i', itemsize: 4, TypedArray: Int32Array },
  { code: 'u4', name: 'uint32', kind: 'u', itemsize: 4, TypedArray: Uint32Array },
  { code: 'i8', name: 'int64', kind: 'i', itemsize: 8, TypedArray: BigInt64Array },
  { code: 'u8', name: 'uint64', kind: 'u', itemsize: 8, TypedArray: BigUint64Array },
  { code: 'f2', name: 'float16', kind: 'f', itemsize: 2, TypedArray: hasFloat16Array ? globalThis.Float16Array : Uint16Array },
  { code: 'f4', name: 'float32', kind: 'f', itemsize: 4, TypedArray: Float32Array },
  { code: 'f8', name: 'float64', kind: 'f', itemsize: 8, TypedArray: Float64Array },
  { code: 'c8', name: 'complex64', kind: 'c', itemsize: 8, TypedArray: Float32Array },
  { code: 'c16', name: 'complex128', kind: 'c', itemsize: 16, TypedArray: Float64Array },
];

/** The type codes without a byte order: 'b1', 'i1', …, 'c16'. */
const CODES = DTYPES.map((d) => d.code);

/** Every dtype in each byte order numpy writes it: '|b1' '|i1' '|u1', then '<i2' … '<c16', then '>i2' … '>c16'. */
const DESCRS = [
  ...DTYPES.filter((d) => d.itemsize === 1).map((d) => '|' + d.code),
  ...['<', '>'].flatMap((bo) => DTYPES.filter((d) => d.itemsize > 1).map((d) => bo + d.code)),
];

/** The entry of DTYPES with memmap name `name` ('int16', …). */
function dtypeNamed(name) {
  const d = DTYPES.find((x) => x.name === name);
  if (!d) throw new Error(`no dtype ${name} in test/helpers/dtypes.js`);
  return d;
}

module.exports = { DTYPES, CODES, DESCRS, dtypeNamed };
