'use strict';
// One chunk-aligned 256 x 256 block a[r:r+256, c:c+256] read into memory (a.read), then summed in JavaScript:
// the read a Zarr user makes most. The zarrita reader gets the same block with its get().
const { sum2d } = require('./loops');

const SIDE = 256;

module.exports = {
  title: '256 x 256 block read (chunk-aligned)',
  repeatIn: ['C', 'F', 'zarr', 'zarr-zstd'],
  // Times the read, not the open (zarrita's open is asynchronous file reads of metadata); warm, the second read of
  // the open array (the first maps its shard and reads the shard index).
  fromOpen: true,
  primeWarm: true,
  // The bar compares the read with zarrita's get(): the clock stops when the block is in memory, before the JavaScript
  // sum that checks it (about 70 µs here, as long as a fast read itself). The report also keeps the time with the sum.
  timesRead: true,
  elements(n, p, visit) {
    for (let i = p.blockRow; i < p.blockRow + SIDE; i++) for (let j = p.blockCol; j < p.blockCol + SIDE; j++) visit(i, j);
  },
  count: () => SIDE * SIDE,
  native(a, p, extra, read = () => {}) {
    const d = a.read([p.blockRow, p.blockRow + SIDE], [p.blockCol, p.blockCol + SIDE]);
    read();
    return sum2d(d, 0, 1, 0, d.length, 1);
  },
  loop: (d, n, si, sj, p) => sum2d(d, p.blockRow * si + p.blockCol * sj, SIDE, si, SIDE, sj),
  side: SIDE,
};
