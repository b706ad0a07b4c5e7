'use strict';
// Big arrays on sparse files (test/helpers/sparse.js: they cost no disk, and
// only a few pages are touched): 64-bit offsets (a 1 GiB window at 40 GiB),
// 5 and 40 GiB arrays larger than one ArrayBuffer in every mode through get(),
// ndarray() (WideNdArray past 2^31 elements), segments() and sum()/read()/
// gather(), 'w+' creating sparse files, and ERR_TOO_LARGE where the runtime's
// ArrayBuffer limit is in the way (in a child process).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, maxBufferLength } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { fixtureJSON } = require('./helpers/child');
const { GiB, sparseFile, pwrite, pread, f64, putF64, readF64 } = require('./helpers/sparse');
const { skipUnderWine } = require('./helpers/platform');

describe('big arrays (sparse files)', function () {
  const tmp = useTmpDir();

  describe('a 1 GiB window at 40 GiB of a 48 GiB sparse file', function () {
    const OFFSET = 40 * GiB;
    const N = GiB / 8; // float64 elements in the window
    let file;
    // element index -> value, near both ends of the window
    const known = [[0, 1.5], [1, -2.25], [4095, 3e300], [N - 4096, 7], [N - 2, -0.125], [N - 1, 42]];

    before(function () {
      file = tmp.file('sparse48.f64');
      sparseFile(file, 48 * GiB);
      putF64(file, known, OFFSET);
      putF64(file, [[-1, -1], [N, -1]], OFFSET); // just before the window, and just after it
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
        const onDisk = [readF64(file, N - 3, OFFSET), readF64(file, 2, OFFSET)];
        assert.deepEqual(onDisk, mode === 'r+' ? [11.5, 12.5] : [0, 0], `mode ${mode}`);
        assert.equal(readF64(file, -1, OFFSET), -1, 'the byte before the window is untouched');
        assert.equal(readF64(file, N, OFFSET), -1, 'the byte after the window is untouched');
        assert.equal(fs.statSync(file).size, 48 * GiB);
        // restore for the next mode
        putF64(file, [[N - 3, 0], [2, 0]], OFFSET);
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
        assert.equal(readF64(wfile, N - 3, OFFSET), 11.5);
        assert.equal(readF64(wfile, 2, OFFSET), 12.5);
        assert.equal(readF64(wfile, 0, OFFSET), -8);
        assert.ok(fs.statSync(wfile).blocks * 512 < 256 * 1024 * 1024, 'the file stayed sparse');
      } finally {
        fs.rmSync(wfile, { force: true });
      }
    });
  });

  describe('arrays larger than one ArrayBuffer', function () {
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
            skipUnderWine(this, 'MapViewOfFile of a 40 GiB file fails (ENOMEM)');
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
          skipUnderWine(this, 'MapViewOfFile of a 40 GiB file fails (ENOMEM)');
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
  });

  describe('sum(), read() and gather() past one ArrayBuffer', function () {
    it('reach the far end of a 5 GiB float64 array without data', function () {
      const file = tmp.file('big.f64');
      const rows = 81920;
      const cols = 8192; // 5 GiB
      sparseFile(file, rows * cols * 8);
      const last = new Float64Array(cols).map((_, j) => j + 1);
      pwrite(file, (rows - 1) * cols * 8, Buffer.from(last.buffer));
      const a = memmap(file, { dtype: 'float64', shape: [rows, cols] });
      assert.equal(a.sum(-1), (cols * (cols + 1)) / 2);
      assert.equal(a.sum(null, -1), cols);
      assert.equal(a.sum([rows - 2, null], [cols - 3, null]), cols + cols - 1 + cols - 2);
      assert.deepEqual(Array.from(a.read(-1, [-3, null])), [cols - 2, cols - 1, cols]);
      assert.deepEqual(Array.from(a.gather([-1, rows - 1, 0], [0, -1, -1])), [1, cols, 0]);
      a.close();
      fs.rmSync(file);
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
      const r = fixtureJSON('big-arrays-too-large.js', [tmp.file('too-large.bin'), tmp.file('too-large-w.bin')]);
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
