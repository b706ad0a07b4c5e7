// `gzip` (Zarr v3 codec, numcodecs' GZip for v2): node:zlib, present in every Node.
import { gunzipSync } from 'node:zlib';
import { MemmapError } from './errors';

export function gzipDecode(bytes: Uint8Array, where: string, maxOutputLength: number): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength });
  } catch (err) {
    throw new MemmapError('ERR_ZARR_CHUNK', `${where}: not valid gzip data`, { path: where, cause: err });
  }
}
