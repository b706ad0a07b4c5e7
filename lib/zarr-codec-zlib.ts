// `zlib` (numcodecs' Zlib, v2 compressor; also a v3 extension name): a zlib stream, through node:zlib.
import { inflateSync } from 'node:zlib';
import { MemmapError } from './errors';

export function zlibDecode(bytes: Uint8Array, where: string, maxOutputLength: number): Uint8Array {
  try {
    return inflateSync(bytes, { maxOutputLength });
  } catch (err) {
    throw new MemmapError('ERR_ZARR_CHUNK', `${where}: not valid zlib data`, { path: where, cause: err });
  }
}
