'use strict';
// The error contract of the public API: whatever a caller passes, every
// failure is a MemmapError with a documented code, option objects are read as
// own data properties only, and a refused call leaves the file as it was.
// Errors are matched by class and code, never by message.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { memmap, openNpy, readNpyHeader, parseDType, MemmapError, MemmapTypeError, MemmapRangeError, maxBufferLength } = require('..');
const { viewOf } = require('../dist/layout');
const { main: cli } = require('../dist/cli');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode, patternFile } = require('./helpers/assert');
const { runFixture, fixtureJSON, expectCleanExit } = require('./helpers/child');
const { pythonJSON } = require('./helpers/python');
const { skipOnWindows } = require('./helpers/platform');

const PROTO_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__'];
const CONVERSIONS = ['toString', 'valueOf', 'toPrimitive', 'toJSON'];

/**
 * Values a hostile caller passes where a string or number belongs. `calls`
 * records every conversion method (toString, valueOf, Symbol.toPrimitive,
 * toJSON) and Proxy trap that ran; each of them throws.
 */
function hostileValues() {
  const calls = [];
  const trap = (name) => () => {
    calls.push(name);
    throw new Error(`caller code ran: ${name}`);
  };
  const object = { toString: trap('toString'), valueOf: trap('valueOf'), [Symbol.toPrimitive]: trap('toPrimitive'), toJSON: trap('toJSON') };
  const traps = {};
  for (const t of ['get', 'has', 'getOwnPropertyDescriptor', 'ownKeys', 'getPrototypeOf', 'apply']) traps[t] = trap(`proxy.${t}`);
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const values = {
    'a bigint past 2^64': 10n ** 30n,
    'a symbol': Symbol('hostile'),
    'an object with throwing toString/valueOf/toPrimitive/toJSON': object,
    'a Proxy whose every trap throws': new Proxy({}, traps),
    'a Proxy of an array whose every trap throws': new Proxy([], traps),
    'a revoked Proxy': revoked,
    'an array holding such an object': [object],
    'a function': Object.assign(() => 1, { toString: trap('fn.toString') }),
  };
  return { calls, values };
}

/** A function that throws `err`. */
const thrower = (err) => () => {
  throw err;
};

/** Asserts no toString/valueOf/toPrimitive/toJSON of the caller ran. */
function noConversions(calls, what) {
  const ran = calls.filter((c) => CONVERSIONS.includes(c) || c === 'fn.toString');
  assert.deepEqual(ran, [], `${what}: the library called the caller's ${ran.join(', ')}`);
}

describe('API contract: MemmapError codes for hostile input, own-property options', function () {
  const tmp = useTmpDir();

  /** A 64-byte pattern file; returns [file, fingerprint]. */
  function victim(name = 'victim.bin', n = 64) {
    const file = tmp.file(name);
    patternFile(file, n);
    return [file, fingerprint(file)];
  }

  /** A small .npy written by openNpy('w+'); returns [file, fingerprint]. */
  function victimNpy(name = 'victim.npy') {
    const file = tmp.file(name);
    openNpy(file, { mode: 'w+', dtype: 'int16', shape: [2, 3] }).close();
    return [file, fingerprint(file)];
  }

  describe('1. dtype and mode names that are Object.prototype keys', function () {
    it('memmap(): ERR_INVALID_DTYPE / ERR_INVALID_MODE / ERR_INVALID_ORDER (TypeError) in every mode; the file is unchanged', function () {
      const [file, before] = victim();
      for (const name of PROTO_KEYS) {
        for (const mode of ['r', 'r+', 'w+', 'c']) {
          throwsCode(() => memmap(file, { mode, dtype: name, shape: [4] }), 'ERR_INVALID_DTYPE', MemmapTypeError);
          throwsCode(() => memmap(file, { mode, order: name, shape: [4] }), 'ERR_INVALID_ORDER', MemmapTypeError);
        }
        throwsCode(() => memmap(file, { mode: name }), 'ERR_INVALID_MODE', MemmapTypeError);
        throwsCode(() => memmap(file, { mode: name, shape: [4] }), 'ERR_INVALID_MODE', MemmapTypeError);
        throwsCode(() => parseDType(name), 'ERR_INVALID_DTYPE', MemmapTypeError);
        for (const prefix of ['<', '>', '=', '|']) throwsCode(() => parseDType(prefix + name), 'ERR_INVALID_DTYPE', MemmapTypeError);
      }
      assert.equal(fingerprint(file), before);
    });

    it('openNpy() and readNpyHeader(): the same codes; neither file is touched', function () {
      const [npy, npyBefore] = victimNpy();
      const [raw, rawBefore] = victim('raw.bin');
      for (const name of PROTO_KEYS) {
        throwsCode(() => openNpy(npy, { mode: name }), 'ERR_INVALID_MODE', MemmapTypeError);
        throwsCode(() => openNpy(raw, { mode: 'w+', dtype: name, shape: [3] }), 'ERR_INVALID_DTYPE', MemmapTypeError);
      }
      assert.equal(fingerprint(npy), npyBefore);
      assert.equal(fingerprint(raw), rawBefore);
    });

    it('an own "__proto__" key (JSON.parse makes one) is an unknown option; a literal __proto__ is a prototype and is ignored', function () {
      const [file, before] = victim();
      throwsCode(() => memmap(file, JSON.parse('{"__proto__": {"mode": "w+", "shape": [1]}}')), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
      const a = memmap(file, { __proto__: { mode: 'w+', shape: [1], dtype: 'float64' } });
      assert.deepEqual([a.mode, a.dtype, a.shape], ['r', 'uint8', [64]]);
      a.close();
      assert.equal(fingerprint(file), before);
    });

    it('memmap info --dtype / --order with such a name: exit 1 with the code', function () {
      const [file, before] = victim();
      for (const name of PROTO_KEYS) {
        for (const [flag, code] of [['--dtype', 'ERR_INVALID_DTYPE'], ['--order', 'ERR_INVALID_ORDER']]) {
          const errs = [];
          assert.equal(cli(['info', file, flag, name], () => {}, (s) => errs.push(s)), 1);
          assert.ok(errs.length === 1 && errs[0].includes(code), `${flag} ${name}: ${errs}`);
        }
      }
      assert.equal(fingerprint(file), before);
    });
  });

  describe('2. bigint, symbol and hostile objects as values: the code of the option, no caller code run for the message', function () {
    const cases = [
      ['mode', 'ERR_INVALID_MODE', MemmapTypeError],
      ['order', 'ERR_INVALID_ORDER', MemmapTypeError],
      ['dtype', 'ERR_INVALID_DTYPE', MemmapTypeError],
      ['offset', 'ERR_INVALID_OFFSET', MemmapTypeError],
      ['shape', 'ERR_INVALID_SHAPE', MemmapTypeError],
    ];
    for (const [option, code, cls] of cases) {
      it(`memmap() option ${option}: ${code}; the file is unchanged`, function () {
        const [file, before] = victim();
        const { calls, values } = hostileValues();
        for (const [what, value] of Object.entries(values)) {
          for (const mode of ['r', 'r+', 'w+', 'c']) {
            const opts = { shape: [4], mode, [option]: value };
            const err = throwsCode(() => memmap(file, opts), code, cls);
            assert.equal(typeof err.message, 'string', what);
          }
        }
        noConversions(calls, option);
        assert.equal(fingerprint(file), before);
      });
    }

    it('openNpy() options fortranOrder, maxHeaderSize, version and readNpyHeader() maxHeaderSize; nothing is created', function () {
      const [npy, before] = victimNpy();
      const fresh = tmp.file('never-created.npy');
      const { calls, values } = hostileValues();
      for (const value of Object.values(values)) {
        throwsCode(() => openNpy(fresh, { mode: 'w+', dtype: 'f4', shape: [2], fortranOrder: value }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
        throwsCode(() => openNpy(fresh, { mode: 'w+', dtype: 'f4', shape: [2], maxHeaderSize: value }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
        throwsCode(() => openNpy(fresh, { mode: 'w+', dtype: 'f4', shape: [2], version: value }), 'ERR_NPY_VERSION');
        throwsCode(() => openNpy(fresh, { mode: 'w+', dtype: 'f4', shape: [2], version: [value, 0] }), 'ERR_NPY_VERSION');
        throwsCode(() => openNpy(npy, { maxHeaderSize: value }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
        throwsCode(() => readNpyHeader(npy, { maxHeaderSize: value }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
      }
      // a version item whose toString says '1' was read as version 1.0
      const one = { toString: () => '1', valueOf: () => 1 };
      throwsCode(() => openNpy(fresh, { mode: 'w+', dtype: 'f4', shape: [2], version: [one, 0] }), 'ERR_NPY_VERSION', MemmapRangeError);
      throwsCode(() => openNpy(fresh, { mode: 'w+', dtype: 'f4', shape: [2], version: [1n, 0n] }), 'ERR_NPY_VERSION', MemmapRangeError);
      noConversions(calls, 'openNpy');
      assert.ok(!fs.existsSync(fresh));
      assert.equal(fingerprint(npy), before);
    });

    it('indices of get(), set(), sum(), read(), gather() and segments() maxBytes: ERR_INVALID_INDEX / ERR_INVALID_ARG_VALUE', function () {
      const [file, before] = victim();
      const a = memmap(file, { shape: [8, 8] });
      const { calls, values } = hostileValues();
      for (const [what, value] of Object.entries(values)) {
        const bigint = typeof value === 'bigint';
        // a bigint index is an integer: too large, so out of bounds (as numpy's IndexError)
        throwsCode(() => a.get(value, 0), bigint ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_INDEX', bigint ? MemmapRangeError : MemmapTypeError);
        if (!bigint) {
          // Not last: a trailing object is the call's options (reductions, read({ out }))
          throwsCode(() => a.sum(value, null), 'ERR_INVALID_INDEX', MemmapTypeError);
          throwsCode(() => a.read(value, null), 'ERR_INVALID_INDEX', MemmapTypeError);
          let list = true;
          try {
            list = Array.isArray(value);
          } catch {
            // a revoked Proxy: an index item
          }
          if (typeof value === 'object' && value !== null && !list) {
            assert.throws(() => a.sum(value), (err) => err instanceof MemmapError && typeof err.code === 'string');
          } else throwsCode(() => a.sum(value), 'ERR_INVALID_INDEX', MemmapTypeError);
          throwsCode(() => a.sum([value, 5]), 'ERR_INVALID_INDEX', MemmapTypeError);
          throwsCode(() => a.read([0, 5, value]), 'ERR_INVALID_INDEX', MemmapTypeError);
        }
        throwsCode(() => a.gather(value, [0]), 'ERR_INVALID_INDEX', MemmapTypeError);
        throwsCode(() => a.gather([0, value], [0, 1]), bigint ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_INDEX');
        throwsCode(() => a.segments({ maxBytes: value }).next(), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
        assert.ok(what);
      }
      const w = memmap(file, { mode: 'c', shape: [8, 8] });
      for (const value of Object.values(values)) {
        if (typeof value !== 'bigint') throwsCode(() => w.set(value, 0, 1), 'ERR_INVALID_INDEX', MemmapTypeError);
      }
      w.close();
      noConversions(calls, 'indices');
      a.close();
      assert.equal(fingerprint(file), before);
    });

    it('a dtype object: only an own string descr counts (no getter, no prototype); a throwing Proxy is ERR_INVALID_DTYPE with its error as cause', function () {
      let ran = 0;
      const getter = Object.defineProperty({}, 'descr', { enumerable: true, get: () => (ran++, '<f8') });
      throwsCode(() => parseDType(getter), 'ERR_INVALID_DTYPE', MemmapTypeError);
      throwsCode(() => parseDType(Object.create({ descr: '<f8' })), 'ERR_INVALID_DTYPE', MemmapTypeError);
      assert.equal(ran, 0);
      const boom = new Error('trap');
      const throwing = new Proxy({}, { getOwnPropertyDescriptor: thrower(boom) });
      const err = throwsCode(() => parseDType(throwing), 'ERR_INVALID_DTYPE', MemmapTypeError);
      assert.equal(err.cause, boom);
      assert.equal(parseDType({ descr: '>i4' }).descr, '>i4');
      assert.equal(parseDType(parseDType('f2')).name, 'float16');
    });
  });

  describe('3. slice steps whose byte stride passes 2^53', function () {
    it("read() and sum() of huge steps give numpy's a[start:stop:step] (checked with numpy)", function () {
      const file = tmp.file('steps.f64');
      const rows = 6;
      const cols = 10;
      const values = Float64Array.from({ length: rows * cols }, (_, k) => k * 1.25 - 7);
      fs.writeFileSync(file, Buffer.from(values.buffer));
      const cases1 = [[[0, 10, 2 ** 52]], [[0, 10, 2 ** 62]], [[9, null, -(2 ** 60)]], [[3, 4, 2 ** 53]], [[5, 5, 2 ** 52]], [[null, null, 2 ** 1023]], [[-1, null, -(2 ** 1000)]]];
      const cases2 = [
        [2, [0, 10, 2 ** 52]],
        [[0, 6, 2 ** 52], [1, 10, 3]],
        [[null, null, -(2 ** 61)], 7],
        [[0, 0, 2 ** 52], null],
        [[1, 6, 2 ** 55], [null, null, -(2 ** 58)]],
      ];
      const want = pythonJSON(
        `
import json, sys, numpy as np
a = np.fromfile(sys.argv[1], dtype='<f8')
def n(x):
    return int(x) if isinstance(x, float) else x  # 2**1023 reaches JSON as a float; it is an exact integer
def idx(items):
    return tuple(slice(*map(n, i)) if isinstance(i, list) else n(i) for i in items)
out = []
for shape, cases in ((( ${rows * cols},), json.loads(sys.argv[2])), ((${rows}, ${cols}), json.loads(sys.argv[3]))):
    m = a.reshape(shape)
    for c in cases:
        s = m[idx(c)]
        out.append({'values': np.asarray(s).ravel().tolist(), 'sum': float(np.asarray(s).sum())})
print(json.dumps(out))
`,
        [file, JSON.stringify(cases1), JSON.stringify(cases2)],
      );
      const flat = memmap(file, { dtype: 'float64' });
      const grid = memmap(file, { dtype: 'float64', shape: [rows, cols] });
      const got = [...cases1.map((c) => [flat, c]), ...cases2.map((c) => [grid, c])].map(([m, c]) => ({ values: Array.from(m.read(...c)), sum: m.sum(...c) }));
      assert.deepEqual(got, want);
      // bigints beyond any double: Python's ints clamp, so does memmap
      assert.deepEqual(Array.from(flat.read([0, 10, 10n ** 400n])), [values[0]]);
      assert.deepEqual(Array.from(flat.read([-(10n ** 400n), 10n ** 400n, 20])), [values[0], values[20], values[40]]);
      flat.close();
      grid.close();
    });

    it('viewOf(): an axis of length <= 1 has stride 0, an empty selection offset 0 and strides 0, every offset and stride a safe integer below the byte size', function () {
      let seed = 12345;
      const rnd = (n) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const huge = () => [0, 1, 2, 3, 2 ** 31, 2 ** 52, 2 ** 53 - 1, 2 ** 62, 2 ** 1000][rnd(9)] * (rnd(2) ? 1 : -1);
      for (let t = 0; t < 3000; t++) {
        const ndim = 1 + rnd(3);
        const shape = Array.from({ length: ndim }, () => rnd(7));
        const itemsize = [1, 2, 8, 16][rnd(4)];
        const order = rnd(2) ? 'C' : 'F';
        const strides = new Array(ndim);
        let step = 1;
        for (let i = 0; i < ndim; i++) {
          const d = order === 'C' ? ndim - 1 - i : i;
          strides[d] = step;
          step *= Math.max(shape[d], 1);
        }
        const index = shape.map((dim) => {
          const r = rnd(4);
          if (r === 0) return null;
          if (r === 1 && dim > 0) return rnd(dim);
          const s = huge() || 1;
          return [rnd(2) ? null : huge(), rnd(2) ? null : huge(), s];
        });
        const v = viewOf(shape, strides, index, itemsize);
        const bytes = shape.reduce((x, y) => x * y, 1) * itemsize;
        const size = v.shape.reduce((x, y) => x * y, 1);
        const label = JSON.stringify({ shape, itemsize, order, index, v });
        assert.ok(Number.isSafeInteger(v.offset) && v.strides.every(Number.isSafeInteger), label);
        if (size === 0) {
          assert.equal(v.offset, 0, label);
          assert.ok(v.strides.every((s) => s === 0), label);
          continue;
        }
        v.shape.forEach((n, d) => {
          if (n <= 1) assert.equal(v.strides[d], 0, label);
          assert.ok(Math.abs(v.strides[d]) * (n - 1) < bytes, label);
        });
        assert.ok(v.offset >= 0 && v.offset < bytes, label);
      }
    });
  });

  describe('4. gather() index arrays', function () {
    it('a length that is not a non-negative safe integer: ERR_INVALID_INDEX (RangeError; TypeError when not a number)', function () {
      const [file] = victim();
      const a = memmap(file);
      for (const length of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0.5]) throwsCode(() => a.gather({ length }), 'ERR_INVALID_INDEX', MemmapRangeError);
      for (const length of ['3', 3n, null, undefined, {}, Symbol('n')]) throwsCode(() => a.gather({ length }), 'ERR_INVALID_INDEX', MemmapTypeError);
      assert.deepEqual(Array.from(a.gather({ length: 2, 0: 1, 1: -1 })), [a.get(1), a.get(63)]);
      assert.equal(a.gather({ length: -0 }).length, 0);
      a.close();
    });

    it('a result larger than the largest ArrayBuffer: ERR_TOO_LARGE before anything is allocated', function () {
      const file = tmp.file('gather.f64');
      patternFile(file, 64);
      const a = memmap(file, { dtype: 'float64' });
      const count = Math.floor(maxBufferLength / 8) + 1;
      throwsCode(() => a.gather({ length: count }), 'ERR_TOO_LARGE', MemmapError);
      throwsCode(() => a.gather({ length: 2 ** 50 }), 'ERR_TOO_LARGE', MemmapError);
      // 2**32 one-byte elements: refused as too large (the index array as float64 is 32 GiB), or, where that
      // could be allocated, at its first item (undefined)
      const b = memmap(file);
      assert.throws(() => b.gather({ length: 2 ** 32 }), (err) => err instanceof MemmapError && ['ERR_TOO_LARGE', 'ERR_INVALID_INDEX'].includes(err.code));
      a.close();
      b.close();
    });

    it('getters and Proxy traps that throw: ERR_INVALID_INDEX with the thrown error as cause; each length and item read once', function () {
      const [file] = victim();
      const a = memmap(file, { shape: [8, 8] });
      const boom = new Error('boom');
      const throwing = [
        Object.defineProperty({}, 'length', { get: thrower(boom) }),
        Object.defineProperty({ length: 2, 0: 1 }, 1, { get: thrower(boom) }),
        new Proxy([1, 2], { get: thrower(boom) }),
        new Proxy([1, 2], { get: (t, p) => (p === 'length' ? 2 : thrower(boom)()) }),
      ];
      for (const c of throwing) {
        const err = throwsCode(() => a.gather(c, [0, 1]), 'ERR_INVALID_INDEX', MemmapTypeError);
        assert.equal(err.cause, boom);
      }
      const { proxy, revoke } = Proxy.revocable([1], {});
      revoke();
      throwsCode(() => a.gather(proxy, [0]), 'ERR_INVALID_INDEX', MemmapTypeError);
      let reads = 0;
      const counted = new Proxy([1, 2, 3], {
        get(t, p) {
          reads++;
          return t[p];
        },
      });
      assert.deepEqual(Array.from(a.gather(counted, [0, 1, 2])), [a.get(1, 0), a.get(2, 1), a.get(3, 2)]);
      assert.equal(reads, 4, 'length once, each item once');
      a.close();
    });

    it('items that are not numbers or bigints: ERR_INVALID_INDEX, without calling valueOf', function () {
      const [file] = victim();
      const a = memmap(file);
      let ran = 0;
      const v = { valueOf: () => ran++ };
      for (const item of [v, '1', null, undefined, true, [1], Symbol('i')]) throwsCode(() => a.gather([0, item]), 'ERR_INVALID_INDEX', MemmapTypeError);
      throwsCode(() => a.gather([0, , 1]), 'ERR_INVALID_INDEX', MemmapTypeError); // eslint-disable-line no-sparse-arrays
      assert.equal(ran, 0);
      a.close();
    });
  });

  describe('5. options of segments()', function () {
    it('anything but undefined or an object: ERR_INVALID_ARG_TYPE; an unknown key: ERR_UNKNOWN_OPTION', function () {
      const [file] = victim();
      const a = memmap(file);
      for (const options of [null, 5, 'x', true, 1n, Symbol('o'), () => {}]) throwsCode(() => a.segments(options).next(), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
      throwsCode(() => a.segments({ maxbytes: 8 }).next(), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
      throwsCode(() => a.segments({ maxBytes: 8, extra: 1 }).next(), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
      assert.equal([...a.segments()].length, 1);
      assert.equal([...a.segments(undefined)].length, 1);
      assert.equal([...a.segments({ maxBytes: 8 })].length, 8);
      assert.equal([...a.segments({ maxBytes: undefined })].length, 1);
      a.close();
    });
  });

  describe("6. numpy's limits on shapes: 64 dimensions, \"array is too big\"", function () {
    // [dtype, shape]; whether numpy accepts each is asked of numpy below
    const SHAPES = [
      ['float64', [0, 2 ** 40, 2 ** 40]],
      ['uint8', [0, 2 ** 31, 2 ** 31]],
      ['uint8', [0, 2 ** 32, 2 ** 31]],
      ['float64', [0, 2 ** 30, 2 ** 30]],
      ['float64', [0, 2 ** 30, 2 ** 29]],
      ['complex128', [2 ** 53 - 1, 0]],
      ['uint8', [2 ** 52, 0, 2 ** 11]],
      ['uint8', [2 ** 52, 0, 2 ** 10]],
      ['int16', [0, 2 ** 20, 2 ** 20, 2 ** 20, 2 ** 2]],
      ['uint8', Array(64).fill(1)],
      ['uint8', Array(64).fill(0)],
      ['uint8', Array(65).fill(1)],
      ['uint8', Array(65).fill(0)],
    ];
    const NP = { float64: '<f8', uint8: '|u1', complex128: '<c16', int16: '<i2' };
    let numpy;
    before(function () {
      numpy = pythonJSON(
        `
import json, sys, numpy as np
out = []
for descr, shape in json.loads(sys.argv[1]):
    try:
        np.empty(tuple(shape), dtype=descr)
        out.append('ok')
    except ValueError as e:
        out.append(str(e))
print(json.dumps(out))
`,
        [JSON.stringify(SHAPES.map(([d, s]) => [NP[d], s]))],
      );
    });

    it('memmap() and openNpy() refuse exactly the shapes numpy refuses: ERR_INVALID_SHAPE (RangeError), before the file is created', function () {
      let refused = 0;
      SHAPES.forEach(([dtype, shape], k) => {
        const label = `${dtype} (${shape.length > 8 ? `${shape.length} dims` : shape})`;
        for (const [name, open] of [
          ['memmap', (f) => memmap(f, { mode: 'w+', dtype, shape })],
          ['openNpy', (f) => openNpy(f, { mode: 'w+', dtype, shape })],
        ]) {
          const file = tmp.file(`limits-${name}-${k}.bin`);
          if (numpy[k] === 'ok') {
            const a = open(file);
            assert.deepEqual(a.shape, shape, label);
            a.close();
          } else {
            throwsCode(() => open(file), 'ERR_INVALID_SHAPE', MemmapRangeError);
            assert.ok(!fs.existsSync(file), `${name} ${label}: refused but created the file`);
            refused++;
          }
          // on an existing file too, in every mode, leaving it unchanged
          const [existing, before] = victim(`limits-existing-${name}-${k}.bin`);
          for (const mode of ['r', 'r+', 'c']) {
            if (numpy[k] !== 'ok') throwsCode(() => memmap(existing, { mode, dtype, shape }), 'ERR_INVALID_SHAPE', MemmapRangeError);
          }
          assert.equal(fingerprint(existing), before);
        }
      });
      assert.ok(refused >= 10, `numpy refused only ${refused / 2} of the shapes: ${JSON.stringify(numpy)}`);
    });

    it('openNpy(w+) files of the accepted shapes load in numpy', function () {
      const files = [];
      SHAPES.forEach(([dtype, shape], k) => {
        if (numpy[k] !== 'ok') return;
        const file = tmp.file(`loadable-${k}.npy`);
        openNpy(file, { mode: 'w+', dtype, shape }).close();
        files.push([file, shape]);
      });
      const shapes = pythonJSON(
        `
import json, sys, numpy as np
print(json.dumps([list(np.load(f).shape) for f in sys.argv[1:]]))
`,
        files.map(([f]) => f),
      );
      assert.deepEqual(shapes, files.map(([, s]) => s));
    });

    it('a .npy header numpy cannot load (65 dimensions, too big): ERR_NPY_HEADER from readNpyHeader() and openNpy() in every mode; unchanged', function () {
      const header = (shapeText) => {
        let h = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
        h += ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
        const pre = Buffer.from('\x93NUMPY\x01\x00\x00\x00', 'latin1');
        pre.writeUInt16LE(h.length, 8);
        return Buffer.concat([pre, Buffer.from(h, 'latin1'), Buffer.alloc(8)]);
      };
      const files = ['(' + Array(65).fill('1').join(', ') + ')', `(0, ${2 ** 40}, ${2 ** 40})`, `(${2 ** 52}, 0, 2048)`].map((s, k) => {
        const f = tmp.file(`bad-header-${k}.npy`);
        fs.writeFileSync(f, header(s));
        return f;
      });
      const numpyErrors = pythonJSON(
        `
import json, sys, numpy as np
out = []
for f in sys.argv[1:]:
    try:
        np.load(f, mmap_mode='r'); out.append('ok')
    except ValueError as e:
        out.append('ValueError')
print(json.dumps(out))
`,
        files,
      );
      assert.deepEqual(numpyErrors, files.map(() => 'ValueError'));
      for (const f of files) {
        const before = fingerprint(f);
        throwsCode(() => readNpyHeader(f), 'ERR_NPY_HEADER');
        for (const mode of ['r', 'r+', 'c']) throwsCode(() => openNpy(f, { mode }), 'ERR_NPY_HEADER');
        assert.equal(fingerprint(f), before);
      }
    });
  });

  describe('6b. patched built-ins change no code and let no foreign error out', function () {
    it('Array/String includes, DataView methods, foreign receivers, resize() with patched built-ins (child process)', function () {
      skipOnWindows(this, 'the fixture truncates a mapped file: Windows refuses to shrink a mapped file (error 1224)');
      const out = fixtureJSON('contract-patched-builtins.js');
      const code = (c, name = 'MemmapError') => ({ code: c, name, memmap: true });
      assert.deepEqual(out['sum-after-truncate, includes() says false'], code('ERR_SIGBUS'));
      assert.deepEqual(out['sum-after-truncate, includes() throws'], code('ERR_SIGBUS'));
      assert.deepEqual(out['fromShared unknown id, includes() says false'], code('ERR_INVALID_TOKEN'));
      assert.deepEqual(out['parseDType <f8, String includes() throws'], { value: '<f8' });
      assert.deepEqual(out['get() with a throwing DataView getFloat64'], code('ERR_CALLBACK'));
      assert.deepEqual(out['get() again'], { value: 0 });
      for (const name of ['slice', 'max', 'freeze']) {
        assert.deepEqual(out[`resize with ${name} patched`], { value: 'ok 2x4 64' }, name);
        assert.deepEqual(out[`get past the new end after resize with ${name} patched`], code('ERR_OUT_OF_RANGE', 'MemmapRangeError'), name);
      }
      for (const k of ['get.call({})', 'set.call({})', 'data on a foreign receiver', 'closed on a foreign receiver']) {
        assert.deepEqual(out[k], code('ERR_INVALID_ARG_TYPE', 'MemmapTypeError'), k);
      }
    });
  });

  describe('7. options: own enumerable data properties only; unknown ones refused', function () {
    it('a polluted Object.prototype (mode w+, shape, dtype, offset, …) is never read (child process)', function () {
      const dir = fs.mkdtempSync(path.join(tmp.dir, 'pollution-'));
      const out = fixtureJSON('contract-pollution.js', [dir]);
      const raw = { value: { mode: 'r', dtype: 'uint8', shape: [64], offset: 0, order: 'C', first: 3 } };
      assert.deepEqual(out.memmapNoOptions, raw);
      assert.deepEqual(out.memmapEmptyOptions, raw);
      assert.deepEqual(out.memmapModeOnly, raw);
      assert.deepEqual(out.memmapNullProto, raw);
      assert.deepEqual(out.memmapDtypeObject, { threw: 'ERR_INVALID_DTYPE' }, 'a polluted descr made {} a dtype');
      assert.deepEqual(out.memmapAccessorOption, { threw: 'ERR_INVALID_ARG_VALUE' });
      assert.deepEqual(out.memmapAccessorDescr, { threw: 'ERR_INVALID_DTYPE' });
      assert.deepEqual(out.memmapMissing, { threw: 'ENOENT' }, 'an error made under a polluted Object.prototype.code/get');
      assert.deepEqual(out.memmapUnknownOption, { threw: 'ERR_UNKNOWN_OPTION' });
      assert.equal(out.getterRan, 0, 'an option getter ran');
      assert.deepEqual(out.memmapHoleyShape, { threw: 'ERR_INVALID_SHAPE' }, 'a hole in a shape read Array.prototype[0]');
      assert.deepEqual(out.segments, { value: [1, 1] }, 'a polluted maxBytes cut the segments');
      const npy = { value: { mode: 'r', dtype: 'int16', shape: [2, 3], offset: 128, order: 'C', first: 1 } };
      assert.deepEqual(out.openNpy, npy);
      assert.deepEqual(out.openNpyEmptyOptions, npy);
      assert.deepEqual(out.readNpyHeader, { value: [2, 3] });
      assert.deepEqual(out.fileInfoNpy, { value: { format: 'npy', shape: [2, 3], dtype: 'int16' } });
      assert.deepEqual(out.fileInfoRaw, { value: { format: 'raw', shape: [64], dtype: 'uint8', dataOffset: 0 } });
      assert.deepEqual(out.unchanged, { raw: true, npy: true });
    });

    it('an unknown option: ERR_UNKNOWN_OPTION (TypeError) from memmap(), openNpy(), readNpyHeader(); nothing touched', function () {
      const [file, before] = victim();
      const [npy, npyBefore] = victimNpy();
      for (const [key, value] of [['dytpe', 'float32'], ['Mode', 'w+'], ['shap', [1]], ['offest', 8], ['fortranOrder', true], ['maxHeaderSize', 1]]) {
        for (const mode of ['r', 'r+', 'w+', 'c']) throwsCode(() => memmap(file, { mode, shape: [4], [key]: value }), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
      }
      for (const [key, value] of [['order', 'F'], ['offset', 0], ['dytpe', 'f4'], ['max_header_size', 1]]) {
        throwsCode(() => openNpy(npy, { [key]: value }), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
        throwsCode(() => openNpy(npy, { mode: 'w+', dtype: 'f4', shape: [1], [key]: value }), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
      }
      for (const key of ['mode', 'maxheadersize', 'dtype']) throwsCode(() => readNpyHeader(npy, { [key]: 'r' }), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
      assert.equal(fingerprint(file), before);
      assert.equal(fingerprint(npy), npyBefore);
    });

    it('options that are not undefined or an object: ERR_INVALID_ARG_TYPE from every entry point', function () {
      const [file, before] = victim();
      const [npy, npyBefore] = victimNpy();
      for (const options of [null, 5, 'w+', true, 1n, Symbol('o'), () => {}]) {
        throwsCode(() => memmap(file, options), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
        throwsCode(() => openNpy(npy, options), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
        throwsCode(() => readNpyHeader(npy, options), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
      }
      assert.equal(fingerprint(file), before);
      assert.equal(fingerprint(npy), npyBefore);
    });

    it('accessor properties are refused without running the getter: ERR_INVALID_ARG_VALUE', function () {
      const [file, before] = victim();
      const [npy, npyBefore] = victimNpy();
      let ran = 0;
      const getter = (v) => ({ enumerable: true, get: () => (ran++, v) });
      throwsCode(() => memmap(file, Object.defineProperty({ shape: [4] }, 'mode', getter('w+'))), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
      throwsCode(() => memmap(file, Object.defineProperty({}, 'shape', getter([1]))), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
      throwsCode(() => openNpy(npy, Object.defineProperty({}, 'mode', getter('w+'))), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
      throwsCode(() => readNpyHeader(npy, Object.defineProperty({}, 'maxHeaderSize', getter(0))), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
      const a = memmap(file);
      const [first] = a.segments(Object.defineProperty({}, 'maxBytes', { enumerable: false, get: () => (ran++, 1) }));
      assert.equal(first.length, 64, 'a non-enumerable own property is not an option');
      a.close();
      assert.equal(ran, 0);
      assert.equal(fingerprint(file), before);
      assert.equal(fingerprint(npy), npyBefore);
    });

    it('inherited, non-enumerable and symbol-keyed properties are not options; own undefined is absent', function () {
      const [file, before] = victim();
      class Opts {
        get mode() {
          return 'w+';
        }
      }
      const cases = [
        new Opts(),
        Object.create({ mode: 'w+', shape: [1] }),
        Object.defineProperty({}, 'mode', { value: 'w+', enumerable: false }),
        { [Symbol('mode')]: 'w+' },
        { mode: undefined, dtype: undefined, shape: undefined, offset: undefined, order: undefined },
        Object.assign(Object.create(null), { mode: 'r' }),
        [],
      ];
      for (const options of cases) {
        const a = memmap(file, options);
        assert.deepEqual([a.mode, a.dtype, a.shape, a.offset], ['r', 'uint8', [64], 0]);
        a.close();
      }
      assert.equal(fingerprint(file), before);
    });

    it("Proxies as options: traps that throw give ERR_INVALID_ARG_VALUE with the trap's error as cause; get traps are never used", function () {
      const [file, before] = victim();
      const boom = new Error('trap');
      for (const trap of ['ownKeys', 'getOwnPropertyDescriptor']) {
        const p = new Proxy({ mode: 'r' }, { [trap]: thrower(boom) });
        const err = throwsCode(() => memmap(file, p), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
        assert.equal(err.cause, boom);
        assert.equal(throwsCode(() => openNpy(file, p), 'ERR_INVALID_ARG_VALUE', MemmapTypeError).cause, boom);
        assert.equal(throwsCode(() => readNpyHeader(file, p), 'ERR_INVALID_ARG_VALUE', MemmapTypeError).cause, boom);
        const a = memmap(file);
        assert.equal(throwsCode(() => a.segments(p).next(), 'ERR_INVALID_ARG_VALUE', MemmapTypeError).cause, boom);
        a.close();
      }
      const { proxy: revoked, revoke } = Proxy.revocable({}, {});
      revoke();
      throwsCode(() => memmap(file, revoked), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
      // a get trap that lies about mode is not consulted: only own data properties count
      const liar = new Proxy({}, { get: (t, k) => (k === 'mode' ? 'w+' : k === 'shape' ? [1] : undefined) });
      const a = memmap(file, liar);
      assert.equal(a.mode, 'r');
      a.close();
      assert.equal(fingerprint(file), before);
    });
  });

  describe("8. a failed 'r+' open shrinks the file it grew back (child under ulimit -v)", function () {
    it('16 GiB r+ over a 4 KiB file (memmap() and openNpy()): ENOMEM, same size, sha256 and mtime (to the ns); failed copies: ERR_TOO_LARGE', function () {
      if (process.platform !== 'linux') this.skip();
      if (process.env.MEMMAP_SANITIZER) this.skip(); // ASan reserves terabytes of address space
      const root = path.join(__dirname, '..');
      // the smallest limit under which node starts and loads memmap here
      const kb = [4000000, 6000000, 8000000, 12000000].find(
        (n) => spawnSync('sh', ['-c', `ulimit -v ${n} && exec "$0" -e "require(process.argv[1])" "$1"`, process.execPath, root]).status === 0,
      );
      if (kb === undefined) this.skip();
      const dir = fs.mkdtempSync(path.join(tmp.dir, 'ulimit-'));
      const r = runFixture('contract-ulimit.js', [dir], { prefix: ['sh', '-c', `ulimit -v ${kb} && exec "$0" "$@"`] });
      const out = JSON.parse(expectCleanExit(r));
      if (!/\d/.test(out.limit) || /unlimited\s+unlimited/.test(out.limit)) this.skip();
      for (const [name, { result, before, after }] of Object.entries(out.growth)) {
        assert.equal(result.memmapError, true, `${name}: ${JSON.stringify(result)}`);
        assert.equal(result.code, 'ENOMEM', name);
        assert.deepEqual(after, before, `${name}: the file changed`);
      }
      // openNpy('w+') sizes the file before mapping: a failed mapping leaves a complete .npy
      assert.equal(out.wplus.result.code, 'ENOMEM');
      assert.deepEqual(out.wplus.header, { shape: [2 ** 31], dataOffset: 128, byteLength: 2 ** 34 });
      assert.equal(out.wplus.size, 128 + 2 ** 34);
      assert.equal(out.allocation.read.code, 'ERR_TOO_LARGE');
      assert.equal(out.allocation.read.memmapError, true);
      assert.equal(out.allocation.gather.code, 'ERR_TOO_LARGE');
      assert.deepEqual(out.smallOpenAfterwards, { ok: true });
    });
  });
});
