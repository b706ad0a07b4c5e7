// One writer at a time per shard (or chunk file) across processes and workers: an exclusive lock file next to it,
// `<file>.lock`, created with O_EXCL (fs.openSync 'wx'), which every local filesystem and NFSv3+ make atomic. It
// holds "pid hostname"; a lock whose process is gone (same host, kill(pid, 0) says ESRCH) or that is older than
// STALE_MS is stale and broken. Waiters poll with a growing sleep (Atomics.wait: no busy loop).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { fsError, MemmapError } from './errors';

/** How long a writer waits for a lock before ERR_ZARR_LOCKED. */
export const LOCK_TIMEOUT_MS = 60_000;
/** A lock older than this is taken as left by a writer that hung or died elsewhere (another host). */
export const STALE_MS = 10 * 60_000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What the lock file says, or null when it is gone or unreadable. */
function readLock(lock: string): { text: string; mtimeMs: number } | null {
  try {
    const text = fs.readFileSync(lock, 'utf8');
    return { text, mtimeMs: fs.statSync(lock).mtimeMs };
  } catch {
    return null;
  }
}

function isStale(held: { text: string; mtimeMs: number }): boolean {
  if (Date.now() - held.mtimeMs > STALE_MS) return true;
  const [pid, host] = held.text.split(' ');
  const n = Number(pid);
  // Written but not yet filled in (its writer is between open and write): not stale.
  if (host !== os.hostname() || !Number.isInteger(n) || n <= 0) return false;
  return !alive(n);
}

/**
 * Breaks a stale lock without removing a fresh one someone took meanwhile: the lock is renamed aside, and put back
 * (link, which fails if a new one exists) when what was renamed is not what was judged stale.
 */
function breakLock(lock: string, seen: string): void {
  const aside = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}.stale`;
  try {
    fs.renameSync(lock, aside);
  } catch {
    return; // gone already
  }
  let text: string;
  try {
    text = fs.readFileSync(aside, 'utf8');
  } catch {
    text = seen; // unreadable: taken as what was seen
  }
  if (text !== seen) {
    try {
      fs.linkSync(aside, lock);
    } catch {
      // a new lock exists: the one renamed aside was broken after all (its holder will find its lock gone)
    }
  }
  fs.rmSync(aside, { force: true });
}

/** Runs `fn` holding the lock of `file` (`file.lock`). @throws ERR_ZARR_LOCKED after LOCK_TIMEOUT_MS, OS codes. */
export function withFileLock<T>(file: string, fn: () => T, timeoutMs = LOCK_TIMEOUT_MS): T {
  const lock = `${file}.lock`;
  const start = Date.now();
  let wait = 1;
  let fd: number;
  for (;;) {
    try {
      fd = fs.openSync(lock, 'wx');
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        fs.mkdirSync(nodePath.dirname(lock), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw fsError(err, lock);
    }
    const held = readLock(lock);
    if (held !== null && isStale(held)) {
      breakLock(lock, held.text);
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      throw new MemmapError('ERR_ZARR_LOCKED', `${file} stayed locked by another writer (${lock}: ${held?.text ?? '?'}) for ${timeoutMs} ms`, { path: lock });
    }
    sleep(wait);
    wait = Math.min(wait * 2, 50);
  }
  try {
    try {
      fs.writeSync(fd, `${process.pid} ${os.hostname()}`);
    } finally {
      fs.closeSync(fd);
    }
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
