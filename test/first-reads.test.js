'use strict';
// The first element reads of a freshly opened mapping go through a read of the
// file (Mapping.readAt: pread) instead of touching the mapping, until a buffer
// of it is handed out. These tests pin down that this never changes what a
// read returns: the same values as the mapped bytes (any dtype, byte order,
// unaligned offset), private writes ('c', a stray write in 'r', a worker's
// write to a shared mapping) seen at once, the mapped file read even when its
// path names another file now, and no file descriptor kept. Truncation:
// hostile.test.js (hostile-sigbus.js).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const { memmap, MemmapError } = require('..');
const { mapFile } = require('../dist/storage-mapped');
const { parseDType } = require('../dist/dtype');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { skipOnWindows } = require('./helpers/platform');

const LINUX = process.platform === 'linux';
const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('first element reads (read of the file before any buffer)', function () {
  const tmp = useTmpDir();
  let file;
  const BYTES = 4096 * 3 + 17;
  before(function () {
    file = tmp.file('first.bin');
    const b = Buffer.alloc(BYTES);
    for (let i = 0; i < BYTES; i++) b[i] = (i * 131 + 7) & 255;
    fs.writeFileSync(file, b);
  });

  // [dtype, DataView getter, itemsize, little-endian]
  const CASES = [
    ['<f4', 'getFloat32', 4, true],
    ['>f4', 'getFloat32', 4, false],
    ['<f8', 'getFloat64', 8, true],
    ['>i8', 'getBigInt64', 8, false],
    ['<u2', 'getUint16', 2, true],
    ['int8', 'getInt8', 1, true],
  ];
  for (const [dtype, getter, size, little] of CASES) {
    it(`${dtype} at an unaligned offset: get() and one-element read() before and after the switch equal the bytes`, function () {
      const offset = 4093; // across a page boundary for the wider types
      const n = Math.floor((BYTES - offset) / size);
      const a = memmap(file, { dtype, offset, shape: [n] });
      const bytes = fs.readFileSync(file); // may be a slice of a larger pooled ArrayBuffer (Node 26 does)
      const dv = new DataView(bytes.buffer, bytes.byteOffset + offset);
      const expect = (i) => {
        const v = dv[getter](i * size, little);
        return Object.is(v, -0) ? -0 : v;
      };
      // More reads than go through the file (8), in an order that jumps around.
      const order = [];
      for (let k = 0; k < 40; k++) order.push((k * 37) % n);
      for (const [k, i] of order.entries()) {
        const got = k % 2 ? a.get(i) : a.read(i)[0];
        if (Number.isNaN(expect(i))) assert.ok(Number.isNaN(got), `element ${i}`);
        else assert.equal(got, expect(i), `element ${i} (read ${k})`);
      }
      a.close();
    });
  }

  it('complex128 and float16 values read through the file equal those read through a window', function () {
    const x = memmap(file, { dtype: '<c16', shape: [8] });
    const y = memmap(file, { dtype: '<c16', shape: [8] });
    void y.data; // y reads through windows from the start
    for (let i = 0; i < 8; i++) assert.deepEqual(x.get(i), y.get(i));
    const h = memmap(file, { dtype: '<f2', shape: [64] });
    const g = memmap(file, { dtype: '<f2', shape: [64] });
    void g.bytes;
    for (let i = 0; i < 64; i += 9) assert.ok(Object.is(h.get(i), g.get(i)) || (Number.isNaN(h.get(i)) && Number.isNaN(g.get(i))));
    for (const a of [x, y, h, g]) a.close();
  });

  it("'c': a set() after file reads is what the next get() returns; the file is unchanged", function () {
    const before = fingerprint(file);
    const a = memmap(file, { dtype: 'uint8', mode: 'c' });
    assert.equal(a.get(5), (5 * 131 + 7) & 255);
    a.set(5, 201);
    assert.equal(a.get(5), 201);
    assert.equal(a.read(5)[0], 201);
    a.close();
    assert.equal(fingerprint(file), before);
  });

  it("'r': a stray write through data (a private page) is what get() returns, not the file's byte", function () {
    const before = fingerprint(file);
    const a = memmap(file, { dtype: 'uint8' });
    assert.equal(a.get(9), (9 * 131 + 7) & 255);
    a.data[9] = 3;
    assert.equal(a.get(9), 3);
    a.close();
    assert.equal(fingerprint(file), before);
  });

  it("'r+': a write by another descriptor is seen by reads through the file and through the mapping alike", function () {
    const f = tmp.file('rplus.bin');
    fs.writeFileSync(f, Buffer.alloc(8192, 1));
    const a = memmap(f, { dtype: 'uint8', mode: 'r+' });
    assert.equal(a.get(100), 1);
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, Buffer.from([42]), 0, 1, 100);
    assert.equal(a.get(100), 42);
    void a.data;
    fs.writeSync(fd, Buffer.from([43]), 0, 1, 100);
    fs.closeSync(fd);
    assert.equal(a.get(100), 43);
    a.close();
  });

  it("a worker's write into a shared 'c' mapping is seen by get() in the thread that shared it", async function () {
    const a = memmap(file, { dtype: 'uint8', mode: 'c' });
    const token = a.share();
    const w = new Worker(`const { fromShared } = require(${JSON.stringify(require.resolve('..'))});
      const { parentPort, workerData } = require('node:worker_threads');
      const b = fromShared(workerData);
      b.data[11] = 250;
      b.close();
      parentPort.postMessage('done');`, { eval: true, workerData: token });
    await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    assert.equal(a.get(11), 250);
    a.close();
  });

  it('keeps no file descriptor open: an open array that was read holds only its mapping', function () {
    if (!LINUX) this.skip();
    const base = openFds();
    const arrays = [];
    for (let k = 0; k < 20; k++) arrays.push(memmap(file, { dtype: 'uint8', mode: ['r', 'r+', 'c'][k % 3] }));
    for (const a of arrays) assert.equal(a.get(1), (131 + 7) & 255);
    assert.equal(openFds(), base);
    for (const a of arrays) a.close();
  });

  it('a path that now names another file (replaced, or removed) is not read: the mapped bytes are', function () {
    skipOnWindows(this, 'Windows cannot rename over or delete a mapped file');
    const f = tmp.file('replaced.bin');
    fs.writeFileSync(f, Buffer.alloc(4096, 7));
    const a = memmap(f, { dtype: 'uint8' });
    const b = memmap(f, { dtype: 'uint8' });
    assert.equal(a.get(0), 7);
    const other = tmp.file('other.bin');
    fs.writeFileSync(other, Buffer.alloc(4096, 9));
    fs.renameSync(other, f); // the path now names a new file; the mappings keep the old one
    assert.equal(a.get(1), 7);
    assert.equal(a.read(2)[0], 7);
    fs.rmSync(f);
    assert.equal(b.get(3), 7);
    a.close();
    b.close();
  });

  describe('Mapping.readAt (native entry point)', function () {
    let storage;
    beforeEach(function () {
      storage = mapFile({ filename: file, mode: 'r', dtype: parseDType('uint8'), shape: [100], offset: 10, order: 'C', populate: false }).storage;
    });
    afterEach(function () {
      storage.close();
    });
    const code = (fn) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof MemmapError, `not a MemmapError: ${err}`);
        return err.code;
      }
      return 'no error';
    };
    it('copies the bytes at start (after the offset) into dst', function () {
      const dst = new Uint8Array(4);
      assert.equal(storage.readAt(90, 4, dst), true);
      assert.deepEqual([...dst], [100, 101, 102, 103].map((i) => (i * 131 + 7) & 255));
    });
    it('refuses bad arguments with a coded error and runs none of their code', function () {
      let ran = false;
      const evil = { valueOf: () => ((ran = true), 1) };
      assert.equal(code(() => storage.readAt(evil, 1, new Uint8Array(1))), 'ERR_INVALID_ARG_VALUE');
      assert.equal(code(() => storage.readAt(99, 2, new Uint8Array(2))), 'ERR_INVALID_ARG_VALUE'); // past the end
      assert.equal(code(() => storage.readAt(0, 8, new Uint8Array(4))), 'ERR_INVALID_ARG_VALUE'); // dst too short
      assert.equal(code(() => storage.readAt(0, 1, new Float64Array(1))), 'ERR_INVALID_ARG_VALUE');
      const moved = new Uint8Array(8);
      moved.buffer.transfer?.();
      if (moved.byteLength === 0) assert.equal(code(() => storage.readAt(0, 1, moved)), 'ERR_INVALID_ARG_VALUE');
      assert.equal(ran, false);
    });
    it('says false once a buffer of the mapping is out, ERR_CLOSED once closed', function () {
      storage.bytes(0, 10);
      assert.equal(storage.readAt(0, 1, new Uint8Array(1)), false);
      storage.close();
      assert.equal(code(() => storage.readAt(0, 1, new Uint8Array(1))), 'ERR_CLOSED');
    });
  });
});
