// Printing arrays as numpy does: repr() (`memmap([[0., 1.], …], dtype=float32)`)
// and str() (`[[0. 1.] …]`), numpy 2's rules (arrayprint.py): line width 75,
// summarised with `...` past 1000 elements (3 at each edge), floats in the
// shortest form that round-trips their own type, at most 8 fractional digits,
// scientific notation when the magnitudes call for it. Only the elements shown
// are read: the caller fetches them by coordinates, in one call.
//
// No Array.prototype method, spread or for-of: printing runs in any REPL,
// including one where someone patched those (their code would run per element).
import { appendOwn } from './options';
import type { DType } from './dtype';
import { halfToNumber, numberToHalf } from './float16';

const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const PRECISION = 8;
/** The most elements one print reads (6 per axis of 7 or more: about 7 such axes). */
const MAX_SHOWN = 1 << 20;

/** What is printed: the shape, the dtype, and the shown elements' values by coordinates. */
export interface Printable {
  shape: readonly number[];
  dtype: DType;
  /** Values at coords[0][k], coords[1][k], …, one Float64Array per axis: value(k) is the k-th. */
  fetch(coords: Float64Array[]): (k: number) => unknown;
}

const isComplex = (v: unknown): v is { re: number; im: number } => typeof v === 'object' && v !== null;

// ---- numbers -------------------------------------------------------------

/**
 * x.toExponential(p) rounding an exact tie to even, as numpy's dragon4 does
 * (JavaScript rounds it up: 4.0625 to 3 digits is 4.063 there, 4.062 in numpy).
 */
function toExp(x: number, p: number): string {
  const up = x.toExponential(p);
  if (p >= 99) return up;
  const long = x.toExponential(Math.min(100, p + 25));
  const e = long.slice(long.indexOf('e') + 1);
  const digits = long.slice(0, long.indexOf('e')).replace('-', '').replace('.', '');
  // A tie: exactly 5 after the kept digits, then zeros; the kept last digit odd rounds up (JS did), even stays.
  if (!/^50*$/.test(digits.slice(p + 1))) return up;
  if (Number(digits[p]) % 2 === 1) return up;
  const kept = digits.slice(0, p + 1);
  return `${x < 0 ? '-' : ''}${kept[0]}${p > 0 ? '.' + kept.slice(1) : ''}e${e}`;
}

/** x.toFixed(p) rounding an exact tie to even (see toExp()). */
function toFix(x: number, p: number): string {
  const up = x.toFixed(p);
  const long = x.toFixed(Math.min(100, p + 25));
  const rest = long.slice(long.indexOf('.') + 1 + p);
  if (!/^50*$/.test(rest)) return up;
  const kept = long.slice(0, long.indexOf('.') + 1 + p);
  return Number(kept[kept.length - 1]) % 2 === 0 ? kept.replace(/\.$/, '') : up;
}

type Bits = 16 | 32 | 64;

/** Shortest decimal that reads back as the same value of the element's own float type: its digits and exponent. */
function shortest(x: number, bits: Bits): { digits: string; exp: number } {
  let s: string | undefined;
  if (bits === 64) s = x.toExponential();
  else {
    for (let p = 0; p < 17 && s === undefined; p++) {
      const t = toExp(x, p);
      const v = Number(t);
      if (bits === 32 ? Math.fround(v) === x : halfToNumber(numberToHalf(v)) === x) s = t;
    }
    s ??= x.toExponential();
  }
  const at = s.indexOf('e');
  return { digits: s.slice(0, at).replace('-', '').replace('.', ''), exp: Number(s.slice(at + 1)) };
}

const negative = (x: number) => x < 0 || Object.is(x, -0);

/** Integer and fractional digits in positional form: the shortest round-trip digits, at most PRECISION fractional ones. */
function positional(x: number, bits: Bits, sign: boolean): { int: string; frac: string } {
  const { digits, exp } = shortest(Math.abs(x), bits);
  let text: string;
  if (digits.length - 1 - exp > PRECISION) {
    // More fractional digits than the precision: the exact value rounded there, as dragon4.
    text = toFix(Math.abs(x), PRECISION).replace(/0+$/, '');
  } else if (exp >= 0) {
    const intDigits = digits.padEnd(exp + 1, '0');
    text = intDigits.slice(0, exp + 1) + '.' + intDigits.slice(exp + 1);
  } else text = '0.' + '0'.repeat(-exp - 1) + digits;
  if (text.indexOf('.') < 0) text += '.';
  const dot = text.indexOf('.');
  return { int: (negative(x) ? '-' : sign ? '+' : '') + text.slice(0, dot), frac: text.slice(dot + 1) };
}

/** Scientific form: the shortest round-trip mantissa, at most PRECISION digits after the point. */
function scientific(x: number, bits: Bits, sign: boolean): { int: string; frac: string; exp: number } {
  const a = Math.abs(x);
  let { digits, exp } = shortest(a, bits);
  if (digits.length - 1 > PRECISION) {
    const t = toExp(a, PRECISION);
    digits = t.slice(0, t.indexOf('e')).replace('.', '').replace(/0+$/, '') || '0';
    exp = Number(t.slice(t.indexOf('e') + 1));
  }
  return { int: (negative(x) ? '-' : sign ? '+' : '') + digits[0], frac: digits.slice(1), exp };
}

/** numpy's FloatingFormat (floatmode 'maxprec', precision 8) over the `count` shown values `value(k)`. */
function floatFormatter(count: number, value: (k: number) => number, bits: Bits, sign: boolean): (x: number) => string {
  let finite = 0;
  let max = 0;
  let min = Infinity;
  let negInf = sign;
  for (let k = 0; k < count; k++) {
    const v = value(k);
    if (!Number.isFinite(v)) {
      if (v === -Infinity) negInf = true;
      continue;
    }
    finite++;
    const a = Math.abs(v);
    if (a !== 0) {
      if (a > max) max = a;
      if (a < min) min = a;
    }
  }
  // numpy >= 2.2: scientific from 10**min(8, precision of the type) (float16 1e3, float32 1e6, float64 1e8).
  const cutoff = bits === 16 ? 1e3 : bits === 32 ? 1e6 : 1e8;
  const expFormat = min !== Infinity && (max >= cutoff || min < 0.0001 || max / min > 1000);
  let padLeft = 0;
  let padRight = 0;
  let precision = 0;
  let expSize = 2;
  for (let k = 0; k < count; k++) {
    const v = value(k);
    if (!Number.isFinite(v)) continue;
    if (expFormat) {
      const p = scientific(v, bits, sign);
      precision = Math.max(precision, p.frac.length);
      expSize = Math.max(expSize, String(Math.abs(p.exp)).length);
      padLeft = Math.max(padLeft, p.int.length);
    } else {
      const p = positional(v, bits, sign);
      padLeft = Math.max(padLeft, p.int.length);
      padRight = Math.max(padRight, p.frac.length);
    }
  }
  if (expFormat) padRight = expSize + 2 + precision;
  if (finite !== count) padLeft = Math.max(padLeft, 3 - (padRight + 1), 3 + (negInf ? 1 : 0) - (padRight + 1));
  return (x) => {
    if (!Number.isFinite(x)) {
      const ret = Number.isNaN(x) ? (sign ? '+nan' : 'nan') : (x < 0 ? '-' : sign ? '+' : '') + 'inf';
      return ret.padStart(padLeft + padRight + 1);
    }
    if (expFormat) {
      // Every element with `precision` digits: past its shortest ones, the exact value's (numpy's min_digits).
      const t = toExp(Math.abs(x), precision);
      const m = t.slice(0, t.indexOf('e'));
      const exp = Number(t.slice(t.indexOf('e') + 1));
      const dot = m.indexOf('.');
      const int = (negative(x) ? '-' : sign ? '+' : '') + (dot < 0 ? m : m.slice(0, dot));
      const frac = dot < 0 ? '' : m.slice(dot + 1);
      return int.padStart(padLeft) + '.' + frac + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(expSize, '0');
    }
    const p = positional(x, bits, sign);
    return p.int.padStart(padLeft) + '.' + p.frac.padEnd(padRight);
  };
}

const bitsOf = (dt: DType): Bits => (dt.kind === 'c' ? dt.itemsize * 4 : dt.itemsize * 8) as Bits;

/** The element formatter numpy would choose for the `count` shown values `value(k)`. */
function formatterFor(dt: DType, count: number, value: (k: number) => unknown): (v: unknown) => string {
  if (dt.kind === 'b') return (v) => (v ? ' True' : 'False');
  if (dt.kind === 'i' || dt.kind === 'u') {
    let width = 0;
    for (let k = 0; k < count; k++) width = Math.max(width, String(value(k)).length);
    return (v) => String(v).padStart(width);
  }
  const bits = bitsOf(dt);
  if (dt.kind === 'f') {
    const f = floatFormatter(count, value as (k: number) => number, bits, false);
    return (v) => f(v as number);
  }
  const part = (k: number, re: boolean) => {
    const c = value(k);
    return isComplex(c) ? (re ? c.re : c.im) : NaN;
  };
  const re = floatFormatter(count, (k) => part(k, true), bits, false);
  const im = floatFormatter(count, (k) => part(k, false), bits, true);
  return (v) => {
    const c = isComplex(v) ? v : { re: NaN, im: NaN };
    const i = im(c.im);
    const sp = i.trimEnd().length;
    return re(c.re) + i.slice(0, sp) + 'j' + i.slice(sp);
  };
}

// ---- layout (numpy's _formatArray) ---------------------------------------

/** The shown grid: per axis, how many positions are shown, and which. */
interface Grid {
  shape: readonly number[];
  summarise: boolean;
  /** Positions shown along axis d. */
  count(d: number): number;
  /** The j-th shown position along axis d. */
  position(d: number, j: number): number;
}

function gridOf(shape: readonly number[], summarise: boolean): Grid {
  const cut = (n: number) => summarise && n > 2 * EDGE_ITEMS;
  return {
    shape,
    summarise,
    count: (d) => (cut(shape[d]) ? 2 * EDGE_ITEMS : shape[d]),
    position: (d, j) => (cut(shape[d]) && j >= EDGE_ITEMS ? shape[d] - 2 * EDGE_ITEMS + j : j),
  };
}

/** The text so far and the line being filled. */
interface Lines {
  s: string;
  line: string;
}

/** Adds `word` to the line, wrapping first when it would pass `width`. */
function extendLine(t: Lines, word: string, width: number, prefix: string): void {
  let wrap = t.line.length + word.length > width;
  if (t.line.length <= prefix.length) wrap = false; // wrapping would not help
  if (wrap) {
    t.s += t.line.trimEnd() + '\n';
    t.line = prefix;
  }
  t.line += word;
}

/** numpy's _formatArray over the shown grid; `element(k)` formats the k-th shown element (C order of the grid). */
function layout(grid: Grid, element: (k: number) => string, separator: string, prefix: string, lineWidth: number): string {
  const ndim = grid.shape.length;
  const sepTrim = separator.trimEnd();
  const recurse = (axis: number, base: number, hanging: string, width: number): string => {
    const left = ndim - axis;
    if (left === 0) return element(base);
    const nextHanging = hanging + ' ';
    const nextWidth = width - 1;
    const shown = grid.count(axis);
    const summary = grid.summarise && shown < grid.shape[axis];
    // Shown positions 0..shown-1: with a summary, `...` goes between the first and the last EDGE_ITEMS.
    const child = (j: number) => recurse(axis + 1, base * shown + j, nextHanging, nextWidth);
    let s = '';
    if (left === 1) {
      const elemWidth = width - Math.max(sepTrim.length, 1);
      const t: Lines = { s: '', line: hanging };
      for (let j = 0; j < shown - 1; j++) {
        extendLine(t, child(j), elemWidth, hanging);
        t.line += separator;
        if (summary && j === EDGE_ITEMS - 1) {
          extendLine(t, '...', elemWidth, hanging);
          t.line += separator;
        }
      }
      extendLine(t, child(shown - 1), elemWidth, hanging);
      s = t.s + t.line;
    } else {
      const lineSep = sepTrim + '\n'.repeat(left - 1);
      for (let j = 0; j < shown - 1; j++) {
        s += hanging + child(j) + lineSep;
        if (summary && j === EDGE_ITEMS - 1) s += hanging + '...' + lineSep;
      }
      s += hanging + child(shown - 1);
    }
    return '[' + s.slice(hanging.length) + ']';
  };
  return recurse(0, 0, ' '.repeat(prefix.length + 1), lineWidth);
}

function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (let d = 0; d < shape.length; d++) size *= shape[d];
  return size;
}

/** The shown elements' coordinates (C order of the grid), one Float64Array per axis. */
function coordinatesOf(grid: Grid, shown: number): Float64Array[] {
  const ndim = grid.shape.length;
  const coords: Float64Array[] = [];
  for (let d = 0; d < ndim; d++) appendOwn(coords, new Float64Array(shown));
  for (let k = 0; k < shown; k++) {
    let rest = k;
    for (let d = ndim - 1; d >= 0; d--) {
      const n = grid.count(d);
      coords[d][k] = grid.position(d, rest % n);
      rest = Math.floor(rest / n);
    }
  }
  return coords;
}

/** numpy's array2string of `a` with `separator`, for a repr/str starting with `prefix`. */
function arrayToString(a: Printable, separator: string, prefix: string, suffix: string): string {
  const size = sizeOf(a.shape);
  if (size === 0) return '[]';
  const grid = gridOf(a.shape, size > THRESHOLD);
  let shown = 1;
  for (let d = 0; d < a.shape.length; d++) shown *= grid.count(d);
  // Many axes of 7 or more (6 shown each) would show more than anyone reads; numpy would try.
  if (shown > MAX_SHOWN) return `[… ${shown} elements would be shown: too many to print]`;
  const value = a.fetch(coordinatesOf(grid, shown));
  const format = formatterFor(a.dtype, shown, value);
  return layout(grid, (k) => format(value(k)), separator, prefix, LINE_WIDTH - suffix.length);
}

/** numpy's dtype in repr(): its name when native ('float32'), quoted type string otherwise ("'>f8'"). */
export function dtypeRepr(dt: DType): string {
  return dt.isNative ? dt.name : `'${dt.descr}'`;
}

/** Python's repr() of a shape tuple: `(3,)`, `(2, 3)`. */
export function tupleRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  let s = '(';
  for (let d = 0; d < shape.length; d++) s += (d > 0 ? ', ' : '') + shape[d];
  return s + ')';
}

/** numpy's default dtypes, which repr() leaves out. */
const implied = (dt: DType) => dt.isNative && (dt.name === 'float64' || dt.name === 'int64' || dt.name === 'bool' || dt.name === 'complex128');

/** numpy's repr() of the array, as `memmap(…)`. */
export function reprOf(a: Printable, className = 'memmap'): string {
  const prefix = `${className}(`;
  const lst = arrayToString(a, ', ', prefix, ')');
  const size = sizeOf(a.shape);
  let extras = '';
  if ((size === 0 && !(a.shape.length === 1 && a.shape[0] === 0)) || size > THRESHOLD) extras = `shape=${tupleRepr(a.shape)}`;
  if (!implied(a.dtype) || size === 0) extras += (extras ? ', ' : '') + `dtype=${dtypeRepr(a.dtype)}`;
  if (extras === '') return prefix + lst + ')';
  const head = prefix + lst + ',';
  const tail = extras + ')';
  const lastLine = head.length - (head.lastIndexOf('\n') + 1);
  const spacer = lastLine + tail.length + 1 > LINE_WIDTH ? '\n' + ' '.repeat(prefix.length) : ' ';
  return head + spacer + tail;
}

/** numpy's str() of the array: `[[0. 1.]\n [2. 3.]]`; of a 0-d array, its scalar's str(). */
export function strOf(a: Printable): string {
  if (a.shape.length === 0) return scalarStr(a.dtype, a.fetch([])(0));
  return arrayToString(a, ' ', '', '');
}

/** Python's repr() of a float of `bits` bits: shortest digits, positional from 1e-4 to 1e16, else 1e-05 style. */
function floatRepr(x: number, bits: Bits, dot0: boolean): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const sign = negative(x) ? '-' : '';
  const a = Math.abs(x);
  const { digits, exp } = shortest(a, bits);
  if (a === 0 || (a >= 1e-4 && a < 1e16)) {
    let text: string;
    if (exp >= 0) {
      const intDigits = digits.padEnd(exp + 1, '0');
      const frac = intDigits.slice(exp + 1);
      text = intDigits.slice(0, exp + 1) + (frac ? '.' + frac : dot0 ? '.0' : '');
    } else text = '0.' + '0'.repeat(-exp - 1) + digits;
    return sign + text;
  }
  const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  return `${sign}${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** numpy's str() of one element (a 0-d array): Python's str of the scalar. */
function scalarStr(dt: DType, v: unknown): string {
  if (dt.kind === 'b') return v ? 'True' : 'False';
  if (dt.kind === 'i' || dt.kind === 'u') return String(v);
  const bits = bitsOf(dt);
  if (dt.kind === 'f') return floatRepr(v as number, bits, true);
  const c = isComplex(v) ? v : { re: NaN, im: NaN };
  const im = floatRepr(c.im, bits, false);
  if (c.re === 0) return `${im}j`;
  return `(${floatRepr(c.re, bits, false)}${im[0] === '-' ? '' : '+'}${im}j)`;
}
