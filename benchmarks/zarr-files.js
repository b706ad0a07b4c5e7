'use strict';
// What a store's file count costs a warm full scan, and what openZarr()'s maxMappings buys back: the same n x n
// float32 values as one C-order file and as Zarr stores of many files (v2, one file per chunk) and of few (v3
// sharded), each summed in one process after a first scan, with the default bound and with one that holds every file.
//   node benchmarks/zarr-files.js [--n 8192] [--runs 7]      (npm run bench:zarr-files)
// A store of more files than maxMappings maps them again on every scan.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs, runMain } = require('./kit/args');
const { median } = require('./kit/stats');

const OPTIONS = {
  n: { type: 'int', default: 8192, help: 'side of the n x n float32 array (a multiple of 512)' },
  runs: { type: 'int', default: 7, help: 'timed scans per case, alternating (median reported)' },
};

const LAYOUTS = [
  { name: 'v2, 128 x 128 chunks', opts: { chunks: [128, 128], zarrFormat: 2 } },
  { name: 'v2, 512 x 512 chunks', opts: { chunks: [512, 512], zarrFormat: 2 } },
  { name: 'v3, 128 x 128 chunks in 512-row shards', opts: { chunks: [128, 128], shards: [512, null] } },
];

function main() {
  const { n, runs } = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/zarr-files.js [options]   (npm run bench:zarr-files -- [options])' });
  if (n % 512 !== 0) throw new Error('--n must be a multiple of 512');
  const { memmap, createZarr, openZarr } = require('..');
  const { MAX_MAPPINGS } = require('../dist/zarr-chunks');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-zarr-files-'));
  try {
    const values = new Float32Array(n * n);
    for (let i = 0; i < values.length; i++) values[i] = (i % 1009) * 0.25;
    const raw = path.join(dir, 'a.f32');
    fs.writeFileSync(raw, values);
    const stores = LAYOUTS.map((l, k) => {
      const file = path.join(dir, `s${k}.zarr`);
      const opts = { ...l.opts, shards: l.opts.shards?.map((s) => s ?? n) };
      const z = createZarr(file, { shape: [n, n], dtype: 'float32', ...opts });
      z.write(values);
      z.close();
      let files = 0;
      (function count(d) {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) count(path.join(d, e.name));
          else if (!e.name.startsWith('.') && e.name !== 'zarr.json') files++;
        }
      })(file);
      return { ...l, file, files };
    });
    // Cases: [label, open()]; each opened once, scanned once untimed, then timed `runs` times, cases alternating.
    const cases = [['C-order file', () => memmap(raw, { dtype: 'float32', shape: [n, n] })]];
    for (const s of stores) {
      cases.push([`${s.name}: ${s.files} files, maxMappings ${MAX_MAPPINGS} (default)`, () => openZarr(s.file)]);
      if (s.files > MAX_MAPPINGS) cases.push([`${s.name}: ${s.files} files, maxMappings ${s.files}`, () => openZarr(s.file, { maxMappings: s.files })]);
    }
    const open = cases.map(([, o]) => o());
    const want = open[0].sum();
    for (const a of open) if (a.sum() !== want) throw new Error('sums differ');
    const times = cases.map(() => []);
    for (let r = 0; r < runs; r++) {
      open.forEach((a, k) => {
        const t = process.hrtime.bigint();
        a.sum();
        times[k].push(Number(process.hrtime.bigint() - t) / 1e6);
      });
    }
    for (const a of open) a.close();
    const base = median(times[0]);
    console.log(`warm full scan sum(), ${n} x ${n} float32 (${(n * n * 4) / 2 ** 20} MiB), median of ${runs}, cases alternating in one process (node ${process.version})`);
    console.log('\n| layout | wall | vs the C-order file |');
    console.log('|---|---|---|');
    cases.forEach(([label], k) => {
      const m = median(times[k]);
      console.log(`| ${label} | ${m.toFixed(1)} ms | ${(m / base).toFixed(2)}x |`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
