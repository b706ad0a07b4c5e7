'use strict';
// Page-cache control for the benchmarks: how much of a file is resident, and
// making it cold (evicted) or warm (read once sequentially) before a run.
// Each function takes the memmap package to use (a worker of --against passes
// the checkout it measures); by default this checkout's.
const fs = require('node:fs');

const thisPackage = () => require('../..');

/** Fraction of the file's pages in the page cache (mincore on a mapping that touches nothing). */
function residentFraction(file, lib = thisPackage()) {
  const a = lib.memmap(file, { dtype: 'uint8' });
  try {
    return a.residency().fraction;
  } finally {
    a.close();
  }
}

/** Evicts the file and checks it left the page cache; returns the resident fraction (<= 0.01 when it worked). */
function makeCold(file, lib = thisPackage()) {
  let f = 1;
  for (let attempt = 0; attempt < 5 && f > 0.01; attempt++) {
    lib.evict(file);
    f = residentFraction(file, lib);
  }
  return f;
}

/** Reads the file sequentially unless it is all resident; returns the resident fraction. */
function makeWarm(file) {
  let f = residentFraction(file);
  if (f < 0.999) {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(8 << 20);
    try {
      let pos = 0;
      let got;
      while ((got = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) pos += got;
    } finally {
      fs.closeSync(fd);
    }
    f = residentFraction(file);
  }
  return f;
}

/** makeCold or makeWarm by name ('cold' | 'warm'). */
const prepareCache = (file, cache) => (cache === 'cold' ? makeCold(file) : makeWarm(file));

module.exports = { residentFraction, makeCold, makeWarm, prepareCache };
