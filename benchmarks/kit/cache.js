'use strict';
// Page-cache control for the benchmarks: how much of a file is resident, and
// making it cold (evicted) or warm (read once sequentially) before a run.
// Each function takes the memmap package to use (a worker of --against passes
// the checkout it measures); by default this checkout's.
// A Zarr store (a directory) counts as all its files.
const fs = require('node:fs');
const { filesOf } = require('./zarr');

const thisPackage = () => require('../..');

/** Fraction of the file's (or directory's files') bytes in the page cache (mincore on a mapping that touches nothing). */
function residentFraction(file, lib = thisPackage()) {
  let resident = 0;
  let total = 0;
  for (const f of filesOf(file)) {
    if (fs.statSync(f).size === 0) continue;
    const a = lib.memmap(f, { dtype: 'uint8' });
    try {
      const r = a.residency();
      resident += r.fraction * a.byteLength;
      total += a.byteLength;
    } finally {
      a.close();
    }
  }
  return total === 0 ? 1 : resident / total;
}

/** Evicts the file (every file of a directory) and checks it left the page cache; returns the resident fraction (<= 0.01 when it worked). */
function makeCold(file, lib = thisPackage()) {
  let f = 1;
  for (let attempt = 0; attempt < 5 && f > 0.01; attempt++) {
    for (const x of filesOf(file)) lib.evict(x);
    f = residentFraction(file, lib);
  }
  return f;
}

/** Reads the file (every file of a directory) sequentially unless it is all resident; returns the resident fraction. */
function makeWarm(file) {
  let f = residentFraction(file);
  if (f < 0.999) {
    const buf = Buffer.allocUnsafe(8 << 20);
    for (const x of filesOf(file)) {
      const fd = fs.openSync(x, 'r');
      try {
        let pos = 0;
        let got;
        while ((got = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) pos += got;
      } finally {
        fs.closeSync(fd);
      }
    }
    f = residentFraction(file);
  }
  return f;
}

/** makeCold or makeWarm by name ('cold' | 'warm'). */
const prepareCache = (file, cache) => (cache === 'cold' ? makeCold(file) : makeWarm(file));

module.exports = { residentFraction, makeCold, makeWarm, prepareCache };
