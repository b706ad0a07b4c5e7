'use strict';
// openNpy() with the dtype (or shape) the caller expects: the header must
// match, else ERR_DTYPE_MISMATCH / ERR_SHAPE_MISMATCH and nothing is changed;
// memmap() refuses a .npy file at offset 0 (it would read the header as data)
// unless asked to map the raw bytes.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { openNpy, memmap } = require('..');
const { throwsCode } = require('./helpers/assert');
const { runPython } = require('./helpers/python');
const { useTmpDir, fingerprint } = require('./helpers/tmp');

describe('openNpy() with an expected dtype or shape', function () {
  const tmp = useTmpDir();
  let i16;
  let be;
  before(function () {
    i16 = tmp.file('i16.npy');
    be = tmp.file('be.npy');
    runPython(`import numpy as np, sys
np.save(sys.argv[1], np.arange(12, dtype=np.int16).reshape(3, 4))
np.save(sys.argv[2], np.arange(4, dtype='>f4'))`, [i16, be]);
  });

  it('opens when the header matches (by name, alias or type string), typed as asked', function () {
    for (const dtype of ['int16', 'short', 'i2', '<i2', '=i2']) {
      const a = openNpy(i16, { dtype, mode: 'r' });
      assert.equal(a.dtype, 'int16');
      assert.ok(a.data instanceof Int16Array);
      a.close();
    }
    const b = openNpy(be, { dtype: 'float32', shape: [4] });
    assert.equal(b.descr, '>f4');
    b.close();
    const c = openNpy(be, { dtype: '>f4', shape: 4 });
    assert.equal(c.get(3), 3);
    c.close();
  });

  it('refuses another dtype, an explicit other byte order or another shape, in every mode, leaving the file unchanged', function () {
    for (const mode of ['r', 'r+', 'c']) {
      const before = fingerprint(i16);
      throwsCode(() => openNpy(i16, { dtype: 'float32', mode }), 'ERR_DTYPE_MISMATCH');
      throwsCode(() => openNpy(i16, { dtype: 'uint16', mode }), 'ERR_DTYPE_MISMATCH');
      throwsCode(() => openNpy(i16, { shape: [4, 3], mode }), 'ERR_SHAPE_MISMATCH');
      throwsCode(() => openNpy(i16, { shape: [3, 4, 1], mode }), 'ERR_SHAPE_MISMATCH');
      throwsCode(() => openNpy(be, { dtype: '<f4', mode }), 'ERR_DTYPE_MISMATCH');
      throwsCode(() => openNpy(i16, { dtype: 'float33', mode }), 'ERR_INVALID_DTYPE');
      assert.deepEqual(fingerprint(i16), before);
    }
  });
});

describe('memmap() of a .npy file', function () {
  const tmp = useTmpDir();

  it('refuses a file that starts with the .npy magic (ERR_NPY_FILE, file unchanged) unless allowNpy: true', function () {
    const f = tmp.file('a.npy');
    runPython('import numpy as np, sys\nnp.save(sys.argv[1], np.arange(8, dtype=np.float32))', [f]);
    const before = fingerprint(f);
    for (const mode of ['r', 'r+', 'c']) {
      throwsCode(() => memmap(f, { dtype: 'float32', mode }), 'ERR_NPY_FILE');
      throwsCode(() => memmap(f, { dtype: 'float32', mode, shape: [1000] }), 'ERR_NPY_FILE'); // 'r+' would have grown it
      assert.deepEqual(fingerprint(f), before);
    }
    const raw = memmap(f, { allowNpy: true });
    assert.deepEqual([...raw.bytes.subarray(0, 6)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
    raw.close();
    // An offset past the magic maps data on purpose (numpy's idiom): allowed.
    const data = memmap(f, { dtype: 'float32', offset: 128, shape: [8] });
    assert.equal(data.get(7), 7);
    data.close();
    // 'w+' creates the file anew: nothing to refuse.
    const w = memmap(f, { mode: 'w+', shape: [4] });
    w.close();
    assert.equal(fs.statSync(f).size, 4);
    throwsCode(() => memmap(f, { allowNpy: 'yes' }), 'ERR_INVALID_ARG_TYPE');
  });

  it('reads nothing at open of a file with another name (the magic check is for *.npy names only)', function () {
    const f = tmp.file('a.NPY');
    const g = tmp.file('raw.arr');
    runPython('import numpy as np, sys\nfor p in sys.argv[1:]: np.save(open(p, "wb"), np.arange(8, dtype=np.float32))', [f, g]);
    throwsCode(() => memmap(f), 'ERR_NPY_FILE'); // any case
    const raw = memmap(g);
    assert.equal(raw.get(0), 0x93);
    raw.close();
  });
});
