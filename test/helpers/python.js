'use strict';
// Finds a python3 with numpy (the reference implementation) and runs scripts in
// it: the benchmarks' module, shared so both find the same interpreter.
const kit = require('../../benchmarks/kit/python');
const { pendingOnWindows } = require('./platform');

const { findPython } = kit;
// Windows (wine) has no python with numpy: tests checked against it skip there.
const needPython = () => findPython() || pendingOnWindows('needs python3 with numpy');
const runPython = (...args) => (needPython(), kit.runPython(...args));
const pythonJSON = (...args) => (needPython(), kit.pythonJSON(...args));

module.exports = { findPython, runPython, pythonJSON };
