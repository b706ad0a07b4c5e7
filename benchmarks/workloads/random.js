'use strict';
// randomCount elements at seeded pseudo-random (i, j), read in access order.
const { sum2d } = require('./loops');

/** xorshift32: the same (i, j) sequence in JS and python (numpy_reader.py). */
function randomIndices(n, count, seed) {
  const ii = new Int32Array(count);
  const jj = new Int32Array(count);
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  for (let k = 0; k < count; k++) {
    ii[k] = next() % n;
    jj[k] = next() % n;
  }
  return { ii, jj };
}

module.exports = {
  title: 'random elements',
  repeatIn: [],
  accessOrder: true, // a read()-based reader issues its reads in access order, not file order
  randomIndices,
  prepare: (n, p) => randomIndices(n, p.randomCount, p.seed),
  elements(n, p, visit) {
    const { ii, jj } = randomIndices(n, p.randomCount, p.seed);
    for (let k = 0; k < ii.length; k++) visit(ii[k], jj[k]);
  },
  count: (n, p) => p.randomCount,
  native(a, p, rnd) {
    const g = a.gather(rnd.ii, rnd.jj);
    return sum2d(g, 0, 1, 0, g.length, 1);
  },
  loop(d, n, si, sj, p, rnd) {
    let s = 0;
    for (let k = 0; k < rnd.ii.length; k++) s += d[rnd.ii[k] * si + rnd.jj[k] * sj];
    return s;
  },
};
