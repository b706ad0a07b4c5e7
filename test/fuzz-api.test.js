'use strict';
// A short fixed-seed run of the API fuzzer (scripts/fuzz-api.js):
// every factory, method and getter called with random arguments of every
// JavaScript type, close() interleaved, rounds with a polluted
// Object.prototype / Array.prototype and rounds that transfer() mapped buffers
// away. Each round runs in its own process. Any crash, hang, error that is not
// a MemmapError with a code, ERR_CALLBACK that wraps no caller code's throw
// (outside polluted calls), binding argument error lib/ caused, file changed by
// a failed call, inherited option used, view readable after close() or
// wrong-length data/bytes fails the test; the report names each fault with the
// command that replays its round.
// `npm run fuzz` runs the same fuzzer long.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fuzz, formatReport, runRound } = require('../scripts/fuzz-api');
const { skipOnWindows } = require('./helpers/platform');

const SEED = 20261130;
const ROUNDS = 6; // rounds cycle plain, polluted, transfer, mixed: 6 cover each
const CALLS = 300;

describe(`API fuzz (seed ${SEED}, ${ROUNDS} rounds x ${CALLS} calls, each round in a child process)`, function () {
  // A round takes a second or two; a hung one is killed after 60 s.
  this.timeout(ROUNDS * 70 * 1000);
  let res;
  before(function () {
    skipOnWindows(this, 'each round runs through /bin/sh with ulimit -f');
    res = fuzz({ seed: SEED, rounds: ROUNDS, calls: CALLS });
  });

  it('finds no crash, hang, foreign or misattributed error, changed file, polluted option or surviving view', function () {
    if (res.faults.length > 0) assert.fail(`\n${formatReport(res)}\n`);
  });

  it('ran every round to the end, across the whole API', function () {
    assert.equal(res.rounds, ROUNDS);
    for (const r of res.results) {
      assert.ok(r.calls >= CALLS, `round ${r.round} stopped after ${r.calls} calls`);
      assert.ok(r.outcomes, `round ${r.round} printed no summary`);
    }
    // The calls reach deep: both successes and many different refusals.
    const codes = new Set(res.results.flatMap((r) => Object.keys(r.outcomes.codes)));
    const ok = res.results.reduce((s, r) => s + r.outcomes.ok, 0);
    assert.ok(ok > ROUNDS * CALLS * 0.2, `only ${ok} calls succeeded`);
    for (const code of ['ERR_CLOSED', 'ERR_INVALID_INDEX', 'ERR_OUT_OF_RANGE', 'ERR_INVALID_DTYPE', 'ERR_INVALID_MODE', 'ENOENT']) {
      assert.ok(codes.has(code), `no call was refused with ${code}: ${[...codes].join(', ')}`);
    }
    assert.ok(res.results.some((r) => r.flavor && r.flavor.pollution.length > 0), 'no polluted round');
  });

  it('still sees an internal error behind ERR_CALLBACK and a binding argument error (a deliberately broken build)', function () {
    // memmap with sum() failing as a library bug would behind the ERR_CALLBACK wrapper (a TypeError of its
    // own code as the cause) and read() passing the addon a bad view: the fuzzer must report both.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-fuzz-broken-'));
    try {
      const root = path.join(__dirname, '..');
      fs.writeFileSync(
        path.join(dir, 'index.js'),
        `'use strict';
const lib = require(${JSON.stringify(root)});
const P = lib.MemmapArray.prototype;
P.sum = function sum() {
  let cause;
  try { null.x; } catch (e) { cause = e; }
  throw new lib.MemmapError('ERR_CALLBACK', 'wrapped', { cause });
};
P.read = function read() { throw new lib.MemmapError('ERR_INVALID_ARG_VALUE', 'bad view'); };
module.exports = lib;
`,
      );
      const r = runRound({ seed: SEED, round: 0, calls: 200, pkg: dir }); // the reductions and async twins share the calls: 200 reach read()
      const kinds = r.faults.map((f) => `${f.kind} ${f.method}`);
      assert.ok(kinds.includes('callback-without-callback a.sum'), `ERR_CALLBACK over a TypeError not reported: ${kinds.join('; ') || 'no faults'}`);
      assert.ok(kinds.includes('binding-internal-arg a.read'), `binding argument error not reported: ${kinds.join('; ') || 'no faults'}`);
      const f = r.faults.find((x) => x.kind === 'callback-without-callback');
      assert.equal(f.cause[0].name, 'TypeError');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
