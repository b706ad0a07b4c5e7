'use strict';
// Assertions shared by the tests: errors are matched by class and code, never by message.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { MemmapError } = require('../..');

/** Checks err is a MemmapError with `code` (and, if given, also an instance of `cls`). */
function isMemmapError(err, code, cls) {
  assert.ok(err instanceof MemmapError, `expected MemmapError ${code}, got ${err && err.name}: ${err && err.message}`);
  if (cls) assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.name}`);
  assert.equal(err.code, code, `expected code ${code}, got ${err.code} (${err.message})`);
  return true;
}

/** Asserts fn throws a MemmapError with `code` (and, if given, of class `cls`); returns the error. */
function throwsCode(fn, code, cls) {
  let caught;
  assert.throws(fn, (err) => {
    caught = err;
    return isMemmapError(err, code, cls);
  });
  return caught;
}

/** The code of the error fn() throws, or 'no error' (for results a child process reports). */
function errorCode(fn) {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e.code;
  }
}

/** errorCode() that also checks the class: the code of the MemmapError fn() throws, 'no error', or what else it threw. */
function memmapCode(fn) {
  try {
    const v = fn();
    return `no error (returned ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)})`;
  } catch (err) {
    return err instanceof MemmapError ? err.code : `not a MemmapError: ${err && err.name}: ${err && err.message}`;
  }
}

/** Writes a file of `n` bytes where byte k is (k * 7 + 3) & 0xff; returns the bytes. */
function patternFile(file, n) {
  const buf = Buffer.alloc(n);
  for (let k = 0; k < n; k++) buf[k] = (k * 7 + 3) & 0xff;
  fs.writeFileSync(file, buf);
  return buf;
}

module.exports = { isMemmapError, throwsCode, patternFile, errorCode, memmapCode };
