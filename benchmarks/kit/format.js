'use strict';
// Number formats of every report: times, counts, ratios, bytes, Markdown tables.

/** Parses 1073741824, 1G, 1GiB, 256M, 512k. */
function parseBytes(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`cannot parse size ${JSON.stringify(text)} (try 1G, 256M)`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase()];
  return Math.round(Number(m[1]) * mult);
}

const missing = (v) => v === null || v === undefined || Number.isNaN(v);

function fmtBytes(n) {
  if (missing(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

function fmtMs(ms) {
  if (missing(ms)) return '-';
  if (ms < 0.01) return `${(ms * 1000).toFixed(2)} µs`;
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(0)} ms`;
}

const fmtN = (n) => (missing(n) ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(1));
const fmtPct = (f) => (missing(f) ? '-' : `${(f * 100).toFixed(f > 0 && f < 0.01 ? 2 : 0)}%`);
const fmtX = (r) => (missing(r) ? '-' : r === Infinity ? '∞' : r >= 100 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`);

/** Formatter by unit name, as figures and columns declare them. */
const FORMATS = { ms: fmtMs, bytes: fmtBytes, count: fmtN, pct: fmtPct, ratio: fmtX, text: (v) => (missing(v) ? '-' : String(v)) };

/** A Markdown table: header cells and rows of cells ('|' in cells escaped). */
function mdTable(head, rows, align) {
  const cell = (c) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const sep = align ?? head.map(() => '---');
  return [`| ${head.join(' | ')} |`, `|${sep.join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** A plain-text table for terminals: left-aligned first `left` columns, right-aligned others. */
function textTable(rows, left = 1) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => (c < left ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ')).join('\n');
}

module.exports = { parseBytes, fmtBytes, fmtMs, fmtN, fmtPct, fmtX, FORMATS, mdTable, textTable };
