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
//   node benchmarks/npy-open.js [--size 1G] [--reps 300] [--rounds 3]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { openNpy, readNpyHeader, memmap } = require('..');
const { parseBytes, fmtBytes } = require('./common');
const { median, fmtMs } = require('./run');
const { findPython, runPython } = require('../test/helpers/python');

function opt(name, def) {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  return args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
}

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

/** Times each of `fns` `reps` times, interleaved (A B C A B C …) so GC and machine noise hit all alike. */
function benchAll(fns, reps) {
  const names = Object.keys(fns);
  for (let k = 0; k < 20; k++) for (const name of names) fns[name]();
  const out = Object.fromEntries(names.map((n) => [n, []]));
  for (let k = 0; k < reps; k++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + k) % names.length];
      const t0 = process.hrtime.bigint();
      fns[name]();
      out[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return out;
}

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
  const size = parseBytes(opt('size', '1G'));
  const reps = Number(opt('reps', 300));
  const rounds = Number(opt('rounds', 3));
  const python = findPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-npy-bench-'));
  try {
    const files = [makeFile(dir, 1 << 20), makeFile(dir, size)];
    const times = {};
    const add = (key, xs) => (times[key] = (times[key] || []).concat(xs));
    let numpyVersion = null;
    for (let r = 0; r < rounds; r++) {
      for (const f of files) {
        const tag = fmtBytes(f.bytes - f.offset);
        const js = benchAll(
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
          reps,
        );
        for (const [k, xs] of Object.entries(js)) add(`${tag}|${k}`, xs);
        if (python) {
          const py = JSON.parse(runPython(PY, [f.file, f.mid, f.offset, f.n, reps]));
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
        const sorted = xs.slice().sort((a, b) => a - b);
        const m = median(xs);
        rows.push([tag, k, fmtMs(m), fmtMs(sorted[Math.floor(sorted.length * 0.9)]), fmtMs(xs.reduce((a, b) => a + b, 0) / xs.length), `${(m / base).toFixed(2)}x`, npLoad ? `${(m / npLoad).toFixed(2)}x` : '-']);
      }
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
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

main();
