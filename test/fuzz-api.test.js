'use strict';
// A short fixed-seed run of the API fuzzer (scripts/fuzz-api.js, issue 9):
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
const { fuzz, formatReport } = require('../scripts/fuzz-api');

const SEED = 20261130;
const ROUNDS = 6; // rounds cycle plain, polluted, transfer, mixed: 6 cover each
const CALLS = 300;

describe(`API fuzz (seed ${SEED}, ${ROUNDS} rounds x ${CALLS} calls, each round in a child process)`, function () {
  // A round takes a second or two; a hung one is killed after 60 s.
  this.timeout(ROUNDS * 70 * 1000);
  let res;
  before(function () {
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
    // The ERR_CALLBACK check is not vacuous: caller code threw and came back wrapped.
    assert.ok(res.callback.sentinel > 0, `no ERR_CALLBACK wrapped the fuzzer's own throw: ${JSON.stringify(res.callback)}`);
  });
});
