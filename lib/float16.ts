// IEEE 754 binary16 <-> Number, rounding to nearest-even as numpy does.

function roundHalfEven(x: number): number {
  const n = Math.floor(x);
  const r = x - n;
  if (r > 0.5 || (r === 0.5 && n % 2 === 1)) return n + 1;
  return n;
}

export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a === Infinity) return sign | 0x7c00;
  // Subnormal range: units of 2^-24, exact because scaling by a power of two is exact.
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  if (e > 15) return sign | 0x7c00;
  let m = roundHalfEven(a / 2 ** (e - 10));
  if (m === 2048) {
    m = 1024;
    e++;
    if (e > 15) return sign | 0x7c00;
  }
  return sign | ((e + 15) << 10) | (m - 1024);
}
