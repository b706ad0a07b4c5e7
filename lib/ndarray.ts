// The scijs `ndarray` adapter: an ndarray sharing an array's memory, a direct
// TypedArray one where `data` works, else one over element accessors (other
// byte order, float16 without Float16Array, arrays past one ArrayBuffer or
// past scijs's int32 offsets, which get a WideNdArray).
import ndarrayFactory from 'ndarray';
import type { NdArray } from 'ndarray';
import { guarded } from './boundary';
import { type Codec, partCodecOf, toFloat } from './codec';
import { type DType, hasFloat16Array } from './dtype';
import { WideNdArray } from './ndview';

/** What the adapter needs of an array. */
export interface NdSource {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Element strides. */
  readonly strides: readonly number[];
  /** Element offset of element [0, …, 0] in the storage (a view's; 0 for an array). */
  readonly offset: number;
  /** Elements addressable in the storage (the base array's size). */
  readonly extent: number;
  /** The whole array fits one ArrayBuffer (`data` works). */
  readonly fits: boolean;
  isClosed(): boolean;
  /** The whole storage's `data` (the base array's; only called when it fits and in native byte order); null where the runtime refuses it. */
  data(): ArrayLike<unknown> | null;
  /** Element `k` (linear, in elements). */
  readElement(k: number): unknown;
  writeElement(k: number, value: unknown): void;
  /** codec.read/write at byte `b` of the array; `width`: the bytes `write` writes. */
  readByte(b: number, read: Codec['read']): unknown;
  writeByte(b: number, write: Codec['write'], value: unknown, width: number): void;
  /** Throws ERR_CLOSED or ERR_READ_ONLY. */
  checkWritable(): void;
}

/**
 * A scijs `ndarray` over the source's memory (lo/hi/step/transpose/pick work
 * and never copy). Complex arrays get a trailing axis of length 2 (re, im).
 */
export function toNdArray(src: NdSource): NdArray {
  const dt = src.dtype;
  const complex = dt.kind === 'c';
  const shape = complex ? [...src.shape, 2] : src.shape.slice();
  const strides = complex ? [...src.strides.map((s) => s * 2), 1] : src.strides.slice();
  const lanes = complex ? 2 : 1;
  const count = src.extent * lanes;
  const offset = src.offset * lanes;
  // scijs ndarray keeps offsets in int32; bigger arrays get an exact-offset twin.
  const wide = count > 0x7fffffff;
  const direct = !wide && src.fits && dt.isNative && (dt.name !== 'float16' || hasFloat16Array);
  const data = direct ? src.data() : null;
  if (data !== null) return ndarrayFactory(data as never, shape, strides, offset);
  let read: (i: number) => unknown;
  let write: (i: number, v: unknown) => void;
  if (complex) {
    // Component i of the interleaved (re, im) pairs, read as a float of half the itemsize.
    const part = partCodecOf(dt);
    const half = dt.itemsize / 2;
    const byteOf = (i: number) => Math.floor(i / 2) * dt.itemsize + (i % 2) * half;
    read = (i) => src.readByte(byteOf(i), part.read);
    write = (i, v) => src.writeByte(byteOf(i), part.write, typeof v === 'number' ? v : toFloat(dt.name, v), half);
  } else {
    read = (i) => src.readElement(i);
    write = (i, v) => src.writeElement(i, v);
  }
  const generic = {
    get length() {
      return src.isClosed() ? 0 : count;
    },
    // Like a TypedArray, which scijs indexes without bounds checks: an
    // index outside the array reads undefined and writes nothing.
    get: guarded((i: number): unknown => (src.isClosed() || !(i >= 0 && i < count) || !Number.isInteger(i) ? undefined : read(i))),
    set: guarded((i: number, v: unknown): void => {
      src.checkWritable();
      if (i >= 0 && i < count && Number.isInteger(i)) write(i, v);
    }),
  };
  if (wide) return new WideNdArray(generic, shape, strides, offset) as unknown as NdArray;
  return ndarrayFactory(generic as never, shape, strides, offset);
}
