'use strict';
// Printing: util.inspect() and String() of an array are numpy's repr() and
// str() of the same file opened with np.load(mmap_mode='r'), character for
// character, for every dtype and byte order, 0-d to 3-d shapes, values that
// need scientific notation, nan/inf, and arrays big enough to be summarised
// (which must read only the pages of the elements shown).
const assert = require('node:assert/strict');
const path = require('node:path');
const { inspect } = require('node:util');
const { openNpy, memmap } = require('..');
const { DESCRS } = require('./helpers/dtypes');
const { numpyJSON } = require('./helpers/numpy');
const { sparseFile } = require('./helpers/sparse');
const { useTmpDir } = require('./helpers/tmp');
const { skipUnderWine } = require('./helpers/platform');

describe('printing: inspect() and String() are numpy\'s repr() and str()', function () {
  const tmp = useTmpDir();

  it('agrees with numpy on every dtype, byte order, shape and value style', function () {
    // Each case: a .npy file numpy writes, and the repr/str numpy prints for it opened as a memmap.
    const cases = numpyJSON(
      `
d = sys.argv[1]
descrs = json.loads(sys.argv[2])
rng = np.random.default_rng(7)
out = []
def add(name, a):
    f = os.path.join(d, name + '.npy')
    np.save(f, a)
    m = np.load(f, mmap_mode='r')
    out.append({'file': f, 'repr': repr(m), 'str': str(m)})
for descr in descrs:
    dt = np.dtype(descr)
    k = dt.kind
    tag = descr.replace('<', 'le').replace('>', 'be').replace('|', '')
    if k == 'b':
        base = rng.random(60) > 0.5
    elif k in 'iu':
        info = np.iinfo(dt)
        base = rng.integers(info.min, info.max, 60, dtype=dt.newbyteorder('='), endpoint=True)
    elif k == 'f':
        base = (rng.standard_normal(60) * 10).astype(dt)
    else:
        base = (rng.standard_normal(60) + 1j * rng.standard_normal(60)).astype(dt)
    base = base.astype(dt)
    add(tag + '-1d', base[:7])
    add(tag + '-2d', base[:24].reshape(4, 6))
    add(tag + '-3d', base[:60].reshape(3, 4, 5))
    add(tag + '-0d', base[3].reshape(()))
    add(tag + '-empty', base[:0].reshape(0, 3))
    add(tag + '-big', np.resize(base, (40, 30)))
    add(tag + '-wide', np.resize(base, 40))
    if k in 'fc':
        add(tag + '-small', (base[:8] * 1e-6).astype(dt))
        add(tag + '-large', (base[:8] * 1e9).astype(dt))
        add(tag + '-ints', np.arange(6).astype(dt))
        add(tag + '-thousands', (np.array([2.0, 1000.0, 3.5]) * (1 if dt.itemsize > 2 else 1)).astype(dt))
        add(tag + '-millions', np.array([2e6, 3e6, 1.5]).astype(dt))
        special = base[:6].copy()
        special[1] = np.nan
        special[3] = np.inf
        special[4] = -np.inf
        add(tag + '-special', special)
        add(tag + '-range', np.arange(2000).astype(dt))
add('f8-thirds', np.arange(12.0).reshape(3, 4) / 3)
add('f4-mixed', np.array([0.1, 1.5, -2.25, 100.0, 0.0], dtype=np.float32))
add('f8-neg-zero', np.array([-0.0, 0.0, 1.0]))
add('i8-long', np.arange(-40, 40, dtype=np.int64))
add('f8-1d-big', np.linspace(-1, 1, 3001))
add('u1-4d', np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5))
add('f4-range-1e7', np.array([1e7, 2.5e7], dtype=np.float32))
add('f8-range-1e7', np.array([1e7, 2.5e7]))
emit(out)
`,
      [tmp.dir, JSON.stringify(DESCRS)],
    );
    assert.ok(cases.length > 150, `${cases.length} cases`);
    let checked = 0;
    for (const c of cases) {
      const a = openNpy(c.file);
      try {
        assert.equal(inspect(a), c.repr, `${path.basename(c.file)} repr`);
        assert.equal(String(a), c.str, `${path.basename(c.file)} str`);
        checked++;
      } finally {
        a.close();
      }
    }
    assert.equal(checked, cases.length);
  });

  it('a closed array prints its description; printing a 24 GiB array reads only the pages it shows', function () {
    skipUnderWine(this, 'MapViewOfFile of a 24 GiB file fails (ENOMEM)');
    const file = tmp.file('big.f4');
    sparseFile(file, 24 * 2 ** 30);
    const a = memmap(file, { dtype: 'float32', shape: [2 ** 16, 2 ** 16 + 2 ** 15] });
    a.advise('random'); // no read-ahead: the pages resident are the pages read
    const text = inspect(a);
    assert.match(text, /^memmap\(\[\[0\., 0\., 0\., \.\.\., 0\., 0\., 0\.\],/);
    assert.match(text, /shape=\(65536, 98304\), dtype=float32\)$/);
    const r = a.residency();
    // 6 rows x 6 columns shown: at most 2 pages per row (its first and last 3 elements).
    assert.ok(r.residentPages >= 6 && r.residentPages <= 12, `${r.residentPages} pages resident after printing`);
    a.close();
    assert.equal(inspect(a), 'memmap(<closed>, shape=(65536, 98304), dtype=float32)');
    // A Proxy of an array, or an object inheriting from one, prints without throwing.
    assert.equal(typeof inspect(new Proxy(a, {})), 'string');
    assert.equal(typeof String(Object.create(a)), 'string');
    assert.equal(String(a), inspect(a));
  });
});
