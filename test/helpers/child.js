'use strict';
// Runs fixture scripts in a separate node process, so that a crash (signal,
// abort, hang) fails one test instead of killing mocha.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const assert = require('node:assert/strict');
const { pendingOnWindows, wine } = require('./platform');

const FIXTURES = path.join(__dirname, '..', 'fixtures');
// The default hang detector; under wine a file mapping costs ~12 ms, so loops of them run several times slower.
const TIMEOUT = wine ? 180000 : 60000;

/**
 * Runs test/fixtures/<name> with `args`; returns { status, signal, stdout, stderr }.
 * options: execArgv (node flags, e.g. ['--expose-gc']), uid/gid, timeout (ms),
 * prefix (a command that runs node, e.g. ['setpriv', …]).
 */
function runFixture(name, args = [], options = {}) {
  const { execArgv = [], timeout = TIMEOUT, prefix = [], ...rest } = options;
  const argv = [...prefix, process.execPath, ...execArgv, path.join(FIXTURES, name), ...args.map(String)];
  const r = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    timeout,
    maxBuffer: 16 << 20,
    ...rest,
  });
  if (r.error && r.error.code !== 'ETIMEDOUT') throw r.error;
  // A helper in the child skipped on Windows (pendingOnWindows): so does the test.
  const skipped = r.status !== 0 && /skipped on Windows: ([^'\n]*)/.exec(r.stderr ?? '');
  if (skipped) pendingOnWindows(skipped[1]);
  return r;
}

/** Asserts the child exited 0 without a signal; returns its stdout. */
function expectCleanExit(r) {
  const detail = `status ${r.status}, signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.signal, null, `child was killed: ${detail}`);
  assert.equal(r.status, 0, `child failed: ${detail}`);
  return r.stdout;
}

/** Runs a fixture that prints one JSON document; asserts a clean exit and parses it. */
function fixtureJSON(name, args = [], options = {}) {
  return JSON.parse(expectCleanExit(runFixture(name, args, options)));
}

module.exports = { runFixture, expectCleanExit, fixtureJSON };
