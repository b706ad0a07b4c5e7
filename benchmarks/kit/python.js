'use strict';
// Finds a python3 with numpy (the reference implementation) and runs scripts in
// it. The tests use the same module (test/helpers/python.js re-exports it).
const { spawnSync } = require('node:child_process');

let cached;

const canImportNumpy = (exe) => spawnSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Path of a python interpreter that can `import numpy` ($PYTHON, python3, /usr/bin/python3, python), or null. */
function findPython() {
  if (cached !== undefined) return cached;
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3', 'python'].filter(Boolean);
  cached = candidates.find(canImportNumpy) ?? null;
  return cached;
}

/**
 * The python a benchmark should use for its --python option: 'none' = none,
 * an executable = that one if it has numpy (else none), unset = findPython().
 */
function resolvePython(option) {
  if (option === 'none') return null;
  if (option) return canImportNumpy(option) ? option : null;
  return findPython();
}

/** {python, numpy} versions of `exe`. */
function pythonInfo(exe) {
  const r = spawnSync(exe, ['-c', 'import sys, numpy, json; print(json.dumps({"python": sys.version.split()[0], "numpy": numpy.__version__}))'], { encoding: 'utf8' });
  return JSON.parse(r.stdout);
}

/**
 * Runs `code` in python with numpy; `args` become sys.argv[1:]. Returns stdout.
 * Throws if python or the script fails.
 */
function runPython(code, args = [], options = {}) {
  const exe = options.python ?? findPython();
  if (!exe) throw new Error('python3 with numpy is required for this test (apt-get install python3-numpy)');
  const { python: _python, ...spawnOptions } = options;
  const r = spawnSync(exe, ['-c', code, ...args.map(String)], { encoding: 'utf8', maxBuffer: 64 << 20, ...spawnOptions });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs python and parses its stdout as JSON. */
function pythonJSON(code, args = []) {
  return JSON.parse(runPython(code, args));
}

module.exports = { findPython, resolvePython, pythonInfo, runPython, pythonJSON };
