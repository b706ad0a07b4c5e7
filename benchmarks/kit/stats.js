'use strict';
// The statistics of every benchmark: ONE median (the conventional one: the
// middle value, or the mean of the middle pair for an even count), ratios.

const present = (x) => x !== null && x !== undefined && !Number.isNaN(x);

/** Median of the numbers in xs (null, undefined and NaN are ignored); null when there are none. */
function median(xs) {
  const v = xs.filter(present).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** The q-quantile (0..1) by the nearest-rank rule: sorted[floor(n * q)], clamped. */
function quantile(xs, q) {
  const v = xs.filter(present).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v[Math.min(v.length - 1, Math.floor(v.length * q))];
}

function mean(xs) {
  const v = xs.filter(present);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** a / b, with 0 / 0 = 1, x / 0 = Infinity, null when either is missing. */
function ratio(a, b) {
  if (!present(a) || !present(b)) return null;
  return a === b ? 1 : b === 0 ? Infinity : a / b;
}

/** Median of every key of the objects in rows (null where any row lacks a number). */
function medianOfKeys(rows) {
  const out = {};
  for (const k of Object.keys(rows[0] ?? {})) out[k] = rows.some((r) => !present(r[k])) ? null : median(rows.map((r) => r[k]));
  return out;
}

module.exports = { median, quantile, mean, ratio, medianOfKeys, present };
