'use strict';
// Modes r, r+, w+, c (and numpy's long aliases): who sees a write, and what
// reaches the file.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode, patternFile } = require('./helpers/assert');
const { skipOnWindows } = require('./helpers/platform');

describe('modes', function () {
  const tmp = useTmpDir();

  it('numpy long aliases map to r, r+, w+, c', function () {
    const file = tmp.file('aliases.bin');
    patternFile(file, 16);
    for (const [alias, mode] of [['readonly', 'r'], ['readwrite', 'r+'], ['copyonwrite', 'c'], ['write', 'w+'], ['r', 'r'], ['r+', 'r+'], ['c', 'c'], ['w+', 'w+']]) {
      const a = memmap(file, { mode: alias, shape: [16] });
      assert.equal(a.mode, mode, alias);
      assert.equal(a.readonly, mode === 'r', alias);
      a.close();
    }
  });

  describe("'r'", function () {
    it('never modifies the file; a stray write through data stays private; set() throws ERR_READ_ONLY', function () {
      const file = tmp.file('r.bin');
      const bytes = patternFile(file, 3 * 4096 + 10);
      const before = fingerprint(file);
      const a = memmap(file, { mode: 'r', dtype: 'uint16', offset: 2 });
      const original = a.data[100];
      a.data[100] = original ^ 0xffff; // JS cannot make a TypedArray read-only: this must not crash
      new Uint8Array(a.data.buffer)[a.byteLength - 1] ^= 0xff;
      assert.equal(a.data[100], original ^ 0xffff, 'the stray write is visible only in this private mapping');
      throwsCode(() => a.set(100, 1), 'ERR_READ_ONLY');
      throwsCode(() => a.set(0, 1), 'ERR_READ_ONLY');
      a.flush();
      const other = memmap(file, { mode: 'r', dtype: 'uint16', offset: 2 });
      assert.equal(other.data[100], original, 'a second mapping sees the file, not the stray write');
      assert.deepEqual(fs.readFileSync(file), bytes);
      a.close();
      other.close();
      assert.equal(fingerprint(file), before);
    });

    it('ndarray().set() on a byte-swapped array throws ERR_READ_ONLY', function () {
      const file = tmp.file('r-be.bin');
      patternFile(file, 16);
      const before = fingerprint(file);
      const a = memmap(file, { mode: 'r', dtype: '>i4' });
      throwsCode(() => a.ndarray().set(0, 5), 'ERR_READ_ONLY');
      a.close();
      assert.equal(fingerprint(file), before);
    });
  });

  describe("'c'", function () {
    it('writes are visible in this array only and never reach the file, even after flush()', function () {
      const file = tmp.file('c.bin');
      const bytes = patternFile(file, 2 * 4096);
      const before = fingerprint(file);
      const a = memmap(file, { mode: 'c', dtype: 'int32', offset: 4 });
      assert.equal(a.readonly, false);
      a.set(0, -1234567);
      a.data[a.size - 1] = 77;
      a.ndarray().set(5, 55);
      assert.equal(a.get(0), -1234567);
      assert.equal(a.get(-1), 77);
      assert.equal(a.data[5], 55);
      a.flush();
      const other = memmap(file, { mode: 'r+', dtype: 'int32', offset: 4 });
      assert.equal(other.get(0), bytes.readInt32LE(4), 'a second mapping does not see copy-on-write changes');
      assert.equal(other.get(-1), bytes.readInt32LE(bytes.length - 4));
      other.close();
      assert.deepEqual(fs.readFileSync(file), bytes);
      a.close();
      assert.equal(fingerprint(file), before);
    });

    it("advise('dontneed') discards private changes (as documented), and still never writes the file", function () {
      skipOnWindows(this, "no call drops a copy-on-write view's private pages in place: dontneed is a no-op");
      const file = tmp.file('c-dontneed.bin');
      const bytes = patternFile(file, 2 * 4096);
      const before = fingerprint(file);
      const a = memmap(file, { mode: 'c' });
      a.set(5, bytes[5] ^ 0xff);
      a.advise('dontneed');
      assert.equal(a.get(5), bytes[5]);
      a.close();
      assert.equal(fingerprint(file), before);
    });
  });

  describe("'r+'", function () {
    it('writes are visible at once to another mapping, and on disk after flush()', function () {
      const file = tmp.file('rplus.bin');
      const bytes = patternFile(file, 4096 + 100);
      const a = memmap(file, { mode: 'r+', dtype: 'float64', offset: 3, shape: [500] });
      const b = memmap(file, { mode: 'r+', dtype: 'float64', offset: 3, shape: [500] });
      a.set(0, 1.5);
      a.data[499] = -2.75;
      b.ndarray().set(250, 1e300);
      assert.equal(b.get(0), 1.5);
      assert.equal(b.data[499], -2.75);
      assert.equal(a.get(250), 1e300);
      a.flush();
      b.flush();
      const disk = fs.readFileSync(file);
      assert.equal(disk.readDoubleLE(3), 1.5);
      assert.equal(disk.readDoubleLE(3 + 8 * 499), -2.75);
      assert.equal(disk.readDoubleLE(3 + 8 * 250), 1e300);
      assert.equal(disk.length, bytes.length);
      assert.deepEqual(disk.subarray(0, 3), bytes.subarray(0, 3));
      assert.deepEqual(disk.subarray(3 + 8 * 500), bytes.subarray(3 + 8 * 500));
      a.close();
      b.close();
    });

    it('grows a too-short file to offset + size, keeping its bytes (as numpy)', function () {
      const file = tmp.file('grow.bin');
      const bytes = patternFile(file, 10);
      const a = memmap(file, { mode: 'r+', dtype: 'int32', offset: 6, shape: [2, 5] });
      assert.equal(fs.statSync(file).size, 6 + 40);
      assert.equal(a.get(0, 0), bytes.readInt32LE(6));
      assert.equal(a.get(1, 4), 0);
      a.set(1, 4, 9);
      a.flush();
      a.close();
      const disk = fs.readFileSync(file);
      assert.deepEqual(disk.subarray(0, 10), bytes);
      assert.deepEqual(disk.subarray(10, 42), Buffer.alloc(32));
      assert.equal(disk.readInt32LE(42), 9);
    });

    it('grows an empty file', function () {
      const file = tmp.file('grow-empty.bin');
      fs.writeFileSync(file, '');
      const a = memmap(file, { mode: 'r+', dtype: 'uint16', shape: [3] });
      assert.equal(fs.statSync(file).size, 6);
      a.close();
    });

    it('leaves a longer file at its length', function () {
      const file = tmp.file('long.bin');
      patternFile(file, 1000);
      const a = memmap(file, { mode: 'r+', shape: [10], offset: 5 });
      a.close();
      assert.equal(fs.statSync(file).size, 1000);
    });
  });

  describe("'w+'", function () {
    it('creates a file of exactly offset + size zero bytes', function () {
      const file = tmp.file('wplus-new.bin');
      assert.ok(!fs.existsSync(file));
      const a = memmap(file, { mode: 'w+', dtype: 'complex64', shape: [3, 7], offset: 4097 });
      assert.equal(a.mode, 'w+');
      assert.equal(a.readonly, false);
      assert.equal(fs.statSync(file).size, 4097 + 3 * 7 * 8);
      assert.ok(a.data.every((x) => x === 0));
      a.set(2, 6, { re: 1, im: 2 });
      a.flush();
      a.close();
      const disk = fs.readFileSync(file);
      assert.equal(disk.length, 4097 + 168);
      assert.deepEqual(disk.subarray(0, 4097 + 160), Buffer.alloc(4097 + 160));
      assert.equal(disk.readFloatLE(4097 + 160), 1);
      assert.equal(disk.readFloatLE(4097 + 164), 2);
    });

    it('truncates an existing file (longer or shorter) to exactly offset + size bytes, all zero', function () {
      for (const initial of [5, 10000]) {
        const file = tmp.file(`wplus-${initial}.bin`);
        patternFile(file, initial);
        const a = memmap(file, { mode: 'w+', dtype: 'int16', shape: [50], offset: 10 });
        assert.equal(fs.statSync(file).size, 110);
        assert.ok(a.data.every((x) => x === 0));
        a.close();
        assert.deepEqual(fs.readFileSync(file), Buffer.alloc(110), 'numpy w+ truncates: the old bytes are gone');
      }
    });

    it('requires a shape (ERR_SHAPE_REQUIRED) and then neither creates nor changes the file', function () {
      const missing = tmp.file('wplus-noshape.bin');
      throwsCode(() => memmap(missing, { mode: 'w+', dtype: 'float32' }), 'ERR_SHAPE_REQUIRED', TypeError);
      throwsCode(() => memmap(missing, { mode: 'write' }), 'ERR_SHAPE_REQUIRED', TypeError);
      assert.ok(!fs.existsSync(missing));
      const existing = tmp.file('wplus-noshape-existing.bin');
      patternFile(existing, 64);
      const before = fingerprint(existing);
      throwsCode(() => memmap(existing, { mode: 'w+' }), 'ERR_SHAPE_REQUIRED', TypeError);
      assert.equal(fingerprint(existing), before);
    });
  });
});
