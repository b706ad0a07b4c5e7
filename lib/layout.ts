// Shapes, strides (in elements) and index arithmetic.
import { MemmapRangeError, MemmapTypeError } from './errors';

export type Order = 'C' | 'F';

/** Normalises a shape given as a number or an array of non-negative safe integers. */
export function normalizeShape(shape: unknown, what = 'shape'): number[] {
  const dims = typeof shape === 'number' || typeof shape === 'bigint' ? [shape] : shape;
  if (!Array.isArray(dims)) {
    throw new MemmapTypeError('ERR_INVALID_SHAPE', `${what} must be an array of non-negative integers`);
  }
  return dims.map((d, i) => {
    const n = typeof d === 'bigint' ? Number(d) : d;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      throw new MemmapTypeError('ERR_INVALID_SHAPE', `${what}[${i}] must be an integer, got ${String(d)}`);
    }
    if (n < 0) throw new MemmapRangeError('ERR_INVALID_SHAPE', `${what}[${i}] must be non-negative, got ${n}`);
    return n;
  });
}

export function normalizeOrder(order: unknown): Order {
  if (order === undefined || order === 'C' || order === 'c') return 'C';
  if (order === 'F' || order === 'f') return 'F';
  throw new MemmapTypeError('ERR_INVALID_ORDER', `order must be 'C' or 'F', got ${JSON.stringify(order)}`);
}

/** Number of elements; throws when it would not be exact in a double. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  if (!Number.isSafeInteger(size)) throw new MemmapRangeError('ERR_INVALID_SHAPE', 'shape has too many elements');
  return size;
}

/** Element strides of a contiguous array in C (row-major) or F (column-major) order. */
export function stridesFor(shape: readonly number[], order: Order): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  if (order === 'C') {
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = step;
      step *= Math.max(shape[i], 1);
    }
  } else {
    for (let i = 0; i < shape.length; i++) {
      strides[i] = step;
      step *= Math.max(shape[i], 1);
    }
  }
  return strides;
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
  for (let d = 0; d < count; d++) {
    let i = idx[d];
    if (typeof i !== 'number' || !Number.isInteger(i)) {
      if (typeof i === 'bigint') i = Number(i);
      else throw new MemmapTypeError('ERR_INVALID_INDEX', `index ${d} must be an integer, got ${String(i)}`);
    }
    let n = i as number;
    const dim = shape[d];
    if (n < 0) n += dim;
    if (n < 0 || n >= dim) {
      throw new MemmapRangeError('ERR_OUT_OF_RANGE', `index ${String(idx[d])} is out of bounds for axis ${d} with size ${dim}`);
    }
    k += n * strides[d];
  }
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
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new MemmapTypeError('ERR_INVALID_INDEX', `slice ${what} for axis ${d} must be an integer or null, got ${String(v)}`);
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
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const item = d < index.length ? index[d] : null;
    const dim = shape[d];
    if (item === null || item === undefined) {
      outShape.push(dim);
      outStrides.push(strides[d]);
    } else if (typeof item === 'number' || typeof item === 'bigint') {
      const i = Number(item);
      if (!Number.isInteger(i)) throw new MemmapTypeError('ERR_INVALID_INDEX', `index ${d} must be an integer, got ${String(item)}`);
      const n = i < 0 ? i + dim : i;
      if (n < 0 || n >= dim) {
        throw new MemmapRangeError('ERR_OUT_OF_RANGE', `index ${i} is out of bounds for axis ${d} with size ${dim}`);
      }
      offset += n * strides[d];
    } else if (Array.isArray(item) && item.length <= 3) {
      const step = sliceBound(item[2], d, 'step') ?? 1;
      if (step === 0) throw new MemmapRangeError('ERR_INVALID_INDEX', `slice step for axis ${d} cannot be zero`);
      // Python's slice.indices(dim).
      const lower = step < 0 ? -1 : 0;
      const upper = step < 0 ? dim - 1 : dim;
      const bound = (v: number | null, dflt: number): number => {
        if (v === null) return dflt;
        if (v < 0) return Math.max(v + dim, lower);
        return Math.min(v, upper);
      };
      const start = bound(sliceBound(item[0], d, 'start'), step < 0 ? upper : lower);
      const stop = bound(sliceBound(item[1], d, 'stop'), step < 0 ? lower : upper);
      const count = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
      if (count > 0) offset += start * strides[d];
      outShape.push(count);
      outStrides.push(step * strides[d]);
    } else {
      throw new MemmapTypeError('ERR_INVALID_INDEX', `index ${d} must be an integer, null or a [start, stop, step] slice, got ${String(item)}`);
    }
  }
  if (scale !== 1) {
    offset *= scale;
    for (let d = 0; d < outStrides.length; d++) outStrides[d] *= scale;
  }
  return { offset, shape: outShape, strides: outStrides };
}
