#!/usr/bin/env node
'use strict';
// Page-fault benchmark suite: workloads x layouts x cache states x hints x
// readers, each run in its own child process. See docs/benchmarks.md.
//
//   node benchmarks/run.js [--quick] [--size 1G] [--runs 3] [--filter REGEX]
//                          [--out DIR] [--name NAME] [--data-dir DIR] [--python EXE|none] [--open-reps 200]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { memmap, evict } = require('..');
const { findPython } = require('../test/helpers/python');
const C = require('./common');
const { renderChart } = require('./chart');

const JS_READERS = ['memmap', 'memmap-js', 'readSync', 'readFileSync'];
const PY_READERS = ['np.memmap', 'np.fromfile'];
const READERS = [...JS_READERS, ...PY_READERS];
// readFileSync reads the whole file whatever the workload: a few workloads show that.
const READFILE_WORKLOADS = new Set(['open', 'scan', 'row', 'col']);
const HINTS = ['sequential', 'random', 'willneed', 'populate'];
const READER_NOTES = {
  memmap: 'memmap() of this package; native a.sum(index) / a.gather(ii, jj) (C++ loops, no ArrayBuffer), as np.memmap + .sum',
  'memmap-js': 'memmap() of this package; JavaScript loop over a.data (zero-copy Float32Array)',
  readSync: 'fs.readSync into one reused Buffer: one pread per contiguous run; scan in 4 MiB chunks',
  readFileSync: 'fs.readFileSync of the whole file, then the same loop as memmap-js',
  'np.memmap': 'numpy np.memmap + slicing + .sum(dtype=float64) (C loops)',
  'np.fromfile': 'np.fromfile(f, count) per contiguous run after a seek; scan in 4 MiB chunks',
};

function parseArgs(argv) {
  const o = { quick: false, size: null, runs: null, filter: null, out: null, name: null, dataDir: null, python: undefined, openReps: null };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const val = () => {
      if (k + 1 >= argv.length) throw Object.assign(new Error(`${a} needs a value`), { usage: true });
      return argv[++k];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--size') o.size = C.parseBytes(val());
    else if (a === '--runs') o.runs = Math.max(1, parseInt(val(), 10));
    else if (a === '--filter' || a === '--cases') o.filter = new RegExp(val());
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--name') o.name = val();
    else if (a === '--data-dir') o.dataDir = path.resolve(val());
    else if (a === '--python') o.python = val();
    else if (a === '--open-reps') o.openReps = Math.max(1, parseInt(val(), 10));
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 7).join('\n').replace(/^\/\/ ?/gm, '') + '\n');
      process.exit(0);
    } else throw Object.assign(new Error(`unknown option ${a} (try --help)`), { usage: true });
  }
  o.size ??= o.quick ? 32 * 2 ** 20 : 2 ** 30;
  o.runs ??= o.quick ? 1 : 3;
  o.openReps ??= o.quick ? 50 : 200;
  o.out ??= path.join(__dirname, 'results');
  o.name ??= o.quick ? 'quick' : 'default';
  o.dataDir ??= path.join(__dirname, 'data');
  return o;
}

/**
 * Every case of the suite, in run order (grouped so warm-ups and evictions are
 * few). --quick keeps every workload, reader and hint but fewer combinations:
 * no warm F-order cases, hints only on scan, row and column.
 */
function buildCases(opts, python) {
  const cases = [];
  const add = (c) => {
    c.id = `${c.cache}/${c.layout}/${c.workload}/${c.reader}/${c.hint}`;
    if (!opts.filter || opts.filter.test(c.id)) cases.push(c);
  };
  for (const layout of ['C', 'F']) {
    for (const cache of ['warm', 'cold']) {
      if (opts.quick && layout === 'F' && cache === 'warm') continue;
      for (const workload of C.WORKLOADS) {
        for (const reader of READERS) {
          if (reader === 'readFileSync' && !READFILE_WORKLOADS.has(workload)) continue;
          const skip = PY_READERS.includes(reader) && !python ? 'python3 with numpy not found' : null;
          add({ layout, cache, workload, reader, hint: 'none', skip });
        }
      }
    }
  }
  for (const hint of HINTS) {
    for (const workload of C.WORKLOADS) {
      if (opts.quick && !['scan', 'row', 'col'].includes(workload)) continue;
      add({ layout: 'C', cache: 'cold', workload, reader: 'memmap', hint, skip: null });
    }
  }
  // The first open + element of a fresh process (no warm-up): what a short script pays.
  for (const reader of ['memmap', 'np.memmap']) {
    const skip = reader === 'np.memmap' && !python ? 'python3 with numpy not found' : null;
    add({ layout: 'C', cache: 'warm', workload: 'open', reader, hint: 'first-call', skip });
  }
  // The JavaScript loop reads the same pages in the same order: one hinted scan shows it.
  add({ layout: 'C', cache: 'cold', workload: 'scan', reader: 'memmap-js', hint: 'sequential', skip: null });
  return cases;
}

/**
 * Repetitions inside one worker process (each counter is their median). Small
 * workloads fault a handful of times, so one-off costs of a run (heap growth,
 * first calls) would swamp them: they repeat, cold ones with an eviction before
 * each repetition. Workloads that read much of the file run once.
 */
function repsFor(c, opts) {
  if (c.reader === 'readFileSync' || c.hint === 'populate' || c.hint === 'first-call') return 1;
  if (c.workload === 'open' && c.cache === 'warm') return opts.openReps;
  const small = c.workload === 'open' || (c.layout === 'C' ? ['row', 'rows'] : ['col']).includes(c.workload);
  if (!small) return 1;
  if (c.cache === 'warm') return opts.quick ? 3 : 41;
  return opts.quick ? 2 : 5;
}

/**
 * The cases in the order of one round: odd rounds reverse the readers of each
 * workload, so no reader always runs first after an eviction (the disk and the
 * host's cache behind a VM's disk favour whoever comes later).
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

function residentFraction(file) {
  const a = memmap(file, { dtype: 'uint8' });
  try {
    return a.residency().fraction;
  } finally {
    a.close();
  }
}

/** Evicts the file and checks it left the page cache; returns the resident fraction. */
function makeCold(file) {
  let f = 1;
  for (let attempt = 0; attempt < 5 && f > 0.01; attempt++) {
    evict(file);
    f = residentFraction(file);
  }
  return f;
}

function makeWarm(file) {
  let f = residentFraction(file);
  if (f < 0.999) {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(8 << 20);
    try {
      let pos = 0;
      let got;
      while ((got = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) pos += got;
    } finally {
      fs.closeSync(fd);
    }
    f = residentFraction(file);
  }
  return f;
}

function runChild(exe, args) {
  const r = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 16 << 20, timeout: 600e3 });
  const lines = (r.stdout || '').trim().split('\n');
  try {
    const out = JSON.parse(lines[lines.length - 1]);
    if (!out.ok && !out.error) out.error = 'worker failed';
    return out;
  } catch {
    return { ok: false, crashed: true, error: `worker exited ${r.status ?? r.signal}: ${(r.stderr || r.error || '').toString().slice(0, 2000)}` };
  }
}

function median(xs) {
  const v = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function summarize(runs) {
  const ok = runs.filter((r) => r.ok);
  const pick = (f) => median(ok.map(f));
  const counters = {};
  for (const k of Object.keys(ok[0].counters)) counters[k] = pick((r) => r.counters[k]);
  const walls = ok.map((r) => r.wallNs / 1e6);
  return {
    wallMs: median(walls),
    wallMsMin: Math.min(...walls),
    wallMsMax: Math.max(...walls),
    openMs: median(ok.map((r) => r.openNs / 1e6)),
    firstMs: median(ok.map((r) => r.firstNs / 1e6)),
    loadMs: median(ok.map((r) => (r.loadNs === undefined ? null : r.loadNs / 1e6))),
    ...counters,
    faults: counters.threadMinorFaults + counters.threadMajorFaults,
    residentBefore: pick((r) => r.residentBefore),
    residentAfter: pick((r) => r.residentAfter),
  };
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(0)} ms`;
}
const fmtN = (n) => (n === null || n === undefined ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(1));
const fmtPct = (f) => (f === null || f === undefined ? '-' : `${(f * 100).toFixed(f > 0 && f < 0.01 ? 2 : 0)}%`);
const ratio = (a, b) => (a === null || b === null ? null : a === b ? 1 : b === 0 ? Infinity : a / b);
const fmtX = (r) => (r === null ? '-' : r === Infinity ? '∞' : r >= 100 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`);

function find(results, q) {
  return results.find((c) => c.status === 'ok' && Object.entries(q).every(([k, v]) => c[k] === v)) ?? null;
}

/** The issue's bars and the write-up's findings, computed from one run's medians. */
function analyse(results) {
  const bars = [];
  const m = (c) => c && c.median;
  // 1. memmap vs np.memmap, same file and pattern (hint none).
  for (const cache of ['warm', 'cold']) {
    for (const layout of ['C', 'F']) {
      for (const workload of C.WORKLOADS) {
        const a = m(find(results, { cache, layout, workload, reader: 'memmap', hint: 'none' }));
        const b = m(find(results, { cache, layout, workload, reader: 'np.memmap', hint: 'none' }));
        if (!a || !b) continue;
        const faults = ratio(a.faults, b.faults);
        const procFaults = ratio(a.minorFaults + a.majorFaults, b.minorFaults + b.majorFaults);
        const bytes = ratio(a.ioReadBytes, b.ioReadBytes);
        const wall = ratio(a.wallMs, b.wallMs);
        bars.push({
          bar: 'memmap vs np.memmap',
          case: `${cache}/${layout}/${workload}`,
          memmap: { faults: a.faults, ioReadBytes: a.ioReadBytes, wallMs: a.wallMs, rssFileGrowth: a.rssFileGrowth, rssAnonGrowth: a.rssAnonGrowth },
          numpy: { faults: b.faults, ioReadBytes: b.ioReadBytes, wallMs: b.wallMs, rssFileGrowth: b.rssFileGrowth, rssAnonGrowth: b.rssAnonGrowth },
          // File pages mapped into the process: the data's share of the faults, without the JS heap's.
          rssFileRatio: ratio(a.rssFileGrowth, b.rssFileGrowth),
          faultRatio: faults,
          processFaultRatio: procFaults,
          bytesRatio: bytes,
          wallRatio: wall,
          pass: faults <= 1.1 && bytes <= 1.1 && wall <= 1.2,
          limits: 'faults <= 1.1x, disk bytes <= 1.1x, wall <= 1.2x',
        });
      }
    }
  }
  // 2. Open + read one element of the file.
  for (const cache of ['warm', 'cold']) {
    const a = m(find(results, { cache, layout: 'C', workload: 'open', reader: 'memmap', hint: 'none' }));
    const rf = m(find(results, { cache, layout: 'C', workload: 'open', reader: 'readFileSync', hint: 'none' }));
    const np = m(find(results, { cache, layout: 'C', workload: 'open', reader: 'np.memmap', hint: 'none' }));
    if (a && rf) {
      const speedup = rf.wallMs / a.wallMs;
      bars.push({ bar: cache === 'warm' ? 'open: memmap vs readFileSync' : 'open, context: memmap vs readFileSync', case: `${cache}/C/open`, memmapMs: a.wallMs, readFileSyncMs: rf.wallMs, speedup, pass: speedup >= 1000, limits: '>= 1000x faster' });
    }
    if (cache === 'cold' && a && rf && a.openMs) {
      // The mapping alone, before the element's fault reads a read-ahead window.
      const speedup = rf.wallMs / a.openMs;
      bars.push({ bar: 'open, context: memmap vs readFileSync', case: 'cold/C/open (mapping only, before the first element)', memmapMs: a.openMs, readFileSyncMs: rf.wallMs, speedup, pass: speedup >= 1000, limits: '>= 1000x faster' });
    }
    if (a && np) {
      const r = a.wallMs / np.wallMs;
      bars.push({ bar: cache === 'warm' ? 'open: memmap vs np.memmap' : 'open, context: memmap vs np.memmap', case: `${cache}/C/open`, memmapMs: a.wallMs, npMemmapMs: np.wallMs, wallRatio: r, pass: r <= 1, limits: 'no slower (<= 1.0x)' });
    }
    if (cache === 'warm') {
      // The first open of a short-lived script: a fresh process, no warm-up.
      const af = m(find(results, { cache, layout: 'C', workload: 'open', reader: 'memmap', hint: 'first-call' }));
      const nf = m(find(results, { cache, layout: 'C', workload: 'open', reader: 'np.memmap', hint: 'first-call' }));
      if (af && nf) {
        const r = af.wallMs / nf.wallMs;
        bars.push({ bar: 'open, context: memmap vs np.memmap', case: 'warm/C/open, first call in a fresh process', memmapMs: af.wallMs, npMemmapMs: nf.wallMs, wallRatio: r, pass: r <= 1, limits: 'no slower (<= 1.0x)' });
      }
      if (af && nf && af.loadMs !== null && nf.loadMs !== null) {
        // What a script pays before its first element: loading the library, then the call.
        const r = (af.loadMs + af.wallMs) / (nf.loadMs + nf.wallMs);
        bars.push({ bar: 'open, context: memmap vs np.memmap', case: 'load the library + first call, fresh process', memmapMs: af.loadMs + af.wallMs, npMemmapMs: nf.loadMs + nf.wallMs, wallRatio: r, pass: r <= 1, limits: 'no slower (<= 1.0x)' });
      }
      if (af && rf) {
        const speedup = rf.wallMs / af.wallMs;
        bars.push({ bar: 'open, context: memmap vs readFileSync', case: 'warm/C/open, first call in a fresh process', memmapMs: af.wallMs, readFileSyncMs: rf.wallMs, speedup, pass: speedup >= 1000, limits: '>= 1000x faster' });
      }
    }
  }
  // 3. Cold full scan with the sequential hint vs a chunked fs.readSync scan.
  for (const layout of ['C', 'F']) {
    const seq = m(find(results, { cache: 'cold', layout, workload: 'scan', reader: 'memmap', hint: 'sequential' }));
    const rs = m(find(results, { cache: 'cold', layout, workload: 'scan', reader: 'readSync', hint: 'none' }));
    if (seq && rs) {
      const r = seq.wallMs / rs.wallMs;
      bars.push({ bar: 'cold scan: memmap(sequential) vs readSync', case: `cold/${layout}/scan`, memmapMs: seq.wallMs, readSyncMs: rs.wallMs, wallRatio: r, pass: r <= 1.2, limits: '<= 1.2x' });
    }
  }

  // Findings for the write-up.
  const findings = { rowVsColumn: [], coldVsWarm: [], mmapVsRead: [], scanThroughput: [], hints: [], jsLoop: [] };
  for (const cache of ['warm', 'cold']) {
    for (const workload of C.WORKLOADS) {
      const nat = m(find(results, { cache, layout: 'C', workload, reader: 'memmap', hint: 'none' }));
      const js = m(find(results, { cache, layout: 'C', workload, reader: 'memmap-js', hint: 'none' }));
      const np = m(find(results, { cache, layout: 'C', workload, reader: 'np.memmap', hint: 'none' }));
      if (nat && js) findings.jsLoop.push({ case: `${cache}/C/${workload}`, nativeMs: nat.wallMs, jsMs: js.wallMs, npMs: np ? np.wallMs : null, nativeFaults: nat.faults, jsFaults: js.faults, npFaults: np ? np.faults : null });
    }
  }
  for (const workload of C.WORKLOADS) {
    for (const hint of ['none', ...HINTS]) {
      const h = m(find(results, { cache: 'cold', layout: 'C', workload, reader: 'memmap', hint }));
      if (h) findings.hints.push({ workload, hint, wallMs: h.wallMs, openMs: h.openMs, ioReadBytes: h.ioReadBytes, faults: h.faults, residentAfter: h.residentAfter });
    }
  }
  for (const [reader, hint] of [['memmap', 'none'], ['memmap', 'random'], ['memmap', 'sequential'], ['np.memmap', 'none'], ['readSync', 'none'], ['np.fromfile', 'none']]) {
    const row = m(find(results, { cache: 'cold', layout: 'C', workload: 'row', reader, hint }));
    const col = m(find(results, { cache: 'cold', layout: 'C', workload: 'col', reader, hint }));
    if (!row || !col) continue;
    findings.rowVsColumn.push({
      reader,
      hint,
      row: { ioReadBytes: row.ioReadBytes, faults: row.faults, wallMs: row.wallMs },
      col: { ioReadBytes: col.ioReadBytes, faults: col.faults, wallMs: col.wallMs },
      bytesRatio: ratio(col.ioReadBytes, row.ioReadBytes),
      faultRatio: ratio(col.faults, row.faults),
      wallRatio: ratio(col.wallMs, row.wallMs),
    });
  }
  for (const layout of ['C', 'F']) {
    for (const workload of C.WORKLOADS) {
      const w = m(find(results, { cache: 'warm', layout, workload, reader: 'memmap', hint: 'none' }));
      const c = m(find(results, { cache: 'cold', layout, workload, reader: 'memmap', hint: 'none' }));
      if (w && c) findings.coldVsWarm.push({ case: `${layout}/${workload}`, warmMs: w.wallMs, coldMs: c.wallMs, ratio: ratio(c.wallMs, w.wallMs), coldBytes: c.ioReadBytes, coldFaults: c.faults, warmFaults: w.faults });
      for (const cache of ['warm', 'cold']) {
        const mm = m(find(results, { cache, layout, workload, reader: 'memmap', hint: 'none' }));
        const rs = m(find(results, { cache, layout, workload, reader: 'readSync', hint: 'none' }));
        if (mm && rs) findings.mmapVsRead.push({ case: `${cache}/${layout}/${workload}`, memmapMs: mm.wallMs, readSyncMs: rs.wallMs, ratio: ratio(mm.wallMs, rs.wallMs), memmapBytes: mm.ioReadBytes, readSyncBytes: rs.ioReadBytes });
      }
    }
  }
  for (const [reader, hint] of [['memmap', 'none'], ['memmap', 'sequential'], ['memmap', 'populate'], ['memmap', 'willneed'], ['memmap-js', 'none'], ['memmap-js', 'sequential'], ['readSync', 'none'], ['readFileSync', 'none'], ['np.memmap', 'none'], ['np.fromfile', 'none']]) {
    const s = m(find(results, { cache: 'cold', layout: 'C', workload: 'scan', reader, hint }));
    if (s) findings.scanThroughput.push({ reader, hint, wallMs: s.wallMs, ioReadBytes: s.ioReadBytes, mbPerS: s.ioReadBytes / 1e6 / (s.wallMs / 1e3) });
  }
  return { bars, findings };
}

function caseTable(results) {
  const head = '| cache | layout | workload | reader | hint | wall (median) | of which open | faults minor/major (main thread) | faults (process) | disk read (/proc io) | ru_inblock | resident before→after | RSS growth |';
  const lines = [head, head.replace(/[^|]+/g, '---')];
  for (const c of results) {
    const pre = `| ${c.cache} | ${c.layout} | ${c.workload} | ${c.reader} | ${c.hint} |`;
    if (c.status !== 'ok') {
      lines.push(`${pre} ${c.status}: ${(c.reason || '').split('\n')[0].replace(/\|/g, '/')} | | | | | | | |`);
      continue;
    }
    const s = c.median;
    lines.push(
      `${pre} ${fmtMs(s.wallMs)} | ${fmtMs(s.openMs)} | ${fmtN(s.threadMinorFaults)} / ${fmtN(s.threadMajorFaults)} | ${fmtN(s.minorFaults)} / ${fmtN(s.majorFaults)} | ${C.fmtBytes(s.ioReadBytes)} | ${C.fmtBytes(s.inblockBytes)} | ${fmtPct(s.residentBefore)} → ${fmtPct(s.residentAfter)} | ${C.fmtBytes(s.rssGrowth)} |`,
    );
  }
  return lines.join('\n');
}

function barsTable(bars) {
  const lines = ['| bar | case | measured | limit | held |', '|---|---|---|---|---|'];
  for (const b of bars) {
    let measured;
    if (b.bar === 'memmap vs np.memmap') {
      measured = `faults ${fmtX(b.faultRatio)} (${fmtN(b.memmap.faults)} vs ${fmtN(b.numpy.faults)}; file pages mapped ${fmtX(b.rssFileRatio)}), disk ${fmtX(b.bytesRatio)} (${C.fmtBytes(b.memmap.ioReadBytes)} vs ${C.fmtBytes(b.numpy.ioReadBytes)}), wall ${fmtX(b.wallRatio)} (${fmtMs(b.memmap.wallMs)} vs ${fmtMs(b.numpy.wallMs)})`;
    } else if (b.speedup !== undefined) {
      measured = `${fmtX(b.speedup)} (${fmtMs(b.memmapMs)} vs ${fmtMs(b.readFileSyncMs)})`;
    } else if (b.npMemmapMs !== undefined) {
      measured = `${fmtX(b.wallRatio)} (${fmtMs(b.memmapMs)} vs ${fmtMs(b.npMemmapMs)})`;
    } else {
      measured = `${fmtX(b.wallRatio)} (${fmtMs(b.memmapMs)} vs ${fmtMs(b.readSyncMs)})`;
    }
    lines.push(`| ${b.bar} | ${b.case} | ${measured} | ${b.limits} | ${b.pass ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}

function findingsText(f) {
  const out = [];
  if (f.rowVsColumn.length) {
    out.push('Row vs column, cold cache, C-order file (column/row):', '');
    out.push('| reader | hint | row: disk, faults, wall | column: disk, faults, wall | disk ratio | fault ratio | wall ratio |', '|---|---|---|---|---|---|---|');
    for (const r of f.rowVsColumn) {
      out.push(`| ${r.reader} | ${r.hint} | ${C.fmtBytes(r.row.ioReadBytes)}, ${fmtN(r.row.faults)}, ${fmtMs(r.row.wallMs)} | ${C.fmtBytes(r.col.ioReadBytes)}, ${fmtN(r.col.faults)}, ${fmtMs(r.col.wallMs)} | ${fmtX(r.bytesRatio)} | ${fmtX(r.faultRatio)} | ${fmtX(r.wallRatio)} |`);
    }
    out.push('');
  }
  if (f.scanThroughput.length) {
    out.push('Cold full scan, C-order file:', '', '| reader | hint | wall | disk read | MB/s |', '|---|---|---|---|---|');
    for (const s of f.scanThroughput) out.push(`| ${s.reader} | ${s.hint} | ${fmtMs(s.wallMs)} | ${C.fmtBytes(s.ioReadBytes)} | ${s.mbPerS.toFixed(0)} |`);
    out.push('');
  }
  if (f.hints.length) {
    out.push('memmap access hints, cold cache, C-order file:', '', '| workload | hint | wall | of which open+hint | disk read | faults | resident after |', '|---|---|---|---|---|---|---|');
    for (const h of f.hints) out.push(`| ${h.workload} | ${h.hint} | ${fmtMs(h.wallMs)} | ${fmtMs(h.openMs)} | ${C.fmtBytes(h.ioReadBytes)} | ${fmtN(h.faults)} | ${fmtPct(h.residentAfter)} |`);
    out.push('');
  }
  if (f.coldVsWarm.length) {
    out.push('memmap, cold vs warm (hint none):', '', '| layout/workload | warm | cold | cold/warm | cold disk read | faults warm → cold |', '|---|---|---|---|---|---|');
    for (const r of f.coldVsWarm) out.push(`| ${r.case} | ${fmtMs(r.warmMs)} | ${fmtMs(r.coldMs)} | ${fmtX(r.ratio)} | ${C.fmtBytes(r.coldBytes)} | ${fmtN(r.warmFaults)} → ${fmtN(r.coldFaults)} |`);
    out.push('');
  }
  if (f.jsLoop.length) {
    out.push('memmap native calls (a.sum(index), a.gather) vs a JavaScript loop over a.data, C-order file (hint none):', '', '| case | native: wall, faults | JS loop: wall, faults | JS/native wall | np.memmap: wall, faults |', '|---|---|---|---|---|');
    for (const r of f.jsLoop) out.push(`| ${r.case} | ${fmtMs(r.nativeMs)}, ${fmtN(r.nativeFaults)} | ${fmtMs(r.jsMs)}, ${fmtN(r.jsFaults)} | ${fmtX(ratio(r.jsMs, r.nativeMs))} | ${fmtMs(r.npMs)}, ${fmtN(r.npFaults)} |`);
    out.push('');
  }
  if (f.mmapVsRead.length) {
    out.push('memmap vs fs.readSync (pread per contiguous run), wall time:', '', '| case | memmap | readSync | memmap/readSync | disk read memmap / readSync |', '|---|---|---|---|---|');
    for (const r of f.mmapVsRead) out.push(`| ${r.case} | ${fmtMs(r.memmapMs)} | ${fmtMs(r.readSyncMs)} | ${fmtX(r.ratio)} | ${C.fmtBytes(r.memmapBytes)} / ${C.fmtBytes(r.readSyncBytes)} |`);
    out.push('');
  }
  return out.join('\n');
}

function machineText(info) {
  const m = info.machine;
  return [
    `- date: ${info.date}; duration ${(info.durationMs / 1000).toFixed(0)} s; load average before ${info.loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${info.loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
    `- machine: ${m.hostname}, ${m.cpu} (${m.cores} cores), ${C.fmtBytes(m.memBytes)} RAM; ${m.kernel} ${m.arch}; page size ${m.pageSize}; THP ${m.transparentHugepage}`,
    `- filesystem: ${m.filesystem} on ${m.device} (read_ahead_kb ${m.readAheadKb}); Node ${m.node}; ${info.python ? `python ${info.python.python}, numpy ${info.python.numpy}` : 'numpy: not found (numpy rows skipped)'}`,
    `- data: ${info.config.n} x ${info.config.n} float32 (${C.fmtBytes(info.config.bytes)}) per file, C and F order; ${info.config.runs} run(s) per case, each in a fresh process; open: median of ${info.config.openReps} opens (warm)`,
  ].join('\n');
}

/** Runs the cases `opts` selects; returns the results JSON and its Markdown report. */
function runSuite(opts) {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const progress = (s) => process.stderr.write(s);
  const python = opts.python === 'none' ? null : opts.python ? (spawnSync(opts.python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0 ? opts.python : null) : findPython();
  let pyInfo = null;
  if (python) {
    const r = spawnSync(python, ['-c', 'import sys, numpy, json; print(json.dumps({"python": sys.version.split()[0], "numpy": numpy.__version__}))'], { encoding: 'utf8' });
    pyInfo = JSON.parse(r.stdout);
  }
  const n = C.sideForBytes(opts.size);
  const files = {
    C: C.ensureArrayFile(opts.dataDir, n, 'C', (s) => progress(`${s}\n`)).file,
    F: C.ensureArrayFile(opts.dataDir, n, 'F', (s) => progress(`${s}\n`)).file,
  };
  // Small files for the workers' warm-up rounds (see worker.js).
  const warmN = opts.quick ? 256 : 1024;
  const warmC = C.ensureArrayFile(opts.dataDir, warmN, 'C');
  const warmF = C.ensureArrayFile(opts.dataDir, warmN, 'F');
  const params = C.workloadParams(n);
  const expected = {};
  for (const w of C.WORKLOADS) expected[w] = C.expectedResult(w, n, params);

  const cases = buildCases(opts, python);
  const results = [];
  const totalRuns = cases.reduce((s, c) => s + (c.skip ? 0 : opts.runs), 0);
  let done = 0;
  const tty = process.stderr.isTTY;
  progress(`memmap benchmarks: ${cases.length} cases, ${totalRuns} runs, ${n} x ${n} float32 (${C.fmtBytes(n * n * 4)}) per file, python ${python ?? 'none'}\n`);
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
      let residentBefore = c.cache === 'cold' ? makeCold(file) : makeWarm(file);
      const reps = repsFor(c, opts);
      const spec = { reader: c.reader, workload: c.workload, cache: c.cache, file, n, order: c.layout, hint: c.hint, reps, params, warmupFile: c.hint === 'first-call' ? null : (c.layout === 'C' ? warmC : warmF).file, warmupN: warmC.n };
      const launch = () =>
        PY_READERS.includes(c.reader)
          ? runChild(python, [path.join(__dirname, 'numpy_reader.py'), JSON.stringify(spec)])
          : runChild(process.execPath, ['--expose-gc', path.join(__dirname, 'worker.js'), JSON.stringify(spec)]);
      let out = launch();
      if (!out.ok && out.crashed) {
        // A worker that died before reporting (e.g. the package was being
        // rebuilt under us) gets one more try; the run records it.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
        residentBefore = c.cache === 'cold' ? makeCold(file) : makeWarm(file);
        out = { ...launch(), retriedAfter: out.error };
      }
      out.residentBefore = residentBefore;
      out.residentAfter = residentFraction(file);
      if (out.ok && (out.sum !== expected[c.workload].sum || out.count !== expected[c.workload].count)) {
        out.ok = false;
        out.error = `wrong result: sum ${out.sum} count ${out.count}, expected ${expected[c.workload].sum} / ${expected[c.workload].count}`;
      }
      if (out.ok && c.cache === 'cold' && residentBefore > 0.01) {
        out.ok = false;
        out.error = `could not make the file cold: ${fmtPct(residentBefore)} still resident`;
      }
      // Per-run record: what the medians come from (constants like count stay out).
      const { ok, error, sum, wallNs, firstNs, openNs, loadNs, counters, retriedAfter } = out;
      runsOf.get(c).push({ ok, error, sum, wallNs, firstNs, openNs, loadNs, counters, residentBefore, residentAfter: out.residentAfter, retriedAfter });
      done++;
      const eta = ((Date.now() - started) / done) * (totalRuns - done);
      const line = `[${String(done).padStart(String(totalRuns).length)}/${totalRuns}] round ${round + 1}/${opts.runs} ${c.id.padEnd(40)} ${out.ok ? fmtMs(out.wallNs / 1e6).padStart(10) : 'ERROR'.padStart(10)}  eta ${Math.round(eta / 1000)}s`;
      progress(tty ? `\r${line}\x1b[K` : `${line}\n`);
    }
  }
  for (const c of cases) {
    const res = { id: c.id, workload: c.workload, layout: c.layout, cache: c.cache, hint: c.hint, reader: c.reader, file: path.basename(files[c.layout]) };
    const runs = runsOf.get(c);
    const bad = runs.find((x) => !x.ok);
    if (c.skip) results.push({ ...res, status: 'skipped', reason: c.skip });
    else if (bad) results.push({ ...res, status: 'error', reason: bad.error, runs });
    else results.push({ ...res, status: 'ok', expectedSum: expected[c.workload].sum, runs, median: summarize(runs) });
  }
  if (tty) progress('\n');

  const info = {
    schema: 1,
    name: opts.name,
    date: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    loadBefore,
    loadAfter: os.loadavg(),
    machine: C.machineInfo(opts.dataDir),
    python: pyInfo,
    config: { n, bytes: n * n * 4, dtype: 'float32', runs: opts.runs, openReps: opts.openReps, quick: opts.quick, filter: opts.filter ? String(opts.filter) : null, params, readers: READER_NOTES, hints: HINTS, workloads: C.WORKLOAD_TITLES, command: `node benchmarks/${path.basename(process.argv[1])} ${process.argv.slice(2).join(' ')}`.trim() },
  };
  const { bars, findings } = analyse(results);
  const json = { ...info, cases: results, bars, findings };
  const md = [
    `# memmap benchmark results: ${opts.name}`,
    '',
    machineText(info),
    `- command: \`${info.config.command}\``,
    '',
    `![faults and disk reads](${opts.name}.svg)`,
    '',
    '## Bars',
    '',
    barsTable(bars),
    '',
    '## Findings',
    '',
    findingsText(findings),
    '## All cases',
    '',
    'Faults are counted for the main thread (the one touching the data; /proc/self/task/<tid>/stat); "process" adds JIT/GC/BLAS threads. Disk read is /proc/self/io read_bytes; ru_inblock is getrusage in 512-byte blocks, shown in bytes.',
    '',
    caseTable(results),
    '',
  ].join('\n');
  return { json, md, ok: !results.some((r) => r.status === 'error') };
}

/** Writes <out>/<name>.json, .md (and .svg) and prints the report. */
function writeResults(opts, json, md, { chart = true } = {}) {
  fs.mkdirSync(opts.out, { recursive: true });
  const base = path.join(opts.out, opts.name);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(json)}\n`);
  fs.writeFileSync(`${base}.md`, md);
  if (chart) fs.writeFileSync(`${base}.svg`, renderChart(json));
  process.stdout.write(`${md}\n`);
  process.stderr.write(`wrote ${base}.json, ${base}.md${chart ? `, ${base}.svg` : ''}\n`);
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    throw Object.assign(err, { usage: true });
  }
  const { json, md, ok } = runSuite(opts);
  writeResults(opts, json, md);
  if (!ok) process.exitCode = 1;
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${err && err.usage ? err.message : err && err.stack ? err.stack : err}\n`);
    process.exitCode = 2;
  }
}

module.exports = { parseArgs, buildCases, runSuite, writeResults, residentFraction, makeWarm, makeCold, runChild, median, fmtMs, fmtX, READERS, HINTS };
