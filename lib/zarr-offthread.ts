// Large async calls of a ZarrArray (readAsync and the reductions' …Async) run whole on one worker thread
// (lib/zarr-offthread-worker.ts), not only their chunk loads: the copy, the decode and the reduction of a big selection
// would otherwise block the JavaScript thread for as long as the sync call takes (a sum along an axis of a 1 GiB store:
// ~0.35 s). The thread opens the store again for each call, read-only; the page cache is the same. Started on the
// first such call, unref()'d when idle and ended after IDLE_MS. Calls it cannot run (no thread can start here,
// arguments a structured clone refuses, the store changed on disk or not openable there, a thread that died) resolve
// null and run on the caller's thread as before. Calls queue: one runs at a time (its kernels use every core).
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { memoryArray } from './array';
import { parseDType } from './dtype';
import { MemmapError, MemmapRangeError, MemmapTypeError, type MemmapErrorCode } from './errors';
import type { OffThreadError, OffThreadReply, OffThreadRequest } from './zarr-offthread-worker';

/** Selections of fewer bytes run as before (their chunks loaded off the thread, the call on it): a round trip costs more. */
let OFF_THREAD_BYTES = 8 * 2 ** 20;
const IDLE_MS = 10_000;

interface Pending {
  resolve: (v: { value: unknown } | null) => void;
  reject: (err: Error) => void;
}

let worker: Worker | null = null;
let ready = false;
let off = false;
let busy = 0;
let idle: ReturnType<typeof setTimeout> | null = null;
let nextId = 1;
let exitNext: number | undefined;
const pending = new Map<number, Pending>();
const counts = { calls: 0, started: 0, died: 0 };

/** Whether a selection of `bytes` goes to the thread. */
export const offThreadWorth = (bytes: number): boolean => !off && bytes >= OFF_THREAD_BYTES;

/**
 * Runs `req` (without its id) on the thread: `{ value }` as the sync call on the thread's opening of the store gave it,
 * or null when the caller should run it itself. Rejects with the call's own error (class, code, errno, syscall, path).
 * `req.cancel` set before the thread starts the call: it is skipped (resolves null).
 */
export function runOffThread(req: Omit<OffThreadRequest, 'id'>): Promise<{ value: unknown } | null> {
  if (off) return Promise.resolve(null);
  const w = thread();
  if (w === null) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const full: OffThreadRequest = { ...req, id: nextId++ };
    if (exitNext !== undefined) {
      full.exit = exitNext;
      exitNext = undefined;
    }
    try {
      w.postMessage(full);
    } catch {
      resolve(null); // an argument a structured clone refuses: the caller's thread runs the call (and reports it)
      return;
    }
    pending.set(full.id, { resolve, reject });
    busy++;
    if (idle !== null) clearTimeout(idle);
    idle = null;
    w.ref();
  });
}

function thread(): Worker | null {
  if (worker !== null) return worker;
  let w: Worker;
  try {
    w = new Worker(path.join(__dirname, 'zarr-offthread-worker.js'));
  } catch {
    off = true;
    return null;
  }
  worker = w;
  ready = false;
  counts.started++;
  w.on('message', (m: OffThreadReply | 'ready') => {
    if (m === 'ready') {
      ready = true;
      return;
    }
    const job = pending.get(m.id);
    if (job === undefined) return;
    pending.delete(m.id);
    done();
    if (m.ok) {
      counts.calls++;
      const r = m.result;
      job.resolve({ value: r.kind === 'array' ? memoryArray(parseDType(r.dtype), r.shape, r.bytes) : r.value });
    } else if (m.stale) {
      job.resolve(null);
    } else {
      job.reject(errorOf(m.error));
    }
  });
  w.on('error', () => {
    // an uncaught error or out of memory in the thread: 'exit' follows and hands its calls back
  });
  w.on('exit', () => {
    if (worker !== w) return;
    worker = null;
    if (idle !== null) clearTimeout(idle);
    idle = null;
    busy = 0;
    // A thread that never loaded cannot start here; one that died mid-call leaves its calls to the callers' thread.
    if (!ready) off = true;
    else if (pending.size > 0) counts.died++;
    for (const job of pending.values()) job.resolve(null);
    pending.clear();
  });
  w.unref();
  return w;
}

/** A call settled: when none is left, the thread no longer keeps the process alive and ends after IDLE_MS. */
function done(): void {
  if (--busy > 0 || worker === null) return;
  const w = worker;
  w.unref();
  idle = setTimeout(() => {
    if (worker === w && busy === 0) {
      worker = null;
      void w.terminate();
    }
  }, IDLE_MS);
  idle.unref();
}

function errorOf(e: OffThreadError): Error {
  const code = e.code as MemmapErrorCode;
  if (e.name === 'MemmapTypeError') return new MemmapTypeError(code, e.message);
  if (e.name === 'MemmapRangeError') return new MemmapRangeError(code, e.message);
  return new MemmapError(code, e.message, { errno: e.errno, syscall: e.syscall, path: e.path });
}

/** For tests: calls run on the thread, threads started and died; the size bound; a thread that exits on its next call. */
export const offThreadForTests = {
  state: (): { running: boolean; off: boolean; calls: number; started: number; died: number } => ({ running: worker !== null, off, ...counts }),
  setBytes(bytes: number): number {
    const old = OFF_THREAD_BYTES;
    OFF_THREAD_BYTES = bytes;
    return old;
  },
  exitOnNextCall(code: number): void {
    exitNext = code;
  },
};
