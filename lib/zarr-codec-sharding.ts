// Zarr v3 `sharding_indexed` codec: a shard holds inner chunks in any order
// and an index of (offset, nbytes) uint64 pairs, one per inner chunk in C
// order, 2^64-1 twice for an empty one, with a crc32c when the index codecs
// say so, at the start or the end of the shard. The metadata is read in
// zarr-meta.ts; this is the index's byte format.
import { MemmapError } from './errors';
import type { Endian } from './zarr-codec-bytes';
import { crc32cDecode } from './zarr-codec-crc32c';

const U32 = 2 ** 32;
/** The high word of 2^53: a value with a high word at or above it is past Number.MAX_SAFE_INTEGER. */
const SAFE_HIGH = 2 ** 21;

/** Bytes of the index of `count` inner chunks. */
export function shardIndexBytes(count: number, crc: boolean): number {
  return 16 * count + (crc ? 4 : 0);
}

/**
 * The index as [offset, nbytes] per inner chunk: -1 for the empty marker, -2 for a value past 2^53 (never a valid
 * offset here). Checks the crc32c (ERR_CHECKSUM); where the entries point is checked when one is used.
 */
export function decodeShardIndex(bytes: Uint8Array, count: number, endian: Endian, crc: boolean, where: string): Float64Array {
  if (bytes.length !== shardIndexBytes(count, crc)) throw new MemmapError('ERR_ZARR_CHUNK', `${where}: a shard index of ${bytes.length} bytes, expected ${shardIndexBytes(count, crc)}`, { path: where });
  const body = crc ? crc32cDecode(bytes, where) : bytes;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const little = endian === 'little';
  const out = new Float64Array(2 * count);
  // Two 32-bit words per entry, not getBigUint64: a BigInt per entry cost ~0.7 µs each on a scan's first pass.
  const [lo, hi] = little ? [0, 4] : [4, 0];
  for (let i = 0; i < 2 * count; i++) {
    const h = view.getUint32(8 * i + hi, little);
    const l = view.getUint32(8 * i + lo, little);
    out[i] = h === 0xffffffff && l === 0xffffffff ? -1 : h >= SAFE_HIGH ? -2 : h * U32 + l;
  }
  return out;
}
