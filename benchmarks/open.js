#!/usr/bin/env node
'use strict';
// The core issue's claims, measured side by side in one run:
//  1. open + read one element of the file: memmap vs fs.readFileSync vs np.memmap
//     (the suite's `open` cases, warm and cold: --preset open of run.js);
//  2. a warm sequential sum over a.data vs the same loop over heap typed arrays.
// With --against DIR both parts also run DIR's package, side by side with this
// one: its open cases as twins in the same rounds, its warm sum in the same processes.
// Options: node benchmarks/open.js --help (the suite's, with --preset open).
const C = require('./common');
const { OPTIONS, parseSuiteArgs, runSuite, withAnalysis, writeResults } = require('./run');
const { runMain } = require('./kit/args');
const { median } = require('./kit/stats');
const { fmtMs } = require('./kit/format');
const { runChild, reportFromChild } = require('./kit/child');
const { makeWarm } = require('./kit/cache');
const { checkouts, loadPackage } = require('./kit/checkouts');
const { timeInterleaved } = require('./kit/interleave');

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

/**
 * Child: one process holding a mapping per checkout (impls: [{key, dir}]) and
 * both heap arrays. First passes and populate passes run checkout by checkout
 * (the order alternating with `round`); the steady-state passes of all loops
 * are interleaved, so the checkouts are compared side by side in one process.
 */
function childSum(file, n, passes, impls, round) {
  const len = n * n;
  const order = round % 2 ? [...impls].reverse() : impls;
  const per = Object.fromEntries(impls.map(({ key }) => [key, {}]));
  const arrays = {};
  let expected = null;
  const check = (name, v) => {
    expected ??= v;
    if (v !== expected) throw new Error(`${name} sum ${v} != ${expected}`);
    return v;
  };
  // Compile the loops first (on small heap arrays), so no checkout's first pass pays for the JIT.
  const small32 = new Float32Array(1 << 16).fill(1);
  const small64 = new Float64Array(1 << 16).fill(1);
  for (let k = 0; k < 200; k++) sum32(small32) + sum64(small64);
  for (const { key, dir } of order) {
    const a = loadPackage(dir || null).memmap(file, { dtype: 'float32', shape: [len] });
    const d = a.data;
    const before = C.snapshot('before');
    const first = timed(() => sum32(d));
    per[key].firstPass = { ms: first.ms, ...C.countersDelta(before, C.snapshot()) };
    check(`${key} first pass`, first.v);
    arrays[key] = a;
  }
  const heap32 = new Float32Array(len);
  heap32.set(arrays[impls[0].key].data);
  const heap64 = new Float64Array(len);
  for (let k = 0; k < len; k++) heap64[k] = heap32[k];
  const loops = {};
  for (const { key } of impls) {
    const d = arrays[key].data;
    loops[`memmap:${key}`] = () => check(`memmap ${key}`, sum32(d));
  }
  loops.heapFloat32 = () => check('heap Float32Array', sum32(heap32));
  loops.heapFloat64 = () => check('heap Float64Array', sum64(heap64));
  // Interleaved (the order rotating pass by pass) so drift on a shared machine hits all loops alike.
  const times = timeInterleaved(loops, { rounds: passes });
  for (const a of Object.values(arrays)) a.close();
  const summary = (v) => ({ medianMs: median(v), allMs: v });
  for (const { key } of impls) per[key].memmap = summary(times[`memmap:${key}`]);

  // First pass over a MAP_POPULATE mapping: the faults were taken at open.
  for (const { key, dir } of order) {
    const t0 = process.hrtime.bigint();
    const b = loadPackage(dir || null).memmap(file, { dtype: 'float32', shape: [len], populate: true });
    const openMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const s1 = C.snapshot('before');
    const pop = timed(() => sum32(b.data));
    per[key].populatedFirstPass = { openMs, ms: pop.ms, ...C.countersDelta(s1, C.snapshot()) };
    check(`${key} populate`, pop.v);
    b.close();
  }
  return { sum: expected, heapFloat32: summary(times.heapFloat32), heapFloat64: summary(times.heapFloat64), ...per.this, impls: per };
}

/** The warm-sum children: `runs` processes, each measuring every checkout side by side. */
function warmSum(opts, n) {
  const file = C.ensureArrayFile(opts.dataDir, n, 'C').file;
  const passes = opts.quick ? 3 : 7;
  const impls = checkouts(opts.against).map(({ key, dir, label }) => ({ key, dir: key === 'this' ? '' : dir, label }));
  const runs = [];
  for (let r = 0; r < opts.runs; r++) {
    const resident = makeWarm(file);
    const out = runChild(process.execPath, ['--expose-gc', __filename, '--child-sum', file, n, passes, JSON.stringify(impls), r]);
    if (!out.ok) throw new Error(`warm-sum child failed: ${out.error}`);
    runs.push({ residentBefore: resident, ...out });
    const each = impls.map(({ key, label }) => `memmap${impls.length > 1 ? ` (${label})` : ''} ${fmtMs(out.impls[key].memmap.medianMs)}`).join(', ');
    process.stderr.write(`warm sum ${r + 1}/${opts.runs}: ${each}, heap Float32Array ${fmtMs(out.heapFloat32.medianMs)}, heap Float64Array ${fmtMs(out.heapFloat64.medianMs)}\n`);
  }
  // One record per loop and checkout: the median over the processes (as a case of the suite).
  const med = (f) => median(runs.map(f));
  const records = [];
  const record = (loop, impl, f) => records.push({ loop, impl, status: 'ok', median: { wallMs: med(f) } });
  for (const { key } of impls) {
    record('a.data', key, (x) => x.impls[key].memmap.medianMs);
    record('a.data, first pass', key, (x) => x.impls[key].firstPass.ms);
    record('a.data, populate: true, first pass', key, (x) => x.impls[key].populatedFirstPass.ms);
  }
  record('heap Float32Array', 'this', (x) => x.heapFloat32.medianMs);
  record('heap Float64Array', 'this', (x) => x.heapFloat64.medianMs);
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
  const [file, n, passes, impls, round] = process.argv.slice(3);
  reportFromChild(() => childSum(file, Number(n), Number(passes), JSON.parse(impls), Number(round)));
} else {
  runMain(main);
}
