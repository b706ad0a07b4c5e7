'use strict';
// The native reductions (Storage.reduce: native.reduceBytes over heap bytes,
// Mapping.prototype.reduce over a file mapping) against numpy, for every op x
// dtype x byte order x C/F x index (negative steps, empty slices) x split of
// kept and reduced dims (the kept ones first, in any order). Integer, bool,
// min/max/arg and any/all/count results must equal numpy's bytes; float
// sums and means numpy's to rtol 1e-12 (most are bit for bit), var 1e-10.
// Thread counts 1, 2 and 3 give identical bytes on arrays big enough to
// split; hostile arguments are coded errors (in a child process).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { native } = require('../dist/binding');
const { parseDType } = require('../dist/dtype');
const { mapFile } = require('../dist/storage-mapped');
const { HeapStorage } = require('../dist/storage-heap');
const { useTmpDir } = require('./helpers/tmp');
const { numpyJSON } = require('./helpers/numpy');
const { CODES } = require('./helpers/dtypes');
const { expectCleanExit, runFixture } = require('./helpers/child');

const OPS = native.tables.reductions;
const TYPE = Object.fromEntries(native.tables.dtypes.map((r) => [r.name, r.code]));
const ITEMSIZE = Object.fromEntries(native.tables.dtypes.map((r) => [r.name, r.itemsize]));

// Writes the files and reports, for each case, the view descriptor and
// numpy's result (base64 bytes, native order) or the error it raises.
const PY = `
import base64, warnings
warnings.simplefilter('ignore')
d, codes, shape, offset, indexes, splits, big = args()
shape = tuple(shape)
rng = np.random.default_rng(11)
OPS = ['sum', 'prod', 'mean', 'var', 'min', 'max', 'argmin', 'argmax', 'any', 'all', 'count_nonzero',
       'nansum', 'nanmean', 'nanvar', 'nanmin', 'nanmax', 'nanargmin', 'nanargmax']

def out_types(dt, op):
    k = dt.kind
    if op in ('min', 'max', 'nanmin', 'nanmax'):
        return [dt.newbyteorder('=').name]
    if op.startswith('arg') or op.startswith('nanarg') or op == 'count_nonzero':
        return ['int64']
    if op in ('any', 'all'):
        return ['bool']
    if op in ('var', 'nanvar'):
        if k == 'c':
            return ['float32' if dt.itemsize == 8 else 'float64']
        return ['float64', 'float32'] if k == 'f' and dt.itemsize <= 4 else ['float64']
    if k == 'c':
        return ['complex128', 'complex64']
    if k == 'f':
        return ['float64', 'float32'] if op in ('sum', 'mean', 'nansum', 'nanmean') else ['float64']
    if op in ('mean', 'nanmean'):
        return ['float64']
    return ['uint64' if k == 'u' else 'int64', 'int32', 'float64']

def numpy_reduce(v, nk, op, out, ddof):
    red = tuple(range(nk, v.ndim))
    odt = np.dtype(out)
    if op.startswith('arg') or op.startswith('nanarg'):
        flat = v.reshape(v.shape[:nk] + (int(np.prod(v.shape[nk:])),))
        return getattr(np, op)(flat, axis=-1).astype(np.int64)
    if op in ('var', 'nanvar'):
        # numpy's var of complex accumulates in the input's precision (dtype None).
        acc = None if v.dtype.kind == 'c' else odt
        return np.asarray(getattr(np, op)(v, axis=red, dtype=acc, ddof=ddof)).astype(odt)
    if op in ('min', 'max', 'nanmin', 'nanmax', 'any', 'all'):
        return np.asarray(getattr(np, op)(v, axis=red))
    if op == 'count_nonzero':
        return np.asarray(np.count_nonzero(v, axis=red)).astype(np.int64)
    return np.asarray(getattr(np, op)(v, axis=red, dtype=odt))

def fill(dt, n, kind):
    if kind == 'full':
        return values(dt, n, rng, full=True)
    v = values(dt, n, rng, full=False)
    if dt.kind in 'fc':
        # A few NaN (in the real or the imaginary part), and ±0, ±inf in the floats' copies.
        idx = rng.choice(n, size=max(1, n // 40), replace=False)
        if dt.kind == 'c':
            v[idx[::2]] = complex(np.nan, 1)
            v[idx[1::2]] = complex(1, np.nan)
        else:
            v[idx] = np.nan
    return v

out = {'cases': []}
def emit_case(name, dt, a, raw, expr, kept, red, op, outname, ddof, kind, threads):
    v = eval('a[%s]' % expr) if expr else a
    perm = list(kept) + list(red)
    vt = v.transpose(perm)
    off = vt.__array_interface__['data'][0] - raw.__array_interface__['data'][0]
    case = {'file': name, 'dtype': dt.name, 'swap': not dt.isnative, 'view': [off, vt.ndim] + list(vt.shape) + list(vt.strides),
            'nkeep': len(kept), 'op': op, 'out': outname, 'ddof': ddof, 'what': '%s %s a[%s] kept %s red %s -> %s ddof %s %s' % (
            name, op, expr, kept, red, outname, ddof, kind), 'threads': threads}
    try:
        r = numpy_reduce(vt, len(kept), op, outname, ddof)
        r = np.ascontiguousarray(r).astype(np.dtype(outname).newbyteorder('='))
        case['expect'] = base64.b64encode(r.tobytes()).decode()
    except ValueError as e:
        case['error'] = 'ERR_ALL_NAN' if 'All-NaN' in str(e) else 'ERR_EMPTY_REDUCTION'
    out['cases'].append(case)

def make(name, dt, shp, order, kind):
    n = int(np.prod(shp))
    v = fill(dt, n, kind).reshape(shp)
    write_raw(name, v, order, offset, pad=b'\\x05')
    data = open(name, 'rb').read()
    raw = np.frombuffer(data, np.uint8)
    body = raw[offset:offset + n * dt.itemsize].view(dt)
    a = body.reshape(shp) if order == 'C' else body.reshape(shp[::-1]).T
    return a, raw

for code in codes:
    for bo in (['<', '>'] if np.dtype(code).itemsize > 1 else ['|']):
        dt = np.dtype(bo + code) if bo != '|' else np.dtype(code)
        for order in 'CF':
            for kind in ('small', 'full'):
                name = '%s/%s%s-%s-%s.arr' % (d, {'<': 'L', '>': 'B', '|': 'N'}[bo], code, order, kind)
                a, raw = make(name, dt, shape, order, kind)
                for expr in indexes:
                    for kept, red in splits:
                        for op in OPS:
                            if kind == 'full' and op in ('sum', 'prod', 'mean', 'var', 'nansum', 'nanmean', 'nanvar') and dt.kind in 'fc':
                                continue
                            for outname in out_types(dt, op):
                                emit_case(name, dt, a, raw, expr, kept, red, op, outname, 1 if op.endswith('var') and expr == '' else 0, kind, 0)

# Bigger arrays: threads 1, 2 and 3 must agree with each other (and numpy).
for i, (code, shp, expr, kept, red, ops) in enumerate(big):
    dt = np.dtype(code)
    name = '%s/big%d-%s-%s.arr' % (d, i, code, 'x'.join(map(str, shp)))
    a, raw = make(name, dt, tuple(shp), 'C', 'small')
    for op in ops:
        for outname in out_types(dt, op)[:1]:
            for threads in (1, 2, 3):
                emit_case(name, dt, a, raw, expr, kept, red, op, outname, 0, 'big', threads)
emit(out)
`;

const SPLITS = [
  [[0, 1, 2], []],
  [[0, 1], [2]],
  [[0, 2], [1]],
  [[1, 2], [0]],
  [[2, 0], [1]],
  [[0], [1, 2]],
  [[1], [2, 0]],
  [[2], [0, 1]],
  [[], [0, 1, 2]],
  [[], [2, 1, 0]],
];
const INDEXES = ['', '::-1, :, 1:6:2', ':, ::-2, ::-1', '1:, 2:2, :'];
const BIG = [
  ['<f4', [1200, 1000], '', [], [0, 1], ['sum', 'mean', 'var', 'max', 'argmax', 'nanmean', 'nansum', 'count_nonzero']],
  ['<f4', [1200, 1000], '', [1], [0], ['sum', 'mean', 'var', 'max', 'argmin', 'nanvar']],
  ['<f4', [1200, 1000], '', [0], [1], ['sum', 'mean', 'var', 'min', 'argmax', 'nanmax']],
  ['>f8', [1100, 1000], '::-1, ::3', [], [1, 0], ['sum', 'mean', 'var', 'min', 'nanargmin', 'prod']],
  ['<i2', [1200, 1000], '', [], [0, 1], ['sum', 'mean', 'var', 'max', 'argmax', 'prod']],
  ['<c8', [600, 1000], '', [1], [0], ['sum', 'mean', 'var', 'max', 'argmax']],
];

function rtolFor(c) {
  if (c.op.endsWith('var')) return c.out === 'float32' ? 2e-5 : 1e-10;
  if (c.out === 'float32' || c.out === 'complex64') return 2e-6;
  return 1e-12;
}

// Single-precision sums of values ~100 that cancel: an absolute term (their
// order may differ from numpy's, whose float32 rounding then differs).
// Complex parts compare relative to the number's magnitude (numpy's complex
// multiply uses FMA: a part that cancels differs in its low bits); a complex
// product that overflows or meets NaN may be inf in numpy and NaN here or
// the other way round (skipInfinite).
function closeFloats(got, want, rtol, atol, complex, skipInfinite) {
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) || g === w) continue;
    if (skipInfinite && !(Number.isFinite(g) && Number.isFinite(w))) continue;
    const scale = complex ? Math.max(...[want[i & ~1], want[i | 1]].map(Math.abs).filter((x) => !Number.isNaN(x))) : Math.abs(w);
    if (!(Math.abs(g - w) <= rtol * scale + atol)) return `[${i}] ${g} vs numpy ${w}`;
  }
  return null;
}

function typedOf(name, bytes) {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  if (name === 'float64' || name === 'complex128') return new Float64Array(buf);
  if (name === 'float32' || name === 'complex64') return new Float32Array(buf);
  return null;
}

describe('native reductions against numpy', function () {
  this.timeout(600000);
  const tmp = useTmpDir();
  let data;
  const storages = new Map();
  const stats = { cases: 0, exactFloat: 0, floatCases: 0 };

  before(function () {
    data = numpyJSON(PY, [tmp.dir, ...[CODES, [6, 5, 7], 16, INDEXES, SPLITS, BIG].map((x) => JSON.stringify(x))]);
  });

  after(function () {
    for (const s of storages.values()) for (const x of s) x.close();
    if (process.env.MEMMAP_REDUCE_STATS) console.log(stats);
  });

  function storagesFor(file, dtype) {
    if (!storages.has(file)) {
      const bytes = new Uint8Array(fs.readFileSync(file));
      const { storage } = mapFile({ filename: file, mode: 'r', dtype: parseDType(dtype), shape: [bytes.length / ITEMSIZE[dtype]], offset: 0, order: 'C', populate: false });
      storages.set(file, [new HeapStorage(bytes), storage]);
    }
    return storages.get(file);
  }

  function runCase(c, storage) {
    const view = Float64Array.from(c.view);
    let nout = 1;
    for (let k = 0; k < c.nkeep; k++) nout *= c.view[2 + k];
    const dst = new Uint8Array(nout * ITEMSIZE[c.out]);
    storage.reduce(TYPE[c.dtype], c.swap, view, c.nkeep, OPS[c.op], TYPE[c.out], c.ddof, c.threads, dst);
    return dst;
  }

  function check(c) {
    stats.cases++;
    for (const storage of storagesFor(c.file, c.dtype)) {
      if (c.error) {
        assert.throws(() => runCase(c, storage), (e) => e.code === c.error, `${c.what}: expected ${c.error}`);
        continue;
      }
      const got = runCase(c, storage);
      const want = Buffer.from(c.expect, 'base64');
      if (Buffer.from(got).equals(want)) {
        if (typedOf(c.out, got)) {
          stats.floatCases++;
          stats.exactFloat++;
        }
        continue;
      }
      const g = typedOf(c.out, got);
      const w = typedOf(c.out, new Uint8Array(want));
      const floatOp = ['sum', 'prod', 'mean', 'var', 'nansum', 'nanmean', 'nanvar'].includes(c.op);
      if (g && floatOp) {
        stats.floatCases++;
        const bad = closeFloats(g, w, rtolFor(c), c.out === 'float32' || c.out === 'complex64' ? 2e-3 : 0, c.out.startsWith('complex'), c.op === 'prod' && c.out.startsWith('complex'));
        assert.equal(bad, null, `${c.what}: ${bad}`);
      } else if (g && (c.op.endsWith('min') || c.op.endsWith('max'))) {
        // ±0 ties may keep the other zero than numpy's SIMD loops; NaN payloads may differ.
        for (let i = 0; i < w.length; i++) {
          assert.ok(g[i] === w[i] || (Number.isNaN(g[i]) && Number.isNaN(w[i])), `${c.what}: [${i}] ${g[i]} vs numpy ${w[i]}`);
        }
      } else if (c.dtype === 'float16' && (c.op.endsWith('min') || c.op.endsWith('max'))) {
        const half = (b, i) => b[2 * i] | (b[2 * i + 1] << 8);
        for (let i = 0; i < want.length / 2; i++) {
          const x = half(got, i);
          const y = half(want, i);
          const nan = (h) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
          assert.ok(x === y || (nan(x) && nan(y)) || ((x | y) & 0x7fff) === 0, `${c.what}: [${i}] ${x.toString(16)} vs numpy ${y.toString(16)}`);
        }
      } else {
        assert.deepEqual(Buffer.from(got), want, c.what);
      }
    }
  }

  it('every op x dtype x byte order x layout x view x axis split', function () {
    for (const c of data.cases) if (c.threads === 0) check(c);
  });

  it('threads 1, 2 and 3 give the same bytes (and numpy values) on big arrays', function () {
    const byKey = new Map();
    for (const c of data.cases) {
      if (c.threads === 0) continue;
      check(c);
      const [storage] = storagesFor(c.file, c.dtype);
      const key = `${c.what}`;
      const got = Buffer.from(runCase(c, storage));
      if (!byKey.has(key)) byKey.set(key, got);
      else assert.deepEqual(got, byKey.get(key), `${c.what}: threads ${c.threads}`);
    }
    assert.ok(byKey.size > 10);
  });

  it('empty reductions: identities and ERR_EMPTY_REDUCTION', function () {
    const bytes = new Uint8Array(64);
    const h = new HeapStorage(bytes);
    const view = Float64Array.from([0, 2, 3, 0, 8, 8]); // shape [3, 0]
    const f64 = (op) => {
      const dst = new Uint8Array(24);
      h.reduce(TYPE.float64, false, view, 1, OPS[op], TYPE.float64, 0, 1, dst);
      return Array.from(new Float64Array(dst.buffer));
    };
    assert.deepEqual(f64('sum'), [0, 0, 0]);
    assert.deepEqual(f64('prod'), [1, 1, 1]);
    assert.ok(f64('mean').every(Number.isNaN));
    assert.ok(f64('var').every(Number.isNaN));
    const b = new Uint8Array(3);
    h.reduce(TYPE.float64, false, view, 1, OPS.any, TYPE.bool, 0, 1, b);
    assert.deepEqual(Array.from(b), [0, 0, 0]);
    h.reduce(TYPE.float64, false, view, 1, OPS.all, TYPE.bool, 0, 1, b);
    assert.deepEqual(Array.from(b), [1, 1, 1]);
    for (const op of ['min', 'max', 'argmin', 'argmax', 'nanmin', 'nanmax', 'nanargmin', 'nanargmax']) {
      const out = op.includes('arg') ? 'int64' : 'float64';
      assert.throws(() => h.reduce(TYPE.float64, false, view, 1, OPS[op], TYPE[out], 0, 1, new Uint8Array(24)), (e) => e.code === 'ERR_EMPTY_REDUCTION', op);
    }
  });

  it('hostile arguments are coded errors, never a crash (child process)', function () {
    const r = runFixture('reduce-hostile.js', [tmp.dir]);
    expectCleanExit(r);
    assert.match(r.stdout, /hostile reduce ok/);
  });
});
