'use strict';
// 64-bit offsets and sizes on sparse files (they cost no disk), and arrays
// larger than the runtime's ArrayBuffer limit. Only a few pages are touched.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, maxBufferLength } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { fixtureJSON } = require('./helpers/child');

const GiB = 2 ** 30;

function pwrite(file, position, buf) {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, buf, 0, buf.length, position);
  } finally {
    fs.closeSync(fd);
  }
}

function pread(file, position, length) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, position);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

function f64(v) {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b;
}

function sparse(file, size) {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
  } finally {
    fs.closeSync(fd);
  }
}

describe('large files', function () {
  const tmp = useTmpDir();

  describe('a 1 GiB window at 40 GiB of a 48 GiB sparse file', function () {
    const OFFSET = 40 * GiB;
    const N = GiB / 8; // float64 elements in the window
    let file;
    // element index -> value, near both ends of the window
    const known = [[0, 1.5], [1, -2.25], [4095, 3e300], [N - 4096, 7], [N - 2, -0.125], [N - 1, 42]];

    before(function () {
      file = tmp.file('sparse48.f64');
      sparse(file, 48 * GiB);
      for (const [k, v] of known) pwrite(file, OFFSET + 8 * k, f64(v));
      pwrite(file, OFFSET - 8, f64(-1)); // just before the window
      pwrite(file, OFFSET + GiB, f64(-1)); // just after it
    });
    after(() => fs.rmSync(file, { force: true }));

    /** Writes a marker at the window's far end through set() and through data. */
    function writeMarkers(a) {
      a.set(N - 3, 11.5);
      a.data[2] = 12.5;
    }

    for (const mode of ['r', 'r+', 'c']) {
      it(`mode ${mode}: reads the values at both ends; writes go where the mode says`, function () {
        const a = memmap(file, { mode, dtype: 'float64', offset: OFFSET, shape: [N] });
        try {
          assert.equal(a.offset, OFFSET);
          assert.equal(a.size, N);
          assert.equal(a.data.length, N);
          for (const [k, v] of known) {
            assert.equal(a.get(k), v, `get(${k})`);
            assert.equal(a.data[k], v, `data[${k}]`);
          }
          assert.equal(a.get(-1), 42);
          assert.equal(a.ndarray().get(N - 4096), 7);
          assert.equal(a.get(12345678), 0, 'a hole reads as zero');
          const r = a.residency();
          assert.equal(r.totalBytes, GiB);
          assert.equal(r.firstPageOffset, OFFSET);
          assert.ok(r.residentBytes < 64 * 1024 * 1024, `only a few pages touched, ${r.residentBytes} resident`);
          if (mode === 'r') {
            throwsCode(() => a.set(N - 3, 11.5), 'ERR_READ_ONLY');
            a.data[2] = 12.5; // stray write: private
            assert.equal(a.data[2], 12.5);
          } else {
            writeMarkers(a);
            assert.equal(a.get(N - 3), 11.5);
            assert.equal(a.get(2), 12.5);
          }
          a.flush();
        } finally {
          a.close();
        }
        const onDisk = [pread(file, OFFSET + 8 * (N - 3), 8).readDoubleLE(), pread(file, OFFSET + 16, 8).readDoubleLE()];
        assert.deepEqual(onDisk, mode === 'r+' ? [11.5, 12.5] : [0, 0], `mode ${mode}`);
        assert.equal(pread(file, OFFSET - 8, 8).readDoubleLE(), -1, 'the byte before the window is untouched');
        assert.equal(pread(file, OFFSET + GiB, 8).readDoubleLE(), -1, 'the byte after the window is untouched');
        assert.equal(fs.statSync(file).size, 48 * GiB);
        // restore for the next mode
        pwrite(file, OFFSET + 8 * (N - 3), f64(0));
        pwrite(file, OFFSET + 16, f64(0));
      });
    }

    it('an unaligned offset past 4 GiB starts exactly at the array', function () {
      const offset = OFFSET + 8 * (N - 4096) - 3; // 3 bytes before element N-4096 (= 7)
      const a = memmap(file, { dtype: 'uint8', offset, shape: [16] });
      try {
        assert.deepEqual(Buffer.from(a.data), pread(file, offset, 16));
        assert.deepEqual(Buffer.from(a.data.subarray(3, 11)), f64(7));
      } finally {
        a.close();
      }
      const b = memmap(file, { dtype: 'float64', offset: BigInt(OFFSET) + 8n * BigInt(N - 2), shape: [2] });
      assert.deepEqual(Array.from(b.data), [-0.125, 42]);
      b.close();
    });

    it("mode w+ at offset 40 GiB creates a sparse file of exactly 41 GiB", function () {
      const wfile = tmp.file('sparse41.f64');
      const a = memmap(wfile, { mode: 'w+', dtype: 'float64', offset: OFFSET, shape: [N] });
      try {
        assert.equal(fs.statSync(wfile).size, 41 * GiB);
        assert.equal(a.get(N - 1), 0);
        writeMarkers(a);
        a.set(0, -8);
        a.flush();
      } finally {
        a.close();
      }
      try {
        assert.equal(pread(wfile, OFFSET + 8 * (N - 3), 8).readDoubleLE(), 11.5);
        assert.equal(pread(wfile, OFFSET + 16, 8).readDoubleLE(), 12.5);
        assert.equal(pread(wfile, OFFSET, 8).readDoubleLE(), -8);
        assert.ok(fs.statSync(wfile).blocks * 512 < 256 * 1024 * 1024, 'the file stayed sparse');
      } finally {
        fs.rmSync(wfile, { force: true });
      }
    });
  });

  describe(`arrays larger than one ArrayBuffer (${maxBufferLength} bytes here)`, function () {
    it('fail with ERR_TOO_LARGE, at open or at data, never a crash (child process)', function () {
      if (maxBufferLength >= 2 ** 44) {
        // Node 22+: the limit (2^53 - 1) is past any file size, so such an array cannot even be described.
        const file = tmp.file('beyond.bin');
        throwsCode(() => memmap(file, { mode: 'w+', shape: [maxBufferLength + 1] }), 'ERR_INVALID_SHAPE');
        throwsCode(() => memmap(file, { mode: 'w+', dtype: 'float64', shape: [2 ** 50] }), 'ERR_INVALID_SHAPE');
        assert.ok(!fs.existsSync(file));
        return;
      }
      const r = fixtureJSON('too-large.js', [tmp.file('too-large.bin'), tmp.file('too-large-w.bin')]);
      assert.equal(r.maxBufferLength, maxBufferLength);
      assert.equal(r.results.length, 5);
      for (const c of r.results) {
        if (!c.opened) {
          assert.deepEqual(c.open, { memmapError: true, code: 'ERR_TOO_LARGE', name: 'MemmapError' }, c.name);
          continue;
        }
        // opened (arrays beyond one ArrayBuffer supported): data must refuse, get() must work
        assert.equal(c.byteLength, true, c.name);
        assert.equal(c.dataLength, undefined, `${c.name}: data must not hand out a truncated view`);
        assert.deepEqual(c.data, { memmapError: true, code: 'ERR_TOO_LARGE', name: 'MemmapError' }, c.name);
        assert.equal(c.get, undefined, `${c.name}: get() failed with ${JSON.stringify(c.get)}`);
        const want = c.name.startsWith('w+') ? [0, 0, 0] : c.name.startsWith('uint8') ? [0, 17, 0xc0] : [0, -42.5];
        assert.deepEqual(c.values, want, c.name);
      }
    });
  });
});
