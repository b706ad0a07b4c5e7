'use strict';
// Finds a python3 with numpy (the reference implementation) and runs scripts in it.
const { spawnSync } = require('node:child_process');

let cached;

/** Path of a python interpreter that can `import numpy`, or null. */
function findPython() {
  if (cached !== undefined) return cached;
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3', 'python'].filter(Boolean);
  cached = null;
  for (const exe of candidates) {
    const r = spawnSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' });
    if (r.status === 0) {
      cached = exe;
      break;
    }
  }
  return cached;
}

/**
 * Runs `code` in python with numpy; `args` become sys.argv[1:]. Returns stdout.
 * Throws (failing the test) if python or the script fails: numpy is required.
 */
function runPython(code, args = [], options = {}) {
  const exe = findPython();
  if (!exe) throw new Error('python3 with numpy is required for this test (apt-get install python3-numpy)');
  const r = spawnSync(exe, ['-c', code, ...args.map(String)], { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs python and parses its stdout as JSON. */
function pythonJSON(code, args = []) {
  return JSON.parse(runPython(code, args));
}

module.exports = { findPython, runPython, pythonJSON };
