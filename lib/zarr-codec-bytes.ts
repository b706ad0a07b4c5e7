// Zarr v3 `bytes` codec (array -> bytes): the elements in C order of the
// (transposed) chunk, in the given byte order. It only names the stored dtype:
// the kernels read either byte order, so nothing is converted.
import { type DType, DTYPES, type DTypeName, parseDType } from './dtype';
import { MemmapError } from './errors';

export type Endian = 'little' | 'big';

/** The dtype of stored elements: `endian` is required for multi-byte types and ignored for one-byte ones. */
export function storedDType(name: DTypeName, endian: Endian | undefined, where: string): DType {
  const code = DTYPES[name].codes[0];
  if (DTYPES[name].itemsize === 1) return parseDType(`|${code}`);
  if (endian === undefined) throw new MemmapError('ERR_ZARR_METADATA', `${where}: the bytes codec needs an endian for ${name}`, { path: where });
  return parseDType(`${endian === 'big' ? '>' : '<'}${code}`);
}

/** The `endian` of a bytes codec's configuration (undefined when absent). */
export function bytesEndian(config: Record<string, unknown>, where: string): Endian | undefined {
  const e = config.endian;
  if (e === undefined) return undefined;
  if (e !== 'little' && e !== 'big') throw new MemmapError('ERR_ZARR_METADATA', `${where}: bytes endian must be "little" or "big"`, { path: where });
  return e;
}
