'use strict';
// Deterministic fuzz of the .npy reader (fixed seed): thousands of mutated
// valid headers never crash, hang, throw anything but MemmapError or change
// the file; a sample is compared with numpy. `npm run fuzz:npy` runs more.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fuzz, compareWithNumpy } = require('../scripts/fuzz-npy');
const { runPython } = require('./helpers/python');

describe('.npy reader fuzz (seed 20261126, 3000 mutations)', function () {
  let res;
  before(function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-fuzz-'));
    res = fuzz({ seed: 20261126, count: 3000, sample: 400, dir });
  });
  after(function () {
    if (res) fs.rmSync(res.dir, { recursive: true, force: true });
  });

  it('never throws anything but MemmapError, never hangs, never changes the file', function () {
    assert.deepEqual(res.failures, []);
    assert.equal(res.stats.total, 3000);
  });

  it('exercises every refusal and some acceptances', function () {
    for (const code of ['ERR_NPY_BAD_MAGIC', 'ERR_NPY_VERSION', 'ERR_NPY_TRUNCATED', 'ERR_NPY_HEADER', 'ERR_NPY_DTYPE']) {
      assert.ok(res.stats.codes[code] > 0, `${code} never seen: ${JSON.stringify(res.stats.codes)}`);
    }
    assert.ok(res.stats.accepted > 50, `only ${res.stats.accepted} accepted`);
  });

  it('accepts and refuses exactly what numpy does on a sample of 400', function () {
    assert.equal(res.kept.length, 400);
    assert.ok(res.kept.some((k) => k.ours.ok));
    assert.deepEqual(compareWithNumpy(res.kept, runPython), []);
  });
});
