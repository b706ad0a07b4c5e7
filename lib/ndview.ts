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

export class WideNdArray {
  readonly dtype = 'generic' as const;

  constructor(
    readonly data: GenericData,
    readonly shape: number[],
    readonly stride: number[],
    readonly offset: number,
  ) {}

  get dimension(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Axes ordered from the smallest to the largest stride, as scijs ndarray. */
  get order(): number[] {
    return this.shape.map((_, i) => i).sort((a, b) => Math.abs(this.stride[a]) - Math.abs(this.stride[b]));
  }

  index(...idx: number[]): number {
    let k = this.offset;
    for (let d = 0; d < this.stride.length; d++) k += this.stride[d] * idx[d];
    return k;
  }

  get(...idx: number[]): unknown {
    return this.data.get(this.index(...idx));
  }

  set(...args: unknown[]): unknown {
    const v = args.pop();
    return this.data.set(this.index(...(args as number[])), v);
  }

  hi(...idx: (number | null | undefined)[]): WideNdArray {
    const shape = this.shape.map((s, d) => {
      const i = idx[d];
      return typeof i !== 'number' || i < 0 ? s : Math.trunc(i);
    });
    return new WideNdArray(this.data, shape, this.stride.slice(), this.offset);
  }

  lo(...idx: (number | null | undefined)[]): WideNdArray {
    let offset = this.offset;
    const shape = this.shape.slice();
    for (let d = 0; d < shape.length; d++) {
      const i = idx[d];
      if (typeof i === 'number' && i >= 0) {
        const n = Math.trunc(i);
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
      const n = Math.trunc(i);
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
    const perm = this.shape.map((_, d) => (axes[d] === undefined ? d : Math.trunc(axes[d] as number)));
    return new WideNdArray(this.data, perm.map((p) => this.shape[p]), perm.map((p) => this.stride[p]), this.offset);
  }

  pick(...idx: (number | null | undefined)[]): WideNdArray {
    let offset = this.offset;
    const shape: number[] = [];
    const stride: number[] = [];
    for (let d = 0; d < this.shape.length; d++) {
      const i = idx[d];
      if (typeof i === 'number' && i >= 0) offset += this.stride[d] * Math.trunc(i);
      else {
        shape.push(this.shape[d]);
        stride.push(this.stride[d]);
      }
    }
    return new WideNdArray(this.data, shape, stride, offset);
  }
}
