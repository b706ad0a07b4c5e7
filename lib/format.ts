// Printing arrays as numpy does: repr() (`memmap([[0., 1.], …], dtype=float32)`)
// and str() (`[[0. 1.] …]`), numpy 2's rules (arrayprint.py): line width 75,
// summarised with `...` past 1000 elements (3 at each edge), floats in the
// shortest form that round-trips their own type, at most 8 fractional digits,
// scientific notation when the magnitudes call for it. Only the elements shown
// are read: the caller fetches them by coordinates.
import type { DType } from './dtype';
import { halfToNumber, numberToHalf } from './float16';

const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const PRECISION = 8;
/** The most elements one print reads (6 per axis of 7 or more: about 10 such axes). */
const MAX_SHOWN = 1 << 20;

/** numpy's default dtypes, which repr() leaves out. */
const IMPLIED = new Set(['float64', 'int64', 'bool', 'complex128']);

/** What is printed: the shape, the dtype, and the shown elements' values by coordinates. */
export interface Printable {
  shape: readonly number[];
  dtype: DType;
  /** Values at coords[0][k], coords[1][k], … (one array per axis, one length). */
  fetch(coords: number[][]): unknown[];
}

/** Positions shown along an axis of length n: all, or the first and last EDGE_ITEMS when summarising. */
function shownPositions(n: number, summarise: boolean): number[] {
  if (!summarise || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let i = 0; i < EDGE_ITEMS; i++) out.push(i);
  for (let i = n - EDGE_ITEMS; i < n; i++) out.push(i);
  return out;
}

// ---- numbers -------------------------------------------------------------

/**
 * x.toExponential(p) rounding an exact tie to even, as numpy's dragon4 does
 * (JavaScript rounds it up: 4.0625 to 3 digits is 4.063 there, 4.062 in numpy).
 */
function toExp(x: number, p: number): string {
  const up = x.toExponential(p);
  if (p >= 99) return up;
  const [m, e] = x.toExponential(Math.min(100, p + 25)).split('e');
  const digits = m.replace('-', '').replace('.', '');
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

/** Shortest decimal that reads back as the same value of the element's own float type: [digits, exponent]. */
function shortest(x: number, bits: 16 | 32 | 64): [string, number] {
  let s: string | undefined;
  if (bits === 64) s = x.toExponential();
  else {
    const same = bits === 32 ? (v: number) => Math.fround(v) === x : (v: number) => halfToNumber(numberToHalf(v)) === x;
    for (let p = 0; p < 17 && s === undefined; p++) {
      const t = toExp(x, p);
      if (same(Number(t))) s = t;
    }
    s ??= x.toExponential();
  }
  const [mant, exp] = s.split('e');
  return [mant.replace('-', '').replace('.', ''), Number(exp)];
}

/** Integer and fractional digits in positional form: the shortest round-trip digits, at most PRECISION fractional ones. */
function positional(x: number, bits: 16 | 32 | 64, sign: boolean): { int: string; frac: string } {
  const neg = x < 0 || Object.is(x, -0);
  const [digits, exp] = shortest(Math.abs(x), bits);
  let text: string;
  if (digits.length - 1 - exp > PRECISION) {
    // More fractional digits than the precision: the exact value rounded there, as dragon4.
    text = toFix(Math.abs(x), PRECISION).replace(/0+$/, '');
  } else if (exp >= 0) {
    const intDigits = digits.padEnd(exp + 1, '0');
    text = intDigits.slice(0, exp + 1) + '.' + intDigits.slice(exp + 1);
  } else text = '0.' + '0'.repeat(-exp - 1) + digits;
  if (!text.includes('.')) text += '.';
  const [i, f] = text.split('.');
  return { int: (neg ? '-' : sign ? '+' : '') + i, frac: f };
}

/** Scientific form: the shortest round-trip mantissa, at most `precision` digits after the point. */
function scientific(x: number, bits: 16 | 32 | 64, sign: boolean, precision: number): { int: string; frac: string; exp: number } {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  const [digits0, exp0] = shortest(a, bits);
  let digits = digits0;
  let exp = exp0;
  if (digits.length - 1 > precision) {
    const [m, e] = toExp(a, precision).split('e');
    digits = m.replace('.', '').replace(/0+$/, '') || '0';
    exp = Number(e);
  }
  return { int: (neg ? '-' : sign ? '+' : '') + digits[0], frac: digits.slice(1), exp };
}

/** numpy's FloatingFormat (floatmode 'maxprec', precision 8) over the shown values. */
function floatFormatter(values: number[], bits: 16 | 32 | 64, sign: boolean): (x: number) => string {
  const finite = values.filter((v) => Number.isFinite(v));
  const nonZero = finite.filter((v) => v !== 0).map(Math.abs);
  let expFormat = false;
  if (nonZero.length > 0) {
    const max = Math.max(...nonZero);
    const min = Math.min(...nonZero);
    expFormat = max >= 1e8 || min < 0.0001 || max / min > 1000;
  }
  let padLeft = 0;
  let padRight = 0;
  let precision = PRECISION;
  let expSize = -1;
  if (finite.length > 0 && expFormat) {
    const parts = finite.map((v) => scientific(v, bits, sign, PRECISION));
    precision = Math.max(...parts.map((p) => p.frac.length));
    expSize = Math.max(...parts.map((p) => String(Math.abs(p.exp)).length), 2);
    padLeft = Math.max(...parts.map((p) => p.int.length));
    padRight = expSize + 2 + precision;
  } else if (finite.length > 0) {
    const parts = finite.map((v) => positional(v, bits, sign));
    padLeft = Math.max(...parts.map((p) => p.int.length));
    padRight = Math.max(...parts.map((p) => p.frac.length));
  }
  if (finite.length !== values.length) {
    const negInf = sign || values.some((v) => v === -Infinity);
    padLeft = Math.max(padLeft, 3 - (padRight + 1), 3 + (negInf ? 1 : 0) - (padRight + 1));
  }
  return (x) => {
    if (!Number.isFinite(x)) {
      const ret = Number.isNaN(x) ? (sign ? '+nan' : 'nan') : (x < 0 ? '-' : sign ? '+' : '') + 'inf';
      return ' '.repeat(Math.max(padLeft + padRight + 1 - ret.length, 0)) + ret;
    }
    if (expFormat) {
      // Every element with `precision` digits: past its shortest ones, the exact value's (numpy's min_digits).
      const [m, ex] = toExp(Math.abs(x), precision).split('e');
      const exp = Number(ex);
      const int = (x < 0 || Object.is(x, -0) ? '-' : sign ? '+' : '') + m.split('.')[0];
      const frac = m.split('.')[1] ?? '';
      return int.padStart(padLeft) + '.' + frac + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(expSize, '0');
    }
    const p = positional(x, bits, sign);
    return p.int.padStart(padLeft) + '.' + p.frac.padEnd(padRight);
  };
}

/** The element formatter numpy would choose for these shown values. */
function formatterFor(dt: DType, values: unknown[]): (v: unknown) => string {
  if (dt.kind === 'b') return (v) => (v ? ' True' : 'False');
  if (dt.kind === 'i' || dt.kind === 'u') {
    const width = Math.max(0, ...values.map((v) => String(v).length));
    return (v) => String(v).padStart(width);
  }
  const bits = (dt.kind === 'c' ? dt.itemsize * 4 : dt.itemsize * 8) as 16 | 32 | 64;
  if (dt.kind === 'f') {
    const f = floatFormatter(values as number[], bits, false);
    return (v) => f(v as number);
  }
  const cs = values as { re: number; im: number }[];
  const re = floatFormatter(cs.map((c) => c.re), bits, false);
  const im = floatFormatter(cs.map((c) => c.im), bits, true);
  return (v) => {
    const c = v as { re: number; im: number };
    const i = im(c.im);
    const sp = i.trimEnd().length;
    return re(c.re) + i.slice(0, sp) + 'j' + i.slice(sp);
  };
}

// ---- layout (numpy's _formatArray) ---------------------------------------

function extendLine(s: string, line: string, word: string, width: number, prefix: string): [string, string] {
  let wrap = line.length + word.length > width;
  if (line.length <= prefix.length) wrap = false; // wrapping would not help
  if (wrap) {
    s += line.trimEnd() + '\n';
    line = prefix;
  }
  return [s, line + word];
}

function layout(shape: readonly number[], element: (index: number[]) => string, separator: string, prefix: string, summarise: boolean, lineWidth: number): string {
  const ndim = shape.length;
  const recurse = (index: number[], hanging: string, width: number): string => {
    const axis = index.length;
    const left = ndim - axis;
    if (left === 0) return element(index);
    const nextHanging = hanging + ' ';
    const nextWidth = width - 1;
    const n = shape[axis];
    const summary = summarise && 2 * EDGE_ITEMS < n;
    const leading = summary ? EDGE_ITEMS : 0;
    const trailing = summary ? EDGE_ITEMS : n;
    let s = '';
    if (left === 1) {
      const elemWidth = width - Math.max(separator.trimEnd().length, 1);
      let line = hanging;
      for (let i = 0; i < leading; i++) {
        [s, line] = extendLine(s, line, recurse([...index, i], nextHanging, nextWidth), elemWidth, hanging);
        line += separator;
      }
      if (summary) {
        [s, line] = extendLine(s, line, '...', elemWidth, hanging);
        line += separator;
      }
      for (let i = trailing; i > 1; i--) {
        [s, line] = extendLine(s, line, recurse([...index, n - i], nextHanging, nextWidth), elemWidth, hanging);
        line += separator;
      }
      [s, line] = extendLine(s, line, recurse([...index, n - 1], nextHanging, nextWidth), elemWidth, hanging);
      s += line;
    } else {
      const lineSep = separator.trimEnd() + '\n'.repeat(left - 1);
      for (let i = 0; i < leading; i++) s += hanging + recurse([...index, i], nextHanging, nextWidth) + lineSep;
      if (summary) s += hanging + '...' + lineSep;
      for (let i = trailing; i > 1; i--) s += hanging + recurse([...index, n - i], nextHanging, nextWidth) + lineSep;
      s += hanging + recurse([...index, n - 1], nextHanging, nextWidth);
    }
    return '[' + s.slice(hanging.length) + ']';
  };
  return recurse([], ' '.repeat(prefix.length + 1), lineWidth);
}

/** numpy's array2string of `a` with `separator`, for a repr/str starting with `prefix`. */
function arrayToString(a: Printable, separator: string, prefix: string, suffix: string): string {
  const { shape, dtype } = a;
  const size = shape.reduce((p, n) => p * n, 1);
  if (size === 0) return '[]';
  const summarise = size > THRESHOLD;
  // The shown elements: the product of the shown positions of every axis, fetched at once.
  const positions = shape.map((n) => shownPositions(n, summarise));
  // Many axes of 7 or more (6 shown each) would show more than anyone reads; numpy would try.
  const shown = positions.reduce((p, q) => p * q.length, 1);
  if (shown > MAX_SHOWN) return `[… ${shown} elements would be shown: too many to print]`;
  const coords: number[][] = shape.map(() => []);
  const key = (index: readonly number[]) => index.join(',');
  const at = new Map<string, number>();
  const walk = (axis: number, index: number[]) => {
    if (axis === shape.length) {
      at.set(key(index), coords[0]?.length ?? 0);
      index.forEach((i, d) => coords[d].push(i));
      if (shape.length === 0) at.set('', 0);
      return;
    }
    for (const i of positions[axis]) walk(axis + 1, [...index, i]);
  };
  walk(0, []);
  const values = a.fetch(coords);
  const format = formatterFor(dtype, values);
  const element = (index: number[]) => format(values[at.get(key(index)) as number]);
  return layout(shape, element, separator, prefix, summarise, LINE_WIDTH - suffix.length);
}

/** numpy's dtype in repr(): its name when native ('float32'), quoted type string otherwise ("'>f8'"). */
export function dtypeRepr(dt: DType): string {
  return dt.isNative ? dt.name : `'${dt.descr}'`;
}

const tupleRepr = (shape: readonly number[]) => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`);

/** numpy's repr() of the array, as `memmap(…)`. */
export function reprOf(a: Printable, className = 'memmap'): string {
  const prefix = `${className}(`;
  const lst = arrayToString(a, ', ', prefix, ')');
  const size = a.shape.reduce((p, n) => p * n, 1);
  const extras: string[] = [];
  if ((size === 0 && !(a.shape.length === 1 && a.shape[0] === 0)) || size > THRESHOLD) extras.push(`shape=${tupleRepr(a.shape)}`);
  if (!IMPLIED.has(a.dtype.name) || !a.dtype.isNative || size === 0) extras.push(`dtype=${dtypeRepr(a.dtype)}`);
  if (extras.length === 0) return prefix + lst + ')';
  const head = prefix + lst + ',';
  const tail = extras.join(', ') + ')';
  const lastLine = head.length - (head.lastIndexOf('\n') + 1);
  const spacer = lastLine + tail.length + 1 > LINE_WIDTH ? '\n' + ' '.repeat(prefix.length) : ' ';
  return head + spacer + tail;
}

/** numpy's str() of the array: `[[0. 1.]\n [2. 3.]]`; of a 0-d array, its scalar's str(). */
export function strOf(a: Printable): string {
  if (a.shape.length === 0) return scalarStr(a.dtype, a.fetch([])[0]);
  return arrayToString(a, ' ', '', '');
}

/** Python's repr() of a float of `bits` bits: shortest digits, positional from 1e-4 to 1e16, else 1e-05 style. */
function floatRepr(x: number, bits: 16 | 32 | 64, dot0: boolean): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  const [digits, exp] = shortest(a, bits);
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
  const bits = (dt.kind === 'c' ? dt.itemsize * 4 : dt.itemsize * 8) as 16 | 32 | 64;
  if (dt.kind === 'f') return floatRepr(v as number, bits, true);
  const c = v as { re: number; im: number };
  const im = floatRepr(c.im, bits, false);
  if (c.re === 0) return `${im}j`;
  return `(${floatRepr(c.re, bits, false)}${im.startsWith('-') ? '' : '+'}${im}j)`;
}
