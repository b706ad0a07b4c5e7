'use strict';
// What the benchmarks compare, as data: the bars (limits a run holds
// or not) and the findings' tables. kit/compare.js evaluates all of them in
// one loop over a run's records; render.js prints them. A new comparison is a
// new entry here. The fields are described in kit/compare.js.
const { LAYOUTS, ZARR, HINTS, WORKLOADS } = require('./suite');
const { COMPUTE_NAMES, ZARR_NAMES } = require('./workloads');
const { COMPUTE } = require('./workloads/compute');
const { ratio } = require('./kit/stats');
const { fmtMs, fmtN, fmtPct, fmtX, fmtBytes } = require('./kit/format');

const CACHES = ['warm', 'cold'];
const none = (reader) => ({ reader, hint: 'none' });
const wall = (limit, extra = {}) => ({ figure: 'wall', unit: 'ms', value: 'wallMs', limit, ...extra });
const speedup = (extra = {}) => ({ figure: 'speedup', unit: 'ms', value: 'wallMs', limit: 1000, faster: true, ...extra });
const NO_SLOWER = 'no slower (<= 1.0x)';
const openC = (cache, hint = 'none') => ({ cache, layout: 'C', workload: 'open', hint });
const loadPlusFirst = (m) => (m.loadMs === null || m.loadMs === undefined ? null : m.loadMs + m.wallMs);

// Issue 11's compute bars: memmap against numpy on the C-order file (warm unless the workload says).
const computeCase = (workload) => ({ cache: COMPUTE[workload].cache, layout: 'C', workload, hint: 'none' });
const computeBar = (workload, limit, extra = {}) => ({
  bar: 'compute: memmap vs numpy',
  over: [computeCase(workload)],
  a: { reader: 'memmap' },
  b: { reader: 'np.memmap' },
  case: `${COMPUTE[workload].call} vs ${COMPUTE[workload].numpy}`,
  figures: [wall(limit)],
  ...extra,
});
/** A one-element read: <= 2 µs per call, numpy's a[i, j] beside it. */
const oneElement = (workload) => ({
  bar: 'compute: one element, per call',
  over: [computeCase(workload)],
  a: { reader: 'memmap' },
  b: { reader: 'np.memmap', workload: 'get1' },
  case: `${COMPUTE[workload].call} (numpy: ${COMPUTE.get1.numpy})`,
  figures: [{ figure: 'per call', unit: 'ms', value: 'perCallMs', absolute: 0.002 }],
});
const COMPUTE_BARS = [
  computeBar('sum', 0.5),
  ...['max-axis0', 'min-axis1', 'mean-axis0', 'mean-axis1', 'argmax', 'std'].map((w) => computeBar(w, 0.8)),
  computeBar('row-out', 1.5, { figures: [wall(1.5, { figure: 'per call', value: 'perCallMs' })] }),
  oneElement('get1'),
  oneElement('read1'),
  computeBar('open-close', 1, { limits: NO_SLOWER }),
  // Beside it (b): the same monitor over an idle loop in the same run, the machine's floor.
  {
    bar: 'compute: event loop during a cold read',
    over: [computeCase('col-async')],
    a: { reader: 'memmap' },
    b: { reader: 'memmap', workload: 'idle-loop' },
    case: `${COMPUTE['col-async'].call} (beside it: an idle loop)`,
    figures: [{ figure: 'event-loop delay p99', unit: 'ms', value: 'eventLoopP99Ms', absolute: 10 }],
  },
];

// Issue 13: Zarr stores (kit/zarr.js) against the C-order file and against zarrita.
const zarrCase = (cache, layout, workload) => ({ cache, layout, workload, hint: 'none' });
const ZARR_BARS = [
  // What a cold read pulls from disk, per byte of the chunks it touches: no read-ahead into chunks it does not need.
  ...['row', 'col'].map((workload) => ({
    bar: 'zarr: cold read, disk bytes per byte of the chunks touched',
    over: [zarrCase('cold', 'zarr', workload)],
    a: { reader: 'memmap' },
    case: `cold/zarr/${workload} (sharded, uncompressed)`,
    figures: [{ figure: 'disk / chunks touched', unit: 'ratio', value: (m) => (m.touchedBytes ? m.ioReadBytes / m.touchedBytes : null), absolute: 2 }],
  })),
  {
    bar: 'zarr: cold column, sharded vs C-order file',
    over: [{ cache: 'cold', workload: 'col', hint: 'none', reader: 'memmap' }],
    a: { layout: 'zarr' },
    b: { layout: 'C' },
    case: 'cold/col: sharded uncompressed vs C order (default read-ahead)',
    figures: [
      { figure: 'disk', unit: 'bytes', value: 'ioReadBytes', limit: 1 / 16, limitName: 'disk bytes (>= 16x fewer)' },
      { figure: 'wall', unit: 'ms', value: 'wallMs', limit: 1 / 4, limitName: 'wall (>= 4x faster)' },
    ],
  },
  ...[['cold', 1.2], ['warm', 1.1]].map(([cache, limit]) => ({
    bar: 'zarr: full scan, sharded vs C-order file',
    over: [{ cache, workload: 'scan', hint: 'none', reader: 'memmap' }],
    a: { layout: 'zarr' },
    b: { layout: 'C' },
    case: `${cache}/scan (a.sum()): sharded uncompressed vs C order`,
    figures: [wall(limit), { figure: 'disk', unit: 'bytes', value: 'ioReadBytes' }],
  })),
  ...[['zarr', 0.2, 'uncompressed: >= 5x faster'], ['zarr-zstd', 1.5, 'zstd: within 1.5x of zarrita or faster']].map(([layout, limit, what]) => ({
    bar: 'zarr: warm 256 x 256 block, memmap vs zarrita',
    over: [zarrCase('warm', layout, 'block')],
    a: { reader: 'memmap' },
    b: { reader: 'zarrita' },
    case: `warm/${layout}/block (${what})`,
    // The read alone (the bar), and with the JavaScript sum that checks the block (the same ~70 µs on both sides).
    figures: [wall(limit), { figure: 'read + checking sum', unit: 'ms', value: 'withSumMs' }],
  })),
];

const BARS = [
  // 1. memmap vs np.memmap, same file and pattern (hint none).
  {
    bar: 'memmap vs np.memmap',
    over: { cache: CACHES, layout: LAYOUTS, workload: WORKLOADS },
    a: none('memmap'),
    b: none('np.memmap'),
    case: '{cache}/{layout}/{workload}',
    figures: [
      { figure: 'faults', unit: 'count', value: 'faults', limit: 1.1 },
      // File pages mapped into the process: the data's share of the faults, without the JS heap's.
      { figure: 'file pages mapped', unit: 'bytes', value: 'rssFileGrowth' },
      // All threads' faults (JIT, GC, BLAS): in the JSON, not the table.
      { figure: 'process faults', unit: 'count', value: (m) => m.minorFaults + m.majorFaults, show: false },
      { figure: 'disk', unit: 'bytes', value: 'ioReadBytes', limit: 1.1, limitName: 'disk bytes' },
      wall(1.2),
    ],
  },
  // 2. Open + read one element of the file.
  { bar: 'open: memmap vs readFileSync', over: [openC('warm')], a: { reader: 'memmap' }, b: { reader: 'readFileSync' }, case: 'warm/C/open', figures: [speedup()] },
  { bar: 'open: memmap vs np.memmap', over: [openC('warm')], a: { reader: 'memmap' }, b: { reader: 'np.memmap' }, case: 'warm/C/open', figures: [wall(1)], limits: NO_SLOWER },
  // The first open of a short-lived script: a fresh process, no warm-up.
  {
    bar: 'open, context: memmap vs np.memmap',
    over: [openC('warm', 'first-call')],
    a: { reader: 'memmap' },
    b: { reader: 'np.memmap' },
    case: 'warm/C/open, first call in a fresh process',
    figures: [wall(1)],
    limits: NO_SLOWER,
  },
  // What a script pays before its first element: loading the library, then the call.
  {
    bar: 'open, context: memmap vs np.memmap',
    over: [openC('warm', 'first-call')],
    a: { reader: 'memmap' },
    b: { reader: 'np.memmap' },
    case: 'load the library + first call, fresh process',
    figures: [wall(1, { value: loadPlusFirst })],
    limits: NO_SLOWER,
  },
  {
    bar: 'open, context: memmap vs readFileSync',
    over: [openC('warm')],
    a: { reader: 'memmap', hint: 'first-call' },
    b: { reader: 'readFileSync' },
    case: 'warm/C/open, first call in a fresh process',
    figures: [speedup()],
  },
  { bar: 'open, context: memmap vs readFileSync', over: [openC('cold')], a: { reader: 'memmap' }, b: { reader: 'readFileSync' }, case: 'cold/C/open', figures: [speedup()] },
  // The mapping alone, before the element's fault reads a read-ahead window.
  {
    bar: 'open, context: memmap vs readFileSync',
    over: [openC('cold')],
    a: { reader: 'memmap' },
    b: { reader: 'readFileSync' },
    case: 'cold/C/open (mapping only, before the first element)',
    figures: [speedup({ valueA: (m) => m.openMs || null, valueB: 'wallMs' })],
  },
  { bar: 'open, context: memmap vs np.memmap', over: [openC('cold')], a: { reader: 'memmap' }, b: { reader: 'np.memmap' }, case: 'cold/C/open', figures: [wall(1)], limits: NO_SLOWER },
  // 3. Cold full scan with the sequential hint vs a chunked fs.readSync scan.
  {
    bar: 'cold scan: memmap(sequential) vs readSync',
    over: { cache: ['cold'], layout: LAYOUTS, workload: ['scan'] },
    a: { reader: 'memmap', hint: 'sequential' },
    b: none('readSync'),
    case: 'cold/{layout}/scan',
    figures: [wall(1.2)],
  },
  // 4. Open's warm sum (open.js): a loop over a.data against the same loop over heap arrays.
  ...[
    ['warm sum over a.data vs heap Float64Array (steady state)', 'a.data', 'heap Float64Array'],
    ['warm sum over a.data, first pass on a fresh mapping (minor faults) vs heap Float64Array', 'a.data, first pass', 'heap Float64Array'],
    ['warm sum over a.data vs heap Float32Array (same element type)', 'a.data', 'heap Float32Array'],
  ].map(([bar, a, b]) => ({ bar, from: 'warmSum', over: [{}], a: { loop: a }, b: { loop: b }, case: 'warm/C/sum', figures: [wall(1.1)] })),
  // 5. --against DIR: this checkout against another one, same case, side by side.
  {
    bar: 'this checkout vs --against',
    over: { cache: CACHES, layout: LAYOUTS, workload: [...WORKLOADS, ...COMPUTE_NAMES], reader: ['memmap', 'memmap-js'], hint: ['none', ...HINTS, 'first-call'] },
    a: { impl: 'this' },
    b: { impl: 'against' },
    case: '{cache}/{layout}/{workload}/{reader}/{hint}',
    figures: [{ figure: 'faults', unit: 'count', value: 'faults' }, { figure: 'disk', unit: 'bytes', value: 'ioReadBytes' }, wall(1.1)],
  },
  {
    bar: 'this checkout vs --against',
    from: 'warmSum',
    over: [{ loop: 'a.data' }, { loop: 'a.data, first pass' }, { loop: 'a.data, populate: true, first pass' }],
    a: { impl: 'this' },
    b: { impl: 'against' },
    case: 'warm/C/sum, {loop}',
    figures: [wall(1.1)],
  },
  // 6. Issue 11: reductions, small reads, open + close, the event loop.
  ...COMPUTE_BARS,
  // 7. Issue 13: Zarr stores.
  ...ZARR_BARS,
];

const cell = (m) => `${fmtBytes(m.ioReadBytes)}, ${fmtN(m.faults)}, ${fmtMs(m.wallMs)}`;

/** The findings' tables, in report order. */
const FINDINGS = [
  {
    finding: 'rowVsColumn',
    title: 'Row vs column, cold cache, C-order file (column/row):',
    over: [none('memmap'), { reader: 'memmap', hint: 'random' }, { reader: 'memmap', hint: 'sequential' }, none('np.memmap'), none('readSync'), none('np.fromfile')],
    pick: { row: { cache: 'cold', layout: 'C', workload: 'row' }, col: { cache: 'cold', layout: 'C', workload: 'col' } },
    row: ({ row, col }, g) => ({
      reader: g.reader,
      hint: g.hint,
      row: { ioReadBytes: row.ioReadBytes, faults: row.faults, wallMs: row.wallMs },
      col: { ioReadBytes: col.ioReadBytes, faults: col.faults, wallMs: col.wallMs },
      bytesRatio: ratio(col.ioReadBytes, row.ioReadBytes),
      faultRatio: ratio(col.faults, row.faults),
      wallRatio: ratio(col.wallMs, row.wallMs),
    }),
    columns: [
      ['reader', (r) => r.reader],
      ['hint', (r) => r.hint],
      ['row: disk, faults, wall', (r) => cell(r.row)],
      ['column: disk, faults, wall', (r) => cell(r.col)],
      ['disk ratio', (r) => fmtX(r.bytesRatio)],
      ['fault ratio', (r) => fmtX(r.faultRatio)],
      ['wall ratio', (r) => fmtX(r.wallRatio)],
    ],
  },
  {
    finding: 'scanThroughput',
    title: 'Cold full scan, C-order file:',
    over: [
      ['memmap', 'none'], ['memmap', 'sequential'], ['memmap', 'populate'], ['memmap', 'willneed'], ['memmap-js', 'none'], ['memmap-js', 'sequential'],
      ['readSync', 'none'], ['readFileSync', 'none'], ['np.memmap', 'none'], ['np.fromfile', 'none'],
    ].map(([reader, hint]) => ({ reader, hint })),
    pick: { s: { cache: 'cold', layout: 'C', workload: 'scan' } },
    row: ({ s }, g) => ({ reader: g.reader, hint: g.hint, wallMs: s.wallMs, ioReadBytes: s.ioReadBytes, mbPerS: s.ioReadBytes / 1e6 / (s.wallMs / 1e3) }),
    columns: [
      ['reader', (r) => r.reader],
      ['hint', (r) => r.hint],
      ['wall', (r) => fmtMs(r.wallMs)],
      ['disk read', (r) => fmtBytes(r.ioReadBytes)],
      ['MB/s', (r) => r.mbPerS.toFixed(0)],
    ],
  },
  {
    finding: 'hints',
    title: 'memmap access hints, cold cache, C-order file:',
    over: { workload: WORKLOADS, hint: ['none', ...HINTS] },
    pick: { h: { cache: 'cold', layout: 'C', reader: 'memmap' } },
    row: ({ h }, g) => ({ workload: g.workload, hint: g.hint, wallMs: h.wallMs, openMs: h.openMs, ioReadBytes: h.ioReadBytes, faults: h.faults, residentAfter: h.residentAfter }),
    columns: [
      ['workload', (r) => r.workload],
      ['hint', (r) => r.hint],
      ['wall', (r) => fmtMs(r.wallMs)],
      ['of which open+hint', (r) => fmtMs(r.openMs)],
      ['disk read', (r) => fmtBytes(r.ioReadBytes)],
      ['faults', (r) => fmtN(r.faults)],
      ['resident after', (r) => fmtPct(r.residentAfter)],
    ],
  },
  {
    finding: 'coldVsWarm',
    title: 'memmap, cold vs warm (hint none):',
    over: { layout: LAYOUTS, workload: WORKLOADS },
    pick: { w: { cache: 'warm', ...none('memmap') }, c: { cache: 'cold', ...none('memmap') } },
    row: ({ w, c }, g) => ({ case: `${g.layout}/${g.workload}`, warmMs: w.wallMs, coldMs: c.wallMs, ratio: ratio(c.wallMs, w.wallMs), coldBytes: c.ioReadBytes, coldFaults: c.faults, warmFaults: w.faults }),
    columns: [
      ['layout/workload', (r) => r.case],
      ['warm', (r) => fmtMs(r.warmMs)],
      ['cold', (r) => fmtMs(r.coldMs)],
      ['cold/warm', (r) => fmtX(r.ratio)],
      ['cold disk read', (r) => fmtBytes(r.coldBytes)],
      ['faults warm → cold', (r) => `${fmtN(r.warmFaults)} → ${fmtN(r.coldFaults)}`],
    ],
  },
  {
    finding: 'jsLoop',
    title: 'memmap native calls (a.sum(index), a.gather) vs a JavaScript loop over a.data, C-order file (hint none):',
    over: { cache: CACHES, workload: WORKLOADS },
    pick: { nat: { layout: 'C', ...none('memmap') }, js: { layout: 'C', ...none('memmap-js') }, np: { layout: 'C', ...none('np.memmap') } },
    optional: ['np'],
    row: ({ nat, js, np }, g) => ({ case: `${g.cache}/C/${g.workload}`, nativeMs: nat.wallMs, jsMs: js.wallMs, npMs: np ? np.wallMs : null, nativeFaults: nat.faults, jsFaults: js.faults, npFaults: np ? np.faults : null }),
    columns: [
      ['case', (r) => r.case],
      ['native: wall, faults', (r) => `${fmtMs(r.nativeMs)}, ${fmtN(r.nativeFaults)}`],
      ['JS loop: wall, faults', (r) => `${fmtMs(r.jsMs)}, ${fmtN(r.jsFaults)}`],
      ['JS/native wall', (r) => fmtX(ratio(r.jsMs, r.nativeMs))],
      ['np.memmap: wall, faults', (r) => `${fmtMs(r.npMs)}, ${fmtN(r.npFaults)}`],
    ],
  },
  {
    finding: 'mmapVsRead',
    title: 'memmap vs fs.readSync (pread per contiguous run), wall time:',
    over: { layout: LAYOUTS, workload: WORKLOADS, cache: CACHES },
    pick: { mm: none('memmap'), rs: none('readSync') },
    row: ({ mm, rs }, g) => ({ case: `${g.cache}/${g.layout}/${g.workload}`, memmapMs: mm.wallMs, readSyncMs: rs.wallMs, ratio: ratio(mm.wallMs, rs.wallMs), memmapBytes: mm.ioReadBytes, readSyncBytes: rs.ioReadBytes }),
    columns: [
      ['case', (r) => r.case],
      ['memmap', (r) => fmtMs(r.memmapMs)],
      ['readSync', (r) => fmtMs(r.readSyncMs)],
      ['memmap/readSync', (r) => fmtX(r.ratio)],
      ['disk read memmap / readSync', (r) => `${fmtBytes(r.memmapBytes)} / ${fmtBytes(r.readSyncBytes)}`],
    ],
  },
  {
    finding: 'compute',
    title: 'Compute (issue 11), memmap against numpy on the C-order file; per call where a repetition makes many calls; results checked against numpy\'s:',
    over: COMPUTE_NAMES.filter((w) => COMPUTE[w].numpy).map((w) => computeCase(w)),
    pick: (g) => ({ mm: { reader: 'memmap' }, np: { reader: 'np.memmap', workload: COMPUTE[g.workload].twin ?? g.workload } }),
    optional: ['np'],
    row: (m, g) => {
      const w = COMPUTE[g.workload];
      const value = (x) => (x ? (x.perCallMs ?? x.wallMs) : null);
      return { workload: g.workload, call: w.call, numpyCall: w.numpy, memmapMs: value(m.mm), numpyMs: value(m.np), perCall: m.mm.calls > 1, ratio: ratio(value(m.mm), value(m.np)), match: w.match, maxRelDiff: m.mm.maxRelDiff ?? null, refMaxRelDiff: m.mm.refMaxRelDiff ?? null };
    },
    columns: [
      ['memmap', (r) => `\`${r.call}\``],
      ['numpy', (r) => `\`${r.numpyCall}\``],
      ['memmap time', (r) => `${fmtMs(r.memmapMs)}${r.perCall ? ' per call' : ''}`],
      ['numpy time', (r) => fmtMs(r.numpyMs)],
      ['memmap/numpy', (r) => fmtX(r.ratio)],
      ['result vs numpy', (r) => matchText(r)],
    ],
  },
  {
    finding: 'zarrLayouts',
    title: 'Layouts (issue 13): the same reads of the C-order file and of Zarr stores (memmap; zarrita where it has a row):',
    over: { layout: ['C', ...ZARR], cache: CACHES, workload: ['scan', 'row', 'col', ...ZARR_NAMES] },
    pick: { mm: none('memmap'), zr: none('zarrita') },
    optional: ['zr'],
    row: ({ mm, zr }, g) => ({ case: `${g.cache}/${g.layout}/${g.workload}`, wallMs: mm.wallMs, ioReadBytes: mm.ioReadBytes, touchedBytes: mm.touchedBytes ?? null, faults: mm.faults, zarritaMs: zr ? zr.wallMs : null }),
    columns: [
      ['case', (r) => r.case],
      ['memmap wall', (r) => fmtMs(r.wallMs)],
      ['disk read', (r) => fmtBytes(r.ioReadBytes)],
      ['chunks touched (stored bytes)', (r) => (r.touchedBytes === null ? '-' : fmtBytes(r.touchedBytes))],
      ['faults', (r) => fmtN(r.faults)],
      ['zarrita wall', (r) => (r.zarritaMs === null ? '-' : fmtMs(r.zarritaMs))],
    ],
  },
  {
    finding: 'eventLoop',
    title: 'Event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while a cold column of the C-order file is read (here, or in another process: what the read itself costs the machine), and while the loop only waits (the floor):',
    over: ['col-async', 'col-sync', 'col-elsewhere', 'idle-loop'].map((w) => computeCase(w)),
    pick: { mm: { reader: 'memmap' } },
    row: ({ mm }, g) => ({ call: COMPUTE[g.workload].call, wallMs: mm.wallMs, p99: mm.eventLoopP99Ms, max: mm.eventLoopMaxMs, samples: mm.eventLoopSamples, ioReadBytes: mm.ioReadBytes }),
    columns: [
      ['call', (r) => `\`${r.call}\``],
      ['call time', (r) => fmtMs(r.wallMs)],
      ['disk read', (r) => fmtBytes(r.ioReadBytes)],
      ['event-loop delay p99', (r) => fmtMs(r.p99)],
      ['max', (r) => fmtMs(r.max)],
      ['samples', (r) => fmtN(r.samples)],
    ],
  },
];

/** The result check's cell: 'same bits' / 'equal' / the relative differences ('close'). */
function matchText(r) {
  if (r.maxRelDiff === null) return '-';
  if (r.match === 'bits') return r.maxRelDiff === 0 ? 'same float64 bits' : `differs (${r.maxRelDiff.toExponential(1)})`;
  if (r.match === 'exact') return r.maxRelDiff === 0 ? 'equal' : `differs (${r.maxRelDiff.toExponential(1)})`;
  const rel = (x) => (x === 0 ? 'equal' : `rel. diff ${x.toExponential(1)}`);
  const ref = r.refMaxRelDiff === null ? '' : `; vs numpy's dtype=float64: ${rel(r.refMaxRelDiff)}`;
  return `${rel(r.maxRelDiff)} (ours accumulates in float64, numpy's default in float32)${ref}`;
}

module.exports = { BARS, FINDINGS, COMPARISONS: [...BARS, ...FINDINGS] };
