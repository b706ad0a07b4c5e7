// Heap storage: an array's bytes in an ArrayBuffer (or SharedArrayBuffer),
// with the same native kernels as a file mapping. For results computed in
// memory and for arrays that never touch a file.
import { native } from './binding';
import { MemmapError, MemmapRangeError } from './errors';
import type { ByteRange, Storage } from './storage';

export class HeapStorage implements Storage {
  #bytes: Uint8Array | null;
  readonly #buffer: ArrayBuffer;
  readonly #offset: number;
  readonly length: number;

  /** Storage over `bytes` (no copy): the array sees and changes them. */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#buffer = bytes.buffer as ArrayBuffer;
    this.#offset = bytes.byteOffset;
    this.length = bytes.byteLength;
  }

  get closed(): boolean {
    return this.#bytes === null;
  }

  #live(): Uint8Array {
    if (this.#bytes === null) throw new MemmapError('ERR_CLOSED', 'heap storage is closed');
    return this.#bytes;
  }

  bytes(start: number, length: number): ByteRange {
    this.#live();
    if (!(start >= 0 && length >= 0 && start + length <= this.length)) throw new MemmapRangeError('ERR_OUT_OF_RANGE', 'window out of range');
    return { buffer: this.#buffer, byteOffset: this.#offset + start, byteLength: length };
  }

  sum(type: number, swap: boolean, view: Float64Array, threads?: number): number | bigint | Float64Array {
    return native.sumBytes(this.#live(), type, swap, view, threads);
  }

  copy(type: number, swap: boolean, view: Float64Array, dst: Uint8Array): void {
    native.copyBytes(this.#live(), type, swap, view, dst);
  }

  gather(type: number, swap: boolean, coords: Float64Array[], view: Float64Array, dst: Uint8Array): undefined | Float64Array {
    return native.gatherBytes(this.#live(), type, swap, coords, view, dst);
  }

  reduce(type: number, swap: boolean, view: Float64Array, nkeep: number, op: number, outType: number, ddof: number, threads: number, dst: Uint8Array): void {
    native.reduceBytes(this.#live(), type, swap, view, nkeep, op, outType, ddof, threads, dst);
  }

  gridSource(): unknown {
    return this.#live();
  }

  flush(): void {
    this.#live();
  }

  advise(): void {
    this.#live();
  }

  residency(): Uint8Array {
    this.#live();
    return new Uint8Array(Math.ceil(this.length / native.pageSize)).fill(1);
  }

  /** Forgets the bytes (an ArrayBuffer the caller owns is not detached). */
  close(): void {
    this.#bytes = null;
  }
}
