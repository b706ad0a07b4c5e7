// `zstd` (Zarr v3 codec; numcodecs' Zstd for v2): zstd frames through numcodecs.js's wasm (lib/zarr-wasm.ts).
import { MemmapError } from './errors';
import { MAX_WASM_BYTES, wasmCall } from './zarr-wasm';

const MAGIC = 0xfd2fb528;

/**
 * The content size the first frame's header declares, or -1 when it declares none. Checked before decoding, so a
 * chunk claiming more than it can hold is refused before anything is allocated.
 */
export function zstdContentSize(bytes: Uint8Array): number {
  if (bytes.length < 6) return -2;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) return -2;
  const fhd = bytes[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return -1;
  const at = 5 + (single ? 0 : 1) + dictBytes;
  if (bytes.length < at + fcsBytes) return -2;
  if (fcsBytes === 1) return bytes[at];
  if (fcsBytes === 2) return v.getUint16(at, true) + 256;
  if (fcsBytes === 4) return v.getUint32(at, true);
  return Number(v.getBigUint64(at, true));
}

export function zstdDecode(bytes: Uint8Array, where: string, maxOutputLength: number): Uint8Array {
  const bad = (why: string, cause?: unknown): MemmapError => new MemmapError('ERR_ZARR_CHUNK', `${where}: ${why}`, cause === undefined ? { path: where } : { path: where, cause });
  const size = zstdContentSize(bytes);
  if (size === -2) throw bad('not valid zstd data');
  // Without a declared size the decoder would grow its buffer as far as the data asks: refused (zarr-python 2 does too).
  if (size === -1) throw bad('a zstd frame that does not declare its size');
  if (size > maxOutputLength) throw bad(`a zstd frame declaring ${size} bytes, more than the chunk holds (${maxOutputLength})`);
  if (size + bytes.length > MAX_WASM_BYTES) throw bad(`a zstd chunk of ${size} bytes is larger than the codec handles (${MAX_WASM_BYTES})`);
  return wasmCall('zstd', (c) => c.decompress(bytes), (cause) => bad('not valid zstd data', cause));
}

export function zstdEncode(bytes: Uint8Array, level: number): Uint8Array {
  if (bytes.length > MAX_WASM_BYTES / 2) throw new MemmapError('ERR_TOO_LARGE', `a zstd chunk of ${bytes.length} bytes is larger than the codec handles (${MAX_WASM_BYTES / 2})`);
  return wasmCall('zstd', (c) => c.compress(bytes, level), (cause) => new MemmapError('ERR_ZARR_CHUNK', 'zstd compression failed', { cause }));
}

/** zstd's levels: negative (fast) through 22. */
export const ZSTD_LEVELS = { min: -131072, max: 22 };
