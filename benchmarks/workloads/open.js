'use strict';
// open + read one element: what opening costs, and the one page it touches.
module.exports = {
  title: 'open + read 1 element',
  repeatIn: ['C', 'F'], // one page: repeated in one process (warm: --open-reps times)
  elements: (n, p, visit) => visit(p.row, p.col),
  count: () => 1,
  native: (a, p) => a.get(p.row, p.col),
  memmapJs: (a, p) => a.get(p.row, p.col),
  loop: (d, n, si, sj, p) => d[p.row * si + p.col * sj],
};
