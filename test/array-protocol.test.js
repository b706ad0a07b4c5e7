'use strict';
// An array behaves like one in JavaScript: length, tolist() (numpy's, checked
// against numpy), toArray(), JSON.stringify() (a description, not values), the
// is() type guard, and the refusals (0-d length, tolist() past its limit).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { memmap, openNpy, MemmapTypeError, MemmapRangeError } = require('..');
const { DESCRS } = require('./helpers/dtypes');
const { numpyJSON, fromNumpy } = require('./helpers/numpy');
const { throwsCode } = require('./helpers/assert');
const { sparseFile } = require('./helpers/sparse');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { parseDType } = require('..');

describe('array protocol: length, tolist(), toArray(), toJSON(), is()', function () {
  const tmp = useTmpDir();

  it('tolist() equals numpy\'s tolist() for every dtype and byte order, 0-d to 3-d', function () {
    const cases = numpyJSON(
      `
d = sys.argv[1]
out = []
rng = np.random.default_rng(3)
for descr in json.loads(sys.argv[2]):
    dt = np.dtype(descr)
    for shape in [(), (5,), (2, 3), (2, 0, 3), (2, 3, 4)]:
        n = int(np.prod(shape))
        a = values(dt, max(n, 1), rng, False)[:n].reshape(shape) if n else np.zeros(shape, dt)
        f = os.path.join(d, descr.replace('<', 'l').replace('>', 'b').replace('|', '') + '-' + 'x'.join(map(str, shape)) + '.npy')
        np.save(f, a)
        flat = encode(a)
        out.append({'file': f, 'descr': descr, 'shape': list(shape), 'flat': flat})
emit(out)
`,
      [tmp.dir, JSON.stringify(DESCRS)],
    );
    for (const c of cases) {
      const a = openNpy(c.file);
      const dt = parseDType(c.descr);
      const flat = c.flat.map((x) => fromNumpy(dt, x));
      const nest = (shape, k) => (shape.length === 0 ? [flat[k.i++]] : Array.from({ length: shape[0] }, () => (shape.length === 1 ? flat[k.i++] : nest(shape.slice(1), k))));
      const expected = c.shape.length === 0 ? flat[0] : nest(c.shape, { i: 0 });
      assert.deepEqual(a.tolist(), expected, `${c.file}`);
      if (c.shape.length > 0) assert.equal(a.length, c.shape[0]);
      else throwsCode(() => a.length, 'ERR_ZERO_DIM', MemmapTypeError);
      assert.deepEqual(a.toArray(), a.read());
      a.close();
    }
  });

  it('JSON.stringify() gives the documented description, never the values', function () {
    const file = tmp.file('j.f4');
    fs.writeFileSync(file, Buffer.alloc(48));
    const a = memmap(file, { dtype: '>f4', shape: [3, 4], order: 'F', mode: 'r+' });
    const j = JSON.parse(JSON.stringify(a));
    assert.deepEqual(j, { type: 'memmap', filename: a.filename, descr: '>f4', dtype: 'float32', shape: [3, 4], order: 'F', mode: 'r+', offset: 0, closed: false });
    // A structured clone carries the own enumerable data properties only: the same metadata, no memory.
    const clone = structuredClone(a);
    assert.equal(clone.descr, '>f4');
    assert.ok(!('data' in clone));
    a.close();
    assert.equal(JSON.parse(JSON.stringify(a)).closed, true);
  });

  it('is() narrows by dtype name or any alias; a bad dtype string is ERR_INVALID_DTYPE', function () {
    const file = tmp.file('i.i2');
    fs.writeFileSync(file, Buffer.alloc(8));
    const a = memmap(file, { dtype: 'int16' });
    assert.equal(a.is('int16'), true);
    assert.equal(a.is('<i2'), true);
    assert.equal(a.is('short'), true);
    assert.equal(a.is('>i2'), true, 'byte order is not compared');
    assert.equal(a.is('float32'), false);
    throwsCode(() => a.is('float33'), 'ERR_INVALID_DTYPE');
    a.close();
  });

  it('tolist() refuses past 2^24 elements with ERR_TOO_LARGE and reads nothing; the file is unchanged', function () {
    const file = tmp.file('big.u1');
    sparseFile(file, 2 ** 24 + 1);
    const before = fingerprint(file);
    const a = memmap(file);
    const resident = a.residency().residentPages;
    throwsCode(() => a.tolist(), 'ERR_TOO_LARGE', MemmapRangeError);
    assert.equal(a.residency().residentPages, resident);
    a.close();
    throwsCode(() => a.tolist(), 'ERR_CLOSED');
    assert.deepEqual(fingerprint(file), before);
  });
});
