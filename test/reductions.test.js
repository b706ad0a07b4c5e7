'use strict';
// The reductions (sum … nanargmax, std/nanstd) cross-checked with numpy: every
// dtype in both byte orders, C and F files, whole arrays and views with
// negative steps, axes null / 0 / -1 / a list, keepdims; values with NaN,
// ±0, ±inf, min/max of each integer type. numpy's reference is the call with
// memmap's accumulator: dtype=float64 (complex128) for float sums, means and
// variances, numpy's own for integers. Exact ops (min/max/arg*/any/all/
// count_nonzero, integer sums) compare exactly; full float sums and means
// bit for bit; the other float results to 1e-12 relative.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { memmap, parseDType, MemmapArray, MemmapError } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { numpyJSON, fromNumpy, cIndices } = require('./helpers/numpy');
const { DESCRS } = require('./helpers/dtypes');

const OPS = ['sum', 'prod', 'mean', 'var', 'std', 'min', 'max', 'argmin', 'argmax', 'any', 'all', 'count_nonzero', 'nansum', 'nanmean', 'nanvar', 'nanstd', 'nanmin', 'nanmax', 'nanargmin', 'nanargmax'];
const METHOD = { count_nonzero: 'countNonzero' };
const ARG_OPS = new Set(['argmin', 'argmax', 'nanargmin', 'nanargmax']);
const EXACT_OPS = new Set(['min', 'max', 'argmin', 'argmax', 'any', 'all', 'count_nonzero', 'nanmin', 'nanmax', 'nanargmin', 'nanargmax']);
// [memmap index, the same in python]
const VIEWS = [
  [[], '()'],
  [[[null, null, -1], [1, null], [null, null, -2]], '(slice(None, None, -1), slice(1, None), slice(None, None, -2))'],
];
const AXES = [null, 0, -1, [0, 2]];
const SHAPE = [5, 4, 3];

const PY = `
cases = json.load(open(sys.argv[1]))
out = []
ACC = {'sum', 'prod', 'nansum', 'mean', 'nanmean', 'var', 'std', 'nanvar', 'nanstd'}
for n, c in enumerate(cases):
    dt = np.dtype(c['descr'])
    rng = np.random.default_rng(n)
    size = int(np.prod(c['shape']))
    a = values(dt, size, rng, full=c['full']).reshape(c['shape'])
    if not c['full'] and dt.kind in 'fc':
        a.flat[rng.integers(0, size, 4)] = np.nan
    write_raw(c['file'], a, c['order'])
    m = np.memmap(c['file'], dtype=dt, mode='r', shape=tuple(c['shape']), order=c['order'])
    v = m[eval(c['view'])]
    res = []
    for op, axis, keepdims in c['calls']:
        ax = tuple(axis) if isinstance(axis, list) else axis
        kw = {'axis': ax, 'keepdims': keepdims}
        if op in ACC:
            if dt.kind == 'c':
                kw['dtype'] = np.complex128
            elif dt.kind == 'f' or op in ('mean', 'nanmean', 'var', 'std', 'nanvar', 'nanstd'):
                kw['dtype'] = np.float64
        try:
            with np.errstate(all='ignore'):
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    r = getattr(np, op)(v, **kw)
            r = np.asarray(r)
            if op in ('var', 'std', 'nanvar', 'nanstd'):
                r = r.real  # numpy keeps the complex accumulator's dtype; the variance is real

            res.append({'descr': r.dtype.str, 'shape': list(r.shape), 'values': encode(r)})
        except Exception as e:
            res.append({'error': type(e).__name__})
    out.append(res)
emit(out)
`;

function flat(r) {
  const list = [];
  for (const idx of cIndices(r.shape)) list.push(r.get(...idx));
  return list;
}

function close(a, b, rtol) {
  if (typeof a === 'object' && a !== null) return close(a.re, b.re, rtol) && close(a.im, b.im, rtol);
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a) === BigInt(b);
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (rtol === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return Object.is(a, b) || (a === b && a !== 0);
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b)) + 1e-300;
}

describe('reductions cross-checked with numpy', function () {
  this.timeout(300000);
  const tmp = useTmpDir();
  let cases;
  let expected;

  before(() => {
    cases = [];
    let n = 0;
    for (const descr of DESCRS) {
      for (const order of ['C', 'F']) {
        for (const full of [true, false]) {
          for (const [index, pyView] of VIEWS) {
            const calls = [];
            for (const op of OPS) {
              if (EXACT_OPS.has(op) !== full) continue;
              for (const axis of AXES) {
                if (ARG_OPS.has(op) && Array.isArray(axis)) continue;
                calls.push([op, axis, false]);
              }
              if (!ARG_OPS.has(op)) calls.push([op, [0, 2], true]);
              else calls.push([op, 1, true]);
            }
            cases.push({ descr, order, full, index, view: pyView, shape: SHAPE, file: path.join(tmp.dir, `r${n++}.bin`), calls });
          }
        }
      }
    }
    const spec = path.join(tmp.dir, 'cases.json');
    fs.writeFileSync(spec, JSON.stringify(cases.map(({ index: _index, ...c }) => c)));
    expected = numpyJSON(PY, [spec]);
  });

  it('every reduction, dtype, byte order, layout, view and axis agrees with numpy', () => {
    let checked = 0;
    const failures = [];
    cases.forEach((c, n) => {
      const a = memmap(c.file, { dtype: c.descr, shape: c.shape, order: c.order, mode: 'r' });
      try {
        const v = a.view(...c.index);
        c.calls.forEach(([op, axis, keepdims], k) => {
          const want = expected[n][k];
          const opts = op === 'count_nonzero' && keepdims ? { axis, keepdims } : { axis, keepdims };
          const where = `${op}(${JSON.stringify(opts)}) of ${c.descr} ${c.order} view ${c.view}`;
          let got;
          try {
            got = v[METHOD[op] ?? op](opts);
          } catch (err) {
            if (want.error === undefined) failures.push(`${where}: threw ${err.code} ${err.message}`);
            else if (!(err instanceof MemmapError)) failures.push(`${where}: not a MemmapError`);
            checked++;
            return;
          }
          if (want.error !== undefined) {
            failures.push(`${where}: numpy raised ${want.error}, memmap returned`);
            return;
          }
          const dt = parseDType(want.descr);
          const exactFloat = !c.full && (op === 'sum' || op === 'mean') && axis === null;
          // nanvar of complex64: numpy subtracts and squares in place in complex64 (float32 roundings we need not copy bit for bit).
          const single = (op === 'nanvar' || op === 'nanstd') && c.descr.endsWith('c8');
          const rtol = EXACT_OPS.has(op) || exactFloat || dt.kind === 'i' || dt.kind === 'u' || dt.kind === 'b' ? 0 : single ? 1e-6 : 1e-12;
          const wantValues = want.values.map((x) => fromNumpy(dt, x));
          if (got instanceof MemmapArray) {
            if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) failures.push(`${where}: shape ${got.shape} != ${want.shape}`);
            else if (got.dtype !== dt.name) failures.push(`${where}: dtype ${got.dtype} != ${dt.name}`);
            else {
              const g = flat(got);
              for (let i = 0; i < g.length; i++) {
                if (!close(g[i], wantValues[i], rtol)) {
                  failures.push(`${where}: [${i}] ${String(g[i]?.re ?? g[i])} != ${String(wantValues[i]?.re ?? wantValues[i])}`);
                  break;
                }
              }
            }
          } else {
            if (want.shape.length !== 0) failures.push(`${where}: scalar, numpy shape ${want.shape}`);
            else if (!close(got, wantValues[0], rtol)) failures.push(`${where}: ${String(got?.re ?? got)} != ${String(wantValues[0]?.re ?? wantValues[0])}`);
          }
          checked++;
        });
      } finally {
        a.close();
      }
    });
    assert.ok(checked > 4000, `only ${checked} calls checked`);
    if (process.env.SHOW_ALL) console.log(failures.join("\n"));
    assert.deepEqual(failures.slice(0, 30), [], `${failures.length} of ${checked} disagree`);
  });
});

describe('var and std of a whole array past one task slice (2^18 elements): numpy bit for bit', function () {
  this.timeout(300000);
  const tmp = useTmpDir();

  // Writes `shape` elements of `descr` ('<f4', '<f8', '>f8', '<c16' (value(i) for each part), '<i4' (rounded)).
  function writeValues(file, descr, shape, value) {
    const complex = descr.includes('c');
    const size = Number(descr.slice(2)) / (complex ? 2 : 1);
    const count = shape.reduce((x, y) => x * y, 1) * (complex ? 2 : 1);
    const bytes = Buffer.alloc(count * size);
    for (let i = 0; i < count; i++) {
      const x = value(i);
      if (descr === '<i4') bytes.writeInt32LE(Math.round(x), 4 * i);
      else if (size === 4) bytes.writeFloatLE(x, 4 * i);
      else if (descr[0] === '<') bytes.writeDoubleLE(x, 8 * i);
      else bytes.writeDoubleBE(x, 8 * i);
    }
    fs.writeFileSync(file, bytes);
  }

  it('float32, float64 (both byte orders) and complex128, 1-d and 2-d, several lengths and patterns, any thread count', function () {
    const cases = [];
    for (const descr of ['<f4', '<f8', '>f8', '<c16']) {
      for (const shape of [[300000], [480000], [1000003], [60, 8000]]) {
        for (const seed of [1, 2, 3]) cases.push({ descr, shape, seed, file: path.join(tmp.dir, `v${cases.length}.bin`) });
      }
    }
    for (const c of cases) {
      const k = c.seed;
      writeValues(c.file, c.descr, c.shape, (i) => Math.sin(i * 0.001 * k + k) * 1000 + (i % (7 + k)) * 0.01);
    }
    const spec = path.join(tmp.dir, 'cases.json');
    fs.writeFileSync(spec, JSON.stringify(cases));
    const want = numpyJSON(
      `
out = []
for c in json.loads(open(sys.argv[1]).read()):
    a = np.fromfile(c['file'], dtype=c['descr']).reshape(c['shape'])
    # float32: numpy's default accumulates in float32; memmap's var is numpy's var(dtype=float64). Complex: the
    # default (a dtype of complex128 would cast the real squares back to complex, in buffers).
    acc = np.float64 if a.dtype.kind == 'f' else None
    out.append([float(a.var(dtype=acc)), float(a.std(dtype=acc, ddof=1))])
emit(out)
`,
      [spec],
    );
    const failures = [];
    cases.forEach((c, i) => {
      const a = memmap(c.file, { dtype: c.descr, shape: c.shape });
      try {
        for (const threads of [1, 2, 3, undefined]) {
          const got = [a.var({ threads }), a.std({ ddof: 1, threads })];
          if (!Object.is(got[0], want[i][0]) || !Object.is(got[1], want[i][1])) failures.push(`${c.descr} [${c.shape}] seed ${c.seed} threads ${threads}: ${got} vs numpy ${want[i]}`);
        }
      } finally {
        a.close();
      }
    });
    assert.deepEqual(failures, []);
  });

  it('views of several runs (strided, reversed, cut; C and F order, 3-d): one sum over the view in its memory order', function () {
    // numpy's var subtracts the mean into a new array laid out as the view is (order K) and sums that as one pairwise
    // sum; adding each run's sum one after the other differed in the last bit (a[::2] of float32, a[::-1] of float64).
    const views = {
      '2d': [[[null, null, 2]], [[null, null, -1]], [null, [null, null, 2]], [[null, null, -1], [null, null, -3]], [[10, 500], [7, 900, 5]], [[1, null, 3], 4]],
      '3d': [[[null, null, 2]], [null, [null, null, -1], [3, 290, 2]], [[null, null, -1], 7], [null, null, [null, null, 3]]],
    };
    const py = (item) => (item === null ? ':' : Array.isArray(item) ? item.map((x) => (x === null || x === undefined ? '' : String(x))).join(':') : String(item));
    const cases = [];
    for (const descr of ['<f4', '<f8', '>f8', '<c16', '<i4']) {
      for (const [kind, shape] of [['2d', [1200, 1000]], ['3d', [40, 50, 300]]]) {
        for (const order of ['C', 'F']) {
          for (const view of views[kind]) cases.push({ descr, shape, order, view, index: view.map(py).join(','), file: path.join(tmp.dir, `w-${descr[0] === '>' ? 'be' : 'le'}-${descr.slice(1)}-${kind}-${order}.bin`) });
        }
      }
    }
    const written = new Set();
    for (const c of cases) {
      if (written.has(c.file)) continue;
      written.add(c.file);
      const scale = c.descr === '<i4' ? 1000 : 1;
      writeValues(c.file, c.descr, c.shape, (i) => (Math.sin(i * 0.0007 + 1) * 1000 + (i % 9) * 0.01) * scale);
    }
    const spec = path.join(tmp.dir, 'views.json');
    fs.writeFileSync(spec, JSON.stringify(cases));
    const want = numpyJSON(
      `
out = []
for c in json.loads(open(sys.argv[1]).read()):
    a = np.fromfile(c['file'], dtype=c['descr']).reshape(c['shape'], order=c['order'])
    v = eval('a[' + c['index'] + ']')
    acc = np.float64 if a.dtype.kind == 'f' else None
    out.append([float(v.var(dtype=acc)), float(v.std(dtype=acc, ddof=1))])
emit(out)
`,
      [spec],
    );
    const failures = [];
    cases.forEach((c, i) => {
      const a = memmap(c.file, { dtype: c.descr, shape: c.shape, order: c.order });
      try {
        const v = a.view(...c.view);
        for (const threads of [1, 2, undefined]) {
          const got = [v.var({ threads }), v.std({ ddof: 1, threads })];
          if (!Object.is(got[0], want[i][0]) || !Object.is(got[1], want[i][1])) failures.push(`${c.descr} ${c.order} [${c.shape}][${c.index}] threads ${threads}: ${got} vs numpy ${want[i]}`);
        }
      } finally {
        a.close();
      }
    });
    assert.deepEqual(failures, []);
  });
});
