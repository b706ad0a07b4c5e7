'use strict';
// The compute workloads' results against numpy's: each run of a case that
// returned values (float64, base64: worker.js and numpy_reader.py) is compared
// with the numpy twin's first run, as the workload's `match` says:
//   bits   the same float64 bits (sum: numpy's a.sum(dtype=float64))
//   exact  equal values
//   close  relative difference <= CLOSE_RTOL (numpy's default float32
//          accumulation against our float64); also reported against numpy's
//          float64-accumulated result (`ref`), which it should match far closer

/** 'close': numpy's float32 pairwise sums of 16384 values are good to a few float32 ulps. */
const CLOSE_RTOL = 1e-5;

const decode = (b64) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};

/** Largest |a - b| / |b| (0 where both are equal, NaN included); Infinity for different lengths. */
function maxRelDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k] === b[k] || (Number.isNaN(a[k]) && Number.isNaN(b[k]))) continue;
    const d = Math.abs(a[k] - b[k]) / Math.abs(b[k]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

/** Compares one run's values with numpy's; {pass, maxRelDiff, error?}. */
function compareValues(match, mine, theirs) {
  const a = decode(mine);
  const b = decode(theirs);
  const rel = maxRelDiff(a, b);
  const pass = match === 'bits' ? mine === theirs : match === 'exact' ? rel === 0 : rel <= CLOSE_RTOL;
  return { pass, maxRelDiff: rel, length: a.length, lengthNumpy: b.length };
}

/** The numpy case a case is checked against: same cache, layout, hint, and workload (or the workload's `twin`). */
function numpyTwin(c, cases, w) {
  const workload = w.twin ?? c.workload;
  return cases.find((x) => x.reader === 'np.memmap' && x.workload === workload && x.cache === c.cache && x.layout === c.layout && x.hint === c.hint && !x.impl) ?? null;
}

/**
 * Map case -> {against, match, pass, maxRelDiff, refMaxRelDiff?, error?} for
 * every non-numpy case whose workload declares a `match` and whose numpy twin
 * ran (valuesOf: case -> [{values, ref?}] per ok run).
 */
function crossCheck(cases, valuesOf, workloads) {
  const checks = new Map();
  for (const c of cases) {
    const w = workloads[c.workload];
    if (!w.match || c.reader === 'np.memmap') continue;
    const mine = valuesOf.get(c) ?? [];
    const twin = numpyTwin(c, cases, w);
    const theirs = twin ? (valuesOf.get(twin) ?? [])[0] : undefined;
    if (!mine.length || !theirs) continue;
    const each = mine.map((m) => compareValues(w.match, m.values, theirs.values));
    const worst = each.reduce((x, y) => (y.maxRelDiff > x.maxRelDiff || !y.pass ? y : x));
    const check = { against: twin.id, match: w.match, runs: each.length, length: worst.length, pass: each.every((e) => e.pass), maxRelDiff: worst.maxRelDiff };
    if (theirs.ref) check.refMaxRelDiff = Math.max(...mine.map((m) => maxRelDiff(decode(m.values), decode(theirs.ref))));
    if (!check.pass) {
      const what = w.match === 'bits' ? 'not the same float64 bits as' : w.match === 'exact' ? 'not equal to' : `further than ${CLOSE_RTOL} relative from`;
      check.error = `result ${what} numpy's (${twin.id}): ${worst.length} vs ${worst.lengthNumpy} values, max relative difference ${worst.maxRelDiff}`;
    }
    checks.set(c, check);
  }
  return checks;
}

module.exports = { crossCheck, compareValues, maxRelDiff, CLOSE_RTOL };
