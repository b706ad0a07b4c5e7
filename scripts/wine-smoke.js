'use strict';
// The acceptance check of the packed package on Windows (scripts/test-wine.sh
// copies this file next to a node_modules/ where the tarball is installed and
// runs it in node.exe under wine): the installed package loads its win32
// prebuild, maps, reads, writes, flushes and closes a file; the caller checks
// the file's bytes from Linux. argv: the data file. Prints one JSON line.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const file = process.argv[2];
const installed = path.dirname(require.resolve('memmap/package.json'));
assert.equal(installed, path.join(__dirname, 'node_modules', 'memmap'), 'the installed package, not a checkout');
const binary = require('node-gyp-build').path(installed);
assert.match(binary, /[\\/]prebuilds[\\/]win32-x64[\\/]memmap\.node$/);
const { memmap, MemmapError } = require('memmap');

const a = memmap(file, { mode: 'w+', dtype: 'float64', shape: [3, 4] });
for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) a.set(i, j, i * 10 + j + 0.5);
a.flush();
a.close();
assert.throws(() => a.get(0, 0), (err) => err instanceof MemmapError && err.code === 'ERR_CLOSED');

const b = memmap(file, { mode: 'r+', dtype: 'float64', shape: [3, 4] });
assert.equal(b.get(2, 3), 23.5);
assert.equal(b.sum(), 144); // (0+1+2+3)*3 + (0+10+20)*4 + 0.5*12
b.set(0, 0, -1);
b.data[5] = 42; // element (1, 1) through the zero-copy TypedArray
b.flush();
b.close();
// Windows cuts no mapped file: after close() nothing maps it any more.
const copy = `${file}.copy`;
fs.copyFileSync(file, copy);
const c = memmap(copy, { mode: 'r', dtype: 'float64' });
const first = c.get(0);
c.close();
fs.truncateSync(copy, 8);
fs.unlinkSync(copy);

import('memmap').then((esm) => {
  assert.equal(typeof esm.memmap, 'function', 'the ESM entry');
  console.log(JSON.stringify({ platform: process.platform, arch: process.arch, node: process.version, binary: path.relative(__dirname, binary), first }));
});
