'use strict';
// The page-fault suite as data: its readers, hints and the blocks of cases
// (grids over layout x cache x workload x reader x hint). run.js schedules
// whatever this file lists; comparisons.js says what is compared with what.
// A new reader or layout is an entry here (and its code in the worker that
// runs it); a new workload is a file in workloads/.
const { NAMES: WORKLOADS, COMPUTE_NAMES, ZARR_NAMES, WORKLOADS: ALL_WORKLOADS } = require('./workloads');
const { points } = require('./kit/compare');
const { ZARR_LAYOUTS } = require('./kit/zarr');

/**
 * Readers: `runs` names the process that runs it (LAUNCHERS in run.js);
 * `workloads` limits it to some workloads; `checkout: true` means it measures
 * this package, so --against DIR gives it a twin that runs DIR's package;
 * `color` is its bars' colour in the chart.
 */
const READERS = {
  memmap: { runs: 'node', checkout: true, color: '#d62728', note: 'memmap() of this package; native a.sum(index) / a.gather(ii, jj) (C++ loops, no ArrayBuffer), as np.memmap + .sum' },
  'memmap-js': { runs: 'node', checkout: true, color: '#e377c2', note: 'memmap() of this package; JavaScript loop over a.data (zero-copy Float32Array)' },
  readSync: { runs: 'node', color: '#1f77b4', note: 'fs.readSync into one reused Buffer: one pread per contiguous run; scan in 4 MiB chunks' },
  // It reads the whole file whatever the workload: a few workloads show that.
  readFileSync: { runs: 'node', color: '#9467bd', workloads: ['open', 'scan', 'row', 'col'], note: 'fs.readFileSync of the whole file, then the same loop as memmap-js' },
  'np.memmap': { runs: 'python', color: '#ff7f0e', note: 'numpy np.memmap + slicing + .sum(dtype=float64) (C loops)' },
  'np.fromfile': { runs: 'python', color: '#2ca02c', note: 'np.fromfile(f, count) per contiguous run after a seek; scan in 4 MiB chunks' },
  // Issue 13: zarrita's get() on the same Zarr store (it reads each chunk with readFile and decodes in JavaScript/wasm).
  zarrita: { runs: 'node', color: '#8c564b', workloads: ZARR_NAMES, note: "zarrita (npm) get(arr, [slice, slice]) on the same Zarr store, then the same JavaScript sum (the block's time stops at the end of get(): the sum checks it)" },
};

/** Layouts of the data: C- and F-order files, and Zarr stores made from the C-order one (kit/zarr.js). */
const LAYOUTS = ['C', 'F'];
const ZARR = Object.keys(ZARR_LAYOUTS);
const ALL_LAYOUTS = [...LAYOUTS, ...ZARR];
const HINTS = ['sequential', 'random', 'willneed', 'populate'];

/**
 * Blocks of cases, in run order (grouped so warm-ups and evictions are few).
 * Each dimension lists its values; the first dimension is the outermost loop.
 * `quick` overrides dimensions under --quick and `quickExclude` drops cases:
 * --quick keeps every workload, reader and hint but fewer combinations.
 */
const BLOCKS = [
  {
    about: 'every reader on every workload, both layouts, warm and cold',
    dims: { layout: LAYOUTS, cache: ['warm', 'cold'], workload: WORKLOADS, reader: Object.keys(READERS), hint: ['none'] },
    quickExclude: [{ layout: 'F', cache: 'warm' }],
  },
  {
    about: 'memmap access hints, cold, C order',
    dims: { hint: HINTS, workload: WORKLOADS, layout: ['C'], cache: ['cold'], reader: ['memmap'] },
    quick: { workload: ['scan', 'row', 'col'] },
  },
  {
    // The first open + element of a fresh process (no warm-up): what a short script pays.
    about: 'first call in a fresh process',
    dims: { reader: ['memmap', 'np.memmap'], layout: ['C'], cache: ['warm'], workload: ['open'], hint: ['first-call'] },
  },
  {
    // The JavaScript loop reads the same pages in the same order: one hinted scan shows it.
    about: 'JavaScript loop, sequential hint',
    dims: { layout: ['C'], cache: ['cold'], workload: ['scan'], reader: ['memmap-js'], hint: ['sequential'] },
  },
  {
    // Issue 11: reductions, small reads, open + close, the event loop; each workload names its cache state (and its readers when numpy has no twin).
    about: 'compute: memmap against numpy on the C-order file',
    dims: { cache: ['warm', 'cold'], layout: ['C'], workload: COMPUTE_NAMES, reader: ['memmap', 'np.memmap'], hint: ['none'] },
  },
  {
    // Issue 13: the same reads on Zarr stores (openZarr, advice random + prefetch of the touched chunks); the C-order cases are block 1's.
    about: 'Zarr layouts: scan, row, column and a block, warm and cold',
    dims: { layout: ZARR, cache: ['warm', 'cold'], workload: ['scan', 'row', 'col', ...ZARR_NAMES], reader: ['memmap'], hint: ['none'] },
  },
  {
    about: 'Zarr layouts: a block with zarrita, and a block of the C-order file (context)',
    dims: { layout: ['C', ...ZARR], cache: ['warm'], workload: ZARR_NAMES, reader: ['memmap', 'zarrita'], hint: ['none'] },
  },
];

/** Named selections of the suite (--preset), each a --filter on case ids. */
const PRESETS = {
  // bench:open: open + one element, memmap against readFileSync and np.memmap.
  open: { name: 'open', filter: /^(warm|cold)\/C\/open\/(memmap|readFileSync|np\.memmap)\/none$/ },
  // bench:sum: memmap's native a.sum() over the whole file, warm and cold (with --against: before/after).
  sum: { name: 'sum', filter: /^(warm|cold)\/C\/scan\/memmap\/none$/ },
  // bench:compute: issue 11's bars (reductions, a row into out, one element, open + close, the event loop).
  compute: { name: 'compute', filter: new RegExp(`^(warm|cold)/C/(${COMPUTE_NAMES.join('|')})/`) },
  // bench:zarr: issue 13's bars (Zarr stores against the C-order file, and against zarrita).
  zarr: { name: 'zarr', filter: new RegExp(`^(warm|cold)/(C/(scan|row|col)/memmap/none|(C|${ZARR.join('|')})/(${ZARR_NAMES.join('|')})/|(${ZARR.join('|')})/)`) },
};

/**
 * Repetitions inside one worker process (each counter is their median). Small
 * workloads fault a handful of times, so one-off costs of a run (heap growth,
 * first calls) would swamp them: they repeat, cold ones with an eviction before
 * each repetition. Workloads that read much of the file run once.
 */
function repsFor(c, workload, opts) {
  // A compute workload says how often it repeats: [full, quick], or 'open' (--open-reps).
  if (workload.reps === 'open') return opts.openReps;
  if (workload.reps) return workload.reps[opts.quick ? 1 : 0];
  if (c.reader === 'readFileSync' || c.hint === 'populate' || c.hint === 'first-call') return 1;
  if (c.workload === 'open' && c.cache === 'warm') return opts.openReps;
  if (!workload.repeatIn.includes(c.layout)) return 1;
  if (c.cache === 'warm') return opts.quick ? 3 : 41;
  return opts.quick ? 2 : 5;
}

const matches = (c, q) => Object.entries(q).every(([k, v]) => c[k] === v);
const caseId = (c) => `${c.cache}/${c.layout}/${c.workload}/${c.reader}/${c.hint}`;

/**
 * The cases `opts` selects, in run order. With checkouts beyond 'this'
 * (--against), a reader that measures the package gets a twin per checkout
 * right after it (id suffix @against), so both run side by side.
 */
function buildCases(opts, { python, checkouts = [{ key: 'this' }], layoutSkip }) {
  const cases = [];
  for (const block of BLOCKS) {
    const dims = opts.quick ? { ...block.dims, ...block.quick } : block.dims;
    for (const g of points(dims)) {
      const reader = READERS[g.reader];
      if (reader.workloads && !reader.workloads.includes(g.workload)) continue;
      const w = ALL_WORKLOADS[g.workload];
      if ((w.cache && w.cache !== g.cache) || (w.readers && !w.readers.includes(g.reader))) continue;
      // zarrita reads Zarr stores only.
      if (g.reader === 'zarrita' && !ZARR.includes(g.layout)) continue;
      if (opts.quick && (block.quickExclude ?? []).some((q) => matches(g, q))) continue;
      const base = { layout: g.layout, cache: g.cache, workload: g.workload, reader: g.reader, hint: g.hint };
      const id = caseId(base);
      if (opts.filter && !opts.filter.test(id)) continue;
      if (cases.some((c) => c.id === id)) continue; // blocks may overlap: each case once
      const skip = reader.runs === 'python' && !python ? 'python3 with numpy not found' : (layoutSkip?.(g.layout) ?? null);
      for (const co of reader.checkout ? checkouts : checkouts.slice(0, 1)) {
        cases.push(co.key === 'this' ? { ...base, id, skip } : { ...base, id: `${id}@${co.key}`, impl: co.key, pkg: co.dir, skip });
      }
    }
  }
  return cases;
}

module.exports = { READERS, LAYOUTS, ZARR, ALL_LAYOUTS, HINTS, BLOCKS, PRESETS, WORKLOADS, COMPUTE_NAMES, repsFor, caseId, buildCases };
