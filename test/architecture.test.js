'use strict';
// The module map of docs/development.md ("Architecture"), enforced: the view
// model, codecs, windows and storages know nothing of the array class or the
// file formats; the class knows no format; only the storages, the factories
// and the formats talk to the addon; the native core has no Node-API.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const LIB = path.join(__dirname, '..', 'lib');
const NATIVE = path.join(__dirname, '..', 'src-native');

/** Local modules a lib/ file imports (type-only imports included: they are dependencies too). */
function importsOf(file) {
  const text = fs.readFileSync(path.join(LIB, file), 'utf8');
  return [...text.matchAll(/^import[^;]*?from '\.\/([a-z0-9-]+)'/gms)].map((m) => m[1]);
}

const modules = fs.readdirSync(LIB).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
const FORMATS = ['npy', 'pyliteral', 'cli'];
const CLASS_AND_UP = ['array', 'memmap', 'share', 'index', ...FORMATS];

describe('architecture: what each module may import (docs/development.md)', function () {
  it('every import names a module that exists', function () {
    for (const m of modules) for (const dep of importsOf(`${m}.ts`)) assert.ok(modules.includes(dep), `${m} imports ${dep}`);
  });

  it('the view model, dtypes, codecs, windows, storages and the ndarray adapter import neither the array class nor a format', function () {
    const core = ['errors', 'boundary', 'options', 'modes', 'dtype', 'codec', 'layout', 'storage', 'storage-mapped', 'storage-heap', 'windows', 'ndarray', 'ndview', 'paths', 'float16', 'binding'];
    for (const m of core) {
      assert.ok(modules.includes(m), `${m}.ts exists`);
      for (const dep of importsOf(`${m}.ts`)) assert.ok(!CLASS_AND_UP.includes(dep), `${m} imports ${dep}`);
    }
  });

  it('the array class imports no format, and only index.ts imports everything', function () {
    for (const dep of importsOf('array.ts')) assert.ok(!FORMATS.includes(dep) && dep !== 'memmap' && dep !== 'index', `array imports ${dep}`);
    for (const m of modules) if (m !== 'index') assert.ok(!importsOf(`${m}.ts`).includes('index'), `${m} imports index`);
  });

  it('a storage imports no other storage, and storage.ts (the interface) imports nothing', function () {
    const storages = modules.filter((m) => m.startsWith('storage-'));
    assert.ok(storages.length >= 2);
    for (const s of storages) for (const dep of importsOf(`${s}.ts`)) assert.ok(!dep.startsWith('storage-'), `${s} imports ${dep}`);
    assert.deepEqual(importsOf('storage.ts'), []);
  });

  it('only binding.ts loads the addon; only storages, factories and formats use it', function () {
    const users = modules.filter((m) => /\bnative\b[,} ]/.test((fs.readFileSync(path.join(LIB, `${m}.ts`), 'utf8').match(/^import[^;]*from '\.\/binding'/m) || [''])[0]));
    // zarr-reduce.ts is the Zarr format's reductions: native kernels over a chunk's bytes; zarr.ts its read(), one
    // native copy over many chunks' storages (native.copyChunks).
    assert.deepEqual(users.sort(), ['memmap', 'npy', 'share', 'storage-heap', 'storage-mapped', 'zarr', 'zarr-reduce']);
    for (const m of modules) {
      if (m === 'binding') continue;
      assert.ok(!fs.readFileSync(path.join(LIB, `${m}.ts`), 'utf8').includes('node-gyp-build'), `${m} loads the addon`);
    }
  });

  it('the native core (everything but binding.cc) includes no Node-API header', function () {
    const files = fs.readdirSync(NATIVE).filter((f) => f !== 'binding.cc');
    assert.ok(files.includes('dtypes.h') && files.includes('regions.cc') && files.includes('kernels.cc'));
    for (const f of files) assert.doesNotMatch(fs.readFileSync(path.join(NATIVE, f), 'utf8'), /#include\s*[<"](napi|node_api|node)\.h[>"]/, f);
  });
});
