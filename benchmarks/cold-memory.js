'use strict';
// Why a cold full scan's time depends on what ran before it, on this repository's VMs: the same cold 1 GiB scan
// (a.sum() of the C-order file and of the sharded Zarr store, each in a fresh process right after the runner evicts
// it) started at once, and started `--wait` ms after the eviction. The Zarr bars compare these scans; the full
// `bench:zarr` run lands each in whatever state the cases before it left.
//   node benchmarks/cold-memory.js [--size 1G] [--runs 3] [--wait 5000]
// Each scan's wall time and its process's user/system CPU; the work is the same in every row.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs, runMain } = require('./kit/args');
const { median } = require('./kit/stats');
const { sideForBytes, ensureArrayFile } = require('./common');
const { ensureZarrStore } = require('./kit/zarr');
const { makeCold, makeWarm } = require('./kit/cache');
const { sleepMs } = require('./kit/child');

const OPTIONS = {
  size: { type: 'bytes', default: 2 ** 30, defaultText: '1G', help: 'bytes of the array (n x n float32)' },
  runs: { type: 'int', default: 3, help: 'scans per layout and wait' },
  wait: { type: 'int', default: 5000, metavar: 'MS', help: 'the pause after the eviction in the second set of rows' },
  'data-dir': { type: 'path', metavar: 'DIR', default: path.join(__dirname, 'data'), defaultText: 'benchmarks/data', help: 'where the data files live (shared with run.js)' },
};

/** The child: opens the layout, times one full sum(), reports wall and CPU. */
function child(file, n) {
  const { memmap, openZarr } = require('..');
  const a = file.endsWith('.zarr') ? openZarr(file) : memmap(file, { dtype: 'float32', shape: [n, n] });
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const sum = a.sum();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  a.close();
  process.stdout.write(JSON.stringify({ sum, wallMs, userMs: c.user / 1e3, sysMs: c.system / 1e3 }));
}

function main() {
  const opts = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/cold-memory.js [options]' });
  const n = sideForBytes(opts.size);
  const dir = opts.dataDir;
  const { file } = ensureArrayFile(dir, n, 'C', console.log);
  const { file: store } = ensureZarrStore(dir, n, 'zarr', file, console.log);
  console.log(`cold full scan sum(), ${n} x ${n} float32, median of ${opts.runs} (fresh process each; warmed, then evicted)`);
  console.log('layout | pause after eviction | wall | user CPU | system CPU');
  console.log('---|---|---|---|---');
  let sum = null; // every scan sums the same values (the store was converted from the file)
  for (const wait of [0, opts.wait]) {
    for (const [name, target] of [['C-order file', file], ['Zarr, sharded', store]]) {
      const rows = [];
      for (let r = 0; r < opts.runs; r++) {
        makeWarm(target);
        if (makeCold(target) > 0.01) throw new Error(`could not evict ${target}`);
        sleepMs(wait);
        const out = spawnSync(process.execPath, [__filename, '--child', target, String(n)], { encoding: 'utf8' });
        if (out.status !== 0) throw new Error(out.stderr);
        const row = JSON.parse(out.stdout);
        if (sum !== null && row.sum !== sum) throw new Error(`${name}: sum ${row.sum}, expected ${sum}`);
        sum = row.sum;
        rows.push(row);
      }
      const med = (k) => `${median(rows.map((x) => x[k])).toFixed(0)} ms`;
      console.log(`${name} | ${wait} ms | ${med('wallMs')} (${rows.map((x) => x.wallMs.toFixed(0)).join(', ')}) | ${med('userMs')} | ${med('sysMs')}`);
    }
  }
  const reporting = '/sys/module/page_reporting/parameters/page_reporting_order';
  console.log(`\nfree page reporting: ${fs.existsSync(reporting) ? `on (order ${fs.readFileSync(reporting, 'utf8').trim()})` : 'off'}`);
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]));
else runMain(main);
