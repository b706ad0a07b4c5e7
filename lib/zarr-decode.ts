// A chunk's bytes -> bytes codecs undone, innermost last: the one decode chain the JavaScript thread
// (lib/zarr-chunks.ts) and the decode pool's workers (lib/zarr-decode-worker.ts) both run, so both give the same bytes.
import { crc32cDecode } from './zarr-codec-crc32c';
import { gzipDecode } from './zarr-codec-gzip';
import { zlibDecode } from './zarr-codec-zlib';
import { zstdDecode } from './zarr-codec-zstd';
import { bloscDecode } from './zarr-codec-blosc';
import { lz4Decode } from './zarr-codec-lz4';
import type { BytesCodecName } from './zarr-meta';

/** Decompressors: each bounds its output by `limit` (a gzip or zstd bomb, a header that lies) before allocating it. */
const DECODERS: Record<Exclude<BytesCodecName, 'crc32c'>, (bytes: Uint8Array, where: string, limit: number) => Uint8Array> = {
  gzip: gzipDecode,
  zlib: zlibDecode,
  zstd: zstdDecode,
  blosc: bloscDecode,
  lz4: lz4Decode,
};

/** The codecs whose decoders are WebAssembly (numcodecs.js): the ones the decode pool takes off the JavaScript thread. */
export const WASM_CODECS: readonly BytesCodecName[] = ['zstd', 'blosc', 'lz4'];

/** `bytes` with the codecs of `after` undone (last first); ERR_ZARR_CHUNK / ERR_CHECKSUM / ERR_UNSUPPORTED_CODEC. */
export function decodeChain(after: readonly BytesCodecName[], bytes: Uint8Array, where: string, limit: number): Uint8Array {
  for (let i = after.length - 1; i >= 0; i--) {
    const c = after[i];
    bytes = c === 'crc32c' ? crc32cDecode(bytes, where) : DECODERS[c](bytes, where, limit);
  }
  return bytes;
}
