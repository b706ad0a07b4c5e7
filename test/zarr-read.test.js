'use strict';
// openZarr() (read-only, first slice of issue 13) against real writers:
// zarr-python 2.13 writes v2 arrays (raw, zlib, gzip; C and F order; '.' and
// '/' separators; partial edge chunks; missing chunks; many dtypes, both byte
// orders) and numpy's own values of each selection; zarrita writes v3 arrays
// (bytes little/big, transpose) and reads back the hand-made gzip, crc32c and
// sharded ones; what no writer here makes (index at the start, empty inner
// chunks, bad checksums) is written by test/helpers/zarr.js. Errors are
// matched by class and code.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { openZarr, listZarr, memmap, MemmapError, MemmapTypeError, ZarrArray } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { sameValue, show, cIndices } = require('./helpers/numpy');
const Z = require('./helpers/zarr');

const bytesOf = (t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

// ---- v2, written by zarr-python 2.13 ------------------------------------------

// Each case: the array zarr-python writes (`region`: the part written, the rest stays missing), and selections
// (JS index items: number, null, [start, stop, step]) whose values numpy computes from z[...].
const V2_CASES = [
  { name: 'f4_raw_C_dot', dtype: '<f4', shape: [7, 10], chunks: [3, 4], compressor: 'none', order: 'C', sep: '.', fill: 'nan', region: [[0, 5], [0, 6]], sels: [[], [2], [null, 9], [[1, 7, 2], [null, null, -3]], [[-1, 0, -1], 3]] },
  { name: 'f8_be_zlib_F_slash', dtype: '>f8', shape: [9, 5, 4], chunks: [4, 2, 3], compressor: 'zlib', order: 'F', sep: '/', fill: 0, sels: [[], [4], [null, 1, [0, 4, 3]], [[8, 0, -2], null, -1]] },
  { name: 'i2_gzip_C', dtype: '<i2', shape: [11, 3], chunks: [4, 3], compressor: 'gzip', order: 'C', sep: '.', fill: 7, region: [[2, 9], [0, 3]], sels: [[], [[3, 10, 3]], [5, 2]] },
  { name: 'b1_raw_F', dtype: '|b1', shape: [6, 7], chunks: [4, 4], compressor: 'none', order: 'F', sep: '.', fill: true, region: [[0, 4], [0, 4]], sels: [[], [null, [1, 7, 2]]] },
  { name: 'c8_be_zlib', dtype: '>c8', shape: [10], chunks: [3], compressor: 'zlib', order: 'C', sep: '.', fill: [1.5, -2], region: [[0, 4]], sels: [[], [[9, null, -4]]] },
  { name: 'u8_raw_slash', dtype: '<u8', shape: [5, 6], chunks: [2, 5], compressor: 'none', order: 'C', sep: '/', fill: 0, sels: [[], [null, [5, 0, -1]]] },
  { name: 'i8_be_gzip_F', dtype: '>i8', shape: [4, 3, 5], chunks: [3, 2, 2], compressor: 'gzip', order: 'F', sep: '.', fill: -5, region: [[0, 2], [0, 3], [1, 5]], sels: [[], [1, null, [0, 5, 2]]] },
  { name: 'f2_0d', dtype: '<f2', shape: [], chunks: [], compressor: 'none', order: 'C', sep: '.', fill: 0, sels: [[]] },
  { name: 'u1_empty', dtype: '|u1', shape: [0, 4], chunks: [2, 2], compressor: 'none', order: 'C', sep: '.', fill: 0, sels: [[]] },
  { name: 'mixed_u2_be', dtype: '>u2', shape: [13], chunks: [5], compressor: 'zlib', order: 'C', sep: '.', fill: 1, sels: [[], [[2, 12, 4]]] },
  { name: 'i1_u4_c16', dtype: '<c16', shape: [3, 4], chunks: [2, 3], compressor: 'gzip', order: 'F', sep: '/', fill: ['-Infinity', 2.5], region: [[0, 2], [0, 3]], sels: [[], [2]] },
  { name: 'i1', dtype: '|i1', shape: [17], chunks: [4], compressor: 'none', order: 'C', sep: '.', fill: -1, region: [[3, 11]], sels: [[], [[null, null, 5]]] },
  { name: 'u4_be', dtype: '>u4', shape: [3, 5], chunks: [3, 2], compressor: 'none', order: 'C', sep: '.', fill: 4000000000, region: [[0, 3], [0, 3]], sels: [[], [null, 4]] },
];

const V2_PY = `
import sys, json, os
import numpy as np, zarr, numcodecs
out, cases = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(2024)
def num(x):
    return float('nan') if x == 'nan' else float(x) if isinstance(x, str) else x
def key(sel):
    return tuple(slice(*x) if isinstance(x, list) else (slice(None) if x is None else x) for x in sel)
for c in cases:
    dt = np.dtype(c['dtype'])
    shape = tuple(c['shape'])
    comp = {'none': None, 'zlib': numcodecs.Zlib(level=3), 'gzip': numcodecs.GZip(level=3)}[c['compressor']]
    fill = c['fill']
    fill = complex(num(fill[0]), num(fill[1])) if isinstance(fill, list) else num(fill)
    z = zarr.open(os.path.join(out, c['name']), mode='w', shape=shape, chunks=tuple(c['chunks']), dtype=dt,
                  compressor=comp, fill_value=fill, order=c['order'], dimension_separator=c['sep'])
    n = int(np.prod(shape))
    if dt.kind == 'b':
        v = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in 'iu':
        info = np.iinfo(dt)
        v = rng.integers(int(info.min), int(info.max), n, dtype=dt.newbyteorder('='), endpoint=True)
    elif dt.kind == 'f':
        v = (rng.standard_normal(n) * 100).astype(dt)
        v[::7] = np.nan
        v[3::11] = -np.inf
    else:
        v = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
    v = v.reshape(shape)
    region = c.get('region')
    if region is None:
        z[...] = v
    else:
        r = tuple(slice(a, b) for a, b in region)
        z[r] = v[r]
    z.attrs['case'] = c['name']
    full = z[...]
    for i, sel in enumerate(c['sels']):
        got = np.array(full[key(sel)], order='C').astype(dt.newbyteorder('='))  # ascontiguousarray() would make 0-d 1-d
        with open(os.path.join(out, '%s.expect%d' % (c['name'], i)), 'wb') as f:
            f.write(got.tobytes())
        with open(os.path.join(out, '%s.shape%d' % (c['name'], i)), 'w') as f:
            json.dump(list(got.shape), f)
`;

/** The machine-order descr of a numpy dtype string ('>f8' -> '<f8' here). */
const nativeDescr = (d) => (d[0] === '|' ? d : '<' + d.slice(1));

describe('openZarr(): v2 arrays written by zarr-python 2.13', function () {
  const tmp = useTmpDir();
  before(function () {
    Z.needTool(this, Z.zarrPython(), "zarr-python 2.x for Debian's /usr/bin/python3 (apt-get install python3-zarr)", true);
    Z.runZarrPython(V2_PY, [tmp.dir, JSON.stringify(V2_CASES)]);
  });

  for (const c of V2_CASES) {
    it(`${c.name}: ${c.dtype} ${JSON.stringify(c.shape)} chunks ${JSON.stringify(c.chunks)}, ${c.compressor}, order ${c.order}, '${c.sep}'`, function () {
      const a = openZarr(tmp.file(c.name));
      try {
        assert.ok(a instanceof ZarrArray);
        assert.equal(a.zarrFormat, 2);
        assert.deepEqual(a.shape, c.shape);
        assert.deepEqual(a.chunks, c.chunks);
        assert.equal(a.ndim, c.shape.length);
        assert.equal(a.size, sizeOf(c.shape));
        assert.deepEqual(a.attributes, { case: c.name });
        c.sels.forEach((sel, i) => {
          const expect = fs.readFileSync(tmp.file(`${c.name}.expect${i}`));
          const shape = JSON.parse(fs.readFileSync(tmp.file(`${c.name}.shape${i}`), 'utf8'));
          const got = a.read(...sel);
          assert.ok(bytesOf(got).equals(expect), `${c.name}[${JSON.stringify(sel)}]: values differ from numpy's`);
          if (expect.length === 0) return;
          // Elements and reductions against an array of numpy's bytes.
          const ref = memmap(tmp.file(`${c.name}.expect${i}`), { dtype: nativeDescr(c.dtype), shape, mode: 'r' });
          try {
            assert.deepEqual(a.sum(...sel), ref.sum());
            if (c.dtype[1] !== 'c') assert.deepEqual(a.max(...sel), ref.max());
            assert.equal(got.constructor, ref.data.constructor);
            if (shape.length > 1) assert.ok(bytesOf(a.sum(...sel, { axis: 0 }).read()).equals(bytesOf(ref.sum({ axis: 0 }).read())));
            if (shape.length > 0) assert.deepEqual(a.argmin(...sel, { axis: -1, keepdims: true }).tolist(), ref.argmin({ axis: -1, keepdims: true }).tolist());
            if (sel.length === 0) {
              // gather() of every point, backwards: as MemmapArray.gather() over numpy's bytes.
              const points = [...cIndices(c.shape)].reverse();
              const cols = c.shape.map((_, d) => points.map((p) => p[d]));
              if (c.shape.length > 0) assert.ok(bytesOf(a.gather(...cols)).equals(bytesOf(ref.gather(...cols))), `${c.name} gather`);
              for (const idx of cIndices(c.shape)) {
                const want = ref.get(...idx);
                const have = a.get(...idx);
                assert.ok(sameValue(have, want), `get(${idx}) = ${show(have)}, numpy ${show(want)}`);
              }
            }
          } finally {
            ref.close();
          }
        });
      } finally {
        a.close();
      }
    });
  }

  it('random layouts and selections (1-d to 4-d, any chunking, C/F, raw/zlib, missing chunks) match numpy', function () {
    // A seeded generator: the same cases every run, different from one another.
    let seed = 12345;
    const rnd = (n) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const dtypes = ['<f4', '>f8', '<i4', '>i2', '|u1', '|b1', '>c16', '<u8', '<f2'];
    const cases = [];
    for (let k = 0; k < 24; k++) {
      const ndim = 1 + rnd(4);
      const shape = Array.from({ length: ndim }, () => 1 + rnd(9));
      const chunks = shape.map((n) => 1 + rnd(n + 1));
      const region = shape.map((n) => {
        const a = rnd(n);
        return [a, a + 1 + rnd(n - a)];
      });
      const sels = [];
      for (let j = 0; j < 5; j++) {
        sels.push(shape.slice(0, rnd(ndim + 1)).map((n) => {
          const kind = rnd(4);
          if (kind === 0) return rnd(n) - (rnd(2) ? n : 0); // an integer, maybe negative
          if (kind === 1) return null;
          const step = (1 + rnd(3)) * (rnd(3) === 0 ? -1 : 1);
          return [rnd(2) ? null : rnd(n + 2) - 1, rnd(2) ? null : rnd(n + 2) - 1, step];
        }));
      }
      cases.push({ name: `rand${k}`, dtype: dtypes[rnd(dtypes.length)], shape, chunks, compressor: rnd(2) ? 'zlib' : 'none', order: rnd(2) ? 'C' : 'F', sep: rnd(2) ? '.' : '/', fill: 3, region, sels });
    }
    Z.runZarrPython(V2_PY, [tmp.file('random'), JSON.stringify(cases)]);
    for (const c of cases) {
      const a = openZarr(tmp.file(`random/${c.name}`));
      try {
        c.sels.forEach((sel, i) => {
          const expect = fs.readFileSync(tmp.file(`random/${c.name}.expect${i}`));
          assert.ok(bytesOf(a.read(...sel)).equals(expect), `${c.name} ${c.dtype} ${JSON.stringify(c.shape)} chunks ${JSON.stringify(c.chunks)} ${c.order}: [${JSON.stringify(sel)}]`);
        });
      } finally {
        a.close();
      }
    }
  });

  it('chunk(): an uncompressed chunk is a zero-copy mapping of its file, in the file\'s order; a compressed one a copy', function () {
    const a = openZarr(tmp.file('b1_raw_F'));
    const b = openZarr(tmp.file('f8_be_zlib_F_slash'));
    try {
      const c = a.chunk(0, 0);
      assert.equal(c.filename, path.join(tmp.file('b1_raw_F'), '0.0'));
      assert.equal(c.order, 'F');
      assert.deepEqual(c.shape, [4, 4]);
      assert.ok(c.readonly);
      // The mapped chunk's values are the array's.
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.equal(c.get(i, j), a.get(i, j));
      const missing = a.chunk(1, 1); // never written: the fill value, in memory
      assert.equal(missing.filename, '');
      assert.ok(missing.read().every((x) => x === 1));
      const d = b.chunk(2, 1, 1); // zlib: decoded, in this machine's order
      assert.equal(d.filename, '');
      assert.deepEqual(d.shape, [4, 2, 3]);
      assert.ok(sameValue(d.get(0, 0, 0), b.get(8, 2, 3)));
      a.close();
      throwsCode(() => c.get(0, 0), 'ERR_CLOSED');
    } finally {
      a.close();
      b.close();
    }
  });

  it('groups: listZarr() lists members and attributes; openZarr(group, { path }) opens a member', function () {
    Z.runZarrPython(`
import sys, zarr, numcodecs
g = zarr.open_group(sys.argv[1], mode='w')
g.attrs['title'] = 'root'
sub = g.create_group('inner')
x = sub.create_dataset('x', shape=(4,), chunks=(3,), dtype='<i4', compressor=None, fill_value=0)
x[:] = [5, 6, 7, 8]
g.create_dataset('y', shape=(2,), chunks=(2,), dtype='<f8', compressor=numcodecs.Zlib())
`, [tmp.file('group')]);
    const info = listZarr(tmp.file('group'));
    assert.deepEqual(info, { nodeType: 'group', zarrFormat: 2, attributes: { title: 'root' }, members: [{ name: 'inner', nodeType: 'group' }, { name: 'y', nodeType: 'array' }] });
    assert.deepEqual(listZarr(tmp.file('group'), { path: 'inner' }).members, [{ name: 'x', nodeType: 'array' }]);
    const x = openZarr(tmp.file('group'), { path: 'inner/x' });
    assert.deepEqual([...x.read()], [5, 6, 7, 8]);
    x.close();
    throwsCode(() => openZarr(tmp.file('group')), 'ERR_NOT_ZARR_ARRAY');
    throwsCode(() => openZarr(tmp.file('group'), { path: '../x' }), 'ERR_INVALID_ARG_VALUE', MemmapTypeError);
  });

  it('refuses compressors and filters it cannot decode (bz2, delta) with ERR_UNSUPPORTED_CODEC', function () {
    Z.runZarrPython(`
import sys, os, zarr, numcodecs
zarr.open(os.path.join(sys.argv[1], 'bz2'), mode='w', shape=(4,), chunks=(2,), dtype='<f4', compressor=numcodecs.BZ2())
zarr.open(os.path.join(sys.argv[1], 'delta'), mode='w', shape=(4,), chunks=(2,), dtype='<f4', compressor=None, filters=[numcodecs.Delta(dtype='<f4')])
`, [tmp.dir]);
    for (const name of ['bz2', 'delta']) {
      const err = throwsCode(() => openZarr(tmp.file(name)), 'ERR_UNSUPPORTED_CODEC');
      assert.ok(err.message.includes(name));
    }
  });
});

// ---- v3, written by zarrita and by hand ----------------------------------------

describe('openZarr(): v3 arrays written by zarrita', function () {
  const tmp = useTmpDir();
  let Zr = null;
  before(async function () {
    Zr = await Z.loadZarrita();
    Z.needTool(this, Zr, 'zarrita (a devDependency: npm install)', true);
  });

  const CASES = [
    { name: 'le', dtype: 'float32', Ctor: Float32Array, codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], fill: NaN },
    { name: 'be', dtype: 'int32', Ctor: Int32Array, codecs: [{ name: 'bytes', configuration: { endian: 'big' } }], fill: -3, sep: '.' },
    { name: 'transposed', dtype: 'float64', Ctor: Float64Array, codecs: [{ name: 'transpose', configuration: { order: [1, 0, 2] } }, { name: 'bytes', configuration: { endian: 'big' } }], fill: 0.5 },
    { name: 'u16', dtype: 'uint16', Ctor: Uint16Array, codecs: [{ name: 'transpose', configuration: { order: [2, 1, 0] } }, { name: 'bytes', configuration: { endian: 'little' } }], fill: 9 },
  ];
  const SHAPE = [5, 7, 6];
  const CHUNKS = [2, 3, 4];

  for (const c of CASES) {
    it(`${c.name}: ${c.dtype}, codecs ${c.codecs.map((x) => x.name + (x.configuration?.endian ? `(${x.configuration.endian})` : '')).join(' + ')}`, async function () {
      const { zarr, FileSystemStore } = Zr;
      const store = new FileSystemStore(tmp.dir);
      const arr = await zarr.create(zarr.root(store).resolve(c.name), { shape: SHAPE, chunkShape: CHUNKS, dtype: c.dtype, codecs: c.codecs, fillValue: c.fill, chunkSeparator: c.sep, dimensionNames: ['z', 'y', 'x'], attributes: { units: 'm' } });
      // Part of the array only: the rest reads as the fill value.
      const region = [4, 7, 5];
      const data = new c.Ctor(sizeOf(region)).map((_, i) => (c.dtype === 'float32' && i % 9 === 0 ? -0 : i * 3 - 40 + (c.dtype.startsWith('float') ? 0.25 : 0)));
      if (c.dtype === 'uint16') data.forEach((x, i) => (data[i] = (i * 977) & 0xffff));
      await zarr.set(arr, [zarr.slice(0, 4), null, zarr.slice(0, 5)], { data, shape: region, stride: [35, 5, 1] });
      const a = openZarr(path.join(tmp.dir, c.name));
      try {
        assert.equal(a.zarrFormat, 3);
        assert.equal(a.dtype, c.dtype);
        assert.deepEqual(a.dimensionNames, ['z', 'y', 'x']);
        assert.deepEqual(a.attributes, { units: 'm' });
        const sels = [[], [3], [null, [6, 0, -2]], [[1, 5, 3], 2, [null, null, -1]], [-1, -1, -1]];
        const zsel = (sel) => SHAPE.map((_, d) => {
          const s = sel[d];
          if (s === undefined || s === null) return null;
          if (typeof s === 'number') return s < 0 ? s + SHAPE[d] : s;
          return zarr.slice(...s);
        });
        for (const sel of sels) {
          let want;
          try {
            want = await zarr.get(arr, zsel(sel));
            want = typeof want === 'object' && want.shape ? Z.cOrder(want) : want;
          } catch (err) {
            if (sel.some((s) => Array.isArray(s) && (s[2] ?? 1) < 0)) continue; // zarrita: no negative steps
            throw err;
          }
          const got = a.read(...sel);
          if (typeof want === 'number') want = new c.Ctor([want]);
          assert.ok(bytesOf(got).equals(bytesOf(want instanceof c.Ctor ? want : new c.Ctor([want]))), `${c.name}[${JSON.stringify(sel)}]`);
        }
        // Negative steps: against the full read, reversed by hand.
        const full = a.read();
        const rev = a.read(null, null, [null, null, -1]);
        for (let k = 0; k < full.length; k += 6) for (let j = 0; j < 6; j++) assert.ok(Object.is(rev[k + j], full[k + 5 - j]));
        for (const idx of [[0, 0, 0], [4, 6, 5], [3, 6, 4], [2, 1, 3]]) assert.ok(Object.is(a.get(...idx), full[idx[0] * 42 + idx[1] * 6 + idx[2]]));
        const ref = (await import('node:util')).isDeepStrictEqual;
        assert.ok(ref(a.sum(), openZarrMemory(full, SHAPE).sum()));
      } finally {
        a.close();
      }
    });
  }

  /** The same values as an in-memory array (sum over it is memmap's tested kernel). */
  function openZarrMemory(values, shape) {
    const f = path.join(tmp.dir, `mem-${process.hrtime.bigint()}`);
    fs.writeFileSync(f, bytesOf(values));
    const m = memmap(f, { dtype: { Float32Array: 'float32', Float64Array: 'float64', Int32Array: 'int32', Uint16Array: 'uint16' }[values.constructor.name], shape, mode: 'r' });
    return { sum: () => { try { return m.sum(); } finally { m.close(); } } };
  }

  it('a v3 group zarrita wrote: listZarr() and openZarr(group, { path })', async function () {
    const { zarr, FileSystemStore } = Zr;
    const root = zarr.root(new FileSystemStore(tmp.file('grp')));
    await zarr.create(root, { attributes: { title: 'v3 root' } });
    await zarr.create(root.resolve('sub'), { attributes: {} });
    const arr = await zarr.create(root.resolve('sub/arr'), { shape: [3], chunkShape: [2], dtype: 'int8', codecs: [{ name: 'bytes' }], fillValue: 5 });
    await zarr.set(arr, [zarr.slice(0, 1)], { data: new Int8Array([-7]), shape: [1], stride: [1] });
    assert.deepEqual(listZarr(tmp.file('grp')), { nodeType: 'group', zarrFormat: 3, attributes: { title: 'v3 root' }, members: [{ name: 'sub', nodeType: 'group' }] });
    assert.deepEqual(listZarr(tmp.file('grp'), { path: 'sub' }).members, [{ name: 'arr', nodeType: 'array' }]);
    const a = openZarr(tmp.file('grp'), { path: '/sub/arr' });
    assert.deepEqual([...a.read()], [-7, 5, 5]);
    assert.equal(listZarr(tmp.file('grp'), { path: 'sub/arr' }).nodeType, 'array');
    a.close();
  });

  it('hand-written gzip + crc32c chunks and sharded arrays (index at the end) read the same in zarrita and openZarr', async function () {
    const { zarr, FileSystemStore } = Zr;
    const shape = [9, 10];
    const values = new Float32Array(90).map((_, i) => Math.sin(i) * 1000);
    const layouts = {
      gzip_crc: { after: ['gzip', 'crc32c'], chunks: [4, 3] },
      crc_only: { after: ['crc32c'], chunks: [4, 3] },
      sharded: { chunks: [2, 3], shard: [4, 6], skip: (c) => c[0] === 1 && c[1] === 1 },
      sharded_gzip: { chunks: [2, 2], shard: [4, 4], innerAfter: ['gzip'], skip: (c) => c[0] >= 4 }, // the last shard row: no file
    };
    for (const [name, opt] of Object.entries(layouts)) {
      Z.writeV3(path.join(tmp.dir, name), { shape, dtype: 'float32', values, fill: 'NaN', ...opt });
      const arr = await zarr.open(zarr.root(new FileSystemStore(tmp.dir)).resolve(name), { kind: 'array' });
      const want = Z.cOrder(await zarr.get(arr));
      const a = openZarr(path.join(tmp.dir, name));
      try {
        assert.ok(bytesOf(a.read()).equals(bytesOf(want)), name);
        assert.ok(bytesOf(a.read([1, 8, 3])).equals(bytesOf(Z.cOrder(await zarr.get(arr, [zarr.slice(1, 8, 3), null])))), `${name} rows 1:8:3`);
        assert.ok(bytesOf(a.read(null, [2, 10, 4])).equals(bytesOf(Z.cOrder(await zarr.get(arr, [null, zarr.slice(2, 10, 4)])))), `${name} columns 2:10:4`);
        // Values in the written positions are the source's; skipped chunks read NaN.
        for (const idx of cIndices(shape)) {
          const v = a.get(...idx);
          const k = idx[0] * 10 + idx[1];
          const ic = [Math.floor(idx[0] / opt.chunks[0]), Math.floor(idx[1] / opt.chunks[1])];
          if (opt.skip && opt.skip(ic)) assert.ok(Number.isNaN(v), `${name} ${idx}`);
          else assert.equal(v, values[k], `${name} ${idx}`);
        }
      } finally {
        a.close();
      }
    }
  });
});

describe('openZarr(): hand-made v3 stores (sharding index at the start, checksums, bad chunks)', function () {
  const tmp = useTmpDir();
  const shape = [6, 8];
  const values = new Int32Array(48).map((_, i) => i * 7 - 100);

  it('sharding index at the start, empty inner chunks (all-ones entries) and a missing shard read as the fill value', function () {
    const skip = (c) => (c[0] === 0 && c[1] === 1) || c[0] === 2; // one empty entry; the last shard row has no file
    Z.writeV3(tmp.file('start'), { shape, chunks: [2, 2], shard: [4, 4], dtype: 'int32', values, fill: 42, indexAt: 'start', skip });
    assert.ok(!fs.existsSync(tmp.file('start/c/1/0')));
    const a = openZarr(tmp.file('start'));
    try {
      assert.deepEqual(a.chunks, [2, 2]);
      assert.deepEqual(a.shards, [4, 4]);
      const got = a.read();
      for (const [i, j] of cIndices(shape)) {
        const want = skip([Math.floor(i / 2), Math.floor(j / 2)]) ? 42 : values[i * 8 + j];
        assert.equal(got[i * 8 + j], want, `[${i}, ${j}]`);
        assert.equal(a.get(i, j), want);
      }
      // One mapping per shard file, not per inner chunk: 2 shard files exist (the last shard row has none).
      assert.equal(a.openMappings, 2);
      // An inner chunk of an uncompressed shard: a mapping of the shard file at the chunk's offset.
      const c = a.chunk(1, 3);
      assert.equal(c.filename, tmp.file('start/c/0/1'));
      assert.ok(c.offset > 0);
      assert.deepEqual([...c.read()], [values[2 * 8 + 6], values[2 * 8 + 7], values[3 * 8 + 6], values[3 * 8 + 7]]);
      assert.deepEqual([...a.chunk(0, 1).read()], [42, 42, 42, 42]);
    } finally {
      a.close();
    }
  });

  it('shard indexes in big-endian and without a checksum, at either end', function () {
    for (const [name, opt] of Object.entries({ be: { indexEndian: 'big' }, nocrc: { indexCrc: false }, both: { indexEndian: 'big', indexCrc: false, indexAt: 'start' } })) {
      Z.writeV3(tmp.file(`idx-${name}`), { shape, chunks: [2, 4], shard: [2, 8], dtype: 'int32', values, fill: 0, skip: (c) => c[0] === 1 && c[1] === 1, ...opt });
      const a = openZarr(tmp.file(`idx-${name}`));
      try {
        const got = a.read();
        for (const [i, j] of cIndices(shape)) assert.equal(got[i * 8 + j], i >= 2 && i < 4 && j >= 4 ? 0 : values[i * 8 + j], `${name} [${i}, ${j}]`);
      } finally {
        a.close();
      }
    }
  });

  it('shard index entries decode as their uint64 values (either byte order): -1 for the empty marker, -2 past 2^53', function () {
    const { decodeShardIndex } = require('../dist/zarr-codec-sharding');
    const big = [0n, 1n, 4096n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 5n, 2n ** 52n + 3n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n, 0xfffffffen << 32n | 0xffffffffn, 0xffffffffn << 32n];
    let seed = 7n;
    for (let k = 0; k < 33; k++) big.push((seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n) >> BigInt(k % 12));
    if (big.length % 2 === 1) big.push(12345n);
    const expect = big.map((v) => (v === 2n ** 64n - 1n ? -1 : v > BigInt(Number.MAX_SAFE_INTEGER) ? -2 : Number(v)));
    for (const little of [true, false]) {
      const bytes = new Uint8Array(8 * big.length);
      const view = new DataView(bytes.buffer);
      big.forEach((v, i) => view.setBigUint64(8 * i, v, little));
      assert.deepEqual([...decodeShardIndex(bytes, big.length / 2, little ? 'little' : 'big', false, 'x')], expect, little ? 'little' : 'big');
    }
  });

  it('a wrong crc32c is ERR_CHECKSUM (chunk or shard index) and leaves the file unchanged', function () {
    Z.writeV3(tmp.file('crc'), { shape, chunks: [3, 4], dtype: 'int32', values, after: ['crc32c'] });
    Z.writeV3(tmp.file('crcshard'), { shape, chunks: [2, 2], shard: [4, 4], dtype: 'int32', values });
    const flip = (file, at) => {
      const b = fs.readFileSync(file);
      b[at < 0 ? b.length + at : at] ^= 0x10;
      fs.writeFileSync(file, b);
      return fingerprint(file);
    };
    const chunkFile = tmp.file('crc/c/1/0');
    const before = flip(chunkFile, 5);
    const a = openZarr(tmp.file('crc'));
    try {
      assert.equal(a.get(0, 0), values[0]); // other chunks are fine
      throwsCode(() => a.get(4, 1), 'ERR_CHECKSUM');
      throwsCode(() => a.read(), 'ERR_CHECKSUM');
      throwsCode(() => a.sum(), 'ERR_CHECKSUM');
      throwsCode(() => a.chunk(1, 0), 'ERR_CHECKSUM');
    } finally {
      a.close();
    }
    assert.equal(fingerprint(chunkFile), before);
    const shardFile = tmp.file('crcshard/c/0/0');
    const before2 = flip(shardFile, -10); // inside the index at the end
    const b = openZarr(tmp.file('crcshard'));
    try {
      throwsCode(() => b.get(0, 0), 'ERR_CHECKSUM');
      assert.equal(b.get(5, 7), values[47]);
    } finally {
      b.close();
    }
    assert.equal(fingerprint(shardFile), before2);
  });

  it('inner chunks with their own crc32c: mapped in place after the check; a bad one is ERR_CHECKSUM', function () {
    Z.writeV3(tmp.file('innercrc'), { shape, chunks: [3, 4], shard: [6, 8], dtype: 'int32', values, innerAfter: ['crc32c'] });
    const a = openZarr(tmp.file('innercrc'));
    try {
      assert.ok(bytesOf(a.read()).equals(bytesOf(values)));
      const c = a.chunk(1, 1);
      assert.equal(c.filename, tmp.file('innercrc/c/0/0'));
      assert.equal(c.offset, 3 * (12 * 4 + 4)); // the fourth inner chunk, each 48 bytes + a checksum
      assert.equal(c.get(2, 3), values[5 * 8 + 7]);
    } finally {
      a.close();
    }
    const f = tmp.file('innercrc/c/0/0');
    const b = fs.readFileSync(f);
    b[60] ^= 1; // inside inner chunk 1
    fs.writeFileSync(f, b);
    const before = fingerprint(f);
    const z = openZarr(tmp.file('innercrc'));
    try {
      assert.equal(z.get(0, 0), values[0]);
      throwsCode(() => z.get(0, 4), 'ERR_CHECKSUM');
    } finally {
      z.close();
    }
    assert.equal(fingerprint(f), before);
  });

  it('a chunk of the wrong size, an index entry outside its shard and bad gzip data are ERR_ZARR_CHUNK', function () {
    Z.writeV3(tmp.file('size'), { shape, chunks: [3, 4], dtype: 'int32', values });
    fs.writeFileSync(tmp.file('size/c/0/1'), Buffer.alloc(12));
    Z.writeV3(tmp.file('gz'), { shape, chunks: [3, 4], dtype: 'int32', values, after: ['gzip'] });
    fs.writeFileSync(tmp.file('gz/c/1/1'), Buffer.from('not gzip at all'));
    Z.writeV3(tmp.file('idx'), { shape, chunks: [2, 2], shard: [4, 4], dtype: 'int32', values });
    // Point entry 1 past the end, and fix the index checksum so only the bound is wrong.
    const f = tmp.file('idx/c/0/0');
    const b = fs.readFileSync(f);
    const at = b.length - (16 * 4 + 4);
    b.writeBigUInt64LE(BigInt(b.length - 8), at + 16);
    Z.withCrc(b.subarray(at, at + 64)).copy(b, at);
    fs.writeFileSync(f, b);
    // A shard shorter than its index, and an entry with only one of its two all-ones words.
    Z.writeV3(tmp.file('short'), { shape, chunks: [2, 2], shard: [4, 4], dtype: 'int32', values });
    fs.writeFileSync(tmp.file('short/c/0/1'), Buffer.alloc(20));
    Z.writeV3(tmp.file('half'), { shape, chunks: [2, 2], shard: [4, 4], dtype: 'int32', values, skip: (c) => c[0] === 0 && c[1] === 0 });
    const h = tmp.file('half/c/0/0');
    const hb = fs.readFileSync(h);
    const hat = hb.length - (16 * 4 + 4);
    hb.writeBigUInt64LE(0n, hat + 8); // entry 0: offset 2^64-1, 0 bytes
    Z.withCrc(hb.subarray(hat, hat + 64)).copy(hb, hat);
    fs.writeFileSync(h, hb);
    for (const [name, idx] of [['size', [0, 5]], ['gz', [4, 5]], ['idx', [0, 2]], ['short', [0, 4]], ['half', [0, 0]]]) {
      const a = openZarr(tmp.file(name));
      try {
        throwsCode(() => a.get(...idx), 'ERR_ZARR_CHUNK');
        throwsCode(() => a.read(), 'ERR_ZARR_CHUNK');
      } finally {
        a.close();
      }
    }
  });

  it('fill values: "NaN", "±Infinity", hex bit patterns, complex pairs; v2-style chunk keys', function () {
    const cases = [
      ['float32', '0x7fc00001', (v) => Number.isNaN(v)],
      ['float64', '-Infinity', (v) => v === -Infinity],
      ['float64', '0x3ff8000000000000', (v) => v === 1.5],
      ['float16', '0x3c00', (v) => v === 1],
      ['complex64', ['NaN', '0x40000000'], (v) => Number.isNaN(v.re) && v.im === 2],
      ['complex128', [1.25, 'Infinity'], (v) => v.re === 1.25 && v.im === Infinity],
      ['bool', true, (v) => v === true],
      ['uint8', 200, (v) => v === 200],
    ];
    cases.forEach(([dtype, fill, ok], i) => {
      const dir = tmp.file(`fill${i}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'array', shape: [3], data_type: dtype, chunk_grid: { name: 'regular', configuration: { chunk_shape: [2] } }, chunk_key_encoding: { name: 'v2', configuration: { separator: '.' } }, codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], fill_value: fill }));
      const a = openZarr(dir);
      assert.ok(ok(a.get(2)), `${dtype} fill ${JSON.stringify(fill)} read ${show(a.get(2))}`);
      a.close();
    });
    // v2-style keys: '0.1' files.
    const dir = tmp.file('v2keys');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'array', shape: [2, 3], data_type: 'uint8', chunk_grid: { name: 'regular', configuration: { chunk_shape: [1, 2] } }, chunk_key_encoding: { name: 'v2', configuration: { separator: '.' } }, codecs: [{ name: 'bytes' }], fill_value: 0 }));
    fs.writeFileSync(path.join(dir, '1.1'), Buffer.from([7, 8]));
    const a = openZarr(dir);
    assert.deepEqual([...a.read()], [0, 0, 0, 0, 0, 7]);
    a.close();
  });

  it('copy() gives the selection as an in-memory array; a file: URL opens too; v2 fill_value null reads as 0', function () {
    Z.writeV3(tmp.file('cp'), { shape, chunks: [4, 3], dtype: 'int32', values, after: ['gzip'] });
    const a = openZarr(require('node:url').pathToFileURL(tmp.file('cp')));
    try {
      const c = a.copy([1, 5], [null, null, -2]);
      assert.deepEqual(c.shape, [4, 4]);
      assert.equal(c.filename, '');
      assert.deepEqual(c.tolist(), [1, 2, 3, 4].map((i) => [7, 5, 3, 1].map((j) => values[i * 8 + j])));
      assert.equal(a.sum([1, 5], [null, null, -2]), c.sum());
      assert.ok(a.is('int32') && a.is('<i4') && !a.is('float32'));
      throwsCode(() => a.is('float33'), 'ERR_INVALID_DTYPE');
      assert.match(a.describe(), /^ZarrArray\(".*cp", shape=\(6, 8\), dtype=int32, chunks=\(4, 3\), zarr_format=3\)$/);
    } finally {
      a.close();
    }
    const dir = tmp.file('v2null');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, '.zarray'), JSON.stringify({ zarr_format: 2, shape: [3], chunks: [2], dtype: '<f8', compressor: null, fill_value: null, filters: null, order: 'C' }));
    const b = openZarr(dir);
    assert.equal(b.fillValue, null);
    assert.deepEqual([...b.read()], [0, 0, 0]);
    assert.deepEqual(b.attributes, {});
    b.close();
  });

  it('gather(): points across chunks (mapped, compressed, missing) as numpy\'s z[ii, jj]; bad points are coded errors', function () {
    const skip = (c) => c[0] === 1 && c[1] === 0;
    Z.writeV3(tmp.file('g-raw'), { shape, chunks: [4, 3], dtype: 'int32', values, fill: -9, skip });
    Z.writeV3(tmp.file('g-gz'), { shape, chunks: [2, 2], shard: [4, 4], innerAfter: ['gzip'], dtype: 'int32', values, fill: -9, skip: (c) => c[0] === 2 });
    for (const name of ['g-raw', 'g-gz']) {
      const a = openZarr(tmp.file(name));
      try {
        const full = a.read();
        const ii = [0, 5, -1, 3, 4, 0, 2, 5];
        const jj = new Float64Array([0, 7, 2, -8, 1, 6, 3, 0]);
        const jjCopy = jj.slice();
        const got = a.gather(ii, jj);
        assert.ok(got instanceof Int32Array && got.length === 8);
        assert.deepEqual(jj, jjCopy); // the caller's index array is not touched
        for (let k = 0; k < 8; k++) {
          const i = ii[k] < 0 ? ii[k] + 6 : ii[k];
          const j = jj[k] < 0 ? jj[k] + 8 : jj[k];
          assert.equal(got[k], full[i * 8 + j], `${name} point ${k}`);
        }
        assert.ok(got.includes(-9)); // some points are in the missing chunk
        assert.equal(a.gather([], []).length, 0);
        throwsCode(() => a.gather([6], [0]), 'ERR_OUT_OF_RANGE');
        throwsCode(() => a.gather([0.5], [0]), 'ERR_INVALID_INDEX');
        throwsCode(() => a.gather([0, 1], [0]), 'ERR_INVALID_INDEX');
        throwsCode(() => a.gather([0]), 'ERR_INVALID_INDEX');
      } finally {
        a.close();
      }
    }
  });

  it('keeps at most maxMappings chunk mappings open, and close() releases them all (idempotent; then ERR_CLOSED)', function () {
    const big = new Int32Array(20 * 20).map((_, i) => i);
    Z.writeV3(tmp.file('many'), { shape: [20, 20], chunks: [2, 2], dtype: 'int32', values: big }); // 100 chunk files
    const all = openZarr(tmp.file('many'));
    assert.equal(all.sum(), big.reduce((s, x) => s + x, 0));
    assert.equal(all.openMappings, 100); // the default keeps 1024
    all.close();
    const a = openZarr(tmp.file('many'), { maxMappings: 64 });
    const got = a.read();
    assert.ok(bytesOf(got).equals(bytesOf(big)));
    assert.equal(a.sum(), big.reduce((s, x) => s + x, 0));
    assert.ok(a.openMappings <= 64 && a.openMappings > 0, `${a.openMappings} mappings`);
    // Walking every chunk, closing each: mapped, then released.
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        const ch = a.chunk(i, j);
        assert.equal(ch.filename, tmp.file(`many/c/${i}/${j}`));
        assert.equal(ch.get(1, 1), big[(2 * i + 1) * 20 + 2 * j + 1]);
        ch.close();
      }
    }
    const c = a.chunk(9, 9);
    assert.deepEqual([...c.read()], [378, 379, 398, 399]);
    a.close();
    a.close();
    assert.ok(a.closed && c.closed);
    for (const fn of [() => a.get(0, 0), () => a.read(), () => a.sum(), () => a.chunk(0, 0), () => a.openMappings]) throwsCode(fn, 'ERR_CLOSED');
    assert.match(String(a), /closed/);
  });
});

describe('openZarr(): bad input is a MemmapError with a code', function () {
  const tmp = useTmpDir();
  const meta = (over) => ({ zarr_format: 3, node_type: 'array', shape: [4], data_type: 'int16', chunk_grid: { name: 'regular', configuration: { chunk_shape: [2] } }, chunk_key_encoding: { name: 'default' }, codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], fill_value: 0, ...over });
  const make = (name, doc) => {
    const dir = tmp.file(name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'zarr.json'), typeof doc === 'string' ? doc : JSON.stringify(doc));
    return dir;
  };

  it('paths: missing directory (ENOENT), no metadata, a file, a group', function () {
    throwsCode(() => openZarr(tmp.file('nope')), 'ENOENT');
    fs.mkdirSync(tmp.file('empty'));
    throwsCode(() => openZarr(tmp.file('empty')), 'ERR_NOT_ZARR_ARRAY');
    throwsCode(() => listZarr(tmp.file('empty')), 'ERR_NOT_ZARR_ARRAY');
    fs.writeFileSync(tmp.file('plain'), 'x');
    throwsCode(() => openZarr(tmp.file('plain')), 'ERR_NOT_ZARR_ARRAY');
    throwsCode(() => openZarr(make('group', { zarr_format: 3, node_type: 'group', attributes: { a: 1 } })), 'ERR_NOT_ZARR_ARRAY');
    assert.deepEqual(listZarr(tmp.file('group')), { nodeType: 'group', zarrFormat: 3, attributes: { a: 1 }, members: [] });
    throwsCode(() => openZarr(42), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
  });

  it('metadata: bad JSON, wrong shapes, missing fields are ERR_ZARR_METADATA', function () {
    const bad = {
      json: '{"zarr_format": 3,',
      notObject: '[1, 2]',
      shape: meta({ shape: [-1] }),
      shapeType: meta({ shape: 'x' }),
      chunkDims: meta({ chunk_grid: { name: 'regular', configuration: { chunk_shape: [2, 2] } } }),
      chunkZero: meta({ chunk_grid: { name: 'regular', configuration: { chunk_shape: [0] } } }),
      noFill: meta({ fill_value: undefined }),
      badFill: meta({ fill_value: 'lots' }),
      fillRange: meta({ fill_value: 70000 }),
      noCodecs: meta({ codecs: [] }),
      twoBytes: meta({ codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'bytes' }] }),
      endian: meta({ codecs: [{ name: 'bytes', configuration: { endian: 'middle' } }] }),
      transpose: meta({ codecs: [{ name: 'transpose', configuration: { order: [1] } }, { name: 'bytes', configuration: { endian: 'little' } }] }),
      shardShape: meta({ codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [3] } }] }),
      format: meta({ zarr_format: 4 }),
      dims: meta({ dimension_names: ['a', 'b'] }),
    };
    for (const [name, doc] of Object.entries(bad)) {
      const dir = make(name, doc);
      const err = throwsCode(() => openZarr(dir), 'ERR_ZARR_METADATA');
      assert.ok(err instanceof MemmapError && err.path, name);
    }
  });

  it('unsupported codecs (ERR_UNSUPPORTED_CODEC, naming them) and features (ERR_ZARR_UNSUPPORTED)', function () {
    const codecs = {
      lz4: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'lz4' }],
      'numcodecs.bz2': [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'numcodecs.bz2' }],
      'made-up': [{ name: 'made-up' }],
      'crc32c (after sharding_indexed)': [{ name: 'sharding_indexed', configuration: { chunk_shape: [1] } }, { name: 'crc32c' }],
    };
    for (const [name, list] of Object.entries(codecs)) {
      const err = throwsCode(() => openZarr(make(`codec-${name}`, meta({ codecs: list }))), 'ERR_UNSUPPORTED_CODEC');
      assert.ok(err.message.includes(name));
    }
    const features = {
      string: meta({ data_type: 'string' }),
      rectilinear: meta({ chunk_grid: { name: 'rectilinear', configuration: {} } }),
      keys: meta({ chunk_key_encoding: { name: 'fancy' } }),
      transformers: meta({ storage_transformers: [{ name: 'x' }] }),
    };
    for (const [name, doc] of Object.entries(features)) throwsCode(() => openZarr(make(`feature-${name}`, doc)), 'ERR_ZARR_UNSUPPORTED');
  });

  it('a polluted Object.prototype adds no metadata (fields are read as own properties)', function () {
    const dir = make('polluted', meta({ attributes: undefined }));
    const noEndian = make('polluted-endian', meta({ codecs: [{ name: 'bytes' }] })); // int16 needs an endian
    fs.mkdirSync(path.join(dir, 'c'));
    fs.writeFileSync(path.join(dir, 'c', '0'), Buffer.from([1, 0, 2, 0])); // int16 little-endian [1, 2] at key c/0
    const keys = { storage_transformers: [{ name: 'x' }], attributes: { injected: true }, dimension_names: 5, configuration: { endian: 'big' }, endian: 'big', separator: '.' };
    for (const [k, v] of Object.entries(keys)) Object.defineProperty(Object.prototype, k, { value: v, configurable: true, writable: true });
    try {
      const a = openZarr(dir);
      assert.deepEqual(a.attributes, {});
      assert.equal(a.dimensionNames, null);
      assert.deepEqual([...a.read()], [1, 2, 0, 0]);
      throwsCode(() => openZarr(noEndian), 'ERR_ZARR_METADATA');
      a.close();
    } finally {
      for (const k of Object.keys(keys)) delete Object.prototype[k];
    }
  });

  it("options: mode 'w+' is ERR_INVALID_MODE ('r+' opens for writing), unknown options ERR_UNKNOWN_OPTION, bad modes ERR_INVALID_MODE", function () {
    const dir = make('ok', meta({}));
    throwsCode(() => openZarr(dir, { mode: 'w+' }), 'ERR_INVALID_MODE');
    openZarr(dir, { mode: 'r+' }).close();
    throwsCode(() => openZarr(dir, { mdoe: 'r' }), 'ERR_UNKNOWN_OPTION', MemmapTypeError);
    throwsCode(() => openZarr(dir, { mode: 'rw' }), 'ERR_INVALID_MODE');
    throwsCode(() => openZarr(dir, 'r'), 'ERR_INVALID_ARG_TYPE');
    const a = openZarr(dir, { mode: 'r' });
    assert.deepEqual([...a.read()], [0, 0, 0, 0]); // no chunk files: all fill
    throwsCode(() => a.get(4), 'ERR_OUT_OF_RANGE');
    throwsCode(() => a.get(0, 0), 'ERR_INVALID_INDEX');
    throwsCode(() => a.read(null, null), 'ERR_INVALID_INDEX');
    throwsCode(() => a.read({ into: 1 }), 'ERR_UNKNOWN_OPTION');
    throwsCode(() => a.read({ out: 1 }), 'ERR_INVALID_ARG_TYPE');
    throwsCode(() => a.chunk(2), 'ERR_OUT_OF_RANGE');
    throwsCode(() => ZarrArray.prototype.get.call({}, 0), 'ERR_INVALID_ARG_TYPE');
    throwsCode(() => new ZarrArray(), 'ERR_ILLEGAL_CONSTRUCTOR');
    a.close();
  });
});
