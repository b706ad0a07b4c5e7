// File paths as the OS gets them, and as arrays report them.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemmapTypeError } from './errors';

/**
 * A path as the OS gets it: a string, or a Buffer when the caller gave bytes
 * that are not UTF-8 (as fs does, those bytes reach the OS unchanged).
 */
export type FilePath = string | Buffer;

/** A FilePath for messages and `err.path` (lossy for non-UTF-8 bytes). */
export function displayPath(p: FilePath): string {
  return typeof p === 'string' ? p : p.toString();
}

/**
 * The path the OS gets: the caller's, exactly (a string, or a Buffer's bytes
 * when they are not UTF-8), with no lexical normalisation — the kernel, not
 * us, resolves `..` after a symlink and a trailing `/` (path.resolve() would
 * collapse `lnk/..` and drop the `/`, opening another file than fs does). A
 * relative path stays relative: the kernel resolves it against the working
 * directory itself, whatever bytes that directory's name holds.
 */
export function normalizePath(file: unknown): FilePath {
  let p: FilePath;
  if (typeof file === 'string') p = file;
  else if (Buffer.isBuffer(file) || file instanceof Uint8Array) {
    const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
    const text = bytes.toString('utf8');
    // Bytes that are not UTF-8 would decode to U+FFFD and name another file.
    p = Buffer.byteLength(text) === bytes.length && Buffer.from(text, 'utf8').equals(bytes) ? text : Buffer.from(bytes);
  } else if (file instanceof URL) {
    try {
      p = fileURLToPath(file);
    } catch {
      throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `not a file: URL of a local path: ${file.href}`);
    }
  } else throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'path must be a string, Buffer or file: URL');
  // The OS would silently cut the path at a NUL byte and open another file.
  if (typeof p === 'string' ? p.includes('\0') : p.includes(0)) throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', 'path must not contain NUL bytes');
  return p;
}

/**
 * `filename`: an OS path made absolute by putting the working directory in
 * front (a leading `./` goes, nothing else changes), so it names the file the
 * OS opened. Left relative when the working directory has no exact name
 * (deleted, or not UTF-8: process.cwd() would decode it lossily).
 */
export function absoluteName(p: FilePath): FilePath {
  if (p.length === 0) return p;
  if (typeof p === 'string' ? path.isAbsolute(p) : p[0] === 0x2f) return p;
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    return p;
  }
  if (cwd.includes('\ufffd')) return p;
  const dir = cwd.endsWith(path.sep) ? cwd : cwd + path.sep;
  if (typeof p === 'string') return dir + p.replace(/^(\.\/+)+/, '');
  let skip = 0;
  while (p[skip] === 0x2e && p[skip + 1] === 0x2f) for (skip += 2; p[skip] === 0x2f; skip++);
  return Buffer.concat([Buffer.from(dir), p.subarray(skip)]);
}
