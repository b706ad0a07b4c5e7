'use strict';
// Runs ONE benchmark case in this (fresh) process and prints its result as
// JSON: the runner starts one process per run so fault and I/O counts of
// different cases never mix. Usage: node worker.js '<spec json>'
const fs = require('node:fs');
const v8 = require('node:v8');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
// The spec names the checkout under test (--against runs another one's dist/ and build/).
const SPEC = JSON.parse(process.argv[2]);
// Loading the library is timed for the first-call case (numpy_reader.py times `import numpy`).
const loadStart = process.hrtime.bigint();
const lib = require(SPEC.pkg ? path.resolve(SPEC.pkg) : '..');
const { memmap, openZarr } = lib;
const loadNs = Number(process.hrtime.bigint() - loadStart);
const { workloadParams, runsFor, snapshot, countersDelta } = require('./common');
const { workload: workloadOf } = require('./workloads');
const { sum2d } = require('./workloads/loops');
const { median, medianOfKeys } = require('./kit/stats');
const { reportFromChild } = require('./kit/child');
const { makeCold } = require('./kit/cache');

function readFully(fd, buf, off, len, pos) {
  let done = 0;
  while (done < len) {
    const got = fs.readSync(fd, buf, off + done, len - done, pos + done);
    if (got === 0) throw new Error(`short read at ${pos + done}`);
    done += got;
  }
}

const ADVICE = new Set(['sequential', 'random', 'willneed']);

/**
 * A workload timed on an array already read once (`primeWarm`, warm cache): the steady state of an open store, its
 * shard mapped and index read (zarrita caches nothing between get() calls but the opened array).
 */
const primed = (spec, prep) => prep.w.primeWarm === true && spec.cache === 'warm';

const isZarr = (spec) => (spec.layout ?? spec.order).startsWith('zarr');

/** memmap() (openZarr() for a Zarr store) with the case's hint; marks the end of the open in prep. */
function openMemmap(spec, prep) {
  const a = isZarr(spec) ? openZarr(spec.file) : memmap(spec.file, { dtype: 'float32', shape: [spec.n, spec.n], order: spec.order, mode: 'r', populate: spec.hint === 'populate' });
  prep.close = () => a.close();
  if (ADVICE.has(spec.hint)) a.advise(spec.hint);
  prep.opened = process.hrtime.bigint();
  return a;
}

// Each reader: (spec, prepared) => sum. Only the call is timed. What each
// workload reads is in benchmarks/workloads/<name>.js.
const READERS = {
  // numpy's way: open, then one native call per workload (a[index].sum(),
  // a[ii, jj]) that makes no ArrayBuffer and runs a C++ loop.
  memmap(spec, prep) {
    const a = openMemmap(spec, prep);
    if (primed(spec, prep)) {
      prep.w.native(a, prep.p, prep.extra);
      prep.opened = process.hrtime.bigint();
    }
    // timesRead workloads say when the data is in memory (the rest of the call checks it).
    return prep.w.timesRead ? prep.w.native(a, prep.p, prep.extra, () => (prep.readAt = process.hrtime.bigint())) : prep.w.native(a, prep.p, prep.extra);
  },

  // The JavaScript way: a loop over the zero-copy a.data.
  'memmap-js'(spec, prep) {
    const a = openMemmap(spec, prep);
    if (prep.w.memmapJs) return prep.w.memmapJs(a, prep.p);
    const [si, sj] = a.strides;
    return prep.w.loop(a.data, spec.n, si, sj, prep.p, prep.extra);
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

  // zarrita's get() on the Zarr store: what a JavaScript Zarr user has today.
  async zarrita(spec, prep) {
    const zarr = await import('zarrita');
    const FileSystemStore = (await import('@zarrita/storage/fs')).default;
    const arr = await zarr.open.v3(new FileSystemStore(spec.file), { kind: 'array' });
    const p = prep.p;
    const side = prep.w.side;
    const block = () => zarr.get(arr, [zarr.slice(p.blockRow, p.blockRow + side), zarr.slice(p.blockCol, p.blockCol + side)]);
    if (primed(spec, prep)) await block();
    prep.opened = process.hrtime.bigint();
    const r = await block();
    prep.readAt = process.hrtime.bigint();
    return sum2d(r.data, 0, 1, 0, r.data.length, 1);
  },

  // The whole file into the heap, then the same loop as memmap.
  readFileSync(spec, prep) {
    const buf = fs.readFileSync(spec.file);
    prep.opened = process.hrtime.bigint();
    const d = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const si = spec.order === 'C' ? spec.n : 1;
    const sj = spec.order === 'C' ? 1 : spec.n;
    return prep.w.loop(d, spec.n, si, sj, prep.p, prep.extra);
  },
};

function prepare(spec) {
  const p = workloadParams(spec.n, spec.params);
  const w = workloadOf(spec.workload);
  // readAt: when the data was in memory (workloads that time the read, not the sum that checks it).
  const prep = { w, p, extra: w.prepare ? w.prepare(spec.n, p) : null, runs: null, buf: null, opened: 0n, readAt: null, close: () => {} };
  if (spec.reader === 'readSync') {
    if (spec.workload === 'scan') {
      prep.buf = Buffer.alloc(Math.min(p.chunkBytes, spec.n * spec.n * 4));
    } else {
      prep.runs = runsFor(spec.workload, spec.n, spec.order, p);
      prep.buf = Buffer.alloc(w.count(spec.n, p) * 4);
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

/** Evicts `file` and checks that it left the page cache (as the runner does before the first repetition). */
function makeColdAgain(file) {
  const fraction = makeCold(file, lib);
  if (fraction > 0.01) throw new Error(`could not make the file cold between repetitions: ${(fraction * 100).toFixed(1)}% resident`);
}

/** Warm-up rounds unless the spec says (--quick: 3), the same in numpy_reader.py: enough for V8 to optimise the call path. */
const WARMUP_ROUNDS = 50;

const isPromise = (x) => x !== null && typeof x === 'object' && typeof x.then === 'function';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A compute workload's result (number, bigint, TypedArray or in-memory array) as float64 values. */
function valuesOf(r) {
  if (r === undefined) return new Float64Array(0);
  if (typeof r === 'number' || typeof r === 'bigint') return Float64Array.of(Number(r));
  if (ArrayBuffer.isView(r)) return Float64Array.from(r);
  if (r && r.shape && r.data) return Float64Array.from(r.data);
  throw new Error(`unexpected result ${typeof r}`);
}

/**
 * The event loop's delay while a call runs: timer resolution 1 ms, enabled
 * SETTLE_MS before the call (the histogram drops its first interval, which
 * would hide a call that blocks at once) and kept SETTLE_MS after it (so a
 * blocked timer fires and reports).
 */
const SETTLE_MS = 20;

async function main() {
  const spec = SPEC;
  const read = READERS[spec.reader];
  if (!read) throw new Error(`unknown reader ${spec.reader}`);
  // Run the same reader and workload 50 times (3 under --quick) on a small separate file
  // first, so the timed run sees optimised code (JIT) and no first-call costs:
  // a steady-state program, not a cold VM. numpy_reader.py warms up the same way.
  if (spec.warmupFile) {
    const w = { ...spec, file: spec.warmupFile, n: spec.warmupN, hint: 'none', params: null };
    for (let k = 0, rounds = spec.warmupRounds ?? WARMUP_ROUNDS; k < rounds; k++) {
      const prep = prepare(w);
      const r = read(w, prep);
      if (isPromise(r)) await r;
      prep.close();
    }
  }
  const workload = workloadOf(spec.workload);
  // Compute workloads time the calls, not the open (unless the open is the point).
  const compute = workload.family === 'compute';
  const fromOpen = (compute && !workload.timesOpen) || workload.fromOpen === true;
  const reps = Math.max(1, spec.reps | 0);
  let result = null;
  const walls = [];
  const withSums = []; // timesRead workloads: to the end of the checking sum
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
    // Every cold repetition evicts the file here, just before it runs (the runner's eviction, before this process
    // started and warmed up, stays the check): memory freed seconds before a scan can be slow to use again on a VM
    // that hands it back to its host (npm run bench:cold-memory), and the delay would differ by reader and layout.
    // Not before a 'first-call' run's first repetition: the library's first call is what it measures.
    if (spec.cache === 'cold' && (k > 0 || spec.hint !== 'first-call')) {
      makeColdAgain(spec.file);
      // Eviction and its residency check allocate; give the workload a warm nursery again.
      churnYoungGeneration();
    }
    const histogram = workload.eventLoop ? monitorEventLoopDelay({ resolution: 1 }) : null;
    if (histogram) {
      histogram.enable();
      await sleep(SETTLE_MS);
    }
    const before = snapshot('before');
    const t0 = process.hrtime.bigint();
    result = read(spec, prep);
    if (isPromise(result)) result = await result;
    const t1 = process.hrtime.bigint();
    // Still mapped here: RSS growth counts the pages the workload brought in.
    const after = snapshot('after');
    const delta = countersDelta(before, after);
    if (histogram) {
      await sleep(SETTLE_MS);
      histogram.disable();
      Object.assign(delta, { eventLoopP99Ms: histogram.percentile(99) / 1e6, eventLoopMaxMs: histogram.max / 1e6, eventLoopSamples: histogram.count });
    }
    prep.close();
    deltas.push(delta);
    const start = fromOpen ? prep.opened : t0;
    if (workload.timesRead && prep.readAt === null) throw new Error(`${spec.reader}: ${spec.workload} times the read, but the reader did not mark its end`);
    const stop = workload.timesRead ? prep.readAt : t1;
    walls.push(Number(stop - start));
    if (workload.timesRead) withSums.push(Number(t1 - start));
    opens.push(Number(prep.opened - t0));
  }
  let values = null;
  if (compute) {
    values = valuesOf(result);
    sum = 0;
    for (let k = 0; k < values.length; k++) sum += values[k];
  } else {
    sum = result;
  }
  // Each counter is the median over the repetitions: the steady state, where a
  // first repetition's one-off costs (heap growth, first calls) do not count.
  const counters = medianOfKeys(deltas);
  const p = workloadParams(spec.n, spec.params);
  return {
    loadNs,
    sum,
    count: workload.count ? workload.count(spec.n, p) : null,
    calls: workload.calls ? workload.calls(spec.n, p) : 1,
    ...(values && workload.match ? { values: Buffer.from(values.buffer).toString('base64') } : {}),
    reps,
    wallNs: median(walls),
    ...(withSums.length > 0 ? { withSumNs: median(withSums) } : {}),
    firstNs: walls[0],
    openNs: median(opens),
    counters,
  };
}

reportFromChild(main);
