'use strict';
// ZarrArray's mapped-array API (issue 13): reductions chunk by chunk (every op, every axis) against numpy over the
// assembled array, bit for bit; async twins (signal, close during the call); view(); iteration; printing; data.
// Arrays are multi-chunk with ragged edge chunks and chunks never written (fill value), raw and compressed, v3
// (sharded too) and v2 in F order with big-endian chunks.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { inspect } = require('node:util');
const { createZarr, openZarr, memmap, MemmapError } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { skipOnWindows } = require('./helpers/platform');
const { numpyJSON } = require('./helpers/numpy');

const OPS = ['sum', 'prod', 'mean', 'var', 'std', 'min', 'max', 'argmin', 'argmax', 'any', 'all', 'countNonzero', 'nansum', 'nanmean', 'nanvar', 'nanstd', 'nanmin', 'nanmax', 'nanargmin', 'nanargmax'];
const ARG = new Set(['argmin', 'argmax', 'nanargmin', 'nanargmax']);

// Each case: the array written (values from numpy, `region`: the part written, the rest stays the fill value).
const CASES = [
  { name: 'v3-raw-f4', dtype: 'float32', shape: [37, 53], chunks: [8, 10], fill: 1.5, region: [[0, 30], [0, 45]] },
  { name: 'v3-shard-gzip-f8', dtype: 'float64', shape: [9, 14, 11], chunks: [4, 5, 3], shards: [8, 10, 6], compressor: 'gzip', fill: 0, region: [[0, 9], [2, 14], [0, 7]] },
  { name: 'v2-zlib-F-i2', dtype: 'int16', shape: [23, 17], chunks: [5, 6], zarrFormat: 2, order: 'F', compressor: 'zlib', fill: 7, region: [[3, 23], [0, 12]] },
  { name: 'v2-raw-F-be-f8', dtype: '>f8', shape: [19, 21], chunks: [6, 4], zarrFormat: 2, order: 'F', fill: -2, region: [[0, 19], [0, 21]] },
  // Rows longer than numpy's 8192-element cast buffer: float32 sums add in 8192-element pieces along each row.
  { name: 'v3-raw-f4-long', dtype: 'float32', shape: [5, 20011], chunks: [2, 4096], fill: 0, region: [[0, 5], [0, 20011]] },
  { name: 'v3-raw-u1', dtype: 'uint8', shape: [40, 3], chunks: [7, 2], fill: 0, region: [[5, 40], [0, 3]] },
];

const GEN = `
cases, where = json.loads(sys.argv[1]), sys.argv[2]
out = {}
rng = np.random.default_rng(13)
for c in cases:
    dt = np.dtype(c['dtype'])
    shape = tuple(c['shape'])
    n = int(np.prod(shape))
    if dt.kind == 'f':
        v = (rng.standard_normal(n) * 1000).astype(dt)
        v[::13] = np.nan
        v[5::17] = 0
    elif dt.kind == 'u':
        v = rng.integers(0, 4, n).astype(dt)
    else:
        v = rng.integers(-300, 300, n).astype(dt)
        v[::9] = 0
    full = np.full(shape, c['fill'], dtype=dt)
    r = tuple(slice(a, b) for a, b in c['region'])
    full[r] = v.reshape(shape)[r]
    v.astype(dt.newbyteorder('<')).tofile(os.path.join(where, c['name'] + '.values'))
    full.astype(dt.newbyteorder('<')).tofile(os.path.join(where, c['name'] + '.full'))
    out[c['name']] = True
emit(out)
`;

// numpy over the assembled array: every op along every axis choice, keepdims=True, as little-endian bytes.
const REF = `
cases = json.loads(sys.argv[1])
out = {}
for c in cases:
    dt = np.dtype(c['dtype']).newbyteorder('<')
    a = np.fromfile(c['full'], dtype=dt).reshape(c['shape'])
    acc = np.float64 if dt.kind == 'f' else None
    res = {}
    for ax in c['axes']:
        axis = None if ax is None else (tuple(ax) if isinstance(ax, list) else ax)
        for op in c['ops']:
            key = op + ':' + json.dumps(ax, separators=(',', ':'))
            if 'arg' in op and isinstance(ax, list):
                continue
            try:
                with np.errstate(all='ignore'):
                    import warnings
                    with warnings.catch_warnings():
                        warnings.simplefilter('ignore')
                        if op == 'countNonzero':
                            r = np.count_nonzero(a, axis=axis, keepdims=True)
                        elif op in ('argmin', 'argmax', 'nanargmin', 'nanargmax'):
                            r = getattr(np, op)(a, axis=axis, keepdims=True)
                        elif op in ('min', 'max', 'nanmin', 'nanmax', 'any', 'all'):
                            r = getattr(np, op)(a, axis=axis, keepdims=True)
                        elif op in ('mean', 'nanmean', 'var', 'nanvar', 'std', 'nanstd'):
                            r = getattr(np, op)(a, axis=axis, keepdims=True, dtype=np.float64)
                        else:
                            r = getattr(np, op)(a, axis=axis, keepdims=True, dtype=acc)
                r = np.asarray(r)
                res[key] = r.astype(r.dtype.newbyteorder('<')).tobytes().hex()
            except ValueError as e:
                res[key] = 'error'
    out[c['name']] = res
emit(out)
`;

function axesFor(ndim) {
  const list = [null];
  for (let d = 0; d < ndim; d++) list.push(d);
  list.push(-1);
  if (ndim >= 2) list.push([0, ndim - 1]);
  if (ndim >= 3) list.push([0, 1]);
  return list;
}

const hex = (t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('hex');

describe('ZarrArray reductions chunk by chunk, against numpy over the assembled array', function () {
  this.timeout(300000);
  const tmp = useTmpDir();
  const arrays = {};
  let ref;

  before(function () {
    numpyJSON(GEN, [JSON.stringify(CASES), tmp.dir]);
    const reqs = [];
    for (const c of CASES) {
      const dir = tmp.file(c.name);
      const z = createZarr(dir, { shape: c.shape, dtype: c.dtype, chunks: c.chunks, shards: c.shards, compressor: c.compressor ?? null, zarrFormat: c.zarrFormat, order: c.order, fillValue: c.fill });
      const src = fs.readFileSync(tmp.file(`${c.name}.values`));
      const T = z.read().constructor;
      const all = new T(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
      // Write only the region, row-slab by row-slab of the first axis.
      const [r0, ...rest] = c.region;
      const rowLen = c.shape.slice(1).reduce((x, y) => x * y, 1);
      for (let i = r0[0]; i < r0[1]; i++) {
        const row = openRow(all, i, rowLen, c.shape.slice(1));
        const sel = rest.map(([a, b]) => [a, b]);
        z.write(i, ...sel, pick(row, c.shape.slice(1), rest));
      }
      z.close();
      arrays[c.name] = openZarr(dir);
      const full = arrays[c.name].read();
      assert.ok(Buffer.from(full.buffer).equals(fs.readFileSync(tmp.file(`${c.name}.full`))), `${c.name}: the array memmap assembles is numpy's`);
      reqs.push({ name: c.name, dtype: c.dtype, shape: c.shape, full: tmp.file(`${c.name}.full`), axes: axesFor(c.shape.length), ops: OPS });
    }
    ref = numpyJSON(REF, [JSON.stringify(reqs)]);
  });
  after(() => {
    for (const a of Object.values(arrays)) a.close();
  });

  for (const c of CASES) {
    it(`${c.name}: every reduction along every axis (keepdims) has numpy's bytes`, function () {
      const a = arrays[c.name];
      let checked = 0;
      for (const ax of axesFor(c.shape.length)) {
        for (const op of OPS) {
          const want = ref[c.name][`${op}:${JSON.stringify(ax)}`];
          if (ARG.has(op) && Array.isArray(ax)) continue; // one axis or all
          const call = () => a[op]({ axis: ax, keepdims: true });
          if (want === 'error') {
            assert.throws(call, MemmapError, `${op} axis ${JSON.stringify(ax)}`);
            continue;
          }
          let got;
          try {
            got = call();
          } catch (err) {
            // numpy's nanargmin of an all-NaN slice raises too (ValueError in numpy 2.x: 'error' above), or warns.
            throw new Error(`${op} axis ${JSON.stringify(ax)}: ${err.code} ${err.message}`, { cause: err });
          }
          assert.equal(hex(got.read()), want, `${op} axis ${JSON.stringify(ax)}`);
          checked++;
        }
      }
      assert.ok(checked > 50);
    });

    it(`${c.name}: scalar results are the in-memory array's, and a view's reductions its selection's`, function () {
      const a = arrays[c.name];
      const mem = a.copy();
      for (const op of OPS) {
        let want;
        try {
          want = mem[op]();
        } catch (err) {
          throwsCode(() => a[op](), err.code);
          continue;
        }
        assert.deepEqual(a[op](), want, op);
      }
      const index = [[1, null, 2], ...c.shape.slice(1).map(() => [null, null, -1])];
      const v = a.view(...index);
      const copy = a.copy(...index);
      for (const op of ['sum', 'min', 'argmax', 'countNonzero', 'mean', 'nanmax']) {
        const opt = { axis: c.shape.length - 1 };
        assert.equal(hex(v[op](opt).read()), hex(copy[op](opt).read()), `${op} of a view`);
        assert.equal(hex(a[op](...index, opt).read()), hex(copy[op](opt).read()), `${op} of a selection`);
      }
    });
  }

  it('sum()/mean()/var()/std() of everything past one 2^20-element leaf: numpy\'s bits (pairwise halves; 8192-element buffers when cast)', function () {
    const shape = [1500, 1501];
    const want = {};
    const got = {};
    for (const dtype of ['float64', 'float32', 'complex128']) {
      const dir = tmp.file(`big-${dtype}`);
      const z = createZarr(dir, { shape, dtype, chunks: [256, 200], fillValue: 0 });
      const T = z.read([0, 1]).constructor;
      const lanes = dtype === 'complex128' ? 2 : 1;
      const v = T.from({ length: 1400 * 1501 * lanes }, (_, i) => Math.sin(i) * 1e4 + (i % 7) * 1e-3);
      z.write([0, 1400], null, v); // rows 1400.. stay the fill value
      z.close();
      const a = openZarr(dir);
      got[dtype] = [a.sum(), a.mean(), a.sum([3, 1499], [null, null, -2]), a.var(), a.std({ ddof: 1 })];
      const m = a.copy();
      // var/std: against numpy only (the in-memory float32 var() of this array is 1 ulp off numpy's, a kernel issue).
      assert.deepEqual(got[dtype].slice(0, 3), [m.sum(), m.mean(), a.copy([3, 1499], [null, null, -2]).sum()], `${dtype}: the in-memory array's`);
      fs.writeFileSync(tmp.file(`big-${dtype}.raw`), Buffer.from(a.read().buffer));
      a.close();
    }
    Object.assign(
      want,
      numpyJSON(
        `
out = {}
for dt in ['float64', 'float32', 'complex128']:
    a = np.fromfile(os.path.join(sys.argv[1], 'big-' + dt + '.raw'), dtype=dt).reshape(1500, 1501)
    acc = np.complex128 if dt == 'complex128' else np.float64
    r = [a.sum(dtype=acc), a.mean(dtype=acc), np.ascontiguousarray(a[3:1499, ::-2]).sum(dtype=acc)]  # zarr's z[...] is a contiguous copy
    out[dt] = [[float(x.real), float(x.imag)] if dt == 'complex128' else float(x) for x in r] + [float(a.var(dtype=None if dt == 'complex128' else np.float64)), float(a.std(dtype=None if dt == 'complex128' else np.float64, ddof=1))]
emit(out)
`,
        [tmp.dir],
      ),
    );
    for (const dtype of ['float64', 'float32']) assert.deepEqual(got[dtype], want[dtype], dtype);
    assert.deepEqual(got.complex128.map((c) => (typeof c === 'number' ? c : [c.re, c.im])), want.complex128, 'complex128');
  });

  it('out: a TypedArray or an array of the result, filled and returned; a wrong one refused before any work', function () {
    const a = arrays['v3-raw-f4'];
    const out = new Float64Array(53);
    assert.equal(a.sum({ axis: 0, out }), out);
    assert.equal(hex(out), hex(a.sum({ axis: 0 }).read()));
    throwsCode(() => a.min({ axis: 0, out: new Float64Array(53) }), 'ERR_INVALID_ARG_TYPE');
    throwsCode(() => a.max({ axis: 0, out: new Float32Array(52) }), 'ERR_SHAPE_MISMATCH');
  });
});

function openRow(all, i, rowLen) {
  return all.subarray(i * rowLen, (i + 1) * rowLen);
}

/** The region `rest` ([start, stop) per axis) of a C-order row of shape `shape`, C order. */
function pick(row, shape, rest) {
  const out = [];
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
  const walk = (d, off) => {
    if (d === shape.length) return out.push(row[off]);
    for (let i = rest[d][0]; i < rest[d][1]; i++) walk(d + 1, off + i * strides[d]);
  };
  walk(0, 0);
  return new row.constructor(out);
}

describe('ZarrArray view(), iteration, printing, data', function () {
  const tmp = useTmpDir();
  let z;
  let full;
  before(() => {
    z = createZarr(tmp.file('p'), { shape: [6, 7], dtype: 'float32', chunks: [4, 3], fillValue: 0 });
    full = new Float32Array(42).map((_, i) => i / 4);
    z.write(full);
  });
  after(() => z.close());

  it('view() composes with every call: get, read, gather, write, nested views, reductions', function () {
    const v = z.view([1, 6, 2], [null, null, -2]); // rows 1,3,5; columns 6,4,2,0
    assert.deepEqual(v.shape, [3, 4]);
    assert.equal(v.get(1, 1), full[3 * 7 + 4]);
    assert.deepEqual([...v.read(2)], [5 * 7 + 6, 5 * 7 + 4, 5 * 7 + 2, 5 * 7].map((i) => full[i]));
    assert.deepEqual([...v.gather([0, 2], [-1, 0])], [full[7], full[5 * 7 + 6]]);
    const w = v.view(1, [1, 3]); // row 3, columns 4, 2
    assert.deepEqual(w.shape, [2]);
    assert.deepEqual([...w.read()], [full[3 * 7 + 4], full[3 * 7 + 2]]);
    w.write(new Float32Array([-1, -2]));
    assert.equal(z.get(3, 4), -1);
    assert.equal(z.get(3, 2), -2);
    w.set(0, 9);
    assert.equal(z.get(3, 4), 9);
    assert.equal(v.max(), Math.max(...v.read()));
    throwsCode(() => v.get(3, 0), 'ERR_OUT_OF_RANGE');
    throwsCode(() => v.view(0, 0, 0), 'ERR_INVALID_INDEX');
    z.write(full);
  });

  it("views of empty selections read as empty with numpy's shapes (also strided, reversed, and views of them)", function () {
    // numpy: a[70:80].shape (0, 7); a[:, 5:5][1:3].shape (2, 0); a[3:1, ::2][:, 1:3].shape (0, 2)
    for (const [idx, shape, inner, innerShape] of [
      [[[70, 80]], [0, 7], [null, [1, 3]], [0, 2]],
      [[null, [5, 5]], [6, 0], [[1, 3]], [2, 0]],
      [[[3, 1], [null, null, 2]], [0, 4], [null, [1, 3]], [0, 2]],
      [[[1, 5, -1]], [0, 7], [[0, 0]], [0, 7]],
    ]) {
      const v = z.view(...idx);
      assert.deepEqual(v.shape, shape, JSON.stringify(idx));
      assert.equal(v.read().length, 0);
      assert.equal(v.sum(), 0);
      const w = v.view(...inner);
      assert.deepEqual(w.shape, innerShape, `${JSON.stringify(idx)} then ${JSON.stringify(inner)}`);
      assert.equal(w.read().length, 0);
    }
  });

  it('iterates over the first axis: views of an n-d array, values of a 1-d one; a 0-d one cannot', function () {
    const rows = [...z];
    assert.equal(rows.length, 6);
    assert.deepEqual([...rows[2].read()], [...full.subarray(14, 21)]);
    assert.deepEqual([...rows[2]], [...full.subarray(14, 21)]);
    throwsCode(() => [...z.view(0, 0)], 'ERR_ZERO_DIM');
  });

  it("prints as numpy's repr/str of the values (as the mapped array of the same values); closed: its description", function () {
    const m = memmap(tmp.file('m.f32'), { mode: 'w+', dtype: 'float32', shape: [6, 7] });
    m.data.set(full);
    const flat = (x) => x.replace(/\s+/g, ' ');
    assert.equal(flat(inspect(z)), flat(inspect(m).replace(/^memmap\(/, 'ZarrArray(')));
    assert.match(inspect(z), /^ZarrArray\(\[\[ 0\. {2},/);
    assert.equal(String(z), String(m));
    assert.equal(String(z.view(2)), String(m.view(2)));
    m.close();
    const c = openZarr(tmp.file('p'));
    c.close();
    assert.match(inspect(c), /^ZarrArray\(".*p", shape=\(6, 7\), dtype=float32, chunks=\(4, 3\), zarr_format=3, closed\)$/);
    assert.match(c.describe(), /closed/);
  });

  it('options whose Proxy traps close the array mid-call: ERR_CLOSED (sync) or a rejection (async), nothing crashes', async function () {
    const closing = (z, options) =>
      new Proxy(options, {
        getOwnPropertyDescriptor(t, k) {
          z.close();
          return Reflect.getOwnPropertyDescriptor(t, k);
        },
        get(t, k) {
          z.close();
          return Reflect.get(t, k);
        },
      });
    for (const op of ['sum', 'max', 'argmin', 'var']) {
      const c = openZarr(tmp.file('p'));
      throwsCode(() => c[op](closing(c, { axis: 0 })), 'ERR_CLOSED');
      const d = openZarr(tmp.file('p'));
      const p = d[`${op}Async`](closing(d, { keepdims: true }));
      assert.ok(p instanceof Promise);
      await p.then(
        () => assert.fail('resolved after close'),
        (err) => assert.equal(err.code, 'ERR_CLOSED'),
      );
    }
    // out's own getters closing the array: the result is refused or written, never to freed memory.
    const e = openZarr(tmp.file('p'));
    const out = new Proxy(new Float64Array(7), {});
    throwsCode(() => e.sum({ axis: 0, out }), 'ERR_INVALID_ARG_TYPE');
    e.close();
  });

  it('data throws ERR_ZARR_UNSUPPORTED with a hint; closing the array closes its views', function () {
    throwsCode(() => z.data, 'ERR_ZARR_UNSUPPORTED');
    const c = openZarr(tmp.file('p'));
    const v = c.view(1);
    const w = c.view(2);
    w.close();
    assert.equal(w.closed, true);
    assert.equal(v.closed, false);
    assert.equal(v.get(0), full[7]);
    c.close();
    assert.equal(v.closed, true);
    throwsCode(() => v.read(), 'ERR_CLOSED');
  });
});


/** Awaits `promise` and checks it rejects with a MemmapError of `code`; returns the error. */
async function rejectsCode(promise, code) {
  assert.ok(promise instanceof Promise, 'an async twin returns a Promise (never throws)');
  let err;
  await promise.then(
    () => assert.fail(`expected a rejection with ${code}`),
    (e) => {
      err = e;
    },
  );
  assert.ok(err instanceof MemmapError, `expected MemmapError ${code}, got ${err}`);
  assert.equal(err.code, code, err.message);
  return err;
}

describe('ZarrArray async twins', function () {
  this.timeout(120000);
  const tmp = useTmpDir();
  const LAYOUTS = [
    { name: 'raw', opts: {} },
    { name: 'gzip-sharded', opts: { compressor: 'gzip', shards: [64, 60] } },
    { name: 'v2-zlib-F', opts: { compressor: 'zlib', zarrFormat: 2, order: 'F' } },
  ];
  const SHAPE = [100, 90];
  const values = Float64Array.from({ length: SHAPE[0] * SHAPE[1] }, (_, i) => (i % 11 === 0 ? NaN : Math.cos(i) * 1e3));
  before(() => {
    for (const l of LAYOUTS) {
      const z = createZarr(tmp.file(l.name), { shape: SHAPE, dtype: 'float64', chunks: [16, 15], fillValue: 3, ...l.opts });
      z.write([0, 90], null, values.subarray(0, 90 * 90));
      z.close();
    }
  });

  for (const l of LAYOUTS) {
    it(`${l.name}: every reduction's twin, readAsync and gatherAsync give what the sync calls give`, async function () {
      const a = openZarr(tmp.file(l.name));
      try {
        for (const op of OPS) {
          for (const opts of [undefined, { axis: 0 }, { axis: 1, keepdims: true }]) {
            const args = [[3, 97, 2], null, ...(opts === undefined ? [] : [opts])];
            let want;
            try {
              want = a[op](...args);
            } catch (err) {
              await rejectsCode(a[`${op}Async`](...args), err.code);
              continue;
            }
            const got = await a[`${op}Async`](...args);
            if (typeof want === 'object' && want !== null && 'read' in want) assert.equal(hex(got.read()), hex(want.read()), `${op}Async ${JSON.stringify(opts)}`);
            else assert.deepEqual(got, want, `${op}Async`);
          }
        }
        assert.equal(hex(await a.readAsync([5, 70], [null, null, -3])), hex(a.read([5, 70], [null, null, -3])));
        assert.equal(hex(await a.readAsync(7, { signal: new AbortController().signal })), hex(a.read(7)));
        const ii = [0, 99, 50, -1, 17];
        const jj = [89, 0, 45, 3, -2];
        assert.equal(hex(await a.gatherAsync(ii, jj)), hex(a.gather(ii, jj)));
        assert.equal(hex(await a.gatherAsync(ii, jj, { signal: new AbortController().signal })), hex(a.gather(ii, jj)));
        const v = a.view([10, 80], 4);
        assert.equal(await v.sumAsync(), v.sum());
      } finally {
        a.close();
      }
    });

    it(`${l.name}: an aborted signal rejects with ERR_ABORTED (AbortError), before and during the call`, async function () {
      const a = openZarr(tmp.file(l.name));
      try {
        const ac = new AbortController();
        ac.abort(new Error('stop'));
        const err = await rejectsCode(a.sumAsync({ signal: ac.signal }), 'ERR_ABORTED');
        assert.equal(err.name, 'AbortError');
        await rejectsCode(a.readAsync({ signal: ac.signal }), 'ERR_ABORTED');
        await rejectsCode(a.gatherAsync([1], [2], { signal: ac.signal }), 'ERR_ABORTED');
        const during = new AbortController();
        const p = a.meanAsync({ axis: 0, signal: during.signal });
        during.abort();
        await rejectsCode(p, 'ERR_ABORTED');
        // A bad signal or option is a rejection too, never a throw.
        await rejectsCode(a.maxAsync({ signal: 'stop' }), 'ERR_INVALID_ARG_TYPE');
        await rejectsCode(a.readAsync({ bogus: 1 }), 'ERR_UNKNOWN_OPTION');
        await rejectsCode(a.minAsync({ axis: 5 }), 'ERR_INVALID_AXIS');
      } finally {
        a.close();
      }
    });

    it(`${l.name}: close() during async calls: they reject with ERR_CLOSED, later calls too, nothing crashes`, async function () {
      const a = openZarr(tmp.file(l.name));
      const calls = [a.sumAsync(), a.readAsync(), a.argmaxAsync({ axis: 1 }), a.gatherAsync([1, 2], [3, 4]), a.view(5).stdAsync()];
      a.close();
      const codes = (await Promise.allSettled(calls)).map((r) => (r.status === 'rejected' && r.reason instanceof MemmapError ? r.reason.code : r.status));
      assert.deepEqual(codes, calls.map(() => 'ERR_CLOSED'));
      await rejectsCode(a.sumAsync(), 'ERR_CLOSED');
      // Reopened, every value is still there.
      const b = openZarr(tmp.file(l.name));
      assert.equal(hex(await b.readAsync([0, 90])), hex(values.subarray(0, 90 * 90)));
      b.close();
    });
  }
});

describe('ZarrArray concurrent writers of one shard (a lock per shard file)', function () {
  this.timeout(120000);
  const tmp = useTmpDir();
  const { spawn } = require('node:child_process');
  const path = require('node:path');
  const PKG = path.join(__dirname, '..');
  // Child k opens the array 'r+' and writes inner chunk row k (k + 1 everywhere) a few times over, then closes.
  const CHILD = `
    const { openZarr } = require(${JSON.stringify(PKG)});
    const [dir, k] = [process.argv[1], Number(process.argv[2])];
    for (let round = 0; round < 4; round++) {
      const z = openZarr(dir, { mode: 'r+' });
      z.write([k * 4, k * 4 + 4], null, k + 1);
      z.close();
    }
  `;
  const run = (dir, k) =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, ['-e', CHILD, dir, String(k)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (status, signal) => resolve({ status, signal, err }));
    });

  it('a writer that found the raw shard missing, then created by another writer, writes into it in place (not a rebuilt copy)', function () {
    const dir = tmp.file('late');
    createZarr(dir, { shape: [8, 8], dtype: 'int32', chunks: [4, 8], shards: [8, 8], fillValue: 0 }).close();
    const b = openZarr(dir, { mode: 'r+' });
    const a = openZarr(dir, { mode: 'r+' });
    try {
      assert.equal(b.get(5, 0), 0); // b looks the shard up while it is missing
      a.write([0, 4], null, 1); // a creates the shard and writes its chunk in place
      b.write([4, 8], null, 2);
      b.close(); // b's chunk written: a's mapping must still be the shard's file
      a.write([0, 4], null, 3);
      a.flush();
    } finally {
      a.close();
      b.close();
    }
    const c = openZarr(dir);
    try {
      assert.deepEqual([c.get(0, 0), c.get(3, 7), c.get(4, 0), c.get(7, 7)], [3, 3, 2, 2]);
    } finally {
      c.close();
    }
  });

  for (const [name, opts] of [
    ['gzip shard (rebuilt and renamed by each writer)', { compressor: 'gzip' }],
    ['raw shard (created by the first writer, written in place)', {}],
  ]) {
    it(`${name}: six processes writing different inner chunks at once: every write lands, no lock is left`, async function () {
      if (opts.compressor) skipOnWindows(this, 'a rebuilt shard is renamed over a file the other writers have mapped, which Windows refuses (ERR_BUSY): one writer per compressed shard there (docs/zarr.md)');
      const dir = tmp.file(name.split(' ')[0]);
      // One shard of 6 x 1 inner chunks of 4 x 8: all six writers meet in one file.
      createZarr(dir, { shape: [24, 8], dtype: 'int32', chunks: [4, 8], shards: [24, 8], fillValue: 0, ...opts }).close();
      const results = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => run(dir, k)));
      for (const r of results) assert.deepEqual([r.status, r.signal], [0, null], r.err);
      const a = openZarr(dir);
      const got = a.read();
      for (let k = 0; k < 6; k++) assert.ok(got.subarray(k * 32, k * 32 + 32).every((x) => x === k + 1), `writer ${k}'s chunk`);
      a.close();
      const left = fs.readdirSync(dir, { recursive: true }).filter((f) => /\.lock|\.tmp|\.stale/.test(String(f)));
      assert.deepEqual(left, []);
    });
  }

  it('a lock left by a dead process is broken; a live one makes the writer wait, then ERR_ZARR_LOCKED', function () {
    const { withFileLock } = require('../dist/zarr-lock');
    const file = tmp.file('locked.bin');
    fs.writeFileSync(`${file}.lock`, '999999999 ' + require('node:os').hostname());
    assert.equal(withFileLock(file, () => 7), 7);
    assert.equal(fs.existsSync(`${file}.lock`), false);
    fs.writeFileSync(`${file}.lock`, `${process.pid} ${require('node:os').hostname()}`);
    throwsCode(() => withFileLock(file, () => 8, 200), 'ERR_ZARR_LOCKED');
    assert.equal(fs.existsSync(`${file}.lock`), true, 'a live holder keeps its lock');
    fs.rmSync(`${file}.lock`);
  });
});
