'use strict';
// Skips for what a test needs of Linux, with the reason in the test's title
// (npm run test:wine runs the suite in Windows' node.exe).
const Pending = require('mocha/lib/pending');

const windows = process.platform === 'win32';
const wine = windows && process.env.MEMMAP_WINE === '1';

/** Inside it()/before(): skip this test (or suite) on Windows, saying why. */
function skipOnWindows(ctx, reason) {
  if (!windows) return;
  const runnable = ctx.currentTest ?? ctx.test;
  if (runnable) runnable.title += ` [skipped on Windows: ${reason}]`;
  ctx.skip();
}

/** Inside it(): skip under wine (it holds on Windows itself), saying why. */
function skipUnderWine(ctx, reason) {
  if (wine) skipOnWindows(ctx, `wine: ${reason}`);
}

// The test or hook running now, for helpers that have no `this` (Windows only).
let current = null;
if (windows) {
  const Runnable = require('mocha/lib/runnable');
  const run = Runnable.prototype.run;
  Runnable.prototype.run = function (fn) {
    current = this;
    return run.call(this, fn);
  };
}

/** For helpers with no test context: on Windows, skips the running test (or the suite of a before() hook) as this.skip() does. */
function pendingOnWindows(reason) {
  if (!windows) return;
  const runnable = current?.type === 'hook' ? null : current;
  if (runnable) runnable.title += ` [skipped on Windows: ${reason}]`;
  if (current) current.pending = true;
  throw new Pending(`skipped on Windows: ${reason}`);
}

module.exports = { windows, wine, skipOnWindows, skipUnderWine, pendingOnWindows };
