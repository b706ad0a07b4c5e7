'use strict';
// Every element, in file order: native a.sum() for memmap (the `sum` workload of --against).
const { grid } = require('./loops');

module.exports = {
  title: 'full sequential scan',
  repeatIn: [],
  elements(n, p, visit) {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) visit(i, j);
  },
  count: (n) => n * n,
  /** Sum of every valueAt(i, j) = ((7i + 13j) mod 1021) / 4, row by row without calling valueAt. */
  expected(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let r = 0;
      let v = (i * 7) % 1021;
      for (let j = 0; j < n; j++) {
        r += v;
        v += 13;
        if (v >= 1021) v -= 1021;
      }
      sum += r * 0.25;
    }
    return sum;
  },
  native: (a) => a.sum(),
  loop: (d, n, si, sj) => grid(d, 0, n, n, si, sj),
};
