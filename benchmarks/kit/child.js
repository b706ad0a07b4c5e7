'use strict';
// Child processes: every measured run happens in a fresh process that prints
// one JSON line (its last line of stdout) and nothing the runner must parse else.
const { spawnSync } = require('node:child_process');

/** Blocks the thread for `ms` milliseconds (no busy loop). */
function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `exe args` and returns the JSON object of its last stdout line. A child
 * that printed no JSON is {ok: false, crashed: true, error}; one that printed
 * {ok: false} without an error gets error 'worker failed'.
 */
function runChild(exe, args, { timeoutMs = 600e3 } = {}) {
  const r = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 16 << 20, timeout: timeoutMs });
  const lines = (r.stdout || '').trim().split('\n');
  try {
    const out = JSON.parse(lines[lines.length - 1]);
    if (!out.ok && !out.error) out.error = 'worker failed';
    return out;
  } catch {
    return { ok: false, crashed: true, error: `worker exited ${r.status ?? r.signal}: ${(r.stderr || r.error || '').toString().slice(0, 2000)}` };
  }
}

/**
 * runChild, once more after `prepare()` when the first child died before
 * reporting (e.g. the package was being rebuilt under us); the result records it.
 */
function runChildRetrying(launch, prepare = () => {}) {
  const out = launch();
  if (out.ok || !out.crashed) return out;
  sleepMs(2000);
  prepare();
  return { ...launch(), retriedAfter: out.error };
}

/** The child side: prints the object `fn()` returns (or resolves to) as the JSON line, or {ok: false, error}. */
function reportFromChild(fn) {
  const ok = (r) => process.stdout.write(`${JSON.stringify({ ok: true, ...r })}\n`);
  const fail = (err) => {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(err && err.stack ? err.stack : err) })}\n`);
    process.exitCode = 1;
  };
  try {
    const r = fn();
    if (r && typeof r.then === 'function') r.then(ok, fail);
    else ok(r);
  } catch (err) {
    fail(err);
  }
}

module.exports = { runChild, runChildRetrying, reportFromChild, sleepMs };
