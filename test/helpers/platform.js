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

/** For helpers with no test context: on Windows, marks the running test (or hook's suite) pending. */
function pendingOnWindows(reason) {
  if (windows) throw new Pending(`skipped on Windows: ${reason}`);
}

module.exports = { windows, wine, skipOnWindows, skipUnderWine, pendingOnWindows };
