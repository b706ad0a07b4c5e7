#!/usr/bin/env node
'use strict';
const { mulberry32 } = require('./prng');
// Deterministic fuzzer of the whole public API (issue 9). Every factory
// (memmap, openNpy, readNpyHeader, fromShared, evict, parseDType, new
// MemmapArray, and any other function the package exports) and every method
// and getter of MemmapArray (found by walking its prototype, so new methods
// are fuzzed automatically) and of the ndarray views it returns is called with
// random arguments of every JavaScript type: numbers at the edges, bigints,
// strings, symbols, objects whose getters close the array being used (or close
// it and open another file), Proxies, arrays with holes or with accessor
// elements, typed arrays of every kind (also over the mapping itself), huge
// array-likes, functions, with close() interleaved. Some rounds pollute
// Object.prototype / Array.prototype while the library runs; some move mapped
// buffers away with ArrayBuffer.prototype.transfer() and read them after
// close() + gc().
//
// A round runs in a child process (a crash or a hang is a fault, not the end
// of the run); inside it every call must return or throw a MemmapError whose
// `code` is ERR_… or an errno name, and a call that failed must leave every
// file in the round's directory unchanged (sha256). See docs/testing.md.
//
//   node scripts/fuzz-api.js [--seed S] [--rounds N] [--calls N] [--time-limit SECONDS]
//                            [--timeout SECONDS] [--json] [--package DIR]
//   node scripts/fuzz-api.js --seed S --round R [--trace] [--keep]    replays one round
//
// --timeout: seconds before a round counts as hung (60); --time-limit: start no
// round after that many seconds; --package: fuzz another build of memmap (an
// ASan build, a checkout of an older commit); --trace: print every call of the
// replayed round; --keep: keep its temp dir.
//
// The seed defaults to $MEMMAP_FUZZ_SEED, else to the clock; it is printed.
// Exit status 1 if any fault was found. test/fuzz-api.test.js runs a short
// fixed-seed pass through fuzz().
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const ROOT = path.join(__dirname, '..');
const SELF = __filename;
/** The package under test: this checkout, or --package DIR / $MEMMAP_FUZZ_PACKAGE (another build of it). */
const packageDir = (argv) => {
  const i = argv.indexOf('--package');
  const p = i >= 0 ? argv[i + 1] : process.env.MEMMAP_FUZZ_PACKAGE;
  return p ? path.resolve(p) : ROOT;
};
/** A thrown MemmapError's code: memmap's own ERR_… or an errno name (ENOENT, EFBIG, …). */
const CODE_RE = /^(ERR_[A-Z0-9_]+|E[A-Z0-9]+)$/;
/** RLIMIT_FSIZE of a round (ulimit -f blocks: 8 MiB with dash's 512-byte blocks, 16 MiB with bash's). */
const FSIZE_BLOCKS = 16384;
const DEFAULTS = { rounds: 20, calls: 300, timeoutMs: 60000 };

// ---------------------------------------------------------------------------
// PRNG (mulberry32, as scripts/fuzz-npy.js) and per-round seeds
// ---------------------------------------------------------------------------

function prng(seed) {
  const next = mulberry32(seed);
  const int = (n) => Math.floor(next() * n);
  const pick = (arr) => arr[int(arr.length)];
  const chance = (p) => next() < p;
  /** pick from [[value, weight], ...] */
  const weighted = (list) => {
    let total = 0;
    for (let i = 0; i < list.length; i++) total += list[i][1];
    let x = next() * total;
    for (let i = 0; i < list.length; i++) {
      x -= list[i][1];
      if (x < 0) return list[i][0];
    }
    return list[list.length - 1][0];
  };
  return { next, int, pick, chance, weighted };
}

/** The seed of round `round` of a run with seed `seed`: replaying a round needs only the two. */
function roundSeed(seed, round) {
  let h = (Number(seed) >>> 0) ^ Math.imul((round >>> 0) + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function replayCommand(seed, round, pkg) {
  return `node scripts/fuzz-api.js --seed ${seed} --round ${round}${pkg ? ` --package ${pkg}` : ''}`;
}

// ---------------------------------------------------------------------------
// Parent: one child process per round, faults aggregated
// ---------------------------------------------------------------------------

let transferFlagCache;
/** Node flags a round needs for ArrayBuffer.prototype.transfer (Node 20 has it behind a V8 flag). */
function transferFlags() {
  if (transferFlagCache !== undefined) return transferFlagCache;
  transferFlagCache = [];
  if (typeof ArrayBuffer.prototype.transfer !== 'function') {
    const flag = '--harmony-rab-gsab-transfer';
    const probe = spawnSync(process.execPath, [flag, '-e', 'process.exit(typeof ArrayBuffer.prototype.transfer === "function" ? 0 : 1)'], { stdio: 'ignore' });
    if (probe.status === 0) transferFlagCache = [flag];
  }
  return transferFlagCache;
}

function parseTrace(stderr) {
  let last = null;
  let dir = null;
  let calls = 0;
  const faults = [];
  const other = [];
  for (const line of stderr.split('\n')) {
    if (line.startsWith('CALL ')) {
      const m = /^CALL (\d+) ([^\t]*)\t(.*)$/.exec(line);
      if (m) {
        last = { callNo: Number(m[1]), method: m[2], call: m[3] };
        calls = Math.max(calls, last.callNo);
      }
    } else if (line.startsWith('FAULT ')) {
      try {
        faults.push(JSON.parse(line.slice(6)));
      } catch {}
    } else if (line.startsWith('DIR ')) dir = line.slice(4);
    else if (line.trim() !== '') other.push(line);
  }
  return { last, dir, calls, faults, other };
}

/**
 * Runs round `round` of seed `seed` in a child process; returns
 * { round, roundSeed, calls, nested, faults, status, signal, timedOut, ms, stderr }.
 */
function runRound({ seed, round, calls = DEFAULTS.calls, timeoutMs = DEFAULTS.timeoutMs, keep = false, pkg }) {
  const log = path.join(os.tmpdir(), `memmap-fuzz-api-${process.pid}-${seed}-${round}.log`);
  const readLog = (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const nodeArgs = ['--expose-gc', ...transferFlags(), SELF, '--child', '--seed', String(seed), '--round', String(round), '--calls', String(calls), '--log', log];
  if (keep) nodeArgs.push('--keep');
  if (pkg) nodeArgs.push('--package', pkg);
  const t0 = Date.now();
  let r;
  for (let attempt = 0; ; attempt++) {
    fs.rmSync(log, { force: true });
    fs.rmSync(`${log}.json`, { force: true });
    r = spawnSync('/bin/sh', ['-c', `ulimit -f ${FSIZE_BLOCKS} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...nodeArgs], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 256 << 20,
    });
    // The addon may be missing for a moment while someone rebuilds it: wait and retry.
    const missing = /No native build was found|Cannot find module '.*memmap\.node'|ERR_DLOPEN_FAILED/.test(r.stderr || '') && !/^CALL /m.test(readLog(log));
    if (!missing || attempt >= 5) break;
    spawnSync('sleep', ['3']);
  }
  const ms = Date.now() - t0;
  // The child's trace, then whatever node itself printed (uncaught errors, fatal messages).
  const stderr = readLog(log) + (r.stderr || '') + (r.stdout || '');
  const trace = parseTrace(stderr);
  if (trace.dir && !keep) fs.rmSync(trace.dir, { recursive: true, force: true });
  let summary = null;
  try {
    summary = JSON.parse(readLog(`${log}.json`));
  } catch {}
  fs.rmSync(log, { force: true });
  fs.rmSync(`${log}.json`, { force: true });
  const rs = roundSeed(seed, round);
  const faults = summary ? summary.faults.slice() : trace.faults.slice();
  const timedOut = Boolean(r.error && r.error.code === 'ETIMEDOUT');
  const where = trace.last || { callNo: 0, method: '(setup)', call: '(before the first call)' };
  const tail = trace.other.slice(-8).join('\n');
  if (timedOut) {
    faults.push({ kind: 'hang', method: where.method, call: where.call, callNo: where.callNo, error: { name: 'timeout', code: null, message: `no exit after ${timeoutMs} ms; last call #${where.callNo}`, frame: '' }, count: 1 });
  } else if (r.signal || r.status !== 0) {
    const how = r.signal ? `signal ${r.signal}` : `exit status ${r.status}`;
    faults.push({ kind: 'crash', method: where.method, call: where.call, callNo: where.callNo, error: { name: how, code: null, message: `${how} during call #${where.callNo}${tail ? '\n' + tail : ''}`, frame: '' }, count: 1 });
  } else if (!summary) {
    faults.push({ kind: 'crash', method: where.method, call: where.call, callNo: where.callNo, error: { name: 'no summary', code: null, message: `the round printed no summary${tail ? '\n' + tail : ''}`, frame: '' }, count: 1 });
  }
  for (const f of faults) {
    f.round = round;
    f.seed = seed;
    if (pkg) f.pkg = pkg;
  }
  return {
    round,
    roundSeed: rs,
    calls: summary ? summary.calls : trace.calls,
    nested: summary ? summary.nested : 0,
    flavor: summary ? summary.flavor : null,
    dir: keep ? trace.dir : null,
    outcomes: summary ? summary.outcomes : null,
    faults,
    status: r.status,
    signal: r.signal,
    timedOut,
    ms,
    stderr,
  };
}

function faultKey(f) {
  const e = f.error || {};
  if (f.kind === 'crash' || f.kind === 'hang') return `${f.kind}|${f.method}|${e.name}`;
  return `${f.kind}|${f.method}|${e.name}|${e.code}|${e.frame || ''}|${f.detailKey || ''}`;
}

/** Runs `rounds` rounds from `firstRound`, each in its own process; returns aggregate()'s totals. */
function fuzz({ seed, rounds = DEFAULTS.rounds, firstRound = 0, calls = DEFAULTS.calls, timeLimitS = Infinity, timeoutMs = DEFAULTS.timeoutMs, keep = false, pkg, onRound } = {}) {
  if (seed === undefined) seed = Date.now() % 1e9;
  const t0 = Date.now();
  const results = [];
  for (let i = 0; i < rounds; i++) {
    if ((Date.now() - t0) / 1000 > timeLimitS) break;
    const res = runRound({ seed, round: firstRound + i, calls, timeoutMs, keep, pkg });
    results.push(res);
    if (onRound) onRound(res);
  }
  return aggregate(results, seed, Date.now() - t0);
}

function oneLine(s, max = 300) {
  const t = String(s).replace(/\s*\n\s*/g, ' | ');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/** Human-readable report of fuzz()'s result. */
function formatReport(res) {
  const out = [];
  const kinds = Object.entries(res.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  out.push(`memmap API fuzz: seed ${res.seed}, ${res.rounds} rounds, ${res.calls} calls (+${res.nested} nested in getters and traps) in ${(res.ms / 1000).toFixed(1)} s`);
  const cb = res.callback;
  if (cb && cb.sentinel + cb.pollution + cb.fault > 0) {
    out.push(`ERR_CALLBACK: ${cb.sentinel} wrapping the fuzzer's sentinel, ${cb.pollution} excused under pollution, ${cb.fault} faults`);
    const ex = Object.entries(res.callbackExcused || {}).sort((a, b) => b[1] - a[1]);
    for (const [k, n] of ex.slice(0, 8)) out.push(`  excused (pollution) ${n}x: ${oneLine(k, 220)}`);
  }
  out.push(`faults: ${res.faults.reduce((s, f) => s + (f.count || 1), 0)}${kinds ? ` (${kinds})` : ''}, ${res.distinct.length} distinct`);
  res.distinct
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.method.localeCompare(b.method))
    .forEach((d, i) => {
      const e = d.error || {};
      const what = d.kind === 'crash' || d.kind === 'hang' ? e.name : `${e.name}${e.code ? ` ${e.code}` : ' (no code)'}`;
      out.push(`${String(i + 1).padStart(3)}. [${d.kind}] ${d.method}: ${what}${e.frame ? ` at ${e.frame}` : ''}${d.detailKey ? ` (${d.detailKey})` : ''} — ${d.count}x in ${d.rounds.length} round(s)`);
      out.push(`       ${oneLine(e.message || '', 240)}`);
      if (d.detail && d.detail !== e.message) out.push(`       ${oneLine(d.detail, 400)}`);
      for (const c of d.cause || []) out.push(`       cause: ${c.name}${c.code ? ` ${c.code}` : ''}: ${oneLine(c.message, 200)}${c.top ? ` — ${c.top}` : ''}`);
      out.push(`       call #${d.callNo}: ${oneLine(d.call, 400)}`);
      out.push(`       replay: ${replayCommand(d.seed, d.rounds[0], d.pkg)}`);
    });
  return out.join('\n');
}

function parentMain(argv) {
  const opt = (name, def) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
  const flag = (name) => argv.includes(`--${name}`);
  const envSeed = process.env.MEMMAP_FUZZ_SEED;
  const seed = Number(opt('seed', envSeed !== undefined && envSeed !== '' ? envSeed : Date.now() % 1e9));
  const calls = Number(opt('calls', DEFAULTS.calls));
  const timeoutMs = Number(opt('timeout', DEFAULTS.timeoutMs / 1000)) * 1000;
  const json = flag('json');
  const keep = flag('keep');
  const pkg = packageDir(argv) === ROOT ? undefined : packageDir(argv);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${seed}`);
  const replay = opt('round', null);
  if (replay !== null) {
    // One round, in a child as always, with everything it printed.
    const round = Number(replay);
    const res = runRound({ seed, round, calls, timeoutMs, keep, pkg });
    const summary = aggregate([res], seed, res.ms);
    if (json) console.log(JSON.stringify({ ...summary, results: undefined, stderr: res.stderr }));
    else {
      if (flag('trace')) process.stderr.write(res.stderr);
      console.log(`round ${round} of seed ${seed} (round seed ${res.roundSeed}; ${res.flavor ? JSON.stringify(res.flavor) : 'no summary'}): ${res.calls} calls in ${(res.ms / 1000).toFixed(1)} s${res.dir ? `; files kept in ${res.dir}` : ''}`);
      console.log(formatReport(summary));
      for (const f of res.faults) {
        const e = f.error || {};
        console.log(`\n[${f.kind}] call #${f.callNo} ${f.method}\n  ${f.call}\n  ${e.name}${e.code ? ' ' + e.code : ''}: ${e.message}${f.detail && f.detail !== e.message ? `\n  ${f.detail}` : ''}${e.stack ? '\n' + e.stack : ''}`);
        for (const c of f.cause || []) console.log(`  cause: ${c.name}${c.code ? ' ' + c.code : ''}: ${c.message}${c.frame ? ` (innermost library frame: ${c.frame})` : ''}\n${c.stack || `    ${c.top}`}`);
      }
    }
    process.exitCode = res.faults.length ? 1 : 0;
    return;
  }
  const rounds = Number(opt('rounds', DEFAULTS.rounds));
  const timeLimitS = Number(opt('time-limit', Infinity));
  if (!json) console.log(`memmap API fuzz: seed ${seed} (replay a round: ${replayCommand(seed, 'R', pkg)}), ${rounds} rounds x ${calls} calls`);
  const res = fuzz({
    seed,
    rounds,
    calls,
    timeLimitS,
    timeoutMs,
    keep,
    pkg,
    onRound: json
      ? undefined
      : (r) => {
          const n = r.faults.reduce((s, f) => s + (f.count || 1), 0);
          const flav = r.flavor ? [r.flavor.pollution.length ? `pollution ${r.flavor.pollution.join('+')}` : '', r.flavor.transfer ? 'transfer' : ''].filter(Boolean).join(', ') : '';
          const bad = r.faults.filter((f) => f.kind === 'crash' || f.kind === 'hang').map((f) => f.kind);
          console.log(`round ${r.round}: ${r.calls} calls, ${n} faults${bad.length ? ` (${bad.join(', ')})` : ''}${flav ? ` [${flav}]` : ''} ${(r.ms / 1000).toFixed(1)} s`);
        },
  });
  if (json) console.log(JSON.stringify({ ...res, results: undefined }));
  else console.log(formatReport(res));
  process.exitCode = res.faults.length ? 1 : 0;
}

/**
 * Totals of some rounds: { seed, rounds, calls, nested, ms, faults (every
 * fault, per round), byKind, distinct (deduplicated by kind + API + error name
 * + code + innermost library frame, with counts and rounds), results }.
 */
function aggregate(results, seed, ms) {
  const faults = results.flatMap((r) => r.faults);
  const byKind = {};
  const distinct = new Map();
  for (const f of faults) {
    byKind[f.kind] = (byKind[f.kind] || 0) + (f.count || 1);
    const key = faultKey(f);
    const d = distinct.get(key);
    if (d) {
      d.count += f.count || 1;
      if (!d.rounds.includes(f.round)) d.rounds.push(f.round);
    } else distinct.set(key, { key, ...f, count: f.count || 1, rounds: [f.round] });
  }
  // How the rounds' ERR_CALLBACKs were judged, and what the excused ones wrapped.
  const callback = { sentinel: 0, pollution: 0, fault: 0 };
  const callbackExcused = {};
  for (const r of results) {
    const o = r.outcomes || {};
    for (const k of Object.keys(callback)) callback[k] += (o.callback && o.callback[k]) || 0;
    for (const [k, n] of Object.entries(o.callbackExcused || {})) callbackExcused[k] = (callbackExcused[k] || 0) + n;
  }
  return {
    seed,
    rounds: results.length,
    calls: results.reduce((n, r) => n + r.calls, 0),
    nested: results.reduce((n, r) => n + (r.nested || 0), 0),
    ms,
    faults,
    byKind,
    callback,
    callbackExcused,
    distinct: [...distinct.values()],
    results,
  };
}

// ---------------------------------------------------------------------------
// Child: one round
// ---------------------------------------------------------------------------

const EDGE_NUMBERS = [
  0, -0, -1, 1, 2, 3, 5, 7, 8, 255, 256, 4095, 4096, 4097, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1,
  2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 63, 2 ** 64, 1e21, NaN, Infinity, -Infinity, 1.5, -1.5, 0.5, -0.5, Number.MIN_VALUE,
  Number.MAX_VALUE, Number.EPSILON, 1e-300,
];
const EDGE_BIGINTS = [0n, 1n, -1n, 2n, 3n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n)];
const MODES = ['r', 'r+', 'w+', 'c', 'readonly', 'readwrite', 'write', 'copyonwrite'];
const BAD_MODES = ['R', 'w', 'rw', 'a', '+', 'r ', 'c+', 'W+'];
const DTYPES = [
  'bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128',
  '<f4', '>f8', '|b1', '?', '<i8', '>u2', 'f2', '>f2', '<c16', '>c8', '=i4', '|u1', 'b', 'B', 'h', 'H', 'i', 'I', 'q', 'Q', 'e', 'f', 'd',
  'F', 'D', 'half', 'double', 'complex', '>i2', '<u4', '>i8', '<u8', '|f4', 'int', 'uint', 'intp',
];
const BAD_DTYPES = ['<U4', '|S3', 'O', '|V4', '<M8[ns]', '<f3', 'float128', 'f16', '<<f4', 'g', 'object', 'float32 ', 'Float32'];
const ADVICE = ['normal', 'sequential', 'random', 'willneed', 'dontneed'];
const STRINGS = [
  ...MODES, ...BAD_MODES, ...DTYPES.slice(0, 20), ...BAD_DTYPES.slice(0, 5), 'C', 'F', 'c', 'f', 'K', 'A', ...ADVICE, 'DONTNEED',
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'then', 'length', '', ' ', '\0', 'a\0b', '.', '..', '/',
  'file:///etc/passwd', 'http://x/', '1', '-1', '1e3', '0x10', 'NaN', 'Infinity', 'null', 'undefined', 'memmap.shared', 'x'.repeat(300),
  'y'.repeat(70000), '\u{1F600}', '\ud800', 'ÿ', '%s%n', '${x}',
];
const TYPED = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
if (typeof globalThis.Float16Array === 'function') TYPED.push(globalThis.Float16Array);
/** Methods the docs say throw ERR_CLOSED after close(). */
const CLOSED_THROWS = new Set([
  ...['get', 'set', 'sum', 'read', 'gather', 'flush', 'advise', 'residency', 'share', 'ndarray', 'data', 'bytes', 'segments', 'copy'],
  ...['prod', 'mean', 'var', 'std', 'min', 'max', 'argmin', 'argmax', 'any', 'all', 'countNonzero'],
  ...['nansum', 'nanmean', 'nanvar', 'nanstd', 'nanmin', 'nanmax', 'nanargmin', 'nanargmax'],
]);
/** Known exports that are not functions to fuzz with random arguments. */
const SKIP_EXPORTS = new Set(['MemmapError', 'MemmapTypeError', 'MemmapRangeError']);

function childMain(argv) {
  const opt = (name, def) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : def;
  };
  const seed = Number(opt('seed', 1));
  const round = Number(opt('round', 0));
  const callsWanted = Number(opt('calls', DEFAULTS.calls));
  const keep = argv.includes('--keep');
  // RLIMIT_FSIZE: a file growing past the limit fails with EFBIG instead of killing us.
  process.on('SIGXFSZ', () => {});
  // The trace and the summary go to files the parent named, opened afresh for
  // every write: a library that closes descriptors it does not own (0, 1 and 2
  // are the usual victims) cannot silence the round's report. Without --log
  // (a child run by hand) they go to stderr and stdout.
  const logFile = opt('log', null);
  const fdKey = (fd) => {
    try {
      const st = fs.fstatSync(fd);
      return `${st.dev}:${st.ino}:${st.rdev}`;
    } catch (e) {
      return `error ${e.code}`;
    }
  };
  const stdFds = [0, 1, 2].map(fdKey);
  const fdCount = () => {
    try {
      return fs.readdirSync('/proc/self/fd');
    } catch {
      return null;
    }
  };
  const trace = (line) => {
    try {
      if (logFile) fs.appendFileSync(logFile, line + '\n');
      else fs.writeSync(2, line + '\n');
    } catch {}
  };
  const lib = require(packageDir(argv));
  const r = prng(roundSeed(seed, round));
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-fuzz-api-')));
  trace(`DIR ${dir}`);
  process.chdir(dir);

  // -- round state ----------------------------------------------------------
  const Proto = lib.MemmapArray.prototype;
  const hasTransfer = typeof ArrayBuffer.prototype.transfer === 'function';
  const sentinels = new WeakSet();
  /** Plain objects the fuzzer made (no getters, no traps): safe to inspect, and what pollution shows through. */
  const plainObjs = new WeakSet();
  const plain = (o) => {
    plainObjs.add(o);
    return o;
  };
  const labels = new WeakMap();
  const S = {
    calls: 0,
    nested: 0,
    faults: new Map(),
    pool: new Map(), // id -> entry { id, a, file, label }
    nextId: 1,
    views: new Map(), // n -> { view, entry, what }  (TypedArrays over mapped memory)
    moved: new Map(), // n -> { buf, entry, what }   (buffers moved away with transfer())
    survivors: new Map(), // n -> { buf, entry, what } (flagged: readable after close)
    nds: new Map(), // n -> { nd, entry, label }
    tokens: new Map(), // n -> { token, entry }
    nextN: 1,
    sizes: new Map(), // inode -> size after the last call
    everShrank: false,
    snap: null,
    snapValid: false,
    ctx: null,
    effectDepth: 0,
    // callback: how ERR_CALLBACKs were judged (sentinel: wraps the fuzzer's own throw; pollution: excused
    // while built-ins were patched; fault: anything else), also for nested calls.
    outcomes: { ok: 0, sentinel: 0, codes: {}, callback: { sentinel: 0, pollution: 0, fault: 0 } },
    pollution: null,
    polluting: false, // the pollution is installed (during call(), and what runs inside it)
    suspended: false, // taken down while the fuzzer's own code runs inside a polluted call
    transfer: false,
    captured: new Map(), // internal DataView buffers seen by a patched DataView (transfer rounds)
    outs: new Map(), // n -> results of reductions/copies/reads: candidates for a later call's `out`
    controllers: new Map(), // n -> AbortController of an async call, aborted by a later step
    pending: new Set(), // the async calls' promises (their checks attached), until they settle
  };
  const bagAdd = (bag, item, cap) => {
    bag.set(S.nextN++, item);
    if (cap && bag.size > cap) bag.delete(bag.keys().next().value);
  };
  const bagPick = (bag) => {
    if (bag.size === 0) return undefined;
    const k = r.int(bag.size);
    let i = 0;
    for (const v of bag.values()) if (i++ === k) return v;
    return undefined;
  };

  // -- labels: every generated object gets a short description at creation --
  const clip = (s, n = 160) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
  const NUM_NAMES = new Map([
    [2 ** 31, '2**31'], [-(2 ** 31), '-(2**31)'], [2 ** 31 - 1, '2**31-1'], [2 ** 32, '2**32'], [2 ** 32 - 1, '2**32-1'], [2 ** 53, '2**53'],
    [2 ** 53 - 1, '2**53-1'], [2 ** 53 + 2, '2**53+2'], [-(2 ** 53), '-(2**53)'], [2 ** 63, '2**63'], [2 ** 64, '2**64'],
    [Number.MIN_VALUE, 'Number.MIN_VALUE'], [Number.MAX_VALUE, 'Number.MAX_VALUE'], [Number.EPSILON, 'Number.EPSILON'],
  ]);
  function lab(v) {
    switch (typeof v) {
      case 'number':
        if (Object.is(v, -0)) return '-0';
        return NUM_NAMES.get(v) || String(v);
      case 'bigint':
        return `${v}n`;
      case 'string':
        return v.length > 24 ? `${JSON.stringify(v.slice(0, 12))}…(${v.length} chars)` : JSON.stringify(v);
      case 'symbol':
        return 'Symbol()';
      case 'undefined':
      case 'boolean':
        return String(v);
      default:
        if (v === null) return 'null';
        return labels.get(v) || (typeof v === 'function' ? 'function' : 'object');
    }
  }
  const named = (v, label) => {
    if ((typeof v === 'object' && v !== null) || typeof v === 'function') labels.set(v, clip(label));
    return v;
  };
  /** Labels a plain array or object the fuzzer built from primitives (never call it on a hostile value). */
  const autoName = (v) => {
    if (typeof v !== 'object' || v === null || labels.has(v)) return v;
    if (Array.isArray(v)) return named(v, `[${v.map(lab).join(', ')}]`);
    if (Object.getPrototypeOf(v) === Object.prototype) return named(v, `{${Object.keys(v).map((k) => `${k}: ${lab(v[k])}`).join(', ')}}`);
    return v;
  };
  const entryOf = (a) => {
    for (const e of S.pool.values()) if (e.a === a) return e;
    return null;
  };

  // -- faults ----------------------------------------------------------------
  function errInfo(e) {
    const info = { name: 'unknown', code: null, message: '', frame: '', stack: '' };
    try {
      if (e instanceof Error) {
        info.name = e.constructor && e.constructor.name !== 'Error' ? e.constructor.name : e.name;
        info.code = typeof e.code === 'string' ? e.code : null;
        info.message = String(e.message).slice(0, 500);
        const stack = String(e.stack || '').split('\n');
        info.stack = stack.slice(0, 8).join('\n');
        const frames = stack.filter((l) => /^\s+at /.test(l));
        // The innermost frame in the library (or in ndarray, whose objects ndarray() returns).
        const inLib = (l) => /[/\\](dist|lib|node_modules[/\\]ndarray)[/\\]/.test(l) && !l.includes(SELF);
        const top = (frames.find(inLib) || frames.find((l) => !l.includes('(<anonymous>)') && !l.includes('(node:')) || frames[0] || '').trim();
        const fnName = /^at (?:new |async )?(.*?) \(/.exec(top);
        const file = /([^\s()/\\]+\.(?:js|mjs|cjs|ts|node)):(\d+)/.exec(top);
        // Anonymous functions are told apart by their line.
        info.frame = fnName ? `${fnName[1]}${file ? ` (${file[1]})` : ''}` : `<anonymous>${file ? ` (${file[1]}:${file[2]})` : ''}`;
      } else {
        info.name = `thrown ${typeof e}`;
        info.message = clip(lab(e), 200);
      }
    } catch {
      info.name = 'hostile thrown value';
    }
    return info;
  }
  /** Where the error was thrown: the first stack frame with a file (skips builtins such as DataView.getUint8). */
  function thrownIn(e) {
    try {
      const frames = String(e.stack).split('\n').filter((l) => /^\s+at /.test(l));
      return frames.find((l) => !/\((<anonymous>|native)\)$/.test(l.trim()) && !l.includes('(node:')) || '';
    } catch {
      return '';
    }
  }
  /**
   * The chain of `cause`s under `e` (e.cause, e.cause.cause, …), read without
   * running user code where possible; cycles and hostile values end it.
   */
  function causeChain(e) {
    const out = [];
    const seen = new Set();
    let cur = e;
    for (let depth = 0; depth < 8; depth++) {
      let next;
      try {
        if ((typeof cur !== 'object' && typeof cur !== 'function') || cur === null) break;
        const d = Object.getOwnPropertyDescriptor(cur, 'cause');
        if (d === undefined || !Object.hasOwn(d, 'value')) break;
        next = d.value;
      } catch {
        break;
      }
      if (seen.has(next)) break;
      seen.add(next);
      out.push(next);
      cur = next;
    }
    return out;
  }
  const isSentinel = (v) => (typeof v === 'object' || typeof v === 'function') && v !== null && sentinels.has(v);
  /** errInfo() of each cause of `e`, outermost first, with the cause's own top stack frame. */
  function causeInfo(e) {
    return causeChain(e).map((c) => {
      const info = errInfo(c);
      let top = '';
      try {
        top = (String(c.stack || '').split('\n').find((l) => /^\s+at /.test(l)) || '').trim();
      } catch {}
      return { name: info.name, code: info.code, message: info.message, frame: info.frame, top, sentinel: isSentinel(c), stack: info.stack };
    });
  }
  /**
   * Messages of the native binding's checks of its own internal arguments
   * (src-native/binding.cc ThrowArg): lib/ builds those values itself, so
   * outside pollution rounds one of these means lib/ passed inconsistent
   * values. (Not "path must …": lib/ passes user paths through to the OS.)
   */
  const BINDING_INTERNAL_RE = /bad view|bad stride|coords|destination|window out of range|type out of range|mode out of range|fd out of range|advice out of range|view must be a Float64Array|region changed|^share\(meta\)|^Mapping\(|^init\(/;
  /** `polluted`: the pollution was installed when `e` was thrown (call() classifies after removing it). */
  function classify(e, method = '', polluted = S.polluting) {
    if (isSentinel(e)) return { ok: true, sentinel: true };
    let mm = false;
    try {
      mm = e instanceof lib.MemmapError;
    } catch {}
    // scijs ndarray's own code (the views ndarray() returns for native-order arrays) throws
    // plain errors for arguments it cannot use (BigInt indices, …): its behaviour, not memmap's.
    if (!mm && method.startsWith('ndarray.') && e instanceof Error && /[/\\]node_modules[/\\]ndarray[/\\]/.test(thrownIn(e))) return { ok: true, thirdParty: true };
    if (!mm) return { ok: false, kind: 'foreign-error' };
    let code;
    let errPath;
    let syscall;
    let message = '';
    let stack = '';
    try {
      code = e.code;
      errPath = e.path;
      syscall = e.syscall;
      message = String(e.message);
      stack = String(e.stack);
    } catch {}
    if (typeof code !== 'string' || !CODE_RE.test(code)) return { ok: false, kind: 'bad-code' };
    if (code === 'ERR_CALLBACK') {
      // The library wraps whatever foreign exception escapes a call as ERR_CALLBACK (lib/boundary.ts). That is
      // right only when JavaScript the caller supplied threw: the fuzzer's sentinel (its getters, traps and
      // coercions throw nothing else), or, while prototypes and built-ins are patched, whatever a patched
      // built-in runs into. Anything else (a TypeError of memmap's own code on a detached buffer, …) is a
      // bug of the library hidden behind the wrapper.
      const chain = causeChain(e);
      if (chain.some(isSentinel)) return { ok: true, sentinel: true, wrapped: true, code };
      if (polluted) return { ok: true, code, callbackExcused: causeInfo(e) };
      return { ok: false, kind: 'callback-without-callback', cause: causeInfo(e) };
    }
    if (code === 'ERR_INVALID_ARG_VALUE' && !S.pollution && BINDING_INTERNAL_RE.test(message)) {
      // The binding refused an argument lib/ computed (a view descriptor, a window, coordinates, a destination).
      return { ok: false, kind: 'binding-internal-arg', fromBinding: /^\s+at nativeError /m.test(stack) };
    }
    return { ok: true, code, errno: !code.startsWith('ERR_') && typeof syscall === 'string', path: typeof errPath === 'string' ? errPath : null };
  }
  const oneLineCause = (c) => clip(`${c.name}: ${c.message.split('\n')[0]} @ ${c.frame || c.top}`, 200);
  function countOutcome(k) {
    const cb = S.outcomes.callback;
    if (k.wrapped) cb.sentinel++;
    else if (k.callbackExcused) {
      cb.pollution++;
      // Not faults, but listed: what the patched built-ins made the library run into.
      const c = k.callbackExcused[0];
      const key = c ? oneLineCause(c) : 'no cause';
      const ex = (S.outcomes.callbackExcused ??= {});
      if (key in ex || Object.keys(ex).length < 20) ex[key] = (ex[key] || 0) + 1;
    }
    else if (k.kind === 'callback-without-callback') cb.fault++;
  }
  /** Reports a throw classify() refused, with what a fault of its kind needs (the cause of an ERR_CALLBACK, …). */
  function faultFor(k, method, call, e) {
    if (k.kind === 'callback-without-callback') {
      const c = k.cause.find((x) => x.name !== 'MemmapError' || x.code === null) || k.cause[0];
      const detail = `ERR_CALLBACK ${S.transfer && !S.pollution ? 'in a transfer round ' : ''}${S.pollution ? '(the fuzzer called it between calls, unpolluted) ' : ''}but no caller code threw`;
      fault(k.kind, method, call, e, detail, c ? `cause ${c.name} at ${c.frame}` : 'no cause', { cause: k.cause });
    } else if (k.kind === 'binding-internal-arg') {
      let msg = '';
      try {
        msg = String(e.message);
      } catch {}
      fault(k.kind, method, call, e, `the native binding refused an argument lib/ built: ${msg}${k.fromBinding ? ' (thrown by the binding)' : ''}`, msg);
    } else fault(k.kind, method, call, e);
  }
  /** Records a fault once per (kind, call, error name, code, library frame, detailKey); counts repeats. */
  function fault(kind, method, call, e, detail, detailKey = '', extra = undefined) {
    const error = e === undefined ? { name: kind, code: null, message: detail || '', frame: '' } : errInfo(e);
    const key = `${kind}|${method}|${error.name}|${error.code}|${error.frame}|${detailKey}`;
    const f = S.faults.get(key);
    if (f) {
      f.count++;
      return;
    }
    const rec = { kind, method, call: clip(call, 600), callNo: S.calls, error, detail: detail ? clip(detail, 300) : undefined, detailKey, count: 1, pollution: S.pollution ? S.pollution.names : [], transfer: S.transfer, ...extra };
    S.faults.set(key, rec);
    trace(`FAULT ${JSON.stringify(rec)}`);
  }

  // -- file hashes -------------------------------------------------------------
  function fingerprint(file, st) {
    const h = crypto.createHash('sha256');
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 16);
      const readAt = (pos, len) => {
        let done = 0;
        while (done < len) {
          const n = fs.readSync(fd, buf, 0, Math.min(buf.length, len - done), pos + done);
          if (n === 0) break;
          h.update(buf.subarray(0, n));
          done += n;
        }
      };
      if (st.size <= 1 << 20) readAt(0, st.size);
      else {
        // Big (sparse) files: both ends and 64 pages spread over the middle.
        readAt(0, 1 << 18);
        for (let k = 1; k < 64; k++) readAt(Math.floor((st.size / 64) * k), 4096);
        readAt(st.size - (1 << 18), 1 << 18);
      }
    } finally {
      fs.closeSync(fd);
    }
    return `${st.size}:${h.digest('hex')}`;
  }
  function snapshot() {
    const out = new Map();
    const walk = (rel, depth) => {
      let names;
      try {
        names = fs.readdirSync(path.join(dir, rel));
      } catch {
        return;
      }
      for (const name of names) {
        const p = rel ? path.join(rel, name) : name;
        const abs = path.join(dir, p);
        let st;
        try {
          st = fs.lstatSync(abs);
        } catch {
          continue;
        }
        if (st.isSymbolicLink()) out.set(p, `link:${fs.readlinkSync(abs)}`);
        else if (st.isDirectory()) {
          out.set(p, 'dir');
          if (depth < 2) walk(p, depth + 1);
        } else if (st.isFile()) {
          try {
            out.set(p, fingerprint(abs, st));
          } catch (e) {
            out.set(p, `unreadable:${e.code}`);
          }
        } else out.set(p, 'other');
      }
    };
    walk('', 0);
    return out;
  }
  function changedFiles(before, after) {
    const changed = [];
    for (const [k, v] of before) if (after.get(k) !== v) changed.push(k);
    for (const k of after.keys()) if (!before.has(k)) changed.push(k);
    return changed;
  }

  // -- effects: what getters, traps and polluted prototypes do ---------------
  const isClosed = (e) => {
    try {
      return e.a.closed === true;
    } catch {
      return false;
    }
  };
  const openEntries = () => [...S.pool.values()].filter((e) => !isClosed(e));
  /** Open arrays whose memory the fuzzer may touch: not over a file that shrank under them. */
  const usableEntries = () => openEntries().filter((e) => !e.shrunk);
  /**
   * A library call the fuzzer makes on the side (in a getter, a trap, a
   * polluted prototype, or to get a buffer): checked like any call except for
   * the file hashes. `method` is the API called, `what` the call itself.
   */
  function nested(method, what, fn) {
    S.nested++;
    if (!S.ctx) S.snapValid = false;
    const polluted = S.polluting || S.suspended; // fn() runs with the pollution installed
    try {
      return withPollutionRestored(fn);
    } catch (e) {
      const c = classify(e, method, polluted);
      countOutcome(c);
      if (!c.ok) faultFor(c, method, `${what} ${S.ctx ? `inside ${S.ctx.label}` : '(by the fuzzer, between calls)'}`, e);
      return undefined;
    }
  }
  function closeEntry(e, where) {
    if (!e) return;
    const dispose = r.chance(0.2);
    nested(dispose ? 'a.Symbol.dispose' : 'a.close', `${e.label}.${dispose ? '[Symbol.dispose]' : 'close'}() in ${where}`, () => (dispose ? e.a[Symbol.dispose]() : e.a.close()));
  }
  function addEntry(a, file) {
    const id = S.nextId++;
    let label = `a#${id}`;
    try {
      label = `a#${id}<${a.descr} [${a.shape.join(',')}] ${a.mode}${a.order === 'F' ? ' F' : ''}>`;
    } catch {}
    // The file's identity, to notice when a later call shrinks it under this mapping.
    let fk = null;
    try {
      const st = fs.statSync(a.filename);
      fk = `${st.dev}:${st.ino}`;
    } catch {}
    const shared = file === SHARED;
    const e = { id, a, file: shared ? null : file, label, fk, shared, shrunk: shared && S.everShrank };
    named(a, label);
    S.pool.set(id, e);
    // Keep the pool small: forget the oldest closed arrays.
    if (S.pool.size > 14) {
      for (const [k, old] of S.pool) {
        if (isClosed(old)) {
          S.pool.delete(k);
          if (S.pool.size <= 14) break;
        }
      }
    }
    return e;
  }
  /** Sizes of the directory's files by inode. */
  function fileSizes() {
    const m = new Map();
    const walk = (rel, depth) => {
      let names = [];
      try {
        names = fs.readdirSync(path.join(dir, rel));
      } catch {}
      for (const name of names) {
        try {
          const st = fs.statSync(path.join(dir, rel, name));
          if (st.isFile()) m.set(`${st.dev}:${st.ino}`, st.size);
          else if (st.isDirectory() && depth < 1) walk(path.join(rel, name), depth + 1);
        } catch {}
      }
    };
    walk('', 0);
    return m;
  }
  /**
   * After a call that shrank a file ('w+' truncates): arrays mapping past the
   * new end would die of SIGBUS on plain memory access, as mmap does everywhere
   * (README, Safety). They are marked and from then on only used through calls
   * that do not touch their pages from JavaScript (sum/read/gather must turn the
   * SIGBUS into ERR_SIGBUS); their views and moved buffers are forgotten.
   */
  function checkShrink() {
    const now = fileSizes();
    let shrank = false;
    for (const [k, size] of now) if (S.sizes.has(k) && size < S.sizes.get(k)) shrank = true;
    S.sizes = now;
    if (!shrank) return;
    S.everShrank = true;
    for (const e of S.pool.values()) {
      if (e.shrunk) continue;
      let need = Infinity;
      try {
        need = e.a.offset + e.a.byteLength;
      } catch {}
      const size = e.fk ? now.get(e.fk) : undefined;
      // A view's pages may lie anywhere in its base's (negative steps): any shrink may have cut them.
      if (e.shared || e.view || (size !== undefined && size < need)) {
        e.shrunk = true;
        S.outcomes.arraysOverShrunkFiles = (S.outcomes.arraysOverShrunkFiles || 0) + 1;
      }
    }
    const gone = (x) => x.entry && x.entry.shrunk;
    for (const bag of [S.views, S.moved, S.nds, S.survivors]) for (const [k, x] of bag) if (gone(x) || x.captured) bag.delete(k);
    // Buffers caught in DataView constructors: their owner is a guess, forget them all.
    S.captured.clear();
  }
  function openAnother(where) {
    const files = regularFiles().filter((f) => f.size > 0);
    if (S.ctx && r.chance(0.25)) {
      // Create a file: that changes the directory, so the call's file check is off.
      S.ctx.sideEffects++;
      const name = `scratch-${S.nextN++}.arr`;
      const shape = [1 + r.int(8192)];
      const a = nested('memmap', `memmap(${JSON.stringify(name)}, {mode: 'w+', dtype: 'uint8', shape: [${shape}]}) in ${where}`, () => lib.memmap(name, { mode: 'w+', dtype: 'uint8', shape }));
      if (a) addEntry(a, name);
      return;
    }
    if (files.length === 0) return;
    const f = r.pick(files);
    const mode = r.pick(['r', 'c', 'r+']);
    // 'r+' may grow a file (and with a polluted Object.prototype any open may write): not the call's doing.
    if (S.ctx && (mode === 'r+' || S.pollution)) S.ctx.sideEffects++;
    const a = nested('memmap', `memmap(${JSON.stringify(f.name)}, {mode: '${mode}'}) in ${where}`, () => lib.memmap(f.name, { mode }));
    if (a) addEntry(a, f.name);
  }
  function writeOther() {
    const cands = usableEntries().filter((e) => e.a.mode === 'r+' && e.a.size > 0);
    if (cands.length === 0) return;
    const e = r.pick(cands);
    if (S.ctx) S.ctx.sideEffects++;
    const args = [...validIndex(e.a.shape), validValue(e.a.dtype)];
    nested('a.set', `${e.label}.set(${args.map(lab).join(', ')})`, () => e.a.set(...args));
  }
  function mappedBuffer(e) {
    // A buffer over the mapping: data, bytes, a segment, or one the library made internally.
    const a = e.a;
    const which = r.int(4);
    if (which === 3 && S.captured.size > 0) {
      const c = bagPick(S.captured);
      if (c && c.buf.byteLength > 0) return { buf: c.buf, entry: c.entry || e, what: 'internal DataView buffer', captured: true };
    }
    const api = ['a.data', 'a.bytes', 'a.segments'][Math.min(which, 2)];
    const buf = nested(api, `${e.label}.${api.slice(2)} (for its buffer)`, () => {
      if (which === 0) return a.data.buffer;
      if (which === 1) return a.bytes.buffer;
      const it = a.segments({ maxBytes: r.pick([4096, 65536, 2 ** 30]) });
      const s = it.next();
      return s.done ? undefined : s.value.data.buffer;
    });
    return buf ? { buf, entry: e, what: ['data.buffer', 'bytes.buffer', 'segment buffer'][Math.min(which, 2)] } : null;
  }
  function transferSome(where) {
    if (!hasTransfer) return;
    const cands = usableEntries();
    if (cands.length === 0) return;
    const e = S.ctx && S.ctx.target && !isClosed(S.ctx.target) && !S.ctx.target.shrunk && r.chance(0.5) ? S.ctx.target : r.pick(cands);
    const m = mappedBuffer(e);
    if (!m || m.buf.byteLength === 0) return;
    try {
      const how = r.chance(0.8) || typeof m.buf.transferToFixedLength !== 'function' ? 'transfer' : 'transferToFixedLength';
      const moved = m.buf[how]();
      bagAdd(S.moved, { buf: moved, entry: m.entry, what: `${m.entry.label}.${m.what}.${how}() in ${where}`, kind: `a buffer moved by ${how}()`, captured: m.captured }, 32);
    } catch {}
  }
  /**
   * Runs the fuzzer's own code (an effect) with the pollution taken down: an
   * Array.prototype[0] setter that drops values would break its bookkeeping
   * (push() into a fresh array, …) and make it throw errors of its own into
   * the library. The library calls it makes go through nested(), which puts
   * the pollution back around them.
   */
  function withoutPollution(fn) {
    if (!S.polluting) return fn();
    S.polluting = false;
    S.pollution.remove();
    const prev = S.suspended;
    S.suspended = true;
    try {
      return fn();
    } finally {
      S.suspended = prev;
      S.pollution.install();
      S.polluting = true;
    }
  }
  function withPollutionRestored(fn) {
    if (!S.suspended) return fn();
    S.suspended = false;
    S.pollution.install();
    S.polluting = true;
    try {
      return fn();
    } finally {
      S.polluting = false;
      S.pollution.remove();
      S.suspended = true;
    }
  }
  function runEffect(kind, where) {
    if (S.effectDepth > 1 || kind === 'none') return;
    withoutPollution(() => runEffectNow(kind, where));
  }
  function runEffectNow(kind, where) {
    S.effectDepth++;
    try {
      switch (kind) {
        case 'throw': {
          const err = new Error(`fuzzer sentinel from ${where}`);
          err.name = 'FuzzSentinel';
          sentinels.add(err);
          throw err;
        }
        case 'closeTarget':
          closeEntry(S.ctx && S.ctx.target ? S.ctx.target : bagPick(S.pool), where);
          break;
        case 'closeRandom':
          closeEntry(bagPick(S.pool), where);
          break;
        case 'closeAll':
          for (const e of [...S.pool.values()]) closeEntry(e, where);
          break;
        case 'closeOpen':
          closeEntry(S.ctx && S.ctx.target ? S.ctx.target : bagPick(S.pool), where);
          openAnother(where);
          break;
        case 'gc':
          global.gc();
          break;
        case 'transfer':
          transferSome(where);
          break;
        case 'writeOther':
          writeOther();
          break;
      }
    } finally {
      S.effectDepth--;
    }
  }
  function pickEffect() {
    return r.weighted([
      ['none', 45],
      ['closeTarget', 20],
      ['throw', 10],
      ['closeOpen', 8],
      ['closeRandom', 5],
      ['closeAll', 2],
      ['gc', 3],
      ['transfer', S.transfer ? 5 : 0],
      ['writeOther', 3],
    ]);
  }

  // -- prototype pollution (installed around every call of a pollution round) --
  function pollutionEffect(where) {
    if (!S.ctx || S.effectDepth > 0 || !r.chance(S.pollution.rate)) return;
    runEffect(r.weighted([['closeTarget', 6], ['closeOpen', 2], ['closeRandom', 1], ['gc', 1], ['transfer', S.transfer ? 2 : 0]]), where);
  }
  function makePollution() {
    const names = [];
    const installs = [];
    const removes = [];
    const variants = ['options', 'index-accessors', 'map', 'iterator', 'push', 'from'];
    const chosen = variants.filter(() => r.chance(0.4));
    if (chosen.length === 0) chosen.push(r.pick(variants));
    if (chosen.includes('options')) {
      const all = {
        mode: r.pick(['w+', 'r+', 'write']),
        shape: r.pick([[1e9], [4], [2, 2]]),
        dtype: r.pick(['float64', '>i8', 'complex128']),
        offset: r.pick([5, 4096, 1]),
        order: 'F',
        populate: true,
        maxBytes: 1,
        maxHeaderSize: 0,
        fortranOrder: true,
        version: [3, 0],
        type: 'memmap.shared',
        descr: '<f8',
        re: 1,
        length: r.pick([2 ** 32, 3]),
      };
      // The four of the issue always, some of the others.
      const keys = ['mode', 'shape', 'dtype', 'offset', ...Object.keys(all).slice(4).filter(() => r.chance(0.3))];
      names.push(`Object.prototype.{${keys.join(',')}}`);
      installs.push(() => {
        for (const k of keys) Object.prototype[k] = all[k];
      });
      removes.push(() => {
        for (const k of keys) delete Object.prototype[k];
      });
      S.pollutedOptions = Object.fromEntries(keys.map((k) => [k, all[k]]));
    }
    if (chosen.includes('index-accessors')) {
      const discard = r.chance(0.5);
      const idx = [0, 1, 2].filter(() => r.chance(0.6));
      if (idx.length === 0) idx.push(0);
      const values = [0, 1, null, undefined, -1, 2 ** 53, 0.5];
      names.push(`Array.prototype[${idx.join(',')}] accessors (${discard ? 'setter drops' : 'setter defines'}, close arrays)`);
      installs.push(() => {
        for (const k of idx) {
          Object.defineProperty(Array.prototype, k, {
            configurable: true,
            get() {
              pollutionEffect(`Array.prototype[${k}] getter`);
              return values[r.int(values.length)];
            },
            set(v) {
              pollutionEffect(`Array.prototype[${k}] setter`);
              if (!discard) Object.defineProperty(this, k, { value: v, writable: true, enumerable: true, configurable: true });
            },
          });
        }
      });
      removes.push(() => {
        for (const k of idx) delete Array.prototype[k];
      });
    }
    const patch = (holder, key, name, make) => {
      const orig = holder[key];
      const patched = make(orig);
      names.push(name);
      installs.push(() => {
        holder[key] = patched;
      });
      removes.push(() => {
        holder[key] = orig;
      });
    };
    // Makes element k of an array an accessor that closes arrays (native code reads it after its checks).
    const booby = (arr) => {
      if (!Array.isArray(arr) || arr.length === 0 || !r.chance(0.5)) return arr;
      const k = r.int(arr.length);
      const v = arr[k];
      try {
        Object.defineProperty(arr, k, {
          configurable: true,
          enumerable: true,
          get() {
            pollutionEffect('accessor element');
            return v;
          },
        });
      } catch {}
      return arr;
    };
    if (chosen.includes('map')) {
      patch(Array.prototype, 'map', 'Array.prototype.map patched (closes arrays, accessor elements)', (orig) =>
        function map(...args) {
          pollutionEffect('Array.prototype.map');
          return booby(Reflect.apply(orig, this, args));
        },
      );
    }
    if (chosen.includes('iterator')) {
      patch(Array.prototype, Symbol.iterator, 'Array.prototype[Symbol.iterator] patched (closes arrays)', (orig) =>
        function values() {
          pollutionEffect('Array.prototype[Symbol.iterator]');
          return Reflect.apply(orig, this, []);
        },
      );
    }
    if (chosen.includes('push')) {
      patch(Array.prototype, 'push', 'Array.prototype.push patched (closes arrays, accessor elements)', (orig) =>
        function push(...args) {
          pollutionEffect('Array.prototype.push');
          const n = Reflect.apply(orig, this, args);
          booby(this);
          return n;
        },
      );
    }
    if (chosen.includes('from')) {
      patch(Float64Array, 'from', 'Float64Array.from patched (closes arrays)', (orig) =>
        function from(...args) {
          pollutionEffect('Float64Array.from');
          return Reflect.apply(orig, this, args);
        },
      );
    }
    return {
      names,
      rate: r.pick([0.05, 0.15, 0.3]),
      install() {
        for (const f of installs) f();
      },
      remove() {
        for (let i = removes.length - 1; i >= 0; i--) removes[i]();
      },
    };
  }

  // -- values ----------------------------------------------------------------
  function regularFiles() {
    const out = [];
    let names = [];
    try {
      names = fs.readdirSync(dir);
    } catch {}
    for (const name of names) {
      try {
        const st = fs.statSync(path.join(dir, name));
        if (st.isFile()) out.push({ name, size: st.size });
      } catch {}
    }
    return out;
  }
  function isNpy(name) {
    try {
      const fd = fs.openSync(path.join(dir, name), 'r');
      try {
        const b = Buffer.alloc(6);
        fs.readSync(fd, b, 0, 6, 0);
        return b.toString('latin1') === '\x93NUMPY';
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return false;
    }
  }
  function pickString(g) {
    const s = r.pick(STRINGS);
    if (s === 'w+' || s === 'write') g.write = true;
    return s;
  }
  function pickMode(g, w = {}) {
    const m = r.weighted([
      ['r', w.r ?? 35],
      ['c', w.c ?? 18],
      ['r+', w['r+'] ?? 22],
      ['w+', w['w+'] ?? 8],
      ['readonly', 2],
      ['readwrite', 2],
      ['copyonwrite', 2],
      ['write', w['w+'] ? 2 : 0],
      [r.pick(BAD_MODES), 4],
    ]);
    if (m === 'w+' || m === 'write') g.write = true;
    return m;
  }
  const smallInt = () => r.int(12) - 4;
  function number() {
    return r.chance(0.6) ? r.pick(EDGE_NUMBERS) : r.pick([smallInt(), r.int(5000), r.next() * 10 - 5, -r.int(100)]);
  }
  /** A getter-based object over `keys`, each getter running an effect then returning a value. */
  function getterObject(g, keys, valueFor) {
    const o = {};
    const parts = [];
    for (const k of keys) {
      const v = valueFor ? valueFor(k) : gen(g, 0);
      const eff = pickEffect();
      let n = 0;
      Object.defineProperty(o, k, {
        enumerable: true,
        configurable: true,
        get() {
          n++;
          runEffect(eff, `getter ${String(k)}`);
          return v;
        },
      });
      parts.push(`get ${String(k)}:${eff === 'none' ? '' : eff + '→'}${lab(v)}`);
      void n;
    }
    return named(o, `{${parts.join(', ')}}`);
  }
  function proxyOf(g, target, tlabel) {
    const mode = r.weighted([['throw', 3], ['close', 4], ['lie', 2], ['nth', 3]]);
    const nth = 1 + r.int(6);
    let count = 0;
    const lie = gen(g, 0);
    const act = (trap) => {
      count++;
      if (mode === 'throw' && (count > 1 || r.chance(0.5))) runEffect('throw', `proxy ${trap} trap`);
      else if (mode === 'close') runEffect('closeTarget', `proxy ${trap} trap`);
      else if (mode === 'nth' && count === nth) runEffect(r.pick(['closeTarget', 'closeOpen', 'throw']), `proxy ${trap} trap #${nth}`);
    };
    const handler = {
      get(t, k, recv) {
        act('get');
        if (mode === 'lie' && typeof k === 'string' && r.chance(0.5)) return lie;
        return Reflect.get(t, k, recv);
      },
      has(t, k) {
        act('has');
        return Reflect.has(t, k);
      },
      ownKeys(t) {
        act('ownKeys');
        return Reflect.ownKeys(t);
      },
      getOwnPropertyDescriptor(t, k) {
        act('getOwnPropertyDescriptor');
        return Reflect.getOwnPropertyDescriptor(t, k);
      },
      getPrototypeOf(t) {
        act('getPrototypeOf');
        return Reflect.getPrototypeOf(t);
      },
    };
    if (typeof target === 'function') {
      handler.apply = (t, thisArg, args) => {
        act('apply');
        return Reflect.apply(t, thisArg, args);
      };
    }
    return named(new Proxy(target, handler), `Proxy(${tlabel}, ${mode}${mode === 'nth' ? ' ' + nth : ''}${mode === 'lie' ? ' ' + lab(lie) : ''})`);
  }
  function holes(g, fill) {
    const kind = r.int(5);
    let a;
    if (kind === 0) a = [, 1, , 3]; // eslint-disable-line no-sparse-arrays
    else if (kind === 1) a = [0, , 2]; // eslint-disable-line no-sparse-arrays
    else if (kind === 2) {
      a = new Array(1 + r.int(6));
      a[r.int(a.length)] = fill ? fill() : gen(g, 0);
    } else if (kind === 3) a = [, , ,]; // eslint-disable-line no-sparse-arrays
    else {
      a = [fill ? fill() : 0];
      a.length = r.pick([3, 10, 1000]);
    }
    const parts = [];
    for (let i = 0; i < Math.min(a.length, 8); i++) parts.push(i in a ? lab(a[i]) : '');
    return named(a, `[${parts.join(',')}${a.length > 8 ? `,…(length ${a.length})` : ''}]`);
  }
  /** An array whose elements `idx` are accessors running effects (close the array in use, …). */
  function accessorArray(items) {
    const a = items.slice();
    const parts = items.map((v) => lab(v));
    const n = 1 + r.int(Math.min(2, Math.max(1, a.length)));
    for (let j = 0; j < n && a.length > 0; j++) {
      const k = r.int(a.length);
      const v = items[k];
      const eff = r.weighted([['closeTarget', 6], ['closeOpen', 2], ['throw', 1], ['transfer', S.transfer ? 2 : 0], ['gc', 1]]);
      Object.defineProperty(a, k, {
        enumerable: true,
        configurable: true,
        get() {
          runEffect(eff, `element ${k} getter`);
          return v;
        },
      });
      parts[k] = `get ${eff}→${lab(v)}`;
    }
    return named(a, `[${parts.join(', ')}]`);
  }
  function typedOf(values) {
    const T = r.pick(TYPED);
    const big = T === BigInt64Array || T === BigUint64Array;
    const ta = new T(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      try {
        ta[i] = big ? BigInt.asIntN(64, typeof v === 'bigint' ? v : BigInt(Number.isFinite(v) ? Math.trunc(v) : 0)) : Number(v);
      } catch {}
    }
    return named(ta, `${T.name}[${Array.from(ta, (x) => lab(x)).slice(0, 8).join(',')}]`);
  }
  function mappedTyped(g) {
    const cands = usableEntries().filter((e) => e.a.byteLength > 0);
    if (cands.length === 0) return undefined;
    const e = g.target && !isClosed(g.target) && !g.target.shrunk && g.target.a.byteLength > 0 && r.chance(0.5) ? g.target : r.pick(cands);
    const m = mappedBuffer(e);
    if (!m || m.buf.byteLength === 0) return undefined;
    const T = r.pick(TYPED);
    const n = Math.floor(m.buf.byteLength / T.BYTES_PER_ELEMENT);
    let v;
    try {
      v = n > 0 ? new T(m.buf, 0, Math.min(n, r.pick([1, 2, 3, n]))) : new DataView(m.buf);
    } catch {
      return undefined;
    }
    // (Over a buffer caught in a DataView constructor the owner is a guess: not checked after close.)
    if (!m.captured) bagAdd(S.views, { view: v, entry: m.entry, what: `${v.constructor.name} over ${m.entry.label}.${m.what}`, kind: `a view over ${m.what}` }, 64);
    return named(v, `${v.constructor.name} over ${m.entry.label}.${m.what}`);
  }
  function arrayLike(g) {
    const len = r.pick([2 ** 32, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -1, NaN, 1.5, '2', 2, 0, 2 ** 32 + 1]);
    const kind = r.int(3);
    let o;
    if (kind === 0) o = { length: len };
    else if (kind === 1) o = { length: len, 0: 0, 1: 1 };
    else o = getterObject(g, ['length', '0', '1'], (k) => (k === 'length' ? len : r.int(3)));
    return kind === 2 ? o : named(o, `{length: ${lab(len)}${kind === 1 ? ', 0: 0, 1: 1' : ''}}`);
  }
  function coercible(_g) {
    const v = r.pick([0, 1, 'r', 'float32', 2 ** 53, -1, NaN]);
    const eff = pickEffect();
    const kind = r.int(5);
    let o;
    if (kind === 0)
      o = {
        valueOf() {
          runEffect(eff, 'valueOf');
          return v;
        },
      };
    else if (kind === 1)
      o = {
        toString() {
          runEffect(eff, 'toString');
          return String(v);
        },
      };
    else if (kind === 2)
      o = {
        [Symbol.toPrimitive]() {
          runEffect(eff, 'Symbol.toPrimitive');
          return v;
        },
      };
    else if (kind === 3) o = { toString: null, valueOf: null };
    else o = { valueOf: 1, toString: 'x' };
    const what = ['valueOf', 'toString', 'Symbol.toPrimitive', 'toString: null, valueOf: null', 'valueOf: 1, toString: "x"'][kind];
    return named(o, kind < 3 ? `{${what}() ${eff === 'none' ? '' : eff + '→'}${lab(v)}}` : `{${what}}`);
  }
  function fn() {
    const k = r.int(6);
    const f = [
      () => 1,
      function two(a, b) {
        return a + b;
      },
      class Foo {},
      (() => {}).bind(null, 1),
      function* gen() {
        yield 1;
      },
      async () => 0,
    ][k];
    return named(f, ['() => 1', 'function two(a, b)', 'class Foo', 'bound function', 'function*', 'async () => 0'][k]);
  }
  function misc(_g) {
    const k = r.int(13);
    switch (k) {
      case 0:
        return named(new Date(0), 'new Date(0)');
      case 1:
        return named(/r\+/, '/r\\+/');
      case 2:
        return named(new Map([['mode', 'w+']]), "Map{mode: 'w+'}");
      case 3:
        return named(Buffer.from(r.pick(['r0.arr', 'a.npy', 'nope', ''])), 'Buffer(path)');
      case 4:
        return named(new ArrayBuffer(r.pick([0, 8, 16])), 'ArrayBuffer');
      case 5:
        return named(new SharedArrayBuffer(8), 'SharedArrayBuffer(8)');
      case 6:
        return named(new DataView(new ArrayBuffer(8)), 'DataView(8)');
      case 7:
        return named(pathToFileURL(path.join(dir, r.pick(['r0.arr', 'a.npy', 'nope.arr']))), 'file: URL');
      case 8:
        return named(new URL('http://example.invalid/r0.arr'), 'http: URL');
      case 9:
        return named(Object.create(null), 'Object.create(null)');
      case 10:
        return named(new lib.MemmapError('ERR_X', 'x'), 'new MemmapError');
      case 11: {
        const e = bagPick(S.pool);
        return e ? e.a : null;
      }
      default: {
        const t = bagPick(S.tokens);
        return t ? t.token : named(Object.freeze({}), 'frozen {}');
      }
    }
  }
  /** A random value of any type; `depth` bounds nesting. */
  function gen(g, depth = 1) {
    const kind = r.weighted([
      ['number', 20],
      ['bigint', 6],
      ['string', 12],
      ['boolean', 3],
      ['null', 5],
      ['undefined', 6],
      ['symbol', 2],
      ['object', depth > 0 ? 5 : 0],
      ['getters', depth > 0 ? 5 : 0],
      ['coercible', 4],
      ['proxy', depth > 0 ? 5 : 0],
      ['holes', 4],
      ['accessorArray', depth > 0 ? 4 : 0],
      ['array', depth > 0 ? 4 : 0],
      ['typed', 5],
      ['mapped', 3],
      ['arrayLike', depth > 0 ? 2 : 0],
      ['function', 3],
      ['misc', 3],
      ['hugeSparse', 0.15],
    ]);
    switch (kind) {
      case 'number':
        return number();
      case 'bigint':
        return r.pick(EDGE_BIGINTS);
      case 'string':
        return pickString(g);
      case 'boolean':
        return r.chance(0.5);
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      case 'symbol':
        return Symbol(r.pick(['', 'mode', 'x']));
      case 'object': {
        const keys = r.pick([['mode'], ['dtype', 'shape'], ['re', 'im'], ['maxBytes'], ['length', '0'], ['descr'], ['__proto__'], []]);
        const o = {};
        for (const k of keys) {
          if (k === '__proto__') Object.defineProperty(o, k, { value: gen(g, 0), enumerable: true, configurable: true, writable: true });
          else o[k] = gen(g, depth - 1);
        }
        return named(o, `{${keys.map((k) => `${k}: ${lab(o[k])}`).join(', ')}}`);
      }
      case 'getters':
        return getterObject(g, r.pick([['mode'], ['dtype', 'shape', 'mode'], ['re', 'im'], ['maxBytes'], ['length', '0', '1'], ['descr'], ['type', 'id', 'filename']]));
      case 'coercible':
        return coercible(g);
      case 'proxy': {
        const t = r.int(4);
        if (t === 0) return proxyOf(g, { mode: 'r', dtype: 'uint8' }, "{mode: 'r', dtype: 'uint8'}");
        if (t === 1) return proxyOf(g, [0, 1, 2], '[0,1,2]');
        if (t === 2) return proxyOf(g, new Float64Array([0, 1]), 'Float64Array[0,1]');
        return proxyOf(g, () => 0, '() => 0');
      }
      case 'holes':
        return holes(g);
      case 'accessorArray':
        return accessorArray([0, 1, 2].map(() => (r.chance(0.7) ? r.int(4) : gen(g, 0))));
      case 'array': {
        const n = r.int(5);
        const a = [];
        for (let i = 0; i < n; i++) a.push(gen(g, depth - 1));
        return named(a, `[${a.map(lab).join(', ')}]`);
      }
      case 'typed':
        return typedOf([0, 1, 2, -1, 2 ** 53, NaN].slice(0, r.int(5)).map((v) => (r.chance(0.7) ? v : number())));
      case 'mapped':
        return mappedTyped(g) ?? 0;
      case 'arrayLike':
        return arrayLike(g);
      case 'function':
        return fn();
      case 'misc':
        return misc(g);
      case 'hugeSparse':
        // Holes all the way: anything that walks it element by element never returns.
        return named(new Array(2 ** 32 - 1), 'new Array(2**32-1)');
    }
    return undefined;
  }

  // -- structured arguments ----------------------------------------------------
  function validIndex(shape) {
    return shape.map((d) => (d > 0 ? r.int(d) - (r.chance(0.2) ? d : 0) : 0));
  }
  function validValue(dtype) {
    switch (dtype) {
      case 'bool':
        return r.pick([true, false, 0, 1, 2, NaN, 0n, 1n, -0]);
      case 'int64':
      case 'uint64':
        return r.pick([0n, 1n, 5n, -1n, 2n ** 63n - 1n, 7, 2 ** 53, -(2 ** 53), 1.5, true]);
      case 'float16':
      case 'float32':
      case 'float64':
        return r.pick([0, 1.5, -2.25, NaN, Infinity, -0, 65504, 1e-8, 3n, true]);
      case 'complex64':
      case 'complex128':
        return r.pick([1, { re: 1, im: 2 }, [3, 4], { re: 5 }, named({ re: 1n, im: -1 }, '{re: 1n, im: -1}')]);
      default:
        return r.pick([0, 1, 7, -1, 127, 255, 1.9, -1.9, true, 3n]);
    }
  }
  /** A value for set(): usually right for the dtype, sometimes anything. */
  function setValue(g, dtype) {
    if (r.chance(0.6)) return autoName(validValue(dtype));
    if ((dtype === 'complex64' || dtype === 'complex128') && r.chance(0.4)) return getterObject(g, ['re', 'im'], () => r.pick([1, 2.5, NaN, 1n]));
    return gen(g);
  }
  function slicePart(g, dim) {
    return r.weighted([
      [null, 3],
      [undefined, 1],
      [r.int(dim + 5) - 2, 5],
      [-r.int(dim + 3), 3],
      [r.pick(EDGE_NUMBERS), 3],
      [r.pick(EDGE_BIGINTS), 1],
      [r.next() * dim, 1],
      [gen(g, 0), 1],
    ]);
  }
  function slice(g, dim) {
    const n = r.weighted([[3, 6], [2, 2], [1, 1], [0, 1], [4, 1]]);
    const parts = [];
    for (let i = 0; i < n; i++) parts.push(slicePart(g, dim));
    if (n === 3 && r.chance(0.6)) parts[2] = r.pick([1, 1, 2, -1, 3, -2, 0, 2 ** 53, -(2 ** 31), 0.5]);
    const k = r.int(10);
    if (k < 2) return accessorArray(parts); // elements that close the array while it is being read
    if (k === 2) return holes(g, () => slicePart(g, dim));
    if (k === 3) return proxyOf(g, parts, `[${parts.map(lab).join(', ')}]`);
    return named(parts, `[${parts.map(lab).join(', ')}]`);
  }
  function indexItems(g, shape) {
    const n = r.weighted([[shape.length, 6], [r.int(shape.length + 1), 3], [shape.length + 1, 1]]);
    const items = [];
    for (let d = 0; d < n; d++) {
      const dim = d < shape.length ? shape[d] : 3;
      items.push(
        r.weighted([
          [dim > 0 ? r.int(dim) - (r.chance(0.2) ? dim : 0) : 0, 7],
          [null, 3],
          [undefined, 1],
          [slice(g, dim), 6],
          [BigInt(dim > 0 ? r.int(dim) : 0), 1],
          [gen(g), 3],
        ]),
      );
    }
    return items;
  }
  function coordArray(g, dim, len) {
    const vals = [];
    for (let i = 0; i < len; i++) {
      vals.push(
        r.weighted([
          [dim > 0 ? r.int(dim) : 0, 10],
          [dim > 0 ? -1 - r.int(dim) : -1, 2],
          [dim, 1],
          [r.pick(EDGE_NUMBERS), 1],
          [BigInt(dim > 0 ? r.int(dim) : 0), 1],
          [gen(g, 0), 1],
        ]),
      );
    }
    const k = r.int(12);
    if (k < 2) return accessorArray(vals);
    if (k === 2) return holes(g, () => (dim > 0 ? r.int(dim) : 0));
    if (k === 3) return proxyOf(g, vals, `[${vals.map(lab).join(', ')}]`);
    if (k < 6) return typedOf(vals.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
    if (k === 6) return arrayLike(g);
    if (k === 7) return mappedTyped(g) ?? named(vals, `[${vals.map(lab).join(', ')}]`);
    return named(vals, `[${vals.map(lab).join(', ')}]`);
  }
  function coords(g, shape) {
    const n = r.weighted([[shape.length, 8], [shape.length + 1, 1], [Math.max(0, shape.length - 1), 1]]);
    const len = r.weighted([[r.int(6), 8], [0, 1], [r.int(40), 1]]);
    const out = [];
    for (let d = 0; d < n; d++) out.push(r.chance(0.92) ? coordArray(g, d < shape.length ? shape[d] : 2, r.chance(0.9) ? len : r.int(6)) : gen(g));
    return out;
  }
  function extraArgs(g) {
    const n = r.weighted([[0, 6], [1, 2], [2, 1]]);
    const out = [];
    for (let i = 0; i < n; i++) out.push(gen(g));
    return out;
  }
  function randomArgs(g) {
    const n = r.int(5);
    const out = [];
    for (let i = 0; i < n; i++) out.push(gen(g));
    return out;
  }

  // -- options objects -----------------------------------------------------------
  const ITEMSIZE = new Map();
  for (const d of DTYPES) {
    try {
      ITEMSIZE.set(d, lib.parseDType(d).itemsize);
    } catch {
      ITEMSIZE.set(d, 1); // refused now: still used, as a bad dtype
    }
  }
  function shapeFor(avail, growable) {
    const total = growable ? r.int(Math.max(avail, 16) + 64) : r.int(avail + 1);
    const k = r.weighted([[1, 5], [2, 4], [3, 2], [0, avail >= 1 ? 1 : 0]]);
    if (k === 0) return [];
    if (k === 1) return [total];
    const a = Math.max(1, Math.floor(Math.sqrt(total)));
    const b = Math.floor(total / a);
    if (k === 2) return r.chance(0.1) ? [0, b] : [a, b];
    const c = Math.max(1, Math.floor(b / 2));
    return [a, Math.max(1, Math.floor(b / c)), c];
  }
  /**
   * An options object: mostly-valid entries for `keys`, sometimes wrong ones,
   * in a random container (plain, getters, Proxy, null prototype, frozen,
   * inherited from a user prototype, an array). Returns { value, own } where
   * `own` lists the keys a plain object holds itself (for the pollution check).
   */
  function options(g, entries) {
    const o = {};
    const parts = [];
    for (const [k, valid, p] of entries) {
      if (!r.chance(p)) continue;
      const v = r.chance(0.82) ? autoName(valid()) : gen(g, 1);
      o[k] = v;
      parts.push(`${k}: ${lab(v)}`);
    }
    if (r.chance(0.04)) {
      const k = r.pick(['__proto__', 'constructor', 'maxHeaderSize', 'extra']);
      const v = gen(g, 0);
      Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
      parts.push(`${k}: ${lab(v)}`);
    }
    const body = parts.join(', ');
    const kind = r.weighted([['plain', 62], ['getters', 13], ['proxy', 7], ['null', 6], ['frozen', 3], ['inherited', 4], ['array', 2], ['gen', 3]]);
    switch (kind) {
      case 'plain':
        return { value: named(plain(o), `{${body}}`), own: new Set(Object.keys(o)), plain: true };
      case 'getters':
        return { value: getterObject(g, Object.keys(o), (k) => o[k]), own: null };
      case 'proxy':
        return { value: proxyOf(g, o, `{${body}}`), own: null };
      case 'null':
        return { value: named(Object.assign(Object.create(null), o), `Object.create(null) + {${body}}`), own: null };
      case 'frozen':
        return { value: named(plain(Object.freeze(o)), `Object.freeze({${body}})`), own: new Set(Object.keys(o)), plain: true };
      case 'inherited':
        return { value: named(Object.create(o), `Object.create({${body}})`), own: null };
      case 'array':
        return { value: named(Object.assign([], o), `Object.assign([], {${body}})`), own: null };
      default:
        return { value: gen(g), own: null };
    }
  }
  function memmapOptions(g, file) {
    const size = file ? file.size : 0;
    const dt = r.pick(DTYPES);
    const isz = ITEMSIZE.get(dt);
    const offset = r.weighted([[0, 6], [isz * r.int(4), 2], [1 + r.int(7), 1], [r.pick([4096, 4095, 4097, 2 ** 53, 2 ** 32]), 1]]);
    const mode = pickMode(g);
    const growable = mode === 'r+' || mode === 'w+' || mode === 'readwrite' || mode === 'write';
    const avail = Math.max(0, Math.floor((size - offset) / isz));
    return options(g, [
      ['dtype', () => dt, 0.8],
      ['mode', () => mode, 0.75],
      ['shape', () => (r.chance(0.1) ? r.pick([avail, BigInt(avail)]) : shapeFor(avail, growable)), growable && mode.startsWith('w') ? 0.9 : 0.5],
      ['offset', () => (r.chance(0.1) ? BigInt(offset) : offset), 0.35],
      ['order', () => r.pick(['C', 'F', 'c', 'f']), 0.3],
      ['populate', () => r.chance(0.5), 0.12],
    ]);
  }
  function npyOptions(g) {
    const mode = pickMode(g, { 'w+': 12 });
    const w = mode === 'w+' || mode === 'write';
    return options(g, [
      ['mode', () => mode, 0.75],
      ['dtype', () => r.pick(DTYPES), w ? 0.95 : 0.2],
      ['shape', () => shapeFor(r.int(200), true), w ? 0.95 : 0.2],
      ['fortranOrder', () => r.chance(0.5), 0.3],
      ['version', () => r.pick([[1, 0], [2, 0], [3, 0], [4, 0], [1, 1], [2]]), 0.2],
      ['maxHeaderSize', () => r.pick([10000, 0, 10, 200, Infinity, -1, NaN, 1.5]), 0.1],
      ['populate', () => r.chance(0.5), 0.1],
    ]);
  }
  function pickPath(g, prefer) {
    const files = regularFiles();
    const k = r.weighted([['file', 62], ['special', 28], ['gen', 10]]);
    if (k === 'file' && files.length > 0) {
      let cands = files;
      if (prefer === 'npy') {
        const npys = files.filter((f) => isNpy(f.name));
        if (npys.length && r.chance(0.8)) cands = npys;
      }
      const f = r.pick(cands);
      const form = r.weighted([['rel', 8], ['abs', 2], ['buffer', 1], ['url', 1]]);
      if (form === 'rel') return { value: f.name, file: f };
      if (form === 'abs') return { value: path.join(dir, f.name), file: f };
      if (form === 'buffer') return { value: named(Buffer.from(f.name), `Buffer(${JSON.stringify(f.name)})`), file: f };
      return { value: named(pathToFileURL(path.join(dir, f.name)), `URL(file:…/${f.name})`), file: f };
    }
    if (k === 'special' || files.length === 0) {
      const s = r.pick([
        'nope.arr', 'sub', 'link.arr', 'dangling.arr', 'sublink', `new-${S.nextN++}.arr`, `new-${S.nextN++}.npy`, '.', '..', '/', '/dev/null', '/dev/zero',
        '', 'a\0b', 'x'.repeat(300), 'sub/inner.arr', 'r0.arr\0', 'file:r0.arr',
      ]);
      if (r.chance(0.1)) return { value: named(new URL('file://remote.invalid/x'), 'URL(file://remote.invalid/x)'), file: null };
      return { value: s, file: null };
    }
    return { value: gen(g), file: null };
  }
  function tokenFor(g) {
    let base = bagPick(S.tokens);
    if (!base || r.chance(0.3)) {
      const cands = openEntries();
      if (cands.length) {
        const e = r.pick(cands);
        const t = nested('a.share', `${e.label}.share()`, () => e.a.share());
        if (t) {
          base = { token: t, entry: e };
          bagAdd(S.tokens, base, 16);
        }
      }
    }
    if (!base || r.chance(0.15)) return gen(g);
    const t = { ...base.token };
    const changes = [];
    const n = r.weighted([[0, 5], [1, 4], [2, 2]]);
    for (let i = 0; i < n; i++) {
      const k = r.pick(['id', 'shape', 'descr', 'mode', 'reportMode', 'order', 'offset', 'filename', 'type', 'delete']);
      let v;
      if (k === 'id') {
        const other = bagPick(S.tokens);
        v = r.chance(0.4) && other ? other.token.id : gen(g, 0);
      } else if (k === 'shape') v = r.chance(0.5) ? autoName(shapeFor(64, true)) : gen(g, 1);
      else if (k === 'descr') v = r.chance(0.6) ? r.pick(DTYPES) : gen(g, 0);
      else if (k === 'mode' || k === 'reportMode') v = r.chance(0.7) ? pickMode(g, { 'w+': 15 }) : gen(g, 0);
      else if (k === 'delete') {
        const d = r.pick(Object.keys(t));
        delete t[d];
        changes.push(`delete ${d}`);
        continue;
      } else v = gen(g, 0);
      t[k] = v;
      changes.push(`${k}: ${lab(v)}`);
    }
    const desc = `share() token of ${base.entry.label}${changes.length ? ` with ${changes.join(', ')}` : ''}`;
    const wrap = r.weighted([['plain', 8], ['getters', 1], ['proxy', 1], ['inherited', 1]]);
    if (wrap === 'getters') return getterObject(g, Object.keys(t), (k) => t[k]);
    if (wrap === 'proxy') return proxyOf(g, t, desc);
    if (wrap === 'inherited') return named(Object.create(t), `Object.create(${desc})`);
    return named(plain(t), desc);
  }

  // -- calls ---------------------------------------------------------------------
  /**
   * Runs one library call: fn() with the round's pollution installed around
   * it. A throw must be a MemmapError with a proper code (or the fuzzer's own
   * sentinel); a failed call must leave the directory's files unchanged.
   */
  function call(c) {
    const n = ++S.calls;
    trace(`CALL ${n} ${c.method}\t${c.label}`);
    if (!S.snapValid) {
      S.snap = snapshot();
      S.snapValid = true;
    }
    const before = S.snap;
    const wasClosed = c.target ? isClosed(c.target) : false;
    const ctx = { target: c.target || null, label: c.label, sideEffects: 0 };
    S.ctx = ctx;
    let threw = false;
    let result;
    let err;
    if (S.pollution) {
      S.pollution.install();
      S.polluting = true;
    }
    try {
      result = c.fn();
    } catch (e) {
      threw = true;
      err = e;
    } finally {
      if (S.pollution) {
        S.polluting = false;
        S.pollution.remove();
      }
      S.ctx = null;
    }
    checkShrink();
    checkFds(c);
    if (!threw) {
      S.outcomes.ok++;
      S.snapValid = false;
      if (wasClosed && CLOSED_THROWS.has(c.method.replace(/^a\./, ''))) {
        fault('closed-no-throw', c.method, c.label, undefined, `returned instead of throwing ERR_CLOSED on a closed array (${c.target.label}; closed now: ${isClosed(c.target)}; returned ${lab(result)})`);
      }
      if (c.after) {
        try {
          c.after(result);
        } catch (e) {
          const k = classify(e);
          if (!k.ok) faultFor(k, `${c.method} (using the result)`, c.label, e);
        }
      }
      return { ok: true, result };
    }
    // c.fn() ran with the round's pollution installed from start to end.
    const k = classify(err, c.method, Boolean(S.pollution));
    if (k.sentinel) S.outcomes.sentinel++;
    else if (k.thirdParty) S.outcomes.ndarrayPackage = (S.outcomes.ndarrayPackage || 0) + 1;
    else if (k.ok) S.outcomes.codes[k.code] = (S.outcomes.codes[k.code] || 0) + 1;
    countOutcome(k);
    if (!k.ok) faultFor(k, c.method, c.label, err);
    if (ctx.sideEffects > 0) S.snapValid = false;
    else {
      const after = snapshot();
      const changed = changedFiles(before, after);
      if (changed.length > 0) {
        // 'w+' creates or truncates before the OS may refuse to size the file (EFBIG, ENOSPC):
        // an OS error naming the one file the call was asked to create is allowed to leave it changed.
        const own = k.ok && k.errno && c.write && k.path !== null && changed.every((f) => path.join(dir, f) === k.path);
        if (!own) {
          const what = changed.map((f) => `${f}: ${before.has(f) ? before.get(f).slice(0, 20) : '(none)'} -> ${after.has(f) ? after.get(f).slice(0, 20) : '(gone)'}`).join('; ');
          fault('file-changed', c.method, c.label, err, `the call failed but changed ${what}`, 'changed a file');
        }
      }
      S.snap = after;
      S.snapValid = true;
    }
    return { ok: false, err };
  }

  /** fds 0, 1 and 2 are not the library's: closing or replacing one is a fault. */
  function checkFds(c) {
    for (let fd = 0; fd < 3; fd++) {
      if (stdFds[fd] === null) continue;
      const now = fdKey(fd);
      if (now !== stdFds[fd]) {
        fault('fd-clobbered', c.method, c.label, undefined, `fd ${fd} (${['stdin', 'stdout', 'stderr'][fd]}) was closed or replaced during the call (${now})`, `fd ${fd}`);
        stdFds[fd] = null; // once
      }
    }
  }
  function touch(v) {
    // Reads a TypedArray's ends: a view over unmapped memory would crash here.
    if (!ArrayBuffer.isView(v)) return;
    if (!('length' in v)) {
      // A DataView: byteLength throws once its buffer is detached.
      let n = 0;
      try {
        n = v.byteLength;
      } catch {}
      if (n > 0) v.getUint8(0);
      return;
    }
    const n = v.length;
    if (n > 0) {
      void v[0];
      void v[n - 1];
    }
  }
  function absorbArray(a, file) {
    if (a && typeof a === 'object' && a instanceof lib.MemmapArray) return addEntry(a, file);
    return null;
  }
  /** absorbArray()'s `file` for fromShared() arrays: which file they map is the token's word only. */
  const SHARED = Symbol('shared');
  function checkPollutionDefaults(method, label, a, opts) {
    // With Object.prototype polluted, keys the caller did not give must take their defaults.
    if (!S.pollutedOptions || !opts.plain || !a || typeof a !== 'object') return;
    const p = S.pollutedOptions;
    const wrong = [];
    const defaults = method === 'memmap' ? { mode: 'r', dtype: 'uint8', offset: 0 } : { mode: 'r' };
    for (const [k, d] of Object.entries(defaults)) {
      if (!(k in p) || opts.own.has(k)) continue;
      try {
        if (a[k] !== d) wrong.push(`${k} ${JSON.stringify(a[k])} (from Object.prototype.${k})`);
      } catch {}
    }
    for (const w of wrong) fault('pollution', method, label, undefined, `inherited option used: ${w}`, `inherited ${w.split(' ')[0]}`);
  }

  function callFactory(kind) {
    const g = { target: null, write: false };
    switch (kind) {
      case 'memmap': {
        const p = pickPath(g);
        const o = r.chance(0.9) ? memmapOptions(g, p.file) : { value: gen(g), own: null };
        const args = r.chance(0.93) ? [p.value, o.value] : r.chance(0.5) ? [p.value] : [p.value, o.value, gen(g)];
        const label = `memmap(${args.map(lab).join(', ')})`;
        call({
          method: 'memmap',
          label,
          write: g.write,
          fn: () => Reflect.apply(lib.memmap, undefined, args),
          after: (a) => {
            checkPollutionDefaults('memmap', label, a, o);
            absorbArray(a, p.file && p.file.name);
          },
        });
        return;
      }
      case 'openNpy': {
        const p = pickPath(g, 'npy');
        const o = r.chance(0.9) ? npyOptions(g) : { value: gen(g), own: null };
        const args = r.chance(0.93) ? [p.value, o.value] : [p.value];
        const label = `openNpy(${args.map(lab).join(', ')})`;
        call({
          method: 'openNpy',
          label,
          write: g.write,
          fn: () => Reflect.apply(lib.openNpy, undefined, args),
          after: (a) => {
            checkPollutionDefaults('openNpy', label, a, o);
            absorbArray(a, p.file && p.file.name);
          },
        });
        return;
      }
      case 'readNpyHeader': {
        const p = pickPath(g, 'npy');
        const args = r.chance(0.6) ? [p.value] : [p.value, r.chance(0.7) ? options(g, [['maxHeaderSize', () => r.pick([10000, 0, 100, Infinity, -1, NaN, 2 ** 53]), 0.8]]).value : gen(g)];
        call({ method: 'readNpyHeader', label: `readNpyHeader(${args.map(lab).join(', ')})`, fn: () => Reflect.apply(lib.readNpyHeader, undefined, args) });
        return;
      }
      case 'fromShared': {
        const t = tokenFor(g);
        const args = r.chance(0.95) ? [t] : [];
        const label = `fromShared(${args.map(lab).join(', ')})`;
        const plainInherit = Boolean(S.pollutedOptions && 'type' in S.pollutedOptions && plainObjs.has(t) && !Object.hasOwn(t, 'type'));
        call({
          method: 'fromShared',
          label,
          write: g.write,
          fn: () => Reflect.apply(lib.fromShared, undefined, args),
          after: (a) => {
            if (plainInherit && a) fault('pollution', 'fromShared', label, undefined, 'accepted a token whose type came from Object.prototype', 'inherited type');
            absorbArray(a, SHARED);
          },
        });
        return;
      }
      case 'evict': {
        const p = pickPath(g);
        const args = r.chance(0.9) ? [p.value] : [p.value, gen(g)];
        call({ method: 'evict', label: `evict(${args.map(lab).join(', ')})`, fn: () => Reflect.apply(lib.evict, undefined, args) });
        return;
      }
      case 'parseDType': {
        const v = r.weighted([[r.pick(DTYPES), 4], [r.pick(BAD_DTYPES), 2], [named({ descr: r.pick(DTYPES) }, 'descr object'), 1], [getterObject(g, ['descr'], () => r.pick(DTYPES)), 1], [gen(g), 4]]);
        const args = r.chance(0.9) ? [v] : [];
        call({ method: 'parseDType', label: `parseDType(${args.map(lab).join(', ')})`, fn: () => Reflect.apply(lib.parseDType, undefined, args) });
        return;
      }
      case 'new MemmapArray': {
        const args = randomArgs(g);
        call({ method: 'new MemmapArray', label: `new MemmapArray(${args.map(lab).join(', ')})`, fn: () => Reflect.construct(lib.MemmapArray, args) });
        return;
      }
      default: {
        // Any other exported function (added later): called with random arguments; a class (ZarrArray) with new,
        // as users can call it (calling a class without new is V8's TypeError before any of our code runs).
        const f = lib[kind];
        const args = randomArgs(g);
        if (/^class\b/.test(Function.prototype.toString.call(f))) {
          call({ method: `new ${kind}`, label: `new ${kind}(${args.map(lab).join(', ')})`, fn: () => Reflect.construct(f, args) });
          return;
        }
        call({ method: kind, label: `${kind}(${args.map(lab).join(', ')})`, write: g.write, fn: () => Reflect.apply(f, undefined, args), after: (a) => absorbArray(a, SHARED) });
      }
    }
  }
  const KNOWN_EXPORTS = new Set(['memmap', 'openNpy', 'readNpyHeader', 'fromShared', 'evict', 'parseDType', 'MemmapArray']);
  const OTHER_EXPORTS = Object.keys(lib).filter((k) => typeof lib[k] === 'function' && !KNOWN_EXPORTS.has(k) && !SKIP_EXPORTS.has(k));

  // Methods and getters of MemmapArray, found on its prototype.
  const symName = (k) => (k === Symbol.dispose ? 'Symbol.dispose' : k === util.inspect.custom ? 'inspect' : `[${String(k)}]`);
  const METHODS = Reflect.ownKeys(Proto).map((key) => {
    const d = Object.getOwnPropertyDescriptor(Proto, key);
    const name = typeof key === 'symbol' ? symName(key) : key;
    return { key, name, getter: typeof d.get === 'function', fn: typeof d.value === 'function' };
  });
  /** What may be called on an array whose file shrank under it: nothing that reads its pages from JavaScript. */
  const SAFE_WHEN_SHRUNK = new Set(['sum', 'read', 'gather', 'flush', 'advise', 'residency', 'share', 'close', 'Symbol.dispose', 'inspect', 'closed', 'constructor', 'toString', 'toJSON', 'length', 'tolist', 'toArray', 'is', 'refresh']);
  const WEIGHTS = {
    __proto__: null, // a name such as toString must not find Object.prototype's
    get: 10, set: 8, sum: 12, read: 10, gather: 10, data: 5, bytes: 4, segments: 5, ndarray: 6, flush: 3, advise: 3, residency: 3, share: 3, close: 3,
    'Symbol.dispose': 1, inspect: 2, closed: 1, constructor: 1, refresh: 2, resize: 2, toString: 1, toJSON: 1, length: 1, tolist: 2, toArray: 2, is: 1,
    view: 5, '[Symbol(Symbol.iterator)]': 2, base: 1, copy: 4, copyAsync: 3, readAsync: 4, gatherAsync: 3, prefetch: 2,
  };
  // The reductions (and their Async twins): each as likely as sum was before them, together.
  const REDUCTIONS = new Set(['sum', 'prod', 'mean', 'var', 'std', 'min', 'max', 'argmin', 'argmax', 'any', 'all', 'countNonzero', 'nansum', 'nanmean', 'nanvar', 'nanstd', 'nanmin', 'nanmax', 'nanargmin', 'nanargmax']);
  for (const name of REDUCTIONS) {
    if (!(name in WEIGHTS)) WEIGHTS[name] = 2;
    WEIGHTS[`${name}Async`] = 1.5;
  }
  const ACCUMULATE = new Set(['sum', 'prod', 'mean', 'var', 'std', 'nansum', 'nanmean', 'nanvar', 'nanstd']);
  const VARIANCE = new Set(['var', 'std', 'nanvar', 'nanstd']);
  const isAsyncName = (name) => name.endsWith('Async') || name === 'prefetch';

  /** A value for a reduction's axis: in range, out of range, lists (repeated, empty), null. */
  function axisValue(g, nd) {
    const one = () => r.int(2 * nd + 3) - nd - 1;
    return r.weighted([
      [one(), 5],
      [Array.from({ length: r.int(nd + 1) }, one), 3],
      [null, 1],
      [[0, 0], 0.5],
      [BigInt(nd > 0 ? r.int(nd) : 0), 0.5],
      [gen(g, 0), 1],
    ]);
  }
  /** A candidate for `out`: an earlier result (often the right shape and type), its data, the source's own memory, another array, junk. */
  function outCandidate(g, e) {
    const k = r.weighted([['earlier', 5], ['typed', 2], ['self', 1], ['other', 1], ['mapped', 1], ['gen', 1]]);
    if (k === 'earlier' && S.outs.size > 0) {
      const o = bagPick(S.outs);
      if (o instanceof lib.MemmapArray && r.chance(0.4)) {
        try {
          return named(o.data, `(an earlier result).data`);
        } catch {
          return o;
        }
      }
      return o;
    }
    if (k === 'typed') return typedOf(Array.from({ length: r.int(12) }, () => r.int(5)));
    if (k === 'self' || k === 'other') {
      const src = k === 'self' ? e : bagPick(S.pool);
      if (src) {
        try {
          return r.chance(0.5) ? named(src.a.data, `${src.label}.data`) : src.a;
        } catch {
          return src.a;
        }
      }
    }
    if (k === 'mapped') return mappedTyped(g) ?? gen(g);
    return gen(g);
  }
  /** Arguments of the reductions, copy/read(+Async), gatherAsync and prefetch: index items (coords) and an options object. */
  function newApiArgs(g, e, a, name) {
    const base = name.endsWith('Async') ? name.slice(0, -5) : name;
    let shape = [];
    try {
      shape = Array.from(a.shape);
    } catch {}
    const args = r.chance(0.08) ? randomArgs(g) : base === 'gather' ? coords(g, shape) : indexItems(g, shape);
    const entries = [];
    if (REDUCTIONS.has(base)) {
      entries.push(['axis', () => axisValue(g, shape.length), 0.6], ['keepdims', () => r.chance(0.6), 0.25], ['out', () => outCandidate(g, e), 0.25]);
      entries.push(['threads', () => r.pick([0, 1, 2, 3, 8, 256, 257, -1, 1.5, 2 ** 31]), 0.2]);
      if (ACCUMULATE.has(base)) entries.push(['dtype', () => r.pick(['float64', 'float32', 'float16', 'int64', 'uint64', 'int8', 'complex128', 'complex64', 'bool', '>f8', null]), 0.2]);
      if (VARIANCE.has(base)) entries.push(['ddof', () => r.pick([0, 1, 2, -1, 0.5, 1e308, NaN]), 0.3]);
    } else if (base === 'read' || base === 'copy') entries.push(['out', () => outCandidate(g, e), 0.35]);
    let ctl = null;
    if (isAsyncName(name)) {
      ctl = new AbortController();
      entries.push(['signal', () => ctl.signal, 0.6]);
    }
    if (entries.length > 0 && (r.chance(0.7) || (base === 'gather' && ctl !== null && r.chance(0.5)))) args.push(options(g, entries).value);
    // Abort right after the call (the job is queued or running), later (a step), or never.
    const abort = ctl === null ? 'never' : r.weighted([['now', 2], ['later', 3], ['never', 5]]);
    if (abort === 'later') bagAdd(S.controllers, ctl, 32);
    return { args, abortNow: abort === 'now' ? ctl : null };
  }
  /** Keeps what a reduction/copy/read returned for later `out`s, and reads it (its memory must be there). */
  function keepResult(v) {
    if (v instanceof lib.MemmapArray) {
      bagAdd(S.outs, v, 32);
      try {
        touch(v.data);
      } catch {}
    } else if (ArrayBuffer.isView(v)) {
      bagAdd(S.outs, v, 32);
      touch(v);
    }
  }
  /** Checks an async call's promise when it settles: a rejection must be a coded MemmapError. */
  function trackAsync(p, method, label, polluted) {
    if (!(p instanceof Promise)) {
      fault('async-not-promise', method, label, undefined, `returned ${lab(p)}, not a Promise`, 'not a Promise');
      return;
    }
    const settled = p.then(
      (v) => {
        S.snapValid = false; // an out over a mapped file was written when it settled
        keepResult(v);
      },
      (err) => {
        const k = classify(err, method, polluted);
        if (k.ok && k.code) S.outcomes.codes[k.code] = (S.outcomes.codes[k.code] || 0) + 1;
        countOutcome(k);
        if (!k.ok) faultFor(k, `${method} (rejection)`, label, err);
      },
    );
    S.pending.add(settled);
    settled.finally(() => S.pending.delete(settled));
  }

  function callMethod(e, m) {
    const a = e.a;
    const g = { target: e, write: false };
    const other = bagPick(S.pool);
    // Now and then through another array (never one whose memory must not be touched).
    const recv = r.chance(0.97) || !other || other.shrunk !== e.shrunk ? a : other.a;
    const who = recv === a ? e.label : `${e.label} (this: ${lab(recv)})`;
    const method = `a.${m.name}`;
    const target = entryOf(recv) || e;
    if (m.getter) {
      call({
        method,
        label: `${who}.${m.name}`,
        target,
        fn: () => Reflect.get(Proto, m.key, recv),
        after: (v) => {
          if (ArrayBuffer.isView(v)) {
            bagAdd(S.views, { view: v, entry: target, what: m.name }, 64);
            touch(v);
          }
          // data and bytes cover exactly the array's elements.
          const want = m.name === 'bytes' ? recv.byteLength : m.name === 'data' ? recv.size * (recv.dtype.startsWith('complex') ? 2 : 1) : undefined;
          if (want !== undefined && !(ArrayBuffer.isView(v) && v.length === want)) {
            fault('wrong-result', method, `${who}.${m.name}`, undefined, `returned ${lab(v)} of length ${ArrayBuffer.isView(v) ? v.length : '-'}, not ${want}`, `length`);
          }
        },
      });
      return;
    }
    const f = Proto[m.key];
    let args;
    let after;
    let abortNow = null;
    switch (m.name) {
      case 'get':
        args = r.chance(0.6) ? validIndex(a.shape) : r.chance(0.5) ? validIndex(a.shape).map((v) => (r.chance(0.3) ? gen(g) : v)) : randomArgs(g);
        if (r.chance(0.08)) args.push(gen(g));
        break;
      case 'set': {
        const idx = r.chance(0.65) ? validIndex(a.shape) : r.chance(0.5) ? validIndex(a.shape).map((v) => (r.chance(0.3) ? gen(g) : v)) : randomArgs(g);
        args = [...idx, setValue(g, a.dtype)];
        if (r.chance(0.05)) args = [];
        break;
      }
      case 'read':
        if (r.chance(0.3)) {
          ({ args } = newApiArgs(g, e, a, m.name));
          after = keepResult;
          break;
        }
        args = r.chance(0.1) ? randomArgs(g) : indexItems(g, a.shape);
        after = touch;
        break;
      case 'gather':
        args = r.chance(0.08) ? randomArgs(g) : coords(g, a.shape);
        after = touch;
        break;
      case 'segments':
        args = r.weighted([[[], 3], [[options(g, [['maxBytes', () => r.pick([1, a.itemsize, 2 * a.itemsize, 4096, 65536, 2 ** 30, a.itemsize - 1, 2 ** 53]), 0.9]]).value], 4], [[gen(g)], 2]]);
        break;
      case 'advise':
        args = r.chance(0.7) ? [r.pick(ADVICE)] : [gen(g)];
        break;
      case 'inspect':
        args = r.chance(0.6) ? null : [gen(g, 0), gen(g, 0), util.inspect];
        break;
      case 'resize': {
        // Mostly a near shape: the first axis one or two larger or smaller (small files stay small).
        const shape = a.shape.length > 0 ? [Math.max(0, a.shape[0] + r.pick([-2, -1, 1, 2])), ...a.shape.slice(1)] : [r.int(4)];
        args = r.chance(0.7) ? [shape] : r.chance(0.5) ? [gen(g)] : randomArgs(g);
        break;
      }
      case 'is':
        args = r.chance(0.7) ? [r.pick(DTYPES)] : [gen(g)];
        break;
      case 'view':
        args = r.chance(0.1) ? randomArgs(g) : indexItems(g, a.shape);
        after = (v) => {
          // The receiver's entry (a call may run through another array): whose close() detaches what the view hands out.
          const ve = absorbArray(v, target.file);
          if (ve) Object.assign(ve, { view: true, shrunk: target.shrunk, owner: target.owner || target });
        };
        break;
      case 'constructor':
        args = randomArgs(g);
        break;
      case 'flush':
      case 'residency':
      case 'share':
      case 'close':
      case 'ndarray':
      case 'Symbol.dispose':
        args = extraArgs(g);
        break;
      default:
        if (REDUCTIONS.has(m.name.replace(/Async$/, '')) || isAsyncName(m.name) || m.name === 'copy') {
          ({ args, abortNow } = newApiArgs(g, e, a, m.name));
          after = keepResult;
        } else args = randomArgs(g);
    }
    const shown = args === null ? `util.inspect(${who})` : `${who}.${m.name}(${args.map(lab).join(', ')})`;
    let fnc;
    if (m.name === 'constructor') fnc = () => Reflect.construct(f, args);
    else if (m.name === 'inspect' && args === null) fnc = () => util.inspect(recv, { depth: r.pick([0, 2, null]) });
    else if (m.key === Symbol.iterator) {
      // A generator: the call is the iteration (16 items at most).
      fnc = () => {
        let n = 0;
        for (const x of Reflect.apply(f, recv, args)) {
          const ve = x instanceof lib.MemmapArray ? absorbArray(x, target.file) : null;
          if (ve) Object.assign(ve, { view: true, shrunk: target.shrunk, owner: target.owner || target });
          if (++n >= 16) break;
        }
        return n;
      };
    } else if (m.name === 'segments') {
      // A generator: the call is the iteration (64 windows at most).
      fnc = () => {
        const out = new Map();
        let n = 0;
        for (const s of Reflect.apply(f, recv, args)) {
          out.set(n++, s);
          if (n >= 64) break;
        }
        return out;
      };
      after = (out) => {
        for (const s of out.values()) {
          if (s && ArrayBuffer.isView(s.data)) {
            bagAdd(S.views, { view: s.data, entry: entryOf(recv) || e, what: 'segment' }, 64);
            touch(s.data);
          }
        }
        if (S.pollutedOptions && 'maxBytes' in S.pollutedOptions && args.length === 1 && plainObjs.has(args[0]) && !Object.hasOwn(args[0], 'maxBytes')) {
          const first = out.get(0);
          if (first && out.size > 1) fault('pollution', method, shown, undefined, 'segments() used maxBytes from Object.prototype', 'inherited maxBytes');
        }
      };
    } else fnc = () => Reflect.apply(f, recv, args);
    if (m.name === 'ndarray') {
      after = (nd) => {
        if (nd && typeof nd === 'object') {
          bagAdd(S.nds, { nd, entry: entryOf(recv) || e, label: `${e.label}.ndarray()` }, 24);
          if (ArrayBuffer.isView(nd.data)) bagAdd(S.views, { view: nd.data, entry: entryOf(recv) || e, what: 'ndarray().data' }, 64);
        }
      };
    } else if (m.name === 'share') {
      after = (t) => {
        if (t && typeof t === 'object') bagAdd(S.tokens, { token: t, entry: entryOf(recv) || e }, 16);
      };
    } else if (m.name === 'residency') {
      after = (res) => res && touch(res.pages);
    }
    if (isAsyncName(m.name)) {
      // Never a synchronous throw: every failure is a rejection. The promise is checked when it settles.
      const polluted = Boolean(S.pollution);
      const inner = fnc;
      fnc = () => {
        try {
          return inner();
        } catch (err) {
          fault('async-threw', method, shown, err, 'an async method threw instead of returning a rejected Promise', 'sync throw');
          throw err;
        } finally {
          if (abortNow !== null) abortNow.abort(new Error('fuzz abort'));
        }
      };
      after = (p) => trackAsync(p, method, shown, polluted);
    }
    call({ method, label: shown, target, write: g.write, fn: fnc, after });
  }

  function callNd(n) {
    const nd = n.nd;
    const g = { target: n.entry, write: false };
    const m = r.weighted([['get', 8], ['set', 5], ['pick', 4], ['lo', 2], ['hi', 2], ['step', 2], ['transpose', 2], ['index', 1], ['size', 1]]);
    let shape = [];
    try {
      shape = Array.from(nd.shape, (d) => (typeof d === 'number' ? d : 0));
    } catch {}
    let args;
    if (m === 'get' || m === 'index') args = r.chance(0.6) ? validIndex(shape) : shape.map(() => (r.chance(0.5) ? gen(g) : r.int(4)));
    else if (m === 'set') args = [...(r.chance(0.6) ? validIndex(shape) : shape.map(() => (r.chance(0.5) ? gen(g) : r.int(4)))), setValue(g, n.entry.a.dtype)];
    else if (m === 'size') args = null;
    else args = shape.map(() => r.weighted([[null, 2], [r.int(4), 4], [-1, 1], [gen(g, 0), 1]]));
    const label = args === null ? `${n.label}.size` : `${n.label}.${m}(${args.map(lab).join(', ')})`;
    call({
      method: `ndarray.${m}`,
      label,
      target: n.entry,
      write: g.write,
      fn: () => (args === null ? nd.size : Reflect.apply(nd[m], nd, args)),
      after: (v) => {
        if (v && typeof v === 'object' && (m === 'pick' || m === 'lo' || m === 'hi' || m === 'step' || m === 'transpose')) bagAdd(S.nds, { nd: v, entry: n.entry, label: `${n.label}.${m}(…)` }, 24);
      },
    });
  }

  /** Opens an array over a file of the directory with valid options (the "reopen"). */
  function reopen() {
    const files = regularFiles().filter((f) => f.size > 0);
    if (files.length === 0) return;
    const f = r.pick(files);
    if (isNpy(f.name) && r.chance(0.85)) {
      const mode = r.pick(['r', 'r', 'c', 'r+']);
      const label = `openNpy(${JSON.stringify(f.name)}, {mode: '${mode}'})`;
      call({
        method: 'openNpy',
        label,
        fn: () => lib.openNpy(f.name, { mode }),
        after: (a) => {
          checkPollutionDefaults('openNpy', label, a, { plain: true, own: new Set(['mode']) });
          absorbArray(a, f.name);
        },
      });
      return;
    }
    const fits = DTYPES.filter((d) => f.size % ITEMSIZE.get(d) === 0);
    const dtype = r.pick(fits.length ? fits : ['uint8']);
    const mode = r.pick(['r', 'r', 'c', 'r+', 'r+']);
    const opts = { dtype, mode };
    const n = f.size / ITEMSIZE.get(dtype);
    if (r.chance(0.4) && Number.isInteger(n)) {
      const s = shapeFor(n, false);
      if (s.reduce((x, y) => x * y, 1) <= n) opts.shape = s;
    }
    if (r.chance(0.3)) opts.order = 'F';
    const label = `memmap(${JSON.stringify(f.name)}, ${util.inspect(opts, { breakLength: Infinity })})`;
    call({
      method: 'memmap',
      label,
      fn: () => lib.memmap(f.name, opts),
      after: (a) => {
        checkPollutionDefaults('memmap', label, a, { plain: true, own: new Set(Object.keys(opts)) });
        absorbArray(a, f.name);
      },
    });
  }

  // -- checks of views ---------------------------------------------------------------
  /**
   * Views memmap handed out (data, bytes, segments, ndarray().data, and views
   * over their buffers) must read as length 0 once their array is closed: a
   * fault otherwise. Buffers moved away with transfer() are not memmap's to
   * detach; they are kept and read after close() + gc() at the end of the
   * round, where memory unmapped under them crashes the process.
   */
  function checkViews(where) {
    for (const bag of [S.views, S.moved]) {
      for (const [k, v] of bag) {
        let len = 0;
        try {
          len = v.view ? v.view.byteLength : v.buf.byteLength;
        } catch {}
        // A view's close() ends the view only: what it handed out is its base's, detached when the base closes.
        if (len > 0 && isClosed(v.entry.owner || v.entry)) {
          if (bag === S.views) {
            const how = v.kind || v.what;
            fault('view-survives-close', 'a.close', `${v.what}, after ${v.entry.label}.close() (${where})`, undefined, `${how}: ${len} bytes still readable after close()`, how);
          } else S.outcomes.movedBuffersReadableAfterClose = (S.outcomes.movedBuffersReadableAfterClose || 0) + 1;
          S.survivors.set(k, { buf: v.view ? v.view.buffer : v.buf, entry: v.entry, what: v.what, captured: v.captured });
          bag.delete(k);
        }
      }
    }
  }
  function touchViews() {
    for (const v of S.views.values()) touch(v.view);
  }

  // -- the round -------------------------------------------------------------------
  function setup() {
    const pattern = (n) => {
      const b = Buffer.alloc(n);
      for (let k = 0; k < n; k++) b[k] = (k * 7 + 3) & 0xff;
      return b;
    };
    fs.writeFileSync('r0.arr', pattern(64));
    fs.writeFileSync('r1.arr', pattern(4096 + 8));
    fs.writeFileSync('r2.arr', pattern(3));
    fs.writeFileSync('r3.arr', pattern(70000)); // past the 64 KiB small-window size
    fs.writeFileSync('r4.arr', pattern(600 * 1024)); // more than 8 small windows
    fs.writeFileSync('empty.arr', '');
    fs.writeFileSync('one.arr', 'x');
    fs.mkdirSync('sub');
    fs.writeFileSync(path.join('sub', 'inner.arr'), pattern(16));
    fs.symlinkSync('r1.arr', 'link.arr');
    fs.symlinkSync('nope', 'dangling.arr');
    fs.symlinkSync('sub', 'sublink');
    const npys = [
      ['a.npy', '<f4', [3, 4], false, undefined],
      ['b.npy', '>i8', [2, 3], true, undefined],
      ['c.npy', '|b1', [], false, undefined],
      ['d.npy', '<c16', [2, 2], false, undefined],
      ['e.npy', '<f2', [0, 3], false, undefined],
      ['f.npy', '<u2', [5], false, [2, 0]],
      ['g.npy', '>c8', [4], false, [3, 0]],
      ['h.npy', '<i4', [300, 70], r.chance(0.5), undefined],
      ['i.npy', '>f8', [3, 2, 2], true, undefined],
    ];
    for (const [name, dtype, shape, fortranOrder, version] of npys) {
      const a = lib.openNpy(name, { mode: 'w+', dtype, shape, fortranOrder, version });
      const b = a.bytes;
      for (let k = 0; k < b.length; k++) b[k] = (k * 13 + 5) & 0xff;
      a.close();
    }
  }

  function step() {
    const what = r.weighted([
      ['method', 58],
      ['nd', S.nds.size > 0 ? 7 : 0],
      ['factory', 17],
      ['reopen', 5],
      ['close', 4],
      ['touch', 3],
      ['write', 2],
      ['transfer', S.transfer ? 3 : 0],
      ['gc', 1],
      ['abort', S.controllers.size > 0 ? 2 : 0],
    ]);
    if (what === 'abort') {
      const k = [...S.controllers.keys()][r.int(S.controllers.size)];
      const ctl = S.controllers.get(k);
      S.controllers.delete(k);
      trace(`CALL ${S.calls} (action) abort\tabort an earlier async call's signal`);
      ctl.abort(new Error('fuzz abort'));
      return undefined;
    }
    if (what === 'method') {
      const open = openEntries();
      if (open.length === 0 && r.chance(0.8)) return reopen();
      const e = open.length > 0 && r.chance(0.85) ? r.pick(open) : bagPick(S.pool);
      if (!e) return reopen();
      const m = r.weighted(METHODS.filter((x) => !e.shrunk || SAFE_WHEN_SHRUNK.has(x.name)).map((x) => [x, WEIGHTS[x.name] ?? 2]));
      return callMethod(e, m);
    }
    if (what === 'nd') return callNd(bagPick(S.nds));
    if (what === 'factory') {
      const f = r.weighted([['memmap', 8], ['openNpy', 5], ['readNpyHeader', 3], ['fromShared', 3], ['evict', 1], ['parseDType', 2], ['new MemmapArray', 0.5], ...OTHER_EXPORTS.map((k) => [k, 1])]);
      return callFactory(f);
    }
    if (what === 'reopen') return reopen();
    if (what === 'close') {
      const e = bagPick(S.pool);
      if (!e) return undefined;
      const dispose = r.chance(0.2);
      return call({ method: dispose ? 'a.Symbol.dispose' : 'a.close', label: `${e.label}.${dispose ? '[Symbol.dispose]' : 'close'}()`, target: e, fn: () => (dispose ? e.a[Symbol.dispose]() : e.a.close()) });
    }
    // Actions: no library call of their own, but anything they do to memory could crash.
    if (what === 'touch') {
      trace(`CALL ${S.calls} (action) read views\tread every view kept so far`);
      return touchViews();
    }
    if (what === 'write') {
      const cands = usableEntries().filter((e) => e.a.size > 0);
      if (cands.length === 0) return undefined;
      const e = r.pick(cands);
      const m = mappedBuffer(e);
      if (!m) return undefined;
      trace(`CALL ${S.calls} (action) write\twrite through ${e.label}.${m.what}`);
      const u8 = m.buf.byteLength > 0 ? new Uint8Array(m.buf) : new Uint8Array(0);
      if (u8.length > 0) u8[r.int(u8.length)] = r.int(256);
      S.snapValid = false;
      return undefined;
    }
    if (what === 'transfer') {
      trace(`CALL ${S.calls} (action) transfer\tArrayBuffer.prototype.transfer() of a mapped buffer`);
      return transferSome('action');
    }
    trace(`CALL ${S.calls} (action) gc\tglobal.gc()`);
    global.gc();
    return undefined;
  }

  // Flavor of the round: plain, polluted, transfer, then one of any kind, in turn.
  const flavorR = prng(roundSeed(seed, round) ^ 0x5bd1e995);
  const turn = round % 4;
  const polluted = turn === 1 || (turn === 3 && flavorR.chance(0.3));
  S.transfer = hasTransfer && (turn === 2 || (turn === 3 && flavorR.chance(0.3)));
  if (S.transfer && flavorR.chance(0.5)) {
    // Catch the buffers the library wraps in DataViews internally (get()/set() windows).
    const Orig = globalThis.DataView;
    globalThis.DataView = class DataView extends Orig {
      constructor(buf, ...rest) {
        super(buf, ...rest);
        if (buf && buf.byteLength > 0) bagAdd(S.captured, { buf, entry: S.ctx ? S.ctx.target : null }, 16);
      }
    };
  }
  const fdsBefore = fdCount();
  setup();
  S.sizes = fileSizes();
  if (polluted) S.pollution = makePollution();
  const flavor = { pollution: S.pollution ? S.pollution.names : [], transfer: S.transfer };
  trace(`CALL 0 (setup)\t${JSON.stringify(flavor)}`);

  let steps = 0;
  for (let i = 0; i < 4; i++) reopen();
  loop();
  async function loop() {
    while (S.calls < callsWanted && steps < callsWanted * 4) {
      steps++;
      try {
        step();
        checkViews(`after call #${S.calls}`);
      } catch (e) {
        // A bug of the fuzzer itself (not of a call it checked): reported, and the round goes on.
        fault('fuzzer-error', '(fuzzer)', `step after call #${S.calls}`, e);
      }
      // Now and then let async calls settle (the event loop turns) between steps; else they run while later calls close and remap.
      if (S.pending.size > 0 && r.chance(0.06)) {
        trace(`CALL ${S.calls} (action) await\t${S.pending.size} async call(s) pending`);
        await (r.chance(0.5) ? new Promise((resolve) => setImmediate(resolve)) : Promise.race(S.pending));
      }
    }
    // Close everything, collect, and check that nothing over the mappings is readable.
    for (const e of [...S.pool.values()]) call({ method: 'a.close', label: `${e.label}.close() (end of round)`, target: e, fn: () => e.a.close() });
    // Jobs still running hold their regions: they settle (checked) before the end-of-round checks.
    while (S.pending.size > 0) await Promise.allSettled([...S.pending]);
    await finish();
  }
  async function finish() {
    // gc() with turns of the event loop between, so finalizers run.
    for (let i = 0; i < 4; i++) {
      global.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    checkViews('end of round, after gc()');
    touchViews();
    // Every array is closed: the library must hold no descriptor any more.
    const fdsAfter = fdCount();
    if (fdsBefore && fdsAfter && fdsAfter.length > fdsBefore.length) {
      const leaked = fdsAfter.filter((fd) => !fdsBefore.includes(fd)).map((fd) => {
        try {
          return `${fd} -> ${path.relative(dir, fs.readlinkSync(`/proc/self/fd/${fd}`))}`;
        } catch {
          return fd;
        }
      });
      fault('fd-leak', '(end of round)', 'every array closed, gc() run', undefined, `${leaked.length} more open descriptors than before the round: ${leaked.join(', ')}`, 'open descriptors');
    }
    const summary = {
      seed,
      round,
      calls: S.calls,
      nested: S.nested,
      flavor,
      outcomes: S.outcomes,
      faults: [...S.faults.values()],
    };
    if (logFile) fs.writeFileSync(`${logFile}.json`, JSON.stringify(summary) + '\n');
    else fs.writeSync(1, JSON.stringify(summary) + '\n');
    // Read what survived close(): with the memory unmapped this is where a process dies.
    if (S.survivors.size > 0) {
      trace(`CALL ${S.calls} (end of round) read moved buffers\tread ${S.survivors.size} buffer(s) still readable after close() + gc()`);
      for (const s of S.survivors.values()) {
        if (s.buf.byteLength === 0) continue; // detached since (its base closed)
        const u8 = new Uint8Array(s.buf);
        let sum = 0;
        for (let k = 0; k < u8.length; k++) sum += u8[k];
        void sum;
      }
    }
    process.chdir(os.tmpdir());
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { fuzz, runRound, formatReport, replayCommand, roundSeed, prng };

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.includes('--child')) childMain(argv);
  else parentMain(argv);
}
