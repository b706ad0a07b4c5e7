'use strict';
// Shared by the benchmark runner, its workers and scripts/demo.js: the sample
// data (a float32 2-d array whose values are a formula of (i, j)), what the
// workloads (benchmarks/workloads/) read of it, and the per-process counters.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { parseBytes, fmtBytes } = require('./kit/format');
const W = require('./workloads');
const { randomIndices } = require('./workloads/random');

/** Value stored at logical (i, j). Multiples of 0.25 below 256: every sum is exact in a double. */
function valueAt(i, j) {
  return ((i * 7 + j * 13) % 1021) * 0.25;
}
// Bump when valueAt or the file layout changes, so cached data files are rebuilt.
const FORMULA_VERSION = 1;

/** Side of the square float32 array closest to `bytes`, a multiple of 64 (>= 256). */
function sideForBytes(bytes) {
  return Math.max(256, Math.round(Math.sqrt(bytes / 4) / 64) * 64);
}

/**
 * Writes an n x n float32 array in `order` ('C' or 'F') to `file`, a few MiB
 * at a time. F order stores column j contiguously, so the file holds the same
 * logical values transposed on disk.
 */
function writeArrayFile(file, n, order) {
  const linesPerChunk = Math.max(1, Math.floor((4 << 20) / (n * 4)));
  const chunk = new Float32Array(linesPerChunk * n);
  const tmp = `${file}.partial`;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (let line = 0; line < n; line += linesPerChunk) {
      const lines = Math.min(linesPerChunk, n - line);
      let k = 0;
      for (let a = line; a < line + lines; a++) {
        for (let b = 0; b < n; b++) chunk[k++] = order === 'C' ? valueAt(a, b) : valueAt(b, a);
      }
      const bytes = new Uint8Array(chunk.buffer, 0, k * 4);
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, line * n * 4 + done);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Returns {file, n, order} for the cached data file, writing it (and a meta
 * JSON beside it) only when it is missing or does not match.
 */
function ensureArrayFile(dir, n, order, log = () => {}) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `f32-${n}x${n}-${order}.arr`);
  const metaFile = `${file}.json`;
  const want = { formula: FORMULA_VERSION, dtype: 'float32', shape: [n, n], order, bytes: n * n * 4 };
  let ok = false;
  try {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    ok = JSON.stringify(meta) === JSON.stringify(want) && fs.statSync(file).size === want.bytes;
  } catch {
    ok = false;
  }
  if (!ok) {
    log(`writing ${file} (${fmtBytes(want.bytes)}, ${order} order)…`);
    fs.rmSync(metaFile, { force: true });
    writeArrayFile(file, n, order);
    fs.writeFileSync(metaFile, JSON.stringify(want));
  }
  return { file, n, order };
}

// --- workloads -------------------------------------------------------------
// Every workload (benchmarks/workloads/) is a set of logical (i, j) elements
// whose values are summed. Strides turn (i, j) into the element offset in the
// file for either order.

const WORKLOADS = W.NAMES;
const WORKLOAD_TITLES = Object.fromEntries(W.NAMES.map((name) => [name, W.WORKLOADS[name].title]));

/** Parameters of the workloads for an n x n array (the python worker mirrors these). */
function workloadParams(n, overrides = {}) {
  return {
    row: Math.floor(n / 2),
    col: Math.floor(n / 2) + 1,
    rowsStart: Math.floor(n / 4),
    rowsCount: 64,
    step: 64,
    randomCount: 4096,
    seed: 12345,
    chunkBytes: 4 << 20,
    elementCalls: 20000, // get1/read1: calls per repetition
    rowCalls: 200, // row-out: calls per repetition
    // block: a chunk-aligned 256 x 256 block near the middle
    blockRow: Math.floor(n / 512) * 256,
    blockCol: Math.floor(n / 512) * 256 + (n >= 1024 ? 256 : 0),
    ...overrides,
  };
}

function stridesOf(n, order) {
  return order === 'C' ? { si: n, sj: 1 } : { si: 1, sj: n };
}

/** Calls visit(i, j) for every logical element of the workload, in access order. */
function forEachElement(workload, n, p, visit) {
  W.workload(workload).elements(n, p, visit);
}

/** Sum and element count the workload must produce, from the formula (null for a compute workload without one). */
function expectedResult(workload, n, p) {
  const w = W.workload(workload);
  if (w.expected) return { sum: w.expected(n, p), count: w.count(n, p) };
  if (!w.elements) return null;
  let sum = 0;
  let count = 0;
  w.elements(n, p, (i, j) => {
    sum += valueAt(i, j);
    count++;
  });
  return { sum, count };
}

/**
 * Contiguous runs [elementOffset, elementCount] the workload needs from the
 * file: what a read()-based reader issues, one call each. Random elements stay
 * in access order; the other sets are read in file order.
 */
function runsFor(workload, n, order, p) {
  const { si, sj } = stridesOf(n, order);
  const offsets = [];
  forEachElement(workload, n, p, (i, j) => offsets.push(i * si + j * sj));
  const sorted = W.workload(workload).accessOrder ? offsets : Float64Array.from(offsets).sort();
  const runs = [];
  for (let k = 0; k < sorted.length; k++) {
    const off = sorted[k];
    const last = runs[runs.length - 1];
    if (last && off === last[0] + last[1]) last[1]++;
    else runs.push([off, 1]);
  }
  return runs;
}

// --- counters --------------------------------------------------------------

function readProc(file) {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}

// The /proc files a snapshot reads stay open and are re-read into one
// preallocated buffer, so taking a snapshot allocates (and faults) nothing
// before the kernel has reported the counters.
const procFds = new Map();
const procBuf = Buffer.alloc(1 << 16);
function readProcFast(file) {
  let fd = procFds.get(file);
  if (fd === undefined) {
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      fd = -1;
    }
    procFds.set(file, fd);
  }
  if (fd < 0) return '';
  const got = fs.readSync(fd, procBuf, 0, procBuf.length, 0);
  return procBuf.latin1Slice(0, got);
}

const THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
const threadFaultsOut = [0, 0];
/**
 * [minflt, majflt] of the main thread, parsed from the bytes of its stat file
 * into a reused array: nothing is allocated after the kernel reported them.
 */
function threadFaultsFast() {
  let fd = procFds.get(THREAD_STAT);
  if (fd === undefined) {
    fd = fs.openSync(THREAD_STAT, 'r');
    procFds.set(THREAD_STAT, fd);
  }
  const got = fs.readSync(fd, procBuf, 0, procBuf.length, 0);
  let k = got - 1;
  while (k > 0 && procBuf[k] !== 0x29) k--; // ')' ends the command name
  // Fields after ')': state(0) ppid pgrp session tty tpgid flags minflt(7) cminflt majflt(9)
  let field = -1;
  let value = 0;
  for (k += 1; k < got; k++) {
    const c = procBuf[k];
    if (c === 0x20) {
      if (field === 7) threadFaultsOut[0] = value;
      if (field === 9) {
        threadFaultsOut[1] = value;
        break;
      }
      field++;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
    }
  }
  return threadFaultsOut;
}

const procNumber = (text, re, scale = 1) => {
  const m = re.exec(text);
  return m ? Number(m[1]) * scale : null;
};

/** A snapshot of everything a case reports; diff two with countersDelta. */
/**
 * Counters of this process. The fault counters are read last in the 'before'
 * snapshot and first in the 'after' one, so the snapshot's own reads and
 * allocations fall outside the measured interval.
 */
function snapshot(when = 'after') {
  let minor;
  let major;
  let ru;
  if (when === 'after') {
    const f = threadFaultsFast();
    minor = f[0];
    major = f[1];
    ru = process.resourceUsage();
  }
  const io = readProcFast('/proc/self/io');
  const status = readProcFast('/proc/self/status');
  if (when !== 'after') {
    ru = process.resourceUsage();
    const f = threadFaultsFast();
    minor = f[0];
    major = f[1];
  }
  return {
    minor: ru.minorPageFault,
    major: ru.majorPageFault,
    inblock: ru.fsRead,
    threadMinor: minor,
    threadMajor: major,
    ioRead: procNumber(io, /read_bytes:\s*(\d+)/),
    rss: procNumber(status, /VmRSS:\s*(\d+) kB/, 1024),
    rssFile: procNumber(status, /RssFile:\s*(\d+) kB/, 1024),
    rssAnon: procNumber(status, /RssAnon:\s*(\d+) kB/, 1024),
  };
}

/** Same field names as numpy_reader.py prints. */
function countersDelta(a, b) {
  const d = (k) => (a[k] === null || b[k] === null ? null : b[k] - a[k]);
  return {
    minorFaults: d('minor'),
    majorFaults: d('major'),
    threadMinorFaults: d('threadMinor'),
    threadMajorFaults: d('threadMajor'),
    inblockBytes: d('inblock') * 512,
    ioReadBytes: d('ioRead'),
    rssGrowth: d('rss'),
    rssFileGrowth: d('rssFile'),
    rssAnonGrowth: d('rssAnon'),
  };
}

// --- machine ---------------------------------------------------------------

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Kernel, filesystem, Node and hardware facts recorded with every result. */
function machineInfo(dataDir) {
  const fsType = sh('findmnt', ['-n', '-o', 'FSTYPE', '--target', dataDir]) ?? sh('stat', ['-f', '-c', '%T', dataDir]);
  const source = sh('findmnt', ['-n', '-o', 'SOURCE', '--target', dataDir]);
  let readAheadKb = null;
  let rotational = null;
  // The device holding the data, from its st_dev (a partition's queue is its disk's).
  const st = fs.statSync(dataDir);
  const major = Math.floor(st.dev / 256) & 0xfff;
  const minor = (st.dev & 0xff) | (Math.floor(st.dev / 4096) & 0xfff00);
  const sysDev = `/sys/dev/block/${major}:${minor}`;
  const queue = fs.existsSync(`${sysDev}/queue`) ? `${sysDev}/queue` : `${sysDev}/../queue`;
  if (fs.existsSync(`${queue}/read_ahead_kb`)) {
    readAheadKb = Number(readProc(`${queue}/read_ahead_kb`).trim()) || null;
    const rot = readProc(`${queue}/rotational`).trim();
    rotational = rot === '' ? null : rot === '1';
  } else if (source && source.startsWith('/dev/')) {
    const dev = path.basename(source).replace(/\[.*$/, '');
    const base = fs.existsSync(`/sys/block/${dev}`) ? `/sys/block/${dev}` : `/sys/class/block/${dev}/..`;
    readAheadKb = Number(readProc(`${base}/queue/read_ahead_kb`).trim()) || null;
    const rot = readProc(`${base}/queue/rotational`).trim();
    rotational = rot === '' ? null : rot === '1';
  }
  const thp = /\[(\w+)\]/.exec(readProc('/sys/kernel/mm/transparent_hugepage/enabled'));
  return {
    hostname: os.hostname(),
    kernel: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpu: os.cpus()[0]?.model ?? null,
    cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    memBytes: os.totalmem(),
    node: process.version,
    filesystem: fsType,
    device: source,
    readAheadKb,
    rotational,
    transparentHugepage: thp ? thp[1] : null,
    pageSize: require('..').pageSize,
  };
}

module.exports = {
  valueAt,
  parseBytes,
  sideForBytes,
  fmtBytes,
  writeArrayFile,
  ensureArrayFile,
  WORKLOADS,
  WORKLOAD_TITLES,
  workloadParams,
  stridesOf,
  randomIndices,
  forEachElement,
  expectedResult,
  runsFor,
  snapshot,
  countersDelta,
  machineInfo,
};
