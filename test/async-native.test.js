'use strict';
// The native async twins (Mapping.sumAsync/copyAsync/gatherAsync/prefetch and
// native.Cancel): the same answers as the sync calls, from the libuv thread
// pool; close() while a job runs settles it and unmaps afterwards; cancel()
// rejects ERR_ABORTED; the event loop keeps turning while a job runs. Code
// that could crash (a file cut under a running job, getters that close the
// mapping while the arguments are read) runs in a child process
// (test/fixtures/async-hostile.js).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { native } = require('../dist/binding');
const { viewDescriptor } = require('../dist/layout');
const { isMemmapError } = require('./helpers/assert');
const { fixtureJSON } = require('./helpers/child');
const { mappedLines } = require('./helpers/proc');
const { useTmpDir } = require('./helpers/tmp');
const { skipOnWindows } = require('./helpers/platform');

const CODE = Object.fromEntries(native.tables.dtypes.map((d) => [d.name, d.code]));
const ITEMSIZE = Object.fromEntries(native.tables.dtypes.map((d) => [d.name, d.itemsize]));

/** A native Mapping of the whole file. */
function mapNative(file, mode = 'r') {
  const opened = native.openFile(file, native.tables.modes[mode]);
  try {
    return new native.Mapping(opened[0], native.tables.modes[mode], 0, opened[1], 0);
  } finally {
    native.closeFile(opened[0]);
  }
}

/** Writes `bytes` bytes where byte k is k & 0xff, in 1 MiB blocks; the sum of them as uint8. */
function rampFile(file, bytes) {
  const block = Buffer.alloc(1 << 20);
  for (let k = 0; k < block.length; k++) block[k] = k & 0xff;
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; done += block.length) fs.writeSync(fd, block, 0, Math.min(block.length, bytes - done), done);
  } finally {
    fs.closeSync(fd);
  }
}
const rampSum = (bytes) => (bytes / 256) * ((255 * 256) / 2);

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (err) => isMemmapError(err, code));
}

const settled = (p) =>
  p.then(
    (value) => ({ value }),
    (error) => ({ error }),
  );

describe('async native kernels', function () {
  const tmp = useTmpDir();

  describe('the same results as the sync calls', function () {
    // [dtype, swap, shape, element strides, element offset] over a 4 x 6 x 5 file of random bytes.
    const views = [
      [[4, 6, 5], [30, 5, 1], 0],
      [[4, 6, 5], [-30, -5, -1], 119],
      [[5, 6, 4], [1, 5, 30], 0],
      [[6], [5], 2],
      [[2, 3], [60, -10], 24],
      [[0, 3], [5, 1], 0],
      [[], [], 7],
    ];
    for (const dtype of ['bool', 'int8', 'uint16', 'int32', 'int64', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128']) {
      for (const swap of ITEMSIZE[dtype] === 1 ? [false] : [false, true]) {
        it(`${dtype}${swap ? ' (swapped)' : ''}: sumAsync, copyAsync, gatherAsync, prefetch`, async function () {
          const size = ITEMSIZE[dtype];
          const file = tmp.file(`same-${dtype}-${swap}.bin`);
          fs.writeFileSync(file, require('node:crypto').randomBytes(120 * size));
          const m = mapNative(file);
          try {
            for (const [shape, strides, offset] of views) {
              const view = viewDescriptor(offset * size, shape, strides, size);
              const what = `${JSON.stringify(shape)} ${JSON.stringify(strides)}`;
              const sync = m.sum(CODE[dtype], swap, view);
              const got = await m.sumAsync(CODE[dtype], swap, view, 0);
              if (sync instanceof Float64Array) assert.deepEqual([...got].map(String), [...sync].map(String), what);
              else assert.ok(Object.is(got, sync), `${what}: ${got} vs ${sync}`);

              const n = shape.reduce((a, b) => a * b, 1);
              const dst = new Uint8Array(n * size);
              m.copy(CODE[dtype], swap, view, dst);
              const copied = await m.copyAsync(CODE[dtype], swap, view);
              assert.ok(copied instanceof ArrayBuffer, what);
              assert.deepEqual(Buffer.from(copied), Buffer.from(dst), what);

              const count = shape.length === 0 ? 1 : 9; // a 0-d view gathers its one element
              const coords = shape.map((dim, d) => Float64Array.from({ length: count }, (_, k) => (dim === 0 ? 0 : ((k * (d + 2)) % dim) - (k % 2) * dim)));
              const gdst = new Uint8Array(count * size);
              const bad = m.gather(CODE[dtype], swap, coords, view, gdst);
              const gathered = await m.gatherAsync(CODE[dtype], swap, coords, view);
              if (bad === undefined) assert.deepEqual(Buffer.from(gathered), Buffer.from(gdst), what);
              else assert.deepEqual([...gathered], [...bad], what);

              assert.equal(await m.prefetch(view, size), undefined);
            }
          } finally {
            m.close();
          }
        });
      }
    }

    it('gatherAsync reports a bad coordinate as gather() does; big results are ArrayBuffers of their own', async function () {
      const file = tmp.file('bad-coords.bin');
      rampFile(file, 1 << 20);
      const m = mapNative(file);
      try {
        const view = viewDescriptor(0, [1024, 1024], [1024, 1], 1);
        for (const coords of [
          [new Float64Array([0, 1.5]), new Float64Array([0, 0])],
          [new Float64Array([0, 1]), new Float64Array([0, -1025])],
        ]) {
          const dst = new Uint8Array(2);
          assert.deepEqual([...(await m.gatherAsync(CODE.uint8, false, coords, view))], [...m.gather(CODE.uint8, false, coords, view, dst)]);
        }
        await rejectsCode(m.gatherAsync(CODE.uint8, false, [new Float64Array(2), new Float64Array(3)], view), 'ERR_INVALID_ARG_VALUE');
        // 1 MiB: handed over as the native memory itself (or a copy where external buffers are refused).
        const a = await m.copyAsync(CODE.uint8, false, view);
        const b = await m.copyAsync(CODE.uint8, false, view);
        assert.notEqual(a, b);
        assert.equal(a.byteLength, 1 << 20);
        assert.ok(Buffer.from(a).equals(fs.readFileSync(file)));
        new Uint8Array(a).fill(7); // ours to write
        assert.ok(Buffer.from(b).equals(fs.readFileSync(file)));
        // A view outside the mapping.
        await rejectsCode(m.copyAsync(CODE.uint8, false, viewDescriptor(1, [1 << 20], [1], 1)), 'ERR_OUT_OF_RANGE');
        await rejectsCode(m.sumAsync(CODE.uint8, false, viewDescriptor(0, [2], [-1], 1), 0), 'ERR_OUT_OF_RANGE');
        await rejectsCode(m.prefetch(viewDescriptor(0, [1 << 20], [1], 1), 2), 'ERR_OUT_OF_RANGE');
      } finally {
        m.close();
      }
    });

    it('prefetch makes the pages of the view resident', async function () {
      const file = tmp.file('prefetch.bin');
      const pages = 256;
      rampFile(file, pages * native.pageSize);
      native.evictFile(file);
      const m = mapNative(file);
      try {
        // Every other page (an element each), then everything.
        const step = native.pageSize * 2;
        await m.prefetch(viewDescriptor(0, [pages / 2], [step], 1), 1);
        const some = m.residency();
        for (let p = 0; p < pages; p += 2) assert.equal(some[p], 1, `page ${p}`);
        await m.prefetch(viewDescriptor(0, [pages * native.pageSize], [1], 1), 1);
        assert.deepEqual([...m.residency()], new Array(pages).fill(1));
      } finally {
        m.close();
      }
    });
  });

  describe('reduceAsync', function () {
    it('gives what reduce() gives, for each op, over kept and reduced dims', async function () {
      const file = tmp.file('reduce.bin');
      const f = Float64Array.from({ length: 6 * 7 * 5 }, (_, k) => ((k * 37) % 101) - 50 + (k % 3) / 4);
      fs.writeFileSync(file, Buffer.from(f.buffer));
      const m = mapNative(file);
      try {
        const { reductions } = native.tables;
        const outType = { argmin: 'int64', argmax: 'int64', nanargmin: 'int64', nanargmax: 'int64', any: 'bool', all: 'bool', count_nonzero: 'int64', min: 'float64', max: 'float64', nanmin: 'float64', nanmax: 'float64' };
        // [shape, element strides, offset, nkeep]: C order keeping axis 0; axis 0 reduced (moved last); everything reduced.
        const views = [
          [[6, 7, 5], [35, 5, 1], 0, 1],
          [[7, 5, 6], [5, 1, 35], 0, 2],
          [[6, 7, 5], [-35, 5, -1], 179, 0],
        ];
        for (const [name, op] of Object.entries(reductions)) {
          const out = outType[name] ?? 'float64';
          for (const [shape, strides, offset, nkeep] of views) {
            const view = viewDescriptor(offset * 8, shape, strides, 8);
            const kept = shape.slice(0, nkeep).reduce((a, b) => a * b, 1);
            const dst = new Uint8Array(kept * ITEMSIZE[out]);
            m.reduce(CODE.float64, false, view, nkeep, op, CODE[out], 1, 0, dst);
            const got = await m.reduceAsync(CODE.float64, false, view, nkeep, op, CODE[out], 1, 2);
            assert.ok(got instanceof ArrayBuffer);
            assert.deepEqual(Buffer.from(got), Buffer.from(dst), `${name} ${JSON.stringify(shape)} nkeep ${nkeep}`);
          }
        }
      } finally {
        m.close();
      }
    });

    it('rejects with ERR_ALL_NAN, ERR_EMPTY_REDUCTION, ERR_ABORTED and ERR_CLOSED', async function () {
      const file = tmp.file('reduce-nan.bin');
      fs.writeFileSync(file, Buffer.from(new Float64Array(64).fill(NaN).buffer));
      const m = mapNative(file);
      const { reductions } = native.tables;
      const view = viewDescriptor(0, [8, 8], [64, 8], 1);
      await rejectsCode(m.reduceAsync(CODE.float64, false, view, 1, reductions.nanargmax, CODE.int64, 0, 0), 'ERR_ALL_NAN');
      await rejectsCode(m.reduceAsync(CODE.float64, false, viewDescriptor(0, [8, 0], [64, 8], 1), 1, reductions.max, CODE.float64, 0, 0), 'ERR_EMPTY_REDUCTION');
      const c = new native.Cancel();
      c.cancel();
      await rejectsCode(m.reduceAsync(CODE.float64, false, view, 1, reductions.sum, CODE.float64, 0, 0, c), 'ERR_ABORTED');
      await rejectsCode(m.reduceAsync(CODE.float64, false, view, 3, reductions.sum, CODE.float64, 0, 0), 'ERR_INVALID_ARG_VALUE');
      m.close();
      await rejectsCode(m.reduceAsync(CODE.float64, false, view, 1, reductions.sum, CODE.float64, 0, 0), 'ERR_CLOSED');
    });
  });

  describe('arguments and errors', function () {
    it('every error is a rejection with a code (closed, bad arguments, not a Cancel)', async function () {
      const file = tmp.file('errors.bin');
      rampFile(file, 4096);
      const m = mapNative(file);
      const view = viewDescriptor(0, [4096], [1], 1);
      await rejectsCode(m.sumAsync(CODE.uint8, false, [0, 1, 4096, 1], 0), 'ERR_INVALID_ARG_VALUE');
      await rejectsCode(m.sumAsync(99, false, view, 0), 'ERR_INVALID_ARG_VALUE');
      await rejectsCode(m.sumAsync(CODE.uint8, false, view, -1), 'ERR_INVALID_ARG_VALUE');
      await rejectsCode(m.copyAsync(CODE.uint8, false, view, {}), 'ERR_INVALID_ARG_VALUE');
      await rejectsCode(m.copyAsync(CODE.uint8, false, view, { 'memmap.cancel': 1 }), 'ERR_INVALID_ARG_VALUE');
      await rejectsCode(m.gatherAsync(CODE.uint8, false, 'x', view), 'ERR_INVALID_ARG_VALUE');
      await rejectsCode(m.prefetch(view, 0), 'ERR_INVALID_ARG_VALUE');
      // A Cancel's flag may be lent to another object: still a real flag.
      const c = new native.Cancel();
      const lent = Object.create(c);
      assert.equal(await m.sumAsync(CODE.uint8, false, view, 1, lent), rampSum(4096));
      m.close();
      for (const p of [m.sumAsync(CODE.uint8, false, view, 0), m.copyAsync(CODE.uint8, false, view), m.gatherAsync(CODE.uint8, false, [new Float64Array(1)], view), m.prefetch(view, 1), m.sumAsync(CODE.uint8, false, view, 0, c)]) {
        await rejectsCode(p, 'ERR_CLOSED');
      }
    });

    it('Cancel: a constructor; cancel() only on a Cancel', function () {
      assert.throws(() => native.Cancel(), (err) => isMemmapError(err, 'ERR_INVALID_ARG_VALUE'));
      assert.throws(() => native.Cancel.prototype.cancel.call({}), (err) => isMemmapError(err, 'ERR_INVALID_ARG_VALUE'));
      assert.throws(() => native.Cancel.prototype.cancel.call(undefined), (err) => isMemmapError(err, 'ERR_INVALID_ARG_VALUE'));
      const c = new native.Cancel();
      c.cancel();
      c.cancel();
      assert.equal(Object.keys(c).length, 0);
      // A Cancel is not a Mapping: its methods refuse it (no napi_wrap to mistake).
      assert.throws(() => native.Mapping.prototype.sum.call(c, CODE.uint8, false, viewDescriptor(0, [1], [1], 1)));
      assert.throws(() => native.Mapping.prototype.close.call(c));
    });
  });

  describe('close(), cancel() and many jobs', function () {
    const BIG = 128 << 20;
    let big;
    before(function () {
      big = tmp.file('big.bin');
      rampFile(big, BIG);
    });

    it('close() while jobs run: they settle with the right data, and the file is unmapped once they have', async function () {
      native.evictFile(big);
      const m = mapNative(big);
      const whole = viewDescriptor(0, [BIG], [1], 1);
      const rows = viewDescriptor(0, [BIG / 256, 256], [256, 1], 1);
      const jobs = [m.sumAsync(CODE.uint8, false, whole, 0), m.copyAsync(CODE.uint8, false, viewDescriptor(0, [BIG / 4096], [4096], 1)), m.prefetch(whole, 1), m.gatherAsync(CODE.uint8, false, [new Float64Array([BIG - 1, 5])], whole), m.reduceAsync(CODE.uint8, false, rows, 1, native.tables.reductions.max, CODE.uint8, 0, 0)];
      m.close();
      assert.ok(m.closed);
      assert.ok(mappedLines(big) > 0, 'the pins keep the file mapped');
      const [sum, column, prefetched, gathered, maxima] = await Promise.all(jobs.map(settled));
      assert.ok(Buffer.from(maxima.value).equals(Buffer.alloc(BIG / 256, 255)));
      assert.equal(sum.value, rampSum(BIG));
      assert.deepEqual(Buffer.from(column.value), Buffer.alloc(BIG / 4096));
      assert.deepEqual(prefetched, { value: undefined });
      assert.deepEqual([...new Uint8Array(gathered.value)], [255, 5]);
      assert.equal(mappedLines(big), 0, 'unmapped once the last job ended');
    });

    it('cancel() rejects with ERR_ABORTED: before the call, and while the job runs', async function () {
      const m = mapNative(big);
      try {
        const whole = viewDescriptor(0, [BIG], [1], 1);
        const before = new native.Cancel();
        before.cancel();
        await rejectsCode(m.sumAsync(CODE.uint8, false, whole, 0, before), 'ERR_ABORTED');
        await rejectsCode(m.copyAsync(CODE.uint8, false, whole, before), 'ERR_ABORTED');
        await rejectsCode(m.gatherAsync(CODE.uint8, false, [new Float64Array([1])], whole, before), 'ERR_ABORTED');
        await rejectsCode(m.prefetch(whole, 1, before), 'ERR_ABORTED');
        // Cold, so each takes far longer than the cancel() right after it.
        for (const start of [(c) => m.sumAsync(CODE.uint8, false, whole, 1, c), (c) => m.sumAsync(CODE.float32, false, viewDescriptor(0, [BIG / 4], [4], 1), 0, c), (c) => m.copyAsync(CODE.uint8, false, whole, c), (c) => m.copyAsync(CODE.uint8, true, viewDescriptor(0, [BIG / 2], [2], 1), c), (c) => m.prefetch(whole, 1, c), (c) => m.gatherAsync(CODE.uint8, false, [Float64Array.from({ length: 1 << 20 }, (_, k) => (k * 4099) % BIG)], whole, c)]) {
          native.evictFile(big);
          const c = new native.Cancel();
          const p = start(c);
          c.cancel();
          await rejectsCode(p, 'ERR_ABORTED');
        }
        // A cancel() after the job ended changes nothing.
        const late = new native.Cancel();
        assert.equal(await m.sumAsync(CODE.uint8, false, viewDescriptor(0, [4096], [1], 1), 0, late), rampSum(4096));
        late.cancel();
      } finally {
        m.close();
      }
    });

    it('many concurrent jobs over several mappings give what the sync calls give', async function () {
      const maps = [mapNative(big), mapNative(big), mapNative(big)];
      const jobs = [];
      const expected = [];
      for (let k = 0; k < 120; k++) {
        const m = maps[k % maps.length];
        const start = (k * 7919 * 4096) % (BIG - (1 << 20));
        const view = viewDescriptor(start, [256, 64], [4096, 3], 1);
        switch (k % 4) {
          case 0:
            jobs.push(m.sumAsync(CODE.uint16, k % 8 === 0, view, 1 + (k % 3)));
            expected.push(m.sum(CODE.uint16, k % 8 === 0, view));
            break;
          case 1: {
            const dst = new Uint8Array(256 * 64 * 4);
            m.copy(CODE.float32, true, view, dst);
            jobs.push(m.copyAsync(CODE.float32, true, view).then((ab) => Buffer.from(ab)));
            expected.push(Buffer.from(dst));
            break;
          }
          case 2: {
            const coords = [Float64Array.from({ length: 100 }, (_, i) => (i * 13) % 256), Float64Array.from({ length: 100 }, (_, i) => -1 - (i % 64))];
            const dst = new Uint8Array(100 * 8);
            m.gather(CODE.float64, false, coords, view, dst);
            jobs.push(m.gatherAsync(CODE.float64, false, coords, view).then((ab) => Buffer.from(ab)));
            expected.push(Buffer.from(dst));
            break;
          }
          default:
            jobs.push(m.prefetch(view, 2));
            expected.push(undefined);
        }
      }
      // Closed while they run: each settles as before and the file is unmapped after.
      for (const m of maps) m.close();
      assert.deepEqual(await Promise.all(jobs), expected);
      assert.equal(mappedLines(big), 0);
    });

    it('the event loop keeps turning while a column of a big C-order file is copied', async function () {
      native.evictFile(big);
      const m = mapNative(big);
      const rows = BIG / 4096;
      const histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      let ticks = 0;
      let pendingTicks = 0;
      let pending = true;
      const timer = setInterval(() => {
        ticks++;
        if (pending) pendingTicks++;
      }, 1);
      try {
        const column = await m.copyAsync(CODE.uint8, false, viewDescriptor(4095, [rows], [4096], 1));
        pending = false;
        assert.deepEqual(Buffer.from(column), Buffer.alloc(rows, 255));
      } finally {
        clearInterval(timer);
        histogram.disable();
        m.close();
      }
      // The job ran while the loop kept serving timers (the loop's delays are reported, not judged).
      assert.ok(pendingTicks > 0, `no interval tick while the job ran (${ticks} in all)`);
      this.test.title += ` (${pendingTicks} ticks during the job, loop delay max ${(histogram.max / 1e6).toFixed(1)} ms)`;
    });
  });

  describe('hostile callers (each in a child process)', function () {
    for (const which of ['getter-closes', 'proxy-cancel-closes', 'detach-coords', 'truncated', 'truncated-while-running', 'gc-while-running', 'worker-exit-while-running']) {
      it(which, function () {
        if (which.startsWith('truncated')) skipOnWindows(this, 'Windows refuses to shrink a mapped file (error 1224), so no page is lost to truncation');
        skipOnWindows(this, 'the fixture counts mappings in /proc/self/maps');
        const out = fixtureJSON('async-hostile.js', [which, tmp.dir], { execArgv: ['--expose-gc'], timeout: 120000 });
        for (const [name, got] of Object.entries(out.results)) {
          assert.ok(out.expect[name].includes(got), `${name}: got ${got}, expected one of ${out.expect[name].join(', ')}`);
        }
        assert.ok(Object.keys(out.results).length > 0);
      });
    }
  });
});
