'use strict';
// Issue 5: split a warm array across worker threads with share()/fromShared().
// Compares 1 worker scanning the whole array with N workers scanning equal
// parts, alternating runs so machine noise hits both alike.
//   node benchmarks/parallel-scan.js [--mib 2048] [--workers 2] [--runs 7]
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { memmap, fromShared } = require('..');
const { parseArgs, runMain } = require('./kit/args');
const { median } = require('./kit/stats');

const OPTIONS = {
  mib: { type: 'int', default: 2048, help: 'size of the array in MiB' },
  workers: { type: 'int', default: 2, help: 'worker threads that split the scan' },
  runs: { type: 'int', default: 7, help: 'alternating runs of 1 worker and N workers (median reported)' },
};

/** Sums elements [from, to) of the shared array, segment by segment. */
function scanPart(token, from, to) {
  const a = fromShared(token);
  try {
    let sum = 0;
    for (const { start, length, data } of a.segments()) {
      const lo = Math.max(from, start) - start;
      const hi = Math.min(to, start + length) - start;
      for (let i = lo; i < hi; i++) sum += data[i];
    }
    return sum;
  } finally {
    a.close();
  }
}

if (!isMainThread) {
  parentPort.on('message', ({ from, to }) => {
    const t0 = process.hrtime.bigint();
    const sum = scanPart(workerData, from, to);
    parentPort.postMessage({ sum, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
  });
} else {
  runMain(main);
}

function main() {
  const { mib, workers: nworkers, runs } = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/parallel-scan.js [options]   (npm run bench:parallel -- [options])' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-par-'));
  const file = path.join(dir, 'scan.f32');
  const n = (mib * 2 ** 20) / 4;
  return (async () => {
    const w = memmap(file, { dtype: 'float32', shape: [n], mode: 'w+' });
    for (const { start, data } of w.segments()) for (let i = 0; i < data.length; i++) data[i] = (start + i) % 7;
    w.flush();
    const token = w.share();
    const pool = Array.from({ length: nworkers }, () => new Worker(__filename, { workerData: token }));
    const ask = (worker, from, to) =>
      new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage({ from, to });
      });
    const one = async () => {
      const t0 = process.hrtime.bigint();
      const r = await ask(pool[0], 0, n);
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, sum: r.sum };
    };
    const many = async () => {
      const t0 = process.hrtime.bigint();
      const step = Math.ceil(n / nworkers);
      const rs = await Promise.all(pool.map((wk, k) => ask(wk, k * step, Math.min(n, (k + 1) * step))));
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, sum: rs.reduce((s, r) => s + r.sum, 0) };
    };
    await one(); // warm the page cache and the JIT in every worker
    await many();
    const t1 = [];
    const tn = [];
    for (let r = 0; r < runs; r++) {
      const a = await one();
      const b = await many();
      if (a.sum !== b.sum) throw new Error(`sums differ: ${a.sum} vs ${b.sum}`);
      t1.push(a.ms);
      tn.push(b.ms);
    }
    const m1 = median(t1);
    const mn = median(tn);
    const gbs = (ms) => ((n * 4) / 2 ** 30 / (ms / 1000)).toFixed(2);
    console.log(`parallel scan of a warm ${mib} MiB float32 array (node ${process.version}, ${os.cpus().length} cpus, median of ${runs})`);
    console.log(`  1 worker : ${m1.toFixed(1)} ms  (${gbs(m1)} GiB/s)`);
    console.log(`  ${nworkers} workers: ${mn.toFixed(1)} ms  (${gbs(mn)} GiB/s)`);
    console.log(`  speedup  : ${(m1 / mn).toFixed(2)}x`);
    await Promise.all(pool.map((wk) => wk.terminate()));
    w.close();
  })()
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    })
    .finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}
