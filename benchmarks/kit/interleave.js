'use strict';
// In-process timing of several functions side by side: each round runs every
// function once, the order rotating from round to round, so GC, JIT and drift
// on a shared machine hit all of them alike.

/**
 * Times each of `fns` ({name: fn}) `rounds` times after `warmup` untimed
 * rounds; each timing covers `iters` calls and is reported per call (ms).
 * Returns {name: [ms per call, one per round]}.
 */
function timeInterleaved(fns, { rounds, warmup = 0, iters = 1 }) {
  const names = Object.keys(fns);
  for (let k = 0; k < warmup; k++) for (const name of names) fns[name]();
  const out = Object.fromEntries(names.map((n) => [n, []]));
  for (let k = 0; k < rounds; k++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + k) % names.length];
      const fn = fns[name];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) fn();
      out[name].push(Number(process.hrtime.bigint() - t0) / 1e6 / iters);
    }
  }
  return out;
}

module.exports = { timeInterleaved };
