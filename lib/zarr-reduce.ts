// Reductions of a ZarrArray selection without assembling it (issue 13). Three ways, by what keeps numpy's result:
// - min/max (and nan twins), any/all, count_nonzero, integer sum/prod: each chunk's part is reduced natively on the
//   chunk's own view (zero-copy when mapped), and the partial results are combined with the same native op (exact:
//   these ops do not depend on the order of their operands);
// - argmin/argmax of everything: each chunk's best value and its position, the first best one wins;
// - the rest (float sums, means, variances, arg along an axis) along an axis: the selection is cut into bands along a
//   kept axis at chunk edges; each band is assembled and reduced natively. The outputs of a band add exactly the
//   elements, in exactly the order, they add in the assembled selection, so the bits are numpy's.
// What is left (a float sum/mean/var of everything) reads the selection into memory first (ZarrArray's fallback).
import { exactValue, memoryArray, outBytes, scalarOf } from './array';
import { native } from './binding';
import { codecOf } from './codec';
import { type DType, DTYPES, ELEM_CODES } from './dtype';
import { MemmapError } from './errors';
import { type IndexItem, sizeOf, stridesFor, viewDescriptor, type ViewSpec } from './layout';
import { plan, REDUCTIONS, type ReducePlan, type Reduction, splitArgs, sqrtInPlace } from './reduce';
import { appendOwn, ownSlots } from './options';
import type { Storage } from './storage';
import type { StoreLimits } from './zarr-chunks';

/** One chunk's part of a selection: a view of `storage` over the selection's axes, placed at `at`. */
export interface ChunkBlock {
  storage: Storage;
  /** The chunk's bytes are not in this machine's order. */
  swap: boolean;
  /** Byte offset of the block's first element in `storage`. */
  base: number;
  /** Extent and byte stride along each axis of the selection. */
  shape: number[];
  strides: number[];
  /** The selection position of the block's first element. */
  at: number[];
}

/** What a reduction needs of a ZarrArray. */
export interface ZarrSource {
  readonly dt: DType;
  /** The selection's shape and, per axis of it, its runs within one chunk ([first position, count]). */
  layout(index: readonly IndexItem[]): { shape: number[]; runs: [number, number][][] };
  /**
   * Each chunk's part of the selection, in C order of the chunk grid, in batches for one native call each: a batch's
   * chunk files and decoded chunks stay mapped and alive until `run` returns (a batch takes a bounded number of files,
   * decoded bytes and blocks).
   */
  blockBatches(index: readonly IndexItem[], run: (blocks: ChunkBlock[]) => void): void;
  /**
   * The selection's chunk parts as native.sumGrid() takes them (blocks()' order, no objects per part): the storages;
   * per part [storage id, byte offset, swap (1/0), byte stride per axis of the selection]; per storage, the bytes
   * its parts hold; release() once the call has run (until then the store keeps them mapped and decoded).
   */
  gridParts(index: readonly IndexItem[]): { storages: Storage[]; desc: Float64Array; bytes: number[]; release: () => void };
  /**
   * Advice for a chunk file a scan reads much of (`scanning` true: 'sequential', so the kernel streams it in large
   * folios), and back to the array's own advice after it.
   */
  scanAdvice(storage: Storage, scanning: boolean): void;
  /**
   * The selection's elements in C order, this machine's byte order; into `into(shape)` when given (a buffer of
   * exactly the selection's bytes: a reused one saves faulting fresh memory in for every band).
   */
  assemble(index: readonly IndexItem[], into?: (shape: number[]) => Uint8Array): { shape: number[]; bytes: Uint8Array };
  /** The index of the box of the selection from position `at` (per axis of it), of `shape`. */
  box(index: readonly IndexItem[], at: readonly number[], shape: readonly number[]): IndexItem[];
  /**
   * How the selection's chunks and chunk files lie along its first axis: per row of it, the files (`files.across`: a
   * shard, or a chunk when not sharded, per position along the other axes) and the chunks it touches; per file row
   * and per chunk row, the fewest of its rows one holds. `decoded`: the bytes of one chunk when chunks are decoded
   * into memory (compressed), 0 when they are read in place.
   */
  rowSpans(index: readonly IndexItem[]): { files: { across: number; rows: number }; chunks: { across: number; rows: number }; decoded: number; limits: StoreLimits };
}

/** Bytes of the selection one band may assemble (bands are whole chunk runs: one run is taken even when larger). */
let BAND_BYTES = 64 * 2 ** 20;

/** Tests only: sets BAND_BYTES (to cut small arrays into many bands); returns the old value. */
export function setBandBytes(bytes: number): number {
  const old = BAND_BYTES;
  BAND_BYTES = bytes;
  return old;
}

/** The op that combines two partial results of `op`, or null when partials cannot be combined exactly. */
function combineOp(p: ReducePlan): Reduction | null {
  switch (p.family) {
    case 'value':
    case 'bool':
      return p.op;
    case 'count':
      return 'sum';
    case 'acc': {
      // Integer accumulators wrap: addition and multiplication modulo 2^bits do not depend on the order.
      const k = p.dtype.kind;
      return k === 'i' || k === 'u' || k === 'b' ? (p.op === 'prod' ? 'prod' : 'sum') : null;
    }
    default:
      return null;
  }
}

/** The selection's view in bytes, C order, from offset 0. */
function cView(shape: readonly number[], itemsize: number): ViewSpec {
  return { offset: 0, shape: shape.slice(), strides: stridesFor(shape, 'C').map((s) => s * itemsize) };
}

/** The options a part of the reduction is planned with: the same reduction over the same axes, no `out`. */
function partOptions(p: ReducePlan, axes: readonly boolean[]): Record<string, unknown> {
  const axis: number[] = [];
  for (let d = 0; d < axes.length; d++) if (axes[d]) axis.push(d);
  const o: Record<string, unknown> = { axis: p.family === 'arg' ? (axis.length === axes.length ? null : axis[0]) : axis, threads: p.threads };
  if (p.accumulator !== undefined) o.dtype = p.accumulator;
  if (p.family === 'var') o.ddof = p.ddof;
  return o;
}

/** Runs plan `q` over `storage` into a fresh buffer. */
function runPart(storage: Storage, swap: boolean, dt: DType, q: ReducePlan): Uint8Array {
  const dst = new Uint8Array(sizeOf(q.shape) * q.dtype.itemsize);
  storage.reduce(ELEM_CODES[dt.name], swap, q.view, q.nkeep, q.code, ELEM_CODES[q.dtype.name], q.ddof, q.threads, dst);
  return dst;
}

/** Copies a C-contiguous block (`shape`) into `out` (C strides `outStrides`, elements) at position `at`, row by row. */
export function place(out: Uint8Array, outStrides: readonly number[], at: readonly number[], block: Uint8Array, shape: readonly number[], itemsize: number): void {
  rows(outStrides, at, shape, itemsize, (o, b, n) => out.set(block.subarray(b, b + n), o));
}

/** The block of `src` at `at` (`shape`), C order: the inverse of place(). */
function take(src: Uint8Array, srcStrides: readonly number[], at: readonly number[], shape: readonly number[], itemsize: number): Uint8Array {
  const out = new Uint8Array(sizeOf(shape) * itemsize);
  rows(srcStrides, at, shape, itemsize, (o, b, n) => out.set(src.subarray(o, o + n), b));
  return out;
}

/** Calls fn(byte offset in the big array, byte offset in the block, row bytes) for each row of the block. */
function rows(strides: readonly number[], at: readonly number[], shape: readonly number[], itemsize: number, fn: (o: number, b: number, n: number) => void): void {
  const n = shape.length;
  const row = (n === 0 ? 1 : shape[n - 1]) * itemsize;
  const count = sizeOf(shape);
  if (count === 0) return;
  const rowsN = count / (n === 0 ? 1 : shape[n - 1]);
  const j = new Array<number>(Math.max(n - 1, 0)).fill(0);
  for (let r = 0; r < rowsN; r++) {
    let o = 0;
    for (let d = 0; d < n; d++) o += (at[d] + (d < n - 1 ? j[d] : 0)) * strides[d];
    fn(o * itemsize, r * row, row);
    for (let d = n - 2; d >= 0; d--) {
      if (++j[d] < shape[d]) break;
      j[d] = 0;
    }
  }
}

/**
 * The reduction `op` of `src[...index]` with numpy's results, or undefined when it needs the whole selection in memory
 * (a float sum, mean or variance of everything): the caller then reduces the assembled selection.
 */
export function reduceChunked(src: ZarrSource, op: Reduction, args: readonly unknown[]): { value: unknown } | undefined {
  const { index, options } = splitArgs(args);
  const dt = src.dt;
  const sel = src.layout(index);
  const p = plan(op, dt, cView(sel.shape, dt.itemsize), options, false);
  if (p.out !== undefined) outBytes(p.out, p.dtype, p.shape, false); // refuse a bad out before any work
  const combine = combineOp(p);
  const kept: number[] = [];
  for (let d = 0; d < p.axes.length; d++) if (!p.axes[d]) kept.push(d);
  const keptShape = kept.map((d) => sel.shape[d]);
  const osz = p.dtype.itemsize;
  let result: Uint8Array;
  if (combine !== null) result = byChunk(src, index, p, combine, kept, keptShape);
  else if (p.family === 'arg' && kept.length === 0) result = argByChunk(src, index, p, sel.shape);
  else if (kept.length > 0) result = byBand(src, index, p, sel, kept, keptShape);
  else if (p.scalar && p.defaultDType && (p.op === 'sum' || (p.op === 'mean' && (dt.kind === 'f' || dt.kind === 'c')))) {
    return { value: exactValue(p, fullSum(src, index, sel.shape, p.threads), dt) };
  } else if (p.scalar && p.defaultDType && p.op === 'var' && ['float32', 'float64', 'complex64', 'complex128'].includes(dt.name)) {
    const v = fullVar(src, index, sel.shape, p);
    return { value: p.sqrt ? Math.sqrt(v) : v };
  } else return undefined;
  if (p.sqrt) sqrtInPlace(new DTYPES[p.dtype.name].array(result.buffer as ArrayBuffer, result.byteOffset, result.byteLength / osz) as Float64Array);
  if (p.out !== undefined) {
    outBytes(p.out, p.dtype, p.shape, false).set(result); // checked again: the chunks' reads ran no user code, but cheap
    return { value: p.out };
  }
  if (p.scalar) return { value: scalarOf(p, result) };
  return { value: memoryArray(p.dtype, p.shape, result) };
}

/**
 * Each chunk's part reduced on its own view, the parts of a batch in one native call (spread over threads); partials
 * of one output block combined with `combine`, in one native call per block and batch.
 */
function byChunk(src: ZarrSource, index: readonly IndexItem[], p: ReducePlan, combine: Reduction, kept: readonly number[], keptShape: readonly number[]): Uint8Array {
  const dt = src.dt;
  const osz = p.dtype.itemsize;
  const out = new Uint8Array(sizeOf(keptShape) * osz);
  const outStrides = stridesFor(keptShape, 'C');
  const seen = new Set<string>();
  const opts = partOptions(p, p.axes);
  const code = REDUCTIONS.indexOf(combine as (typeof REDUCTIONS)[number]);
  const outCode = ELEM_CODES[p.dtype.name];
  src.blockBatches(index, (blocks) => {
    const parts = reduceBlocks(blocks, (v) => plan(p.op, dt, v, opts, false), dt);
    const groups = new Map<string, { at: number[]; shape: number[]; parts: Uint8Array[] }>();
    for (let i = 0; i < blocks.length; i++) {
      const at = kept.map((d) => blocks[i].at[d]);
      const key = at.join(',');
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { at, shape: kept.map((d) => blocks[i].shape[d]), parts: [] }));
      g.parts.push(parts[i]);
    }
    for (const [key, g] of groups) {
      if (seen.has(key)) g.parts.unshift(take(out, outStrides, g.at, g.shape, osz));
      seen.add(key);
      place(out, outStrides, g.at, g.parts.length === 1 ? g.parts[0] : merge(g.parts, osz, outCode, code), g.shape, osz);
    }
  });
  return out;
}

/** Partial results of equal size combined elementwise by `code` (exact for the ops byChunk() takes): one native call. */
function merge(parts: readonly Uint8Array[], osz: number, outCode: number, code: number): Uint8Array {
  const m = parts[0].byteLength / osz;
  const k = parts.length;
  const all = new Uint8Array(k * m * osz);
  for (let j = 0; j < k; j++) all.set(parts[j], j * m * osz);
  const merged = new Uint8Array(m * osz);
  native.reduceBytes(all, outCode, false, viewDescriptor(0, [m, k], [osz, m * osz], 1), 1, code, outCode, 0, 1, merged);
  return merged;
}

/**
 * Runs `make`'s plan of each block (one reduction over blocks of one array: the same op, kept axes and result type)
 * in one native call (native.reduceChunks) and gives each block's results. Blocks of one shape and strides share a
 * plan (planning each of thousands of chunks cost more than reducing them); plans of unequal form (never seen) run one
 * by one.
 */
function reduceBlocks(blocks: readonly ChunkBlock[], make: (view: ViewSpec) => ReducePlan, dt: DType): Uint8Array[] {
  const cache = new Map<string, { q: ReducePlan; delta: number }>();
  const plans = blocks.map((b) => {
    const key = `${b.shape.join()}|${b.strides.join()}`;
    let c = cache.get(key);
    if (c === undefined) {
      const q = make({ offset: b.base, shape: b.shape, strides: b.strides });
      // The plan's view may start elsewhere (a reversed axis runs forward): by the same bytes for every such block.
      c = { q, delta: q.view[0] - b.base };
      cache.set(key, c);
    }
    return { q: c.q, offset: b.base + c.delta };
  });
  const q0 = plans[0].q;
  const ndim = q0.view[1];
  if (plans.some(({ q }) => q.view[1] !== ndim || q.nkeep !== q0.nkeep || q.code !== q0.code || q.dtype !== q0.dtype)) {
    return blocks.map((b) => runPart(b.storage, b.swap, dt, make({ offset: b.base, shape: b.shape, strides: b.strides })));
  }
  const record = 5 + 2 * ndim;
  const desc = new Float64Array(blocks.length * record);
  const sources = ownSlots<unknown>(0);
  const ids = new Map<Storage, number>();
  const offsets: number[] = [];
  let at = 0;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    let id = ids.get(b.storage);
    if (id === undefined) {
      id = ids.size;
      ids.set(b.storage, id);
      appendOwn(sources, b.storage.gridSource());
    }
    const o = i * record;
    desc[o] = id;
    desc[o + 1] = b.swap ? 1 : 0;
    desc[o + 2] = at;
    desc.set(plans[i].q.view, o + 3);
    desc[o + 3] = plans[i].offset;
    offsets.push(at);
    at += sizeOf(plans[i].q.shape) * q0.dtype.itemsize;
  }
  const dst = new Uint8Array(at);
  native.reduceChunks(ELEM_CODES[dt.name], q0.nkeep, q0.code, ELEM_CODES[q0.dtype.name], q0.ddof, q0.threads, sources, desc, dst);
  return offsets.map((o, i) => dst.subarray(o, i + 1 < offsets.length ? offsets[i + 1] : at));
}

/**
 * argmin/argmax (and nan twins) of everything: each chunk's best value (a batch in one native call); the position
 * in the chunks whose value is the best so far (one more call); the first best one wins.
 */
function argByChunk(src: ZarrSource, index: readonly IndexItem[], p: ReducePlan, shape: readonly number[]): Uint8Array {
  const dt = src.dt;
  const valueOp: Reduction = p.op === 'argmin' ? 'min' : p.op === 'argmax' ? 'max' : p.op === 'nanargmin' ? 'nanmin' : 'nanmax';
  const nan = p.op.startsWith('nan');
  const max = p.op.endsWith('max');
  const strides = stridesFor(shape, 'C');
  const read = codecOf(dt);
  let best: { v: unknown; at: number } | null = null;
  src.blockBatches(index, (blocks) => {
    const values = reduceBlocks(blocks, (v) => plan(valueOp, dt, v, { threads: p.threads }, false), dt).map((x) => read.read(new DataView(x.buffer, x.byteOffset, x.byteLength), 0));
    // The batch's best value (only NaN in a chunk: nothing to take for the nan twins)
    let top: { v: unknown } | null = null;
    for (const v of values) if (!(nan && isNaNValue(v)) && (top === null || better(v, top.v, max))) top = { v };
    if (top === null) return;
    const v = top.v;
    if (best !== null && !better(v, best.v, max) && !same(v, best.v)) return;
    const chosen: number[] = [];
    for (let i = 0; i < values.length; i++) if (same(values[i], v)) chosen.push(i);
    const args = reduceBlocks(chosen.map((i) => blocks[i]), (v) => plan(p.op, dt, v, { threads: p.threads }, false), dt);
    for (let j = 0; j < chosen.length; j++) {
      const b = blocks[chosen[j]];
      let local = Number(new BigInt64Array(args[j].slice().buffer)[0]);
      let at = 0;
      for (let d = b.shape.length - 1; d >= 0; d--) {
        at += (b.at[d] + (local % b.shape[d])) * strides[d];
        local = Math.floor(local / b.shape[d]);
      }
      const cur = best as { v: unknown; at: number } | null;
      if (cur === null || better(v, cur.v, max) || (same(v, cur.v) && at < cur.at)) best = { v, at };
    }
  });
  if (best === null) throw new MemmapError('ERR_ALL_NAN', `${p.op}() of a selection of only NaN`);
  const out = new Uint8Array(8);
  new BigInt64Array(out.buffer)[0] = BigInt((best as { at: number }).at);
  return out;
}

function isNaNValue(v: unknown): boolean {
  if (typeof v === 'number') return Number.isNaN(v);
  if (typeof v === 'object' && v !== null) return Number.isNaN((v as { re: number }).re) || Number.isNaN((v as { im: number }).im);
  return false;
}

/** numpy's order for argmin/argmax: NaN first (it wins), complex lexicographically. */
function better(a: unknown, b: unknown, max: boolean): boolean {
  if (isNaNValue(b)) return false;
  if (isNaNValue(a)) return true;
  const cmp = compare(a, b);
  return max ? cmp > 0 : cmp < 0;
}

function same(a: unknown, b: unknown): boolean {
  if (isNaNValue(a) || isNaNValue(b)) return isNaNValue(a) && isNaNValue(b);
  return compare(a, b) === 0;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'object' && a !== null) {
    const x = a as { re: number; im: number };
    const y = b as { re: number; im: number };
    return x.re < y.re ? -1 : x.re > y.re ? 1 : x.im < y.im ? -1 : x.im > y.im ? 1 : 0;
  }
  const x = a as number;
  const y = b as number;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Bands along the kept axis with the most chunk runs, each assembled and reduced natively. */
function byBand(src: ZarrSource, index: readonly IndexItem[], p: ReducePlan, sel: { shape: number[]; runs: [number, number][][] }, kept: readonly number[], keptShape: readonly number[]): Uint8Array {
  const dt = src.dt;
  const osz = p.dtype.itemsize;
  let axis = kept[0];
  for (const d of kept) if (sel.runs[d].length > sel.runs[axis].length) axis = d;
  const k = kept.indexOf(axis);
  const out = new Uint8Array(sizeOf(keptShape) * osz);
  const outStrides = stridesFor(keptShape, 'C');
  const perPosition = (sizeOf(sel.shape) / sel.shape[axis]) * dt.itemsize;
  const opts = partOptions(p, p.axes);
  const runs = sel.runs[axis];
  // One buffer for every band (the first band's size is the largest but one run): fresh memory for each would fault
  // every page in again (a 64 MiB band is 16384 faults).
  let scratch: Uint8Array | null = null;
  const into = (shape: number[]): Uint8Array => {
    const size = sizeOf(shape) * dt.itemsize;
    if (scratch === null || scratch.byteLength < size) scratch = new Uint8Array(size);
    return scratch.subarray(0, size);
  };
  for (let r = 0; r < runs.length; ) {
    const lo = runs[r][0];
    let hi = lo + runs[r][1];
    for (r++; r < runs.length && (hi + runs[r][1] - lo) * perPosition <= BAND_BYTES; r++) hi += runs[r][1];
    const at = sel.shape.map(() => 0);
    at[axis] = lo;
    const bshape = sel.shape.slice();
    bshape[axis] = hi - lo;
    const band = src.assemble(src.box(index, at, bshape), into);
    const q = plan(p.op, dt, cView(band.shape, dt.itemsize), opts, false);
    const part = new Uint8Array(sizeOf(q.shape) * osz);
    native.reduceBytes(band.bytes, ELEM_CODES[dt.name], false, q.view, q.nkeep, q.code, ELEM_CODES[q.dtype.name], q.ddof, q.threads, part);
    const to = keptShape.map(() => 0);
    to[k] = lo;
    place(out, outStrides, to, part, kept.map((d) => band.shape[d]), osz);
  }
  return out;
}

/** Elements one leaf of fullSum() assembles (a multiple of numpy's 8192-element buffer). */
const LEAF = 1 << 20;
/** numpy's cast buffer. */
const PIECE = 8192;

/**
 * numpy's float sum of the whole selection (sum(dtype=float64/complex128)), in numpy's order, with at most LEAF
 * elements in memory. Over a contiguous array numpy adds, when the elements are cast (float16, float32, complex64):
 * the pairwise sums of consecutive 8192-element buffers one after the other; when not (float64, complex128): one
 * pairwise sum over all of them, halves split at a multiple of 8. Both are followed here over flat ranges of the
 * selection (C order), each leaf assembled from its chunks and summed by the native kernel.
 */
function fullSum(src: ZarrSource, index: readonly IndexItem[], shape: readonly number[], threads: number): number | Float64Array {
  const dt = src.dt;
  const n = sizeOf(shape);
  const complex = dt.kind === 'c';
  const zero = (): number | Float64Array => (complex ? new Float64Array(2) : 0);
  const add = (a: number | Float64Array, b: number | Float64Array): number | Float64Array =>
    typeof a === 'number' ? a + (b as number) : Float64Array.of(a[0] + (b as Float64Array)[0], a[1] + (b as Float64Array)[1]);
  const type = ELEM_CODES[dt.name];
  const sumOf = (bytes: Uint8Array, from: number, count: number): number | Float64Array =>
    native.sumBytes(bytes, type, false, viewDescriptor(from * dt.itemsize, [count], [dt.itemsize], 1), threads) as number | Float64Array;
  if (n === 0) return zero();
  const cast = dt.name === 'float16' || dt.name === 'float32' || dt.name === 'complex64';
  const g = gridSum(src, index, shape, cast, threads, null);
  if (g !== null) return complex ? g : g[0];
  if (cast) {
    let acc: number | Float64Array | null = null;
    for (let lo = 0; lo < n; lo += LEAF) {
      const count = Math.min(LEAF, n - lo);
      const bytes = flatRange(src, index, shape, lo, count);
      for (let k = 0; k < count; k += PIECE) {
        const s = sumOf(bytes, k, Math.min(PIECE, count - k));
        acc = acc === null ? s : add(acc, s);
      }
    }
    return acc as number | Float64Array;
  }
  return pairwise(0, n, complex, add, (lo, count) => sumOf(flatRange(src, index, shape, lo, count), 0, count));
}

/**
 * Bytes of the selection one native.sumGrid() call covers: whole rows of axis 0 (the grid path needs one to fit).
 * Large: each call starts its threads and waits for the slowest (a warm 1 GiB scan's first pass measured 74-82 ms in
 * 16 calls of 64 MiB, 64-69 ms in one); callRows() keeps what one call maps and holds bounded.
 */
let GRID_BYTES = 2 ** 30;

/** Tests only: sets GRID_BYTES (to split small arrays into many calls); returns the old value. */
export function setGridBytes(bytes: number): number {
  const old = GRID_BYTES;
  GRID_BYTES = bytes;
  return old;
}

/**
 * fullSum() (`squares` null) or fullVar()'s sum of squares (`squares` the mean) by the native kernel over the chunks,
 * in calls of about GRID_BYTES of rows: [re, im]. Null when the grid path cannot take it (a row of axis 0 over
 * GRID_BYTES; a chunk's mapping closed while the rows' chunks were gathered, when they span more files than the
 * mapping cache holds): the caller assembles flat ranges instead.
 */
function gridSum(src: ZarrSource, index: readonly IndexItem[], shape: readonly number[], buffered: boolean, threads: number, squares: [number, number] | null): Float64Array | null {
  // Chunk files stay under the scan's advice from the first call that streams them to the end of the scan: switched
  // back to 'random' between calls, each call would start their read-ahead (and huge folios) over (2x slower cold).
  const streaming = new Set<Storage>();
  try {
    return gridCalls(src, index, shape, buffered, threads, squares, streaming);
  } finally {
    // Each file's advice restored even when one fails (the scan's own error, if any, is the one thrown).
    for (const s of streaming) {
      try {
        if (!s.closed) src.scanAdvice(s, false);
      } catch {
        // a hint: the file keeps 'sequential'
      }
    }
  }
}

function gridCalls(src: ZarrSource, index: readonly IndexItem[], shape: readonly number[], buffered: boolean, threads: number, squares: [number, number] | null, streaming: Set<Storage>): Float64Array | null {
  const n = sizeOf(shape);
  if (shape.length === 0 || n === 0) return null;
  const itemsize = src.dt.itemsize;
  const inner = n / shape[0];
  if (inner * itemsize > GRID_BYTES) return null;
  const rows = callRows(src, index, inner * itemsize);
  if (buffered) {
    // acc += each 8192-element buffer's pairwise sum, in order, carried from call to call.
    let acc: Float64Array | null = new Float64Array(2);
    for (let from = 0; from < n && acc !== null; ) {
      let to = Math.min(n, (Math.floor(from / inner) + rows) * inner);
      if (to < n) to = Math.min(n, Math.max(from + PIECE, to - (to % PIECE)));
      acc = gridPart(src, index, shape, from, to, true, acc, squares, threads, streaming);
      from = to;
    }
    return acc;
  }
  let failed = false;
  const complex = src.dt.kind === 'c' && squares === null;
  const leafSize = Math.max(PIECE, rows * inner);
  const add = (a: Float64Array, b: Float64Array): Float64Array => Float64Array.of(a[0] + b[0], a[1] + b[1]);
  const total = pairwise(0, n, complex, add, (lo, count) => {
    const part = failed ? null : gridPart(src, index, shape, lo, lo + count, false, null, squares, threads, streaming);
    if (part === null) failed = true;
    return part ?? new Float64Array(2);
  }, leafSize);
  // numpy's add loop: 0.0 + pairwise(all)
  return failed ? null : Float64Array.of(0 + total[0], 0 + total[1]);
}

/** Chunk parts one sumGrid() call takes at most (each a few numbers in a JavaScript list first: tiny chunks stay bounded). */
const GRID_BLOCKS = 2 ** 16;

/**
 * Rows of the selection's first axis per sumGrid() call: GRID_BYTES of them, fewer when they would span more chunk
 * files than the mapping cache holds (a call needs every file it reads mapped at once: a closed one sends the scan to
 * the slow path), more than GRID_BLOCKS chunks, or (compressed) more decoded chunks than the decode cache keeps.
 * Calls may start inside a file or chunk row, so a call's rows fit one row fewer than the bound allows. Exported for
 * its tests.
 */
export function callRows(src: Pick<ZarrSource, 'rowSpans'>, index: readonly IndexItem[], rowBytes: number): number {
  const rows = Math.floor(GRID_BYTES / rowBytes);
  const { files, chunks, decoded, limits } = src.rowSpans(index);
  const fileRows = Math.max(1, Math.floor(limits.mappings / files.across) - 1);
  // Decoded chunks live in the store's bounded cache: a call holding more than it keeps would close its first ones.
  const chunkRows = Math.max(1, Math.floor(Math.min(GRID_BLOCKS, decoded > 0 ? limits.decodedBytes / decoded : Infinity) / chunks.across) - 1);
  return Math.max(1, Math.min(rows, fileRows * files.rows, chunkRows * chunks.rows));
}

/** Bytes of a chunk file a scan must read before the file is left to the kernel's read-ahead (read_ahead_kb's order). */
const SCAN_BYTES = 8 * 2 ** 20;

/** One native.sumGrid() call over flat elements [from, to) of the selection (see gridSum()); null as gridSum(). */
function gridPart(src: ZarrSource, index: readonly IndexItem[], shape: readonly number[], from: number, to: number, buffered: boolean, acc: Float64Array | null, squares: [number, number] | null, threads: number, streaming: Set<Storage>): Float64Array | null {
  const n = sizeOf(shape);
  const inner = n / shape[0];
  const r0 = Math.floor(from / inner);
  const at = shape.map(() => 0);
  at[0] = r0;
  const boxShape = shape.slice();
  boxShape[0] = Math.ceil(to / inner) - r0;
  const box = src.box(index, at, boxShape);
  const { storages, desc, bytes, release } = src.gridParts(box);
  try {
    // (The store keeps the call's files mapped until release(); a closed one here was closed by the caller's code.)
    if (storages.some((s) => s.closed)) return null;
    // Chunk files this call reads SCAN_BYTES or more of stream under 'sequential' (the read-ahead may read up to
    // read_ahead_kb past what is touched) until the scan ends (gridSum()).
    for (let id = 0; id < storages.length; id++) {
      const s = storages[id];
      if (s.willneed === undefined || bytes[id] < SCAN_BYTES || streaming.has(s)) continue;
      streaming.add(s);
      src.scanAdvice(s, true);
    }
    const starts: number[] = [shape.length];
    for (const axis of src.layout(box).runs) {
      starts.push(axis.length + 1);
      for (const [first] of axis) starts.push(first);
      const last = axis[axis.length - 1];
      starts.push(last[0] + last[1]);
    }
    const range = Float64Array.of(r0 * inner, from, to, n, buffered ? 1 : 0, acc === null ? 0 : acc[0], acc === null ? 0 : acc[1]);
    const mean = squares ?? [0, 0];
    return native.sumGrid(storages.map((s) => s.gridSource()), desc, Float64Array.from(starts), ELEM_CODES[src.dt.name], squares !== null, mean[0], mean[1], range, threads);
  } finally {
    release();
  }
}

/** numpy's pairwise_sum tree over [lo, lo + count) down to leaves of at most `leafSize` elements. */
function pairwise<R>(lo: number, count: number, complex: boolean, add: (a: R, b: R) => R, leaf: (lo: number, count: number) => R, leafSize = LEAF): R {
  if (count <= leafSize) return leaf(lo, count);
  // numpy halves the count of scalars (two per complex element) and rounds down to a multiple of 8 of them.
  const scalars = complex ? 2 * count : count;
  let half = Math.floor(scalars / 2);
  half -= half % 8;
  if (complex) half /= 2;
  return add(pairwise(lo, half, complex, add, leaf, leafSize), pairwise(lo + half, count - half, complex, add, leaf, leafSize));
}

/**
 * numpy's var(dtype=float64) of everything (_var): the mean (numpy's sum over n; complex parts times 1/n, as its
 * complex true_divide), then x = |a - mean|^2 in float64 (complex: x * conj(x), its real part), then a pairwise sum
 * of x over all n (float64: no cast buffers) divided by max(n - ddof, 0). Leaves of x are computed here and summed
 * natively.
 */
function fullVar(src: ZarrSource, index: readonly IndexItem[], shape: readonly number[], p: ReducePlan): number {
  const dt = src.dt;
  const n = sizeOf(shape);
  const complex = dt.kind === 'c';
  const s = fullSum(src, index, shape, p.threads);
  const mre = complex ? ((s as Float64Array)[0] + (s as Float64Array)[1] * 0) * (1 / n) : (s as number) / n;
  const mim = complex ? ((s as Float64Array)[1] - (s as Float64Array)[0] * 0) * (1 / n) : 0;
  const g = gridSum(src, index, shape, false, p.threads, [mre, mim]);
  if (g !== null) return g[0] / Math.max(n - p.ddof, 0);
  const f64 = ELEM_CODES.float64;
  const total = pairwise(0, n, false, (a: number, b: number) => a + b, (lo, count) => {
    const bytes = flatRange(src, index, shape, lo, count);
    const lanes = complex ? 2 : 1;
    const v = new DTYPES[dt.name].array(bytes.buffer as ArrayBuffer, 0, count * lanes) as Float64Array;
    const x = new Float64Array(count);
    if (complex) {
      for (let i = 0; i < count; i++) {
        const dr = v[2 * i] - mre;
        const di = v[2 * i + 1] - mim;
        x[i] = dr * dr - di * -di;
      }
    } else {
      for (let i = 0; i < count; i++) {
        const d = v[i] - mre;
        x[i] = d * d;
      }
    }
    return native.sumBytes(new Uint8Array(x.buffer), f64, false, viewDescriptor(0, [count], [8], 1), p.threads) as number;
  });
  return total / Math.max(n - p.ddof, 0);
}

/** Elements [lo, lo + count) of the selection in C order, assembled box by box. */
function flatRange(src: ZarrSource, index: readonly IndexItem[], shape: readonly number[], lo: number, count: number): Uint8Array {
  const out = new Uint8Array(count * src.dt.itemsize);
  let at = 0;
  for (const b of boxes(shape, lo, lo + count)) {
    const part = src.assemble(src.box(index, b.at, b.shape)).bytes;
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** The boxes that make up the flat range [lo, hi) of `shape` in C order, in that order. */
function boxes(shape: readonly number[], lo: number, hi: number): { at: number[]; shape: number[] }[] {
  if (shape.length === 0) return lo < hi ? [{ at: [], shape: [] }] : [];
  const rest = shape.slice(1);
  const inner = sizeOf(rest);
  const prefix = (i: number, list: { at: number[]; shape: number[] }[]) => list.map((b) => ({ at: [i, ...b.at], shape: [1, ...b.shape] }));
  let i0 = Math.floor(lo / inner);
  const r0 = lo - i0 * inner;
  const i1 = Math.floor(hi / inner);
  const r1 = hi - i1 * inner;
  if (i0 === i1) return prefix(i0, boxes(rest, r0, r1));
  const out: { at: number[]; shape: number[] }[] = [];
  if (r0 > 0) out.push(...prefix(i0++, boxes(rest, r0, inner)));
  if (i1 > i0) out.push({ at: [i0, ...rest.map(() => 0)], shape: [i1 - i0, ...rest] });
  if (r1 > 0) out.push(...prefix(i1, boxes(rest, 0, r1)));
  return out;
}
