# The numpy side of the value cross-checks, imported by every python script a
# test runs through numpyJSON() (test/helpers/numpy.js): test values for any
# dtype, raw files the way np.memmap lays them out, and one JSON encoding of
# values that numpy.js decodes (fromNumpy) and produces (toNumpy).
import json
import sys

import numpy as np

FLOAT_SPECIALS = ('nan', 'inf', '-inf', '-0', 'subnormal', 'tiny', 'max', '1.5')


def _special(name, real):
    info = np.finfo(real)
    return {'nan': np.nan, 'inf': np.inf, '-inf': -np.inf, '-0': -0.0, 'subnormal': info.tiny / 4,
            'tiny': info.tiny, 'max': info.max, '1.5': 1.5}[name]


def values(dt, n, rng, full=True):
    """n values of dtype dt, drawn from rng (np.random.default_rng).

    full: the dtype's whole range. Integers start with the dtype's min and max;
    floats (and each part of a complex) hold nan, inf, -inf, -0.0, a subnormal,
    the smallest normal, max and 1.5 (shuffled for complex), the rest random
    over 16 decades. Otherwise small values whose sums stay exact enough to
    compare: integers within +-1000, floats and complex parts ~ N(0, 100).
    """
    dt = np.dtype(dt)
    k = dt.kind
    if k == 'b':
        return rng.integers(0, 2, n).astype(dt)
    if k in 'iu':
        info = np.iinfo(dt)
        if not full:
            return rng.integers(max(info.min, -1000), min(info.max, 1000), n, endpoint=True).astype(dt)
        v = rng.integers(info.min, info.max, n, endpoint=True, dtype=np.dtype(dt.char))
        v[:2] = [info.min, info.max][:len(v[:2])]
        return v.astype(dt)
    real = 'f%d' % (dt.itemsize // 2 if k == 'c' else dt.itemsize)

    def part():
        if not full:
            return (rng.standard_normal(n) * 100).astype(real)
        v = (rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)).astype(real)
        special = np.array([_special(s, real) for s in FLOAT_SPECIALS], dtype=real)
        v[:min(n, len(special))] = special[:n]
        return rng.permutation(v) if k == 'c' else v

    if k == 'c':
        return (part() + 1j * part()).astype(dt)
    return part().astype(dt)


def write_raw(path, a, order='C', offset=0, pad=b'\x00'):
    """Writes `offset` bytes of padding (pad repeated, or pad(i) for byte i), then a's bytes in `order`."""
    with open(path, 'wb') as f:
        f.write(bytes(pad(i) for i in range(offset)) if callable(pad) else pad * offset)
        f.write(np.asarray(a).tobytes(order=order))


def _num(x):
    x = float(x)
    if x != x:
        return 'nan'
    if x in (float('inf'), float('-inf')):
        return 'inf' if x > 0 else '-inf'
    return x


def encode(a):
    """a's values in C order as JSON: bools, ints (8-byte ones as decimal strings),
    floats (nan/inf/-inf as strings), complex as [re, im]."""
    a = np.asarray(a)
    k, size = a.dtype.kind, a.dtype.itemsize
    flat = a.ravel(order='C')
    if k == 'b':
        return [bool(x) for x in flat.tolist()]
    if k in 'iu':
        return [str(int(x)) if size == 8 else int(x) for x in flat.tolist()]
    if k == 'f':
        return [_num(x) for x in flat.tolist()]
    return [[_num(z.real), _num(z.imag)] for z in flat]


def emit(obj):
    """Prints obj as the script's one JSON document."""
    print(json.dumps(obj))


def args():
    """sys.argv[1:], JSON-decoded where it parses as JSON."""
    out = []
    for s in sys.argv[1:]:
        try:
            out.append(json.loads(s))
        except ValueError:
            out.append(s)
    return out
