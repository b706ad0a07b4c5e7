'use strict';
// Generating values with numpy and comparing them with memmap's: numpyJSON()
// runs a python script with test/helpers/numpy_gen.py imported (values() for
// any dtype, write_raw(), encode()), and fromNumpy()/toNumpy() convert between
// that JSON encoding and what get() returns. cIndices() walks a shape in C order.
const { pythonJSON } = require('./python');

const PRELUDE = `import sys
sys.dont_write_bytecode = True
sys.path.insert(0, ${JSON.stringify(__dirname)})
import json, os
import numpy as np
from numpy_gen import values, write_raw, encode, emit, args
`;

/** Runs `code` in python after the numpy_gen prelude; `argv` become sys.argv[1:]. Returns its JSON output. */
function numpyJSON(code, argv = []) {
  return pythonJSON(PRELUDE + code, argv);
}

function fromNum(x) {
  if (x === 'nan') return NaN;
  if (x === 'inf') return Infinity;
  if (x === '-inf') return -Infinity;
  return x;
}

/** numpy_gen's encoding of one element (encode()) as get() returns it for dtype `dt` (from parseDType). */
function fromNumpy(dt, x) {
  if (dt.kind === 'c') return { re: fromNum(x[0]), im: fromNum(x[1]) };
  if (dt.kind === 'f') return fromNum(x);
  if (dt.kind === 'b') return x;
  return dt.itemsize === 8 ? BigInt(x) : x;
}

/** A value get() returned, in numpy_gen's encoding (bigint as a string, nan/inf as strings, complex as [re, im]). */
function toNumpy(v) {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'object') return [toNumpy(v.re), toNumpy(v.im)];
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return v;
}

/** Object.is for values and for complex {re, im}. */
function sameValue(a, b) {
  if (typeof a === 'object' && a !== null) return Object.is(a.re, b.re) && Object.is(a.im, b.im);
  return Object.is(a, b);
}

/** A value for a failure message ({re, im} spelled out). */
function show(v) {
  return typeof v === 'object' ? `{re: ${v.re}, im: ${v.im}}` : String(v);
}

/** Every multi-index of `shape` in C order (one empty index for a 0-d shape). */
function* cIndices(shape) {
  const size = shape.reduce((a, b) => a * b, 1);
  const idx = shape.map(() => 0);
  for (let n = 0; n < size; n++) {
    yield idx.slice();
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

module.exports = { numpyJSON, fromNumpy, toNumpy, sameValue, show, cIndices };
