// ESM consumer: resolves through the "import" condition to dist/index.d.mts.
import memmap, { openNpy, memmap as named, MemmapError, MemmapRangeError, maxBufferLength, type MemmapOptions } from 'memmap';
import * as ns from 'memmap';
import { expectType, type Equal } from './expect.js';

// The default export is memmap() itself, typed as the named export.
expectType<Equal<typeof memmap, typeof named>>(true);
expectType<Equal<typeof ns.default, typeof named>>(true);
expectType<Equal<typeof openNpy, typeof ns.openNpy>>(true);
// Types come through the ESM declarations too (dist/index.d.mts).
const o: MemmapOptions<'int8'> = { dtype: 'int8', shape: [2] };
void o;
// dtype: null is numpy's dtype=None: float64.
const none = memmap('a.bin', { dtype: null });
expectType<Equal<typeof none.data, Float64Array>>(true);

const f32 = memmap(new URL('file:///tmp/a.bin'), { dtype: 'float32', shape: [2, 3] });
expectType<Equal<typeof f32.data, Float32Array>>(true);
const i64 = memmap('a.bin', { dtype: 'int64' });
expectType<Equal<typeof i64.data, BigInt64Array>>(true);
expectType<Equal<typeof maxBufferLength, number>>(true);
// @ts-expect-error a code outside MemmapErrorCode does not compile
const e: MemmapError = new MemmapRangeError('ERR_X', 'x');
const ok: MemmapError = new MemmapRangeError('ERR_OUT_OF_RANGE', 'x');
void ok;
void e;

// @ts-expect-error not a dtype
memmap('a.bin', { dtype: 'float33' });
// @ts-expect-error not a mode
memmap('a.bin', { mode: 'rw' });
// @ts-expect-error not an order
memmap('a.bin', { order: 'X' });
// @ts-expect-error shape is a number or an array of numbers
memmap('a.bin', { shape: 'a' });
