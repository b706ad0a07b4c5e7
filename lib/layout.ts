// Shapes, strides (in elements) and index arithmetic.
import { types } from 'node:util';
import { describe, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { appendOwn, ownArrayItems, ownSlots, unBig } from './options';

export type Order = 'C' | 'F';

// Taken at load: sizeOf()/stridesFor() run in resize()'s no-fail path, where a patched built-in must not run.
const isSafeInteger = Number.isSafeInteger;

/** numpy's NPY_MAXDIMS: arrays have at most 64 dimensions (numpy >= 2.0). */
export const MAX_DIMS = 64;

/**
 * Normalises a shape given as a number or an array of at most 64 non-negative
 * safe integers (bigints allowed). ERR_INVALID_SHAPE otherwise: MemmapTypeError
 * for a wrong type, MemmapRangeError for a negative dimension or more than 64.
 */
export function normalizeShape(shape: unknown, what = 'shape'): number[] {
  const dims = typeof shape === 'number' || typeof shape === 'bigint' ? [shape] : ownArrayItems(shape, what, MAX_DIMS, 'ERR_INVALID_SHAPE', true);
  if (dims === undefined) {
    throw new MemmapTypeError('ERR_INVALID_SHAPE', `${what} must be an array of non-negative integers, got ${describe(shape)}`);
  }
  const out = ownSlots<number>(dims.length);
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    const n = unBig(d);
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      throw new MemmapTypeError('ERR_INVALID_SHAPE', `${what}[${i}] must be an integer below 2^53, got ${describe(d)}`);
    }
    if (n < 0) throw new MemmapRangeError('ERR_INVALID_SHAPE', `${what}[${i}] must be non-negative, got ${n}`);
    out[i] = n === 0 ? 0 : n; // no -0
  }
  return out;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * numpy's "array is too big" rule: the product of the non-zero dimensions
 * times the itemsize must fit in int64, even when another dimension is 0
 * (numpy refuses `np.empty((0, 2**62, 2**62))`).
 */
export function isTooBigForNumpy(shape: readonly number[], itemsize: number): boolean {
  let bytes = BigInt(itemsize);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 0) continue;
    bytes *= BigInt(d);
    if (bytes > INT64_MAX) return true;
  }
  return false;
}

/** Throws MemmapRangeError ERR_INVALID_SHAPE for a shape numpy calls "array is too big" (see isTooBigForNumpy). */
export function checkNumpySize(shape: readonly number[], itemsize: number, what = 'shape'): void {
  if (isTooBigForNumpy(shape, itemsize)) {
    throw new MemmapRangeError(
      'ERR_INVALID_SHAPE',
      `${what} (${shape.join(', ')}) is too big: its non-zero dimensions times the itemsize ${itemsize} exceed 2^63 - 1 bytes, as numpy refuses`,
    );
  }
}

export function normalizeOrder(order: unknown): Order {
  if (order === undefined || order === 'C' || order === 'c') return 'C';
  if (order === 'F' || order === 'f') return 'F';
  throw new MemmapTypeError('ERR_INVALID_ORDER', `order must be 'C' or 'F', got ${describe(order)}`);
}

/** Number of elements; throws when it would not be exact in a double. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (let i = 0; i < shape.length; i++) size *= shape[i];
  if (!isSafeInteger(size)) throw new MemmapRangeError('ERR_INVALID_SHAPE', 'shape has too many elements');
  return size;
}

/** Element strides of a contiguous array in C (row-major) or F (column-major) order. */
export function stridesFor(shape: readonly number[], order: Order): number[] {
  const strides = ownSlots<number>(shape.length); // own elements: the assignments below run no setter
  let step = 1;
  if (order === 'C') {
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = step;
      step *= shape[i] > 1 ? shape[i] : 1;
    }
  } else {
    for (let i = 0; i < shape.length; i++) {
      strides[i] = step;
      step *= shape[i] > 1 ? shape[i] : 1;
    }
  }
  return strides;
}

/**
 * numpy's rule for one integer index on an axis of length `dim`: a number that
 * is an integer or a bigint (a huge one is ±Infinity: out of bounds), negative
 * counting from the end. ERR_INVALID_INDEX for anything else, ERR_OUT_OF_RANGE
 * outside the axis. The one place indices are normalised.
 */
export function axisIndex(item: unknown, dim: number, axis: number): number {
  let n: number;
  if (typeof item === 'number' && Number.isInteger(item)) n = item;
  else if (typeof item === 'bigint') n = unBig(item) as number;
  else throw new MemmapTypeError('ERR_INVALID_INDEX', `index ${axis} must be an integer, got ${describe(item)}`);
  const k = n < 0 ? n + dim : n;
  if (k < 0 || k >= dim) {
    throw new MemmapRangeError('ERR_OUT_OF_RANGE', `index ${describe(item)} is out of bounds for axis ${axis} with size ${dim}`);
  }
  return k;
}

/**
 * Linear element index of `idx` (numpy rules: negative counts from the end).
 * `count` is how many of `idx` are indices.
 */
export function linearIndex(shape: readonly number[], strides: readonly number[], idx: ArrayLike<unknown>, count: number): number {
  if (count !== shape.length) {
    throw new MemmapRangeError('ERR_INVALID_INDEX', `expected ${shape.length} indices, got ${count}`);
  }
  let k = 0;
  for (let d = 0; d < count; d++) k += axisIndex(idx[d], shape[d], d) * strides[d];
  return k;
}

/** A numpy slice `start:stop:step` as a tuple; omitted or null parts take numpy's defaults. */
export type Slice = readonly [start?: number | null, stop?: number | null, step?: number | null];

/**
 * One axis of a numpy basic index: an integer picks one position (the axis is
 * dropped), null/undefined takes the whole axis (`:`), a Slice takes a range.
 */
export type IndexItem = number | bigint | null | undefined | Slice;

/** Offset, shape and strides (in elements) of a view of an array. */
export interface ViewSpec {
  offset: number;
  shape: number[];
  strides: number[];
}

function sliceBound(v: unknown, d: number, what: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return unBig(v) as number; // beyond 2^1024 ±Infinity, which clamps like Python's huge ints
  const n = v;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new MemmapTypeError('ERR_INVALID_INDEX', `slice ${what} for axis ${d} must be an integer or null, got ${describe(v)}`);
  }
  return n;
}

/**
 * The view `a[index]` selects, with numpy's basic-indexing rules: integers
 * (negative from the end, bounds-checked) drop their axis, slices clamp like
 * Python's, missing trailing indices take whole axes. `scale` multiplies the
 * offset and strides (the itemsize gives them in bytes).
 */
export function viewOf(shape: readonly number[], strides: readonly number[], index: readonly IndexItem[], scale = 1): ViewSpec {
  if (index.length > shape.length) {
    throw new MemmapRangeError('ERR_INVALID_INDEX', `too many indices: array is ${shape.length}-dimensional, got ${index.length}`);
  }
  let offset = 0;
  const outShape = ownSlots<number>(shape.length);
  const outStrides = ownSlots<number>(shape.length);
  let k = 0; // kept axes so far
  for (let d = 0; d < shape.length; d++) {
    const item = d < index.length ? index[d] : null;
    const dim = shape[d];
    if (item === null || item === undefined) {
      outShape[k] = dim;
      outStrides[k++] = strides[d];
    } else if (typeof item === 'number' || typeof item === 'bigint') {
      offset += axisIndex(item, dim, d) * strides[d];
    } else {
      const slice = ownArrayItems(item, `slice for axis ${d}`, 3, 'ERR_INVALID_INDEX', false);
      if (slice === undefined) {
        throw new MemmapTypeError('ERR_INVALID_INDEX', `index ${d} must be an integer, null or a [start, stop, step] slice, got ${describe(item)}`);
      }
      const step = sliceBound(slice[2], d, 'step') ?? 1;
      if (step === 0) throw new MemmapRangeError('ERR_INVALID_INDEX', `slice step for axis ${d} cannot be zero`);
      // Python's slice.indices(dim).
      const lower = step < 0 ? -1 : 0;
      const upper = step < 0 ? dim - 1 : dim;
      const bound = (v: number | null, dflt: number): number => {
        if (v === null) return dflt;
        if (v < 0) return Math.max(v + dim, lower);
        return Math.min(v, upper);
      };
      const start = bound(sliceBound(slice[0], d, 'start'), step < 0 ? upper : lower);
      const stop = bound(sliceBound(slice[1], d, 'stop'), step < 0 ? lower : upper);
      // Python's len(range(start, stop, step)); floor(...) + 1 stays right for a step of ±Infinity (a huge bigint).
      const count = step > 0 ? (start < stop ? Math.floor((stop - start - 1) / step) + 1 : 0) : start > stop ? Math.floor((start - stop - 1) / -step) + 1 : 0;
      if (count > 0) offset += start * strides[d];
      outShape[k] = count;
      // a[0:10:2**52] is a[0:1], as numpy: the step of a length-1 axis is irrelevant (its stride becomes 0 below).
      outStrides[k++] = count > 1 ? step * strides[d] : 0;
    }
  }
  outShape.length = k;
  outStrides.length = k;
  let empty = false;
  for (let d = 0; d < outShape.length; d++) if (outShape[d] === 0) empty = true;
  if (empty) offset = 0; // no element is selected: the offset and strides are never used
  offset *= scale;
  let safe = Number.isSafeInteger(offset);
  for (let d = 0; d < outStrides.length; d++) {
    // An axis of length <= 1 never moves by its stride: 0 keeps every stride below the array's byte size.
    const st = empty || outShape[d] <= 1 ? 0 : outStrides[d] * scale;
    outStrides[d] = st;
    if (!Number.isSafeInteger(st)) safe = false;
  }
  // Each stride of a selection that has elements spans at most the array, whose byte size is safe: never hit.
  if (!safe) throw new MemmapRangeError('ERR_INVALID_INDEX', 'the selection has a byte offset or stride past 2^53 - 1');
  return { offset, shape: outShape, strides: outStrides };
}

/** TypedArray.prototype.length, taken before any caller code runs: a subclass cannot override it. */
const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), 'length')?.get as (this: unknown) => number;

function tooLarge(what: string, bytes: number, limit: number, cause?: unknown): MemmapError {
  return new MemmapError('ERR_TOO_LARGE', `${what} of ${bytes} bytes cannot be allocated (the largest ArrayBuffer of this Node.js is ${limit} bytes)`, cause === undefined ? {} : { cause });
}

/**
 * gather()'s index arrays, checked and converted to Float64Arrays for the
 * native kernel: one per axis (`ndim`), each an Array, an array-like object
 * or a TypedArray, all of one length (a non-negative safe integer), every item
 * a number or a bigint (whether it is an integer in bounds is checked
 * natively). A result of `count * itemsize` bytes above `limit` is refused
 * with ERR_TOO_LARGE before anything is allocated, and so is a failed
 * allocation. Each `length` and item of an Array or array-like is read once
 * (getters and Proxy traps run; an exception from one becomes MemmapTypeError
 * ERR_INVALID_INDEX with it as `cause`), and all of them before the
 * TypedArrays are read, so no caller code runs between the last check and the
 * native call (a getter cannot detach a Float64Array handed on as it is).
 * Uses no Array.prototype method: a patched one would be caller code too.
 */
export function indexColumns(coords: readonly unknown[], ndim: number, itemsize: number, limit: number): { count: number; columns: Float64Array[] } {
  const n = coords.length;
  if (n !== ndim) {
    throw new MemmapRangeError('ERR_INVALID_INDEX', `gather() needs one index array per axis (${ndim}), got ${n}`);
  }
  const columns: Float64Array[] = [];
  const lengths: number[] = [];
  for (let d = 0; d < n; d++) {
    const c = coords[d];
    if (c === null || typeof c !== 'object') {
      throw new MemmapTypeError('ERR_INVALID_INDEX', `index array ${d} must be an array of integers, got ${describe(c)}`);
    }
    let length: unknown;
    if (types.isTypedArray(c)) length = typedArrayLength.call(c);
    else {
      try {
        length = (c as { length?: unknown }).length;
      } catch (err) {
        throw new MemmapTypeError('ERR_INVALID_INDEX', `index array ${d} cannot be read: reading its length threw`, { cause: err });
      }
    }
    if (typeof length !== 'number') {
      throw new MemmapTypeError('ERR_INVALID_INDEX', `index array ${d} must be an array of integers (its length is ${describe(length)})`);
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new MemmapRangeError('ERR_INVALID_INDEX', `index array ${d} has length ${describe(length)}: not a non-negative safe integer`);
    }
    appendOwn(lengths, length);
  }
  const count = n === 0 ? 1 : lengths[0];
  for (let d = 1; d < n; d++) {
    if (lengths[d] !== count) throw new MemmapRangeError('ERR_INVALID_INDEX', `index arrays must have one length, got ${count} (array 0) and ${lengths[d]} (array ${d})`);
  }
  if (count * itemsize > limit) throw tooLarge('a result', count * itemsize, limit);
  // Checked, not just caught: some allocators abort instead of failing (ASan).
  if (count * 8 > limit) throw tooLarge('an index array as float64', count * 8, limit);
  const alloc = (): Float64Array => {
    try {
      return new Float64Array(count);
    } catch (err) {
      throw tooLarge('an index array as float64', count * 8, limit, err);
    }
  };
  // 1. Arrays and array-likes: reading them may run caller code.
  for (let d = 0; d < n; d++) {
    const c = coords[d];
    if (types.isTypedArray(c)) {
      appendOwn(columns, EMPTY); // filled in step 2
      continue;
    }
    const col = alloc();
    const src = c as ArrayLike<unknown>;
    for (let k = 0; k < count; k++) {
      let v: unknown;
      try {
        v = src[k];
      } catch (err) {
        throw new MemmapTypeError('ERR_INVALID_INDEX', `index array ${d} cannot be read: reading position ${k} threw`, { cause: err });
      }
      if (typeof v === 'number') col[k] = v;
      else if (typeof v === 'bigint') col[k] = unBig(v) as number; // ±Infinity when huge: refused natively as out of bounds
      else throw new MemmapTypeError('ERR_INVALID_INDEX', `index ${describe(v)} (array ${d}, position ${k}) must be an integer`);
    }
    appendOwn(columns, col);
  }
  // 2. TypedArrays, read without caller code; their lengths again (caller code in step 1 may have detached one).
  for (let d = 0; d < n; d++) {
    const c = coords[d];
    if (!types.isTypedArray(c)) continue;
    const length = typedArrayLength.call(c);
    if (length !== count) {
      throw new MemmapRangeError('ERR_INVALID_INDEX', `index array ${d} changed length from ${count} to ${length} while the index arrays were read`);
    }
    let col: Float64Array;
    if (count === 0) col = new Float64Array(0); // a detached one may be empty: nothing to read
    else if (types.isFloat64Array(c)) col = c;
    else if (types.isBigInt64Array(c) || types.isBigUint64Array(c)) {
      col = alloc();
      for (let k = 0; k < count; k++) col[k] = Number(c[k]);
    } else {
      try {
        col = new Float64Array(c as unknown as ArrayLike<number>);
      } catch (err) {
        throw tooLarge('an index array as float64', count * 8, limit, err);
      }
    }
    columns[d] = col; // an own element already: no setter runs
  }
  return { count, columns };
}

const EMPTY = new Float64Array(0);

/**
 * A view as the native kernels take it: [byteOffset, ndim, ...shape,
 * ...byteStrides] in a Float64Array built here, so reading it runs no user
 * code (an Array's elements could be getters). `scale` turns element strides
 * into bytes (1 when they already are).
 */
export function viewDescriptor(offset: number, shape: readonly number[], strides: readonly number[], scale: number): Float64Array {
  const n = shape.length;
  const d = new Float64Array(2 + 2 * n);
  d[0] = offset;
  d[1] = n;
  for (let k = 0; k < n; k++) {
    d[2 + k] = shape[k];
    d[2 + n + k] = strides[k] * scale;
  }
  return d;
}
