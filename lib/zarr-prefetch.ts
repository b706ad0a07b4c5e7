// Prefetch for chunked reads. Chunk mappings are advised MADV_RANDOM (the
// kernel's read-ahead would pull in chunks a read does not touch: a column over
// 64 x 64 tiles read a whole 128 MiB file with read_ahead_kb 8192), so a read
// asks for exactly the bytes it touches instead (MADV_WILLNEED, one call per
// file per batch), a window ahead of the copy: the disk works while the copy runs.
import type { Storage } from './storage';
import type { StoredChunk } from './zarr-chunks';

/** One axis of a selection inside one chunk: the chunk, its first element, how many, the step (as zarr.ts's Run). */
export interface AxisRun {
  chunk: number;
  n: number;
  inner: number;
  step: number;
}

/** Bytes requested ahead of the copy: enough to keep a disk busy, little enough to stay in the page cache. */
export const AHEAD_BYTES = 32 * 2 ** 20;
/** Chunks requested ahead at most when each is a file of its own (half the 64 files a store always keeps mapped). */
export const AHEAD_FILES = 32;

/**
 * Sorts [start, length] pairs and merges those whose pages touch or overlap (madvise works on whole pages: a gap
 * inside one page costs nothing), as a flat Float64Array [start, length, ...].
 */
export function coalesce(ranges: readonly number[], page: number): Float64Array {
  const pairs: [number, number][] = [];
  for (let k = 0; k < ranges.length; k += 2) if (ranges[k + 1] > 0) pairs.push([ranges[k], ranges[k] + ranges[k + 1]]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [s, e] of pairs) {
    const n = out.length;
    if (n > 0 && Math.floor(s / page) <= Math.ceil((out[n - 2] + out[n - 1]) / page)) {
      out[n - 1] = Math.max(out[n - 2] + out[n - 1], e) - out[n - 2];
    } else out.push(s, e - s);
  }
  return Float64Array.from(out);
}

/**
 * The bytes [start, end) of a chunk stored at byte `base` with element `strides` that a block of it touches (per
 * axis: first element, count, step), itemsize bytes each.
 */
export function blockExtent(base: number, strides: readonly number[], runs: readonly AxisRun[], itemsize: number): [number, number] {
  let lo = 0;
  let hi = 0;
  for (let d = 0; d < runs.length; d++) {
    const r = runs[d];
    const first = r.inner * strides[d];
    const last = (r.inner + (r.n - 1) * r.step) * strides[d];
    lo += Math.min(first, last);
    hi += Math.max(first, last);
  }
  return [base + lo * itemsize, base + (hi + 1) * itemsize];
}

/**
 * Walks a selection's chunks in the order the copy does (C order over each axis' runs) and, called before each
 * chunk's copy, keeps up to AHEAD_BYTES of the chunks after it requested.
 */
export class ReadAhead {
  readonly #locate: (coords: number[]) => StoredChunk | null;
  readonly #runs: readonly (readonly AxisRun[])[];
  readonly #itemsize: number;
  readonly #page: number;
  readonly #maxChunks: number;
  /** The walk's position (next chunk to request), null at its end. */
  #pick: number[] | null;
  /** Bytes requested per chunk not yet copied, oldest first; and their total. */
  readonly #queue: number[] = [];
  #head = 0;
  #ahead = 0;

  /** `sharded`: many chunks share a file (and a mapping), else at most AHEAD_FILES chunks are requested ahead. */
  constructor(locate: (coords: number[]) => StoredChunk | null, runs: readonly (readonly AxisRun[])[], itemsize: number, page: number, sharded: boolean) {
    this.#locate = locate;
    this.#maxChunks = sharded ? Infinity : AHEAD_FILES;
    this.#runs = runs;
    this.#itemsize = itemsize;
    this.#page = page;
    this.#pick = runs.some((r) => r.length === 0) ? null : runs.map(() => 0);
  }

  /** Call before copying each chunk of the walk, in order. */
  next(): void {
    if (this.#head < this.#queue.length) this.#ahead -= this.#queue[this.#head++];
    if (this.#head > 1024) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    let chunks = this.#queue.length - this.#head;
    // Refill once the window is half used: fewer, larger requests.
    if (this.#pick === null || (chunks > 0 && (this.#ahead >= AHEAD_BYTES / 2 || chunks >= this.#maxChunks / 2))) return;
    const batch = new Map<Storage, number[]>();
    while (this.#pick !== null && this.#ahead < AHEAD_BYTES && chunks < this.#maxChunks) {
      const runs = this.#runs.map((axis, d) => axis[(this.#pick as number[])[d]]);
      const bytes = this.#request(runs, batch);
      this.#queue.push(bytes);
      this.#ahead += bytes;
      chunks++;
      this.#advance();
    }
    // Advice only: a file the store unmapped since it was located (a window of more files than the store keeps) is
    // skipped, and mapped again when its chunk is read.
    for (const [storage, ranges] of batch) if (!storage.closed) storage.willneed?.(coalesce(ranges, this.#page));
  }

  /** Adds the chunk's touched bytes to `batch`; returns how many. */
  #request(runs: readonly AxisRun[], batch: Map<Storage, number[]>): number {
    const at = this.#locate(runs.map((r) => r.chunk));
    if (at === null || at.storage.willneed === undefined) return 0;
    // In place: the block's extent in the chunk; encoded: all its stored bytes (decoded whole).
    const [start, end] = at.strides === null ? [at.start, at.start + at.length] : blockExtent(at.start, at.strides, runs, this.#itemsize);
    let list = batch.get(at.storage);
    if (list === undefined) batch.set(at.storage, (list = []));
    list.push(start, end - start);
    return end - start;
  }

  #advance(): void {
    const pick = this.#pick as number[];
    for (let d = pick.length - 1; d >= 0; d--) {
      if (++pick[d] < this.#runs[d].length) return;
      pick[d] = 0;
    }
    this.#pick = null;
  }
}
