'use strict';
// The workloads of the suite, one file each, in report order. A workload is a
// set of logical (i, j) elements of an n x n float32 array whose values are
// summed; its file declares:
//
//   title                  one line for reports
//   repeatIn: ['C', ...]   layouts where it touches a handful of pages, so a
//                          run repeats it in one process (median of the repetitions)
//   elements(n, p, visit)  calls visit(i, j) for every element, in access order
//   count(n, p)            how many elements
//   expected(n, p)?        the sum, when elements() would be too slow for it
//   accessOrder?           read()-based readers keep access order (else file order)
//   prepare(n, p)?         per-run data (e.g. random indices), passed on as `extra`
//   native(a, p, extra, read?)  the memmap reader: one native call on the array
//   timesRead?             the clock stops when the data is in memory (native calls
//                          read(), zarrita marks it): the checking sum is not timed
//   memmapJs(a, p)?        the memmap-js reader when it is not `loop` over a.data
//   loop(d, n, si, sj, p, extra)  a JavaScript loop over a Float32Array of the
//                          whole array with strides si, sj (memmap-js, readFileSync)
//
// numpy_reader.py mirrors each workload for the python readers.
// Adding a workload: a file here, its name below, its branch in numpy_reader.py.
// The compute workloads (issue 11: reductions, small reads, the event loop)
// are one table, compute.js, with more fields; their branches in numpy_reader.py
// are in COMPUTE there.
const NAMES = ['open', 'scan', 'row', 'col', 'rows', 'strided', 'random'];
// Issue 13's chunked layouts: what a Zarr user reads besides scan, row and col (memmap and zarrita readers only).
const ZARR_NAMES = ['block'];
const { COMPUTE } = require('./compute');
const COMPUTE_NAMES = Object.keys(COMPUTE);

const WORKLOADS = {
  ...Object.fromEntries(NAMES.map((name) => [name, { name, family: 'pages', ...require(`./${name}`) }])),
  ...Object.fromEntries(ZARR_NAMES.map((name) => [name, { name, family: 'pages', ...require(`./${name}`) }])),
  ...Object.fromEntries(COMPUTE_NAMES.map((name) => [name, { name, family: 'compute', ...COMPUTE[name] }])),
};

function workload(name) {
  const w = WORKLOADS[name];
  if (!w) throw new Error(`unknown workload ${name}`);
  return w;
}

module.exports = { NAMES, ZARR_NAMES, COMPUTE_NAMES, WORKLOADS, workload };
