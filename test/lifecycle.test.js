'use strict';
// close(), GC and crash paths. Anything that could take the process down runs
// in a child process, so a crash shows up as a signal or non-zero exit.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, hasFloat16Array } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode, patternFile } = require('./helpers/assert');
const { fixtureJSON } = require('./helpers/child');
const { mappedLines } = require('./helpers/proc');
const { skipOnWindows } = require('./helpers/platform');


describe('lifecycle', function () {
  const tmp = useTmpDir();

  describe('close()', function () {
    it('detaches every view handed out: data, bytes, ndarray().data, views built on data.buffer', function () {
      const file = tmp.file('detach.bin');
      patternFile(file, 4096 + 64);
      const a = memmap(file, { mode: 'r+', dtype: 'int32', offset: 4 });
      const views = [a.data, a.bytes, a.ndarray().data, new Uint8Array(a.data.buffer), new Float64Array(a.data.buffer, 8, 4), a.data.subarray(3, 9)];
      const buffer = a.data.buffer;
      assert.ok(views.every((v) => v.length > 0));
      assert.equal(mappedLines(file), 1);
      a.close();
      for (const v of views) {
        assert.equal(v.length, 0);
        assert.equal(v.byteLength, 0);
        assert.equal(v[0], undefined);
      }
      assert.equal(buffer.byteLength, 0);
      assert.equal(mappedLines(file), 0, 'unmapped by close(), not at some later GC');
    });

    it('detaches the accessor-based ndarray() of byte-swapped (and, without Float16Array, float16) arrays', function () {
      const file = tmp.file('detach-generic.bin');
      patternFile(file, 64);
      for (const dtype of ['>f8', 'float16', '>c8']) {
        const a = memmap(file, { mode: 'r+', dtype });
        const nd = a.ndarray();
        const zero = nd.shape.map(() => 0);
        assert.notEqual(nd.get(...zero), undefined);
        a.close();
        assert.equal(nd.data.length, 0, dtype);
        assert.equal(nd.get(...zero), undefined, dtype);
        if (dtype === 'float16' && hasFloat16Array) {
          nd.set(...zero, 1); // a plain Float16Array view: the write to a detached buffer is ignored
          assert.equal(nd.get(...zero), undefined);
        } else {
          throwsCode(() => nd.set(...zero, 1), 'ERR_CLOSED');
        }
      }
    });

    it('methods then throw ERR_CLOSED; properties remain', function () {
      const file = tmp.file('closed.bin');
      patternFile(file, 96);
      const a = memmap(file, { mode: 'r+', dtype: 'float32', shape: [2, 3, 4], order: 'F', offset: 0 });
      a.close();
      throwsCode(() => a.get(0, 0, 0), 'ERR_CLOSED');
      throwsCode(() => a.set(0, 0, 0, 1), 'ERR_CLOSED');
      throwsCode(() => a.flush(), 'ERR_CLOSED');
      throwsCode(() => a.advise('normal'), 'ERR_CLOSED');
      throwsCode(() => a.advise('bogus'), 'ERR_CLOSED');
      throwsCode(() => a.residency(), 'ERR_CLOSED');
      throwsCode(() => a.ndarray(), 'ERR_CLOSED');
      throwsCode(() => a.data, 'ERR_CLOSED');
      throwsCode(() => a.bytes, 'ERR_CLOSED');
      assert.equal(a.closed, true);
      assert.deepEqual(a.shape, [2, 3, 4]);
      assert.deepEqual(a.strides, [1, 2, 6]);
      assert.equal(a.dtype, 'float32');
      assert.equal(a.order, 'F');
      assert.equal(a.mode, 'r+');
      assert.equal(a.filename, file);
      assert.equal(a.size, 24);
      assert.equal(a.byteLength, 96);
    });

    it('closing one array leaves another array over the same file working', function () {
      const file = tmp.file('two.bin');
      const bytes = patternFile(file, 100);
      const a = memmap(file, { mode: 'r+' });
      const b = memmap(file, { mode: 'r+' });
      const bd = b.data;
      a.close();
      assert.equal(bd[50], bytes[50]);
      b.set(50, 1);
      assert.equal(bd[50], 1);
      b.close();
      assert.equal(bd.length, 0);
    });

    it('an open array holds a mapping but no file descriptor', function () {
      skipOnWindows(this, 'counts descriptors in /proc/self/fd');
      const file = tmp.file('no-fd.bin');
      patternFile(file, 100);
      const fds = () => fs.readdirSync('/proc/self/fd').length;
      const before = fds();
      const arrays = [];
      for (let k = 0; k < 200; k++) arrays.push(memmap(file, { mode: ['r', 'r+', 'c'][k % 3], offset: k % 50 }));
      assert.ok(fds() <= before + 2, `fds ${before} -> ${fds()} with 200 arrays open`);
      assert.equal(mappedLines(file), 200);
      for (const a of arrays) a.close();
      assert.equal(mappedLines(file), 0);
    });

    it('a write after close() does not reach the file', function () {
      const file = tmp.file('late-write.bin');
      patternFile(file, 64);
      const a = memmap(file, { mode: 'r+' });
      const d = a.data;
      a.close();
      const before = fingerprint(file);
      d[0] = 99;
      d[63] = 99;
      assert.equal(fingerprint(file), before);
    });
  });

  describe('crash paths (child processes)', function () {
    it('writing and reading every kind of view after close()', function () {
      const r = fixtureJSON('lifecycle-crash.js', ['write-after-close', tmp.dir]);
      assert.deepEqual(r.lengths, [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(r.reads, [null, null, null, null, null, null], 'reads of a detached view are undefined');
      assert.deepEqual(r.methodErrors, ['TypeError'], 'TypedArray methods and DataView refuse a detached buffer with a TypeError');
      assert.equal(r.ndGet, undefined);
      assert.equal(r.ndSet, 'ERR_CLOSED');
      assert.deepEqual(r.file, [1], 'the file still holds only its original bytes');
      assert.equal(r.mapped, 0);
    });

    it("stray writes through data in mode 'r'", function () {
      const r = fixtureJSON('lifecycle-crash.js', ['stray-write-r', tmp.dir]);
      assert.deepEqual(r, { fileUnchanged: true, secondSeesFile: true, setCode: 'ERR_READ_ONLY' });
    });

    it('a data view outlives its dropped, collected memmap object and reads correct values', function () {
      skipOnWindows(this, 'the child counts mappings in /proc/self/maps');
      const r = fixtureJSON('lifecycle-crash.js', ['view-after-gc', tmp.dir], { execArgv: ['--expose-gc'] });
      assert.equal(r.mappedBefore, 2);
      assert.equal(r.mappedWhileViewLives, 1, 'the array without a live view was unmapped at GC; the other was kept');
      assert.equal(r.valuesOk, true);
      assert.equal(r.wrote, -1, 'writes through the surviving view still reach the shared mapping');
      assert.equal(r.subFirst, 1000.5);
      assert.equal(r.mappedAtEnd, 0, 'unmapped once the last view was collected');
    });

    it('failed opens leave the process healthy', function () {
      const r = fixtureJSON('lifecycle-crash.js', ['failed-open', tmp.dir]);
      assert.deepEqual(r.codes, ['ENOENT', 'EISDIR', 'ERR_FILE_TOO_SHORT', 'ERR_SHAPE_REQUIRED', 'ERR_INVALID_DTYPE', 'ERR_SIZE_MISMATCH']);
      assert.equal(r.sum, 32);
      assert.equal(r.mapped, 0);
    });
  });

  describe('leaks (child processes, --expose-gc)', function () {
    for (const how of ['drop', 'close']) {
      it(`open and ${how} 10 000 arrays: no mappings or fds left behind`, function () {
        const r = fixtureJSON('lifecycle-leak.js', [how, tmp.file(`leak-${how}.bin`), 10000], { execArgv: ['--expose-gc'] });
        assert.equal(r.sum, 10000, 'every array read its data');
        assert.equal(r.stillMapped, 0, 'no mapping of the file is left');
        // 10 000 leaked 16 KiB regions would be 160 MiB of address space and
        // 10 000 lines. V8 grows its own heap meanwhile by 256 KiB pages, each
        // a line of its own: 18-50 lines in runs on a loaded 2-core machine.
        assert.ok(r.after.vmKiB <= r.before.vmKiB + 32 * 1024, `address space ${r.before.vmKiB} KiB -> ${r.after.vmKiB} KiB`);
        assert.ok(r.after.maps <= r.before.maps + 128, `/proc/self/maps lines ${r.before.maps} -> ${r.after.maps}`);
        assert.ok(r.after.fds <= r.before.fds + 5, `/proc/self/fd entries ${r.before.fds} -> ${r.after.fds}`);
      });
    }
  });
});
