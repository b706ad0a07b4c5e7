'use strict';
// The benchmark harness (benchmarks/run.js) on a small file: every case and
// reader appears, results are well formed and correct. No timing thresholds:
// wall times on a shared machine are not something a unit test can judge.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { useTmpDir } = require('./helpers/tmp');
const { findPython } = require('./helpers/python');
const bench = require('../benchmarks/common');
const { skipOnWindows } = require('./helpers/platform');

const RUN = path.join(__dirname, '..', 'benchmarks', 'run.js');
const WORKLOADS = ['open', 'scan', 'row', 'col', 'rows', 'strided', 'random'];
const READERS = ['memmap', 'memmap-js', 'readSync', 'readFileSync', 'np.memmap', 'np.fromfile'];
// Issue 11's compute workloads: [name, cache, has a numpy case of its own].
const COLD = ['col-async', 'col-sync', 'col-elsewhere', 'idle-loop'];
const NO_NUMPY = ['read1', ...COLD];
const COMPUTE = ['sum', 'max-axis0', 'min-axis1', 'mean-axis0', 'mean-axis1', 'argmax', 'std', 'row-out', 'get1', 'read1', 'open-close', ...COLD].map((w) => [w, COLD.includes(w) ? 'cold' : 'warm', !NO_NUMPY.includes(w)]);
const computeIds = () => COMPUTE.flatMap(([w, cache, np]) => [`${cache}/C/${w}/memmap/none`, ...(np ? [`${cache}/C/${w}/np.memmap/none`] : [])]);

/** The --quick matrix: every workload, reader and hint; F order only cold; hints on scan, row, col. */
function expectedIds() {
  const ids = [];
  for (const layout of ['C', 'F']) {
    for (const cache of ['warm', 'cold']) {
      if (layout === 'F' && cache === 'warm') continue;
      for (const w of WORKLOADS) {
        for (const r of READERS) {
          if (r === 'readFileSync' && !['open', 'scan', 'row', 'col'].includes(w)) continue;
          ids.push(`${cache}/${layout}/${w}/${r}/none`);
        }
      }
    }
  }
  for (const hint of ['sequential', 'random', 'willneed', 'populate']) for (const w of ['scan', 'row', 'col']) ids.push(`cold/C/${w}/memmap/${hint}`);
  ids.push('warm/C/open/memmap/first-call', 'warm/C/open/np.memmap/first-call');
  ids.push('cold/C/scan/memmap-js/sequential');
  ids.push(...computeIds());
  // Issue 13: Zarr stores (the zstd one skipped while the codec is missing), a block of each layout, zarrita's block.
  for (const layout of ['zarr', 'zarr-zstd']) {
    for (const cache of ['warm', 'cold']) for (const w of ['scan', 'row', 'col', 'block']) ids.push(`${cache}/${layout}/${w}/memmap/none`);
    ids.push(`warm/${layout}/block/zarrita/none`);
  }
  ids.push('warm/C/block/memmap/none');
  return ids;
}

// Under ASan + UBSan every reader process runs 2-3x slower (about 2 minutes plain). The limits only catch
// a hang: a shared CI machine under load has taken over 3 minutes, and 6.5 minutes (load average 12 on 2 cores) once
// the Zarr cases came in.
const SLOW = process.env.MEMMAP_SANITIZER ? 3 : 1;

function runBench(tmp, args) {
  const r = spawnSync(process.execPath, [RUN, '--data-dir', tmp.file('data'), '--out', tmp.file('out'), ...args], { encoding: 'utf8', timeout: 520e3 * SLOW });
  assert.equal(r.status, 0, `run.js exited ${r.status ?? r.signal}\n${r.stderr.slice(-3000)}`);
  return r;
}

describe('benchmark harness (run.js --quick)', function () {
  before(function () {
    skipOnWindows(this, 'the benchmarks count page faults and RSS in /proc');
  });
  this.timeout(540e3 * SLOW);
  const tmp = useTmpDir();
  const python = findPython();
  let json;
  let stdout;

  before(function () {
    stdout = runBench(tmp, ['--quick', '--size', '16M', '--name', 'harness']).stdout;
    json = JSON.parse(fs.readFileSync(tmp.file('out/harness.json'), 'utf8'));
  });

  it('records the machine, the versions and the configuration', function () {
    assert.equal(json.schema, 1);
    assert.match(json.machine.kernel, /\S/);
    assert.equal(json.machine.node, process.version);
    assert.ok(json.machine.filesystem, 'filesystem type recorded');
    assert.ok(!Number.isNaN(Date.parse(json.date)));
    assert.equal(json.config.n, bench.sideForBytes(16 * 2 ** 20));
    assert.equal(json.config.bytes, json.config.n ** 2 * 4);
    if (python) assert.match(json.python.numpy, /^\d+\./);
  });

  it('has every case, each ok (numpy rows ok when numpy is present, else skipped)', function () {
    assert.deepEqual(json.cases.map((c) => c.id).sort(), expectedIds().sort());
    for (const c of json.cases) {
      if (c.reader.startsWith('np.') && !python) {
        assert.equal(c.status, 'skipped', c.id);
        assert.match(c.reason, /python|numpy/);
        continue;
      }
      if (c.layout === 'zarr-zstd' && c.status === 'skipped') {
        assert.match(c.reason, /zstd codec not available/);
        continue;
      }
      assert.equal(c.status, 'ok', `${c.id}: ${c.reason}`);
    }
  });

  it('every ok case computed the right sum and reports all counters', function () {
    const p = bench.workloadParams(json.config.n);
    const expected = Object.fromEntries(WORKLOADS.map((w) => [w, bench.expectedResult(w, json.config.n, p).sum]));
    for (const c of json.cases.filter((x) => x.status === 'ok')) {
      assert.equal(c.runs.length, json.config.runs, c.id);
      // A compute workload's sum comes from the formula where it has one (else its result is checked against numpy's, below).
      const want = WORKLOADS.includes(c.workload) ? expected[c.workload] : c.expectedSum;
      if (!WORKLOADS.includes(c.workload)) assert.equal(c.expectedSum, bench.expectedResult(c.workload, json.config.n, p)?.sum ?? null, c.id);
      for (const r of c.runs) {
        if (want !== null) assert.equal(r.sum, want, c.id);
        for (const k of ['minorFaults', 'majorFaults', 'threadMinorFaults', 'threadMajorFaults', 'inblockBytes', 'ioReadBytes', 'rssGrowth']) {
          assert.equal(typeof r.counters[k], 'number', `${c.id} ${k}`);
        }
      }
      const m = c.median;
      assert.ok(m.wallMs > 0, c.id);
      assert.ok(m.faults >= 0, c.id);
      assert.ok(m.residentAfter >= 0 && m.residentAfter <= 1, c.id);
      // block times the read alone; the time with its checking sum is kept beside it.
      if (c.workload === 'block') assert.ok(m.withSumMs >= m.wallMs, `${c.id}: read ${m.wallMs} ms, with the sum ${m.withSumMs} ms`);
      // The harness verifies eviction before a cold run.
      if (c.cache === 'cold') assert.ok(m.residentBefore <= 0.01, `${c.id} started ${m.residentBefore} resident`);
      else assert.ok(m.residentBefore >= 0.99, `${c.id} started ${m.residentBefore} resident`);
    }
  });

  it('evaluates every bar of the issue and the findings', function () {
    const names = new Set(json.bars.map((b) => b.bar));
    for (const n of ['memmap vs np.memmap', 'open: memmap vs readFileSync', 'cold scan: memmap(sequential) vs readSync', 'compute: memmap vs numpy', 'compute: one element, per call']) assert.ok(names.has(n) || !python, n);
    // Absolute bars need no numpy; nor do the Zarr bars.
    assert.ok(names.has('compute: event loop during a cold read'));
    for (const n of ['zarr: cold read, disk bytes per byte of the chunks touched', 'zarr: cold column, sharded vs C-order file', 'zarr: full scan, sharded vs C-order file', 'zarr: warm 256 x 256 block, memmap vs zarrita']) {
      assert.ok(names.has(n), n);
    }
    assert.ok(json.findings.zarrLayouts.length > 0);
    // The disk bar's yardstick: the stored bytes of the chunks a cold column of the store touches (n / 256 chunks).
    const col = json.cases.find((c) => c.id === 'cold/zarr/col/memmap/none');
    assert.equal(col.median.touchedBytes, Math.ceil(json.config.n / 256) * 256 * 256 * 4);
    for (const b of json.bars) assert.equal(typeof b.pass, 'boolean', b.bar);
    assert.ok(json.findings.rowVsColumn.length > 0);
    assert.ok(json.findings.scanThroughput.length > 0);
    assert.equal(json.findings.eventLoop.length, 4);
    if (python) assert.equal(json.findings.compute.length, COMPUTE.filter(([w]) => !COLD.includes(w)).length);
  });

  it('checks every compute result against numpy (same bits, equal, or close) and reports per-call times and the event loop', function () {
    const byId = new Map(json.cases.map((c) => [c.id, c]));
    for (const [w, cache] of COMPUTE) {
      const c = byId.get(`${cache}/C/${w}/memmap/none`);
      if (python && !COLD.includes(w)) {
        assert.ok(c.check, `${c.id} checked against numpy`);
        assert.equal(c.check.pass, true, c.id);
        assert.equal(c.check.against, `${cache}/C/${w === 'read1' ? 'get1' : w}/np.memmap/none`);
      }
      if (['row-out', 'get1', 'read1'].includes(w)) assert.ok(c.median.perCallMs > 0 && c.median.calls > 1, c.id);
      if (COLD.includes(w)) for (const k of ['eventLoopP99Ms', 'eventLoopMaxMs', 'eventLoopSamples']) assert.equal(typeof c.median[k], 'number', `${c.id} ${k}`);
    }
    if (python) {
      assert.equal(byId.get('warm/C/sum/memmap/none').check.match, 'bits');
      assert.equal(typeof byId.get('warm/C/std/memmap/none').check.refMaxRelDiff, 'number', "std is also compared with numpy's float64 accumulation");
    }
  });

  it('writes a Markdown report (also on stdout) and a well-formed SVG chart', function () {
    const md = fs.readFileSync(tmp.file('out/harness.md'), 'utf8');
    assert.equal(stdout.trim(), md.trim());
    assert.match(md, /\| cache \| layout \| workload \| reader \|/);
    assert.match(md, new RegExp(json.machine.kernel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const svg = fs.readFileSync(tmp.file('out/harness.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
    assert.match(svg.trim(), /<\/svg>$/);
    for (const tag of ['text', 'title']) {
      assert.equal(svg.split(`<${tag}`).length, svg.split(`</${tag}>`).length, `balanced <${tag}>`);
    }
    for (const r of READERS) assert.ok(svg.includes(`>${r}</text>`), `legend has ${r}`);
    assert.ok((svg.match(/<rect [^>]*fill="#d62728"/g) || []).length >= 7, 'memmap bars drawn');
  });

  it('reports numpy rows as skipped, not failed, when python is unavailable', function () {
    runBench(tmp, ['--quick', '--size', '16M', '--name', 'nopython', '--python', 'none', '--filter', '^warm/C/open/']);
    const j = JSON.parse(fs.readFileSync(tmp.file('out/nopython.json'), 'utf8'));
    const byReader = Object.fromEntries(j.cases.map((c) => [c.reader, c]));
    assert.deepEqual(Object.keys(byReader).sort(), [...READERS].sort());
    assert.equal(byReader['np.memmap'].status, 'skipped');
    assert.equal(byReader['np.fromfile'].status, 'skipped');
    assert.equal(byReader.memmap.status, 'ok');
  });
});

describe('open latency and warm-sum benchmark (open.js --quick)', function () {
  before(function () {
    skipOnWindows(this, 'the benchmarks count page faults and RSS in /proc');
  });
  this.timeout(120e3 * SLOW);
  const tmp = useTmpDir();

  it('measures the open cases and the three warm-sum loops, and evaluates their bars', function () {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'benchmarks', 'open.js'), '--quick', '--size', '4M', '--data-dir', tmp.file('data'), '--out', tmp.file('out')], {
      encoding: 'utf8',
      timeout: 110e3 * SLOW,
    });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const j = JSON.parse(fs.readFileSync(tmp.file('out/open.json'), 'utf8'));
    const ids = j.cases.map((c) => c.id).sort();
    assert.deepEqual(ids, ['cold/C/open/memmap/none', 'cold/C/open/np.memmap/none', 'cold/C/open/readFileSync/none', 'warm/C/open/memmap/none', 'warm/C/open/np.memmap/none', 'warm/C/open/readFileSync/none']);
    for (const k of ['memmapMs', 'heapFloat32Ms', 'heapFloat64Ms', 'firstPassMs', 'populatedFirstPassMs']) assert.ok(j.warmSum[k] > 0, k);
    assert.equal(j.warmSum.bars.length, 3);
    assert.ok(j.bars.some((b) => b.bar.startsWith('warm sum over a.data')));
    assert.match(fs.readFileSync(tmp.file('out/open.md'), 'utf8'), /## Warm sequential sum over the whole file/);
  });
});

describe('cold scans and the VM\'s free memory (cold-memory.js)', function () {
  before(function () {
    skipOnWindows(this, 'the benchmarks evict files and read /sys');
  });
  this.timeout(120e3 * SLOW);
  const tmp = useTmpDir();

  it('scans both layouts cold, at once and after a pause, with the same sum, and reports wall and CPU', function () {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'benchmarks', 'cold-memory.js'), '--size', '4M', '--runs', '1', '--wait', '10', '--data-dir', tmp.file('data')], {
      encoding: 'utf8',
      timeout: 110e3 * SLOW,
    });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const rows = r.stdout.split('\n').filter((l) => /^(C-order file|Zarr, sharded) \| \d+ ms \| \d+ ms/.test(l));
    assert.deepEqual(rows.map((l) => l.split(' | ').slice(0, 2).join(' | ')), ['C-order file | 0 ms', 'Zarr, sharded | 0 ms', 'C-order file | 10 ms', 'Zarr, sharded | 10 ms']);
    assert.match(r.stdout, /free page reporting: (on|off)/);
  });
});

describe('benchmark workloads (benchmarks/common.js)', function () {
  const n = 64;
  const p = bench.workloadParams(n, { rowsCount: 4, step: 16, randomCount: 10 });

  it('reads a C-order row or an F-order column in one run, the other axis element by element', function () {
    assert.deepEqual(bench.runsFor('row', n, 'C', p), [[p.row * n, n]]);
    assert.deepEqual(bench.runsFor('col', n, 'F', p), [[p.col * n, n]]);
    const colC = bench.runsFor('col', n, 'C', p);
    assert.equal(colC.length, n);
    assert.deepEqual(colC[1], [n + p.col, 1]);
    assert.deepEqual(bench.runsFor('rows', n, 'C', p), [[p.rowsStart * n, p.rowsCount * n]]);
    assert.equal(bench.runsFor('rows', n, 'F', p).length, n);
    assert.deepEqual(bench.runsFor('rows', n, 'F', p)[2], [2 * n + p.rowsStart, p.rowsCount]);
  });

  it('expected sums match a brute-force sum over the written file', function () {
    const tmp = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'memmap-bench-'));
    try {
      for (const order of ['C', 'F']) {
        const { file } = bench.ensureArrayFile(tmp, n, order);
        const buf = fs.readFileSync(file);
        const d = new Float32Array(buf.buffer, buf.byteOffset, n * n);
        const { si, sj } = bench.stridesOf(n, order);
        for (const w of bench.WORKLOADS) {
          let sum = 0;
          bench.forEachElement(w, n, p, (i, j) => {
            sum += d[i * si + j * sj];
          });
          assert.equal(bench.expectedResult(w, n, p).sum, sum, `${order} ${w}`);
        }
        // The runs cover exactly the workload's elements.
        for (const w of ['row', 'col', 'rows', 'strided', 'random']) {
          const runs = bench.runsFor(w, n, order, p);
          let sum = 0;
          for (const [off, len] of runs) for (let k = off; k < off + len; k++) sum += d[k];
          assert.equal(sum, bench.expectedResult(w, n, p).sum, `${order} ${w} runs`);
        }
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('python and JS draw the same random elements', function () {
    if (!findPython()) this.skip();
    const { runPython } = require('./helpers/python');
    const script = path.join(__dirname, '..', 'benchmarks', 'numpy_reader.py');
    const out = runPython(
      `import importlib.util, sys, json\nspec = importlib.util.spec_from_file_location('nr', sys.argv[1])\nm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\nii, jj = m.random_indices(1000, 50, 777)\nprint(json.dumps([ii.tolist(), jj.tolist()]))`,
      [script],
    );
    const { ii, jj } = bench.randomIndices(1000, 50, 777);
    assert.deepEqual(JSON.parse(out), [Array.from(ii), Array.from(jj)]);
  });
});

describe('benchmark kit (benchmarks/kit/, suite.js, comparisons.js)', function () {
  const { median } = require('../benchmarks/kit/stats');
  const { parseArgs } = require('../benchmarks/kit/args');
  const { evaluate } = require('../benchmarks/kit/compare');
  const suite = require('../benchmarks/suite');

  it('has one median: the middle value, or the mean of the middle pair', function () {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([null, 5, undefined, NaN]), 5);
    assert.equal(median([]), null);
  });

  it('parses declared options, with defaults that depend on other options', function () {
    const spec = { quick: { type: 'flag' }, runs: { type: 'int', default: (o) => (o.quick ? 1 : 3) }, size: { type: 'bytes', default: 2 ** 30 }, filter: { type: 'regex', alias: 'cases' } };
    assert.deepEqual({ ...parseArgs([], spec) }, { quick: false, runs: 3, size: 2 ** 30 });
    const o = parseArgs(['--quick', '--size=32M', '--cases', '^cold/'], spec);
    assert.equal(o.runs, 1);
    assert.equal(o.size, 32 * 2 ** 20);
    assert.ok(o.filter.test('cold/C/row/memmap/none'));
    assert.throws(() => parseArgs(['--bogus'], spec), (e) => e.usage && /unknown option/.test(e.message));
    assert.throws(() => parseArgs(['--runs'], spec), (e) => e.usage && /needs a value/.test(e.message));
  });

  it('selects the compute cases with --preset compute, each workload in its own cache state', function () {
    const ids = suite.buildCases({ quick: false, filter: suite.PRESETS.compute.filter }, { python: 'python3' }).map((c) => c.id);
    assert.deepEqual(ids.sort(), computeIds().sort());
    const none = suite.buildCases({ quick: false, filter: suite.PRESETS.compute.filter }, { python: null });
    assert.ok(none.filter((c) => c.reader === 'np.memmap').every((c) => c.skip));
  });

  it('declares every compute workload completely, with its numpy branch in numpy_reader.py', function () {
    const { WORKLOADS: ALL, COMPUTE_NAMES } = require('../benchmarks/workloads');
    assert.deepEqual(COMPUTE_NAMES, COMPUTE.map(([w]) => w));
    for (const [w, cache, np] of COMPUTE) {
      const d = ALL[w];
      assert.equal(d.family, 'compute', w);
      assert.equal(d.cache, cache, w);
      for (const k of ['title', 'call']) assert.equal(typeof d[k], 'string', `${w} ${k}`);
      assert.equal(typeof d.native, 'function', w);
      assert.ok(d.reps === 'open' || (Array.isArray(d.reps) && d.reps.length === 2), `${w} reps`);
      assert.equal(!d.readers || d.readers.includes('np.memmap'), np, `${w} readers`);
      if (d.numpy !== undefined || np) assert.ok(['bits', 'exact', 'close'].includes(d.match), `${w} match`);
    }
    if (!findPython()) return;
    const { runPython } = require('./helpers/python');
    const script = path.join(__dirname, '..', 'benchmarks', 'numpy_reader.py');
    const out = runPython(
      `import importlib.util, sys, json\nspec = importlib.util.spec_from_file_location('nr', sys.argv[1])\nm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\nprint(json.dumps(sorted(list(m.COMPUTE) + ['open-close'])))`,
      [script],
    );
    assert.deepEqual(JSON.parse(out), COMPUTE.filter(([, , np]) => np).map(([w]) => w).sort());
  });

  it('compares compute results as declared: same bits, equal values, or close', function () {
    const { compareValues, crossCheck } = require('../benchmarks/kit/agree');
    const b64 = (...v) => Buffer.from(Float64Array.from(v).buffer).toString('base64');
    assert.equal(compareValues('bits', b64(1, 2), b64(1, 2)).pass, true);
    assert.equal(compareValues('bits', b64(1, 2 + 2 ** -51), b64(1, 2)).pass, false);
    assert.equal(compareValues('exact', b64(1, 2), b64(1, 3)).pass, false);
    assert.equal(compareValues('close', b64(1, 2 * (1 + 1e-7)), b64(1, 2)).pass, true);
    assert.equal(compareValues('close', b64(1, 2.001), b64(1, 2)).pass, false);
    assert.equal(compareValues('exact', b64(1), b64(1, 2)).pass, false, 'different lengths');
    const mm = { id: 'warm/C/x/memmap/none', workload: 'x', reader: 'memmap', cache: 'warm', layout: 'C', hint: 'none' };
    const np = { ...mm, id: 'warm/C/x/np.memmap/none', reader: 'np.memmap' };
    const values = new Map([
      [mm, [{ values: b64(1, 2) }]],
      [np, [{ values: b64(1, 2 + 1e-9), ref: b64(1, 2) }]],
    ]);
    const check = crossCheck([mm, np], values, { x: { match: 'close' } }).get(mm);
    assert.equal(check.pass, true);
    assert.equal(check.against, np.id);
    assert.equal(check.refMaxRelDiff, 0);
    assert.match(crossCheck([mm, np], values, { x: { match: 'exact' } }).get(mm).error, /not equal to numpy's/);
  });

  it('evaluates an absolute bar (a limit on the value itself, with or without a second record)', function () {
    const rec = (reader, perCallMs) => ({ status: 'ok', workload: 'get1', reader, median: { perCallMs } });
    const fig = { figure: 'per call', unit: 'ms', value: 'perCallMs', absolute: 0.002 };
    const { bars } = evaluate(
      [
        { bar: 'with b', over: [{ workload: 'get1' }], a: { reader: 'memmap' }, b: { reader: 'np.memmap' }, case: 'x', figures: [fig] },
        { bar: 'alone', over: [{ workload: 'get1' }], a: { reader: 'memmap' }, case: 'y', figures: [{ ...fig, absolute: 0.0001 }] },
      ],
      { cases: [rec('memmap', 0.0005), rec('np.memmap', 0.001)] },
    );
    assert.deepEqual(bars.map((b) => [b.bar, b.pass]), [['with b', true], ['alone', false]]);
    assert.equal(bars[1].b, null);
    assert.equal(bars[0].figures[0].ratio, 0.5);
    assert.match(bars[0].limits, /per call <= 2\.00 µs/);
  });

  it('gives the package readers a twin per --against checkout, right after each case', function () {
    const ids = suite.buildCases({ quick: false, filter: /^cold\/C\/col\/(memmap|readSync)\/none$/ }, { python: null, checkouts: [{ key: 'this' }, { key: 'against', dir: '/elsewhere' }] }).map((c) => c.id);
    assert.deepEqual(ids, ['cold/C/col/memmap/none', 'cold/C/col/memmap/none@against', 'cold/C/col/readSync/none']);
  });

  it('evaluates a declared bar: figures, limits, and a twin picked by impl', function () {
    const rec = (impl, wallMs) => ({ status: 'ok', cache: 'warm', reader: 'memmap', impl, median: { wallMs } });
    const bar = { bar: 'b', over: [{ cache: 'warm' }], a: { impl: 'this' }, b: { impl: 'against' }, case: '{cache}', figures: [{ figure: 'wall', unit: 'ms', value: 'wallMs', limit: 1.1 }] };
    const { bars } = evaluate([bar], { cases: [rec(undefined, 10), rec('against', 8)] });
    assert.equal(bars.length, 1);
    assert.equal(bars[0].case, 'warm');
    assert.equal(bars[0].figures[0].ratio, 1.25);
    assert.equal(bars[0].pass, false);
  });

  it('re-renders a committed run from its JSON (--render-only)', function () {
    const tmp = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'memmap-render-'));
    try {
      fs.copyFileSync(path.join(__dirname, '..', 'benchmarks', 'results', 'default.json'), path.join(tmp, 'default.json'));
      const r = spawnSync(process.execPath, [RUN, '--render-only', '--out', tmp, '--name', 'default'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const md = fs.readFileSync(path.join(tmp, 'default.md'), 'utf8');
      assert.match(md, /## Bars/);
      assert.match(md, /\| memmap vs np\.memmap \| warm\/C\/open \|/);
      assert.match(md, /## All cases/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
