#!/usr/bin/env node
'use strict';
// Page-fault benchmark suite: workloads x layouts x cache states x hints x
// readers, each run in its own child process. See docs/benchmarks.md.
// What runs is data (suite.js, workloads/), what is compared is data
// (comparisons.js); this file schedules the runs, checks them and writes the
// results; render.js and chart.js turn the JSON into Markdown and SVG.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const C = require('./common');
const S = require('./suite');
const { parseArgs, runMain, usageError } = require('./kit/args');
const { median } = require('./kit/stats');
const { fmtMs, fmtPct, fmtBytes } = require('./kit/format');
const { runChild, runChildRetrying } = require('./kit/child');
const { residentFraction, makeCold, prepareCache } = require('./kit/cache');
const { resolvePython, pythonInfo } = require('./kit/python');
const { checkouts } = require('./kit/checkouts');
const { analyse, warmSumBars, renderMarkdown, renderChart } = require('./render');
const { crossCheck } = require('./kit/agree');
const Z = require('./kit/zarr');
const W = require('./workloads');

/** The suite's options (run.js, open.js); `--help` prints them. */
const OPTIONS = {
  quick: { type: 'flag', help: 'smoke run: 32 MiB files, 1 round, 3 warm-up rounds, fewer combinations (no warm F order; hints on scan, row, col)' },
  preset: { type: 'string', metavar: 'NAME', help: `a named selection of cases: ${Object.keys(S.PRESETS).join(', ')} (sets --filter and --name)` },
  size: { type: 'bytes', default: (o) => (o.quick ? 32 * 2 ** 20 : 2 ** 30), defaultText: '1G; 32M with --quick', help: 'bytes per data file (nearest square n x n float32, n a multiple of 64)' },
  runs: { type: 'int', default: (o) => (o.quick ? 1 : 3), defaultText: '3; 1 with --quick', help: 'rounds: every case once per round, in a fresh process; results are medians over rounds' },
  filter: { type: 'regex', alias: 'cases', metavar: 'RE', default: (o) => (o.preset ? preset(o.preset).filter : null), help: 'only case ids matching RE; ids are cache/layout/workload/reader/hint, e.g. cold/C/col/memmap/random' },
  out: { type: 'path', metavar: 'DIR', default: path.join(__dirname, 'results'), defaultText: 'benchmarks/results', help: 'where NAME.json, NAME.md and NAME.svg go' },
  name: { type: 'string', default: (o) => (o.preset ? preset(o.preset).name : o.quick ? 'quick' : 'default'), defaultText: 'default; quick with --quick; the preset name', help: 'base name of the result files' },
  'data-dir': { type: 'path', metavar: 'DIR', default: path.join(__dirname, 'data'), defaultText: 'benchmarks/data (git-ignored)', help: 'where the data files live (written once, reused while they match)' },
  python: { type: 'string', metavar: 'EXE', help: 'python with numpy for the numpy readers; "none" skips them (default: $PYTHON, python3, ... whichever has numpy)' },
  'open-reps': { type: 'int', metavar: 'N', default: (o) => (o.quick ? 50 : 200), defaultText: '200; 50 with --quick', help: 'opens per process for the warm open cases (median reported)' },
  against: { type: 'path', metavar: 'DIR', help: 'another checkout of this package (with dist/ and build/): its memmap and memmap-js cases run right after this one\'s, and "this checkout vs --against" bars report the ratios' },
  'render-only': { type: 'flag', help: 'run nothing: rewrite OUT/NAME.md and NAME.svg from OUT/NAME.json' },
};

function preset(name) {
  const p = S.PRESETS[name];
  if (!p) throw usageError(`unknown preset ${name} (${Object.keys(S.PRESETS).join(', ')})`);
  return p;
}

const USAGE = 'node benchmarks/run.js [options]   (npm run bench -- [options])';

function parseSuiteArgs(argv, info = {}) {
  return parseArgs(argv, info.options ?? OPTIONS, { usage: info.usage ?? USAGE, about: info.about });
}

/**
 * The cases in the order of one round: odd rounds reverse the cases of each
 * group (same cache, layout, workload and hint), so no reader, and no
 * checkout, always runs first after an eviction (the disk and the host's cache
 * behind a VM's disk favour whoever comes later).
 */
function roundOrder(cases, round) {
  if (round % 2 === 0) return cases;
  const out = [];
  let group = [];
  const key = (c) => `${c.cache}/${c.layout}/${c.workload}/${c.hint}`;
  for (const c of cases) {
    if (group.length && key(group[0]) !== key(c)) {
      out.push(...group.reverse());
      group = [];
    }
    group.push(c);
  }
  out.push(...group.reverse());
  return out;
}

/** How each reader's process is started, by suite.js's `runs` field. */
const LAUNCHERS = {
  node: (spec) => runChild(process.execPath, ['--expose-gc', path.join(__dirname, 'worker.js'), JSON.stringify(spec)]),
  python: (spec, ctx) => runChild(ctx.python, [path.join(__dirname, 'numpy_reader.py'), JSON.stringify(spec)]),
};

function summarize(runs) {
  const ok = runs.filter((r) => r.ok);
  const pick = (f) => median(ok.map(f));
  const counters = {};
  for (const k of Object.keys(ok[0].counters)) counters[k] = pick((r) => r.counters[k]);
  const walls = ok.map((r) => r.wallNs / 1e6);
  const calls = ok[0].calls ?? 1;
  return {
    wallMs: median(walls),
    ...(calls > 1 ? { calls, perCallMs: median(walls) / calls } : {}),
    // Workloads that time the read only: the time with the checking sum too.
    ...(ok[0].withSumNs !== undefined ? { withSumMs: pick((r) => r.withSumNs / 1e6) } : {}),
    wallMsMin: Math.min(...walls),
    wallMsMax: Math.max(...walls),
    openMs: pick((r) => r.openNs / 1e6),
    firstMs: pick((r) => r.firstNs / 1e6),
    loadMs: pick((r) => (r.loadNs === undefined ? null : r.loadNs / 1e6)),
    ...counters,
    faults: counters.threadMinorFaults + counters.threadMajorFaults,
    residentBefore: pick((r) => r.residentBefore),
    residentAfter: pick((r) => r.residentAfter),
  };
}

/** Checks one run's result: the sum the formula gives (when it gives one), and a cold start that was cold. */
function validate(out, c, expected, residentBefore) {
  if (out.ok && expected && (out.sum !== expected.sum || (out.count !== null && out.count !== expected.count))) {
    return { ok: false, error: `wrong result: sum ${out.sum} count ${out.count}, expected ${expected.sum} / ${expected.count}` };
  }
  if (out.ok && c.cache === 'cold' && residentBefore > 0.01) return { ok: false, error: `could not make the file cold: ${fmtPct(residentBefore)} still resident` };
  return { ok: out.ok, error: out.error };
}

function gitCommit(dir) {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Runs the cases `opts` selects; returns the results JSON and its Markdown report. */
function runSuite(opts, { script = 'run.js' } = {}) {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const progress = (s) => process.stderr.write(s);
  const python = resolvePython(opts.python);
  const impls = checkouts(opts.against);
  const n = C.sideForBytes(opts.size);
  const missing = Object.fromEntries(S.ZARR.map((layout) => [layout, Z.missingCodec(layout)]));
  const cases = S.buildCases(opts, { python, checkouts: impls, layoutSkip: (layout) => missing[layout] ?? null });
  // The data files of the layouts the cases use, and small ones for the workers' warm-up rounds (see worker.js).
  // A Zarr store is converted from the C-order file of the same size.
  const layouts = S.ALL_LAYOUTS.filter((layout) => cases.some((c) => c.layout === layout && !c.skip));
  const dataFor = (size, layout, log) =>
    Z.isZarrLayout(layout) ? Z.ensureZarrStore(opts.dataDir, size, layout, C.ensureArrayFile(opts.dataDir, size, 'C', log).file, log).file : C.ensureArrayFile(opts.dataDir, size, layout, log).file;
  const files = Object.fromEntries(layouts.map((layout) => [layout, dataFor(n, layout, (s) => progress(`${s}\n`))]));
  const warmN = opts.quick ? 256 : 1024;
  const warmFiles = Object.fromEntries(layouts.map((layout) => [layout, dataFor(warmN, layout, () => {})]));
  const params = C.workloadParams(n);
  const workloads = W.WORKLOADS;
  const used = [...new Set(cases.map((c) => c.workload))];
  const expected = Object.fromEntries(used.map((w) => [w, C.expectedResult(w, n, params)]));
  // Compute workloads' results (float64 values, base64), per case: compared with numpy's after the rounds.
  const valuesOf = new Map(cases.map((c) => [c, []]));

  const totalRuns = cases.reduce((s, c) => s + (c.skip ? 0 : opts.runs), 0);
  let done = 0;
  const tty = process.stderr.isTTY;
  progress(`memmap benchmarks: ${cases.length} cases, ${totalRuns} runs, ${n} x ${n} float32 (${fmtBytes(n * n * 4)}) per file, python ${python ?? 'none'}${opts.against ? `, against ${opts.against}` : ''}\n`);
  // Rounds: every case once per round, so drift on a shared machine spreads
  // over all cases instead of hitting some cases' runs only.
  const runsOf = new Map(cases.map((c) => [c, []]));
  // A warm run after anything else re-reads the file sequentially from a cold
  // cache: the page cache's folio sizes (and so fault counts) depend on how the
  // pages were read in, and a warm number should not depend on the case before.
  const lastCache = new Map();
  for (let round = 0; round < opts.runs; round++) {
    for (const c of roundOrder(cases, round)) {
      if (c.skip) continue;
      const file = files[c.layout];
      if (c.cache === 'warm' && lastCache.get(file) !== 'warm') makeCold(file);
      lastCache.set(file, c.cache === 'warm' && c.hint === 'none' ? 'warm' : 'other');
      let residentBefore = prepareCache(file, c.cache);
      const spec = {
        reader: c.reader,
        workload: c.workload,
        cache: c.cache,
        file,
        n,
        order: c.layout,
        layout: c.layout,
        hint: c.hint,
        reps: S.repsFor(c, workloads[c.workload], opts),
        params,
        warmupFile: c.hint === 'first-call' ? null : warmFiles[c.layout],
        warmupN: warmN,
        // --quick checks the harness, not speed: a few warm-up rounds instead of 50 (a third of its time).
        warmupRounds: opts.quick ? 3 : 50,
        ...(c.pkg ? { pkg: c.pkg } : {}),
      };
      const launch = LAUNCHERS[S.READERS[c.reader].runs];
      const out = runChildRetrying(
        () => launch(spec, { python }),
        () => (residentBefore = prepareCache(file, c.cache)),
      );
      const residentAfter = residentFraction(file);
      const { ok, error } = validate(out, c, expected[c.workload], residentBefore);
      // The stored bytes of the chunks the read touches (uncompressed Zarr stores): the disk bar's yardstick.
      const touched = Z.touchedBytes(c.workload, n, params, c.layout);
      if (out.counters && touched !== null) out.counters.touchedBytes = touched;
      // Per-run record: what the medians come from (constants like count stay out).
      const { sum, wallNs, withSumNs, firstNs, openNs, loadNs, counters, retriedAfter, calls } = out;
      if (ok && out.values) valuesOf.get(c).push({ values: out.values, ref: out.ref });
      runsOf.get(c).push({ ok, error, sum, wallNs, withSumNs, firstNs, openNs, loadNs, counters, residentBefore, residentAfter, retriedAfter, calls });
      done++;
      const eta = ((Date.now() - started) / done) * (totalRuns - done);
      const line = `[${String(done).padStart(String(totalRuns).length)}/${totalRuns}] round ${round + 1}/${opts.runs} ${c.id.padEnd(40)} ${ok ? fmtMs(out.wallNs / 1e6).padStart(10) : 'ERROR'.padStart(10)}  eta ${Math.round(eta / 1000)}s`;
      progress(tty ? `\r${line}\x1b[K` : `${line}\n`);
    }
  }
  if (tty) progress('\n');
  const checks = crossCheck(cases, valuesOf, workloads);
  const results = cases.map((c) => {
    const res = { id: c.id, workload: c.workload, layout: c.layout, cache: c.cache, hint: c.hint, reader: c.reader, ...(c.impl ? { impl: c.impl } : {}), file: files[c.layout] ? path.basename(files[c.layout]) : null };
    const runs = runsOf.get(c);
    const bad = runs.find((x) => !x.ok);
    if (c.skip) return { ...res, status: 'skipped', reason: c.skip };
    if (bad) return { ...res, status: 'error', reason: bad.error, runs };
    const check = checks.get(c);
    if (check && !check.pass) return { ...res, status: 'error', reason: check.error, check, runs };
    // The check's differences go with the medians, where comparisons.js reads a case's figures.
    const agreement = check ? { maxRelDiff: check.maxRelDiff, ...(check.refMaxRelDiff !== undefined ? { refMaxRelDiff: check.refMaxRelDiff } : {}) } : {};
    return { ...res, status: 'ok', expectedSum: expected[c.workload]?.sum ?? null, ...(check ? { check } : {}), runs, median: { ...summarize(runs), ...agreement } };
  });
  const against = impls.find((i) => i.key === 'against');
  const json = {
    schema: 1,
    name: opts.name,
    date: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    loadBefore,
    loadAfter: os.loadavg(),
    machine: C.machineInfo(opts.dataDir),
    python: python ? pythonInfo(python) : null,
    config: {
      n,
      bytes: n * n * 4,
      dtype: 'float32',
      runs: opts.runs,
      openReps: opts.openReps,
      quick: opts.quick,
      filter: opts.filter ? String(opts.filter) : null,
      params,
      readers: Object.fromEntries(Object.entries(S.READERS).map(([k, r]) => [k, r.note])),
      hints: S.HINTS,
      workloads: C.WORKLOAD_TITLES,
      compute: Object.fromEntries(W.COMPUTE_NAMES.filter((w) => used.includes(w)).map((w) => [w, { title: workloads[w].title, call: workloads[w].call, numpy: workloads[w].numpy ?? null, match: workloads[w].match ?? null }])),
      against: against ? { dir: against.dir, label: against.label, commit: gitCommit(against.dir) } : null,
      zarr: layouts.some(Z.isZarrLayout) || S.ZARR.some((l) => missing[l] && cases.some((c) => c.layout === l))
        ? { ...Z.geometry(n), layouts: Object.fromEntries(S.ZARR.map((l) => [l, { title: Z.ZARR_LAYOUTS[l].title, skipped: missing[l] }])) }
        : null,
      command: `node benchmarks/${script} ${process.argv.slice(2).join(' ')}`.trim(),
    },
    cases: results,
  };
  return { json, ok: !results.some((r) => r.status === 'error') };
}

/** Adds bars and findings (comparisons.js) to a run's JSON. */
function withAnalysis(json) {
  const { bars, findings } = analyse(json);
  if (json.warmSum) json.warmSum.bars = warmSumBars(bars);
  return Object.assign(json, { bars, findings });
}

/** Writes <out>/<name>.json, .md (and .svg) and prints the report. */
function writeResults(opts, json, { chart = true, writeJson = true } = {}) {
  fs.mkdirSync(opts.out, { recursive: true });
  const base = path.join(opts.out, opts.name);
  const md = renderMarkdown(json, { chart });
  if (writeJson) fs.writeFileSync(`${base}.json`, `${JSON.stringify(json)}\n`);
  fs.writeFileSync(`${base}.md`, md);
  if (chart) fs.writeFileSync(`${base}.svg`, renderChart(json));
  process.stdout.write(`${md}\n`);
  process.stderr.write(`wrote ${writeJson ? `${base}.json, ` : ''}${base}.md${chart ? `, ${base}.svg` : ''}\n`);
}

/** --render-only: the report and chart of an existing OUT/NAME.json, bars and findings re-evaluated. */
function renderOnly(opts) {
  const file = path.join(opts.out, `${opts.name}.json`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const hasChart = fs.existsSync(path.join(opts.out, `${opts.name}.svg`));
  writeResults(opts, withAnalysis(json), { chart: hasChart, writeJson: false });
  return true;
}

function main() {
  const opts = parseSuiteArgs(process.argv.slice(2));
  if (opts.renderOnly) return renderOnly(opts);
  const { json, ok } = runSuite(opts);
  // The chart draws the page-fault workloads: a run of compute cases only has none.
  writeResults(opts, withAnalysis(json), { chart: json.cases.some((c) => W.NAMES.includes(c.workload)) });
  return ok;
}

if (require.main === module) runMain(main);

module.exports = { OPTIONS, parseSuiteArgs, runSuite, withAnalysis, writeResults, renderOnly, roundOrder };
