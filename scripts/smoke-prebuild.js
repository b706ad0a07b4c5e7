'use strict';
// Loads this package through node-gyp-build (run with PREBUILDS_ONLY=1), maps
// a file of numpy-made float32 values, writes an int64 file and reads it back,
// and checks that the binary picked is the one expected.
// Usage: node scripts/smoke-prebuild.js <dataDir> <regexp the binary's path must match>
// (the data dir holds a.f32: numpy's arange(6, dtype='<f4')).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const [dir, want] = process.argv.slice(2);
const m = require(root);
const a = m.memmap(path.join(dir, 'a.f32'), { dtype: 'float32', shape: [2, 3] });
const view = a.data;
assert.deepEqual(Array.from(view), [0, 1, 2, 3, 4, 5]);
assert.equal(a.get(1, 2), 5);
a.close();
assert.equal(view.length, 0, 'close() detached the view');
const w = m.memmap(path.join(dir, 'w.i64'), { dtype: 'int64', mode: 'w+', shape: 3 });
w.data.set([1n, -2n, 2n ** 62n]);
w.flush();
w.close();
const b = fs.readFileSync(path.join(dir, 'w.i64'));
assert.deepEqual(Array.from(new BigInt64Array(b.buffer, b.byteOffset, 3)), [1n, -2n, 2n ** 62n]);
const binary = require('node-gyp-build').path(root);
assert.match(binary, new RegExp(want));
console.log(`smoke check passed: ${process.platform}-${process.arch} Node ${process.version}, ${path.relative(root, binary)}`);
