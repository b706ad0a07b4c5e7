// numpy's reductions, planned in JavaScript and run natively: which axes a
// call reduces, the native view with the kept axes first, the result's dtype
// and shape, and the checks numpy makes (axis range, repeated axes, empty
// reductions, `out`). The loops are src-native/reduce.cc; MemmapArray's
// methods (lib/array.ts) are thin wrappers over plan() and the storage.
import { type DType, DTYPES, type DTypeName, MACHINE_LITTLE_ENDIAN, parseDType } from './dtype';
import { describe, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { type IndexItem, MAX_DIMS, viewDescriptor, type ViewSpec } from './layout';
import { appendOwn, ownArrayItems, ownSlots, readOptions } from './options';

/**
 * The reductions, in src-native/reduce.h's order (MEMMAP_REDUCTIONS; the code
 * is the position; test/registry.test.js checks the addon reports the same).
 */
export const REDUCTIONS = [
  'sum',
  'prod',
  'mean',
  'var',
  'min',
  'max',
  'argmin',
  'argmax',
  'any',
  'all',
  'count_nonzero',
  'nansum',
  'nanmean',
  'nanvar',
  'nanmin',
  'nanmax',
  'nanargmin',
  'nanargmax',
] as const;
export type NativeReduction = (typeof REDUCTIONS)[number];
const OP_CODES = Object.create(null) as Record<NativeReduction, number>;
for (let i = 0; i < REDUCTIONS.length; i++) OP_CODES[REDUCTIONS[i]] = i;

/** What the public methods reduce with: the native ones, and std/nanstd (the square root of var/nanvar). */
export type Reduction = NativeReduction | 'std' | 'nanstd';

/** How each reduction treats dtypes and options. */
export type Family = 'acc' | 'mean' | 'var' | 'value' | 'arg' | 'bool' | 'count';
const FAMILY: Readonly<Record<NativeReduction, Family>> = {
  __proto__: null,
  sum: 'acc',
  prod: 'acc',
  nansum: 'acc',
  mean: 'mean',
  nanmean: 'mean',
  var: 'var',
  nanvar: 'var',
  min: 'value',
  max: 'value',
  nanmin: 'value',
  nanmax: 'value',
  argmin: 'arg',
  argmax: 'arg',
  nanargmin: 'arg',
  nanargmax: 'arg',
  any: 'bool',
  all: 'bool',
  count_nonzero: 'count',
} as unknown as Record<NativeReduction, Family>;

/** Options every reduction takes. */
export interface ReduceOptions {
  /**
   * The axes to reduce, numpy's `axis`: a number (negative from the end), a
   * list of distinct numbers, or null/undefined for all. argmin/argmax and
   * their nan twins take one axis or null.
   */
  axis?: number | readonly number[] | null;
  /** Keep the reduced axes with length 1, so the result broadcasts against the input. */
  keepdims?: boolean;
  /**
   * Where the result goes: an array (in memory or mapped, writable, C
   * contiguous, native byte order) or a TypedArray of the result's type with
   * exactly its elements (complex: interleaved). The call returns it.
   */
  out?: unknown;
  /** Native threads for large reductions: 0/undefined uses MEMMAP_THREADS or the machine's cores; 1 stays on one. The result is the same for any count. */
  threads?: number;
}
/** sum/prod/mean/var/std and their nan twins: the accumulator and result type, numpy's `dtype`. */
export interface AccumulateOptions extends ReduceOptions {
  dtype?: string | null;
}
/** var/std: numpy's delta degrees of freedom (divide by n - ddof). */
export interface VarianceOptions extends AccumulateOptions {
  ddof?: number;
}
/** The async twins add an AbortSignal. */
export interface AsyncOptions {
  signal?: AbortSignal;
}

/** A reduction planned: what to run natively and what the result looks like. */
export interface ReducePlan {
  op: NativeReduction;
  /** Native op code. */
  code: number;
  /** View with the kept axes first, then the reduced ones (bytes). */
  view: Float64Array;
  nkeep: number;
  /** Elements reduced into each result. */
  reduced: number;
  /** The result's shape (keepdims included); [] for a scalar result. */
  shape: number[];
  /** True when the call returns a scalar (no axis, no keepdims, no out). */
  scalar: boolean;
  /** The result's dtype (native byte order). */
  dtype: DType;
  /** sqrt after the native var. */
  sqrt: boolean;
  ddof: number;
  threads: number;
  out: unknown;
  signal: AbortSignal | undefined;
  family: Family;
  /** No `dtype` option: numpy's (or, for floats, float64) accumulator. */
  defaultDType: boolean;
  /** The input's dtype. */
  input: DType;
  /** Per axis of the selection: reduced or not. */
  axes: boolean[];
  /** The `dtype` option's dtype name, or undefined (for a caller that plans parts of the reduction again). */
  accumulator: DTypeName | undefined;
}

const ACC = ['axis', 'keepdims', 'out', 'threads', 'dtype'] as const;
const VAR = ['axis', 'keepdims', 'out', 'threads', 'dtype', 'ddof'] as const;
const PLAIN = ['axis', 'keepdims', 'out', 'threads'] as const;
const ACC_ASYNC = [...ACC, 'signal'] as const;
const VAR_ASYNC = [...VAR, 'signal'] as const;
const PLAIN_ASYNC = [...PLAIN, 'signal'] as const;

/** Array.isArray, with a revoked Proxy (which makes it throw) counted as a list: an index item, refused as such later. */
export function isList(x: object): boolean {
  try {
    return Array.isArray(x);
  } catch {
    return true;
  }
}

/** A trailing options argument: a non-null object that is not a slice (an array). */
export function splitArgs(args: readonly unknown[]): { index: IndexItem[]; options: unknown } {
  const n = args.length;
  const last = n > 0 ? args[n - 1] : undefined;
  const hasOptions = typeof last === 'object' && last !== null && !isList(last);
  const count = hasOptions ? n - 1 : n;
  const index = ownSlots<IndexItem>(count);
  for (let i = 0; i < count; i++) index[i] = args[i] as IndexItem;
  return { index, options: hasOptions ? last : undefined };
}

/** numpy's default accumulator/result dtype of each family for an input dtype. */
function defaultDType(family: Family, dt: DType): DTypeName {
  switch (family) {
    case 'acc':
      if (dt.kind === 'c') return 'complex128';
      if (dt.kind === 'f') return 'float64';
      return dt.kind === 'u' ? 'uint64' : 'int64';
    case 'mean':
      return dt.kind === 'c' ? 'complex128' : 'float64';
    case 'var':
      return 'float64';
    case 'value':
      return dt.name;
    case 'arg':
    case 'count':
      return 'int64';
    case 'bool':
      return 'bool';
  }
}

/** The accumulator a `dtype` option asks for, refusing what numpy would cast unsafely. */
function chosenDType(op: Reduction, family: Family, dt: DType, value: unknown): DTypeName {
  if (value === undefined || value === null) return defaultDType(family, dt);
  const want = parseDType(value);
  const k = want.kind;
  const bad = (why: string): never => {
    throw new MemmapTypeError('ERR_INVALID_DTYPE', `${op}() of ${dt.name} cannot accumulate in ${want.name}: ${why}`);
  };
  if (k === 'b') bad('a bool accumulator is not a number type');
  if (family === 'acc') {
    if ((dt.kind === 'f' || dt.kind === 'c') && (k === 'i' || k === 'u')) bad('float to integer would truncate each element');
    if (dt.kind === 'c' && k !== 'c') bad('complex to real would drop the imaginary parts');
    return want.name;
  }
  // mean, var: a float or complex accumulator, as numpy's true_divide gives.
  if (k === 'i' || k === 'u') bad('use a float or complex dtype');
  if (dt.kind === 'c' && k !== 'c' && family === 'mean') bad('complex to real would drop the imaginary parts');
  if (family === 'var') return k === 'c' ? (want.name === 'complex64' ? 'float32' : 'float64') : want.name === 'float16' ? 'float32' : want.name;
  return want.name;
}

/** The list of axes to reduce, normalised (sorted, in range, distinct). */
function axesOf(value: unknown, ndim: number, op: Reduction): boolean[] {
  const reduce: boolean[] = [];
  for (let d = 0; d < ndim; d++) appendOwn(reduce, value === undefined || value === null);
  if (value === undefined || value === null) return reduce;
  const single = FAMILY[op as NativeReduction] === 'arg';
  let items: unknown[];
  if (typeof value === 'number' || typeof value === 'bigint') items = [value];
  else {
    const list = single ? undefined : ownArrayItems(value, 'axis', MAX_DIMS, 'ERR_INVALID_AXIS', true);
    if (list === undefined) {
      throw new MemmapTypeError('ERR_INVALID_AXIS', `${op}() axis must be ${single ? 'an integer or null' : 'an integer, a list of integers or null'}, got ${describe(value)}`);
    }
    items = list;
  }
  for (let i = 0; i < items.length; i++) {
    const raw = items[i];
    const a = typeof raw === 'bigint' ? Number(raw) : raw;
    if (typeof a !== 'number' || !Number.isInteger(a)) throw new MemmapTypeError('ERR_INVALID_AXIS', `${op}() axis must be an integer, got ${describe(raw)}`);
    if (a < -ndim || a >= ndim) throw new MemmapRangeError('ERR_INVALID_AXIS', `axis ${a} is out of bounds for array of dimension ${ndim}`);
    const d = a < 0 ? a + ndim : a;
    if (reduce[d]) throw new MemmapRangeError('ERR_INVALID_AXIS', `${op}() axis ${a} is repeated`);
    reduce[d] = true;
  }
  return reduce;
}

function threadsOf(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 256) {
    throw new MemmapRangeError('ERR_INVALID_ARG_VALUE', `threads must be an integer from 0 (default) to 256, got ${describe(value)}`);
  }
  return value;
}

/**
 * Plans `op` over the selection `v` (offset and strides in bytes) of an array
 * of dtype `dt`, with the caller's options.
 */
export function plan(op: Reduction, dt: DType, v: ViewSpec, options: unknown, isAsync: boolean): ReducePlan {
  const native: NativeReduction = op === 'std' ? 'var' : op === 'nanstd' ? 'nanvar' : op;
  const family = FAMILY[native];
  const allowed: readonly string[] = family === 'var' ? VAR : family === 'acc' || family === 'mean' ? ACC : PLAIN;
  const fn = `${op}${isAsync ? 'Async' : ''}()`;
  const o = readOptions(options, isAsync ? (family === 'var' ? VAR_ASYNC : family === 'acc' || family === 'mean' ? ACC_ASYNC : PLAIN_ASYNC) : allowed, fn) as Partial<VarianceOptions & AsyncOptions>;
  const ndim = v.shape.length;
  const reduce = axesOf(o.axis, ndim, op);
  const keepdims = o.keepdims === true;
  if (o.keepdims !== undefined && typeof o.keepdims !== 'boolean') throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `${fn} keepdims must be a boolean, got ${describe(o.keepdims)}`);
  let ddof = 0;
  if (o.ddof !== undefined) {
    if (typeof o.ddof !== 'number' || !Number.isFinite(o.ddof)) throw new MemmapTypeError('ERR_INVALID_ARG_VALUE', `${fn} ddof must be a finite number, got ${describe(o.ddof)}`);
    ddof = o.ddof;
  }
  const signal = o.signal;
  if (signal !== undefined && !isAbortSignal(signal)) throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `${fn} signal must be an AbortSignal, got ${describe(signal)}`);
  const dtype = parseDType((MACHINE_LITTLE_ENDIAN ? '<' : '>') + DTYPES[chosenDType(op, family, dt, o.dtype)].codes[0]);
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  const shape: number[] = [];
  let reduced = 1;
  for (let d = 0; d < ndim; d++) {
    if (reduce[d]) {
      appendOwn(redShape, v.shape[d]);
      appendOwn(redStrides, v.strides[d]);
      reduced *= v.shape[d];
      if (keepdims) appendOwn(shape, 1);
    } else {
      appendOwn(keptShape, v.shape[d]);
      appendOwn(keptStrides, v.strides[d]);
      appendOwn(shape, v.shape[d]);
    }
  }
  if (reduced === 0 && (family === 'value' || family === 'arg')) {
    throw new MemmapError('ERR_EMPTY_REDUCTION', `${op}() of an empty selection${o.axis === undefined || o.axis === null ? '' : ' along an empty axis'}: it has no identity`);
  }
  for (let d = 0; d < redShape.length; d++) {
    appendOwn(keptShape, redShape[d]);
    appendOwn(keptStrides, redStrides[d]);
  }
  return {
    op: native,
    code: OP_CODES[native],
    view: viewDescriptor(v.offset, keptShape, keptStrides, 1),
    nkeep: ndim - redShape.length,
    reduced,
    shape,
    scalar: redShape.length === ndim && !keepdims && o.out === undefined,
    dtype,
    sqrt: op === 'std' || op === 'nanstd',
    ddof,
    threads: threadsOf(o.threads),
    out: o.out,
    signal,
    family,
    defaultDType: o.dtype === undefined || o.dtype === null,
    input: dt,
    axes: reduce,
    accumulator: o.dtype === undefined || o.dtype === null ? undefined : parseDType(o.dtype).name,
  };
}

// AbortSignal's own accessors and EventTarget's methods, taken at load: a
// signal's own properties (a getter on `aborted`, an addEventListener that
// closes the array) and objects that only inherit from AbortSignal.prototype
// (its getters throw on them) cannot lie or throw mid-call.
const abortedGetter = typeof AbortSignal === 'function' ? (Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get as (this: unknown) => boolean) : undefined;
const reasonGetter = typeof AbortSignal === 'function' ? (Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')?.get as (this: unknown) => unknown) : undefined;
const addListener = typeof EventTarget === 'function' ? EventTarget.prototype.addEventListener : undefined;
const removeListener = typeof EventTarget === 'function' ? EventTarget.prototype.removeEventListener : undefined;

/** Whether `x` is a real AbortSignal (its brand, not its prototype chain). */
export function isAbortSignal(x: unknown): x is AbortSignal {
  if (typeof x !== 'object' || x === null || abortedGetter === undefined) return false;
  try {
    Reflect.apply(abortedGetter, x, []);
    return true;
  } catch {
    return false;
  }
}

/** signal.aborted, through AbortSignal.prototype's getter. */
export function isAborted(signal: AbortSignal): boolean {
  return Reflect.apply(abortedGetter as (this: unknown) => boolean, signal, []);
}

/** signal.addEventListener / removeEventListener('abort', fn), through EventTarget.prototype's. */
export function onAbort(signal: AbortSignal, fn: () => void, add: boolean): void {
  if (add) Reflect.apply(addListener as EventTarget['addEventListener'], signal, ['abort', fn, { once: true }]);
  else Reflect.apply(removeListener as EventTarget['removeEventListener'], signal, ['abort', fn]);
}

/** Square roots in place (std from var), rounded to the result's precision. */
export function sqrtInPlace(values: Float64Array | Float32Array): void {
  for (let i = 0; i < values.length; i++) values[i] = Math.sqrt(values[i]);
}

/** The error a cancelled async call rejects with: a MemmapError named AbortError, as Node's own. */
export function abortError(signal: AbortSignal): MemmapError {
  const reason = reasonGetter === undefined ? undefined : Reflect.apply(reasonGetter, signal, []);
  const err = new MemmapError('ERR_ABORTED', 'the operation was aborted', { cause: reason });
  Object.defineProperty(err, 'name', { __proto__: null, value: 'AbortError', configurable: true, writable: true, enumerable: false } as PropertyDescriptor);
  return err;
}
