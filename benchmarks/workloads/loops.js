'use strict';
// The inner loops the JavaScript readers share (one copy each, so they stay
// monomorphic: always a Float32Array).

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

/** A ci x cj grid with strides ti, tj from base, the larger stride outside so the loop walks memory forwards. */
const grid = (d, base, ci, cj, ti, tj) => (ti >= tj ? sum2d(d, base, ci, ti, cj, tj) : sum2d(d, base, cj, tj, ci, ti));

module.exports = { sum2d, grid };
