'use strict';
// The native full sum against numpy's a[idx].sum(dtype=float64) (complex:
// complex128) bit for bit: random views (fixed seeds) of every float and
// complex dtype in both byte orders (C/F bases, transposes, negative and
// partial slices, as_strided views with zero and overlapping strides,
// unaligned data), with 1, 2, 3 and the default number of threads, over a
// mapping and over heap bytes. The large views (over 1M elements) make the
// threads split the work. Where exactness is out of reach: a NaN result's
// payload (JavaScript numbers do not keep it), numpy's buffer size when a
// program changes it with np.setbufsize() (8192, the default, is assumed),
// and numpy before 2.3 (whose iterator chunked buffers differently).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { native } = require('../dist/binding');
const { useTmpDir } = require('./helpers/tmp');
const { numpyJSON } = require('./helpers/numpy');
const { runFixture } = require('./helpers/child');
const { skipOnWindows } = require('./helpers/platform');

// Writes random float/complex data to one file (one region per dtype and byte
// order, plus unaligned and special-value regions) and reports random views
// of it: byte offset, shape, strides, and numpy's sum as the bits of float64s.
const PY = `
import struct
path, seed, ncases, nbig, base_len = args()
rng = np.random.default_rng(seed)
codes = ['f2', 'f4', 'f8', 'c8', 'c16']
bases = {}
parts = []
pos = 0

def put(key, dt, values, misalign=0):
    global pos
    a = values.astype(dt)
    pos = (pos + 63) // 64 * 64 + misalign
    parts.append((pos, a.tobytes()))
    bases[key] = (pos, dt, a.size)
    pos += a.nbytes

def randn(dt, n):
    if dt.kind == 'c':
        return rng.standard_normal(n) * 10 ** rng.uniform(-6, 6, n) + 1j * rng.standard_normal(n) * 10 ** rng.uniform(-6, 6, n)
    if dt.itemsize == 2:
        return rng.standard_normal(n) * 10 ** rng.uniform(-2, 2, n)
    return rng.standard_normal(n) * 10 ** rng.uniform(-6, 6, n)

for code in codes:
    for bo in '<>':
        dt = np.dtype(bo + code)
        put((code, bo, 0), dt, randn(dt, base_len))
for code in ['f8', 'c16', 'f4']:
    dt = np.dtype('<' + code)
    put((code, '<', 1), dt, randn(dt, 100000), misalign=int(rng.integers(1, 4)))
special = np.array([-0.0] * 40 + [np.inf, 1.0, -np.inf, np.nan, 2.0, -0.0, 5e-324, -5e-324])
put(('f8', '<', 'special'), np.dtype('<f8'), special)
put(('f4', '>', 'special'), np.dtype('>f4'), special)
put(('f2', '<', 'special'), np.dtype('<f2'), np.concatenate([special, rng.standard_normal(5000) * 1e-6]))
with open(path, 'wb') as f:
    for start, b in parts:
        f.seek(start)
        f.write(b)
mm = np.memmap(path, dtype=np.uint8, mode='r')
addr0 = mm.__array_interface__['data'][0]
keys = [k for k in bases if k[2] != 'special']

def flat_of(key):
    start, dt, n = bases[key]
    return np.ndarray((n,), dt, buffer=mm, offset=start)

def random_view(key, big):
    flat = flat_of(key)
    n = flat.size
    nd = int(rng.integers(1, 4))
    total = int(rng.integers(1100000, n)) if big else int(np.exp(rng.uniform(0, np.log(min(n, 200000)))))
    shape = []
    rem = total
    for k in range(nd - 1):
        s = max(int(np.exp(rng.uniform(0, np.log(max(rem, 1)) * 0.8))), 1)
        shape.append(s)
        rem = max(rem // s, 1)
    shape.append(rem)
    rng.shuffle(shape)
    size = int(np.prod(shape))
    off = int(rng.integers(0, n - size + 1))
    base = flat[off:off + size].reshape(shape, order='C' if rng.random() < 0.5 else 'F')
    if rng.random() < 0.3:
        base = base.transpose(rng.permutation(nd))
    if big:
        return base[tuple(slice(None, None, int(rng.choice([1, -1]))) for _ in range(nd))]
    if rng.random() < 0.15:
        isz = flat.itemsize
        nd2 = int(rng.integers(1, 4))
        shp = [int(rng.integers(1, 60)) for _ in range(nd2)]
        st = [int(rng.choice([0, 1, 1, 2, 3, -1, -2, 5, 7, 40])) * isz for _ in range(nd2)]
        lo = sum((m - 1) * s for m, s in zip(shp, st) if s < 0)
        hi = sum((m - 1) * s for m, s in zip(shp, st) if s > 0)
        if hi - lo < flat.nbytes:
            return np.lib.stride_tricks.as_strided(flat[-lo // isz:], shape=shp, strides=st)
    idx = []
    for k in range(nd):
        L = base.shape[k]
        step = int(rng.choice([1, 1, 1, 2, 3, -1, -1, -2, -3]))
        if rng.random() < 0.5:
            a = int(rng.integers(0, L))
            b = int(rng.integers(0, L + 1))
            if step < 0:
                a, b = max(a, b - 1), min(a, b - 1)
                if b < 0:
                    b = None
            idx.append(slice(a, b, step))
        else:
            idx.append(slice(None, None, step))
    v = base[tuple(idx)]
    return v.T if rng.random() < 0.1 else v

views = []
# Fixed shapes first: whole regions forwards and backwards (long runs that
# threads split along numpy's pairwise tree), long and short rows, 0-d.
for key in keys[:10]:
    flat = flat_of(key)
    views += [flat, flat[::-1], flat[:1200000].reshape(-1, 5000)[:, 1:], flat[:1200000].reshape(-1, 3)[::-1, :2]]
views += [flat_of(('f8', '<', 'special'))[:40], flat_of(('f8', '<', 'special')), flat_of(('f4', '>', 'special'))[::-1],
          flat_of(('f2', '<', 'special'))[:40], flat_of(('f2', '<', 'special'))[48:][::-3], flat_of(('f2', '<', 'special')),
          flat_of(('f8', '<', 0))[5:6].reshape(()), flat_of(('c16', '>', 0))[:0]]
# complex128 runs whose stride is not a multiple of 16 (numpy adds them one by one)
for bo in '<>':
    start, dt, n = bases[('c16', bo, 0)]
    views += [np.ndarray(shp, dt, buffer=mm, offset=start, strides=st)
              for shp, st in [((1000,), (24,)), ((3, 5000), (200000, 24)), ((50, 40), (1000, 8)), ((7,), (-8,))]]
for i in range(ncases):
    big = i < nbig
    views.append(random_view(keys[int(rng.integers(0, 10 if big else len(keys)))], big))

def bits(x):
    return struct.pack('<d', x).hex()

cases = []
for v in views:
    s = v.sum(dtype=np.complex128 if v.dtype.kind == 'c' else np.float64)
    want = [bits(s.real), bits(s.imag)] if v.dtype.kind == 'c' else [bits(s)]
    cases.append({'dtype': v.dtype.name, 'swap': not v.dtype.isnative,
                  'offset': v.__array_interface__['data'][0] - addr0,
                  'shape': list(v.shape), 'strides': list(v.strides), 'size': int(v.size), 'want': want})
emit(cases)
`;

function fromBits(hex) {
  return new DataView(Uint8Array.from(Buffer.from(hex, 'hex')).buffer).getFloat64(0, true);
}

const CODES = Object.fromEntries(native.tables.dtypes.map((d) => [d.name, d.code]));
const MODE_R = native.tables.modes.r;

function viewOf(c) {
  return new Float64Array([c.offset, c.shape.length, ...c.shape, ...c.strides]);
}

function asArray(r) {
  return r instanceof Float64Array ? [r[0], r[1]] : [r];
}

function describeCase(c) {
  return `${c.swap ? 'swapped ' : ''}${c.dtype} shape [${c.shape}] strides [${c.strides}] at ${c.offset}`;
}

describe('sum() is numpy’s a.sum(dtype=float64 / complex128) bit for bit', function () {
  const tmp = useTmpDir();
  const runs = [
    { seed: 11, ncases: 400, nbig: 12 },
    { seed: 12, ncases: 300, nbig: 8 },
  ];
  for (const { seed, ncases, nbig } of runs) {
    describe(`random views, seed ${seed}`, function () {
      let cases;
      let file;
      let mapping;
      before(function () {
        file = tmp.file(`sum-exact-${seed}.bin`);
        cases = numpyJSON(PY, [file, seed, ncases, nbig, 1300000]);
        const info = native.openFile(file, MODE_R);
        mapping = new native.Mapping(info[0], MODE_R, 0, info[1], 0);
        native.closeFile(info[0]);
      });
      after(function () {
        if (mapping) mapping.close();
      });

      it('covers what it claims (large views, every dtype and byte order)', function () {
        assert.ok(cases.length >= ncases);
        assert.ok(cases.filter((c) => c.size > 1 << 20).length >= nbig + 10);
        for (const dt of ['float16', 'float32', 'float64', 'complex64', 'complex128']) {
          for (const swap of [false, true]) assert.ok(cases.some((c) => c.dtype === dt && c.swap === swap && c.size > 1 << 20), `${dt} ${swap}`);
        }
      });

      it('a mapping’s sum equals numpy’s, with 1, 2, 3 and the default threads', function () {
        let matched = 0;
        for (const c of cases) {
          const want = c.want.map(fromBits);
          for (const threads of [1, 2, 3, undefined]) {
            const got = asArray(mapping.sum(CODES[c.dtype], c.swap, viewOf(c), threads));
            assert.equal(got.length, want.length);
            got.forEach((x, i) => assert.ok(Object.is(x, want[i]), `${describeCase(c)}, threads ${threads}: ${x} vs numpy ${want[i]}`));
          }
          matched++;
        }
        assert.equal(matched, cases.length);
      });

      it('heap bytes sum the same (sumBytes)', function () {
        const bytes = new Uint8Array(fs.readFileSync(file));
        for (const c of cases.filter((_, k) => k % 5 === 0 || _.size > 1 << 20)) {
          const want = c.want.map(fromBits);
          for (const threads of [1, 2]) {
            const got = asArray(native.sumBytes(bytes, CODES[c.dtype], c.swap, viewOf(c), threads));
            got.forEach((x, i) => assert.ok(Object.is(x, want[i]), `${describeCase(c)}, threads ${threads}: ${x} vs numpy ${want[i]}`));
          }
        }
      });
    });
  }

  it('integer sums do not depend on the thread count', function () {
    const n = 3 << 20;
    const bytes = new Uint8Array(n * 8);
    const words = new BigInt64Array(bytes.buffer);
    let x = 12345n;
    for (let i = 0; i < n; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      words[i] = BigInt.asIntN(64, x);
    }
    const view = new Float64Array([0, 1, n, 8]);
    const reversed = new Float64Array([8 * (n - 1), 1, n, -8]);
    const want = words.reduce((a, b) => BigInt.asIntN(64, a + b), 0n);
    for (const threads of [1, 2, 3, undefined]) {
      assert.equal(native.sumBytes(bytes, CODES.int64, false, view, threads), want);
      assert.equal(native.sumBytes(bytes, CODES.int64, false, reversed, threads), want);
    }
    const small = native.sumBytes(bytes, CODES.int16, true, new Float64Array([0, 2, 1024, 3 * 1024, 8 * 3 * 1024, 2]), 1);
    for (const threads of [2, 3]) {
      assert.equal(native.sumBytes(bytes, CODES.int16, true, new Float64Array([0, 2, 1024, 3 * 1024, 8 * 3 * 1024, 2]), threads), small);
    }
  });

  it('every thread sums under the SIGBUS guard: a truncated file is ERR_SIGBUS (child process, 3 threads)', function () {
    skipOnWindows(this, 'Windows refuses to shrink a mapped file (error 1224), so no page is lost to truncation');
    const r = runFixture('sum-threads-sigbus.js', [tmp.file('trunc.bin')], { env: { ...process.env, MEMMAP_THREADS: '3' } });
    assert.equal(r.status, 0, `status ${r.status}, signal ${r.signal}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    const { firstPage, ...sums } = out;
    assert.equal(firstPage, true);
    assert.equal(Object.keys(sums).length, 6);
    for (const [dtype, codes] of Object.entries(sums)) assert.deepEqual(codes, ['ERR_SIGBUS', 'ERR_SIGBUS', 'ERR_SIGBUS'], dtype);
  });

  it('a bad thread count is refused', function () {
    const bytes = new Uint8Array(64);
    const view = new Float64Array([0, 1, 8, 8]);
    for (const bad of [-1, 1.5, NaN, 'x']) {
      assert.throws(() => native.sumBytes(bytes, CODES.float64, false, view, bad), { code: 'ERR_INVALID_ARG_VALUE' });
    }
  });
});
