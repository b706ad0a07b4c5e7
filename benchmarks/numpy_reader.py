"""One benchmark case with numpy, the reference: the same workloads, files and
counters as worker.js, printed as one JSON line. Usage: numpy_reader.py '<spec json>'

Readers:
  np.memmap   np.memmap(...) and numpy slicing/reductions over it
  np.fromfile np.fromfile(f, count=...) of exactly the bytes needed, one call
              per contiguous run (the scan streams chunk-sized calls)
"""
import base64
import functools
import gc
import json
import os
import re
import resource
import statistics
import sys
import time

_load_start = time.perf_counter_ns()
import numpy as np  # noqa: E402  (timed: the first-call case reports it)
LOAD_NS = time.perf_counter_ns() - _load_start


def workload_params(n, overrides):
    # Mirrors workloadParams() in common.js.
    p = dict(row=n // 2, col=n // 2 + 1, rowsStart=n // 4, rowsCount=64, step=64,
             randomCount=4096, seed=12345, chunkBytes=4 << 20, elementCalls=20000, rowCalls=200)
    p.update(overrides or {})
    return p


@functools.lru_cache(maxsize=4)
def random_indices(n, count, seed):
    # xorshift32, as randomIndices() in common.js.
    x = (seed & 0xFFFFFFFF) or 1
    ii = np.empty(count, dtype=np.int64)
    jj = np.empty(count, dtype=np.int64)
    for k in range(count):
        for arr in (ii, jj):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            arr[k] = x % n
    return ii, jj


def element_offsets(workload, n, order, p, rnd):
    """File element offsets the workload needs (random: access order; else file order)."""
    si, sj = (n, 1) if order == 'C' else (1, n)
    if workload == 'open':
        return np.array([p['row'] * si + p['col'] * sj])
    if workload == 'random':
        return rnd[0] * si + rnd[1] * sj
    if workload == 'row':
        i, j = np.array([p['row']]), np.arange(n)
    elif workload == 'col':
        i, j = np.arange(n), np.array([p['col']])
    elif workload == 'rows':
        i, j = np.arange(p['rowsStart'], p['rowsStart'] + p['rowsCount']), np.arange(n)
    elif workload == 'strided':
        i, j = np.arange(0, n, p['step']), np.arange(0, n, p['step'])
    else:
        raise ValueError(workload)
    return np.sort((i[:, None] * si + j[None, :] * sj).ravel())


def runs_of(offsets):
    """[(start, count)] of contiguous element runs, in the given order."""
    if len(offsets) == 0:
        return []
    breaks = np.nonzero(np.diff(offsets) != 1)[0] + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(offsets)]))
    return [(int(offsets[a]), int(b - a)) for a, b in zip(starts, ends)]


def count_of(workload, n, p):
    return {'open': 1, 'scan': n * n, 'row': n, 'col': n, 'rows': p['rowsCount'] * n,
            'strided': (-(-n // p['step'])) ** 2, 'random': p['randomCount']}[workload]


def element_col(n, k):
    return (k * 61) % n  # elementCol() in workloads/compute.js


def row_copies(a, p):
    r = None
    for _ in range(p['rowCalls']):
        r = a[p['row']].copy()
    return r


def one_elements(a, p):
    i, n = p['row'], a.shape[1]
    s = 0.0
    for k in range(p['elementCalls']):
        s += a[i, element_col(n, k)]
    return s


# The compute workloads (workloads/compute.js): name -> (the timed call on the
# array, the float64-accumulated reference for a 'close' match or None).
# 'open-close' is in read_np_memmap: it times the open and drops the mapping.
F64 = np.float64
COMPUTE = {
    'sum': (lambda a, p: a.sum(dtype=F64), None),
    'max-axis0': (lambda a, p: a.max(axis=0), None),
    'min-axis1': (lambda a, p: a.min(axis=1), None),
    'mean-axis0': (lambda a, p: a.mean(axis=0), lambda a: a.mean(axis=0, dtype=F64)),
    'mean-axis1': (lambda a, p: a.mean(axis=1), lambda a: a.mean(axis=1, dtype=F64)),
    'argmax': (lambda a, p: a.argmax(), None),
    'std': (lambda a, p: a.std(), lambda a: a.std(dtype=F64)),
    'row-out': (row_copies, None),
    'get1': (one_elements, None),
}


def read_np_memmap(spec, prep):
    n, p = spec['n'], prep['p']
    a = np.memmap(spec['file'], dtype='<f4', mode='r', shape=(n, n), order=spec['order'])
    prep['keep'] = a
    prep['opened'] = time.perf_counter_ns()
    w = spec['workload']
    if w == 'open-close':
        v = a[0, 1]
        del a, prep['keep']  # the last references: the mapping goes (numpy's close)
        return v
    if w in COMPUTE:
        return COMPUTE[w][0](a, p)
    f64 = np.float64
    if w == 'open':
        return float(a[p['row'], p['col']])
    if w == 'scan':
        return float(a.sum(dtype=f64))
    if w == 'row':
        return float(a[p['row'], :].sum(dtype=f64))
    if w == 'col':
        return float(a[:, p['col']].sum(dtype=f64))
    if w == 'rows':
        return float(a[p['rowsStart']:p['rowsStart'] + p['rowsCount'], :].sum(dtype=f64))
    if w == 'strided':
        return float(a[::p['step'], ::p['step']].sum(dtype=f64))
    if w == 'random':
        return float(a[prep['rnd'][0], prep['rnd'][1]].sum(dtype=f64))
    raise ValueError(w)


def read_np_fromfile(spec, prep):
    n, p = spec['n'], prep['p']
    with open(spec['file'], 'rb', buffering=0) as f:
        prep['opened'] = time.perf_counter_ns()
        if spec['workload'] == 'scan':
            left = n * n
            s = 0.0
            while left > 0:
                count = min(p['chunkBytes'] // 4, left)
                s += float(np.fromfile(f, dtype='<f4', count=count).sum(dtype=np.float64))
                left -= count
            return s
        parts = []
        for start, count in prep['runs']:
            f.seek(start * 4)
            parts.append(np.fromfile(f, dtype='<f4', count=count))
        return float(np.concatenate(parts).sum(dtype=np.float64))


READERS = {'np.memmap': read_np_memmap, 'np.fromfile': read_np_fromfile}


def prepare(spec):
    n = spec['n']
    p = workload_params(n, spec.get('params'))
    prep = {'p': p, 'rnd': None, 'runs': None}
    if spec['workload'] == 'random':
        prep['rnd'] = random_indices(n, p['randomCount'], p['seed'])
    if spec['reader'] == 'np.fromfile' and spec['workload'] != 'scan':
        prep['runs'] = runs_of(element_offsets(spec['workload'], n, spec['order'], p, prep['rnd']))
    return prep


def evict(path):
    """Drops the file from the page cache like memmap's evict(): fdatasync + POSIX_FADV_DONTNEED."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_proc(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('latin1')
    except OSError:
        return ''


def snapshot(when='after'):
    # Fault counters last before the run and first after it, so the
    # snapshot's own reads fall outside the measured interval (as worker.js).
    if when == 'after':
        stat = read_proc('/proc/self/task/%d/stat' % os.getpid())
        ru = resource.getrusage(resource.RUSAGE_SELF)
    io = re.search(r'read_bytes:\s*(\d+)', read_proc('/proc/self/io'))
    status = read_proc('/proc/self/status')
    if when != 'after':
        ru = resource.getrusage(resource.RUSAGE_SELF)
        stat = read_proc('/proc/self/task/%d/stat' % os.getpid())
    fields = stat[stat.rfind(')') + 2:].split(' ')

    def kb(field):
        m = re.search(field + r':\s*(\d+) kB', status)
        return int(m.group(1)) * 1024 if m else None

    return dict(minor=ru.ru_minflt, major=ru.ru_majflt, inblock=ru.ru_inblock,
                threadMinor=int(fields[7]), threadMajor=int(fields[9]),
                ioRead=int(io.group(1)) if io else None,
                rss=kb('VmRSS'), rssFile=kb('RssFile'), rssAnon=kb('RssAnon'))


def delta(a, b):
    def d(k):
        return None if a[k] is None or b[k] is None else b[k] - a[k]
    return dict(minorFaults=d('minor'), majorFaults=d('major'),
                threadMinorFaults=d('threadMinor'), threadMajorFaults=d('threadMajor'),
                inblockBytes=d('inblock') * 512, ioReadBytes=d('ioRead'),
                rssGrowth=d('rss'), rssFileGrowth=d('rssFile'), rssAnonGrowth=d('rssAnon'))


def f64_base64(x):
    return base64.b64encode(np.ascontiguousarray(x, dtype='<f8').tobytes()).decode('ascii')


def p_calls(w, spec):
    """Calls per repetition (calls() in workloads/compute.js)."""
    p = workload_params(spec['n'], spec.get('params'))
    return {'row-out': p['rowCalls'], 'get1': p['elementCalls']}.get(w, 1)


def main():
    spec = json.loads(sys.argv[1])
    read = READERS[spec['reader']]
    if spec.get('warmupFile'):
        # Same warm-up as worker.js: the reader and workload on a small separate file.
        w = dict(spec, file=spec['warmupFile'], n=spec['warmupN'], params=None)
        for _ in range(int(spec.get('warmupRounds', 50))):  # as worker.js
            read(w, prepare(w))
    reps = max(1, int(spec.get('reps', 1)))
    preps = [prepare(spec) for _ in range(reps)]
    if spec.get('hint') != 'first-call':
        gc.collect()  # as worker.js does
    w = spec['workload']
    compute = w in COMPUTE or w == 'open-close'
    from_open = compute and w != 'open-close'  # compute workloads time the call, not the open (as worker.js)
    ref = COMPUTE[w][1] if w in COMPUTE else None
    walls = []
    opens = []
    deltas = []
    total = 0.0
    ref_values = None
    for k, prep in enumerate(preps):
        if spec.get('cache') == 'cold':
            evict(spec['file'])  # just before each cold repetition, as worker.js
        before = snapshot('before')
        t0 = time.perf_counter_ns()
        total = read(spec, prep)
        t1 = time.perf_counter_ns()
        after = snapshot('after')  # still mapped, as in worker.js
        if ref is not None and k == reps - 1:
            ref_values = f64_base64(ref(prep['keep']))
        prep.pop('keep', None)
        deltas.append(delta(before, after))
        walls.append(t1 - (prep['opened'] if from_open else t0))
        opens.append(prep['opened'] - t0)
    extra = {}
    if compute:
        # The result as float64 values, which the runner compares with memmap's (worker.js: valuesOf).
        values = np.asarray(total, dtype=F64).ravel()
        extra = dict(values=f64_base64(values), calls=p_calls(w, spec))
        if ref_values is not None:
            extra['ref'] = ref_values
        total = float(values.sum())
    # Median over the repetitions, as worker.js (statistics.median: the mean of
    # the middle pair for an even count, as benchmarks/kit/stats.js).
    counters = {}
    for key in deltas[0]:
        v = [d[key] for d in deltas]
        counters[key] = None if None in v else statistics.median(v)
    first_ns = walls[0]
    p = workload_params(spec['n'], spec.get('params'))
    print(json.dumps(dict(ok=True, loadNs=LOAD_NS, sum=total, count=None if compute else count_of(w, spec['n'], p), reps=reps,
                          wallNs=statistics.median(walls), firstNs=first_ns, openNs=statistics.median(opens), counters=counters,
                          numpy=np.__version__, python=sys.version.split()[0], **extra)))


if __name__ == '__main__':
    try:
        main()
    except Exception as e:  # reported as an error row, never a crash of the runner
        import traceback
        print(json.dumps(dict(ok=False, error='%s\n%s' % (e, traceback.format_exc()))))
        sys.exit(1)
