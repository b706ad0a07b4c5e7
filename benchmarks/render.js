'use strict';
// Rendering, apart from running: the Markdown report of a run's JSON (bars,
// findings, every case) and, via chart.js, its SVG chart. Everything here is a
// function of the JSON, so `run.js --render-only` can redo the report of an
// old run (bars and findings are re-evaluated from its cases).
const { evaluate, measuredText } = require('./kit/compare');
const { COMPARISONS, FINDINGS } = require('./comparisons');
const { fmtMs, fmtN, fmtPct, fmtX, fmtBytes, mdTable } = require('./kit/format');
const { renderChart } = require('./chart');

/** The records open.js's warm sum produced (older JSON kept only the medians). */
function warmSumRecords(ws) {
  if (!ws) return [];
  if (ws.records) return ws.records;
  const rec = (loop, wallMs) => ({ loop, status: 'ok', median: { wallMs } });
  return [rec('a.data', ws.memmapMs), rec('a.data, first pass', ws.firstPassMs), rec('a.data, populate: true, first pass', ws.populatedFirstPassMs), rec('heap Float32Array', ws.heapFloat32Ms), rec('heap Float64Array', ws.heapFloat64Ms)];
}

/** The bars of open.js's warm-sum section (its --against bars stay in the main table). */
const warmSumBars = (bars) => bars.filter((b) => b.case.startsWith('warm/C/sum') && b.bar !== 'this checkout vs --against');

/** Bars and findings of a run, from its records. */
const analyse = (json) => evaluate(COMPARISONS, { cases: json.cases, warmSum: warmSumRecords(json.warmSum) });

function barsTable(bars) {
  return mdTable(
    ['bar', 'case', 'measured', 'limit', 'held'],
    bars.map((b) => [b.bar, b.case, measuredText(b), b.limits, b.pass ? 'yes' : '**no**']),
  );
}

function findingsText(findings) {
  const out = [];
  for (const spec of FINDINGS) {
    const rows = findings[spec.finding] ?? [];
    if (!rows.length) continue;
    out.push(spec.title, '', mdTable(spec.columns.map(([head]) => head), rows.map((r) => spec.columns.map(([, f]) => f(r)))), '');
  }
  return out.join('\n');
}

const readerCell = (c) => (c.impl ? `${c.reader} @${c.impl}` : c.reader);

function caseTable(results) {
  const head = ['cache', 'layout', 'workload', 'reader', 'hint', 'wall (median)', 'of which open', 'faults minor/major (main thread)', 'faults (process)', 'disk read (/proc io)', 'ru_inblock', 'resident before→after', 'RSS growth'];
  const rows = results.map((c) => {
    const pre = [c.cache, c.layout, c.workload, readerCell(c), c.hint];
    if (c.status !== 'ok') return [...pre, `${c.status}: ${(c.reason || '').split('\n')[0].replace(/\|/g, '/')}`, '', '', '', '', '', '', ''];
    const s = c.median;
    return [
      ...pre,
      fmtMs(s.wallMs),
      fmtMs(s.openMs),
      `${fmtN(s.threadMinorFaults)} / ${fmtN(s.threadMajorFaults)}`,
      `${fmtN(s.minorFaults)} / ${fmtN(s.majorFaults)}`,
      fmtBytes(s.ioReadBytes),
      fmtBytes(s.inblockBytes),
      `${fmtPct(s.residentBefore)} → ${fmtPct(s.residentAfter)}`,
      fmtBytes(s.rssGrowth),
    ];
  });
  return mdTable(head, rows);
}

function machineText(info) {
  const m = info.machine;
  const lines = [
    `- date: ${info.date}; duration ${(info.durationMs / 1000).toFixed(0)} s; load average before ${info.loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${info.loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
    `- machine: ${m.hostname}, ${m.cpu} (${m.cores} cores), ${fmtBytes(m.memBytes)} RAM; ${m.kernel} ${m.arch}; page size ${m.pageSize}; THP ${m.transparentHugepage}`,
    `- filesystem: ${m.filesystem} on ${m.device} (read_ahead_kb ${m.readAheadKb}); Node ${m.node}; ${info.python ? `python ${info.python.python}, numpy ${info.python.numpy}` : 'numpy: not found (numpy rows skipped)'}`,
    `- data: ${info.config.n} x ${info.config.n} float32 (${fmtBytes(info.config.bytes)}) per file, C and F order; ${info.config.runs} run(s) per case, each in a fresh process; open: median of ${info.config.openReps} opens (warm)`,
  ];
  const z = info.config.zarr;
  if (z) {
    const layouts = Object.entries(z.layouts).map(([k, l]) => `\`${k}\`: ${l.title}${l.skipped ? ` (skipped: ${l.skipped})` : ''}`);
    lines.push(
      `- Zarr stores (written once by \`memmap convert\` from the C-order file): inner chunks ${z.chunks.join(' x ')}, shards ${z.shards.join(' x ')}, chunks in C order inside each shard (row axis outer); ${layouts.join('; ')}`,
      `- the C-order file's layout axis: rows (axis 1 contiguous); reads of its column fault one element per page under the kernel's read-ahead (read_ahead_kb ${m.readAheadKb} on ${m.device}); chunk mappings are advised random and prefetch the bytes a read touches`,
    );
  }
  if (info.config.against) lines.push(`- against: \`${info.config.against.dir}\` (${info.config.against.label}${info.config.against.commit ? ` at ${info.config.against.commit}` : ''}); its cases are marked @against and run right after this checkout's, side by side`);
  lines.push(`- command: \`${info.config.command}\``);
  return lines.join('\n');
}

/** open.js's warm-sum section, from json.warmSum. */
function warmSumText(json, bars) {
  const ws = json.warmSum;
  const n = json.config.n;
  const recs = warmSumRecords(ws);
  const ms = (loop, impl) => recs.find((r) => r.loop === loop && (r.impl ?? 'this') === impl)?.median.wallMs ?? null;
  const heap64 = ms('heap Float64Array', 'this');
  const impls = [...new Set(recs.map((r) => r.impl ?? 'this'))];
  const rows = [];
  for (const impl of impls) {
    // The fault count and populate's open time are this checkout's (the JSON has every run's).
    const mine = impl === 'this';
    const tag = mine ? '' : ` @${impl}`;
    rows.push(
      [`memmap a.data (Float32Array), steady state${tag}`, fmtMs(ms('a.data', impl)), fmtX(ms('a.data', impl) / heap64)],
      [`memmap a.data, first pass on a fresh mapping${mine ? ` (${Math.round(ws.firstPassFaults)} minor faults)` : ''}${tag}`, fmtMs(ms('a.data, first pass', impl)), fmtX(ms('a.data, first pass', impl) / heap64)],
      [`memmap populate: true, first pass${mine ? ` (open took ${fmtMs(ws.populatedOpenMs)})` : ''}${tag}`, fmtMs(ms('a.data, populate: true, first pass', impl)), fmtX(ms('a.data, populate: true, first pass', impl) / heap64)],
    );
  }
  rows.push(['heap Float32Array', fmtMs(ms('heap Float32Array', 'this')), fmtX(ms('heap Float32Array', 'this') / heap64)], ['heap Float64Array', fmtMs(heap64), '1.00x']);
  const passes = ws.passes ?? (json.config.quick ? 3 : 7);
  return [
    '## Warm sequential sum over the whole file',
    '',
    `${n * n} float32 elements (${fmtBytes(n * n * 4)}), file resident in the page cache; one child process, passes interleaved, median of ${passes} passes, median over ${json.config.runs} process(es).`,
    '',
    mdTable(['loop', 'time', 'vs heap Float64Array'], rows),
    '',
    mdTable(
      ['bar', 'measured', 'limit', 'held'],
      bars.map((b) => [b.bar, measuredText(b), b.limits, b.pass ? 'yes' : '**no**']),
    ),
    '',
  ].join('\n');
}

/** The Markdown report of a run's JSON (bars and findings as in json, or re-evaluated). */
function renderMarkdown(json, { chart = true } = {}) {
  const { bars, findings } = json.bars && json.bars[0] && json.bars[0].figures ? json : { ...json, ...analyse(json) };
  return [
    `# memmap benchmark results: ${json.name}`,
    '',
    machineText(json),
    '',
    ...(chart ? [`![faults and disk reads](${json.name}.svg)`, ''] : []),
    '## Bars',
    '',
    barsTable(bars),
    '',
    ...(json.warmSum ? [warmSumText(json, warmSumBars(bars))] : []),
    '## Findings',
    '',
    findingsText(findings),
    '## All cases',
    '',
    'Faults are counted for the main thread (the one touching the data; /proc/self/task/<tid>/stat); "process" adds JIT/GC/BLAS threads. Disk read is /proc/self/io read_bytes; ru_inblock is getrusage in 512-byte blocks, shown in bytes.',
    '',
    caseTable(json.cases),
    '',
  ].join('\n');
}

module.exports = { analyse, warmSumBars, renderMarkdown, renderChart, barsTable, findingsText, caseTable, machineText, warmSumRecords };
