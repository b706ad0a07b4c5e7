'use strict';
// A strided slice a[::64, ::64].
const { grid } = require('./loops');

module.exports = {
  title: 'strided slice',
  repeatIn: [],
  elements(n, p, visit) {
    for (let i = 0; i < n; i += p.step) for (let j = 0; j < n; j += p.step) visit(i, j);
  },
  count: (n, p) => Math.ceil(n / p.step) ** 2,
  native: (a, p) => a.sum([0, null, p.step], [0, null, p.step]),
  loop(d, n, si, sj, p) {
    const c = Math.ceil(n / p.step);
    return grid(d, 0, c, c, p.step * si, p.step * sj);
  },
};
