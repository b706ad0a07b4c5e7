'use strict';
// Compares the compiler flags that matter (C++ standard, exceptions/RTTI,
// visibility, optimisation, warnings, -Werror, Node-API defines) between the
// node-gyp build (build/memmap.target.mk) and the cmake-js build
// (<dir>/compile_commands.json), so the two builds stay identical.
// Usage: node scripts/check-flag-parity.js [gypBuildDir=build] cmakeBuildDir
const fs = require('node:fs');
const path = require('node:path');

const [gypDir, cmakeDir] = process.argv.length > 3 ? process.argv.slice(2) : ['build', process.argv[2]];
if (!cmakeDir) {
  console.error('usage: node scripts/check-flag-parity.js [gypBuildDir] cmakeBuildDir');
  process.exit(2);
}

const RELEVANT = [
  /^-std=/,
  /^-f(no-)?(exceptions|rtti)$/,
  /^-fvisibility=/,
  /^-fno-omit-frame-pointer$/,
  /^-fPIC$/,
  /^-pthread$/,
  /^-O/,
  /^-W/,
  /^-D(NAPI_VERSION|NAPI_CPP_EXCEPTIONS|_FILE_OFFSET_BITS|NDEBUG)\b/,
];
const relevant = (flags) => [...new Set(flags.filter((f) => RELEVANT.some((re) => re.test(f))))].sort();

function gypFlags() {
  const mk = fs.readFileSync(path.join(gypDir, 'memmap.target.mk'), 'utf8');
  const flags = [];
  for (const v of ['DEFS_Release', 'CFLAGS_Release', 'CFLAGS_CC_Release']) {
    const m = mk.match(new RegExp(`^${v} :=((?:.*\\\\\\n)*.*)$`, 'm'));
    if (!m) throw new Error(`${v} not found in ${gypDir}/memmap.target.mk`);
    flags.push(...m[1].split(/\\\n|\s+/).map((f) => f.trim().replace(/^'(.*)'$/, '$1')).filter(Boolean));
  }
  return flags;
}

function cmakeFlags() {
  const db = JSON.parse(fs.readFileSync(path.join(cmakeDir, 'compile_commands.json'), 'utf8'));
  const entry = db.find((e) => e.file.endsWith('binding.cc'));
  if (!entry) throw new Error(`binding.cc not in ${cmakeDir}/compile_commands.json`);
  return entry.command.split(/\s+/);
}

const gyp = relevant(gypFlags());
const cmake = relevant(cmakeFlags());
const onlyGyp = gyp.filter((f) => !cmake.includes(f));
const onlyCmake = cmake.filter((f) => !gyp.includes(f));
console.log(`node-gyp and cmake-js flags: ${gyp.join(' ')}`);
if (onlyGyp.length || onlyCmake.length) {
  console.error(`flag mismatch: only node-gyp: [${onlyGyp.join(' ')}]; only cmake-js: [${onlyCmake.join(' ')}]`);
  process.exit(1);
}
