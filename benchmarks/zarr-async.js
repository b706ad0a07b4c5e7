'use strict';
// How long a ZarrArray's async twins block the event loop: each call on a warm n x n float32 store (uncompressed
// sharded, and zstd), run whole on the off-thread worker (lib/zarr-offthread.ts) and, alternating in the same process,
// the way small selections still run (chunks loaded off the thread, the call on it). Reports the event loop's longest
// delay during the call (monitorEventLoopDelay, 1 ms resolution) and the call's wall time, medians.
//   node benchmarks/zarr-async.js [--n 8192] [--runs 3]      (npm run bench:zarr-async)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { parseArgs, runMain } = require('./kit/args');
const { median } = require('./kit/stats');

const OPTIONS = {
  n: { type: 'int', default: 8192, help: 'side of the n x n float32 array (a multiple of 4096)' },
  runs: { type: 'int', default: 3, help: 'calls per case and way, alternating (median reported)' },
};

const CALLS = [
  { name: 'sumAsync()', run: (z) => z.sumAsync() },
  { name: 'sumAsync({ axis: 0 })', run: (z) => z.sumAsync({ axis: 0 }) },
  { name: 'maxAsync()', run: (z) => z.maxAsync() },
  { name: 'varAsync()', run: (z) => z.varAsync() },
  { name: 'readAsync(first quarter of rows)', run: (z) => z.readAsync([0, z.shape[0] / 4]) },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The call's wall time and the event loop's longest delay meanwhile (ms). */
async function measure(fn) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await sleep(20); // the histogram drops its first interval
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  await sleep(20); // a blocked timer fires and reports
  h.disable();
  return { wall, loop: h.max / 1e6 };
}

async function main() {
  const { n, runs } = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/zarr-async.js [options]   (npm run bench:zarr-async -- [options])' });
  if (n % 4096 !== 0) throw new Error('--n must be a multiple of 4096');
  const { createZarr, openZarr } = require('..');
  const { offThreadForTests } = require('../dist/zarr-offthread');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-zarr-async-'));
  try {
    const values = new Float32Array(n * n);
    for (let i = 0; i < values.length; i++) values[i] = (i % 1009) * 0.25;
    const layouts = [
      { name: 'uncompressed, sharded', opts: { chunks: [256, 256], shards: [4096, 4096] } },
      { name: 'zstd, sharded', opts: { chunks: [256, 256], shards: [4096, 4096], compressor: 'zstd' } },
    ];
    console.log(`# ${n} x ${n} float32, chunks 256 x 256, shards 4096 x 4096; warm; ${runs} calls per way (median); ${new Date().toISOString()}`);
    console.log('| store | call | event loop max: on the worker | on the JS thread | wall: on the worker | on the JS thread |');
    console.log('|---|---|---|---|---|---|');
    for (const l of layouts) {
      const file = path.join(dir, `${l.opts.compressor ?? 'raw'}.zarr`);
      const w = createZarr(file, { shape: [n, n], dtype: 'float32', ...l.opts });
      w.write(values);
      w.close();
      const z = openZarr(file);
      z.sum(); // warm: the page cache, and this opening's mappings
      for (const c of CALLS) {
        if (l.opts.compressor && c.name !== 'sumAsync()') continue;
        const got = { worker: [], here: [] };
        for (let k = 0; k < runs + 1; k++) {
          for (const way of ['worker', 'here']) {
            const old = offThreadForTests.setBytes(way === 'worker' ? 0 : Infinity);
            try {
              const m = await measure(() => c.run(z));
              if (k > 0) got[way].push(m); // the first of each: the thread's opening of the store, its JIT
            } finally {
              offThreadForTests.setBytes(old);
            }
          }
        }
        const med = (way, key) => median(got[way].map((m) => m[key])).toFixed(1);
        console.log(`| ${l.name} | \`${c.name}\` | ${med('worker', 'loop')} ms | ${med('here', 'loop')} ms | ${med('worker', 'wall')} ms | ${med('here', 'wall')} ms |`);
      }
      z.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
