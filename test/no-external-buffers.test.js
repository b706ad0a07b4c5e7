'use strict';
// Runtimes that refuse ArrayBuffers over memory they did not allocate
// (Electron's V8 memory cage: napi_no_external_buffers_allowed). memmap then
// throws ERR_NO_EXTERNAL_BUFFERS for `data`, `bytes` and segments() and reads
// and writes elements through copies (Mapping.load/store). The addon built
// with NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED (npm run test:no-external-buffers,
// which sets MEMMAP_NO_EXTERNAL_BUFFERS=1) behaves as such a runtime; with the
// normal addon the refusal tests are pending and the value checks below must
// give the same answers, cross-checked with numpy.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const { memmap, openNpy, createZarr, openZarr } = require('..');
const { mapFile } = require('../dist/storage-mapped');
const { parseDType } = require('../dist/dtype');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode, memmapCode } = require('./helpers/assert');
const { numpyJSON, fromNumpy, toNumpy, sameValue, show, cIndices } = require('./helpers/numpy');
const { fixtureJSON } = require('./helpers/child');
const Z = require('./helpers/zarr');

const refusing = process.env.MEMMAP_NO_EXTERNAL_BUFFERS === '1';
const needRefusal = function () {
  if (!refusing) this.skip(); // the normal addon hands out buffers: npm run test:no-external-buffers runs these
};

// Element paths that differ by byte order, width and kind: complex parts, float16 bits, bool, 64-bit integers.
const DTYPES = ['<f8', '>f4', '<f2', '<i8', '>u2', '|b1', '|i1', '<c16', '>c8'];
const SHAPE = [5, 8];

describe('runtimes that refuse external buffers (Electron)', function () {
  const tmp = useTmpDir();

  describe('element values, every addon (numpy cross-check)', function () {
    let want;
    before(function () {
      want = numpyJSON(
        `rng = np.random.default_rng(14)
out = {}
for i, dt in enumerate(args()[1:]):
    a = values(dt, 40, rng).reshape(5, 8)
    b = values(dt, 40, rng).reshape(5, 8)
    if b.dtype.kind in 'fc':  # NaN as set() writes it (positive, quiet): JavaScript has one NaN
        parts = b.view(b.dtype.str[0] + 'f%d' % (b.dtype.itemsize // (2 if b.dtype.kind == 'c' else 1)))
        parts[np.isnan(parts)] = np.nan
    write_raw(os.path.join(args()[0], 'v%d' % i), a)
    write_raw(os.path.join(args()[0], 'w%d' % i), np.zeros_like(a))
    write_raw(os.path.join(args()[0], 'b%d' % i), b)
    small = values(dt, 40, rng, full=False).reshape(5, 8)
    write_raw(os.path.join(args()[0], 's%d' % i), small)
    red = {}
    if small.dtype.kind in 'fiu':
        red = {'max': encode(small.max(axis=1)), 'argmin': int(small.argmin()), 'rowsum': encode(small.sum(axis=1, dtype='f8' if small.dtype.kind == 'f' else None)),
               'gather': encode(small[[4, 0, 2], [7, 1, 3]]), 'col': encode(small[:, 3])}
    out[dt] = {'a': encode(a), 'b': encode(b), 'red': red}
emit(out)`,
        [tmp.dir, ...DTYPES],
      );
    });

    DTYPES.forEach((descr, i) => {
      it(`${descr}: get() reads numpy's values, set() writes numpy's bytes`, function () {
        const dt = parseDType(descr);
        const a = memmap(tmp.file(`v${i}`), { dtype: descr, shape: SHAPE, mode: 'r' });
        let k = 0;
        for (const idx of cIndices(SHAPE)) {
          const exp = fromNumpy(dt, want[descr].a[k++]);
          assert.ok(sameValue(a.get(...idx), exp), `${descr} [${idx}]: ${show(a.get(...idx))} != ${show(exp)}`);
        }
        a.close();
        const w = memmap(tmp.file(`w${i}`), { dtype: descr, shape: SHAPE, mode: 'r+' });
        k = 0;
        for (const idx of cIndices(SHAPE)) w.set(...idx, fromNumpy(dt, want[descr].b[k++]));
        w.flush();
        w.close();
        assert.deepEqual(fs.readFileSync(tmp.file(`w${i}`)), fs.readFileSync(tmp.file(`b${i}`)), 'the bytes numpy wrote for the same values');
      });
    });

    DTYPES.forEach((descr, i) => {
      // float16 results come as raw bits where Node has no Float16Array: get() covers it above.
      if (!'fiu'.includes(parseDType(descr).kind) || descr === '<f2') return;
      it(`${descr}: read(), gather(), reductions (sync and async) match numpy`, async function () {
        const dt = parseDType(descr);
        const red = want[descr].red;
        const a = memmap(tmp.file(`s${i}`), { dtype: descr, shape: SHAPE, mode: 'r' });
        try {
          const conv = (arr) => Array.from(arr.read ? arr.read() : arr, toNumpy);
          assert.deepEqual(conv(a.read(null, 3)), red.col);
          assert.deepEqual(conv(a.gather([4, 0, 2], [7, 1, 3])), red.gather);
          assert.deepEqual(conv(a.max({ axis: 1 })), red.max);
          assert.deepEqual(conv(await a.maxAsync({ axis: 1 })), red.max);
          assert.equal(a.argmin(), red.argmin);
          assert.equal(await a.argminAsync(), red.argmin);
          const rows = dt.kind === 'f' ? a.sum({ axis: 1, dtype: 'float64' }) : a.sum({ axis: 1 });
          assert.deepEqual(conv(rows), red.rowsum);
          assert.deepEqual(conv(await a.readAsync(null, 3)), red.col);
          assert.deepEqual(conv(await a.gatherAsync([4, 0, 2], [7, 1, 3])), red.gather);
        } finally {
          a.close();
        }
      });
    });

    it('ndarray() reads and writes (complex parts one by one) as get()/set() do', function () {
      const file = tmp.file('nd.c16');
      fs.writeFileSync(file, Buffer.alloc(6 * 16));
      const a = memmap(file, { dtype: 'complex128', shape: [2, 3], mode: 'r+' });
      const nd = a.ndarray();
      nd.set(1, 2, 0, 3.5); // the real part only: the imaginary part must stay
      nd.set(1, 2, 1, -1.25);
      nd.set(0, 1, 1, 9);
      assert.deepEqual(a.get(1, 2), { re: 3.5, im: -1.25 });
      assert.deepEqual(a.get(0, 1), { re: 0, im: 9 });
      a.set(0, 0, { re: 2, im: 4 });
      assert.equal(nd.get(0, 0, 1), 4);
      a.close();
      const disk = fs.readFileSync(file);
      assert.deepEqual([...new Float64Array(disk.buffer, disk.byteOffset, 12)], [2, 4, 0, 9, 0, 0, 0, 0, 0, 0, 3.5, -1.25]);
    });
  });

  describe('Mapping.load/store (native entry points), every addon', function () {
    // A mapping of bytes 10..109 of a file whose byte k is k.
    const bytesFile = () => tmp.file('native.u8');
    const mapBytes = (mode, offset = 10) => {
      const name = bytesFile();
      if (offset === 10) fs.writeFileSync(name, Buffer.from(Array.from({ length: 110 }, (_, i) => i)));
      return mapFile({ filename: name, mode, dtype: parseDType('uint8'), shape: [100], offset, order: 'C', populate: false }).storage;
    };
    let storage;
    beforeEach(() => (storage = mapBytes('r+')));
    afterEach(() => storage.close());
    const code = (fn) => memmapCode(fn).replace(/^no error.*/, 'no error');

    it('copies bytes out of and into the mapping (after the offset)', function () {
      const dst = new Uint8Array(4);
      storage.load(90, 4, dst);
      assert.deepEqual([...dst], [100, 101, 102, 103]);
      storage.store(1, 3, Uint8Array.of(7, 8, 9, 10)); // only `length` bytes of src
      const five = new Uint8Array(5);
      storage.load(0, 5, five);
      assert.deepEqual([...five], [10, 7, 8, 9, 14]);
      storage.flush();
      assert.deepEqual([...fs.readFileSync(bytesFile()).subarray(10, 15)], [10, 7, 8, 9, 14]);
    });

    it('refuses bad arguments with a coded error, runs none of their code, changes nothing', function () {
      const before = fingerprint(bytesFile());
      let ran = false;
      const evil = { valueOf: () => ((ran = true), 1) };
      for (const op of ['load', 'store']) {
        assert.equal(code(() => storage[op](evil, 1, new Uint8Array(1))), 'ERR_INVALID_ARG_VALUE');
        assert.equal(code(() => storage[op](0, evil, new Uint8Array(1))), 'ERR_INVALID_ARG_VALUE');
        assert.equal(code(() => storage[op](99, 2, new Uint8Array(2))), 'ERR_INVALID_ARG_VALUE'); // past the end
        assert.equal(code(() => storage[op](0, 8, new Uint8Array(4))), 'ERR_INVALID_ARG_VALUE'); // too short
        assert.equal(code(() => storage[op](0, 1, new Float64Array(1))), 'ERR_INVALID_ARG_VALUE');
        assert.equal(code(() => storage[op](0, 1, [1])), 'ERR_INVALID_ARG_VALUE');
        const moved = new Uint8Array(8);
        moved.buffer.transfer?.();
        if (moved.byteLength === 0) assert.equal(code(() => storage[op](0, 1, moved)), 'ERR_INVALID_ARG_VALUE');
      }
      assert.equal(ran, false);
      storage.flush();
      assert.equal(fingerprint(bytesFile()), before);
    });

    it('ERR_CLOSED once closed; ERR_READ_ONLY for a store into mode r', function () {
      storage.close();
      assert.equal(code(() => storage.load(0, 1, new Uint8Array(1))), 'ERR_CLOSED');
      assert.equal(code(() => storage.store(0, 1, new Uint8Array(1))), 'ERR_CLOSED');
      const before = fingerprint(bytesFile());
      const ro = mapBytes('r', 0);
      assert.equal(code(() => ro.store(0, 1, Uint8Array.of(1))), 'ERR_READ_ONLY');
      const one = new Uint8Array(1);
      ro.load(5, 1, one);
      assert.equal(one[0], 5);
      ro.close();
      assert.equal(fingerprint(bytesFile()), before);
    });

    it('a store makes later element reads come from memory, not the file (mode c keeps its writes)', function () {
      const before = fingerprint(bytesFile());
      const c = mapBytes('c', 0);
      const one = new Uint8Array(1);
      assert.equal(c.readAt(3, 1, one), true);
      c.store(3, 1, Uint8Array.of(200));
      assert.equal(c.readAt(3, 1, one), false, 'the file no longer holds what the mapping does');
      c.load(3, 1, one);
      assert.equal(one[0], 200);
      c.close();
      assert.equal(fingerprint(bytesFile()), before);
    });
  });

  describe('an addon without external buffers (npm run test:no-external-buffers)', function () {
    before(needRefusal);

    it('data, bytes, segments() and a view\'s data throw ERR_NO_EXTERNAL_BUFFERS; the file is unchanged', function () {
      const file = tmp.file('refuse.f32');
      fs.writeFileSync(file, Buffer.from(Float32Array.of(1, 2, 3, 4, 5, 6).buffer));
      const before = fingerprint(file);
      const a = memmap(file, { dtype: 'float32', shape: [2, 3], mode: 'r+' });
      throwsCode(() => a.data, 'ERR_NO_EXTERNAL_BUFFERS');
      throwsCode(() => a.bytes, 'ERR_NO_EXTERNAL_BUFFERS');
      throwsCode(() => a.segments().next(), 'ERR_NO_EXTERNAL_BUFFERS');
      throwsCode(() => a.view(1).data, 'ERR_NO_EXTERNAL_BUFFERS');
      // out: a file-backed array is filled through its data.
      const out = memmap(tmp.file('refuse-out.f32'), { dtype: 'float32', shape: [3], mode: 'w+' });
      throwsCode(() => a.read(1, { out }), 'ERR_NO_EXTERNAL_BUFFERS');
      assert.deepEqual([...a.read(1)], [4, 5, 6]);
      assert.equal(a.get(1, 2), 6);
      out.close();
      a.close();
      assert.equal(fingerprint(file), before);
    });

    it('arrays in memory (results, copies) keep data; an empty mapped array has empty data', function () {
      const file = tmp.file('mem.i4');
      fs.writeFileSync(file, Buffer.from(Int32Array.of(1, 2, 3, 4).buffer));
      const a = memmap(file, { dtype: 'int32', shape: [2, 2], mode: 'r' });
      assert.deepEqual([...a.copy().data], [1, 2, 3, 4]);
      assert.deepEqual([...a.sum({ axis: 0 }).data], [4n, 6n]);
      a.close();
      const e = memmap(tmp.file('empty.i4'), { dtype: 'int32', shape: [0], mode: 'w+' });
      assert.equal(e.data.length, 0);
      assert.deepEqual([...e.segments()], []);
      e.close();
    });

    it('async results past 64 KiB (handed over as external buffers elsewhere) come back as copies', async function () {
      const file = tmp.file('big.f64');
      const n = 20000;
      fs.writeFileSync(file, Buffer.from(Float64Array.from({ length: n }, (_, i) => i).buffer));
      const a = memmap(file, { dtype: 'float64', shape: [2, n / 2], mode: 'r' });
      const got = await a.readAsync();
      assert.equal(got.length, n);
      assert.equal(got[n - 1], n - 1);
      const rows = await a.sumAsync({ axis: 0 });
      assert.equal(rows.get(5), 5 + n / 2 + 5);
      const picked = await a.gatherAsync(Array(9000).fill(1), Array.from({ length: 9000 }, (_, i) => i));
      assert.equal(picked[8999], n / 2 + 8999);
      a.close();
    });

    it('ndarray() falls back to element accessors over copies', function () {
      const file = tmp.file('nd.f64');
      fs.writeFileSync(file, Buffer.from(Float64Array.of(1, 2, 3, 4).buffer));
      const a = memmap(file, { dtype: 'float64', shape: [2, 2], mode: 'r+' });
      const nd = a.ndarray();
      assert.ok(!ArrayBuffer.isView(nd.data), 'not a TypedArray over the mapping');
      assert.equal(nd.get(1, 0), 3);
      nd.set(0, 1, 20);
      assert.equal(a.get(0, 1), 20);
      a.close();
      const disk = fs.readFileSync(file);
      assert.deepEqual([...new Float64Array(disk.buffer, disk.byteOffset, 4)], [1, 20, 3, 4]);
    });

    it('the first refusal switches element access to copies, once per process', function () {
      const r = fixtureJSON('no-external-buffers.js', ['first-refusal', tmp.dir]);
      assert.deepEqual(r.reads, Array.from({ length: 12 }, (_, i) => i * 3000 * 0.5));
      assert.equal(r.afterSet, -7.25);
      assert.equal(r.dataCode, 'ERR_NO_EXTERNAL_BUFFERS');
      assert.deepEqual(r.second, [0.5, -7.25]);
      assert.equal(r.secondBytes, 'ERR_NO_EXTERNAL_BUFFERS');
      assert.equal(r.onDisk, -7.25);
    });

    it('a page lost to truncation is ERR_SIGBUS for element copies, not a crash (child process)', function () {
      const r = fixtureJSON('no-external-buffers.js', ['sigbus', tmp.dir]);
      assert.deepEqual(r, { get: 'ERR_SIGBUS', set: 'ERR_SIGBUS', sum: 'ERR_SIGBUS', ndarray: 'ERR_SIGBUS' });
    });

    it("mode 'c': writes stay private (get() sees them, the file does not)", function () {
      const file = tmp.file('cow.i2');
      fs.writeFileSync(file, Buffer.from(Int16Array.of(1, 2, 3, 4).buffer));
      const before = fingerprint(file);
      const a = memmap(file, { dtype: 'int16', mode: 'c' });
      assert.equal(a.get(2), 3);
      a.set(2, -30);
      assert.equal(a.get(2), -30);
      assert.equal(a.sum(), 1 + 2 - 30 + 4);
      a.flush();
      a.close();
      assert.equal(fingerprint(file), before);
    });

    it('residency(), flush() and share() to a worker work', async function () {
      const file = tmp.file('share.f64');
      fs.writeFileSync(file, Buffer.from(new Float64Array(1000).fill(1).buffer));
      const a = memmap(file, { dtype: 'float64', mode: 'r+' });
      a.set(999, 5);
      assert.equal(a.residency().totalBytes, 8000);
      const token = a.share();
      const w = new Worker(
        `const { fromShared } = require(${JSON.stringify(require.resolve('..'))});
        const { parentPort, workerData } = require('node:worker_threads');
        const b = fromShared(workerData);
        const seen = b.get(999);
        b.set(0, -2);
        let code = 'no error';
        try { b.data; } catch (e) { code = e.code; }
        parentPort.postMessage({ seen, code, sum: b.sum() });
        b.close();`,
        { eval: true, workerData: token },
      );
      const msg = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      await new Promise((resolve) => w.once('exit', resolve));
      assert.deepEqual(msg, { seen: 5, code: 'ERR_NO_EXTERNAL_BUFFERS', sum: 998 - 2 + 5 });
      assert.equal(a.get(0), -2);
      a.flush();
      a.close();
      assert.equal(fs.readFileSync(file).readDoubleLE(0), -2);
    });

    it('openNpy() arrays read and write through copies', function () {
      const file = tmp.file('a.npy');
      numpyJSON('np.save(args()[0], np.arange(12, dtype=">i4").reshape(3, 4)); emit(0)', [file]);
      const a = openNpy(file, { mode: 'r+' });
      assert.equal(a.get(2, 3), 11);
      a.set(0, 0, -5);
      assert.equal(a.sum(), 66 - 5);
      throwsCode(() => a.bytes, 'ERR_NO_EXTERNAL_BUFFERS');
      a.close();
      assert.deepEqual(numpyJSON('emit(np.load(args()[0]).ravel().tolist())', [file]), [-5, ...Array.from({ length: 11 }, (_, i) => i + 1)]);
    });

    it('Zarr: raw and compressed chunks written and read back (zarr-python agrees)', function () {
      for (const compressor of [null, 'zlib']) {
        const dir = tmp.file(`z-${compressor}`);
        const z = createZarr(dir, { shape: [6, 5], dtype: '<f8', chunks: [4, 2], compressor, zarrFormat: 2 });
        const src = Float64Array.from({ length: 30 }, (_, i) => i / 4);
        z.write(src);
        z.set(5, 4, -1);
        assert.equal(z.get(5, 4), -1);
        assert.equal(z.get(1, 1), 6 / 4);
        const c = z.chunk(0, 0);
        assert.equal(c.get(1, 1), 6 / 4);
        z.close();
        const back = openZarr(dir);
        const want = Array.from(src);
        want[29] = -1;
        assert.deepEqual([...back.read()], want);
        back.close();
        if (Z.zarrPython()) {
          const out = Z.runZarrPython('import sys, zarr, json\nprint(json.dumps(zarr.open(sys.argv[1], mode="r")[...].ravel().tolist()))', [dir]);
          assert.deepEqual(JSON.parse(out), want);
        }
      }
    });
  });

  it('the refusal comes from the addon, not from this test (normal addon: data works)', function () {
    const file = tmp.file('probe.u8');
    fs.writeFileSync(file, Buffer.alloc(4, 7));
    const a = memmap(file, { dtype: 'uint8', mode: 'r' });
    try {
      if (refusing) throwsCode(() => a.data, 'ERR_NO_EXTERNAL_BUFFERS');
      else assert.deepEqual([...a.data], [7, 7, 7, 7]);
    } finally {
      a.close();
    }
  });
});
