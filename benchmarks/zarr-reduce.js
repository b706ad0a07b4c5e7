'use strict';
// Reductions and reads of a ZarrArray against the same calls on the C-order file (MemmapArray), warm, alternating in
// one process: what chunking costs each kind of call (docs/zarr.md, Computing across chunks).
//   node benchmarks/zarr-reduce.js [--n 8192] [--runs 5]      (npm run bench:zarr-reduce)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs, runMain } = require('./kit/args');
const { median } = require('./kit/stats');

const OPTIONS = {
  n: { type: 'int', default: 8192, help: 'side of the n x n float32 array (a multiple of 4096)' },
  runs: { type: 'int', default: 5, help: 'timed calls per case and layout, alternating (median reported)' },
};

const CALLS = [
  { name: 'sum()', run: (a) => a.sum() },
  { name: 'sum({ axis: 0 })', run: (a) => a.sum({ axis: 0 }) },
  { name: 'sum({ axis: 1 })', run: (a) => a.sum({ axis: 1 }) },
  { name: 'max()', run: (a) => a.max() },
  { name: 'max({ axis: 0 })', run: (a) => a.max({ axis: 0 }) },
  { name: 'argmax()', run: (a) => a.argmax() },
  { name: 'any({ axis: 1 })', run: (a) => a.any({ axis: 1 }) },
  { name: 'var()', run: (a) => a.var() },
  { name: 'read() of a quarter of the rows, into out', run: (a, out) => a.read([0, a.shape[0] / 4], { out }) },
];

function main() {
  const { n, runs } = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/zarr-reduce.js [options]   (npm run bench:zarr-reduce -- [options])' });
  if (n % 4096 !== 0) throw new Error('--n must be a multiple of 4096');
  const { memmap, createZarr, openZarr } = require('..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-zarr-reduce-'));
  try {
    const file = path.join(dir, 'a.f32');
    const c = memmap(file, { dtype: 'float32', shape: [n, n], mode: 'w+' });
    for (let i = 0; i < c.data.length; i++) c.data[i] = (i % 1009) * 0.25 - 100;
    const store = path.join(dir, 'a.zarr');
    const w = createZarr(store, { shape: [n, n], dtype: 'float32', chunks: [256, 256], shards: [4096, 4096] });
    w.write(c.data);
    w.close();
    const z = openZarr(store);
    const out = new Float32Array((n / 4) * n);
    console.log(`# ${n} x ${n} float32; store: 256 x 256 chunks, 4096 x 4096 shards, uncompressed; warm; ${runs} calls per layout (median); ${new Date().toISOString()}`);
    console.log('| call | Zarr store | C-order file | store / file |');
    console.log('|---|---|---|---|');
    for (const call of CALLS) {
      const t = { z: [], c: [] };
      for (let k = 0; k < runs + 1; k++) {
        for (const [key, a] of [['z', z], ['c', c]]) {
          const t0 = process.hrtime.bigint();
          call.run(a, out);
          if (k > 0) t[key].push(Number(process.hrtime.bigint() - t0) / 1e6); // the first: mappings and JIT
        }
      }
      const mz = median(t.z);
      const mc = median(t.c);
      console.log(`| \`${call.name}\` | ${mz.toFixed(1)} ms | ${mc.toFixed(1)} ms | ${(mz / mc).toFixed(2)}x |`);
    }
    z.close();
    c.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
