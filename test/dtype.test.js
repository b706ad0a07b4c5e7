'use strict';
// Every dtype of test/helpers/dtypes.js: the TypedArray behind `data`,
// get()/set()/ndarray() values (int64 as bigint, bool, complex as {re, im},
// float16), big-endian arrays, numpy type strings (also asked of numpy), and
// the dtypes memmap refuses. Values of every dtype against numpy's are in
// numpy-values.test.js.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, parseDType, hasFloat16Array } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { numpyJSON } = require('./helpers/numpy');
const { DTYPES, dtypeNamed } = require('./helpers/dtypes');

// Integer and float32/64 dtypes: Buffer writer (LE) and sample values.
const SAMPLES = {
  int8: [(b, v, o) => b.writeInt8(v, o), [-128, -1, 0, 1, 127]],
  uint8: [(b, v, o) => b.writeUInt8(v, o), [0, 1, 128, 254, 255]],
  int16: [(b, v, o) => b.writeInt16LE(v, o), [-32768, -2, 0, 300, 32767]],
  uint16: [(b, v, o) => b.writeUInt16LE(v, o), [0, 1, 256, 40000, 65535]],
  int32: [(b, v, o) => b.writeInt32LE(v, o), [-(2 ** 31), -70000, 0, 70000, 2 ** 31 - 1]],
  uint32: [(b, v, o) => b.writeUInt32LE(v, o), [0, 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1]],
  int64: [(b, v, o) => b.writeBigInt64LE(v, o), [-(2n ** 63n), -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n]],
  uint64: [(b, v, o) => b.writeBigUInt64LE(v, o), [0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]],
  float32: [(b, v, o) => b.writeFloatLE(v, o), [-Infinity, -1.5, -0, 3.140000104904175, NaN]],
  float64: [(b, v, o) => b.writeDoubleLE(v, o), [-Infinity, Number.MIN_VALUE, -0, Math.PI, NaN]],
};
// The other dtypes have tests of their own below.
const OWN_TESTS = ['bool', 'float16', 'complex64', 'complex128'];

function sameValue(a, b) {
  return Object.is(a, b);
}

describe('dtypes', function () {
  const tmp = useTmpDir();

  it('the dtype list (test/helpers/dtypes.js) is what parseDType() says, and every dtype is tested here', function () {
    for (const d of DTYPES) {
      const dt = parseDType(d.code);
      assert.deepEqual([dt.name, dt.kind, dt.itemsize], [d.name, d.kind, d.itemsize], d.code);
    }
    assert.deepEqual(DTYPES.map((d) => d.name).sort(), [...Object.keys(SAMPLES), ...OWN_TESTS].sort());
  });

  for (const { name, TypedArray: Ctor, itemsize } of DTYPES.filter((d) => SAMPLES[d.name])) {
    const [write, values] = SAMPLES[name];
    it(`${name}: data is ${Ctor.name}; get/set/ndarray read the file's values`, function () {
      const file = tmp.file(`${name}.bin`);
      const offset = 3;
      const buf = Buffer.alloc(offset + itemsize * values.length);
      values.forEach((v, k) => write(buf, v, offset + itemsize * k));
      fs.writeFileSync(file, buf);
      const a = memmap(file, { dtype: name, offset, mode: 'r+' });
      assert.equal(a.dtype, name);
      assert.equal(a.itemsize, itemsize);
      assert.deepEqual(a.shape, [values.length]);
      assert.ok(a.data instanceof Ctor, `data is ${a.data.constructor.name}`);
      assert.equal(a.data.length, values.length);
      const nd = a.ndarray();
      values.forEach((v, k) => {
        assert.ok(sameValue(a.data[k], v), `data[${k}] = ${a.data[k]}, want ${v}`);
        assert.ok(sameValue(a.get(k), v), `get(${k}) = ${a.get(k)}, want ${v}`);
        assert.ok(sameValue(nd.get(k), v), `ndarray get(${k})`);
      });
      // set() writes the same bytes Buffer would
      const reversed = values.slice().reverse();
      reversed.forEach((v, k) => a.set(k, v));
      a.flush();
      const expected = Buffer.alloc(buf.length);
      reversed.forEach((v, k) => write(expected, v, offset + itemsize * k));
      assert.deepEqual(fs.readFileSync(file), expected);
      a.close();
    });
  }

  it('int64/uint64 set() accepts bigint and numbers (truncated, as numpy); get() returns bigint', function () {
    const file = tmp.file('i64.bin');
    const a = memmap(file, { mode: 'w+', dtype: 'int64', shape: [3] });
    a.set(0, -5);
    a.set(1, 2n ** 62n);
    a.set(2, true);
    assert.deepEqual([a.get(0), a.get(1), a.get(2)], [-5n, 2n ** 62n, 1n]);
    // numbers are cast like numpy's float -> int64: truncated, exact for any integer-valued double
    a.set(0, 2 ** 60);
    a.set(1, -7.9);
    assert.deepEqual([a.get(0), a.get(1)], [2n ** 60n, -7n]);
    throwsCode(() => a.set(0, 2 ** 63), 'ERR_OUT_OF_RANGE', RangeError);
    throwsCode(() => a.set(0, NaN), 'ERR_INVALID_VALUE', RangeError);
    throwsCode(() => a.set(0, 'x'), 'ERR_INVALID_VALUE', TypeError);
    a.close();
  });

  it('bool: data is Uint8Array, get() returns booleans, set() stores 0/1', function () {
    const file = tmp.file('bool.bin');
    fs.writeFileSync(file, Buffer.from([0, 1, 2, 255, 0]));
    const a = memmap(file, { dtype: 'bool', mode: 'r+' });
    assert.equal(a.dtype, 'bool');
    assert.equal(a.descr, '|b1');
    assert.ok(a.data instanceof Uint8Array);
    assert.deepEqual([0, 1, 2, 3, 4].map((k) => a.get(k)), [false, true, true, true, false]);
    assert.equal(a.ndarray().get(3), 255, 'ndarray over a bool array sees the raw bytes');
    a.set(0, true);
    a.set(1, false);
    a.set(2, 7);
    a.set(3, 0);
    a.set(4, 1n);
    assert.deepEqual(Array.from(a.data), [1, 0, 1, 0, 1]);
    // as numpy: bool(nan) and bool(0.5) are True, bool(-0.0) and 0n False
    for (const [v, want] of [[NaN, true], [-0, false], [0.5, true], [-Infinity, true], [0n, false], [-3n, true]]) {
      a.set(2, v);
      assert.equal(a.get(2), want, `bool(${String(v)})`);
    }
    throwsCode(() => a.set(0, 'yes'), 'ERR_INVALID_VALUE', TypeError);
    a.close();
  });

  for (const { name, TypedArray: Ctor, itemsize } of DTYPES.filter((d) => d.kind === 'c')) {
    const part = itemsize / 2;
    it(`${name}: data is interleaved ${Ctor.name}; get() returns {re, im}`, function () {
      const file = tmp.file(`${name}.bin`);
      const pairs = [[1.5, -2.25], [0, 0], [-0, Infinity], [NaN, 3]];
      const buf = Buffer.alloc(pairs.length * 2 * part);
      const put = part === 4 ? (v, o) => buf.writeFloatLE(v, o) : (v, o) => buf.writeDoubleLE(v, o);
      pairs.forEach(([re, im], k) => {
        put(re, 2 * part * k);
        put(im, 2 * part * k + part);
      });
      fs.writeFileSync(file, buf);
      const a = memmap(file, { dtype: name, mode: 'c' });
      assert.equal(a.itemsize, 2 * part);
      assert.deepEqual(a.shape, [4]);
      assert.ok(a.data instanceof Ctor);
      assert.equal(a.data.length, 8);
      pairs.forEach(([re, im], k) => {
        assert.ok(sameValue(a.data[2 * k], re) && sameValue(a.data[2 * k + 1], im), `data pair ${k}`);
        const v = a.get(k);
        assert.ok(sameValue(v.re, re) && sameValue(v.im, im), `get(${k}) = ${JSON.stringify(v)}`);
      });
      a.set(0, { re: 4, im: 5 });
      a.set(1, [6, 7]);
      a.set(2, 8);
      a.set(3, { re: 9 });
      assert.deepEqual(Array.from(a.data), [4, 5, 6, 7, 8, 0, 9, 0]);
      a.close();
    });
  }

  describe('float16', function () {
    it(`data is ${hasFloat16Array ? 'Float16Array' : 'Uint16Array of raw bits'}; get()/set() convert`, function () {
      const file = tmp.file('f16.bin');
      const bits = [0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555];
      const want = [1, -2, 2 ** -24, 65504, Infinity, -Infinity, NaN, -0, 0.333251953125];
      const buf = Buffer.alloc(bits.length * 2);
      bits.forEach((b, k) => buf.writeUInt16LE(b, 2 * k));
      fs.writeFileSync(file, buf);
      const a = memmap(file, { dtype: 'float16', mode: 'r+' });
      assert.equal(a.descr, '<f2');
      assert.ok(a.data instanceof dtypeNamed('float16').TypedArray);
      if (!hasFloat16Array) {
        assert.ok(a.data instanceof Uint16Array);
        assert.deepEqual(Array.from(a.data), bits);
      }
      const nd = a.ndarray();
      want.forEach((v, k) => {
        assert.ok(sameValue(a.get(k), v), `get(${k}) = ${a.get(k)}, want ${v}`);
        assert.ok(sameValue(nd.get(k), v), `ndarray get(${k}) = ${nd.get(k)}, want ${v}`);
      });
      a.set(0, 0.1); // rounds to nearest: 0x2e66
      nd.set(1, 65520); // past the largest half: inf
      a.flush();
      const disk = fs.readFileSync(file);
      assert.equal(disk.readUInt16LE(0), 0x2e66);
      assert.equal(disk.readUInt16LE(2), 0x7c00);
      a.close();
    });
  });

  describe('byte order', function () {
    const BE = [
      ['>i2', 2, (b, v, o) => b.writeInt16BE(v, o), (b, o) => b.readInt16BE(o), [-2, 258, 32767]],
      ['>u4', 4, (b, v, o) => b.writeUInt32BE(v, o), (b, o) => b.readUInt32BE(o), [1, 2 ** 32 - 1, 0x01020304]],
      ['>i8', 8, (b, v, o) => b.writeBigInt64BE(v, o), (b, o) => b.readBigInt64BE(o), [-(2n ** 63n), 1n, 2n ** 40n + 3n]],
      ['>f4', 4, (b, v, o) => b.writeFloatBE(v, o), (b, o) => b.readFloatBE(o), [1.5, -0.25, Infinity]],
      ['>f8', 8, (b, v, o) => b.writeDoubleBE(v, o), (b, o) => b.readDoubleBE(o), [Math.E, -1e300, 5e-324]],
      ['>f2', 2, (b, v, o) => b.writeUInt16BE(v, o), (b, o) => b.readUInt16BE(o), [0x3c00, 0xc000, 0x0001]],
    ];
    const F16 = { 0x3c00: 1, 0xc000: -2, 0x0001: 2 ** -24 };

    for (const [descr, size, write, read, values] of BE) {
      it(`${descr}: get()/set()/ndarray() give true values; data throws ERR_BYTE_ORDER`, function () {
        const file = tmp.file(`be${descr.slice(1)}.bin`);
        const buf = Buffer.alloc(1 + size * values.length);
        values.forEach((v, k) => write(buf, v, 1 + size * k));
        fs.writeFileSync(file, buf);
        const a = memmap(file, { dtype: descr, offset: 1, mode: 'r+' });
        assert.equal(a.descr, descr);
        assert.equal(a.byteOrder, '>');
        throwsCode(() => a.data, 'ERR_BYTE_ORDER');
        assert.deepEqual(Buffer.from(a.bytes), buf.subarray(1), 'raw bytes are available');
        const trueValue = (v) => (descr === '>f2' ? F16[v] : v);
        const nd = a.ndarray();
        values.forEach((v, k) => {
          assert.ok(sameValue(a.get(k), trueValue(v)), `get(${k}) = ${a.get(k)}`);
          assert.ok(sameValue(nd.get(k), trueValue(v)), `ndarray get(${k}) = ${nd.get(k)}`);
        });
        // write through set() and through ndarray(), read back big-endian bytes
        a.set(0, trueValue(values[2]));
        nd.set(2, trueValue(values[0]));
        a.flush();
        const disk = fs.readFileSync(file);
        assert.ok(sameValue(read(disk, 1), values[2]));
        assert.ok(sameValue(read(disk, 1 + 2 * size), values[0]));
        a.close();
      });
    }

    it('>c16: get()/set() and ndarray() see (re, im) in big-endian order', function () {
      const file = tmp.file('be-c16.bin');
      const buf = Buffer.alloc(32);
      buf.writeDoubleBE(1.25, 0);
      buf.writeDoubleBE(-3, 8);
      buf.writeDoubleBE(7, 16);
      buf.writeDoubleBE(0.5, 24);
      fs.writeFileSync(file, buf);
      const a = memmap(file, { dtype: '>c16', mode: 'r+' });
      throwsCode(() => a.data, 'ERR_BYTE_ORDER');
      assert.deepEqual(a.get(0), { re: 1.25, im: -3 });
      const nd = a.ndarray();
      assert.deepEqual(nd.shape, [2, 2]);
      assert.equal(nd.get(1, 1), 0.5);
      nd.set(1, 0, -8);
      a.set(0, { re: 2, im: 4 });
      a.flush();
      const disk = fs.readFileSync(file);
      assert.deepEqual([0, 8, 16, 24].map((o) => disk.readDoubleBE(o)), [2, 4, -8, 0.5]);
      a.close();
    });

    it('one-byte and little-endian explicit orders have working data', function () {
      const file = tmp.file('le.bin');
      const buf = Buffer.alloc(8);
      buf.writeInt32LE(-77, 0);
      buf.writeInt32LE(12, 4);
      fs.writeFileSync(file, buf);
      for (const d of ['<i4', '=i4', 'i4', 'i']) {
        const a = memmap(file, { dtype: d });
        assert.deepEqual(Array.from(a.data), [-77, 12], d);
        a.close();
      }
      for (const d of ['>u1', '<u1', '|u1', '=u1', 'u1', 'B']) {
        const a = memmap(file, { dtype: d });
        assert.equal(a.descr, '|u1');
        assert.equal(a.data[0], buf[0]);
        a.close();
      }
    });
  });

  describe('dtype strings', function () {
    const ACCEPTED = {
      '<f8': 'float64', f4: 'float32', '|u1': 'uint8', '=i2': 'int16', '>i4': 'int32', '<c16': 'complex128', '?': 'bool',
      b1: 'bool', i1: 'int8', u2: 'uint16', '<u4': 'uint32', i8: 'int64', '>u8': 'uint64', f2: 'float16', c8: 'complex64',
      d: 'float64', e: 'float16', F: 'complex64', D: 'complex128', q: 'int64', Q: 'uint64', h: 'int16', H: 'uint16',
      double: 'float64', single: 'float32', half: 'float16', float: 'float64', complex: 'complex128', bool_: 'bool',
    };
    for (const [s, name] of Object.entries(ACCEPTED)) {
      it(`accepts ${JSON.stringify(s)} as ${name}`, function () {
        assert.equal(parseDType(s).name, name);
        const file = tmp.file('dtype-str.bin');
        fs.writeFileSync(file, Buffer.alloc(32));
        const a = memmap(file, { dtype: s });
        assert.equal(a.dtype, name);
        assert.equal(a.size, 32 / a.itemsize);
        a.close();
      });
    }

    it('dtype strings mean what they mean in numpy', function () {
      const strings = ['<f8', 'f4', '|u1', '=i2', '>i4', '<c16', '?', 'b1', '|b1', '<?', 'i1', '>u1', 'u2', '>u2', 'i8', '<u8',
        'f2', '>f2', 'c8', '>c8', 'e', 'f', 'd', 'F', 'D', 'b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q',
        '|f4', '|i8', '=c16', 'bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
        'float16', 'float32', 'float64', 'complex64', 'complex128', 'half', 'single', 'double', 'float', 'complex',
        'byte', 'ubyte', 'short', 'ushort', 'intc', 'uintc', 'int', 'uint', 'long', 'ulong', 'longlong', 'ulonglong',
        'csingle', 'cdouble', 'bool_'];
      const np = numpyJSON('emit([[np.dtype(s).str, np.dtype(s).name] for s in json.loads(sys.argv[1])])', [JSON.stringify(strings)]);
      strings.forEach((s, k) => {
        const dt = parseDType(s);
        assert.deepEqual([dt.descr, dt.name], np[k], `dtype ${JSON.stringify(s)}`);
      });
    });

    it('dtype: null is numpy\'s dtype=None (float64, as np.memmap reads it); omitted is uint8 (asked of numpy)', function () {
      const file = tmp.file('dtype-none.bin');
      fs.writeFileSync(file, Buffer.from(new Float64Array([1.5, -2, 1e300]).buffer));
      const np = numpyJSON(
        `a = np.memmap(sys.argv[1], dtype=None, mode='r'); b = np.memmap(sys.argv[1], mode='r')
emit([a.dtype.name, list(a.shape), a.tolist(), b.dtype.name, list(b.shape)])`,
        [file],
      );
      const a = memmap(file, { dtype: null });
      const b = memmap(file);
      assert.deepEqual([a.dtype, a.shape, Array.from(a.data), b.dtype, b.shape], np);
      assert.deepEqual(np, ['float64', [3], [1.5, -2, 1e300], 'uint8', [24]]);
      assert.ok(a.data instanceof Float64Array);
      a.close();
      b.close();
      // Creating: 'w+' with dtype null sizes the file for float64 elements.
      const created = tmp.file('dtype-none-w.bin');
      const w = memmap(created, { dtype: null, mode: 'w+', shape: [2, 2] });
      assert.equal(w.dtype, 'float64');
      w.set(1, 1, 0.25);
      w.close();
      assert.equal(fs.statSync(created).size, 32);
      assert.equal(fs.readFileSync(created).readDoubleLE(24), 0.25);
    });

    it('refuses unknown, structured, object, string, datetime and void dtypes, for every mode, leaving the file unchanged', function () {
      const file = tmp.file('bad-dtype.bin');
      fs.writeFileSync(file, Buffer.alloc(64, 9));
      const before = fingerprint(file);
      const bad = ['U4', '<U4', 'S4', 'a4', 'O', 'M8', 'M8[ns]', 'm8[s]', 'V8', '|V4', 'i4,f4', "[('a','<i4')]",
        'f3', 'i16', 'float128', 'g', 'G', 'f16', 'int128', 'Float32', 'FLOAT64', '', ' f4', 'f4 ', 'u', '<>i4', 'object',
        'str', 'datetime64', 'void', 4, true, {}, [], Symbol('f4')];
      for (const dtype of bad) {
        for (const mode of ['r', 'r+', 'w+', 'c']) {
          throwsCode(() => memmap(file, { dtype, mode, shape: [4] }), 'ERR_INVALID_DTYPE', TypeError);
        }
        throwsCode(() => parseDType(dtype), 'ERR_INVALID_DTYPE', TypeError);
      }
      throwsCode(() => parseDType(null), 'ERR_INVALID_DTYPE', TypeError);
      throwsCode(() => parseDType(undefined), 'ERR_INVALID_DTYPE', TypeError);
      assert.equal(fingerprint(file), before);
    });
  });
});
