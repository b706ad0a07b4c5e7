'use strict';
// Sparse big files for the big-array tests: ftruncate() makes a file of any
// size that costs no disk, and a few values are written and read at exact
// byte positions with pwrite/pread, so a test touches only a few pages.
const fs = require('node:fs');

const GiB = 2 ** 30;

/** Creates (or truncates) `file` as a sparse file of exactly `bytes` bytes, all zero. */
function sparseFile(file, bytes) {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, bytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `buf` at byte `position` of an existing file. */
function pwrite(file, position, buf) {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, buf, 0, buf.length, position);
  } finally {
    fs.closeSync(fd);
  }
}

/** The `length` bytes at byte `position` of a file. */
function pread(file, position, length) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, position);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/** The 8 bytes of a little-endian float64. */
function f64(v) {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b;
}

/** Writes little-endian float64 values: entries [[k, value], …] go to byte `base` + 8k. */
function putF64(file, entries, base = 0) {
  const fd = fs.openSync(file, 'r+');
  try {
    for (const [k, v] of entries) fs.writeSync(fd, f64(v), 0, 8, base + 8 * k);
  } finally {
    fs.closeSync(fd);
  }
}

/** The little-endian float64 at byte `base` + 8k. */
function readF64(file, k, base = 0) {
  return pread(file, base + 8 * k, 8).readDoubleLE();
}

module.exports = { GiB, sparseFile, pwrite, pread, f64, putF64, readF64 };
