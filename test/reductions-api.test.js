'use strict';
// The reductions' API around the values (those are in reductions.test.js):
// options and their errors (file unchanged), shaped in-memory results with the
// array API, `out` (TypedArray, array, a view of the source itself), dtype
// accumulators, thread counts, read()/copy() with out, and the async twins
// (results, AbortSignal, close() while running, heap arrays).
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const { memmap, MemmapArray, MemmapError, MemmapRangeError, MemmapTypeError } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { numpyJSON } = require('./helpers/numpy');

function rejectsCode(p, code) {
  return assert.rejects(p, (err) => err instanceof MemmapError && err.code === code);
}
function throwsCode(fn, code, cls = MemmapError) {
  assert.throws(fn, (err) => err instanceof cls && err.code === code);
}

describe('reductions: options, results, out, async', function () {
  this.timeout(120000);
  const tmp = useTmpDir();
  let file;
  let big;
  // 6 x 5 float64 0..29, and 2048 x 1024 float32 random (8 MiB: threads engage)
  before(() => {
    file = tmp.file('a.f8');
    const a = new Float64Array(30).map((_, i) => i);
    fs.writeFileSync(file, Buffer.from(a.buffer));
    big = tmp.file('big.f4');
    numpyJSON(`
rng = np.random.default_rng(7)
rng.standard_normal((2048, 1024)).astype('<f4').tofile(sys.argv[1])
emit(0)`, [big]);
  });

  describe('options', () => {
    it('refuses bad options with coded errors and leaves the file unchanged', () => {
      const before = fingerprint(file);
      const a = memmap(file, { dtype: 'float64', shape: [6, 5], mode: 'r+' });
      try {
        throwsCode(() => a.sum({ axes: 0 }), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
        throwsCode(() => a.sum({ axis: 2 }), 'ERR_INVALID_AXIS', MemmapRangeError);
        throwsCode(() => a.sum({ axis: -3 }), 'ERR_INVALID_AXIS', MemmapRangeError);
        throwsCode(() => a.sum({ axis: [0, -2] }), 'ERR_INVALID_AXIS', MemmapRangeError);
        throwsCode(() => a.sum({ axis: 0.5 }), 'ERR_INVALID_AXIS', MemmapTypeError);
        throwsCode(() => a.argmax({ axis: [0, 1] }), 'ERR_INVALID_AXIS', MemmapTypeError);
        throwsCode(() => a.max({ dtype: 'float32' }), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
        throwsCode(() => a.sum({ dtype: 'int64' }), 'ERR_INVALID_DTYPE', MemmapTypeError);
        throwsCode(() => a.mean({ dtype: 'int32' }), 'ERR_INVALID_DTYPE', MemmapTypeError);
        throwsCode(() => a.sum({ dtype: 'nope' }), 'ERR_INVALID_DTYPE', MemmapTypeError);
        throwsCode(() => a.sum({ keepdims: 1 }), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
        throwsCode(() => a.var({ ddof: '1' }), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
        throwsCode(() => a.sum({ threads: -1 }), 'ERR_INVALID_ARG_VALUE', MemmapRangeError);
        throwsCode(() => a.sum({ axis: 0, out: new Float64Array(4) }), 'ERR_SHAPE_MISMATCH');
        throwsCode(() => a.sum({ axis: 0, out: new Float32Array(5) }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
        throwsCode(() => a.sum({ axis: 0, out: [0, 0, 0, 0, 0] }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
        throwsCode(() => a.max({ axis: 1, out: a.view(null, 0).copy().view([0, 5]) }), 'ERR_SHAPE_MISMATCH');
        throwsCode(() => a.view([0, 0]).min(), 'ERR_EMPTY_REDUCTION');
        throwsCode(() => a.view([0, 0]).argmax({ axis: 0 }), 'ERR_EMPTY_REDUCTION');
        throwsCode(() => a.max({ axis: 0, out: a.view(null, 0) }), 'ERR_SHAPE_MISMATCH');
      } finally {
        a.close();
      }
      assert.deepEqual(fingerprint(file), before);
    });

    it('async twins reject instead of throwing', async () => {
      const a = memmap(file, { dtype: 'float64', shape: [6, 5] });
      try {
        const p = a.sumAsync({ nope: 1 });
        assert.ok(p instanceof Promise);
        await rejectsCode(p, 'ERR_UNKNOWN_OPTION');
        await rejectsCode(a.maxAsync({ axis: 5 }), 'ERR_INVALID_AXIS');
        await rejectsCode(a.readAsync(9), 'ERR_OUT_OF_RANGE');
      } finally {
        a.close();
      }
    });
  });

  describe('results keep their shape', () => {
    it('an axis reduction is an in-memory array with the array API', () => {
      const a = memmap(file, { dtype: 'float64', shape: [6, 5] });
      try {
        const m = a.mean({ axis: 0 });
        assert.ok(m instanceof MemmapArray);
        assert.deepEqual(m.shape, [5]);
        assert.equal(m.dtype, 'float64');
        assert.deepEqual(Array.from(m.data), [12.5, 13.5, 14.5, 15.5, 16.5]);
        assert.equal(m.get(-1), 16.5);
        assert.equal(m.max(), 16.5);
        assert.deepEqual(Array.from(m.view([null, null, 2]).read()), [12.5, 14.5, 16.5]);
        assert.equal(m.ndarray().get(1), 13.5);
        assert.match(require('node:util').inspect(m), /^array\(\[12\.5, 13\.5/);
        assert.equal(m.filename, '');
        const k = a.sum({ axis: 1, keepdims: true });
        assert.deepEqual(k.shape, [6, 1]);
        assert.equal(k.get(2, 0), 10 + 11 + 12 + 13 + 14);
        const all = a.sum({ keepdims: true });
        assert.deepEqual(all.shape, [1, 1]);
        assert.equal(all.get(0, 0), 435);
        const arg = a.argmax({ axis: 1 });
        assert.equal(arg.dtype, 'int64');
        assert.deepEqual(Array.from(arg.data), [4n, 4n, 4n, 4n, 4n, 4n]);
        assert.equal(a.argmax(), 29);
        assert.equal(a.countNonzero(), 29);
        assert.equal(a.any(), true);
        assert.equal(a.all(), false);
        assert.deepEqual(Array.from(a.all({ axis: 0 }).data), [0, 1, 1, 1, 1]);
        m.close();
        throwsCode(() => m.get(0), 'ERR_CLOSED');
      } finally {
        a.close();
      }
    });

    it('sum() of small integers keeps returning a number; int64 results (prod, int64 sums) a bigint', () => {
      const f = tmp.file('i.bin');
      fs.writeFileSync(f, Buffer.from(new Int16Array([1, -2, 3, 30000, 30000, 30000]).buffer));
      const a = memmap(f, { dtype: 'int16' });
      const b = memmap(f, { dtype: 'int64', shape: [1] });
      try {
        assert.equal(a.sum(), 90002);
        assert.equal(a.prod(), -6n * 30000n ** 3n); // numpy's int64 product: a bigint
        assert.equal(typeof b.sum(), 'bigint');
        const s = a.sum({ axis: 0, keepdims: true });
        assert.equal(s.dtype, 'int64');
        assert.equal(s.get(0), 90002n);
        // numpy's accumulator choice wraps like numpy: int16 accumulated in int16
        assert.equal(a.sum({ dtype: 'int16' }), Number(BigInt.asIntN(16, 90002n)));
      } finally {
        a.close();
        b.close();
      }
    });
  });

  describe('out', () => {
    it('writes into a TypedArray or an array with no other result, and returns it', () => {
      const a = memmap(file, { dtype: 'float64', shape: [6, 5] });
      try {
        const out = new Float64Array(5);
        assert.equal(a.max({ axis: 0, out }), out);
        assert.deepEqual(Array.from(out), [25, 26, 27, 28, 29]);
        const arr = a.min({ axis: 1 }); // an in-memory array as out
        assert.equal(a.max({ axis: 1, out: arr }), arr);
        assert.deepEqual(Array.from(arr.data), [4, 9, 14, 19, 24, 29]);
        const row = new Float64Array(5);
        assert.equal(a.read(2, { out: row }), row);
        assert.deepEqual(Array.from(row), [10, 11, 12, 13, 14]);
        throwsCode(() => a.read(2, { out: new Float64Array(4) }), 'ERR_SHAPE_MISMATCH');
        throwsCode(() => a.read(2, { out: new Float32Array(5) }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
      } finally {
        a.close();
      }
    });

    it('a view of the source itself as out works as numpy (through a copy)', () => {
      const f = tmp.file('inplace.f8');
      fs.copyFileSync(file, f);
      const a = memmap(f, { dtype: 'float64', shape: [6, 5], mode: 'r+' });
      try {
        a.sum({ axis: 0, out: a.view(0) });
        assert.deepEqual(Array.from(a.read(0)), [75, 81, 87, 93, 99]);
        a.read(1, { out: a.view(0) });
        assert.deepEqual(Array.from(a.read(0)), [5, 6, 7, 8, 9]);
        throwsCode(() => a.read(null, 1, { out: a.view(null, 0) }), 'ERR_NOT_CONTIGUOUS');
        const r = memmap(f, { dtype: 'float64', shape: [6, 5] });
        throwsCode(() => a.sum({ axis: 0, out: r.view(0) }), 'ERR_READ_ONLY');
        r.close();
      } finally {
        a.close();
      }
    });
  });

  describe('accumulators and threads', () => {
    it('dtype float32 gives numpy\'s default float32 sum and mean; float64 is numpy\'s dtype=float64', () => {
      const a = memmap(big, { dtype: 'float32', shape: [2048, 1024] });
      try {
        const want = numpyJSON(`
a = np.fromfile(sys.argv[1], dtype='<f4').reshape(2048, 1024)
emit({'s32': float(a.sum()), 's64': float(a.sum(dtype=np.float64)), 'm32': float(a.mean()),
      'c32': [float(x) for x in a.sum(axis=0)[:8]], 'r64': [float(x) for x in a.mean(axis=1, dtype=np.float64)[:8]]})`, [big]);
        assert.equal(a.sum(), want.s64);
        assert.equal(a.sum({ dtype: 'float32' }), want.s32);
        assert.equal(a.mean({ dtype: 'float32' }), want.m32);
        const c = a.sum({ axis: 0, dtype: 'float32' });
        assert.equal(c.dtype, 'float32');
        assert.deepEqual(Array.from(c.data.subarray(0, 8)), want.c32);
        assert.deepEqual(Array.from(a.mean({ axis: 1 }).data.subarray(0, 8)), want.r64);
      } finally {
        a.close();
      }
    });

    it('any thread count gives the same bytes', () => {
      const a = memmap(big, { dtype: 'float32', shape: [2048, 1024] });
      try {
        for (const op of ['sum', 'mean', 'var', 'max', 'argmin', 'nansum', 'countNonzero']) {
          const one = a[op]({ axis: 0, threads: 1 });
          for (const threads of [2, 3, 5]) {
            assert.deepEqual(a[op]({ axis: 0, threads }).bytes, one.bytes, `${op} axis 0, ${threads} threads`);
            assert.deepEqual(a[op]({ axis: 1, threads }).bytes, a[op]({ axis: 1, threads: 1 }).bytes, `${op} axis 1`);
            assert.ok(Object.is(a[op]({ threads }), a[op]({ threads: 1 })), `${op} all, ${threads} threads`);
          }
        }
      } finally {
        a.close();
      }
    });

    it('MEMMAP_THREADS sets the default thread count', () => {
      const code = `const { memmap } = require(${JSON.stringify(require.resolve('..'))});
const a = memmap(${JSON.stringify(big)}, { dtype: 'float32', shape: [2048, 1024] });
process.stdout.write(JSON.stringify([a.sum(), a.max({ axis: 0 }).get(3), a.std()]));`;
      const run = (n) => execFileSync(process.execPath, ['-e', code], { env: { ...process.env, MEMMAP_THREADS: n }, encoding: 'utf8' });
      assert.equal(run('1'), run('4'));
    });
  });

  describe('copy()', () => {
    it('is an in-memory array of the selection in C order', () => {
      const a = memmap(file, { dtype: 'float64', shape: [6, 5], order: 'F' });
      try {
        const c = a.copy([1, 4], [null, null, -2]);
        assert.deepEqual(c.shape, [3, 3]);
        assert.equal(c.order, 'C');
        assert.deepEqual(Array.from(c.data), Array.from(a.read([1, 4], [null, null, -2])));
      } finally {
        a.close();
      }
    });
  });

  describe('async twins', () => {
    it('give the sync results', async () => {
      const a = memmap(big, { dtype: 'float32', shape: [2048, 1024] });
      try {
        assert.equal(await a.sumAsync(), a.sum());
        assert.equal(await a.sumAsync(3), a.sum(3));
        assert.deepEqual((await a.maxAsync({ axis: 0 })).bytes, a.max({ axis: 0 }).bytes);
        assert.deepEqual((await a.meanAsync({ axis: 1 })).bytes, a.mean({ axis: 1 }).bytes);
        assert.equal(await a.stdAsync(), a.std());
        assert.equal(await a.argmaxAsync(), a.argmax());
        assert.deepEqual(await a.readAsync(null, 5), a.read(null, 5));
        const out = new Float32Array(1024);
        assert.equal(await a.readAsync(7, { out }), out);
        assert.deepEqual(out, a.read(7));
        assert.deepEqual(await a.gatherAsync([1, 2, -1], [0, 5, 9]), a.gather([1, 2, -1], [0, 5, 9]));
        const c = await a.copyAsync([0, 3]);
        assert.deepEqual(c.shape, [3, 1024]);
        await a.prefetch(null, 3);
        const m = a.mean({ axis: 0 }); // in memory: the twins run at once
        assert.equal(await m.sumAsync(), m.sum());
      } finally {
        a.close();
      }
    });

    it('an aborted signal rejects with ERR_ABORTED named AbortError', async () => {
      const a = memmap(big, { dtype: 'float32', shape: [2048, 1024] });
      try {
        const ac = new AbortController();
        ac.abort(new Error('stop'));
        await assert.rejects(a.sumAsync({ signal: ac.signal }), (err) => err instanceof MemmapError && err.code === 'ERR_ABORTED' && err.name === 'AbortError' && err.cause.message === 'stop');
        const ac2 = new AbortController();
        const p = a.readAsync(null, 1, { signal: ac2.signal });
        ac2.abort();
        await rejectsCode(p, 'ERR_ABORTED');
        await rejectsCode(a.maxAsync({ signal: 'yes' }), 'ERR_INVALID_ARG_TYPE');
      } finally {
        a.close();
      }
    });

    it('close() while a call runs: it settles, the process lives', async () => {
      const a = memmap(big, { dtype: 'float32', shape: [2048, 1024] });
      const want = a.sum();
      const p = a.sumAsync();
      const q = a.maxAsync({ axis: 0 });
      a.close();
      const [r, s] = await Promise.allSettled([p, q]);
      for (const x of [r, s]) assert.ok(x.status === 'fulfilled' || x.reason.code === 'ERR_CLOSED', String(x.reason));
      if (r.status === 'fulfilled') assert.equal(r.value, want);
      await rejectsCode(a.sumAsync(), 'ERR_CLOSED');
    });
  });
});
