'use strict';
// One argument parser for every benchmark script. Each script declares its
// options as data ({name: {type, default, help}}); --help prints them, so the
// options are documented where they are parsed.
//
// Types: flag (no value), int, number, bytes (1G, 256M), string, path
// (resolved), regex, list (comma-separated). A default may be a function of
// the options parsed so far, e.g. (o) => (o.quick ? 1 : 3).
const path = require('node:path');
const { parseBytes } = require('./format');

const CONVERT = {
  flag: () => true,
  int: (v, name) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw usageError(`--${name} needs a whole number >= 1, not ${JSON.stringify(v)}`);
    return n;
  },
  number: (v, name) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw usageError(`--${name} needs a number, not ${JSON.stringify(v)}`);
    return n;
  },
  bytes: (v) => parseBytes(v),
  string: (v) => v,
  path: (v) => path.resolve(v),
  regex: (v) => new RegExp(v),
  list: (v) => v.split(',').filter(Boolean),
};

function usageError(message) {
  return Object.assign(new Error(message), { usage: true });
}

const camel = (name) => name.replace(/-(\w)/g, (_, c) => c.toUpperCase());

function helpText(spec, { usage, about }) {
  const lines = [];
  if (about) lines.push(about.trim(), '');
  if (usage) lines.push(`usage: ${usage}`, '');
  const rows = Object.entries(spec)
    .filter(([, o]) => !o.hidden)
    .map(([name, o]) => [`--${name}${o.alias ? `, --${o.alias}` : ''}${o.type === 'flag' ? '' : ` ${o.metavar ?? o.type.toUpperCase()}`}`, `${o.help ?? ''}${o.defaultText ? ` (default: ${o.defaultText})` : o.default !== undefined && typeof o.default !== 'function' && o.type !== 'flag' ? ` (default: ${o.default})` : ''}`]);
  rows.push(['--help, -h', 'this text']);
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Parses argv (without node and the script) against `spec`. Returns an object
 * keyed by the options' camelCase names; `--help` prints the help and exits.
 * Accepts `--name value` and `--name=value`.
 */
function parseArgs(argv, spec, info = {}) {
  const byName = new Map();
  for (const [name, o] of Object.entries(spec)) {
    byName.set(name, name);
    if (o.alias) byName.set(o.alias, name);
  }
  const out = {};
  const given = new Set();
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--help' || a === '-h') {
      process.stdout.write(helpText(spec, info));
      process.exit(0);
    }
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
    const name = m && byName.get(m[1]);
    if (!name) throw usageError(`unknown option ${a} (try --help)`);
    const o = spec[name];
    let value;
    if (o.type === 'flag') {
      if (m[2] !== undefined) throw usageError(`--${name} takes no value`);
      value = true;
    } else if (m[2] !== undefined) {
      value = m[2];
    } else {
      if (k + 1 >= argv.length) throw usageError(`--${name} needs a value`);
      value = argv[++k];
    }
    out[camel(name)] = CONVERT[o.type](value, name);
    given.add(name);
  }
  // Defaults in declaration order, so a default may depend on earlier options.
  for (const [name, o] of Object.entries(spec)) {
    const key = camel(name);
    if (given.has(name)) continue;
    if (o.type === 'flag') out[key] = false;
    const d = typeof o.default === 'function' ? o.default(out) : o.default;
    if (d !== undefined) out[key] = o.type === 'path' && typeof d === 'string' ? path.resolve(d) : d;
  }
  return out;
}

/**
 * Runs a script's main(): usage errors print their message and exit 2, other
 * errors their stack (exit 2); a main() that returns false exits 1.
 */
function runMain(main) {
  const fail = (err) => {
    process.stderr.write(`${err && err.usage ? err.message : err && err.stack ? err.stack : err}\n`);
    process.exitCode = 2;
  };
  try {
    const r = main();
    if (r && typeof r.then === 'function') r.then((ok) => ok === false && (process.exitCode = 1), fail);
    else if (r === false) process.exitCode = 1;
  } catch (err) {
    fail(err);
  }
}

module.exports = { parseArgs, helpText, usageError, runMain };
