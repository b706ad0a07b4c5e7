'use strict';
// One column a[:, n/2+1]: one element per page in a C-order file, contiguous in F order.
const { sum2d } = require('./loops');

module.exports = {
  title: 'one column',
  repeatIn: ['F'],
  elements(n, p, visit) {
    for (let i = 0; i < n; i++) visit(i, p.col);
  },
  count: (n) => n,
  native: (a, p) => a.sum(null, p.col),
  loop: (d, n, si, sj, p) => sum2d(d, p.col * sj, 1, 0, n, si),
};
