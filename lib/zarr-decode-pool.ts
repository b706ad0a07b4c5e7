// The decode pool: a few worker threads that run the zstd/blosc/lz4 decoders (WebAssembly, synchronous) for the
// async twins, so a compressed chunk decodes off the JavaScript thread (gzip/zlib have node:zlib's async API).
// Started lazily, at most POOL_SIZE threads, one job each at a time; an idle thread is unref()'d (it never keeps the
// process alive) and ends after a while. Bytes move both ways in transfer lists. A thread that dies rejects its job
// (ERR_ZARR_CHUNK) and the next job starts another; a thread that cannot start at all turns the pool off, and chunks
// decode on the JavaScript thread as the sync calls do.
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { isErrorCode, MemmapError } from './errors';
import type { DecodeReply, DecodeRequest } from './zarr-decode-worker';
import type { BytesCodecName } from './zarr-meta';

/** Threads at most: the async twins load four chunks at a time; never more than the cores. */
export const POOL_SIZE = Math.max(1, Math.min(4, os.availableParallelism()));
/** An idle thread ends after this long (its wasm memory grew to the largest chunk it decoded). */
const IDLE_MS = 10_000;

interface Job {
  req: DecodeRequest;
  resolve: (bytes: Uint8Array | null) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** Its module loaded: an exit before that is a thread that cannot start here. */
  ready: boolean;
  idle: ReturnType<typeof setTimeout> | null;
}

const slots: Slot[] = [];
const queue: Job[] = [];
let nextId = 1;
let off = false;
let idleMs = IDLE_MS;
let exitNext: number | undefined;
const counts = { decoded: 0, started: 0, died: 0 };

/**
 * `bytes` with `codecs` undone on a pool thread, as decodeChain() would on this one (same errors, same codes); null
 * when no thread can start here (the caller decodes on its own thread). `bytes` is transferred: detached after.
 */
export function decodeOffThread(codecs: readonly BytesCodecName[], bytes: Uint8Array, where: string, limit: number): Promise<Uint8Array | null> {
  if (off) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const req: DecodeRequest = { id: nextId++, codecs: codecs.slice(), bytes, where, limit };
    if (exitNext !== undefined) {
      req.exit = exitNext;
      exitNext = undefined;
    }
    queue.push({ req, resolve, reject });
    pump();
  });
}

function pump(): void {
  while (queue.length > 0) {
    let slot = slots.find((s) => s.job === null);
    if (slot === undefined) {
      if (slots.length >= POOL_SIZE) return;
      slot = spawn();
      if (slot === undefined) return;
    }
    run(slot, queue.shift() as Job);
  }
}

function run(slot: Slot, job: Job): void {
  if (slot.idle !== null) clearTimeout(slot.idle);
  slot.idle = null;
  slot.job = job;
  slot.worker.ref();
  const b = job.req.bytes;
  // Moved when the view owns its whole buffer (the native copy's result does); a part of a buffer is cloned.
  const owns = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
  try {
    slot.worker.postMessage(job.req, owns ? [b.buffer as ArrayBuffer] : []);
  } catch {
    slot.worker.postMessage(job.req); // a buffer that may not be transferred is copied
  }
}

/** Its job settled: the next one, or idle (unref()'d, ending after idleMs). */
function settle(slot: Slot): void {
  slot.job = null;
  const next = queue.shift();
  if (next !== undefined) return run(slot, next);
  slot.worker.unref();
  endWhenIdle(slot);
}

function endWhenIdle(slot: Slot): void {
  if (slot.idle !== null) clearTimeout(slot.idle);
  slot.idle = setTimeout(() => {
    drop(slot);
    void slot.worker.terminate();
  }, idleMs);
  slot.idle.unref();
}

function drop(slot: Slot): void {
  const i = slots.indexOf(slot);
  if (i >= 0) slots.splice(i, 1);
}

function spawn(): Slot | undefined {
  let worker: Worker;
  try {
    worker = new Worker(path.join(__dirname, 'zarr-decode-worker.js'));
  } catch {
    turnOff(null);
    return undefined;
  }
  const slot: Slot = { worker, job: null, ready: false, idle: null };
  let failure: unknown;
  worker.on('message', (m: DecodeReply | 'ready') => {
    if (m === 'ready') {
      slot.ready = true;
      return;
    }
    const job = slot.job;
    if (job === null || job.req.id !== m.id) return;
    if (m.ok) {
      counts.decoded++;
      job.resolve(m.bytes);
    } else {
      job.reject(new MemmapError(isErrorCode(m.code) ? m.code : 'ERR_ZARR_CHUNK', m.message, { path: job.req.where }));
    }
    settle(slot);
  });
  worker.on('error', (err) => {
    failure = err; // an uncaught error or out of memory in the thread; 'exit' follows
  });
  worker.on('exit', (code) => {
    if (!slots.includes(slot)) return; // ended idle
    drop(slot);
    if (slot.idle !== null) clearTimeout(slot.idle);
    const job = slot.job;
    slot.job = null;
    if (!slot.ready) return turnOff(job);
    if (job !== null) {
      counts.died++;
      const why = failure instanceof Error ? failure.message : `exit code ${code}`;
      job.reject(new MemmapError('ERR_ZARR_CHUNK', `${job.req.where}: the decoder thread ended (${why}) decoding this chunk`, { path: job.req.where, cause: failure }));
    }
    pump();
  });
  slots.push(slot);
  counts.started++;
  return slot;
}

/** No thread starts here (no worker_threads, the worker file missing): every job is left to the caller's thread. */
function turnOff(job: Job | null): void {
  off = true;
  job?.resolve(null);
  for (const j of queue.splice(0)) j.resolve(null);
}

/** For tests: the pool's state and counters, and hooks (a thread that dies on its next job; a shorter idle time). */
export const decodePoolForTests = {
  state: (): { threads: number; busy: number; queued: number; off: boolean; decoded: number; started: number; died: number } => ({
    threads: slots.length,
    busy: slots.filter((s) => s.job !== null).length,
    queued: queue.length,
    off,
    ...counts,
  }),
  exitOnNextJob(code: number): void {
    exitNext = code;
  },
  setIdleMs(ms: number): void {
    idleMs = ms;
    for (const s of slots) if (s.job === null) endWhenIdle(s);
  },
};
