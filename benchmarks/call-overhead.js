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
const { median } = require('./run');

const args = { against: '', rounds: 15, iters: 20000 };
for (let k = 2; k < process.argv.length; k += 2) {
  const key = process.argv[k].replace(/^--/, '');
  if (!Object.hasOwn(args, key) || k + 1 >= process.argv.length) throw new Error(`usage: call-overhead.js [--against DIR] [--rounds N] [--iters N]`);
  args[key] = typeof args[key] === 'number' ? Number(process.argv[k + 1]) : process.argv[k + 1];
}
const impls = [['this', require('..')]];
if (args.against) impls.push([path.basename(path.resolve(args.against)), require(path.resolve(args.against))]);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-calls-'));
const file = path.join(dir, 'a.f32');
const rows = 1024;
const cols = 256;
fs.writeFileSync(file, Buffer.alloc(rows * cols * 4, 1));

const cases = {
  'open + get(i, j) + close': (m) => {
    const a = m.memmap(file, { dtype: 'float32', shape: [rows, cols] });
    const v = a.get(3, 7);
    a.close();
    return v;
  },
  'sum(i) of a 1 KiB row': (m, a) => a.sum(5),
  'read(i) of a 1 KiB row': (m, a) => a.read(5)[0],
  'gather() of 16 elements': (m, a, ii, jj) => a.gather(ii, jj)[0],
  'data[k] after open': (m, a) => a.data[12345],
};

const ii = Float64Array.from({ length: 16 }, (_, k) => k * 7);
const jj = Float64Array.from({ length: 16 }, (_, k) => k * 3);
const results = {};
try {
  for (const [name, fn] of Object.entries(cases)) {
    const arrays = impls.map(([, m]) => m.memmap(file, { dtype: 'float32', shape: [rows, cols] }));
    const per = impls.map(() => []);
    for (let r = 0; r < args.rounds; r++) {
      // Odd rounds reverse the order, so neither always runs second.
      const order = r % 2 ? impls.map((_, k) => impls.length - 1 - k) : impls.map((_, k) => k);
      for (const k of order) {
        const m = impls[k][1];
        const a = arrays[k];
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < args.iters; i++) fn(m, a, ii, jj);
        per[k].push(Number(process.hrtime.bigint() - t0) / args.iters);
      }
    }
    for (const a of arrays) a.close();
    results[name] = impls.map(([label], k) => ({ label, ns: median(per[k]) }));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const labels = impls.map(([l]) => l);
console.log(`| call | ${labels.map((l) => `${l} (ns)`).join(' | ')}${impls.length > 1 ? ' | ratio' : ''} |`);
console.log(`|---|${labels.map(() => '---:').join('|')}${impls.length > 1 ? '|---:' : ''}|`);
for (const [name, r] of Object.entries(results)) {
  const ratio = r.length > 1 ? ` | ${(r[0].ns / r[1].ns).toFixed(2)}x` : '';
  console.log(`| ${name} | ${r.map((x) => x.ns.toFixed(0)).join(' | ')}${ratio} |`);
}
