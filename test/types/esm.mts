// ESM consumer: resolves through the "import" condition to dist/index.d.mts.
import { memmap, MemmapError, MemmapRangeError, maxBufferLength } from 'memmap';
import { expectType, type Equal } from './expect.js';

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
