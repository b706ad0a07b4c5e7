'use strict';
// What this process has mapped and open, read from /proc (Linux), for unmap
// and leak checks; settle() lets GC finalizers run (needs --expose-gc).
const fs = require('node:fs');
const { pendingOnWindows } = require('./platform');

/** Lines of /proc/self/maps that map `file`. */
function mappedLines(file) {
  pendingOnWindows('counts mappings in /proc/self/maps');
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.endsWith(file)).length;
}

/**
 * Counts of mappings and open file descriptors, and the address space in KiB:
 * a region left reserved after close (its file pages swapped for zero pages
 * while a buffer finalizer is pending) merges with its anonymous neighbours in
 * /proc/self/maps, but not in VmSize.
 */
function usage() {
  pendingOnWindows('reads /proc/self/maps, fd and status');
  return {
    maps: fs.readFileSync('/proc/self/maps', 'utf8').split('\n').length,
    fds: fs.readdirSync('/proc/self/fd').length,
    vmKiB: Number(/VmSize:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]),
  };
}

/** A few gc() calls with a turn of the event loop between, so finalizers run. */
async function settle(rounds = 6) {
  for (let i = 0; i < rounds; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

module.exports = { mappedLines, usage, settle };
