// `blosc` (Zarr v3 codec; numcodecs' Blosc for v2): Blosc 1 frames through numcodecs.js's wasm (lib/zarr-wasm.ts).
import { MemmapError } from './errors';
import { MAX_WASM_BYTES, wasmCall } from './zarr-wasm';

/** Compressors inside blosc that Zarr v3 names (numcodecs' v2 Blosc also knows snappy, which is read too). */
export const BLOSC_CNAMES = ['lz4', 'lz4hc', 'blosclz', 'zstd', 'zlib'] as const;
export type BloscCname = (typeof BLOSC_CNAMES)[number];
/** v3 shuffle names, by numcodecs' number (0, 1, 2). */
export const BLOSC_SHUFFLES = ['noshuffle', 'shuffle', 'bitshuffle'] as const;

export interface BloscSettings {
  cname: BloscCname;
  clevel: number;
  /** 0 noshuffle, 1 shuffle, 2 bitshuffle. */
  shuffle: 0 | 1 | 2;
  blocksize: number;
}

const HEADER = 16;

export function bloscDecode(bytes: Uint8Array, where: string, maxOutputLength: number): Uint8Array {
  const bad = (why: string, cause?: unknown): MemmapError => new MemmapError('ERR_ZARR_CHUNK', `${where}: ${why}`, cause === undefined ? { path: where } : { path: where, cause });
  if (bytes.length < HEADER) throw bad('not valid blosc data (shorter than its header)');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nbytes = v.getUint32(4, true);
  const cbytes = v.getUint32(12, true);
  // The decoder trusts both sizes: the output is checked against the chunk, the input against the bytes there are.
  if (cbytes !== bytes.length) throw bad(`blosc data declaring ${cbytes} compressed bytes, ${bytes.length} stored`);
  if (nbytes > maxOutputLength) throw bad(`blosc data declaring ${nbytes} bytes, more than the chunk holds (${maxOutputLength})`);
  if (nbytes + bytes.length > MAX_WASM_BYTES) throw bad(`a blosc chunk of ${nbytes} bytes is larger than the codec handles (${MAX_WASM_BYTES})`);
  return wasmCall('blosc', (c) => c.decompress(bytes), (cause) => bad('not valid blosc data', cause));
}

/** Blosc frame of `bytes` (numcodecs.js's build shuffles in 4-byte lanes, whatever the element size). */
export function bloscEncode(bytes: Uint8Array, s: BloscSettings): Uint8Array {
  if (bytes.length > MAX_WASM_BYTES / 2) throw new MemmapError('ERR_TOO_LARGE', `a blosc chunk of ${bytes.length} bytes is larger than the codec handles (${MAX_WASM_BYTES / 2})`);
  return wasmCall('blosc', (c) => c.compress(bytes, s.cname, s.clevel, s.shuffle, s.blocksize), (cause) => new MemmapError('ERR_ZARR_CHUNK', 'blosc compression failed', { cause }));
}
