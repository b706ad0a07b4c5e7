'use strict';
// Issue 5: warm full scan of an array larger than Node 20's 4 GiB ArrayBuffer
// limit, through segments(), on each given Node binary (Node 22+ maps it as
// one buffer, so there `data` works too). Same file, same loop, one run.
//   node benchmarks/segments-scan.js [--gib 8] [--runs 5] [--nodes /path/node20,/path/node26]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs, runMain } = require('./kit/args');
const { median } = require('./kit/stats');

const OPTIONS = {
  gib: { type: 'number', default: 8, help: 'size of the file in GiB' },
  runs: { type: 'int', default: 5, help: 'scans per Node binary (median reported)' },
  nodes: { type: 'list', metavar: 'EXE,EXE', default: [process.execPath], defaultText: 'this node', help: 'Node binaries to compare, comma-separated' },
};

function child(file, runs) {
  const { memmap, maxBufferLength } = require('..');
  const a = memmap(file, { dtype: 'float32' });
  const out = { node: process.version, maxBufferLength, segments: 0, segMs: [], dataMs: [] };
  const scanSegments = () => {
    let sum = 0;
    let count = 0;
    for (const { data } of a.segments()) {
      count++;
      for (let i = 0; i < data.length; i++) sum += data[i];
    }
    out.segments = count;
    return sum;
  };
  const scanData = () => {
    const data = a.data;
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i];
    return sum;
  };
  let fits = true;
  try {
    void a.data;
  } catch (e) {
    if (e.code !== 'ERR_TOO_LARGE') throw e;
    fits = false;
  }
  scanSegments(); // warm the JIT (the page cache is already warm)
  for (let r = 0; r < runs; r++) {
    let t0 = process.hrtime.bigint();
    out.sum = scanSegments();
    out.segMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (fits) {
      t0 = process.hrtime.bigint();
      const s = scanData();
      out.dataMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (s !== out.sum) throw new Error('data and segments sums differ');
    }
  }
  out.residentFraction = a.residency().fraction;
  a.close();
  process.stdout.write(JSON.stringify(out));
}

function main() {
  const { gib, runs, nodes } = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/segments-scan.js [options]   (npm run bench:segments -- [options])' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-seg-'));
  const file = path.join(dir, 'big.f32');
  try {
    const { memmap } = require('..');
    const n = (gib * 2 ** 30) / 4;
    const w = memmap(file, { dtype: 'float32', shape: [n], mode: 'w+' });
    for (const { start, data } of w.segments()) for (let i = 0; i < data.length; i++) data[i] = (start + i) & 7;
    w.close();
    console.log(`warm full scan of a ${gib} GiB float32 file (${os.cpus()[0].model}, median of ${runs})`);
    console.log('node       | segments | segments() scan       | data scan (single buffer)');
    for (const node of nodes) {
      const r = spawnSync(node, [__filename, '--child', file, String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`${node}: ${r.stderr}`);
      const o = JSON.parse(r.stdout);
      const rate = (ms) => `${median(ms).toFixed(0)} ms (${(gib / (median(ms) / 1000)).toFixed(2)} GiB/s)`;
      console.log(
        `${o.node.padEnd(10)} | ${String(o.segments).padEnd(8)} | ${rate(o.segMs).padEnd(21)} | ${o.dataMs.length ? rate(o.dataMs) : 'n/a: exceeds ArrayBuffer limit'}`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]));
else runMain(main);
