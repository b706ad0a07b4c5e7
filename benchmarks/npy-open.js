#!/usr/bin/env node
'use strict';
// The .npy issue's claim, measured side by side in one run: opening a .npy
// file costs about what memmap() costs on the same bytes (the header parse is
// O(header), not O(file)), next to numpy's np.load(mmap_mode='r').
//
// Each case is open + read one element (the middle one) + close, repeated;
// rounds interleave Node and python so drift on a shared machine hits all
// alike. python times itself with perf_counter (no interpreter start-up).
//
//   node benchmarks/npy-open.js [--size 1G] [--reps 300] [--rounds 3] [--python EXE|none]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { openNpy, readNpyHeader, memmap } = require('..');
const { parseArgs, runMain } = require('./kit/args');
const { median, mean, quantile } = require('./kit/stats');
const { fmtBytes, fmtMs, textTable } = require('./kit/format');
const { resolvePython, runPython } = require('./kit/python');
const { timeInterleaved } = require('./kit/interleave');

const OPTIONS = {
  size: { type: 'bytes', default: 2 ** 30, defaultText: '1G', help: 'data bytes of the large .npy (a 1 MiB one is measured too)' },
  reps: { type: 'int', default: 300, help: 'open + read + close repetitions per round and reader' },
  rounds: { type: 'int', default: 3, help: 'rounds; Node and python alternate between them' },
  python: { type: 'string', metavar: 'EXE', help: 'python with numpy; "none" skips numpy (default: the first with numpy)' },
};

const PY = `
import json, sys, time, numpy as np
path, mid, offset, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def bench(fn):
    for _ in range(20): fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns(); fn(); out.append((time.perf_counter_ns() - t0) / 1e6)
    return out
def load():
    a = np.load(path, mmap_mode='r'); v = a[mid]; del a
    return v
def raw():
    a = np.memmap(path, dtype='<f4', mode='r', offset=offset, shape=(n,)); v = a[mid]; del a
    return v
assert load() == raw() == 1.5
print(json.dumps({'np.load(mmap_mode=r)': bench(load), 'np.memmap(offset)': bench(raw), 'numpy': np.__version__}))
`;

/** Creates a sparse float32 .npy of `bytes` data bytes with 1.5 in the middle; returns its facts. */
function makeFile(dir, bytes) {
  const file = path.join(dir, `f32-${bytes}.npy`);
  const n = Math.floor(bytes / 4);
  const a = openNpy(file, { mode: 'w+', dtype: 'float32', shape: [n] });
  const mid = n >> 1;
  a.set(mid, 1.5);
  a.flush();
  a.close();
  return { file, n, mid, offset: readNpyHeader(file).dataOffset, bytes: fs.statSync(file).size };
}

function main() {
  const { size, reps, rounds, python: pythonOption } = parseArgs(process.argv.slice(2), OPTIONS, { usage: 'node benchmarks/npy-open.js [options]   (npm run bench:npy -- [options])' });
  const python = resolvePython(pythonOption);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-npy-bench-'));
  try {
    const files = [makeFile(dir, 1 << 20), makeFile(dir, size)];
    const times = {};
    const add = (key, xs) => (times[key] = (times[key] || []).concat(xs));
    let numpyVersion = null;
    for (let r = 0; r < rounds; r++) {
      for (const f of files) {
        const tag = fmtBytes(f.bytes - f.offset);
        const js = timeInterleaved(
          {
            openNpy: () => {
              const a = openNpy(f.file);
              if (a.get(f.mid) !== 1.5) throw new Error('wrong value');
              a.close();
            },
            'memmap(offset)': () => {
              const a = memmap(f.file, { dtype: 'float32', offset: f.offset, shape: [f.n] });
              if (a.get(f.mid) !== 1.5) throw new Error('wrong value');
              a.close();
            },
            readNpyHeader: () => readNpyHeader(f.file),
          },
          { rounds: reps, warmup: 20 },
        );
        for (const [k, xs] of Object.entries(js)) add(`${tag}|${k}`, xs);
        if (python) {
          const py = JSON.parse(runPython(PY, [f.file, f.mid, f.offset, f.n, reps], { python }));
          numpyVersion = py.numpy;
          add(`${tag}|np.load(mmap_mode=r)`, py['np.load(mmap_mode=r)']);
          add(`${tag}|np.memmap(offset)`, py['np.memmap(offset)']);
        }
      }
    }
    console.log(`npy open + read one element + close; ${rounds} rounds x ${reps} reps; ratios of medians`);
    console.log(`node ${process.version}, numpy ${numpyVersion ?? '(no python with numpy)'}, ${os.cpus()[0]?.model ?? ''}, ${os.availableParallelism()} cores`);
    console.log('');
    const rows = [['data', 'reader', 'median', 'p90', 'mean', 'vs memmap()', 'vs np.load']];
    for (const f of files) {
      const tag = fmtBytes(f.bytes - f.offset);
      const med = (k) => median(times[`${tag}|${k}`] || []);
      const base = med('memmap(offset)');
      const npLoad = med('np.load(mmap_mode=r)');
      for (const k of ['openNpy', 'memmap(offset)', 'readNpyHeader', 'np.load(mmap_mode=r)', 'np.memmap(offset)']) {
        const xs = times[`${tag}|${k}`];
        if (!xs) continue;
        const m = median(xs);
        rows.push([tag, k, fmtMs(m), fmtMs(quantile(xs, 0.9)), fmtMs(mean(xs)), `${(m / base).toFixed(2)}x`, npLoad ? `${(m / npLoad).toFixed(2)}x` : '-']);
      }
    }
    console.log(textTable(rows, 2));
    // O(header), not O(file): what openNpy adds over memmap() does not grow with the file.
    console.log('');
    for (const f of files) {
      const tag = fmtBytes(f.bytes - f.offset);
      const extra = median(times[`${tag}|openNpy`]) - median(times[`${tag}|memmap(offset)`]);
      console.log(`openNpy - memmap() at ${tag}: ${fmtMs(extra)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
