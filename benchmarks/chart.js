'use strict';
// SVG chart of a benchmark run, no dependencies: grouped bars (one group per
// workload and layout, one bar per reader) on log scales.

// Reader colours come with the readers (suite.js); a reader without one takes the next spare colour.
const { READERS } = require('./suite');
const SPARE = ['#bcbd22', '#17becf', '#8c564b', '#7f7f7f', '#aec7e8', '#ffbb78'];
const HINT_COLORS = { none: '#d62728', sequential: '#8c564b', random: '#17becf', willneed: '#bcbd22', populate: '#7f7f7f' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmtTick(v, unit) {
  if (unit === 'bytes') {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let k = 0;
    while (v >= 1024 && k < u.length - 1) {
      v /= 1024;
      k++;
    }
    return `${+v.toPrecision(3)} ${u[k]}`;
  }
  if (unit === 'ms') return v >= 1 ? `${+v.toPrecision(3)} ms` : `${+(v * 1000).toPrecision(3)} µs`;
  return v >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : v >= 1e3 ? `${+(v / 1e3).toPrecision(3)}k` : String(+v.toPrecision(3));
}

/** Log-scale ticks: powers of `base` spanning [lo, hi]. */
function ticks(lo, hi, base) {
  const out = [];
  for (let e = Math.floor(Math.log(lo) / Math.log(base)); base ** e <= hi * 1.0001; e++) out.push(base ** e);
  return out;
}

function panel(p, x0, y0, width, height, groups, readers, colors) {
  const parts = [];
  const vals = [];
  for (const g of groups) for (const r of readers) {
    const c = g.cases[r];
    const v = c && c.status === 'ok' ? p.value(c) : null;
    if (v !== null && v !== undefined && v > 0) vals.push(v);
  }
  const base = p.unit === 'bytes' ? 1024 : 10;
  const exp = (v) => Math.log(v) / Math.log(base);
  let lo = vals.length ? base ** Math.floor(exp(Math.min(...vals)) + 1e-9) : 1;
  if (p.unit === 'count') lo = Math.max(lo, 1); // fractional counts are averages over repeated opens
  const hi = Math.max(lo * base, vals.length ? base ** Math.ceil(exp(Math.max(...vals)) - 1e-9) : base);
  const y = (v) => y0 + height - ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo) || 1)) * height;
  parts.push(`<text x="${x0}" y="${y0 - 8}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
  for (const t of ticks(lo, hi, base)) {
    parts.push(`<line x1="${x0}" x2="${x0 + width}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x0 - 4}" y="${(y(t) + 4).toFixed(1)}" font-size="10" text-anchor="end">${esc(fmtTick(t, p.unit))}</text>`);
  }
  const gw = width / groups.length;
  const bw = Math.max(2, (gw - 8) / readers.length);
  groups.forEach((g, gi) => {
    readers.forEach((r, ri) => {
      const c = g.cases[r];
      const x = x0 + gi * gw + 4 + ri * bw;
      if (!c) return;
      if (c.status !== 'ok') {
        parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${y0 + height - 3}" font-size="8" text-anchor="middle" fill="#999">${c.status === 'skipped' ? 's' : '!'}</text>`);
        return;
      }
      const v = p.value(c);
      const title = `${g.label} ${r}: ${v === null ? '-' : fmtTick(v, p.unit)}`;
      if (!(v > 0)) {
        // Zero cannot sit on a log axis: a hollow marker on the floor.
        parts.push(`<rect x="${x.toFixed(1)}" y="${y0 + height - 2}" width="${(bw - 1).toFixed(1)}" height="2" fill="none" stroke="${colors[r]}"><title>${esc(title)}</title></rect>`);
        return;
      }
      const top = Math.max(y0, y(v));
      parts.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(y0 + height - top).toFixed(1)}" fill="${colors[r]}"><title>${esc(title)}</title></rect>`);
    });
    parts.push(`<text x="${(x0 + gi * gw + gw / 2).toFixed(1)}" y="${y0 + height + 13}" font-size="10" text-anchor="middle">${esc(g.label)}</text>`);
  });
  parts.push(`<line x1="${x0}" x2="${x0 + width}" y1="${y0 + height}" y2="${y0 + height}" stroke="#333"/>`);
  return parts.join('\n');
}

/** SVG (string) for the results JSON written by run.js. */
function renderChart(json) {
  // The suite's readers first, then any other reader the run has (in the order of its cases).
  const readers = [...new Set([...Object.keys(READERS), ...json.cases.map((c) => c.reader)])];
  const COLORS = Object.fromEntries(readers.map((r, i) => [r, READERS[r]?.color ?? SPARE[i % SPARE.length]]));
  const layouts = [...new Set(json.cases.map((c) => c.layout))];
  const byKey = new Map();
  // This checkout's cases only (--against twins are in the tables).
  for (const c of json.cases) if (!c.impl) byKey.set(`${c.cache}/${c.layout}/${c.workload}/${c.reader}/${c.hint}`, c);
  const workloads = Object.keys(json.config.workloads);
  const groupsFor = (cache) => {
    const gs = [];
    for (const layout of layouts) {
      for (const w of workloads) {
        const cases = {};
        for (const r of readers) cases[r] = byKey.get(`${cache}/${layout}/${w}/${r}/none`);
        if (Object.values(cases).some(Boolean)) gs.push({ label: `${w} ${layout}`, cases });
      }
    }
    return gs;
  };
  const panels = [
    { title: 'Cold cache: bytes read from disk (/proc/self/io read_bytes)', unit: 'bytes', cache: 'cold', value: (c) => c.median.ioReadBytes },
    { title: 'Cold cache: page faults, minor + major (main thread)', unit: 'count', cache: 'cold', value: (c) => c.median.faults },
    { title: 'Cold cache: wall time (median)', unit: 'ms', cache: 'cold', value: (c) => c.median.wallMs },
    { title: 'Warm cache: page faults, minor + major (main thread)', unit: 'count', cache: 'warm', value: (c) => c.median.faults },
    { title: 'Warm cache: wall time (median)', unit: 'ms', cache: 'warm', value: (c) => c.median.wallMs },
  ];
  const W = 1200;
  const left = 80;
  const ph = 170;
  const gap = 70;
  const top = 70;
  const H = top + (panels.length + 1) * (ph + gap) + 50;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="16" font-weight="bold">${esc(`memmap page-fault benchmarks: ${json.config.n} x ${json.config.n} float32, ${json.machine.kernel}, ${json.machine.filesystem}, Node ${json.machine.node}`)}</text>`,
    `<text x="${left}" y="40" font-size="11" fill="#555">${esc(`${json.date} on ${json.machine.hostname}; log scales; median of ${json.config.runs} run(s), each in its own process; hint none; s = skipped`)}</text>`,
  ];
  readers.forEach((r, i) => {
    parts.push(`<rect x="${left + i * 140}" y="50" width="12" height="12" fill="${COLORS[r]}"/><text x="${left + i * 140 + 16}" y="60" font-size="11">${esc(r)}</text>`);
  });
  panels.forEach((p, i) => {
    parts.push(panel(p, left, top + 30 + i * (ph + gap), W - left - 20, ph, groupsFor(p.cache), readers, COLORS));
  });
  // Hints: memmap only, cold, C order.
  const hints = Object.keys(HINT_COLORS);
  const hintGroups = workloads.map((w) => {
    const cases = {};
    for (const h of hints) cases[h] = byKey.get(`cold/C/${w}/memmap/${h}`);
    return { label: `${w} C`, cases };
  }).filter((g) => Object.values(g.cases).filter(Boolean).length > 1);
  const y1 = top + 30 + panels.length * (ph + gap);
  if (hintGroups.length) {
    hints.forEach((h, i) => {
      parts.push(`<rect x="${left + i * 140}" y="${y1 - 40}" width="12" height="12" fill="${HINT_COLORS[h]}"/><text x="${left + i * 140 + 16}" y="${y1 - 30}" font-size="11">${esc(`hint ${h}`)}</text>`);
    });
    const half = (W - left - 20 - 60) / 2;
    parts.push(panel({ title: 'memmap access hints, cold, C order: bytes read from disk', unit: 'bytes', value: (c) => c.median.ioReadBytes }, left, y1, half, ph, hintGroups, hints, HINT_COLORS));
    parts.push(panel({ title: 'memmap access hints, cold, C order: wall time', unit: 'ms', value: (c) => c.median.wallMs }, left + half + 60 + 20, y1, half - 20, ph, hintGroups, hints, HINT_COLORS));
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

module.exports = { renderChart };
