#!/usr/bin/env node
'use strict';
const { mulberry32 } = require('./prng');
// Deterministic fuzzing of the .npy reader: mutates valid headers (flipped
// bytes, Python punctuation, truncation, huge lengths, odd versions, descrs)
// and checks that readNpyHeader/openNpy never crash, hang or throw anything
// but MemmapError, and never change the file. Optionally compares a sample
// with numpy's np.load(mmap_mode='r') (accept/refuse and the header read).
//
//   npm run fuzz:npy -- [--seed N] [--count N] [--numpy N] [--keep DIR]
// The test suite runs a short fixed-seed pass through fuzz().
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { openNpy, readNpyHeader, MemmapError } = require('..');

/** mulberry32: small, fast, deterministic. */
function prng(seed) {
  const next = mulberry32(seed);
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (arr) => arr[int(arr.length)] };
}

const PUNCT = Buffer.from("{}()[],:'\"#\\ \t\n\r\f.-+_0123456789eEjJLxobTrueFalseNone<>|=?ifucbS\x00\x93\xff");
const DESCRS = ['<f4', '>f8', '|b1', '<i8', '>u2', 'f2', '<c16', 'float32', '|f4', '<U4', '|S3', '|O', '<M8[ns]', '|V4', "[('a', '<f4')]", '<f3', "''", '5', 'None'];

/** Valid files to start from: numpy-identical headers from openNpy('w+') and hand-written variants. */
function corpus(dir) {
  const out = [];
  const specs = [
    ['<f4', [2, 3], false, undefined],
    ['>i8', [4], true, undefined],
    ['|b1', [], false, undefined],
    ['<c8', [0, 5], false, undefined],
    ['>f2', [2, 2, 2], true, [2, 0]],
    ['<u2', [3, 1], false, [3, 0]],
  ];
  specs.forEach(([dtype, shape, fortranOrder, version], i) => {
    const file = path.join(dir, `seed${i}.npy`);
    const a = openNpy(file, { mode: 'w+', dtype, shape, fortranOrder, version });
    a.close();
    out.push(fs.readFileSync(file));
    fs.unlinkSync(file);
  });
  const raw = (text, version = 1) => {
    const h = Buffer.from(text, version === 3 ? 'utf8' : 'latin1');
    const len = Buffer.alloc(version === 1 ? 2 : 4);
    if (version === 1) len.writeUInt16LE(h.length);
    else len.writeUInt32LE(h.length);
    return Buffer.concat([Buffer.from('\x93NUMPY', 'latin1'), Buffer.from([version, 0]), len, h, Buffer.alloc(64, 1)]);
  };
  out.push(raw('{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}'));
  out.push(raw("{'shape': (3L,), 'fortran_order': True, 'descr': 'f8', }   \n"));
  out.push(raw("{'descr': '<i2', # c\n 'fortran_order': False, 'shape': (0x2, 1_0), }\n", 2));
  out.push(raw("({u'descr': u'<f4', 'fortran_order': False, 'shape': ()})\n", 3));
  return out;
}

function mutate(src, r) {
  let buf = Buffer.from(src);
  const lenBytes = buf[6] === 1 ? 2 : 4;
  const headerEnd = () => {
    if (buf.length < 8 + lenBytes) return buf.length;
    return Math.min(buf.length, 8 + lenBytes + (lenBytes === 2 ? buf.readUInt16LE(8) : buf.readUInt32LE(8)));
  };
  const rounds = 1 + r.int(4);
  for (let k = 0; k < rounds && buf.length > 0; k++) {
    const end = Math.max(1, Math.min(buf.length, headerEnd() + 8));
    const at = r.int(end);
    switch (r.int(11)) {
      case 0: // flip a bit
        buf[at] ^= 1 << r.int(8);
        break;
      case 1: // random byte
        buf[at] = r.int(256);
        break;
      case 2: // Python punctuation
        buf[at] = r.pick(PUNCT);
        break;
      case 3: { // insert punctuation (the length field is not adjusted)
        const ins = Buffer.alloc(1 + r.int(4));
        for (let i = 0; i < ins.length; i++) ins[i] = r.pick(PUNCT);
        buf = Buffer.concat([buf.subarray(0, at), ins, buf.subarray(at)]);
        break;
      }
      case 4: // delete a run
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + 1 + r.int(6)))]);
        break;
      case 5: // truncate anywhere
        buf = buf.subarray(0, r.int(buf.length + 1));
        break;
      case 6: // length field: 0, small, off by a little, huge
        if (buf.length >= 12) {
          const v = r.pick([0, 1, 2 ** 16 - 1, 2 ** 32 - 1, 2 ** 31, r.int(2 ** 16), Math.max(0, headerEnd() - 10 + r.int(9) - 4)]);
          if (lenBytes === 2) buf.writeUInt16LE(v & 0xffff, 8);
          else buf.writeUInt32LE(v >>> 0, 8);
        }
        break;
      case 7: // version bytes
        if (buf.length >= 8) {
          buf[6] = r.pick([0, 1, 2, 3, 4, 255, r.int(256)]);
          buf[7] = r.pick([0, 0, 0, 1, 255]);
        }
        break;
      case 8: { // a digit becomes a long number
        const text = buf.toString('latin1');
        const m = [...text.matchAll(/\d+/g)].filter((x) => x.index >= 10);
        if (m.length) {
          const d = r.pick(m);
          const big = String(r.pick([2 ** 53, 2 ** 64, 10 ** 30, 2 ** 31, 4294967296, r.int(1e9)])).replace(/e\+?/, '');
          buf = Buffer.concat([buf.subarray(0, d.index), Buffer.from(big), buf.subarray(d.index + d[0].length)]);
        }
        break;
      }
      case 9: { // swap the descr
        const text = buf.toString('latin1');
        const m = /'descr': ('[^']*'|"[^"]*")/.exec(text);
        if (m) buf = Buffer.from(text.replace(m[1], r.pick(DESCRS).startsWith('[') ? r.pick(DESCRS) : `'${r.pick(DESCRS)}'`), 'latin1');
        break;
      }
      default: { // repeat a slice of the header (nesting, duplicate keys)
        const a = 10 + r.int(Math.max(1, end - 10));
        const b = Math.min(buf.length, a + 1 + r.int(40));
        buf = Buffer.concat([buf.subarray(0, b), buf.subarray(a, b), buf.subarray(b)]);
      }
    }
  }
  return buf;
}

/** Tries every public reader on `file`; returns { ok, header?, code? } or throws for a non-MemmapError. */
function probe(file, r, strict) {
  let header;
  try {
    header = readNpyHeader(file);
  } catch (err) {
    if (!(err instanceof MemmapError)) throw err;
  }
  const mode = r.next() < 0.8 ? 'r' : 'c';
  let a;
  try {
    a = openNpy(file, { mode });
  } catch (err) {
    if (!(err instanceof MemmapError)) throw err;
    return { ok: false, code: err.code, message: err.message };
  }
  try {
    if (!header) throw new Error('openNpy accepted a file readNpyHeader refused');
    if (a.shape.join() !== header.shape.join() || a.byteLength !== header.byteLength) throw new Error('openNpy and readNpyHeader disagree');
    if (a.size > 0) {
      // Touch both ends: a mapping past the end of the file would SIGBUS here.
      a.get(...a.shape.map(() => 0));
      a.get(...a.shape.map((d) => d - 1));
    }
    if (strict && mode === 'c' && a.size > 0) a.set(...a.shape.map(() => 0), a.get(...a.shape.map(() => 0)));
  } finally {
    a.close();
  }
  return { ok: true, header };
}

/**
 * Runs `count` mutations from `seed` in `dir`. Returns counts per outcome and
 * any failures (a non-MemmapError, a changed file, a slow case). With
 * `sample` > 0, keeps that many cases (spread over the run) for a numpy comparison.
 */
function fuzz({ seed = 1, count = 3000, dir, sample = 0 } = {}) {
  const r = prng(seed);
  const work = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-fuzz-'));
  const seeds = corpus(work);
  // A fresh name per case: truncating and rewriting one file makes ext4 flush it each time.
  let file = '';
  const stats = { total: 0, accepted: 0, codes: {} };
  const failures = [];
  const kept = [];
  const every = sample > 0 ? Math.max(1, Math.floor(count / sample)) : 0;
  for (let i = 0; i < count; i++) {
    const buf = mutate(r.pick(seeds), r);
    if (file) fs.rmSync(file, { force: true });
    file = path.join(work, `case${i}.npy`);
    fs.writeFileSync(file, buf);
    const t0 = process.hrtime.bigint();
    let result;
    try {
      result = probe(file, r, true);
    } catch (err) {
      failures.push({ i, kind: 'threw', error: String(err && err.stack), hex: buf.toString('hex') });
      continue;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > 2000) failures.push({ i, kind: 'slow', ms, hex: buf.toString('hex') });
    if (!fs.readFileSync(file).equals(buf)) failures.push({ i, kind: 'changed the file', hex: buf.toString('hex') });
    stats.total++;
    if (result.ok) stats.accepted++;
    else stats.codes[result.code] = (stats.codes[result.code] || 0) + 1;
    if (every && i % every === 0 && kept.length < sample) {
      const keep = path.join(work, `keep-${kept.length}.npy`);
      fs.copyFileSync(file, keep);
      kept.push({ file: keep, ours: result.ok ? { ok: true, ...pick(result.header) } : { ok: false, code: result.code, message: result.message } });
    }
  }
  if (file) fs.rmSync(file, { force: true });
  return { stats, failures, kept, dir: work };
}

function pick(h) {
  return { shape: h.shape, fortran: h.fortranOrder, descr: h.descr, offset: h.dataOffset };
}

// Reads each file with numpy as np.load(mmap_mode='r') would, reporting the header it parsed.
const NUMPY_READER = `
import json, sys, warnings, numpy as np
from numpy.lib import format as fmt
impl = getattr(np.lib, '_format_impl', fmt)
warnings.simplefilter('ignore')
out = []
for name in json.load(open(sys.argv[1])):
    try:
        with open(name, 'rb') as f:
            v = impl.read_magic(f)
            shape, fo, dt = impl._read_array_header(f, v)
            off = f.tell()
        a = np.load(name, mmap_mode='r')
        mappable = dt.kind in 'biufc' and dt.names is None and dt.subdtype is None and dt.itemsize in (1, 2, 4, 8, 16) and not (dt.kind == 'f' and dt.itemsize == 16)
        out.append({'ok': True, 'shape': list(shape), 'fortran': fo, 'descr': dt.str, 'offset': off, 'mappable': bool(mappable)})
    except Exception as e:
        out.append({'ok': False, 'error': type(e).__name__ + ': ' + str(e)[:120]})
print(json.dumps(out))
`;

/** numpy's verdict on each file: { ok, shape, fortran, descr, offset, mappable } or { ok: false, error }. */
function readWithNumpy(files, runPython) {
  const list = path.join(path.dirname(files[0]), `numpy-list-${process.pid}.json`);
  fs.writeFileSync(list, JSON.stringify(files));
  try {
    return JSON.parse(runPython(NUMPY_READER, [list]));
  } finally {
    fs.rmSync(list, { force: true });
  }
}

/**
 * Compares kept cases with numpy. Allowed differences: numpy accepts a dtype
 * memmap cannot map (we say ERR_NPY_DTYPE) or an empty array with a dimension
 * past 2^53 - 1; numpy refuses more than 64 dimensions.
 */
function compareWithNumpy(kept, runPython) {
  if (kept.length === 0) return [];
  const numpy = readWithNumpy(kept.map((k) => k.file), runPython);
  const mismatches = [];
  kept.forEach((k, i) => {
    const np = numpy[i];
    const ours = k.ours;
    if (np.ok && !ours.ok && ours.code === 'ERR_NPY_DTYPE' && !np.mappable) return;
    if (!np.ok && ours.ok && ours.shape.length > 64 && /dimension/.test(np.error)) return;
    // A whitespace-only last line: numpy's 1.0/2.0 retry accepts it on Python <= 3.11, refuses it on 3.12+ (we accept).
    if (!np.ok && ours.ok && /\n[ \t\f]+$/.test(fs.readFileSync(k.file).subarray(0, ours.offset).toString('latin1'))) return;
    // Dimensions past 2^53 - 1 (numpy allows them in an empty array) are not exact JavaScript numbers.
    if (np.ok && !ours.ok && ours.code === 'ERR_NPY_HEADER' && np.shape.some((d) => d > Number.MAX_SAFE_INTEGER)) return;
    const same = np.ok === ours.ok && (!np.ok || (JSON.stringify([np.shape, np.fortran, np.descr, np.offset]) === JSON.stringify([ours.shape, ours.fortran, ours.descr, ours.offset])));
    if (!same) mismatches.push({ file: k.file, hex: fs.readFileSync(k.file).subarray(0, 400).toString('hex'), numpy: np, ours });
  });
  return mismatches;
}

module.exports = { fuzz, compareWithNumpy, readWithNumpy, prng };

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const seed = Number(opt('seed', Date.now() % 1e9));
  const count = Number(opt('count', 200000));
  const sample = Number(opt('numpy', 2000));
  const keepDir = opt('keep', null);
  const t0 = Date.now();
  const res = fuzz({ seed, count, sample, dir: keepDir && fs.mkdirSync(keepDir, { recursive: true }) && keepDir });
  const secs = (Date.now() - t0) / 1000;
  console.log(`seed ${seed}: ${res.stats.total} cases in ${secs.toFixed(1)} s; accepted ${res.stats.accepted}; refused ${JSON.stringify(res.stats.codes)}`);
  let bad = res.failures.length;
  for (const f of res.failures.slice(0, 10)) console.log('FAILURE', JSON.stringify(f));
  if (sample > 0) {
    const { runPython, findPython } = require('../benchmarks/kit/python');
    if (findPython()) {
      const mism = compareWithNumpy(res.kept, runPython);
      console.log(`numpy comparison: ${res.kept.length} cases, ${mism.length} differences`);
      for (const m of mism.slice(0, 10)) console.log('DIFFERENCE', JSON.stringify(m));
      bad += mism.length;
    } else {
      console.log('numpy comparison skipped: no python3 with numpy');
    }
  }
  if (!keepDir) fs.rmSync(res.dir, { recursive: true, force: true });
  process.exitCode = bad ? 1 : 0;
}
