'use strict';
// The compute workloads (issue 11's bars): reductions, a row into a caller's
// buffer, one-element reads, open + element + close, and the event loop during
// a cold column read. Unlike the page-fault workloads they are not sums of
// elements: each returns a result that the runner checks against numpy's
// (and against the formula where `elements` or `expected` give one). Fields, besides
// index.js's:
//
//   call / numpy       the two calls compared, as written in the report
//   match              'bits': the same float64 bits; 'exact': equal values;
//                      'close': within 1e-5 relative (numpy's default float32
//                      accumulation against our float64); the python worker
//                      also reports numpy's float64-accumulated result (`ref`)
//   cache              'warm' or 'cold' (the suite's cache state)
//   reps: [full, quick] repetitions in one process (median)
//   calls(n, p)?       calls per repetition: the figure is also reported per call
//   readers?           only these readers (no numpy twin of its own)
//   twin?              the workload whose numpy case this one is compared with
//   timesOpen?         the timed region includes memmap()/np.memmap and close;
//                      else it starts after the open
//   eventLoop?         the worker records the event-loop delay during the call
//   native(a, p, extra)  memmap's side; the python side is in numpy_reader.py
//
// A result is a number, a TypedArray or an in-memory array; the worker turns
// it into float64 values after the timed region.
const path = require('node:path');
const { spawn } = require('node:child_process');
const scan = require('./scan');
const row = require('./row');
const col = require('./col');

/** The positions get1/read1 visit: row p.row, columns spread over it. */
const elementCol = (n, k) => (k * 61) % n;

const reduction = (title, call, numpy, native, match = 'exact') => ({ title, call, numpy, match, cache: 'warm', reps: [9, 3], native });

const COMPUTE = {
  sum: {
    ...reduction('full sum', 'a.sum()', 'a.sum(dtype=np.float64)', (a) => a.sum(), 'bits'),
    expected: scan.expected,
    count: scan.count,
  },
  'max-axis0': reduction('column maxima', 'a.max({ axis: 0 })', 'a.max(axis=0)', (a) => a.max({ axis: 0 })),
  'min-axis1': reduction('row minima', 'a.min({ axis: 1 })', 'a.min(axis=1)', (a) => a.min({ axis: 1 })),
  'mean-axis0': reduction('column means', 'a.mean({ axis: 0 })', 'a.mean(axis=0)', (a) => a.mean({ axis: 0 }), 'close'),
  'mean-axis1': reduction('row means', 'a.mean({ axis: 1 })', 'a.mean(axis=1)', (a) => a.mean({ axis: 1 }), 'close'),
  argmax: reduction('argmax of everything', 'a.argmax()', 'a.argmax()', (a) => a.argmax()),
  std: reduction('standard deviation of everything', 'a.std()', 'a.std()', (a) => a.std(), 'close'),
  'row-out': manyCalls('one row (64 KiB at n = 16384) into a caller buffer', 'a.read(i, { out })', 'a[i].copy()', {
    calls: (n, p) => p.rowCalls,
    prepare: (n) => new Float32Array(n),
    elements: row.elements,
    count: row.count,
    native(a, p, out) {
      for (let k = 0; k < p.rowCalls; k++) a.read(p.row, { out });
      return out;
    },
  }),
  get1: oneElement('a.get(i, j)', {}, (a, i, j) => a.get(i, j)),
  // numpy's side is get1's a[i, j].
  read1: oneElement('a.read(i, j)', { readers: ['memmap'], twin: 'get1' }, (a, i, j) => a.read(i, j)[0]),
  'open-close': {
    title: 'open + a[0, 1] + close of the warm file',
    call: 'memmap(file) + a.get(0, 1) + a.close()',
    numpy: 'np.memmap(file) + a[0, 1] + del a',
    match: 'exact',
    cache: 'warm',
    reps: 'open', // --open-reps
    timesOpen: true,
    elements: (n, p, visit) => visit(0, 1),
    count: () => 1,
    native(a) {
      const v = a.get(0, 1);
      a.close();
      return v;
    },
  },
  'col-async': coldColumn('readAsync(null, j)', 'await a.readAsync(null, j)', (a, p) => a.readAsync(null, p.col)),
  'col-sync': coldColumn('read(null, j)', 'a.read(null, j)', (a, p) => a.read(null, p.col)),
  // The same cold read in another process (sync there): what the read's disk and kernel work alone cost this loop.
  'col-elsewhere': {
    ...coldColumn('read(null, j) in another process', 'another process: a.read(null, j)', (a, p, child) => child.read(a.filename, a.shape[0], p.col)),
    prepare: () => readerProcess(),
  },
  // The floor: the same monitor while the loop only waits, as long as a cold column read takes.
  'idle-loop': { title: 'the event loop idle (a timer), for the floor', call: 'await setTimeout(400 ms)', cache: 'cold', reps: [5, 2], readers: ['memmap'], eventLoop: true, native: () => new Promise((resolve) => setTimeout(resolve, 400)) },
};

/** A cold column of the C-order file (one element per page), the event loop watched: memmap only. */
function coldColumn(what, call, native) {
  return { title: `cold column of the C-order file, ${what}`, call, cache: 'cold', reps: [5, 2], readers: ['memmap'], eventLoop: true, elements: col.elements, count: col.count, native };
}

/** A workload of many small calls per repetition (reported per call too), against numpy's `numpy`. */
function manyCalls(title, call, numpy, fields) {
  return { title, call, numpy, match: 'exact', cache: 'warm', reps: [41, 5], ...fields };
}

/** p.elementCalls one-element reads `read(a, i, j)` along row p.row, summed. */
function oneElement(call, fields, read) {
  return manyCalls(`one element, ${call.slice(2)}`, call, 'a[i, j]', {
    ...fields,
    calls: (n, p) => p.elementCalls,
    elements: oneElementCalls,
    count: (n, p) => p.elementCalls,
    native(a, p) {
      const n = a.shape[1];
      let s = 0;
      for (let k = 0; k < p.elementCalls; k++) s += read(a, p.row, elementCol(n, k));
      return s;
    },
  });
}

let reader = null;

/**
 * One child process per worker, started before the timed region: on each
 * request it opens the file, reads a column with this checkout's memmap, closes
 * it (so the next eviction can drop the pages) and answers with the column's sum.
 */
function readerProcess() {
  if (reader) return reader;
  const code = `const { memmap } = require(${JSON.stringify(path.join(__dirname, '..', '..'))});
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [file, n, col] = JSON.parse(line);
  const a = memmap(file, { dtype: 'float32', shape: [n, n] });
  let s = 0;
  for (const v of a.read(null, col)) s += v;
  a.close();
  process.stdout.write(s + '\\n');
});`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.unref();
  child.stdin.unref();
  child.stdout.unref();
  let pending = null;
  let text = '';
  child.stdout.on('data', (chunk) => {
    text += chunk;
    const end = text.indexOf('\n');
    if (end >= 0 && pending) {
      const resolve = pending;
      pending = null;
      child.stdout.unref(); // idle: the worker may exit
      resolve(Number(text.slice(0, end)));
      text = text.slice(end + 1);
    }
  });
  reader = {
    read(file, n, col) {
      return new Promise((resolve) => {
        pending = resolve;
        child.stdout.ref(); // a request is out: the worker waits for the answer
        child.stdin.write(`${JSON.stringify([file, n, col])}\n`);
      });
    },
  };
  return reader;
}

/** get1/read1's elements: the formula's sum of them checks the calls' sum. */
function oneElementCalls(n, p, visit) {
  for (let k = 0; k < p.elementCalls; k++) visit(p.row, elementCol(n, k));
}

module.exports = { COMPUTE, elementCol };
