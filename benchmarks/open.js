#!/usr/bin/env node
'use strict';
// The core issue's claims, measured side by side in one run:
//  1. open + read one element of the file: memmap vs fs.readFileSync vs np.memmap
//     (the suite's `open` cases, warm and cold: --preset open of run.js);
//  2. a warm sequential sum over a.data vs the same loop over heap typed arrays.
// With --against DIR both parts also run DIR's package, interleaved with this one.
// Options: node benchmarks/open.js --help (the suite's, with --preset open).
const C = require('./common');
const { OPTIONS, parseSuiteArgs, runSuite, withAnalysis, writeResults } = require('./run');
const { runMain } = require('./kit/args');
const { median } = require('./kit/stats');
const { fmtMs } = require('./kit/format');
const { runChild, reportFromChild } = require('./kit/child');
const { makeWarm } = require('./kit/cache');
const { checkouts, loadPackage } = require('./kit/checkouts');

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

/** Child: one process holding the mapping (of the package in pkgDir) and both heap arrays. */
function childSum(file, n, passes, pkgDir) {
  const { memmap } = loadPackage(pkgDir || null);
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
  return out;
}

/** The warm-sum children, `runs` rounds, each checkout once per round (odd rounds reversed). */
function warmSum(opts, n) {
  const file = C.ensureArrayFile(opts.dataDir, n, 'C').file;
  const passes = opts.quick ? 3 : 7;
  const impls = checkouts(opts.against);
  const runs = [];
  for (let r = 0; r < opts.runs; r++) {
    for (const impl of r % 2 ? [...impls].reverse() : impls) {
      const resident = makeWarm(file);
      const out = runChild(process.execPath, ['--expose-gc', __filename, '--child-sum', file, n, passes, impl.key === 'this' ? '' : impl.dir]);
      if (!out.ok) throw new Error(`warm-sum child (${impl.label}) failed: ${out.error}`);
      runs.push({ impl: impl.key, residentBefore: resident, ...out });
      process.stderr.write(`warm sum ${r + 1}/${opts.runs} ${impl.label}: memmap ${fmtMs(out.memmap.medianMs)}, heap Float32Array ${fmtMs(out.heapFloat32.medianMs)}, heap Float64Array ${fmtMs(out.heapFloat64.medianMs)}\n`);
    }
  }
  // One record per loop and checkout: the median over its processes (as a case of the suite).
  const records = [];
  const record = (loop, impl, f) => records.push({ loop, impl, status: 'ok', median: { wallMs: median(runs.filter((x) => x.impl === impl).map(f)) } });
  for (const { key } of impls) {
    record('a.data', key, (x) => x.memmap.medianMs);
    record('a.data, first pass', key, (x) => x.firstPass.ms);
    record('a.data, populate: true, first pass', key, (x) => x.populatedFirstPass.ms);
  }
  record('heap Float32Array', 'this', (x) => x.heapFloat32.medianMs);
  record('heap Float64Array', 'this', (x) => x.heapFloat64.medianMs);
  const mine = runs.filter((x) => x.impl === 'this');
  const med = (f) => median(mine.map(f));
  return {
    runs,
    records,
    passes,
    memmapMs: med((x) => x.memmap.medianMs),
    heapFloat32Ms: med((x) => x.heapFloat32.medianMs),
    heapFloat64Ms: med((x) => x.heapFloat64.medianMs),
    firstPassMs: med((x) => x.firstPass.ms),
    firstPassFaults: med((x) => x.firstPass.threadMinorFaults + x.firstPass.threadMajorFaults),
    populatedOpenMs: med((x) => x.populatedFirstPass.openMs),
    populatedFirstPassMs: med((x) => x.populatedFirstPass.ms),
  };
}

const OPEN_OPTIONS = { ...OPTIONS, preset: { ...OPTIONS.preset, default: 'open' } };

function main() {
  const opts = parseSuiteArgs(process.argv.slice(2), { options: OPEN_OPTIONS, usage: 'node benchmarks/open.js [options]   (npm run bench:open -- [options])' });
  const { json, ok } = runSuite(opts, { script: 'open.js' });
  json.warmSum = warmSum(opts, json.config.n);
  writeResults(opts, withAnalysis(json), { chart: false });
  return ok;
}

if (process.argv[2] === '--child-sum') {
  const [file, n, passes, pkg] = process.argv.slice(3);
  reportFromChild(() => childSum(file, Number(n), Number(passes), pkg));
} else {
  runMain(main);
}
