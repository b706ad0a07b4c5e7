'use strict';
// Issue 5: arrays larger than one ArrayBuffer and than RAM (sparse files), segments().
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, maxBufferLength, MemmapError } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');

const GiB = 2 ** 30;

/** Writes float64 values at element indices of a (sparse) file. */
function putF64(file, entries) {
  const fd = fs.openSync(file, 'r+');
  try {
    for (const [k, v] of entries) {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      fs.writeSync(fd, b, 0, 8, k * 8);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function readF64(file, k) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(8);
    fs.readSync(fd, b, 0, 8, k * 8);
    return b.readDoubleLE();
  } finally {
    fs.closeSync(fd);
  }
}

function sparseFile(file, bytes) {
  fs.closeSync(fs.openSync(file, 'w'));
  fs.truncateSync(file, bytes);
}

describe('arrays larger than one ArrayBuffer (sparse files)', function () {
  const tmp = useTmpDir();

  for (const gib of [5, 40]) {
    describe(`${gib} GiB float64`, function () {
      const cols = 4096;
      const rows = (gib * GiB) / 8 / cols;
      const last = rows * cols - 1;
      let file;
      // known values: corners, last row, last column, a strided slice
      const known = new Map();
      before(function () {
        file = tmp.file(`big${gib}.f64`);
        sparseFile(file, gib * GiB);
        known.set(0, 1.25);
        known.set(last, -7.5); // last element
        for (let j = 0; j < cols; j += 1023) known.set((rows - 1) * cols + j, 1000 + j); // last row
        for (let i = 0; i < rows; i += Math.floor(rows / 7)) known.set(i * cols + cols - 1, 2000 + i); // last column
        known.set((rows - 1) * cols + cols - 1, -7.5);
        putF64(file, [...known]);
      });
      after(() => fs.rmSync(file, { force: true }));

      for (const mode of ['r', 'r+', 'c']) {
        it(`opens in mode ${mode} and reads the far end by get(), ndarray() and segments`, function () {
          const a = memmap(file, { dtype: 'float64', shape: [rows, cols], mode });
          try {
            assert.equal(a.byteLength, gib * GiB);
            for (const [k, v] of known) assert.equal(a.get(Math.floor(k / cols), k % cols), v);
            assert.equal(a.get(-1, -1), -7.5);
            const nd = a.ndarray();
            const lastRow = nd.pick(rows - 1, null);
            for (let j = 0; j < cols; j += 1023) assert.equal(lastRow.get(j), 1000 + j);
            const lastCol = nd.pick(null, cols - 1);
            for (let i = 0; i < rows; i += Math.floor(rows / 7)) assert.equal(lastCol.get(i), 2000 + i);
            const slice = nd.lo(0, cols - 1).step(Math.floor(rows / 7), 1);
            assert.equal(slice.get(1, 0), 2000 + Math.floor(rows / 7));
            if (a.byteLength > maxBufferLength) {
              throwsCode(() => a.data, 'ERR_TOO_LARGE');
            } else {
              assert.equal(a.data.length, rows * cols);
              assert.equal(a.data[last], -7.5);
            }
            // segments cover the array exactly, in order, and are zero-copy views
            let next = 0;
            let lastSeg;
            for (const seg of a.segments()) {
              assert.equal(seg.start, next);
              assert.ok(seg.data instanceof Float64Array);
              assert.equal(seg.data.length, seg.length);
              assert.ok(seg.data.byteLength <= maxBufferLength);
              next += seg.length;
              lastSeg = seg;
            }
            assert.equal(next, rows * cols);
            assert.equal(lastSeg.data[lastSeg.length - 1], -7.5);
            if (mode !== 'r') {
              a.set(rows - 1, cols - 2, 99.5);
              assert.equal(lastSeg.data[lastSeg.length - 2], 99.5, 'set() and segments share memory');
            } else {
              throwsCode(() => a.set(rows - 1, cols - 2, 99.5), 'ERR_READ_ONLY');
            }
            a.flush();
          } finally {
            a.close();
          }
          assert.equal(readF64(file, last - 1), mode === 'r+' ? 99.5 : 0, `mode ${mode} writes reach the file only in r+`);
          putF64(file, [[last - 1, 0]]);
        });
      }

      it('creates a sparse file of that size in mode w+ and writes at the far end', function () {
        const f2 = tmp.file(`w${gib}.f64`);
        const a = memmap(f2, { dtype: 'float64', shape: [rows, cols], mode: 'w+' });
        try {
          assert.equal(fs.statSync(f2).size, gib * GiB);
          a.set(-1, -1, 3.5);
          a.set(0, 0, 4.5);
          a.flush();
        } finally {
          a.close();
        }
        assert.equal(readF64(f2, last), 3.5);
        assert.equal(readF64(f2, 0), 4.5);
        fs.rmSync(f2);
      });
    });
  }

  it('segments({ maxBytes }) windows any array, whole elements only, zero-copy', function () {
    const file = tmp.file('seg.f32');
    const n = 250_001;
    const src = new Float32Array(n).map((_, i) => (i % 1000) - 500);
    fs.writeFileSync(file, Buffer.from(src.buffer));
    const a = memmap(file, { dtype: 'float32', mode: 'r+' });
    try {
      const whole = [...a.segments()];
      assert.equal(whole.length, 1, 'an array that fits comes as one segment');
      assert.equal(whole[0].data.length, n);
      let sum = 0;
      let count = 0;
      let segs = 0;
      for (const { start, length, data } of a.segments({ maxBytes: 4099 })) {
        assert.equal(start, count);
        assert.equal(data.length, length);
        assert.ok(length <= 1024);
        for (let i = 0; i < data.length; i++) sum += data[i];
        count += length;
        segs++;
      }
      assert.equal(count, n);
      assert.equal(segs, Math.ceil(n / 1024));
      assert.equal(sum, src.reduce((s, v) => s + v, 0));
      const [first] = a.segments({ maxBytes: 64 });
      first.data[3] = 1234;
      assert.equal(a.get(3), 1234);
      throwsCode(() => a.segments({ maxBytes: 3 }).next(), 'ERR_INVALID_ARG_VALUE', RangeError);
      throwsCode(() => a.segments({ maxBytes: -1 }).next(), 'ERR_INVALID_ARG_VALUE', TypeError);
      a.close();
      assert.equal(first.data.length, 0, 'close() detaches segment views');
      throwsCode(() => a.segments().next(), 'ERR_CLOSED');
    } finally {
      a.close();
    }
  });

  it('segments() of a big-endian array refuses like data does', function () {
    const file = tmp.file('be.bin');
    fs.writeFileSync(file, Buffer.alloc(64));
    const a = memmap(file, { dtype: '>i4' });
    try {
      throwsCode(() => a.segments().next(), 'ERR_BYTE_ORDER');
    } finally {
      a.close();
    }
  });

  it('complex segments are interleaved', function () {
    const file = tmp.file('c.bin');
    fs.writeFileSync(file, Buffer.from(new Float64Array([1, 2, 3, 4, 5, 6]).buffer));
    const a = memmap(file, { dtype: 'complex128' });
    try {
      const segs = [...a.segments({ maxBytes: 20 })];
      assert.deepEqual(segs.map((s) => [s.start, s.length, Array.from(s.data)]), [
        [0, 1, [1, 2]],
        [1, 1, [3, 4]],
        [2, 1, [5, 6]],
      ]);
    } finally {
      a.close();
    }
    assert.ok(MemmapError);
  });
});
