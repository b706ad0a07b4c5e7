'use strict';
// Storage apart from views: the same array model and kernels over a file
// mapping (MappedStorage) and over heap bytes (HeapStorage) give identical
// results for every dtype, byte order and layout; the heap kernels' native
// entry points survive hostile arguments (in a child process).
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { memmap } = require('..');
const { createArray } = require('../dist/array');
const { DTYPES, parseDType } = require('../dist/dtype');
const { HeapStorage } = require('../dist/storage-heap');
const { MappedStorage } = require('../dist/storage-mapped');
const { throwsCode } = require('./helpers/assert');
const { expectCleanExit, runFixture } = require('./helpers/child');
const { useTmpDir } = require('./helpers/tmp');

const same = (a, b, what) => {
  if (typeof a === 'object' && a !== null && 're' in a) {
    assert.ok(Object.is(a.re, b.re) && Object.is(a.im, b.im), `${what}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  } else assert.ok(Object.is(a, b) || a === b, `${what}: ${a} vs ${b}`);
};

describe('storage: file mapping and heap bytes behave alike', function () {
  const tmp = useTmpDir();
  const shape = [3, 4, 5];
  const indexes = [[], [1], [null, 2], [[0, 3], [1, 4, 2]], [[null, null, -1], null, [4, 0, -2]], [-1, -1, -1], [[2, 2]]];

  for (const name of Object.keys(DTYPES)) {
    for (const order of ['C', 'F']) {
      for (const bo of DTYPES[name].itemsize === 1 ? ['|'] : ['<', '>']) {
        const descr = parseDType(bo === '|' ? name : bo + parseDType(name).descr.slice(1)).descr;
        it(`${descr} ${order}: sum, read, gather, get, set and ndarray agree`, function () {
          const file = tmp.file(`${name}-${order}-${bo === '>' ? 'be' : 'le'}.arr`);
          const dt = parseDType(descr);
          const bytes = crypto.randomBytes(60 * dt.itemsize);
          // Random bytes, NaNs included: same() compares with Object.is.
          fs.writeFileSync(file, bytes);
          const a = memmap(file, { dtype: descr, shape, order, mode: 'c' });
          const heapBytes = new Uint8Array(bytes.length);
          heapBytes.set(bytes);
          const h = createArray({ filename: '', mode: 'c', dtype: dt, offset: 0, order }, shape, new HeapStorage(heapBytes));
          try {
            for (const index of indexes) {
              same(h.sum(...index), a.sum(...index), `sum(${JSON.stringify(index)})`);
              assert.deepEqual(Buffer.from(h.read(...index).buffer), Buffer.from(a.read(...index).buffer), `read(${JSON.stringify(index)})`);
            }
            const ii = [0, 2, -1, 1];
            const jj = [3, 0, 1, -4];
            const kk = [4, 4, 0, -5];
            assert.deepEqual(Buffer.from(h.gather(ii, jj, kk).buffer), Buffer.from(a.gather(ii, jj, kk).buffer));
            throwsCode(() => h.gather([3], [0], [0]), 'ERR_OUT_OF_RANGE');
            for (const [i, j, k] of [[0, 0, 0], [2, 3, 4], [1, 2, 3], [-1, 0, -2]]) same(h.get(i, j, k), a.get(i, j, k), `get(${i}, ${j}, ${k})`);
            const v = dt.kind === 'b' ? true : dt.kind === 'c' ? { re: 1.5, im: -2 } : dt.itemsize === 8 && dt.kind !== 'f' ? 7n : 7;
            h.set(1, 2, 3, v);
            a.set(1, 2, 3, v);
            same(h.get(1, 2, 3), a.get(1, 2, 3), 'after set');
            assert.deepEqual(Buffer.from(heapBytes), Buffer.from(a.bytes), 'bytes after set');
            const hn = h.ndarray();
            const an = a.ndarray();
            same(hn.get(2, 1, 0, ...(dt.kind === 'c' ? [1] : [])), an.get(2, 1, 0, ...(dt.kind === 'c' ? [1] : [])), 'ndarray get');
            if (dt.isNative) assert.deepEqual([...h.data].map(String), [...a.data].map(String));
          } finally {
            a.close();
            h.close();
          }
          throwsCode(() => h.sum(), 'ERR_CLOSED');
        });
      }
    }
  }

  it('a heap array cannot be share()d; a mapped one is a ShareableStorage', function () {
    const h = createArray({ filename: '', mode: 'r+', dtype: parseDType('uint8'), offset: 0, order: 'C' }, [4], new HeapStorage(new Uint8Array(4)));
    throwsCode(() => h.share(), 'ERR_INVALID_ARG_VALUE');
    h.close();
    assert.equal(typeof MappedStorage.prototype.share, 'function');
  });

  it('the heap kernels survive hostile arguments (transfer during argument reads, detached, shared, overlapping, wrapping counts)', function () {
    const r = JSON.parse(expectCleanExit(runFixture('hostile-heap.js')));
    assert.deepEqual(r.sum, { ok: true, value: 36 });
    assert.deepEqual(r['sum-shared'], { ok: true, value: 36 });
    for (const k of ['copy-onto-itself', 'copy-reversed-onto-itself', 'gather-onto-itself', 'copy-count-wraps']) {
      assert.deepEqual(r[k], { ok: false, code: 'ERR_INVALID_ARG_VALUE', name: 'MemmapError' }, k);
    }
    assert.deepEqual(r['values-after-overlap'], [1, 2, 3, 4, 5, 6, 7, 8]);
    for (const k of ['gather-transfer-during-args', 'sum-detached', 'copy-detached', 'sum-view-past-end', 'sum-negative-stride-before-start']) {
      assert.deepEqual(r[k], { ok: false, code: 'ERR_OUT_OF_RANGE', name: 'MemmapError' }, k);
    }
    for (const k of ['sum-not-bytes', 'sum-bad-type']) assert.deepEqual(r[k], { ok: false, code: 'ERR_INVALID_ARG_VALUE', name: 'MemmapError' }, k);
  });
});
