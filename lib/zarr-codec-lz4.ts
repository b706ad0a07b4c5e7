// `lz4` (numcodecs' LZ4, a v2 compressor; `numcodecs.lz4` in v3): an LZ4 block after its uncompressed size
// (uint32, little-endian), through numcodecs.js's wasm (lib/zarr-wasm.ts).
import { MemmapError } from './errors';
import { MAX_WASM_BYTES, wasmCall } from './zarr-wasm';

export function lz4Decode(bytes: Uint8Array, where: string, maxOutputLength: number): Uint8Array {
  const bad = (why: string, cause?: unknown): MemmapError => new MemmapError('ERR_ZARR_CHUNK', `${where}: ${why}`, cause === undefined ? { path: where } : { path: where, cause });
  if (bytes.length < 4) throw bad('not valid lz4 data (no size prefix)');
  const size = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (size > maxOutputLength) throw bad(`lz4 data declaring ${size} bytes, more than the chunk holds (${maxOutputLength})`);
  if (size + bytes.length > MAX_WASM_BYTES) throw bad(`an lz4 chunk of ${size} bytes is larger than the codec handles (${MAX_WASM_BYTES})`);
  return wasmCall('lz4', (c) => c.decompress(bytes), (cause) => bad('not valid lz4 data', cause));
}

export function lz4Encode(bytes: Uint8Array, acceleration: number): Uint8Array {
  if (bytes.length > MAX_WASM_BYTES / 2) throw new MemmapError('ERR_TOO_LARGE', `an lz4 chunk of ${bytes.length} bytes is larger than the codec handles (${MAX_WASM_BYTES / 2})`);
  return wasmCall('lz4', (c) => c.compress(bytes, acceleration), (cause) => new MemmapError('ERR_ZARR_CHUNK', 'lz4 compression failed', { cause }));
}
