'use strict';
// WideNdArray (lib/ndview.ts), the view ndarray() returns for arrays past
// 2^31 elements, is the exact-offset twin of scijs `ndarray`. Here both are
// built over the same small data (1-d to 4-d; zero-length and length-1 axes;
// C, F, padded, broadcast and negative strides; non-zero offsets) and must
// agree exactly: shape, stride, offset, dimension, size, order, dtype,
// index(), get() and set(), also after lo(), hi(), step(), transpose() and
// pick() with edge arguments (negative, zero, non-integer, null, undefined,
// missing, extra, past the shape) and after seeded random chains of them
// (mulberry32 from scripts/prng.js). WideNdArray over multi-GiB files is in
// big-arrays.test.js.
// WideNdArray mirrors the code scijs generates, so edge cases agree too:
// scijs's 3-d tie-breaking in `order`, non-integer pick(), steps in (-1, 0),
// NaN and ±Infinity arguments, pick() and valueOf() of 0-d views, and set()
// with more or fewer indices than dimensions.
const assert = require('node:assert/strict');
const ndarray = require('ndarray');
const { WideNdArray } = require('../dist/ndview');
const { mulberry32 } = require('../scripts/prng');
const { cIndices } = require('./helpers/numpy');

const SHAPES = [
  [0], [1], [6],
  [3, 4], [1, 5], [4, 1], [0, 3],
  [2, 3, 4], [3, 1, 2], [1, 1, 1], [2, 0, 3], [4, 1, 1],
  [2, 3, 2, 2], [1, 2, 1, 3], [2, 2, 0, 1],
];

/** Strides of `shape` in C order, each axis padded by `pad` elements (a slice of a bigger array). */
function cStrides(shape, pad = 0) {
  const stride = shape.map(() => 0);
  for (let d = shape.length - 1, n = 1; d >= 0; d--) {
    stride[d] = n;
    n *= Math.max(shape[d], 1) + pad;
  }
  return stride;
}

/** Layouts: [name, shape => stride]. Negative strides get the offset that keeps every index >= 0. */
const LAYOUTS = [
  ['C', (shape) => cStrides(shape)],
  ['F', (shape) => cStrides(shape.slice().reverse()).reverse()],
  ['padded', (shape) => cStrides(shape, 2)],
  ['negative', (shape) => cStrides(shape).map((s, d) => (d % 2 === 0 ? -s : s))],
  ['all negative, F', (shape) => cStrides(shape.slice().reverse()).reverse().map((s) => -s)],
  ['broadcast last axis', (shape) => cStrides(shape).map((s, d) => (d === shape.length - 1 ? 0 : s))],
];

/** Every base view: shape x layout x extra offset, with the data length it needs. */
const BASES = [];
for (const shape of SHAPES) {
  for (const [layout, strides] of LAYOUTS) {
    for (const extra of [0, 5]) {
      const stride = strides(shape);
      let offset = extra;
      let reach = extra;
      shape.forEach((n, d) => {
        const span = stride[d] * (Math.max(n, 1) - 1);
        if (span < 0) offset -= span;
        reach += Math.abs(span);
      });
      BASES.push({ shape, stride, offset, length: reach + 8, what: `${JSON.stringify(shape)} ${layout} offset ${offset}` });
    }
  }
}

/**
 * The three views of a base: w (WideNdArray) and s (scijs) over the same
 * generic data object, t (scijs) over a Float64Array copy of its values.
 * set() of the generic data returns the linear index it wrote, so that the
 * return values of w.set() and s.set() compare.
 */
function views(base) {
  const values = Float64Array.from({ length: base.length }, (_, i) => 1000 + 3 * i);
  const typed = values.slice();
  const data = {
    length: base.length,
    get: (i) => values[i],
    set: (i, v) => {
      values[i] = v;
      return `wrote ${i}`;
    },
  };
  return {
    values,
    typed,
    data,
    w: new WideNdArray(data, base.shape.slice(), base.stride.slice(), base.offset),
    s: ndarray(data, base.shape.slice(), base.stride.slice(), base.offset),
    t: ndarray(typed, base.shape.slice(), base.stride.slice(), base.offset),
  };
}

/** Applies `op` to each of the three views. */
function apply(v, op) {
  return { ...v, w: op(v.w), s: op(v.s), t: op(v.t) };
}

function agreeOrder(w, s, what) {
  assert.deepEqual(w.order, s.order, `${what}: order`);
}

/** Every property of the two views is the same (Object.is, so -0 and NaN count). */
function agreeProps(w, s, what) {
  assert.ok(w instanceof WideNdArray, what);
  assert.equal(w.dimension, s.dimension, `${what}: dimension`);
  assert.deepEqual(w.shape, s.shape, `${what}: shape`);
  assert.deepEqual(w.stride, s.stride, `${what}: stride`);
  assert.equal(w.offset, s.offset, `${what}: offset`);
  assert.equal(w.size, s.size, `${what}: size`);
  assert.equal(w.dtype, s.dtype, `${what}: dtype`);
  assert.equal(w.data, s.data, `${what}: data`);
  agreeOrder(w, s, what);
}

/** Whether every element of a view's shape can be walked (finite, not negative, small). */
function walkable(view) {
  return view.shape.every((n) => Number.isInteger(n) && n >= 0) && view.size <= 500;
}

/**
 * index() and get() agree on every element (and on indices past the shape,
 * negative, non-integer, missing and extra), and get() of the scijs view over
 * the Float64Array reads the same values.
 */
function agreeElements(v, what) {
  const { w, s, t } = v;
  if (!walkable(s)) return 0;
  let n = 0;
  for (const idx of cIndices(s.shape)) {
    const tries = [idx, idx.map((i, d) => i - s.shape[d]), idx.map((i) => i + 0.5), idx.slice(1), [...idx, 3]];
    for (const args of tries) {
      assert.equal(w.index(...args), s.index(...args), `${what}: index(${args})`);
      assert.equal(w.get(...args), s.get(...args), `${what}: get(${args})`);
    }
    assert.equal(w.get(...idx), t.get(...idx), `${what}: get(${idx}) over a Float64Array`);
    n++;
  }
  if (s.dimension === 0) {
    assert.equal(w.index(), s.index(), `${what}: 0-d index()`);
    assert.equal(w.get(), t.get(), `${what}: 0-d get()`);
  }
  return n;
}

/** set() through w and through t writes the same elements; w.set and s.set return the same. */
function agreeSet(v, what) {
  const { w, s, t } = v;
  if (!walkable(s)) return;
  let k = 0;
  for (const idx of cIndices(s.shape)) {
    const lin = w.index(...idx);
    if (!(lin >= 0 && lin < v.values.length)) continue;
    const value = -1 - k++;
    assert.equal(w.set(...idx, value), `wrote ${lin}`, `${what}: WideNdArray set(${idx})`);
    assert.equal(s.set(...idx, value), `wrote ${lin}`, `${what}: scijs set(${idx})`);
    assert.equal(t.set(...idx, value), value, `${what}: scijs set(${idx}) over a Float64Array`);
  }
  assert.deepEqual(v.values, v.typed, `${what}: the data after set()`);
}

function agree(v, what) {
  agreeProps(v.w, v.s, what);
  assert.equal(v.t.dimension, v.s.dimension, `${what}: the Float64Array view`);
  return agreeElements(v, what);
}

const fmt = (args) => args.map((a) => (a === undefined ? 'undefined' : typeof a === 'bigint' ? `${a}n` : JSON.stringify(a))).join(', ');

/** Edge arguments for lo() and hi() of a view of `shape`. */
function loHiArgs(shape) {
  return [
    [], [0], [1], [-1], [-3], [0.5], [1.5], [-0.5], [2.9], [null], [undefined], [null, 1], [undefined, 2],
    shape, shape.map((n) => n - 1), shape.map((n) => n + 2), shape.map(() => -1), shape.map((n, d) => (d % 2 ? null : n >> 1)),
    shape.map((_, d) => d + 0.25), [...shape.map(() => 1), 1, 1], ['1', true, {}, 1n].slice(0, Math.max(shape.length, 1)),
    [NaN], [Infinity], [-Infinity], [-0], [0, NaN],
  ];
}

/** Edge arguments for step(), zero steps ((-1, 1), NaN, ±Infinity) included. */
function stepArgs(shape) {
  return [
    [], [1], [2], [3], [-1], [-2], [-5], [0], [0.5], [1.5], [-1.5], [2.5], [-2.7], [null], [undefined], [null, -1],
    [undefined, 2], shape.map((_, d) => (d % 2 ? -2 : 2)), shape.map(() => -1), shape.map(() => 0), [...shape.map(() => 2), -1, 3],
    ['2', true, 2n].slice(0, Math.max(shape.length, 1)), [-0.5], [-0], [NaN], [Infinity], [-Infinity], [0, -1],
  ];
}

/** Edge arguments for transpose(): permutations, repeats, null/undefined, non-integers, missing, past the axes. */
function transposeArgs(shape) {
  const axes = shape.map((_, d) => d);
  const out = [[], axes, axes.slice().reverse(), [...axes.slice(1), 0], axes.map((d) => d + 0.5), axes.map(() => 0),
    [undefined, 0], [null], [null, null], [axes.length - 1], axes.map((d) => (d % 2 ? undefined : d)), [...axes, 0],
    ['0']];
  // true is axis 1; axes past the last one make shape and stride undefined
  out.push([true], [axes.length], [-1], [axes.length + 3, 0], [NaN, 0], [Infinity]);
  if (axes.length === 3) out.push([1, 0, 2], [0, 2, 1], [2, 0, 1]);
  if (axes.length === 4) out.push([1, 0, 3, 2], [3, 2, 1, 0], [2, 3, 0, 1]);
  return out;
}

/** Edge arguments for pick(): integers, non-integers, NaN and ±Infinity. */
function pickArgs(shape) {
  return [
    [], [0], [1], [-1], [-2], [null], [undefined], [null, 0], [undefined, 1], [null, -1],
    shape.map((n) => Math.max(n - 1, 0)), shape.map(() => 0), shape.map((n) => n), shape.map((n, d) => (d % 2 ? n - 1 : null)),
    shape.map((n, d) => (d % 2 ? -1 : 0)), [...shape.map(() => 0), 2], ['1', true, 1n].slice(0, Math.max(shape.length, 1)),
    [0.5], [1.5], [-0.5], [NaN], [Infinity], shape.map((n) => n / 2),
  ];
}

const EDGE_ARGS = { lo: loHiArgs, hi: loHiArgs, step: stepArgs, transpose: transposeArgs, pick: pickArgs };

describe('WideNdArray (lib/ndview.ts) against scijs ndarray on small arrays', function () {
  it(`the base views agree (${BASES.length}: ${SHAPES.length} shapes x ${LAYOUTS.length} layouts x 2 offsets), set() included`, function () {
    let elements = 0;
    for (const base of BASES) {
      const v = views(base);
      elements += agree(v, base.what);
      agreeSet(v, base.what);
    }
    assert.ok(elements > 1000, `checked ${elements} elements`);
  });

  it('dimension 1 to 4, zero-length and length-1 axes, negative and zero strides and non-zero offsets are all covered', function () {
    assert.deepEqual([...new Set(BASES.map((b) => b.shape.length))].sort(), [1, 2, 3, 4]);
    assert.ok(BASES.some((b) => b.shape.includes(0)));
    assert.ok(BASES.some((b) => b.shape.includes(1) && b.shape.length > 1));
    assert.ok(BASES.some((b) => b.stride.some((x) => x < 0)));
    assert.ok(BASES.some((b) => b.stride.includes(0)));
    assert.ok(BASES.some((b) => b.offset > 0 && b.stride.every((x) => x > 0)));
  });

  for (const op of Object.keys(EDGE_ARGS)) {
    it(`${op}() with edge arguments returns the same view (then get, index and set agree)`, function () {
      let calls = 0;
      for (const base of BASES) {
        for (const args of EDGE_ARGS[op](base.shape)) {
          const what = `${base.what} .${op}(${fmt(args)})`;
          const v = apply(views(base), (x) => x[op](...args));
          agree(v, what);
          agreeSet(v, what);
          calls++;
        }
      }
      assert.ok(calls > 1000, `${calls} calls`);
    });
  }

  it('0-d views (pick() of every axis): get(), set(), index() and lo/hi/step/transpose copies agree', function () {
    let checked = 0;
    for (const base of BASES.filter((b) => !b.shape.includes(0))) {
      const v = apply(views(base), (x) => x.pick(...base.shape.map((n) => n - 1)));
      agree(v, `${base.what} 0-d`);
      assert.equal(v.w.dimension, 0);
      for (const op of ['lo', 'hi', 'step', 'transpose']) {
        for (const args of [[], [1], [-1], [null], [2, 3]]) {
          const what = `${base.what} 0-d .${op}(${fmt(args)})`;
          const u = apply(v, (x) => x[op](...args));
          agree(u, what);
          assert.equal(u.w.set(7.5), u.s.set(7.5), `${what}: set(v)`);
          assert.equal(u.t.set(7.5), 7.5);
          assert.deepEqual(u.values, u.typed, `${what}: the data after set(v)`);
        }
      }
      checked++;
    }
    assert.ok(checked > 50);
  });

  it('views agree after 3000 seeded random chains of lo/hi/step/transpose/pick (mulberry32, seed 20261130)', function () {
    const rand = mulberry32(20261130);
    const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
    const oneOf = (list) => list[Math.floor(rand() * list.length)];

    /** Arguments for `op` on view `x`: mostly in range, now and then an edge. */
    function randomArgs(op, x, last) {
      const n = int(0, x.dimension + 1); // missing and extra arguments too
      return Array.from({ length: n }, (_, d) => {
        const size = Number.isFinite(x.shape[d]) ? x.shape[d] : 3;
        const r = rand();
        if (r < 0.08) return null;
        if (r < 0.14) return undefined;
        switch (op) {
          case 'lo':
          case 'hi':
            return r < 0.24 ? int(-3, -1) : r < 0.34 ? int(0, size + 2) + 0.5 : int(0, size + 1);
          case 'step': {
            // zero steps (|step| < 1) only as the chain's last call: they make the shape infinite
            if (last && r < 0.2) return oneOf([0, 0.5, -0.5, -0]);
            const k = oneOf([1, 1, 2, 3, -1, -1, -2, -3]);
            return r < 0.35 ? k + Math.sign(k) * 0.5 : k;
          }
          case 'transpose':
            return r < 0.3 ? int(0, Math.max(x.dimension - 1, 0)) + 0.5 : int(0, Math.max(x.dimension - 1, 0));
          default: // pick
            return r < 0.3 ? int(-2, -1) : r < 0.4 ? int(0, size) + 0.5 : int(0, size);
        }
      });
    }

    let checks = 0;
    let elements = 0;
    for (let chain = 0; chain < 3000; chain++) {
      const base = oneOf(BASES);
      let v = views(base);
      let what = base.what;
      const length = int(1, 6);
      for (let k = 0; k < length; k++) {
        const last = k === length - 1;
        const ops = v.s.dimension === 0 ? ['lo', 'hi', 'step', 'transpose'] : ['lo', 'hi', 'step', 'transpose', 'pick'];
        const op = oneOf(ops);
        const args = randomArgs(op, v.s, last);
        what += ` .${op}(${fmt(args)})`;
        v = apply(v, (x) => x[op](...args));
        elements += agree(v, `chain ${chain}: ${what}`);
        checks++;
      }
      agreeSet(v, `chain ${chain}: ${what}`);
    }
    assert.ok(checks > 8000 && elements > 10000, `${checks} views, ${elements} elements`);
  });

  it('0-d views: pick() gives scijs\'s empty view of dimension -1, valueOf() the element', function () {
    let checked = 0;
    for (const base of BASES.filter((b) => !b.shape.includes(0))) {
      const v = apply(views(base), (x) => x.pick(...base.shape.map(() => 0)));
      assert.equal(+v.w, +v.s, `${base.what}: valueOf`);
      const w = v.w.pick();
      const s = v.s.pick();
      for (const k of ['dimension', 'size', 'dtype']) assert.equal(w[k], s[k], `${base.what}: ${k}`);
      for (const k of ['shape', 'stride', 'order']) assert.deepEqual(w[k], s[k], `${base.what}: ${k}`);
      assert.equal(w.index(), s.index());
      assert.equal(w.get(), s.get());
      assert.equal(w.pick(), s.pick());
      for (const op of ['lo', 'hi', 'step', 'transpose']) assert.equal(w[op]().dimension, s[op]().dimension);
      checked++;
    }
    assert.ok(checked > 50);
  });

  it('set() with more or fewer arguments than dimensions writes what scijs writes', function () {
    let checked = 0;
    for (const base of BASES.filter((b) => b.shape.length >= 2)) {
      for (const args of [[1, 1, 7, 8], [1, 7], [0, 0, 0, 0, 5]]) {
        // Each writes into its own copy of the data; both must write the same value at the same index.
        const a = views(base);
        const b = views(base);
        assert.equal(a.w.set(...args), b.s.set(...args), `${base.what}: set(${args})`);
        assert.deepEqual(a.values, b.values, `${base.what}: set(${args}) data`);
        checked++;
      }
    }
    assert.ok(checked > 100);
    // 2-d: scijs takes the value after the last index
    const v = views({ shape: [3, 4], stride: [4, 1], offset: 0, length: 12 });
    assert.equal(v.w.set(1, 1, 7, 8), 'wrote 5');
    assert.equal(v.values[5], 7);
  });
});
