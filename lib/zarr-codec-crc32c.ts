// Zarr v3 `crc32c` codec: a CRC-32C (Castagnoli) of the bytes, appended as 4
// little-endian bytes. Node's zlib.crc32 is the other polynomial, so the table
// is ours.
import { MemmapError } from './errors';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `bytes` (RFC 3720's: "123456789" gives 0xe3069283). */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The bytes without their checksum, after checking it: ERR_CHECKSUM on a mismatch, ERR_ZARR_CHUNK when too short. */
export function crc32cDecode(bytes: Uint8Array, where: string): Uint8Array {
  if (bytes.length < 4) throw new MemmapError('ERR_ZARR_CHUNK', `${where}: ${bytes.length} bytes cannot hold a crc32c checksum`, { path: where });
  const body = bytes.subarray(0, bytes.length - 4);
  const n = bytes.length;
  const stored = (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
  const actual = crc32c(body);
  if (stored !== actual) {
    throw new MemmapError('ERR_CHECKSUM', `${where}: crc32c is 0x${actual.toString(16).padStart(8, '0')}, the stored checksum is 0x${stored.toString(16).padStart(8, '0')}`, { path: where });
  }
  return body;
}
