'use strict';
// Runs ONE benchmark case in this (fresh) process and prints its result as
// JSON: the runner starts one process per run so fault and I/O counts of
// different cases never mix. Usage: node worker.js '<spec json>'
const fs = require('node:fs');
const v8 = require('node:v8');
// Loading the library is timed for the first-call case (numpy_reader.py times `import numpy`).
const loadStart = process.hrtime.bigint();
const { memmap, evict } = require('..');
const loadNs = Number(process.hrtime.bigint() - loadStart);
const { workloadParams, randomIndices, runsFor, snapshot, countersDelta } = require('./common');

/** Sums d[base + a*so + b*si] for a < no, b < ni: the inner loop of every workload. */
function sum2d(d, base, no, so, ni, si) {
  let s = 0;
  for (let a = 0; a < no; a++) {
    const row = base + a * so;
    if (si === 1) {
      // Contiguous inner run: the loop numpy's contiguous fast path would run.
      for (let k = row, end = row + ni; k < end; k++) s += d[k];
    } else {
      for (let b = 0; b < ni; b++) s += d[row + b * si];
    }
  }
  return s;
}

/** The workload over a Float32Array holding the whole array, walked in file order (as numpy does). */
function sumWorkload(d, workload, n, si, sj, p, rnd) {
  // Put the larger stride outside so each loop walks memory forwards.
  const grid = (base, ci, cj, ti, tj) => (ti >= tj ? sum2d(d, base, ci, ti, cj, tj) : sum2d(d, base, cj, tj, ci, ti));
  switch (workload) {
    case 'open':
      return d[p.row * si + p.col * sj];
    case 'scan':
      return grid(0, n, n, si, sj);
    case 'row':
      return sum2d(d, p.row * si, 1, 0, n, sj);
    case 'col':
      return sum2d(d, p.col * sj, 1, 0, n, si);
    case 'rows':
      return grid(p.rowsStart * si, p.rowsCount, n, si, sj);
    case 'strided': {
      const c = Math.ceil(n / p.step);
      return grid(0, c, c, p.step * si, p.step * sj);
    }
    case 'random': {
      let s = 0;
      for (let k = 0; k < rnd.ii.length; k++) s += d[rnd.ii[k] * si + rnd.jj[k] * sj];
      return s;
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
}

function elementCount(workload, n, p) {
  switch (workload) {
    case 'open':
      return 1;
    case 'scan':
      return n * n;
    case 'row':
    case 'col':
      return n;
    case 'rows':
      return p.rowsCount * n;
    case 'strided':
      return Math.ceil(n / p.step) ** 2;
    case 'random':
      return p.randomCount;
    default:
      throw new Error(`unknown workload ${workload}`);
  }
}

function readFully(fd, buf, off, len, pos) {
  let done = 0;
  while (done < len) {
    const got = fs.readSync(fd, buf, off + done, len - done, pos + done);
    if (got === 0) throw new Error(`short read at ${pos + done}`);
    done += got;
  }
}

const ADVICE = new Set(['sequential', 'random', 'willneed']);

/** memmap() with the case's hint; marks the end of the open in prep. */
function openMemmap(spec, prep) {
  const a = memmap(spec.file, { dtype: 'float32', shape: [spec.n, spec.n], order: spec.order, mode: 'r', populate: spec.hint === 'populate' });
  prep.close = () => a.close();
  if (ADVICE.has(spec.hint)) a.advise(spec.hint);
  prep.opened = process.hrtime.bigint();
  return a;
}

// Each reader: (spec, prepared) => sum. Only the call is timed.
const READERS = {
  // numpy's way: open, then one native call per workload (a[index].sum(),
  // a[ii, jj]) that makes no ArrayBuffer and runs a C++ loop.
  memmap(spec, prep) {
    const a = openMemmap(spec, prep);
    const p = prep.p;
    switch (spec.workload) {
      case 'open':
        return a.get(p.row, p.col);
      case 'scan':
        return a.sum();
      case 'row':
        return a.sum(p.row);
      case 'col':
        return a.sum(null, p.col);
      case 'rows':
        return a.sum([p.rowsStart, p.rowsStart + p.rowsCount]);
      case 'strided':
        return a.sum([0, null, p.step], [0, null, p.step]);
      case 'random': {
        const g = a.gather(prep.rnd.ii, prep.rnd.jj);
        return sum2d(g, 0, 1, 0, g.length, 1);
      }
      default:
        throw new Error(`unknown workload ${spec.workload}`);
    }
  },

  // The JavaScript way: a loop over the zero-copy a.data.
  'memmap-js'(spec, prep) {
    const a = openMemmap(spec, prep);
    if (spec.workload === 'open') return a.get(prep.p.row, prep.p.col);
    const [si, sj] = a.strides;
    return sumWorkload(a.data, spec.workload, spec.n, si, sj, prep.p, prep.rnd);
  },

  // pread of exactly the bytes needed, one call per contiguous run, into one
  // reused buffer; the scan streams the file through a chunk-sized buffer.
  readSync(spec, prep) {
    const fd = fs.openSync(spec.file, 'r');
    prep.close = () => fs.closeSync(fd);
    prep.opened = process.hrtime.bigint();
    if (spec.workload === 'scan') {
      const buf = prep.buf;
      const f32 = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
      const total = spec.n * spec.n * 4;
      let s = 0;
      for (let pos = 0; pos < total; pos += buf.length) {
        const len = Math.min(buf.length, total - pos);
        readFully(fd, buf, 0, len, pos);
        s += sum2d(f32, 0, 1, 0, len / 4, 1);
      }
      return s;
    }
    const runs = prep.runs;
    const buf = prep.buf;
    let at = 0;
    for (let r = 0; r < runs.length; r++) {
      const len = runs[r][1] * 4;
      readFully(fd, buf, at, len, runs[r][0] * 4);
      at += len;
    }
    return sum2d(new Float32Array(buf.buffer, buf.byteOffset, at / 4), 0, 1, 0, at / 4, 1);
  },

  // The whole file into the heap, then the same loop as memmap.
  readFileSync(spec, prep) {
    const buf = fs.readFileSync(spec.file);
    prep.opened = process.hrtime.bigint();
    const d = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const si = spec.order === 'C' ? spec.n : 1;
    const sj = spec.order === 'C' ? 1 : spec.n;
    return sumWorkload(d, spec.workload, spec.n, si, sj, prep.p, prep.rnd);
  },
};

function prepare(spec) {
  const p = workloadParams(spec.n, spec.params);
  const prep = { p, rnd: null, runs: null, buf: null, opened: 0n, close: () => {} };
  if (spec.workload === 'random') prep.rnd = randomIndices(spec.n, p.randomCount, p.seed);
  if (spec.reader === 'readSync') {
    if (spec.workload === 'scan') {
      prep.buf = Buffer.alloc(Math.min(p.chunkBytes, spec.n * spec.n * 4));
    } else {
      prep.runs = runsFor(spec.workload, spec.n, spec.order, p);
      prep.buf = Buffer.alloc(elementCount(spec.workload, spec.n, p) * 4);
    }
  }
  return prep;
}

function churnYoungGeneration() {
  const young = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space');
  const objects = ((young ? young.space_size : 16 << 20) * 3) / 32;
  let keep = null;
  for (let i = 0; i < objects; i++) keep = { i, keep: null };
  return keep;
}

/** Evicts `file` and checks that it left the page cache (as the runner's makeCold). */
function makeColdAgain(file) {
  let fraction = 1;
  for (let attempt = 0; attempt < 5 && fraction > 0.01; attempt++) {
    evict(file);
    const a = memmap(file, { dtype: 'uint8' });
    fraction = a.residency().fraction;
    a.close();
  }
  if (fraction > 0.01) throw new Error(`could not make the file cold between repetitions: ${(fraction * 100).toFixed(1)}% resident`);
}

/** Warm-up rounds, the same in numpy_reader.py: enough for V8 to optimise the call path. */
const WARMUP_ROUNDS = 50;

function main() {
  const spec = JSON.parse(process.argv[2]);
  const read = READERS[spec.reader];
  if (!read) throw new Error(`unknown reader ${spec.reader}`);
  // Run the same reader and workload 50 times on a small separate file
  // first, so the timed run sees optimised code (JIT) and no first-call costs:
  // a steady-state program, not a cold VM. numpy_reader.py warms up the same way.
  if (spec.warmupFile) {
    const w = { ...spec, file: spec.warmupFile, n: spec.warmupN, hint: 'none', params: null };
    for (let k = 0; k < WARMUP_ROUNDS; k++) {
      const prep = prepare(w);
      read(w, prep);
      prep.close();
    }
  }
  const reps = Math.max(1, spec.reps | 0);
  const walls = [];
  const opens = [];
  const deltas = [];
  let sum = 0;
  const preps = Array.from({ length: reps }, () => prepare(spec));
  // Start from a collected heap, then cycle the young generation a few times so
  // its pages are in RAM again: a full GC hands them back to the OS, and the
  // first touch of each would count as the workload's page fault.
  // (Not for 'first-call': that case measures a fresh process as a script sees it.)
  if (spec.hint !== 'first-call') {
    if (typeof global.gc === 'function') global.gc();
    churnYoungGeneration();
  }
  for (let k = 0; k < reps; k++) {
    const prep = preps[k];
    // The runner made the file cold for the first repetition; later ones evict it again.
    if (k > 0 && spec.cache === 'cold') {
      makeColdAgain(spec.file);
      // Eviction and its residency check allocate; give the workload a warm nursery again.
      churnYoungGeneration();
    }
    const before = snapshot('before');
    const t0 = process.hrtime.bigint();
    sum = read(spec, prep);
    const t1 = process.hrtime.bigint();
    // Still mapped here: RSS growth counts the pages the workload brought in.
    const after = snapshot('after');
    prep.close();
    deltas.push(countersDelta(before, after));
    walls.push(Number(t1 - t0));
    opens.push(Number(prep.opened - t0));
  }
  // Each counter is the median over the repetitions: the steady state, where a
  // first repetition's one-off costs (heap growth, first calls) do not count.
  const counters = {};
  for (const key of Object.keys(deltas[0])) {
    const v = deltas.map((d) => d[key]);
    counters[key] = v.includes(null) ? null : v.sort((x, y) => x - y)[v.length >> 1];
  }
  const firstNs = walls[0];
  walls.sort((x, y) => x - y);
  opens.sort((x, y) => x - y);
  const out = { ok: true, loadNs, sum, count: elementCount(spec.workload, spec.n, workloadParams(spec.n, spec.params)), reps, wallNs: walls[walls.length >> 1], firstNs, openNs: opens[opens.length >> 1], counters };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

try {
  main();
} catch (err) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(err && err.stack ? err.stack : err) })}\n`);
  process.exitCode = 1;
}
