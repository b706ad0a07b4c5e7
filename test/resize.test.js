'use strict';
// Files that grow (issue 12): refresh() follows a file another process appends
// to, resize(shape) grows or shrinks the file and the mapping (a .npy header
// rewritten in place), memmap()'s partial: 'ignore'. numpy reads every file
// resize() leaves; every failure leaves the file as it was (fingerprint).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, openNpy, fromShared, MemmapError } = require('..');
const { throwsCode } = require('./helpers/assert');
const { runFixture, expectCleanExit, fixtureJSON } = require('./helpers/child');
const { findPython, pythonJSON } = require('./helpers/python');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { skipOnWindows } = require('./helpers/platform');

const f64 = (values) => Buffer.from(new Float64Array(values).buffer);
const f32 = (values) => Buffer.from(new Float32Array(values).buffer);
const range = (n, from = 0) => Array.from({ length: n }, (_, k) => from + k);

describe('refresh(), resize() and partial elements (files that grow)', function () {
  const tmp = useTmpDir();
  let n = 0;
  const fresh = (name) => tmp.file(`${n++}-${name}`);

  describe("memmap() { partial: 'ignore' }", function () {
    it('a trailing partial element is ERR_SIZE_MISMATCH by default, left out when asked', function () {
      const file = fresh('p.f32');
      fs.writeFileSync(file, Buffer.alloc(10));
      throwsCode(() => memmap(file, { dtype: 'float32' }), 'ERR_SIZE_MISMATCH');
      throwsCode(() => memmap(file, { dtype: 'float32', partial: 'error' }), 'ERR_SIZE_MISMATCH');
      const a = memmap(file, { dtype: 'float32', partial: 'ignore' });
      assert.deepEqual(a.shape, [2]);
      assert.equal(a.data.length, 2);
      a.close();
      const b = memmap(file, { dtype: 'float64', partial: 'ignore', offset: 3 }); // 7 bytes: no whole element
      assert.deepEqual(b.shape, [0]);
      b.close();
      const c = memmap(file, { dtype: 'float32', partial: 'ignore', shape: [1] }); // no effect with a shape
      assert.deepEqual(c.shape, [1]);
      c.close();
    });

    it('a bad value is ERR_INVALID_ARG_VALUE, before the file is opened', function () {
      for (const v of ['Ignore', true, 1, null, {}]) throwsCode(() => memmap(fresh('missing'), { partial: v }), 'ERR_INVALID_ARG_VALUE', TypeError);
      throwsCode(() => memmap(fresh('missing'), { partail: 'ignore' }), 'ERR_UNKNOWN_OPTION', TypeError);
    });
  });

  describe('refresh()', function () {
    it('grows the first axis of a C array to the whole rows the file holds; a partial row is left out; views before are detached', function () {
      const file = fresh('c.f64');
      fs.writeFileSync(file, f64(range(8)));
      const a = memmap(file, { dtype: 'float64', shape: [2, 4] });
      const old = a.data;
      const oldBytes = a.bytes;
      const nd = a.ndarray();
      const u8 = new Uint8Array(old.buffer);
      fs.appendFileSync(file, f64(range(6, 8))); // one row and a half
      const before = fingerprint(file);
      assert.equal(a.refresh(), a);
      assert.equal(fingerprint(file), before, 'refresh() does not touch the file');
      assert.deepEqual(a.shape, [3, 4]);
      assert.ok(Object.isFrozen(a.shape) && Object.isFrozen(a.strides));
      assert.deepEqual([a.ndim, a.size, a.byteLength, ...a.strides], [2, 12, 96, 4, 1]);
      assert.deepEqual([old.length, oldBytes.length, u8.length, nd.data.length], [0, 0, 0, 0]);
      assert.deepEqual(Array.from(a.data), range(12));
      assert.equal(a.get(2, 3), 11);
      assert.equal(a.sum(), 66);
      fs.appendFileSync(file, f64([14, 15])); // the row is whole now
      a.refresh();
      assert.deepEqual(a.shape, [4, 4]);
      assert.deepEqual(Array.from(a.read(-1)), [12, 13, 14, 15]);
      a.close();
    });

    it('follows a file another process appends to (a child appends whole rows, half a row, then the rest)', function () {
      skipOnWindows(this, 'truncates a mapped file: Windows refuses to shrink a mapped file (error 1224)');
      const file = fresh('proc.f64');
      fs.writeFileSync(file, f64([0, 0.25, 0.5, 0.75]));
      const a = memmap(file, { dtype: 'float64', shape: [1, 4] });
      expectCleanExit(runFixture('resize-cases.js', ['append', tmp.dir, file, 1, 3, 20]));
      a.refresh();
      assert.deepEqual(a.shape, [4, 4]);
      assert.deepEqual(Array.from(a.read(3)), [3, 3.25, 3.5, 3.75]);
      fs.truncateSync(file, 4 * 32); // the child's half row is gone; it writes it again, whole
      expectCleanExit(runFixture('resize-cases.js', ['append', tmp.dir, file, 4, 1, 0]));
      a.refresh();
      assert.deepEqual(a.shape, [5, 4]);
      assert.deepEqual(Array.from(a.read(4)), [4, 4.25, 4.5, 4.75]);
      a.close();
    });

    it('while another process appends half rows, every refresh() sees whole rows with their values (child process)', function () {
      const r = fixtureJSON('resize-cases.js', ['follow', tmp.dir], { timeout: 120000 });
      assert.equal(r.status, 0);
      assert.equal(r.wrong, 0, `${r.wrong} of ${r.refreshes} refreshes saw a wrong row`);
      assert.equal(r.shrank, 0);
      assert.equal(r.rows, 401);
      assert.ok(r.right);
    });

    it("grows the last axis of an F-order array (numpy's .npy growth axis)", function () {
      const file = fresh('f.f32');
      fs.writeFileSync(file, f32(range(6)));
      const a = memmap(file, { dtype: 'float32', shape: [3, 2], order: 'F' });
      fs.appendFileSync(file, f32(range(4, 6))); // one column and a third
      a.refresh();
      assert.deepEqual(a.shape, [3, 3]);
      assert.deepEqual(a.strides, [1, 3]);
      assert.equal(a.get(2, 2), 8);
      assert.equal(a.get(0, 1), 3);
      a.close();
    });

    it('follows a file that shrank; a 0-d array or one with an empty axis keeps its shape', function () {
      skipOnWindows(this, 'truncates a mapped file: Windows refuses to shrink a mapped file (error 1224)');
      const file = fresh('s.u8');
      fs.writeFileSync(file, Buffer.from(range(24)));
      const a = memmap(file, { shape: [6, 4] });
      fs.truncateSync(file, 10);
      a.refresh();
      assert.deepEqual(a.shape, [2, 4]);
      assert.deepEqual(Array.from(a.data), range(8));
      fs.truncateSync(file, 0);
      a.refresh();
      assert.deepEqual(a.shape, [0, 4]);
      assert.equal(a.data.length, 0);
      a.close();
      fs.writeFileSync(file, Buffer.from(range(24)));
      const z = memmap(file, { shape: [] });
      const e = memmap(file, { shape: [3, 0] });
      z.refresh();
      e.refresh();
      assert.deepEqual([z.shape, e.shape], [[], [3, 0]]);
      assert.equal(z.get(), 0);
      z.close();
      e.close();
    });

    it("works in every mode; 'w+' does not truncate again; 'c' drops its private changes", function () {
      const file = fresh('m.u8');
      const w = memmap(file, { mode: 'w+', shape: [2, 2] });
      w.data.set([1, 2, 3, 4]);
      w.flush();
      fs.appendFileSync(file, Buffer.from([5, 6, 7]));
      w.refresh();
      assert.deepEqual(Array.from(w.data), [1, 2, 3, 4, 5, 6]);
      assert.equal(fs.statSync(file).size, 7);
      w.close();
      const c = memmap(file, { mode: 'c', shape: [2, 2] });
      c.set(0, 0, 99);
      c.refresh();
      assert.deepEqual(c.shape, [3, 2]);
      assert.equal(c.get(0, 0), 1);
      c.close();
      const r = memmap(file, { mode: 'r', shape: [1, 2] });
      r.refresh();
      assert.deepEqual(r.shape, [3, 2]);
      r.close();
    });

    it('grows a .npy array past its (stale) header; the header is not written', function () {
      if (!findPython()) this.skip();
      const file = fresh('g.npy');
      pythonJSON('import sys, numpy as np\nnp.save(sys.argv[1], np.arange(6, dtype="<i4").reshape(2, 3))\nprint(1)', [file]);
      const head = fs.readFileSync(file).subarray(0, 128);
      fs.appendFileSync(file, Buffer.from(new Int32Array(range(5, 6)).buffer)); // a row and two thirds
      for (const mode of ['r', 'r+', 'c']) {
        const a = openNpy(file, { mode });
        a.refresh();
        assert.deepEqual(a.shape, [3, 3], mode);
        assert.deepEqual(Array.from(a.read(2)), [6, 7, 8]);
        a.close();
      }
      assert.deepEqual(fs.readFileSync(file).subarray(0, 128), head);
    });

    it('views made before throw ERR_CLOSED or read nothing: segments(), accessor ndarrays, TypedArrays on the buffers', function () {
      const file = fresh('v.f32');
      fs.writeFileSync(file, f32(range(64)));
      const a = memmap(file, { dtype: '>f4', shape: [16, 4] }); // non-native order: ndarray() over accessors
      const nd = a.ndarray();
      const b = memmap(file, { dtype: '<f4', shape: [16, 4], mode: 'r+' });
      const it = b.segments({ maxBytes: 64 });
      it.next();
      const seg = it.next().value.data;
      fs.appendFileSync(file, f32(range(4)));
      a.refresh();
      b.refresh();
      assert.equal(nd.get(0, 0), undefined);
      assert.equal(nd.data.length, 0);
      throwsCode(() => nd.set(0, 0, 1), 'ERR_CLOSED');
      throwsCode(() => it.next(), 'ERR_CLOSED');
      assert.equal(seg.length, 0);
      assert.deepEqual(a.shape, [17, 4]);
      assert.equal(a.ndarray().shape[0], 17);
      assert.equal([...b.segments()].reduce((s, x) => s + x.length, 0), 68);
      a.close();
      b.close();
    });

    it('errors leave the array as it was: ERR_CLOSED, the errno name for a deleted file, ERR_SHARED from fromShared()', function () {
      skipOnWindows(this, 'Windows cannot delete a mapped file');
      const file = fresh('e.u8');
      fs.writeFileSync(file, Buffer.from(range(8)));
      const a = memmap(file, { shape: [2, 4], mode: 'r+' });
      const s = fromShared(a.share());
      throwsCode(() => s.refresh(), 'ERR_SHARED');
      throwsCode(() => s.resize([2, 4]), 'ERR_SHARED');
      s.close();
      const data = a.data;
      fs.unlinkSync(file);
      throwsCode(() => a.refresh(), 'ENOENT');
      assert.deepEqual(a.shape, [2, 4]);
      assert.equal(data, a.data);
      assert.equal(a.get(1, 3), 7);
      a.close();
      throwsCode(() => a.refresh(), 'ERR_CLOSED');
    });
  });

  describe('resize(shape)', function () {
    it('grows and shrinks a raw file: elements keep their place in file order, the file ends where the array ends (numpy reads it)', function () {
      const file = fresh('r.i16');
      fs.writeFileSync(file, Buffer.from(new Int16Array(range(6, 1)).buffer));
      const a = memmap(file, { dtype: 'int16', shape: [2, 3], mode: 'r+' });
      const old = a.data;
      assert.equal(a.resize([4, 3]), a);
      assert.equal(old.length, 0);
      assert.equal(fs.statSync(file).size, 24);
      assert.deepEqual(Array.from(a.data), [...range(6, 1), 0, 0, 0, 0, 0, 0]);
      a.set(3, 2, -7);
      a.resize(5); // any number of axes
      assert.deepEqual([a.shape, a.ndim, a.strides, a.size, a.byteLength], [[5], 1, [1], 5, 10]);
      assert.equal(fs.statSync(file).size, 10);
      a.resize([2, 2, 3]);
      a.set(1, 1, 2, 9);
      a.flush();
      assert.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 9]);
      a.close();
      if (!findPython()) return;
      const got = pythonJSON('import sys, json, numpy as np\nprint(json.dumps(np.fromfile(sys.argv[1], dtype="<i2").tolist()))', [file]);
      assert.deepEqual(got, [1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 9]);
    });

    it("'w+' arrays, F order and offsets: the bytes before the offset stay", function () {
      const file = fresh('w.u8');
      const a = memmap(file, { mode: 'w+', shape: [2, 2], order: 'F', offset: 3 });
      a.data.set([1, 2, 3, 4]);
      a.resize([2, 3]);
      a.set(1, 2, 6);
      assert.deepEqual(Array.from(fs.readFileSync(file)), [0, 0, 0, 1, 2, 3, 4, 0, 6]);
      a.resize([1]);
      assert.deepEqual(Array.from(fs.readFileSync(file)), [0, 0, 0, 1]);
      a.close();
    });

    it('rewrites a .npy header in place (C and F order, versions 1.0 and 2.0); np.load() reads the result', function () {
      if (!findPython()) this.skip();
      for (const [fortranOrder, version] of [
        [false, [1, 0]],
        [true, [2, 0]],
      ]) {
        const file = fresh('r.npy');
        const a = openNpy(file, { mode: 'w+', dtype: '<f4', shape: [2, 3], fortranOrder, version });
        a.data.set(range(6, 1));
        const dataOffset = a.offset;
        a.resize([4, 3]);
        a.set(3, 2, 12);
        a.flush();
        const load = 'import sys, json, numpy as np\nx = np.load(sys.argv[1])\nprint(json.dumps([list(x.shape), x.flatten(order="K").tolist(), bool(x.flags.f_contiguous and x.ndim > 1 and not x.flags.c_contiguous)]))';
        assert.deepEqual(pythonJSON(load, [file]), [[4, 3], [...range(6, 1), 0, 0, 0, 0, 0, 12], fortranOrder]);
        a.resize([2, 2]);
        assert.deepEqual(pythonJSON(load, [file]), [[2, 2], range(4, 1), fortranOrder]);
        assert.equal(a.offset, dataOffset);
        a.resize([]);
        a.close();
        const b = openNpy(file, { mode: 'r' });
        assert.deepEqual([b.shape, b.get(), b.offset], [[], 1, dataOffset]);
        b.close();
      }
    });

    it('ERR_NPY_HEADER_TOO_LARGE when the shape text does not fit the header, file unchanged', function () {
      const file = fresh('big.npy');
      const a = openNpy(file, { mode: 'w+', dtype: 'u1', shape: [5] });
      const before = fingerprint(file);
      throwsCode(() => a.resize([5, ...Array(40).fill(1)]), 'ERR_NPY_HEADER_TOO_LARGE');
      assert.equal(fingerprint(file), before);
      a.resize([2 ** 40, 0]); // a growth axis of 13 digits fits numpy's spare room
      assert.deepEqual(a.shape, [2 ** 40, 0]);
      a.close();
    });

    it('a shrink the OS refuses leaves the file and the array as they were (Windows: another mapping of the file); elsewhere it cuts', function () {
      const file = fresh('held.i32');
      fs.writeFileSync(file, Buffer.from(new Int32Array(range(8, 1)).buffer));
      const a = memmap(file, { dtype: 'int32', shape: [2, 4], mode: 'r+' });
      const other = memmap(file, { dtype: 'int32', mode: 'r' }); // a second view of the whole file
      const before = fingerprint(file);
      if (process.platform === 'win32') {
        // Windows cuts no mapped file; the array was unmapped for the cut, then mapped again at its old shape.
        throwsCode(() => a.resize([1, 4]), 'EPERM');
        assert.equal(fingerprint(file), before);
        assert.deepEqual([a.shape, a.closed, a.sum(), Array.from(a.data)], [[2, 4], false, 36, range(8, 1)]);
        other.close();
        a.resize([1, 4]);
      } else {
        a.resize([1, 4]); // Linux cuts under the other mapping (its lost pages would be ERR_SIGBUS)
        other.close();
      }
      assert.equal(fs.statSync(file).size, 16);
      assert.deepEqual([a.shape, Array.from(a.data)], [[1, 4], [1, 2, 3, 4]]);
      a.close();
    });

    it('refuses with a code and leaves the file and the array unchanged: modes r and c, bad shapes, closed', function () {
      const file = fresh('x.f32');
      fs.writeFileSync(file, f32(range(8)));
      const before = fingerprint(file);
      for (const mode of ['r', 'c']) {
        const a = memmap(file, { dtype: 'float32', shape: [2, 4], mode });
        throwsCode(() => a.resize([4, 4]), 'ERR_READ_ONLY');
        a.close();
      }
      const a = memmap(file, { dtype: 'float32', shape: [2, 4], mode: 'r+' });
      const data = a.data;
      for (const bad of ['a', -1, [1.5], [2, -1], null, [2 ** 53], Array(65).fill(1)]) throwsCode(() => a.resize(bad), 'ERR_INVALID_SHAPE');
      throwsCode(() => a.resize([2 ** 40, 2 ** 40]), 'ERR_INVALID_SHAPE', RangeError); // numpy's "array is too big"
      assert.equal(fingerprint(file), before);
      assert.equal(a.data, data);
      assert.deepEqual(a.shape, [2, 4]);
      a.close();
      throwsCode(() => a.resize([4, 4]), 'ERR_CLOSED');
      assert.equal(fingerprint(file), before);
    });

    it('a share()d array may grow its file, never shorten it (ERR_SHARED, file unchanged); the adopter keeps its extent', function () {
      const file = fresh('sh.f32');
      fs.writeFileSync(file, f32(range(8)));
      const a = memmap(file, { dtype: 'float32', shape: [2, 4], mode: 'r+' });
      const s = fromShared(a.share());
      a.resize([4, 4]);
      const before = fingerprint(file);
      throwsCode(() => a.resize([1, 4]), 'ERR_SHARED');
      assert.equal(fingerprint(file), before);
      a.set(0, 0, 100);
      assert.deepEqual([s.shape, s.get(0, 0), s.sum()], [[2, 4], 100, 128]);
      s.close();
      throwsCode(() => a.resize([1, 4]), 'ERR_SHARED'); // once shared, always: threads may hold other mappings
      a.close();
    });

    it('a worker holding a fromShared() array while the owner grows, refreshes and tries to shrink: no crash (child process)', function () {
      const r = fixtureJSON('resize-cases.js', ['worker', tmp.dir]);
      assert.deepEqual([r.grow, r.refresh, r.shrink, r.unchanged, r.sameWidth, r.shrinkAfter], ['ok', 'ok', 'ERR_SHARED', true, 'ok', 'ERR_SHARED']);
      assert.deepEqual([r.shape, r.last, r.sum], [[16, 8], 42, 538]);
      assert.deepEqual(r.fromWorker, { sums: [496, 32, '4x8', 496, 32, '4x8'], refresh: 'ERR_SHARED', resize: 'ERR_SHARED', data: [0, 1, 2, 3] });
    });

    it('a shape Proxy whose trap closes the array: ERR_CLOSED, file unchanged; one whose trap resizes: both apply (child process)', function () {
      const r = fixtureJSON('resize-cases.js', ['proxy', tmp.dir]);
      assert.deepEqual(r, { closeInTrap: 'ERR_CLOSED', closedUnchanged: true, nested: 'ok', shape: [8, 8], oldLength: 0, size: 256, kept: 31, added: 0 });
    });
  });

  it('every error is a MemmapError', function () {
    const file = fresh('z.u8');
    fs.writeFileSync(file, Buffer.from([1]));
    const a = memmap(file, { mode: 'r+' });
    for (const bad of [Symbol('x'), 10n ** 30n, { length: 2 }, new Proxy([1], { get: () => { throw new Error('trap'); }, getOwnPropertyDescriptor: () => { throw new Error('trap'); } })]) {
      assert.throws(() => a.resize(bad), (err) => err instanceof MemmapError);
    }
    a.close();
  });
});
