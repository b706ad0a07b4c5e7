import { constants as osConstants } from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';

const kBrand = Symbol.for('memmap.error');

/**
 * Every `ERR_…` code memmap throws, listed once: the error constructors take
 * only these (a typo fails to compile), and test/registry.test.js checks that
 * docs/api.md's table lists exactly them. OS failures use the errno name
 * (`ENOENT`, …) instead.
 */
export const ERROR_CODES = [
  'ERR_ABORTED',
  'ERR_ALL_NAN',
  'ERR_BUSY',
  'ERR_BYTE_ORDER',
  'ERR_CALLBACK',
  'ERR_CHECKSUM',
  'ERR_CLOSED',
  'ERR_DTYPE_MISMATCH',
  'ERR_DTYPE_REQUIRED',
  'ERR_EMPTY_FILE',
  'ERR_EMPTY_REDUCTION',
  'ERR_FILE_TOO_SHORT',
  'ERR_ILLEGAL_CONSTRUCTOR',
  'ERR_INVALID_ADVICE',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_AXIS',
  'ERR_INVALID_DTYPE',
  'ERR_INVALID_INDEX',
  'ERR_INVALID_MODE',
  'ERR_INVALID_OFFSET',
  'ERR_INVALID_ORDER',
  'ERR_INVALID_SHAPE',
  'ERR_INVALID_TOKEN',
  'ERR_INVALID_VALUE',
  'ERR_NO_EXTERNAL_BUFFERS',
  'ERR_NOT_CONTIGUOUS',
  'ERR_NOT_INITIALIZED',
  'ERR_NOT_ZARR_ARRAY',
  'ERR_NPY_BAD_MAGIC',
  'ERR_NPY_DTYPE',
  'ERR_NPY_FILE',
  'ERR_NPY_HEADER',
  'ERR_NPY_HEADER_TOO_LARGE',
  'ERR_NPY_TRUNCATED',
  'ERR_NPY_VERSION',
  'ERR_OUT_OF_RANGE',
  'ERR_READ_ONLY',
  'ERR_SHAPE_MISMATCH',
  'ERR_SHAPE_REQUIRED',
  'ERR_SHARED',
  'ERR_SIGBUS',
  'ERR_SIZE_MISMATCH',
  'ERR_TOO_LARGE',
  'ERR_UNKNOWN_OPTION',
  'ERR_UNSUPPORTED_CODEC',
  'ERR_VIEW',
  'ERR_ZARR_CHUNK',
  'ERR_ZARR_LOCKED',
  'ERR_ZARR_METADATA',
  'ERR_ZARR_UNSUPPORTED',
  'ERR_ZERO_DIM',
] as const;

/** memmap's own error codes (see ERROR_CODES). */
export type MemmapErrorCode = (typeof ERROR_CODES)[number];

/** Fields every memmap error carries. `code` is stable: tests and users match on it. */
export interface MemmapErrorFields {
  /** A MemmapErrorCode for memmap's own failures, the errno name (`ENOENT`, …) for OS failures. */
  code: MemmapErrorCode | (string & {});
  /** Negative errno for OS failures, as in Node's `fs` errors. */
  errno?: number;
  /** The failing system call for OS failures (`open`, `mmap`, …). */
  syscall?: string;
  /** The file involved, where there is one. */
  path?: string;
}

const defineProperty = Object.defineProperty;

/**
 * Descriptors with a null prototype, and fields defined rather than assigned:
 * a polluted Object.prototype (a `get`, `set` or `value` key, or a setter for
 * `code`) cannot break or divert the making of an error.
 */
function brand(err: Error, name: string, fields: MemmapErrorFields): void {
  defineProperty(err, kBrand, { __proto__: null, value: true } as PropertyDescriptor);
  defineProperty(err, 'name', { __proto__: null, value: name, configurable: true, writable: true, enumerable: false } as PropertyDescriptor);
  const keys = Object.keys(fields) as (keyof MemmapErrorFields)[];
  for (let i = 0; i < keys.length; i++) {
    const value = fields[keys[i]];
    if (value !== undefined) defineProperty(err, keys[i], { __proto__: null, value, configurable: true, writable: true, enumerable: true } as PropertyDescriptor);
  }
}

/**
 * Base class of every error memmap throws. `instanceof MemmapError` is also
 * true for MemmapTypeError and MemmapRangeError, which extend the built-in
 * TypeError/RangeError for argument errors.
 */
export class MemmapError extends Error implements MemmapErrorFields {
  declare code: MemmapErrorCode | (string & {});
  declare errno?: number;
  declare syscall?: string;
  declare path?: string;

  /**
   * @param code one of memmap's codes; OS failures come from systemError().
   * @param extra `errno`, `syscall`, `path` and `cause`, where there are any.
   */
  constructor(code: MemmapErrorCode, message: string, extra: Omit<MemmapErrorFields, 'code'> & ErrorOptions = {}) {
    const { cause, ...fields } = extra;
    super(message, 'cause' in extra ? { cause } : undefined);
    brand(this, 'MemmapError', { code, ...fields });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
  }
}

/** A bad argument type (also `instanceof MemmapError` and `TypeError`). */
export class MemmapTypeError extends TypeError implements MemmapErrorFields {
  declare code: MemmapErrorCode;
  /** `options.cause`: the caller's exception this error wraps (a throwing getter or Proxy trap). */
  constructor(code: MemmapErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    brand(this, 'MemmapTypeError', { code });
  }
}

/** A bad argument value (also `instanceof MemmapError` and `RangeError`). */
export class MemmapRangeError extends RangeError implements MemmapErrorFields {
  declare code: MemmapErrorCode;
  constructor(code: MemmapErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    brand(this, 'MemmapRangeError', { code });
  }
}

/** Builds the error for a failed system call, shaped like Node's `fs` errors. */
export function systemError(errno: number, message: string, syscall?: string, path?: string): MemmapError {
  if (process.platform === 'win32' && errno < 0 && errno > -1000) errno = libuvErrno(errno);
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = 'UNKNOWN';
  }
  const where = syscall ? `, ${syscall}` + (path ? ` '${path}'` : '') : '';
  return osError(code, `${code}: ${message.toLowerCase()}${where}`, { errno, syscall, path });
}

/**
 * Windows: the addon reports the C runtime's errno (ENOENT = 2), libuv and so
 * Node's fs its own codes (ENOENT = -4058). Same name, libuv's number, as fs.
 */
function libuvErrno(errno: number): number {
  const name = Object.keys(osConstants.errno).find((k) => (osConstants.errno as Record<string, number>)[k] === -errno);
  if (name === undefined) return errno;
  for (const [code, [n]] of getSystemErrorMap()) if (n === name) return code;
  return errno;
}

/** Wraps a Node fs error (it has errno/syscall) as MemmapError, like the native layer does; rethrows anything else. */
export function fsError(err: unknown, path: string): MemmapError {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno !== 'number') throw err;
  const description = getSystemErrorMap().get(e.errno)?.[1] ?? e.message;
  return systemError(e.errno, description, e.syscall, path);
}

/** A MemmapError for an OS failure whose code is the errno name (`ENOENT`, …), like fs: the one way to a code outside ERROR_CODES. */
export function osError(code: string, message: string, extra: Omit<MemmapErrorFields, 'code'> = {}): MemmapError {
  const err = new MemmapError('ERR_CALLBACK', message, extra);
  err.code = code;
  return err;
}

/** ERROR_CODES as a frozen null-prototype set, made at load: looking a code up runs no method someone may patch. */
const CODE_TABLE: Readonly<Record<string, true>> = Object.freeze(Object.assign(Object.create(null) as Record<string, true>, Object.fromEntries(ERROR_CODES.map((c) => [c, true]))));

/** True for a string that is one of memmap's own codes. */
export function isErrorCode(code: unknown): code is MemmapErrorCode {
  return typeof code === 'string' && CODE_TABLE[code] === true;
}

/** Factory the native binding calls for every error it throws. */
export function nativeError(code: string | number, message: string, syscall?: string, path?: string): Error {
  if (typeof code === 'number') return systemError(code, message, syscall, path);
  // The glue's codes are in ERROR_CODES (test/registry.test.js checks binding.cc); anything else is a bug there.
  return new MemmapError(isErrorCode(code) ? code : 'ERR_INVALID_ARG_VALUE', message, path ? { path } : {});
}

const MAX_DESCRIBED = 60;

/**
 * A short, safe rendering of any value for an error message. It never throws
 * and never runs the caller's code: no String()/JSON.stringify() of objects
 * (toString, valueOf, Symbol.toPrimitive, toJSON, getters and Proxy traps stay
 * untouched), and BigInt and Symbol, which JSON.stringify or `${}` refuse,
 * are handled by type.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Object.is(value, -0) ? '-0' : `${value}`;
    case 'bigint': {
      const s = `${value}`; // BigInt to string is built in: no user code
      return s.length > MAX_DESCRIBED ? `a ${s.length - (value < 0n ? 1 : 0)}-digit bigint` : `${s}n`;
    }
    case 'string': {
      const cut = value.length > MAX_DESCRIBED;
      return JSON.stringify(cut ? value.slice(0, MAX_DESCRIBED) : value) + (cut ? `... (${value.length} characters)` : '');
    }
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default: {
      if (value === null) return 'null';
      let array = false;
      try {
        array = Array.isArray(value); // throws only for a revoked Proxy
      } catch {
        // described as an object
      }
      return array ? 'an array' : 'an object';
    }
  }
}

/** Whether `err` is a runtime's refusal of ArrayBuffers over a mapping (Electron's V8 memory cage). */
export function isNoExternalBuffers(err: unknown): boolean {
  return err instanceof MemmapError && err.code === 'ERR_NO_EXTERNAL_BUFFERS';
}
