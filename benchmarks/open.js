#!/usr/bin/env node
'use strict';
// The core issue's claims, measured side by side in one run:
//  1. open + read one element of the file: memmap vs fs.readFileSync vs np.memmap
//     (the suite's `open` cases, warm and cold);
//  2. a warm sequential sum over a.data vs the same loop over heap typed arrays.
//
//   node benchmarks/open.js [--size 1G] [--runs 3] [--out DIR] [--name open] [--data-dir DIR]
const { memmap } = require('..');
const C = require('./common');
const { parseArgs, runSuite, writeResults, makeWarm, runChild, median, fmtMs, fmtX } = require('./run');

// Two copies of one loop so each stays monomorphic (one element type each).
function sum32(d) {
  let s = 0;
  for (let k = 0; k < d.length; k++) s += d[k];
  return s;
}
function sum64(d) {
  let s = 0;
  for (let k = 0; k < d.length; k++) s += d[k];
  return s;
}

function timed(fn) {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, v };
}

/** Child: one process holding the mapping and both heap arrays. */
function childSum(file, n, passes) {
  const len = n * n;
  const out = {};
  const a = memmap(file, { dtype: 'float32', shape: [len] });
  const d = a.data;
  const before = C.snapshot('before');
  const first = timed(() => sum32(d));
  out.firstPass = { ms: first.ms, ...C.countersDelta(before, C.snapshot()) };
  const expected = first.v;

  const heap32 = new Float32Array(len);
  heap32.set(d);
  const heap64 = new Float64Array(len);
  for (let k = 0; k < len; k++) heap64[k] = heap32[k];
  const times = { memmap: [], heapFloat32: [], heapFloat64: [] };
  // Interleaved so drift on a shared machine hits all three alike.
  for (let p = 0; p < passes; p++) {
    for (const [name, run] of [['memmap', () => sum32(d)], ['heapFloat32', () => sum32(heap32)], ['heapFloat64', () => sum64(heap64)]]) {
      const t = timed(run);
      if (t.v !== expected) throw new Error(`${name} sum ${t.v} != ${expected}`);
      times[name].push(t.ms);
    }
  }
  a.close();
  for (const [k, v] of Object.entries(times)) out[k] = { medianMs: median(v), allMs: v };

  // First pass over a MAP_POPULATE mapping: the faults were taken at open.
  const t0 = process.hrtime.bigint();
  const b = memmap(file, { dtype: 'float32', shape: [len], populate: true });
  const openMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const s1 = C.snapshot('before');
  const pop = timed(() => sum32(b.data));
  out.populatedFirstPass = { openMs, ms: pop.ms, ...C.countersDelta(s1, C.snapshot()) };
  b.close();
  out.sum = expected;
  process.stdout.write(`${JSON.stringify({ ok: true, ...out })}\n`);
}

function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child-sum') {
    childSum(argv[1], Number(argv[2]), Number(argv[3]));
    return;
  }
  const opts = parseArgs(argv);
  if (!argv.includes('--name')) opts.name = 'open';
  opts.filter = /^(warm|cold)\/C\/open\/(memmap|readFileSync|np\.memmap)\/none$/;
  const { json, md, ok } = runSuite(opts);

  const n = json.config.n;
  const file = C.ensureArrayFile(opts.dataDir, n, 'C').file;
  const runs = [];
  for (let r = 0; r < opts.runs; r++) {
    const resident = makeWarm(file);
    const out = runChild(process.execPath, ['--expose-gc', __filename, '--child-sum', file, n, opts.quick ? 3 : 7]);
    out.residentBefore = resident;
    if (!out.ok) throw new Error(`warm-sum child failed: ${out.error}`);
    runs.push(out);
    process.stderr.write(`warm sum ${r + 1}/${opts.runs}: memmap ${fmtMs(out.memmap.medianMs)}, heap Float32Array ${fmtMs(out.heapFloat32.medianMs)}, heap Float64Array ${fmtMs(out.heapFloat64.medianMs)}\n`);
  }
  const med = (f) => median(runs.map(f));
  const sum = {
    runs,
    memmapMs: med((r) => r.memmap.medianMs),
    heapFloat32Ms: med((r) => r.heapFloat32.medianMs),
    heapFloat64Ms: med((r) => r.heapFloat64.medianMs),
    firstPassMs: med((r) => r.firstPass.ms),
    firstPassFaults: med((r) => r.firstPass.threadMinorFaults + r.firstPass.threadMajorFaults),
    populatedOpenMs: med((r) => r.populatedFirstPass.openMs),
    populatedFirstPassMs: med((r) => r.populatedFirstPass.ms),
  };
  const bars = [
    { bar: 'warm sum over a.data vs heap Float64Array (steady state)', ratio: sum.memmapMs / sum.heapFloat64Ms, limit: 1.1 },
    { bar: 'warm sum over a.data, first pass on a fresh mapping (minor faults) vs heap Float64Array', ratio: sum.firstPassMs / sum.heapFloat64Ms, limit: 1.1 },
    { bar: 'warm sum over a.data vs heap Float32Array (same element type)', ratio: sum.memmapMs / sum.heapFloat32Ms, limit: 1.1 },
  ].map((b) => ({ ...b, pass: b.ratio <= b.limit }));
  json.warmSum = { ...sum, bars };
  json.bars.push(...bars.map((b) => ({ bar: b.bar, case: 'warm/C/sum', wallRatio: b.ratio, pass: b.pass, limits: `<= ${b.limit}x` })));
  const sumMd = [
    '## Warm sequential sum over the whole file',
    '',
    `${n * n} float32 elements (${C.fmtBytes(n * n * 4)}), file resident in the page cache; one child process, passes interleaved, median of ${opts.quick ? 3 : 7} passes, median over ${opts.runs} process(es).`,
    '',
    '| loop | time | vs heap Float64Array |',
    '|---|---|---|',
    `| memmap a.data (Float32Array), steady state | ${fmtMs(sum.memmapMs)} | ${fmtX(sum.memmapMs / sum.heapFloat64Ms)} |`,
    `| memmap a.data, first pass on a fresh mapping (${Math.round(sum.firstPassFaults)} minor faults) | ${fmtMs(sum.firstPassMs)} | ${fmtX(sum.firstPassMs / sum.heapFloat64Ms)} |`,
    `| memmap populate: true, first pass (open took ${fmtMs(sum.populatedOpenMs)}) | ${fmtMs(sum.populatedFirstPassMs)} | ${fmtX(sum.populatedFirstPassMs / sum.heapFloat64Ms)} |`,
    `| heap Float32Array | ${fmtMs(sum.heapFloat32Ms)} | ${fmtX(sum.heapFloat32Ms / sum.heapFloat64Ms)} |`,
    `| heap Float64Array | ${fmtMs(sum.heapFloat64Ms)} | 1.00x |`,
    '',
    '| bar | measured | limit | held |',
    '|---|---|---|---|',
    ...bars.map((b) => `| ${b.bar} | ${fmtX(b.ratio)} | <= ${b.limit}x | ${b.pass ? 'yes' : '**no**'} |`),
    '',
  ].join('\n');
  const full = md.replace('## Findings', `${sumMd}\n## Findings`);
  writeResults(opts, json, full, { chart: false });
  if (!ok) process.exitCode = 1;
}

main();
