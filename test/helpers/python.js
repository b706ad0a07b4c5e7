'use strict';
// Finds a python3 with numpy (the reference implementation) and runs scripts in
// it: the benchmarks' module, shared so both find the same interpreter.
const { findPython, runPython, pythonJSON } = require('../../benchmarks/kit/python');

module.exports = { findPython, runPython, pythonJSON };
