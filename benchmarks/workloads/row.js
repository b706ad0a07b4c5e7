'use strict';
// One row a[n/2, :]: contiguous in a C-order file, one element per page in F order.
const { sum2d } = require('./loops');

module.exports = {
  title: 'one row',
  repeatIn: ['C'],
  elements(n, p, visit) {
    for (let j = 0; j < n; j++) visit(p.row, j);
  },
  count: (n) => n,
  native: (a, p) => a.sum(p.row),
  loop: (d, n, si, sj, p) => sum2d(d, p.row * si, 1, 0, n, sj),
};
