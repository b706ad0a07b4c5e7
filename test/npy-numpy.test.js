'use strict';
// .npy files against real numpy, for every dtype and byte order
// (test/helpers/dtypes.js): a zoo numpy writes (values from
// test/helpers/numpy_gen.py, versions 1.0/2.0/3.0, C and F, 0-d to 3-d and
// empty) reads with the same header, values, shape and order; files written
// by openNpy('w+') are byte-identical to numpy's and read back identically in
// numpy. Raw files (memmap()) against numpy are in numpy-values.test.js.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { openNpy, readNpyHeader, MemmapError } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { numpyJSON, toNumpy, cIndices } = require('./helpers/numpy');
const { DESCRS } = require('./helpers/dtypes');

const SHAPES = [[], [0], [7], [2, 3, 4]];

// Writes the zoo with numpy and reports, per file, the header numpy reads back
// and the values in C order (numpy_gen's encode()).
const ZOO_PY = `
from numpy.lib import format as fmt
impl = getattr(np.lib, '_format_impl', fmt)  # numpy 2 keeps the private helpers here
out_dir, descrs, shapes = args()
rng = np.random.default_rng(1234)
files = []
i = 0
for version in [(1, 0), (2, 0), (3, 0)]:
    for descr in descrs:
        dt = np.dtype(descr)
        for shape in shapes:
            shape = tuple(shape)
            for order in 'CF':
                n = int(np.prod(shape))
                a = values(dt, n, rng).reshape(shape)
                if order == 'F' and a.ndim: a = np.asfortranarray(a)  # asfortranarray makes a 0-d array 1-d
                name = os.path.join(out_dir, 'z%04d.npy' % i); i += 1
                with open(name, 'wb') as f: fmt.write_array(f, a, version=version)
                with open(name, 'rb') as f:
                    v = fmt.read_magic(f)
                    shp, fo, d = impl._read_array_header(f, v)
                    off = f.tell()
                b = np.load(name, mmap_mode='r')
                files.append({'name': name, 'version': list(v), 'descr': d.str, 'shape': list(shp),
                              'fortran': fo, 'offset': off, 'values': encode(b)})
emit(files)
`;

describe('.npy against numpy', function () {
  const tmp = useTmpDir();

  describe('a zoo written by numpy (every dtype x byte order x C/F x 0-d/empty/1-d/3-d x versions 1.0/2.0/3.0)', function () {
    let zoo;
    before(function () {
      zoo = numpyJSON(ZOO_PY, [tmp.dir, JSON.stringify(DESCRS), JSON.stringify(SHAPES)]);
    });

    it('covers what it claims', function () {
      assert.equal(zoo.length, 3 * DESCRS.length * SHAPES.length * 2);
      assert.ok(zoo.some((z) => z.fortran && z.shape.length === 3));
      assert.ok(zoo.some((z) => z.descr.startsWith('>')));
      assert.deepEqual([...new Set(zoo.map((z) => z.version.join('.')))].sort(), ['1.0', '2.0', '3.0']);
    });

    it('readNpyHeader agrees with numpy on version, dtype, shape, order and data offset', function () {
      for (const z of zoo) {
        const h = readNpyHeader(z.name);
        assert.deepEqual(
          { version: h.version, descr: h.descr, shape: h.shape, fortranOrder: h.fortranOrder, dataOffset: h.dataOffset },
          { version: z.version, descr: z.descr, shape: z.shape, fortranOrder: z.fortran, dataOffset: z.offset },
          z.name,
        );
        assert.equal(h.byteLength, fs.statSync(z.name).size - z.offset, z.name);
      }
    });

    it('openNpy (r and c) reads the same values through get() and ndarray(), with numpy order and strides', function () {
      for (const z of zoo) {
        for (const mode of ['r', 'c']) {
          const a = openNpy(z.name, { mode });
          try {
            assert.equal(a.descr, z.descr, z.name);
            assert.deepEqual(a.shape, z.shape, z.name);
            assert.equal(a.order, z.fortran ? 'F' : 'C', z.name);
            assert.equal(a.offset, z.offset);
            assert.equal(a.mode, mode);
            const got = [...cIndices(z.shape)].map((idx) => toNumpy(a.get(...idx)));
            assert.deepEqual(got, z.values, z.name);
            if (z.shape.length > 0 && z.values.length > 0) {
              const nd = a.ndarray();
              const complex = z.descr[1] === 'c';
              const got2 = [...cIndices(z.shape)].map((idx) =>
                complex ? toNumpy({ re: nd.get(...idx, 0), im: nd.get(...idx, 1) }) : toNumpy(z.descr[1] === 'b' ? Boolean(nd.get(...idx)) : nd.get(...idx)),
              );
              assert.deepEqual(got2, z.values, z.name + ' ndarray()');
            }
          } finally {
            a.close();
          }
        }
      }
    });

    it('a 128-byte file of shape (0,) opens in r (empty array)', function () {
      const z = zoo.find((x) => x.shape.length === 1 && x.shape[0] === 0 && x.version[0] === 1 && x.descr === '<f8');
      assert.equal(fs.statSync(z.name).size, 128);
      const a = openNpy(z.name, { mode: 'r' });
      assert.equal(a.size, 0);
      assert.equal(a.data.length, 0);
      a.close();
    });
  });

  describe("files written by openNpy('w+')", function () {
    // The value of the k-th element in C order, for every dtype (python computes the same).
    const VALUE_PY = `
def value(dt, k):
    v = (k * 37 + 11) % 200
    if dt.kind == 'b': return bool(k % 3)
    if dt.kind == 'u': return v
    if dt.kind == 'i': return v - 100
    if dt.kind == 'c': return complex(v / 4 - 25, -(k / 8))
    return v / 4 - 25
`;
    function value(descr, k) {
      const v = (k * 37 + 11) % 200;
      const kind = descr[1];
      if (kind === 'b') return k % 3 !== 0;
      if (kind === 'u') return descr.endsWith('8') ? BigInt(v) : v;
      if (kind === 'i') return descr.endsWith('8') && descr[2] === '8' ? BigInt(v - 100) : v - 100;
      if (kind === 'c') return { re: v / 4 - 25, im: -(k / 8) };
      return v / 4 - 25;
    }

    const CASES = [];
    for (const descr of DESCRS) {
      for (const shape of [[], [0], [5], [2, 3, 4], [3, 0, 2]]) {
        for (const fortranOrder of [false, true]) CASES.push({ descr, shape, fortranOrder, version: null });
      }
    }
    for (const version of [[1, 0], [2, 0], [3, 0]]) CASES.push({ descr: '<f4', shape: [1000, 3], fortranOrder: false, version });
    // Shapes with a zero axis carry large numbers in the header at no cost.
    CASES.push({ descr: '<i8', shape: [0, 123456789012345], fortranOrder: false, version: null });
    CASES.push({ descr: '>c16', shape: [98765432109876, 0], fortranOrder: true, version: null });
    CASES.push({ descr: '|u1', shape: Array(64).fill(1), fortranOrder: true, version: null });

    let results;
    before(function () {
      CASES.forEach((c, i) => {
        c.ours = tmp.file(`ours${i}.npy`);
        c.blank = tmp.file(`blank${i}.npy`);
        const opts = { mode: 'w+', dtype: c.descr, shape: c.shape, fortranOrder: c.fortranOrder };
        if (c.version) opts.version = c.version;
        openNpy(c.blank, opts).close();
        const a = openNpy(c.ours, opts);
        assert.equal(a.mode, 'r+');
        let k = 0;
        for (const idx of cIndices(c.shape)) a.set(...idx, value(c.descr, k++));
        a.flush();
        a.close();
      });
      const spec = CASES.map((c) => ({ descr: c.descr, shape: c.shape, fortran: c.fortranOrder, version: c.version, ours: c.ours, blank: c.blank }));
      fs.writeFileSync(tmp.file('spec.json'), JSON.stringify(spec));
      results = numpyJSON(
        `
from numpy.lib import format as fmt
${VALUE_PY}
out = []
for i, c in enumerate(json.load(open(sys.argv[1]))):
    dt, shape = np.dtype(c['descr']), tuple(c['shape'])
    version = tuple(c['version']) if c['version'] else None
    n = int(np.prod(shape))
    a = np.array([value(dt, k) for k in range(n)], dtype=dt).reshape(shape)
    if c['fortran'] and a.ndim: a = np.asfortranarray(a)
    saved = c['ours'] + '.np.npy'
    if c['fortran'] == (a.flags.f_contiguous and not a.flags.c_contiguous) or not c['fortran']:
        with open(saved, 'wb') as f: fmt.write_array(f, a, version=version)
    else:
        saved = None  # np.save writes a 1-d or 0-d F array as C; open_memmap covers the F header
    m = fmt.open_memmap(c['blank'] + '.np.npy', mode='w+', dtype=dt, shape=shape, fortran_order=c['fortran'], version=version)
    del m
    b = np.load(c['ours'], mmap_mode='r')
    out.append({'saved': saved, 'memmap': c['blank'] + '.np.npy', 'equal': bool(np.array_equal(a, b)) and b.shape == shape and b.dtype == dt,
                'fortran': bool(b.flags.f_contiguous and not b.flags.c_contiguous)})
emit(out)
`,
        [tmp.file('spec.json')],
      );
    });

    it('numpy reads them with the same values, shape, dtype and order', function () {
      CASES.forEach((c, i) => {
        assert.ok(results[i].equal, `${c.descr} ${JSON.stringify(c.shape)} F=${c.fortranOrder}`);
        if (c.shape.filter((d) => d > 1).length > 1 && !c.shape.includes(0)) assert.equal(results[i].fortran, c.fortranOrder);
      });
    });

    it("the header and data are byte-identical to np.save (write_array) and open_memmap('w+')", function () {
      let compared = 0;
      CASES.forEach((c, i) => {
        const label = `${c.descr} ${JSON.stringify(c.shape)} F=${c.fortranOrder} v=${c.version}`;
        assert.ok(fs.readFileSync(c.blank).equals(fs.readFileSync(results[i].memmap)), `open_memmap: ${label}`);
        if (results[i].saved) {
          assert.ok(fs.readFileSync(c.ours).equals(fs.readFileSync(results[i].saved)), `np.save: ${label}`);
          compared++;
        }
      });
      assert.ok(compared > CASES.length / 2);
    });

    it('version 1.0 unless the header needs 2.0, as numpy (a header over 65535 bytes); more than 64 dimensions are refused', function () {
      // numpy cannot load an array of more than 64 dimensions, so openNpy('w+') refuses one before the file is
      // created; the 2.0 header such a shape needs is still formatted as numpy formats it.
      const { formatNpyHeader } = require('../dist/npy');
      const shape = Array(22000).fill(1);
      const missing = tmp.file('wide-never-created.npy');
      throwsCode(() => openNpy(missing, { mode: 'w+', dtype: 'uint8', shape }), 'ERR_INVALID_SHAPE', RangeError);
      assert.ok(!fs.existsSync(missing));
      const header = formatNpyHeader('|u1', shape, false);
      assert.deepEqual([header[6], header[7]], [2, 0]);
      assert.equal(header.length % 64, 0);
      const file = tmp.file('wide.npy');
      fs.writeFileSync(file, Buffer.concat([header, Buffer.from([0])]));
      const py = numpyJSON(
        `
import io
from numpy.lib import format as fmt
b = io.BytesIO()
getattr(np.lib, '_format_impl', fmt)._write_array_header(b, {'descr': '|u1', 'fortran_order': False, 'shape': (1,) * 22000})
emit(b.getvalue().hex() == open(sys.argv[1], 'rb').read()[:-1].hex())
`,
        [file],
      );
      assert.equal(py, true);
      throwsCode(() => readNpyHeader(file), 'ERR_NPY_HEADER_TOO_LARGE');
      throwsCode(() => readNpyHeader(file, { maxHeaderSize: 1e6 }), 'ERR_NPY_HEADER'); // np.load fails: 22000 > 64 dimensions
    });

    it('an explicit version the header does not fit, or an unknown version, is refused before the file is touched', function () {
      const file = tmp.file('keep.npy');
      fs.writeFileSync(file, 'keep me');
      // With at most 64 dimensions a header always fits 1.0; formatNpyHeader shows the check itself.
      throwsCode(() => openNpy(file, { mode: 'w+', dtype: 'uint8', shape: Array(22000).fill(1), version: [1, 0] }), 'ERR_INVALID_SHAPE', RangeError);
      throwsCode(() => require('../dist/npy').formatNpyHeader('|u1', Array(22000).fill(1), false, [1, 0]), 'ERR_NPY_HEADER_TOO_LARGE');
      for (const version of [[1, 1], [0, 0], [2, 2], [255, 255], '1.0', [1]]) {
        throwsCode(() => openNpy(file, { mode: 'w+', dtype: 'uint8', shape: [3], version }), 'ERR_NPY_VERSION');
      }
      throwsCode(() => openNpy(file, { mode: 'w+', shape: [3] }), 'ERR_DTYPE_REQUIRED');
      throwsCode(() => openNpy(file, { mode: 'w+', dtype: 'f4' }), 'ERR_SHAPE_REQUIRED');
      throwsCode(() => openNpy(file, { mode: 'w+', dtype: 'U8', shape: [3] }), 'ERR_INVALID_DTYPE');
      throwsCode(() => openNpy(file, { mode: 'w+', dtype: 'f4', shape: [-1] }), 'ERR_INVALID_SHAPE');
      assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
      assert.ok(MemmapError);
    });
  });
});
