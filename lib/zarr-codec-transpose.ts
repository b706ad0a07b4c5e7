// Zarr v3 `transpose` codec (array -> array): the chunk is stored with its
// axes permuted. Reading needs no copy: the permutation only changes strides.
import { MemmapError } from './errors';

/** The permutation of a transpose configuration: `order` a list of axes ('C'/'F', the older spelling, too). */
export function transposeOrder(config: Record<string, unknown>, ndim: number, where: string): number[] {
  const o = config.order;
  const identity = Array.from({ length: ndim }, (_, i) => i);
  if (o === 'C') return identity;
  if (o === 'F') return identity.reverse();
  const bad = (): never => {
    throw new MemmapError('ERR_ZARR_METADATA', `${where}: transpose order must be a permutation of 0..${ndim - 1}`, { path: where });
  };
  if (!Array.isArray(o) || o.length !== ndim) return bad();
  const seen = new Set<number>();
  for (const a of o) {
    if (!Number.isInteger(a) || a < 0 || a >= ndim || seen.has(a)) bad();
    seen.add(a as number);
  }
  return (o as number[]).slice();
}

/**
 * Element strides, in the chunk's own axes, of a chunk stored in C order with
 * its axes permuted by `order` (stored axis k is chunk axis order[k]).
 */
export function permutedStrides(shape: readonly number[], order: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let step = 1;
  for (let k = order.length - 1; k >= 0; k--) {
    strides[order[k]] = step;
    step *= shape[order[k]];
  }
  return strides;
}
