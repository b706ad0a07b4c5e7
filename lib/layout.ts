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
