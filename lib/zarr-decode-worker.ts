// A thread of the decode pool (lib/zarr-decode-pool.ts): runs the decode chain the JavaScript thread would run
// (lib/zarr-decode.ts) on chunk bytes transferred to it, and transfers the result back. Errors go back as their code,
// message and path (a structured clone drops an error's own fields). Loads no addon.
import { parentPort } from 'node:worker_threads';
import { isErrorCode } from './errors';
import { decodeChain } from './zarr-decode';
import type { BytesCodecName } from './zarr-meta';

/** A job: the chunk's stored bytes, the codecs to undo, where (for errors) and the output bound. */
export interface DecodeRequest {
  id: number;
  codecs: BytesCodecName[];
  bytes: Uint8Array;
  where: string;
  limit: number;
  /** Tests only: the thread exits with this code instead of decoding (a decoder that dies). */
  exit?: number;
}

export type DecodeReply = { id: number; ok: true; bytes: Uint8Array } | { id: number; ok: false; code: string; message: string };

const port = parentPort;
if (port !== null) {
  port.on('message', (m: DecodeRequest) => {
    if (m.exit !== undefined) process.exit(m.exit);
    let reply: DecodeReply;
    let transfer: ArrayBuffer[] = [];
    try {
      let out = decodeChain(m.codecs, m.bytes, m.where, m.limit);
      // Moved, not copied, when the result owns its buffer (the wasm decoders' results do); else a copy of its part.
      if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
      reply = { id: m.id, ok: true, bytes: out };
      transfer = [out.buffer as ArrayBuffer];
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown } | null;
      const coded = isErrorCode(e?.code) && typeof e?.message === 'string';
      reply = coded ? { id: m.id, ok: false, code: e.code as string, message: e.message as string } : { id: m.id, ok: false, code: 'ERR_ZARR_CHUNK', message: `${m.where}: not decodable (${String(err)})` };
    }
    port.postMessage(reply, transfer);
  });
  port.postMessage('ready');
}
