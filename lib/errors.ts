import { getSystemErrorName } from 'node:util';

const kBrand = Symbol.for('memmap.error');

/** Fields every memmap error carries. `code` is stable: tests and users match on it. */
export interface MemmapErrorFields {
  /** `ERR_…` for memmap's own failures, the errno name (`ENOENT`, …) for OS failures. */
  code: string;
  /** Negative errno for OS failures, as in Node's `fs` errors. */
  errno?: number;
  /** The failing system call for OS failures (`open`, `mmap`, …). */
  syscall?: string;
  /** The file involved, where there is one. */
  path?: string;
}

function brand(err: Error, name: string, fields: MemmapErrorFields): void {
  Object.defineProperty(err, kBrand, { value: true });
  Object.defineProperty(err, 'name', { value: name, configurable: true, writable: true, enumerable: false });
  Object.assign(err, fields);
}

/**
 * Base class of every error memmap throws. `instanceof MemmapError` is also
 * true for MemmapTypeError and MemmapRangeError, which extend the built-in
 * TypeError/RangeError for argument errors.
 */
export class MemmapError extends Error implements MemmapErrorFields {
  declare code: string;
  declare errno?: number;
  declare syscall?: string;
  declare path?: string;

  constructor(code: string, message: string, extra: Omit<MemmapErrorFields, 'code'> = {}) {
    super(message);
    brand(this, 'MemmapError', { code, ...extra });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
  }
}

/** A bad argument type (also `instanceof MemmapError` and `TypeError`). */
export class MemmapTypeError extends TypeError implements MemmapErrorFields {
  declare code: string;
  constructor(code: string, message: string) {
    super(message);
    brand(this, 'MemmapTypeError', { code });
  }
}

/** A bad argument value (also `instanceof MemmapError` and `RangeError`). */
export class MemmapRangeError extends RangeError implements MemmapErrorFields {
  declare code: string;
  constructor(code: string, message: string) {
    super(message);
    brand(this, 'MemmapRangeError', { code });
  }
}

/** Builds the error for a failed system call, shaped like Node's `fs` errors. */
export function systemError(errno: number, message: string, syscall?: string, path?: string): MemmapError {
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = 'UNKNOWN';
  }
  const where = syscall ? `, ${syscall}` + (path ? ` '${path}'` : '') : '';
  return new MemmapError(code, `${code}: ${message.toLowerCase()}${where}`, { errno, syscall, path });
}

/** Factory the native binding calls for every error it throws. */
export function nativeError(code: string | number, message: string, syscall?: string, path?: string): Error {
  if (typeof code === 'number') return systemError(code, message, syscall, path);
  return new MemmapError(code, message, path ? { path } : {});
}
