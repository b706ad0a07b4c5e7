// The thread that runs a ZarrArray's large async calls (lib/zarr-offthread.ts): for each call it opens the same store
// again, read-only, runs the sync call on that opening and closes it, so the JavaScript thread is free while chunks are
// faulted in, decoded and reduced. A fresh opening per call sees the store as it is on disk then (no cache of the
// thread's can go stale), and leaves nothing mapped between calls.
import { parentPort } from 'node:worker_threads';
import { MemmapArray } from './array';
import { isErrorCode } from './errors';
import { type Advice, ADVICE_CODES } from './modes';
import { openZarr, type ZarrArray, zarrFingerprint } from './zarr';
import { setMappingsBudget } from './zarr-chunks';

/** A call: the store (its path, bounds and advice, and its metadata as the caller sees it), the method and its plain arguments. */
export interface OffThreadRequest {
  id: number;
  path: string;
  maxMappings: number;
  cacheBytes: number;
  advice: number;
  /** zarrFingerprint() of the caller's array: an opening here that says otherwise is not the same array. */
  fingerprint: string;
  method: string;
  args: unknown[];
  /** Set (to 1) by the caller when it no longer wants the result (aborted, closed): a call not started is skipped. */
  cancel: Int32Array;
  /** Tests only: the thread exits with this code instead of running the call. */
  exit?: number;
}

export type OffThreadValue = { kind: 'plain'; value: unknown } | { kind: 'array'; dtype: string; shape: number[]; bytes: Uint8Array };

/** A memmap error as its fields. */
export interface OffThreadError {
  name: string;
  code: string;
  message: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

export type OffThreadReply = { id: number; ok: true; result: OffThreadValue } | { id: number; ok: false; stale: true } | { id: number; ok: false; stale: false; error: OffThreadError };

/** The thread's share of the process's mapping budget (the JavaScript thread's stores keep theirs). */
const BUDGET = 8192;

/** The store of `m`, opened now; null when it cannot be opened here or is not the caller's array (changed on disk). */
function storeFor(m: OffThreadRequest): ZarrArray | null {
  let z: ZarrArray;
  try {
    z = openZarr(m.path, { maxMappings: Math.min(m.maxMappings, BUDGET), cacheBytes: m.cacheBytes });
  } catch {
    return null; // moved, half-written metadata…: the caller's own opening may still read it
  }
  if (zarrFingerprint(z) !== m.fingerprint) {
    z.close();
    return null;
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

/** The call's error as its fields (a structured clone drops an error's own fields); null for one not of memmap's. */
function errorOf(err: unknown): OffThreadError | null {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown; errno?: unknown; syscall?: unknown; path?: unknown };
  if (typeof e.code !== 'string' || !(isErrorCode(e.code) || /^E[A-Z0-9]+$/.test(e.code))) return null;
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  return { name: String(e.name), code: e.code, message: String(e.message), errno: typeof e.errno === 'number' ? e.errno : undefined, syscall: str(e.syscall), path: str(e.path) };
}

function run(m: OffThreadRequest): { reply: OffThreadReply; transfer: ArrayBuffer[] } {
  if (Atomics.load(m.cancel, 0) !== 0) return { reply: { id: m.id, ok: false, stale: true }, transfer: [] };
  const z = storeFor(m);
  if (z === null) return { reply: { id: m.id, ok: false, stale: true }, transfer: [] };
  try {
    const fn = (z as unknown as Record<string, (...a: unknown[]) => unknown>)[m.method];
    const out = valueOf(Reflect.apply(fn, z, m.args));
    return { reply: { id: m.id, ok: true, result: out.result }, transfer: out.transfer };
  } catch (err) {
    const error = errorOf(err);
    // Not one of memmap's errors: the caller's thread runs the call and throws it.
    return { reply: error === null ? { id: m.id, ok: false, stale: true } : { id: m.id, ok: false, stale: false, error }, transfer: [] };
  } finally {
    z.close();
  }
}

const port = parentPort;
if (port !== null) {
  setMappingsBudget(BUDGET, 64);
  port.on('message', (m: OffThreadRequest) => {
    if (m.exit !== undefined) process.exit(m.exit);
    const { reply, transfer } = run(m);
    port.postMessage(reply, transfer);
  });
  port.postMessage('ready');
}
