// CommonJS consumer (this folder has no "type": "module", so .ts is CJS):
// `import` compiles to require('memmap') and resolves to dist/index.d.ts.
import memmapDefault, { memmap, openNpy, MemmapError, MemmapTypeError, type MemmapArray, type MemmapErrorCode, type MemmapOptions } from 'memmap';
import { expectType, type Equal } from './expect';

const f32 = memmap('a.bin', { dtype: 'float32' });
expectType<Equal<typeof f32.data, Float32Array>>(true);
expectType<Equal<typeof f32, MemmapArray<'float32'>>>(true);
expectType<Equal<ReturnType<typeof f32.get>, number>>(true);

const i64 = memmap('a.bin', { dtype: 'int64', mode: 'r+', shape: [2, 3] });
expectType<Equal<typeof i64.data, BigInt64Array>>(true);
expectType<Equal<ReturnType<typeof i64.get>, bigint>>(true);

// numpy spellings map to the same canonical dtype.
expectType<Equal<ReturnType<typeof memmap<'<f8'>>['data'], Float64Array>>(true);
expectType<Equal<ReturnType<typeof memmap<'u2'>>['data'], Uint16Array>>(true);
expectType<Equal<ReturnType<typeof memmap<'uint64'>>['data'], BigUint64Array>>(true);

// No dtype: uint8, as numpy. dtype: null is numpy's dtype=None: float64.
const bytes = memmap(Buffer.from('a.bin'));
expectType<Equal<typeof bytes.data, Uint8Array>>(true);
const none = memmap('a.bin', { dtype: null });
expectType<Equal<typeof none.data, Float64Array>>(true);
expectType<Equal<typeof none, MemmapArray<'float64'>>>(true);

// The default export (exports.default) is memmap() itself.
expectType<Equal<typeof memmapDefault, typeof memmap>>(true);

// refresh()/resize() return the array, typed as it was; shape stays readonly.
expectType<Equal<ReturnType<typeof f32.refresh>, MemmapArray<'float32'>>>(true);
expectType<Equal<ReturnType<typeof i64.resize>, MemmapArray<'int64'>>>(true);
expectType<Equal<typeof f32.shape, readonly number[]>>(true);
void memmap('a.bin', { dtype: 'float32', partial: 'ignore' });

const opts: MemmapOptions<'int16'> = { dtype: 'int16', shape: 4, order: 'F', offset: 8n, mode: 'readwrite' };
expectType<Equal<ReturnType<typeof memmap<'int16'>>['data'], Int16Array>>(true);
void opts;

const err: unknown = null;
if (err instanceof MemmapTypeError) {
  // memmap's own codes are a union: matching on a typo fails to compile.
  expectType<Equal<typeof err.code, MemmapErrorCode>>(true);
  const base: MemmapError = err;
  void base;
}

// Bad options are compile errors.
// @ts-expect-error not a dtype
memmap('a.bin', { dtype: 'float33' });
// @ts-expect-error not a mode
memmap('a.bin', { mode: 'rw' });
// @ts-expect-error not an order
memmap('a.bin', { order: 'X' });
// @ts-expect-error shape is a number or an array of numbers
memmap('a.bin', { shape: 'a' });
// @ts-expect-error shape entries are numbers
memmap('a.bin', { shape: ['2', 3] });
// @ts-expect-error unknown option
memmap('a.bin', { dtyp: 'float32' });
// @ts-expect-error partial is 'error' or 'ignore'
memmap('a.bin', { partial: 'skip' });
// @ts-expect-error path must be a string, Buffer or URL
memmap(42);
// @ts-expect-error int64 data is a BigInt64Array, not numbers
const wrong: Float64Array = i64.data;
void wrong;

// openNpy with the dtype the file must hold: checked at run time, typed here.
const n16 = openNpy('a.npy', { dtype: 'int16' });
expectType<Equal<typeof n16.data, Int16Array>>(true);
const nBe = openNpy('a.npy', { dtype: '>f8', mode: 'r+' });
expectType<Equal<typeof nBe, MemmapArray<'float64'>>>(true);
// Without it, every dtype; is() narrows.
const any = openNpy('a.npy');
expectType<Equal<typeof any, MemmapArray>>(true);
if (any.is('uint16')) expectType<Equal<typeof any.data, Uint16Array>>(true);
if (any.is('<c8')) expectType<Equal<ReturnType<typeof any.get>, { re: number; im: number }>>(true);
// @ts-expect-error a type argument alone cannot be checked against the file: pass { dtype }
openNpy<'float32'>('a.npy');
// The array protocol.
expectType<Equal<typeof f32.length, number>>(true);
expectType<Equal<ReturnType<typeof f32.toArray>, Float32Array>>(true);
expectType<Equal<ReturnType<typeof f32.toJSON>['shape'], number[]>>(true);
const listed: unknown = f32.tolist();
void listed;

// Reductions: a scalar with no axis, an in-memory array along one, `out` itself with out.
expectType<Equal<ReturnType<typeof f32.max<object>>, number>>(true);
const colMax = f32.max({ axis: 0 });
expectType<Equal<typeof colMax, MemmapArray>>(true);
const kept = f32.sum({ keepdims: true });
expectType<Equal<typeof kept, MemmapArray>>(true);
const total = f32.sum();
expectType<Equal<typeof total, number>>(true);
const crop = f32.mean([0, 10], null);
expectType<Equal<typeof crop, number>>(true);
const whole = f32.sum({ axis: null });
expectType<Equal<typeof whole, number>>(true);
const i64sum = i64.sum(1);
expectType<Equal<typeof i64sum, bigint>>(true);
const into = new Float32Array(3);
const filled = f32.min({ axis: 1, out: into });
expectType<Equal<typeof filled, typeof into>>(true);
const idx = f32.argmax();
expectType<Equal<typeof idx, number>>(true);
const flag = f32.any();
expectType<Equal<typeof flag, boolean>>(true);
const row = f32.read(0, { out: into });
expectType<Equal<typeof row, Float32Array>>(true);
async function twins(): Promise<void> {
  const m = await f32.meanAsync({ axis: 1, signal: AbortSignal.timeout(1000) });
  expectType<Equal<typeof m, MemmapArray>>(true);
  const s = await f32.sumAsync();
  expectType<Equal<typeof s, number>>(true);
  const r = await f32.readAsync(null, 3);
  expectType<Equal<typeof r, Float32Array>>(true);
  await f32.prefetch(null, 3);
}
void twins;

// createZarr() is typed by its dtype, as memmap(); write() takes the matching TypedArray or one value.
import { createZarr, type ZarrArray } from 'memmap';
const zf = createZarr('a.zarr', { shape: [4, 4], dtype: '<f4', chunks: [2, 2], compressor: 'gzip' });
expectType<Equal<typeof zf, ZarrArray<'float32'>>>(true);
expectType<Equal<ReturnType<typeof zf.read>, Float32Array>>(true);
// read() with { out }: out's type is the array's read() type (or an array of its dtype); it returns that type.
const zr = zf.read([0, 2], { out: new Float32Array(8) });
expectType<Equal<typeof zr, Float32Array>>(true);
// @ts-expect-error out of another dtype
zf.read([0, 2], { out: new Float64Array(8) });
zf.write([0, 2], null, new Float32Array(8));
zf.set(0, 0, 1.5);
// advise() takes the mapped array's Advice values.
zf.advise('random');
// @ts-expect-error not an advice
zf.advise('fast');
// @ts-expect-error createZarr needs a dtype
createZarr('b.zarr', { shape: [2] });
// The compressor: a name, v3 codec JSON or v2 compressor JSON.
createZarr('c.zarr', { shape: [2], dtype: 'u1', compressor: 'zstd' });
createZarr('c.zarr', { shape: [2], dtype: 'u1', compressor: { name: 'blosc', configuration: { cname: 'lz4', shuffle: 'bitshuffle' } } });
createZarr('c.zarr', { shape: [2], dtype: 'u1', zarrFormat: 2, compressor: { id: 'lz4', acceleration: 2 } });
// @ts-expect-error not a compressor name
createZarr('c.zarr', { shape: [2], dtype: 'u1', compressor: 'brotli' });
// A ZarrArray has the mapped array's API: views, iteration, the async twins typed as the sync calls.
const zv = zf.view([0, 2]);
expectType<Equal<typeof zv, ZarrArray<'float32'>>>(true);
for (const row of zf) void row;
async function zarrTwins(): Promise<void> {
  const s = await zf.sumAsync();
  expectType<Equal<typeof s, number>>(true);
  const m = await zf.meanAsync({ axis: 0, signal: AbortSignal.timeout(1000) });
  expectType<Equal<typeof m, MemmapArray>>(true);
  const r = await zf.readAsync(1, { signal: AbortSignal.timeout(1000) });
  expectType<Equal<typeof r, Float32Array>>(true);
  const g = await zf.gatherAsync([0, 1], [1, 0]);
  expectType<Equal<typeof g, Float32Array>>(true);
}
void zarrTwins;
// No single data TypedArray over a chunked array: the getter throws ERR_ZARR_UNSUPPORTED.
expectType<Equal<typeof zf.data, never>>(true);
// The store's cache bounds are numbers.
import { openZarr } from 'memmap';
openZarr('a.zarr', { mode: 'r', maxMappings: 4096, cacheBytes: 0 }).close();
// @ts-expect-error maxMappings is a number
openZarr('a.zarr', { maxMappings: '4096' });
