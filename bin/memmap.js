#!/usr/bin/env node
'use strict';
// `memmap` command (package.json "bin"); the implementation is lib/cli.ts.
process.exitCode = require('../dist/cli.js').main(process.argv.slice(2));
