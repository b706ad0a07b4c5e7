// ESM consumers: `import { memmap, MemmapError } from 'memmap'` (the package
// root, resolved through package.json "exports") works and shares one
// instance with require('memmap').
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import memmapDefault, { memmap, openNpy, MemmapError, MemmapTypeError, MemmapArray, maxBufferLength, parseDType } from 'memmap';
import * as ns from 'memmap';

const require = createRequire(import.meta.url);

describe('ESM entry', function () {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-esm-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("resolves 'memmap' to the ESM build, with the same exports as require('memmap')", function () {
    const cjs = require('memmap');
    assert.equal(import.meta.resolve('memmap'), new URL('../dist/index.mjs', import.meta.url).href);
    assert.equal(typeof memmap, 'function');
    assert.equal(memmap, cjs.memmap, 'one shared instance, not a second copy of the module');
    assert.equal(MemmapError, cjs.MemmapError);
    assert.equal(MemmapArray, cjs.MemmapArray);
    assert.equal(maxBufferLength, cjs.maxBufferLength);
    for (const name of Object.keys(cjs)) assert.ok(name in ns, `ESM exports ${name}`);
  });

  it('the namespace is exactly the CommonJS exports: no __esModule marker, nothing missing', async function () {
    const cjs = require('memmap');
    const keys = Object.keys(await import('memmap'));
    assert.ok(!keys.includes('__esModule'), `the ESM namespace lists __esModule: ${keys.join(', ')}`);
    assert.equal(cjs.__esModule, true, 'the CommonJS build keeps the marker (TypeScript interop reads it)');
    assert.deepEqual(keys.slice().sort(), Object.keys(cjs).sort());
  });

  it('import memmap, { openNpy } from "memmap": the default export is memmap(), also as require("memmap").default', function () {
    const cjs = require('memmap');
    assert.equal(memmapDefault, memmap);
    assert.equal(ns.default, memmap);
    assert.equal(cjs.default, cjs.memmap);
    const file = path.join(dir, 'default.npy');
    openNpy(file, { mode: 'w+', dtype: 'int16', shape: [3] }).close();
    const a = memmapDefault(file, { dtype: 'int16', offset: 128 });
    assert.deepEqual([a.dtype, a.shape], ['int16', [3]]);
    a.close();
  });

  it('maps, reads, writes and closes', function () {
    const file = path.join(dir, 'esm.bin');
    const a = memmap(file, { mode: 'w+', dtype: 'float32', shape: [2, 2] });
    assert.ok(a instanceof MemmapArray);
    a.set(1, 1, 2.5);
    a.flush();
    const d = a.data;
    a.close();
    assert.equal(d.length, 0);
    assert.equal(fs.readFileSync(file).readFloatLE(12), 2.5);
    const b = memmap(file, { dtype: parseDType('<f4').descr });
    assert.deepEqual(Array.from(b.data), [0, 0, 0, 2.5]);
    b.close();
  });

  it('errors are MemmapError instances with codes', function () {
    assert.throws(() => memmap(path.join(dir, 'missing.bin')), (err) => err instanceof MemmapError && err.code === 'ENOENT');
    assert.throws(
      () => memmap(path.join(dir, 'esm.bin'), { dtype: 'U4' }),
      (err) => err instanceof MemmapError && err instanceof MemmapTypeError && err instanceof TypeError && err.code === 'ERR_INVALID_DTYPE',
    );
  });
});
