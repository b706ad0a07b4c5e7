'use strict';
// Side-by-side comparisons with another checkout of this package (--against
// DIR): DIR must have its own dist/ and build/ (npm install builds both). The
// benchmark code is this checkout's; only the library under test differs.
const fs = require('node:fs');
const path = require('node:path');

const THIS_DIR = path.resolve(__dirname, '..', '..');

/**
 * The implementations to measure: [{key: 'this', label, dir}] plus
 * {key: 'against', label: basename of DIR, dir} when `against` is given.
 */
function checkouts(against) {
  const list = [{ key: 'this', label: 'this', dir: THIS_DIR }];
  if (against) {
    const dir = path.resolve(against);
    if (!fs.existsSync(path.join(dir, 'package.json'))) throw Object.assign(new Error(`--against ${dir}: no package.json there`), { usage: true });
    if (!fs.existsSync(path.join(dir, 'dist'))) throw Object.assign(new Error(`--against ${dir}: no dist/ (run npm install there)`), { usage: true });
    list.push({ key: 'against', label: path.basename(dir), dir });
  }
  return list;
}

/** The package at `dir` (this checkout when dir is null). */
const loadPackage = (dir) => require(dir ?? THIS_DIR);

module.exports = { THIS_DIR, checkouts, loadPackage };
