// An ndarray-compatible view (scijs interface: data, shape, stride, offset,
// get/set/index/lo/hi/step/transpose/pick) with exact 53-bit offsets. scijs
// `ndarray` keeps offsets as int32 (`offset|0`), which breaks past 2^31
// elements, so ndarray() returns this class for arrays that large.

/** The data object of a generic ndarray: element access by linear index. */
export interface GenericData {
  readonly length: number;
  get(i: number): unknown;
  set(i: number, v: unknown): unknown;
}

/**
 * scijs's `x|0` for an index or offset, without its 32-bit wrap: truncates,
 * and NaN, ±Infinity and -0 become 0.
 */
function int(x: unknown): number {
  const n = +(x as number); // ToNumber, as `|0` (a bigint throws there too)
  return Number.isFinite(n) ? Math.trunc(n) + 0 : 0;
}

/**
 * Every method mirrors the code scijs generates for a view (ndarray.js), so
 * results agree with scijs even on edge arguments (test/ndview.test.js checks
 * it on small arrays); only scijs's int32 `|0` on indices and offsets is
 * replaced by exact arithmetic (int()).
 */
export class WideNdArray {
  readonly dtype = 'generic' as const;
  readonly offset: number;

  constructor(
    readonly data: GenericData,
    readonly shape: number[],
    readonly stride: number[],
    offset: number,
  ) {
    this.offset = int(offset);
  }

  get dimension(): number {
    return this.shape.length;
  }

  get size(): number {
    // scijs multiplies the shape's entries as they are (undefined past the axes gives undefined in 1-d).
    if (this.shape.length === 0) return 1;
    let size: number = this.shape[0];
    for (let d = 1; d < this.shape.length; d++) size *= this.shape[d];
    return size;
  }

  /** Axes from the smallest to the largest |stride|, with scijs's tie-breaking for 2-d and 3-d. */
  get order(): number[] {
    const n = this.stride.length;
    const s = this.stride.map(Math.abs);
    if (n === 0) return [];
    if (n === 1) return [0];
    if (n === 2) return s[0] > s[1] ? [1, 0] : [0, 1];
    if (n === 3) {
      if (s[0] > s[1]) {
        if (s[1] > s[2]) return [2, 1, 0];
        return s[0] > s[2] ? [1, 2, 0] : [1, 0, 2];
      }
      if (s[0] > s[2]) return [2, 0, 1];
      return s[2] > s[1] ? [0, 1, 2] : [0, 2, 1];
    }
    return s.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]).map((t) => t[1]);
  }

  index(...idx: number[]): number {
    let k = this.offset;
    for (let d = 0; d < this.stride.length; d++) k += this.stride[d] * idx[d];
    return k;
  }

  get(...idx: number[]): unknown {
    return this.data.get(this.index(...idx));
  }

  /** set(i0, …, v): the value is the argument after the last index, as scijs. */
  set(...args: unknown[]): unknown {
    return this.data.set(this.index(...(args as number[])), args[this.shape.length]);
  }

  /** A 0-d view converts to its element, as scijs. */
  valueOf(): unknown {
    return this.shape.length === 0 ? this.get() : this;
  }

  hi(...idx: (number | null | undefined)[]): WideNdArray {
    const shape = this.shape.map((s, d) => {
      const i = idx[d];
      return typeof i !== 'number' || i < 0 ? s : int(i);
    });
    return new WideNdArray(this.data, shape, this.stride.slice(), this.offset);
  }

  lo(...idx: (number | null | undefined)[]): WideNdArray {
    let offset = this.offset;
    const shape = this.shape.slice();
    for (let d = 0; d < shape.length; d++) {
      const i = idx[d];
      if (typeof i === 'number' && i >= 0) {
        const n = int(i);
        offset += this.stride[d] * n;
        shape[d] -= n;
      }
    }
    return new WideNdArray(this.data, shape, this.stride.slice(), offset);
  }

  step(...idx: (number | null | undefined)[]): WideNdArray {
    let offset = this.offset;
    const shape = this.shape.slice();
    const stride = this.stride.slice();
    for (let d = 0; d < shape.length; d++) {
      const i = idx[d];
      if (typeof i !== 'number') continue;
      const n = int(i);
      if (n < 0) {
        offset += stride[d] * (shape[d] - 1);
        shape[d] = Math.ceil(-shape[d] / n);
      } else {
        shape[d] = Math.ceil(shape[d] / n);
      }
      stride[d] *= n;
    }
    return new WideNdArray(this.data, shape, stride, offset);
  }

  transpose(...axes: (number | undefined)[]): WideNdArray {
    const perm = this.shape.map((_, d) => (axes[d] === undefined ? d : int(axes[d])));
    return new WideNdArray(this.data, perm.map((p) => this.shape[p]), perm.map((p) => this.stride[p]), this.offset);
  }

  /** Drops the axes given a non-negative index; of a 0-d view, scijs's empty "trivial" view. */
  pick(...idx: (number | null | undefined)[]): WideNdArray | TrivialNdArray {
    if (this.shape.length === 0) return new TrivialNdArray(this.data);
    let offset = this.offset;
    const shape: number[] = [];
    const stride: number[] = [];
    for (let d = 0; d < this.shape.length; d++) {
      const i = idx[d];
      if (typeof i === 'number' && i >= 0) offset = int(offset + this.stride[d] * i);
      else {
        shape.push(this.shape[d]);
        stride.push(this.stride[d]);
      }
    }
    return new WideNdArray(this.data, shape, stride, offset);
  }
}

/** scijs's view of dimension -1 (pick() of a 0-d view): no elements. */
export class TrivialNdArray {
  readonly dtype = 'generic' as const;
  readonly dimension = -1;
  readonly size = 0;
  readonly shape: number[] = [];
  readonly stride: number[] = [];
  readonly order: number[] = [];
  constructor(readonly data: GenericData) {}
  index(): number {
    return -1;
  }
  get(): undefined {
    return undefined;
  }
  set(): undefined {
    return undefined;
  }
  lo(): TrivialNdArray {
    return new TrivialNdArray(this.data);
  }
  hi(): TrivialNdArray {
    return new TrivialNdArray(this.data);
  }
  step(): TrivialNdArray {
    return new TrivialNdArray(this.data);
  }
  transpose(): TrivialNdArray {
    return new TrivialNdArray(this.data);
  }
  pick(): null {
    return null;
  }
}
