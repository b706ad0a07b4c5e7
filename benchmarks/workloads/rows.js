'use strict';
// A block of rows a[n/4 : n/4+64, :].
const { grid } = require('./loops');

module.exports = {
  title: 'block of rows',
  repeatIn: ['C'],
  elements(n, p, visit) {
    for (let i = p.rowsStart; i < p.rowsStart + p.rowsCount; i++) for (let j = 0; j < n; j++) visit(i, j);
  },
  count: (n, p) => p.rowsCount * n,
  native: (a, p) => a.sum([p.rowsStart, p.rowsStart + p.rowsCount]),
  loop: (d, n, si, sj, p) => grid(d, p.rowsStart * si, p.rowsCount, n, si, sj),
};
