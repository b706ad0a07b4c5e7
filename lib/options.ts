// Reading the caller's option objects and the option values shared by
// memmap() and openNpy(): own data properties only, every refusal a MemmapError.
import { describe, type MemmapErrorCode, MemmapRangeError, MemmapTypeError } from './errors';
import type { Mode } from './modes';

/**
 * Reads an options argument. Accepts `undefined` (no options) or a non-null
 * object, else MemmapTypeError ERR_INVALID_ARG_TYPE.
 *
 * Only the object's OWN ENUMERABLE STRING-KEYED DATA properties count:
 * - inherited properties are ignored, so a polluted `Object.prototype.mode`
 *   cannot reach an option;
 * - symbol-keyed and non-enumerable own properties are ignored (as by `{...o}`);
 * - an own key not in `allowed` is refused with MemmapTypeError
 *   ERR_UNKNOWN_OPTION (the message suggests a close allowed name: `dytpe`
 *   -> "did you mean dtype?");
 * - an allowed option that is an accessor (getter/setter) property is refused
 *   with MemmapTypeError ERR_INVALID_ARG_VALUE: no getter is ever called, so
 *   each value is read exactly once and cannot change between checks and use.
 *
 * An ordinary object runs none of the caller's code here. For a Proxy, its
 * `ownKeys` and `getOwnPropertyDescriptor` traps run (once and once per key);
 * an exception from a trap (or from a revoked Proxy) becomes MemmapTypeError
 * ERR_INVALID_ARG_VALUE with the original exception as `cause`.
 *
 * Returns a null-prototype object holding the allowed options present
 * (an own option set to `undefined` reads as absent, as before).
 */
export function readOptions<K extends string>(options: unknown, allowed: readonly K[], fn: string): Partial<Record<K, unknown>> {
  const out = Object.create(null) as Partial<Record<K, unknown>>;
  if (options === undefined) return out;
  if (typeof options !== 'object' || options === null) {
    throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `${fn} options must be an object, got ${describe(options)}`);
  }
  let keys: (string | symbol)[];
  try {
    keys = Reflect.ownKeys(options);
  } catch (err) {
    throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `${fn} options cannot be read: listing their keys threw`, { cause: err });
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (typeof key !== 'string') continue;
    let desc: PropertyDescriptor | undefined;
    try {
      desc = Reflect.getOwnPropertyDescriptor(options, key);
    } catch (err) {
      throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `${fn} option ${describe(key)} cannot be read: reading it threw`, { cause: err });
    }
    if (desc === undefined || !desc.enumerable) continue;
    if (!isOneOf(key, allowed)) {
      const close = suggest(key, allowed);
      throw new MemmapTypeError(
        'ERR_UNKNOWN_OPTION',
        `${fn} has no option ${describe(key)}` + (close === undefined ? `; its options are ${allowed.join(', ')}` : `: did you mean ${close}?`),
      );
    }
    if (!isData(desc)) {
      throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `${fn} option ${key} is an accessor property; pass its value as a plain data property`);
    }
    out[key as K] = desc.value;
  }
  return out;
}

function isOneOf(key: string, allowed: readonly string[]): boolean {
  for (let i = 0; i < allowed.length; i++) if (allowed[i] === key) return true;
  return false;
}

const defineProperty = Object.defineProperty;
const hasOwn = Object.hasOwn;

/**
 * Whether a property descriptor (from getOwnPropertyDescriptor) is a data
 * descriptor. `'value' in desc` would be fooled by a polluted
 * Object.prototype.value on an accessor's descriptor; `value` is an own field
 * of every data descriptor.
 */
export function isData(desc: PropertyDescriptor): boolean {
  return hasOwn(desc, 'value');
}

/**
 * Appends `value` to an array this library built, as an own data property:
 * unlike push() or `a[i] = v`, it runs no Array.prototype method or
 * index accessor a caller may have installed.
 */
export function appendOwn<T>(array: T[], value: T): void {
  // A null-prototype descriptor: a polluted Object.prototype.get or .set would make it an invalid one.
  defineProperty(array, array.length, { __proto__: null, value, writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
}

/**
 * A new array of `n` own data elements (undefined): a store `a[i] = v` with i < n then runs no setter a caller put on
 * Array.prototype (a store to a missing index looks one up). appendOwn()'s cheap twin where the length is known:
 * defining a property costs about as much as a read() of a small block.
 */
export function ownSlots<T = unknown>(n: number): T[] {
  if (n <= 4) {
    const a: T[] = [undefined as T, undefined as T, undefined as T, undefined as T];
    a.length = n;
    return a;
  }
  const a: T[] = [];
  for (let i = 0; i < n; i++) appendOwn(a, undefined as T);
  return a;
}

/** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
function editDistance(a: string, b: string): number {
  // Three rows of typed arrays: no Array.prototype method a caller may have patched runs here.
  const w = b.length + 1;
  let prev2 = new Int32Array(w);
  let prev = new Int32Array(w);
  let row = new Int32Array(w);
  for (let j = 0; j < w; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      row[j] = v;
    }
    const spare = prev2; // rotate (no array destructuring: it runs Array.prototype[Symbol.iterator])
    prev2 = prev;
    prev = row;
    row = spare;
  }
  return prev[b.length];
}

/** The allowed name closest to a mistyped one, if one is close (case, a typo or two). */
function suggest(key: string, allowed: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  const k = key.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (let i = 0; i < allowed.length; i++) {
    const name = allowed[i];
    const n = name.toLowerCase();
    const dist = n === k ? 0 : editDistance(k, n);
    if (dist < bestDistance && dist <= Math.max(1, Math.floor(n.length / 3))) {
      best = name;
      bestDistance = dist;
    }
  }
  return best;
}

/**
 * A bigint as a number (any other value as it is): the one place index-like
 * bigints are converted. A huge one becomes ±Infinity, which every caller
 * treats as out of bounds (or clamps, as Python does for slices).
 */
export function unBig(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

const MODE_ALIASES: ReadonlyMap<string, Mode> = new Map<string, Mode>([
  ['r', 'r'],
  ['readonly', 'r'],
  ['r+', 'r+'],
  ['readwrite', 'r+'],
  ['w+', 'w+'],
  ['write', 'w+'],
  ['c', 'c'],
  ['copyonwrite', 'c'],
]);

/** numpy's mode names (long aliases included) to memmap's; undefined is 'r'. Else ERR_INVALID_MODE. */
export function normalizeMode(mode: unknown): Mode {
  if (mode === undefined) return 'r';
  const m = typeof mode === 'string' ? MODE_ALIASES.get(mode) : undefined;
  if (m === undefined) {
    throw new MemmapTypeError('ERR_INVALID_MODE', `mode must be one of r, r+, w+, c (or readonly, readwrite, write, copyonwrite), got ${describe(mode)}`);
  }
  return m;
}

/** memmap()'s `partial`: true for 'ignore' (a trailing partial element is left out), false for 'error' or undefined. */
export function normalizePartial(partial: unknown): boolean {
  if (partial === undefined || partial === 'error') return false;
  if (partial === 'ignore') return true;
  throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `partial must be 'error' or 'ignore', got ${describe(partial)}`);
}

/** A byte offset: a non-negative safe integer, as a number or an exactly representable bigint; undefined is 0. */
export function normalizeOffset(offset: unknown): number {
  if (offset === undefined) return 0;
  const n = unBig(offset);
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || (typeof offset === 'bigint' && BigInt(n) !== offset)) {
    throw new MemmapTypeError('ERR_INVALID_OFFSET', `offset must be a non-negative integer, got ${describe(offset)}`);
  }
  if (n < 0) throw new MemmapRangeError('ERR_INVALID_OFFSET', `offset must be non-negative, got ${n}`);
  return n === 0 ? 0 : n; // no -0
}

/**
 * The items of a genuine array (`Array.isArray`), read as own data properties
 * without running any getter: a hole reads as undefined (never an inherited
 * `Array.prototype[i]`), an accessor element is refused. Returns undefined for
 * anything that is not an array. An array longer than `maxLength` is refused
 * before any element is read (MemmapRangeError if `tooLongIsRange`, else
 * MemmapTypeError), and so is a Proxy whose trap throws (MemmapTypeError, the
 * exception as `cause`); all with `code`.
 */
export function ownArrayItems(value: unknown, what: string, maxLength: number, code: MemmapErrorCode, tooLongIsRange: boolean): unknown[] | undefined {
  const fail = (message: string, cause?: unknown): never => {
    throw new MemmapTypeError(code, message, cause === undefined ? undefined : { cause });
  };
  let isArray = false;
  try {
    isArray = Array.isArray(value);
  } catch (err) {
    fail(`${what} cannot be read (a revoked Proxy)`, err);
  }
  if (!isArray) return undefined;
  const arr = value as object;
  const own = (key: string): PropertyDescriptor | undefined => {
    try {
      return Reflect.getOwnPropertyDescriptor(arr, key);
    } catch (err) {
      return fail(`${what} cannot be read: reading its ${key === 'length' ? 'length' : `item ${key}`} threw`, err);
    }
  };
  const lengthDesc = own('length'); // an own data property of every array; a Proxy may lie
  const length: unknown = lengthDesc !== undefined && isData(lengthDesc) ? lengthDesc.value : undefined;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) return fail(`${what} has no valid length`);
  if (length > maxLength) {
    const message = `${what} has ${length} items, more than ${maxLength}`;
    if (tooLongIsRange) throw new MemmapRangeError(code, message);
    return fail(message);
  }
  const items = ownSlots(length);
  for (let i = 0; i < length; i++) {
    const desc = own(`${i}`);
    if (desc !== undefined && !isData(desc)) fail(`${what}[${i}] is an accessor property; pass plain values`);
    items[i] = desc === undefined ? undefined : desc.value;
  }
  return items;
}
