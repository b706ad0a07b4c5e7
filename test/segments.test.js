'use strict';
// segments(): an array in whole-element, zero-copy windows of at most
// maxBytes (one window when the array fits one ArrayBuffer), the error codes
// of bad maxBytes, close() detaching the windows, big-endian arrays refused as
// by `data`, complex windows interleaved. segments() over 5 and 40 GiB arrays
// is in big-arrays.test.js.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, MemmapError } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');

describe('segments()', function () {
  const tmp = useTmpDir();

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
