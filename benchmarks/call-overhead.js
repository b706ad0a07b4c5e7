#!/usr/bin/env node
'use strict';
// Fixed cost of the small calls (open + one element, sum/read/gather of a
// small selection), measured side by side against another checkout of memmap
// in the same process, alternating, so a safety change can show what it costs.
//
//   node benchmarks/call-overhead.js [--against DIR] [--rounds 15] [--iters 20000]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs, runMain } = require('./kit/args');
const { median } = require('./kit/stats');
const { mdTable } = require('./kit/format');
const { checkouts, loadPackage } = require('./kit/checkouts');
const { timeInterleaved } = require('./kit/interleave');

const OPTIONS = {
  against: { type: 'path', metavar: 'DIR', help: 'another checkout of this package (with dist/ and build/), measured in the same process, alternating' },
  rounds: { type: 'int', default: 15, help: 'rounds; each checkout runs once per round, the order alternating' },
  iters: { type: 'int', default: 20000, help: 'calls per timing' },
};

const rows = 1024;
const cols = 256;

const CASES = {
  'open + get(i, j) + close': (m, file) => {
    const a = m.memmap(file, { dtype: 'float32', shape: [rows, cols] });
    const v = a.get(3, 7);
    a.close();
    return v;
  },
  'sum(i) of a 1 KiB row': (m, file, a) => a.sum(5),
  'read(i) of a 1 KiB row': (m, file, a) => a.read(5)[0],
  'gather() of 16 elements': (m, file, a, ii, jj) => a.gather(ii, jj)[0],
  'data[k] after open': (m, file, a) => a.data[12345],
};

function main() {
  const args = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/call-overhead.js [options]' });
  const impls = checkouts(args.against).map((co) => ({ ...co, m: loadPackage(co.dir) }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-calls-'));
  const file = path.join(dir, 'a.f32');
  fs.writeFileSync(file, Buffer.alloc(rows * cols * 4, 1));
  const ii = Float64Array.from({ length: 16 }, (_, k) => k * 7);
  const jj = Float64Array.from({ length: 16 }, (_, k) => k * 3);
  const results = {};
  try {
    for (const [name, fn] of Object.entries(CASES)) {
      const arrays = impls.map(({ m }) => m.memmap(file, { dtype: 'float32', shape: [rows, cols] }));
      const fns = Object.fromEntries(impls.map(({ key, m }, k) => [key, () => fn(m, file, arrays[k], ii, jj)]));
      const times = timeInterleaved(fns, { rounds: args.rounds, iters: args.iters });
      for (const a of arrays) a.close();
      results[name] = impls.map(({ key }) => median(times[key]) * 1e6); // ns per call
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const two = impls.length > 1;
  const head = ['call', ...impls.map(({ label }) => `${label} (ns)`), ...(two ? ['ratio'] : [])];
  const body = Object.entries(results).map(([name, ns]) => [name, ...ns.map((x) => x.toFixed(0)), ...(two ? [`${(ns[0] / ns[1]).toFixed(2)}x`] : [])]);
  console.log(mdTable(head, body, head.map((_, k) => (k === 0 ? '---' : '---:'))));
}

runMain(main);
