'use strict';
// The memmap() API surface: properties, defaults, get/set, ndarray(), flush,
// advise, residency, shapes and offsets.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { memmap, evict, MemmapArray, pageSize } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode, patternFile } = require('./helpers/assert');
const { skipOnWindows } = require('./helpers/platform');

describe('memmap() API', function () {
  const tmp = useTmpDir();

  describe('properties', function () {
    it('reports dtype, shape, strides, order, mode, offset, filename, size, byteLength, readonly, closed', function () {
      const file = tmp.file('props.bin');
      patternFile(file, 100);
      const a = memmap(file, { dtype: '<f4', shape: [2, 3, 4], offset: 4, order: 'C' });
      try {
        assert.ok(a instanceof MemmapArray);
        assert.equal(a.dtype, 'float32');
        assert.equal(a.descr, '<f4');
        assert.equal(a.itemsize, 4);
        assert.deepEqual(a.shape, [2, 3, 4]);
        assert.deepEqual(a.strides, [12, 4, 1]);
        assert.equal(a.ndim, 3);
        assert.equal(a.order, 'C');
        assert.equal(a.mode, 'r');
        assert.equal(a.offset, 4);
        assert.equal(a.filename, file);
        assert.equal(a.size, 24);
        assert.equal(a.byteLength, 96);
        assert.equal(a.readonly, true);
        assert.equal(a.closed, false);
      } finally {
        a.close();
      }
      assert.equal(a.closed, true);
    });

    it('F order gives column-major element strides', function () {
      const file = tmp.file('forder.bin');
      patternFile(file, 2 * 3 * 4 * 8);
      const a = memmap(file, { dtype: 'float64', shape: [2, 3, 4], order: 'F' });
      assert.equal(a.order, 'F');
      assert.deepEqual(a.strides, [1, 2, 6]);
      a.close();
      const b = memmap(file, { dtype: 'float64', shape: [2, 3, 4], order: 'f' });
      assert.equal(b.order, 'F');
      b.close();
    });

    it('options default like numpy (dtype uint8, 1-d inferred, offset 0, order C) except mode r', function () {
      const file = tmp.file('defaults.bin');
      const bytes = patternFile(file, 37);
      const a = memmap(file);
      assert.equal(a.dtype, 'uint8');
      assert.deepEqual(a.shape, [37]);
      assert.deepEqual(a.strides, [1]);
      assert.equal(a.offset, 0);
      assert.equal(a.order, 'C');
      assert.equal(a.mode, 'r');
      assert.equal(a.readonly, true);
      assert.ok(a.data instanceof Uint8Array);
      assert.deepEqual(Buffer.from(a.data), bytes);
      a.close();
    });

    it('filename is absolute for relative paths, Buffers and file: URLs', function () {
      const file = tmp.file('rel.bin');
      patternFile(file, 8);
      const rel = path.relative(process.cwd(), file);
      if (path.isAbsolute(rel)) skipOnWindows(this, 'the temp dir is on another drive than the cwd: no relative path to it');
      assert.ok(!path.isAbsolute(rel));
      for (const p of [rel, Buffer.from(rel), pathToFileURL(file)]) {
        const a = memmap(p);
        // Absolute, and the same file (not lexically normalised: the kernel
        // resolves `..` after symlinks, as fs does).
        assert.ok(path.isAbsolute(a.filename));
        assert.equal(fs.statSync(a.filename).ino, fs.statSync(file).ino);
        assert.equal(a.size, 8);
        a.close();
      }
    });

    it('shape and strides are frozen copies', function () {
      const file = tmp.file('frozen.bin');
      patternFile(file, 24);
      const shape = [2, 3];
      const a = memmap(file, { shape, dtype: 'int32' });
      shape[0] = 99;
      assert.deepEqual(a.shape, [2, 3]);
      assert.ok(Object.isFrozen(a.shape));
      assert.ok(Object.isFrozen(a.strides));
      a.close();
    });

    it('populate: true maps the same bytes, already resident', function () {
      const file = tmp.file('populate.bin');
      const bytes = patternFile(file, 3 * pageSize + 5);
      for (const mode of ['r', 'r+', 'c']) {
        const a = memmap(file, { mode, offset: 5, populate: true });
        assert.equal(a.residency().fraction, 1, mode);
        assert.deepEqual(Buffer.from(a.data), bytes.subarray(5), mode);
        a.close();
      }
    });

    it('populate: true in private modes reads the file in without copying it to anonymous memory', function () {
      const file = tmp.file('populate-big.bin');
      skipOnWindows(this, 'measures anonymous memory in /proc/self/status');
      fs.writeFileSync(file, Buffer.alloc(32 << 20, 7));
      const rssAnon = () => Number(/RssAnon:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      for (const mode of ['r', 'c']) {
        evict(file);
        const before = rssAnon();
        const a = memmap(file, { mode, populate: true });
        const grown = rssAnon() - before;
        assert.ok(a.residency().fraction > 0.99, `${mode}: populated`);
        assert.ok(grown < 8 << 20, `${mode}: anonymous memory grew by ${grown} bytes`);
        assert.equal(a.get(12345), 7);
        a.close();
      }
    });

    it('data is a zero-copy TypedArray over exactly the elements', function () {
      const file = tmp.file('exact.bin');
      const buf = Buffer.alloc(64);
      for (let k = 0; k < 5; k++) buf.writeInt32LE(1000 * k - 7, 5 + 4 * k);
      fs.writeFileSync(file, buf);
      const a = memmap(file, { dtype: 'int32', shape: [5], offset: 5, mode: 'r+' });
      const d = a.data;
      assert.ok(d instanceof Int32Array);
      assert.equal(d.length, 5);
      assert.equal(d.byteLength, 20);
      assert.equal(d.buffer.byteLength, 20, 'the buffer covers only the array, not the page or the file');
      assert.deepEqual(Array.from(d), [-7, 993, 1993, 2993, 3993]);
      assert.equal(a.data, d, 'the same view each time');
      // zero-copy: a write through data is what get() reads, and vice versa
      d[2] = 42;
      assert.equal(a.get(2), 42);
      a.set(3, -5);
      assert.equal(d[3], -5);
      assert.equal(a.bytes.length, 20);
      assert.equal(a.bytes.buffer, d.buffer);
      a.close();
    });
  });

  describe('get() / set()', function () {
    it('index n-d arrays in C and F order, with numpy negative indices', function () {
      const file = tmp.file('nd.bin');
      for (const order of ['C', 'F']) {
        const a = memmap(file, { mode: 'w+', dtype: 'int16', shape: [3, 4, 5], order });
        const strides = order === 'C' ? [20, 5, 1] : [1, 3, 12];
        for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) a.set(i, j, k, 100 * i + 10 * j + k);
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 4; j++) {
            for (let k = 0; k < 5; k++) {
              const v = 100 * i + 10 * j + k;
              assert.equal(a.get(i, j, k), v);
              assert.equal(a.get(i - 3, j - 4, k - 5), v);
              assert.equal(a.data[i * strides[0] + j * strides[1] + k * strides[2]], v);
            }
          }
        }
        a.set(-1, -1, -1, -9);
        assert.equal(a.get(2, 3, 4), -9);
        a.close();
      }
    });

    it('read and write the right element anywhere in a multi-MiB array, before and after data is taken', function () {
      const file = tmp.file('wide.bin');
      const n = (3 << 20) / 8 + 5; // about 3 MiB of float64, many 64 KiB windows
      const buf = Buffer.alloc(7 + 8 * n);
      for (let k = 0; k < n; k++) buf.writeDoubleLE(k * 1.5, 7 + 8 * k);
      fs.writeFileSync(file, buf);
      for (const dtype of ['<f8', '>f8']) {
        if (dtype === '>f8') for (let k = 0; k < n; k++) buf.writeDoubleBE(k * 1.5, 7 + 8 * k);
        fs.writeFileSync(file, buf);
        const a = memmap(file, { mode: 'r+', dtype, offset: 7 });
        // scattered accesses over every window, in an order that keeps switching windows
        const order = [];
        for (let j = 0; j < 64; j++) order.push((j * 7919 * 1031) % n, n - 1 - j * 4099);
        for (const k of order) assert.equal(a.get(k), k * 1.5, `${dtype} get(${k})`);
        for (const k of order) a.set(k, -k);
        const nd = a.ndarray();
        for (const k of order) assert.equal(nd.get(k), -k, `${dtype} ndarray get(${k})`);
        if (dtype === '<f8') {
          for (const k of order) assert.equal(a.data[k], -k, `data[${k}]`);
          a.set(n - 2, 0.25);
          assert.equal(a.data[n - 2], 0.25, 'set() after data writes the same memory');
        }
        a.flush();
        a.close();
        const disk = fs.readFileSync(file);
        const read = dtype === '<f8' ? (o) => disk.readDoubleLE(o) : (o) => disk.readDoubleBE(o);
        for (const k of order) if (k !== n - 2) assert.equal(read(7 + 8 * k), -k, `${dtype} file element ${k}`);
      }
    });

    it('bounds-check every index', function () {
      const file = tmp.file('bounds.bin');
      const a = memmap(file, { mode: 'w+', dtype: 'float32', shape: [2, 3] });
      for (const idx of [[2, 0], [0, 3], [-3, 0], [0, -4], [1e9, 0]]) {
        throwsCode(() => a.get(...idx), 'ERR_OUT_OF_RANGE', RangeError);
        throwsCode(() => a.set(...idx, 1), 'ERR_OUT_OF_RANGE', RangeError);
      }
      throwsCode(() => a.get(0), 'ERR_INVALID_INDEX', RangeError);
      throwsCode(() => a.get(0, 0, 0), 'ERR_INVALID_INDEX', RangeError);
      throwsCode(() => a.get(), 'ERR_INVALID_INDEX', RangeError);
      throwsCode(() => a.get(0.5, 0), 'ERR_INVALID_INDEX', TypeError);
      throwsCode(() => a.get('1', 0), 'ERR_INVALID_INDEX', TypeError);
      throwsCode(() => a.get(NaN, 0), 'ERR_INVALID_INDEX', TypeError);
      throwsCode(() => a.set(0, 1), 'ERR_INVALID_INDEX', RangeError);
      throwsCode(() => a.set(), 'ERR_INVALID_INDEX');
      assert.deepEqual(Array.from(a.data), [0, 0, 0, 0, 0, 0], 'failed set() wrote nothing');
      a.close();
    });

    it('set() validates values for the dtype', function () {
      const file = tmp.file('values.bin');
      const i8 = memmap(file, { mode: 'w+', dtype: 'int8', shape: [2] });
      throwsCode(() => i8.set(0, 128), 'ERR_OUT_OF_RANGE', RangeError);
      throwsCode(() => i8.set(0, -129), 'ERR_OUT_OF_RANGE', RangeError);
      throwsCode(() => i8.set(0, 'x'), 'ERR_INVALID_VALUE', TypeError);
      throwsCode(() => i8.set(0, Infinity), 'ERR_INVALID_VALUE', RangeError);
      i8.set(0, -128);
      i8.set(1, 127);
      assert.deepEqual(Array.from(i8.data), [-128, 127]);
      i8.close();
      const u64 = memmap(file, { mode: 'w+', dtype: 'uint64', shape: [2] });
      throwsCode(() => u64.set(0, -1n), 'ERR_OUT_OF_RANGE', RangeError);
      throwsCode(() => u64.set(0, 2n ** 64n), 'ERR_OUT_OF_RANGE', RangeError);
      throwsCode(() => u64.set(0, -1), 'ERR_OUT_OF_RANGE', RangeError);
      throwsCode(() => u64.set(0, Infinity), 'ERR_INVALID_VALUE', RangeError);
      u64.set(0, 2n ** 64n - 1n);
      u64.set(1, 12345);
      assert.deepEqual(Array.from(u64.data), [2n ** 64n - 1n, 12345n]);
      u64.close();
    });
  });

  describe('ndarray()', function () {
    it('shares memory; lo/hi/step/transpose/pick work; writes reach data and the file (r+)', function () {
      const file = tmp.file('ndarray.bin');
      const init = memmap(file, { mode: 'w+', dtype: 'int32', shape: [4, 6] });
      for (let k = 0; k < 24; k++) init.data[k] = k;
      init.flush();
      init.close();

      const a = memmap(file, { mode: 'r+', dtype: 'int32', shape: [4, 6] });
      const nd = a.ndarray();
      assert.deepEqual(nd.shape, [4, 6]);
      assert.deepEqual(nd.stride, [6, 1]);
      assert.equal(nd.data, a.data, 'no copy');
      assert.equal(nd.get(2, 3), 15);
      const sub = nd.lo(1, 2).hi(2, 3); // rows 1..2, cols 2..4
      assert.deepEqual(sub.shape, [2, 3]);
      assert.equal(sub.get(1, 2), 2 * 6 + 4);
      const stepped = nd.step(2, -1); // rows 0,2; columns reversed
      assert.equal(stepped.get(1, 0), 2 * 6 + 5);
      const t = nd.transpose(1, 0);
      assert.equal(t.get(5, 3), 3 * 6 + 5);
      const col = nd.pick(null, 4);
      assert.deepEqual([0, 1, 2, 3].map((i) => col.get(i)), [4, 10, 16, 22]);

      sub.set(0, 0, -100); // element (1, 2)
      t.set(0, 3, -200); // element (3, 0)
      assert.equal(a.data[1 * 6 + 2], -100);
      assert.equal(a.get(3, 0), -200);
      a.flush();
      const disk = fs.readFileSync(file);
      assert.equal(disk.readInt32LE(4 * (1 * 6 + 2)), -100);
      assert.equal(disk.readInt32LE(4 * (3 * 6 + 0)), -200);
      a.close();
    });

    it('follows F order strides', function () {
      const file = tmp.file('ndarray-f.bin');
      const a = memmap(file, { mode: 'w+', dtype: 'float64', shape: [3, 4], order: 'F' });
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) a.set(i, j, i + j / 10);
      const nd = a.ndarray();
      assert.deepEqual(nd.stride, [1, 3]);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.equal(nd.get(i, j), i + j / 10);
      a.close();
    });

    it('complex arrays get a trailing (re, im) axis', function () {
      const file = tmp.file('ndarray-c.bin');
      const a = memmap(file, { mode: 'w+', dtype: 'complex128', shape: [2, 2] });
      a.set(1, 0, { re: 1.5, im: -2.5 });
      const nd = a.ndarray();
      assert.deepEqual(nd.shape, [2, 2, 2]);
      assert.equal(nd.get(1, 0, 0), 1.5);
      assert.equal(nd.get(1, 0, 1), -2.5);
      nd.set(0, 1, 1, 7);
      assert.deepEqual(a.get(0, 1), { re: 0, im: 7 });
      a.close();
    });
  });

  describe('flush(), advise(), residency()', function () {
    it('flush() writes r+ changes to disk', function () {
      const file = tmp.file('flush.bin');
      patternFile(file, 4096 * 3);
      const a = memmap(file, { mode: 'r+', dtype: 'uint8', offset: 4097 });
      a.set(0, 0xaa);
      a.set(-1, 0xbb);
      a.flush();
      const disk = fs.readFileSync(file);
      assert.equal(disk[4097], 0xaa);
      assert.equal(disk[disk.length - 1], 0xbb);
      a.close();
    });

    it('advise() accepts each advice and rejects others', function () {
      const file = tmp.file('advise.bin');
      const bytes = patternFile(file, 3 * pageSize + 11);
      for (const mode of ['r', 'r+', 'c']) {
        const a = memmap(file, { mode, offset: 5 });
        for (const advice of ['normal', 'sequential', 'random', 'willneed', 'dontneed']) {
          a.advise(advice);
          assert.equal(a.data[100], bytes[105], `${mode} ${advice} keeps the data readable`);
        }
        for (const bad of ['DONTNEED', 'free', '', 3, undefined, null, 'toString', '__proto__']) {
          throwsCode(() => a.advise(bad), 'ERR_INVALID_ADVICE', TypeError);
        }
        a.close();
      }
    });

    it('residency() reports resident pages and bytes of the array', function () {
      const file = tmp.file('residency.bin');
      patternFile(file, 8 * pageSize);
      const offset = pageSize + 1;
      const a = memmap(file, { offset, shape: [5 * pageSize] });
      let sum = 0;
      for (let k = 0; k < a.size; k += 512) sum += a.data[k]; // touch every page
      assert.ok(sum > 0);
      const r = a.residency();
      assert.equal(r.totalBytes, a.byteLength);
      assert.equal(r.pageSize, pageSize);
      assert.equal(r.firstPageOffset, pageSize);
      assert.equal(r.totalPages, 6, 'the array straddles six pages');
      assert.ok(r.pages instanceof Uint8Array);
      assert.equal(r.pages.length, r.totalPages);
      assert.equal(r.residentPages, r.pages.reduce((s, p) => s + p, 0));
      assert.equal(r.residentBytes, r.totalBytes, 'every touched page is resident');
      assert.equal(r.fraction, 1);
      a.close();
    });
  });

  describe('evict()', function () {
    it("drops the file's pages from the page cache; residency() sees a read bring them back", function () {
      const file = tmp.file('evict.bin');
      patternFile(file, 64 * pageSize);
      evict(file);
      const a = memmap(file);
      const cold = a.residency();
      const tmpfs = fs.statfsSync(tmp.dir).type === 0x01021994; // tmpfs pages cannot be evicted
      if (!tmpfs) assert.equal(cold.residentPages, 0, 'nothing resident right after evict()');
      assert.equal(a.data[10 * pageSize + 5], ((10 * pageSize + 5) * 7 + 3) & 0xff);
      const warm = a.residency();
      assert.equal(warm.pages[10], 1, 'the page just read is resident');
      assert.ok(warm.residentPages >= 1);
      a.close();
    });

    it('refuses what memmap() refuses: ENOENT, EISDIR, ENODEV', function () {
      throwsCode(() => evict(tmp.file('no-such-file')), 'ENOENT');
      throwsCode(() => evict(tmp.dir), 'EISDIR');
      throwsCode(() => evict('/dev/null'), 'ENODEV');
      throwsCode(() => evict(42), 'ERR_INVALID_ARG_TYPE', TypeError);
    });
  });

  describe('shapes', function () {
    it('omitted shape: 1-d from (file size - offset) / itemsize', function () {
      const file = tmp.file('infer.bin');
      patternFile(file, 103);
      const a = memmap(file, { dtype: 'uint32', offset: 3 });
      assert.deepEqual(a.shape, [25]);
      assert.equal(a.data.length, 25);
      a.close();
      throwsCode(() => memmap(file, { dtype: 'uint32', offset: 2 }), 'ERR_SIZE_MISMATCH');
      throwsCode(() => memmap(file, { dtype: 'complex128' }), 'ERR_SIZE_MISMATCH');
    });

    it('shape [] is 0-d with one element; get() takes no indices', function () {
      const file = tmp.file('zero-d.bin');
      const buf = Buffer.alloc(16);
      buf.writeDoubleLE(Math.PI, 8);
      fs.writeFileSync(file, buf);
      const a = memmap(file, { dtype: 'float64', shape: [], offset: 8, mode: 'r+' });
      assert.deepEqual(a.shape, []);
      assert.deepEqual(a.strides, []);
      assert.equal(a.ndim, 0);
      assert.equal(a.size, 1);
      assert.equal(a.byteLength, 8);
      assert.equal(a.get(), Math.PI);
      assert.equal(a.data.length, 1);
      throwsCode(() => a.get(0), 'ERR_INVALID_INDEX');
      a.set(2.5);
      assert.equal(a.data[0], 2.5);
      a.close();
    });

    it('a number shape is 1-d', function () {
      const file = tmp.file('num-shape.bin');
      patternFile(file, 10);
      const a = memmap(file, { shape: 4 });
      assert.deepEqual(a.shape, [4]);
      a.close();
    });

    it('zero-length dimensions give empty arrays', function () {
      const file = tmp.file('empty-dims.bin');
      patternFile(file, 16);
      for (const shape of [[0], [3, 0], [0, 4, 2], [2, 0, 5]]) {
        for (const mode of ['r', 'r+', 'c', 'w+']) {
          if (mode === 'w+') patternFile(file, 16);
          const a = memmap(file, { dtype: 'int16', shape, mode, offset: 2 });
          assert.deepEqual(a.shape, shape);
          assert.equal(a.size, 0);
          assert.equal(a.byteLength, 0);
          assert.equal(a.data.length, 0);
          assert.equal(a.ndarray().size, 0);
          throwsCode(() => a.get(...shape.map(() => 0)), 'ERR_OUT_OF_RANGE');
          a.flush();
          a.advise('willneed');
          assert.equal(a.residency().totalBytes, 0);
          a.close();
          if (mode === 'w+') assert.equal(fs.statSync(file).size, 2, 'w+ truncates to offset + 0 bytes');
        }
      }
    });
  });

  describe('offsets', function () {
    it('data starts exactly at any byte offset', function () {
      const file = tmp.file('offsets.bin');
      const bytes = patternFile(file, 3 * pageSize + 64);
      for (const offset of [0, 1, 7, pageSize - 1, pageSize, pageSize + 1, 2 * pageSize + 3]) {
        const a = memmap(file, { offset, shape: [50] });
        assert.deepEqual(Buffer.from(a.data), bytes.subarray(offset, offset + 50), `offset ${offset}`);
        assert.equal(a.get(0), bytes[offset]);
        a.close();
        const inferred = memmap(file, { offset });
        assert.equal(inferred.size, bytes.length - offset);
        assert.equal(inferred.get(-1), bytes[bytes.length - 1]);
        inferred.close();
      }
    });

    it('multi-byte types at unaligned offsets read and write the right bytes', function () {
      const file = tmp.file('unaligned.bin');
      for (const offset of [1, 3, pageSize - 3, pageSize + 5]) {
        const buf = Buffer.alloc(offset + 8 * 4 + 8);
        for (let k = 0; k < 4; k++) buf.writeDoubleLE(k + 0.25, offset + 8 * k);
        fs.writeFileSync(file, buf);
        const a = memmap(file, { dtype: 'float64', shape: [4], offset, mode: 'r+' });
        assert.deepEqual(Array.from(a.data), [0.25, 1.25, 2.25, 3.25]);
        a.data[3] = -1;
        a.set(0, 99.5);
        a.flush();
        a.close();
        const disk = fs.readFileSync(file);
        assert.equal(disk.readDoubleLE(offset), 99.5);
        assert.equal(disk.readDoubleLE(offset + 24), -1);
        assert.equal(disk.length, buf.length);
        assert.deepEqual(disk.subarray(0, offset), buf.subarray(0, offset), 'bytes before the array untouched');
        assert.deepEqual(disk.subarray(offset + 32), buf.subarray(offset + 32), 'bytes after the array untouched');
      }
    });

    it('offset may be a bigint', function () {
      const file = tmp.file('bigint-offset.bin');
      const bytes = patternFile(file, 100);
      const a = memmap(file, { offset: 10n, shape: [3n] });
      assert.equal(a.offset, 10);
      assert.deepEqual(Array.from(a.data), Array.from(bytes.subarray(10, 13)));
      a.close();
    });
  });

  describe('close() and dispose', function () {
    it('close() is idempotent and [Symbol.dispose] closes', function () {
      const file = tmp.file('dispose.bin');
      patternFile(file, 8);
      const a = memmap(file);
      a.close();
      a.close();
      assert.equal(a.closed, true);
      const b = memmap(file);
      assert.equal(typeof b[Symbol.dispose], 'function');
      const d = b.data;
      b[Symbol.dispose]();
      assert.equal(b.closed, true);
      assert.equal(d.length, 0);
      b[Symbol.dispose]();
    });

    // The README's note on `using`: Node 24 and later parse it; Node 20 and 22
    // throw a SyntaxError (the node matrix runs this on each); TypeScript
    // compiles it to try/finally, which works on every Node the package supports.
    const USING = '{ using a = memmap(file); kept = a; if (a.closed) throw new Error("closed too early"); } return kept;';

    it(`\`using a = memmap(...)\` closes at the end of the block on Node 24+, is a SyntaxError before (this is Node ${process.versions.node})`, function () {
      const file = tmp.file('using.bin');
      patternFile(file, 8);
      const major = Number(process.versions.node.split('.')[0]);
      let body;
      try {
        body = new Function('memmap', 'file', `let kept; ${USING}`);
      } catch (err) {
        assert.ok(err instanceof SyntaxError, String(err));
        assert.ok(major < 24, `Node ${major} does not parse \`using\`: the README says 24 and later do`);
        return;
      }
      assert.ok(major >= 24, `Node ${major} parses \`using\`: the README says only 24 and later do`);
      assert.equal(body(memmap, file).closed, true);
    });

    it('TypeScript compiles `using` (target ES2022) to code that closes the array on every supported Node', function () {
      const ts = require('typescript');
      const file = tmp.file('using-ts.bin');
      patternFile(file, 8);
      const { outputText } = ts.transpileModule(`export function run(memmap: any, file: string): any { let kept; ${USING} }`, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'] },
      });
      assert.match(outputText, /__addDisposableResource/, 'TypeScript lowered `using`');
      const mod = { exports: {} };
      new Function('module', 'exports', 'require', outputText)(mod, mod.exports, require);
      assert.equal(mod.exports.run(memmap, file).closed, true);
    });
  });
});
