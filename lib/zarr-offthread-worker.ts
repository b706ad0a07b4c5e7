// The thread that runs a ZarrArray's large async calls (lib/zarr-offthread.ts): it opens the same store a second
// time, read-only, and runs the sync call on it, so the JavaScript thread is free while chunks are faulted in,
// decoded and reduced. One opening per store and generation of its writes, kept until the store closes.
import { parentPort } from 'node:worker_threads';
import { MemmapArray } from './array';
import { isErrorCode } from './errors';
import { type Advice, ADVICE_CODES } from './modes';
import { type ZarrArray, openZarr } from './zarr';
import { setMappingsBudget } from './zarr-chunks';

/** A call: which store (its key, path and what the caller sees of it), the method and its plain arguments. */
export interface OffThreadRequest {
  id: number;
  key: string;
  path: string;
  maxMappings: number;
  cacheBytes: number;
  advice: number;
  dtype: string;
  shape: number[];
  chunks: number[];
  method: string;
  args: unknown[];
  /** Tests only: the thread exits with this code instead of running the call. */
  exit?: number;
}

/** A store's opening is no longer needed (closed, or written since). */
export interface OffThreadForget {
  forget: string;
}

export type OffThreadValue = { kind: 'plain'; value: unknown } | { kind: 'array'; dtype: string; shape: number[]; bytes: Uint8Array };

export type OffThreadReply =
  | { id: number; ok: true; result: OffThreadValue }
  | { id: number; ok: false; stale: true }
  | { id: number; ok: false; stale: false; error: { name: string; code: string; message: string; errno?: number; syscall?: string; path?: string } };

const open = new Map<string, ZarrArray>();

/** Stores kept open at once (a store's opening is dropped when the caller closes it, or written). */
const OPENINGS = 16;

/** The thread's share of the process's mapping budget (the JavaScript thread's stores keep theirs). */
const BUDGET = 8192;

/** The store for `m`, opened on its first call; null when what is on disk no longer matches the caller's array. */
function storeFor(m: OffThreadRequest): ZarrArray | null {
  let z = open.get(m.key);
  if (z === undefined) {
    z = openZarr(m.path, { maxMappings: Math.min(m.maxMappings, BUDGET), cacheBytes: m.cacheBytes });
    if (z.dtype !== m.dtype || String(z.shape) !== String(m.shape) || String(z.chunks) !== String(m.chunks)) {
      z.close();
      return null;
    }
    open.set(m.key, z);
    // Arrays never closed (left to the garbage collector) leave their openings here: the oldest go past OPENINGS.
    for (const [key, old] of open) {
      if (open.size <= OPENINGS) break;
      open.delete(key);
      old.close();
    }
  } else {
    open.delete(m.key); // most recently used last
    open.set(m.key, z);
  }
  const advice = (Object.keys(ADVICE_CODES) as Advice[]).find((a) => ADVICE_CODES[a] === m.advice);
  if (advice === 'normal' || advice === 'sequential' || advice === 'random') z.advise(advice);
  return z;
}

function valueOf(r: unknown): { result: OffThreadValue; transfer: ArrayBuffer[] } {
  if (r instanceof MemmapArray) {
    const bytes = new Uint8Array(r.data.buffer as ArrayBuffer, r.data.byteOffset, r.data.byteLength);
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return { result: { kind: 'array', dtype: r.dtype, shape: r.shape.slice(), bytes }, transfer: own ? [bytes.buffer as ArrayBuffer] : [] };
  }
  if (ArrayBuffer.isView(r) && r.byteOffset === 0 && r.byteLength === r.buffer.byteLength && r.buffer instanceof ArrayBuffer) {
    return { result: { kind: 'plain', value: r }, transfer: [r.buffer] };
  }
  return { result: { kind: 'plain', value: r }, transfer: [] };
}

const port = parentPort;
if (port !== null) {
  setMappingsBudget(BUDGET, 64);
  port.on('message', (m: OffThreadRequest | OffThreadForget) => {
    if ('forget' in m) {
      for (const [key, z] of open) {
        if (key === m.forget || key.startsWith(`${m.forget}#`)) {
          open.delete(key);
          z.close();
        }
      }
      return;
    }
    if (m.exit !== undefined) process.exit(m.exit);
    let reply: OffThreadReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const z = storeFor(m);
      if (z === null) {
        reply = { id: m.id, ok: false, stale: true };
      } else {
        const fn = (z as unknown as Record<string, (...a: unknown[]) => unknown>)[m.method];
        const out = valueOf(Reflect.apply(fn, z, m.args));
        reply = { id: m.id, ok: true, result: out.result };
        transfer = out.transfer;
      }
    } catch (err) {
      const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown; errno?: unknown; syscall?: unknown; path?: unknown };
      if (typeof e.code !== 'string' || !(isErrorCode(e.code) || /^E[A-Z0-9]+$/.test(e.code))) {
        reply = { id: m.id, ok: false, stale: true }; // not one of ours: the caller's thread runs the call and throws it
      } else {
        const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
        reply = {
          id: m.id,
          ok: false,
          stale: false,
          error: { name: String(e.name), code: e.code, message: String(e.message), errno: typeof e.errno === 'number' ? e.errno : undefined, syscall: str(e.syscall), path: str(e.path) },
        };
      }
    }
    port.postMessage(reply, transfer);
  });
  port.postMessage('ready');
}
