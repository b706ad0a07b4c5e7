'use strict';
// The registries: the dtype, mode and advice tables the addon is built from
// equal lib/'s, every dtype alias parses to its row, the error codes the code
// can throw are exactly the typed list and exactly docs/api.md's table, and
// every public method documents what it throws.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { native } = require('../dist/binding');
const { DTYPES, ELEM_CODES, parseDType } = require('../dist/dtype');
const { ADVICE_CODES, MAP_FLAGS, MODE_CODES } = require('../dist/modes');
const { ERROR_CODES } = require('../dist/errors');
const { REDUCTIONS } = require('../dist/reduce');

const ROOT = path.join(__dirname, '..');
const read = (rel) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

describe('registries: native and TypeScript tables agree', function () {
  it('the addon reports the same dtypes, in the same order, with the same kind and itemsize', function () {
    const fromTs = Object.entries(DTYPES).map(([name, row]) => ({ name, kind: row.kind, itemsize: row.itemsize, code: ELEM_CODES[name] }));
    assert.deepEqual(native.tables.dtypes.map((r) => ({ ...r })), fromTs);
    assert.ok(fromTs.length >= 14);
  });

  it('each row is consistent: itemsize = scalar bytes x lanes, and its TypedArray has that scalar size', function () {
    for (const [name, row] of Object.entries(DTYPES)) {
      assert.equal(row.itemsize, row.array.BYTES_PER_ELEMENT * row.lanes, name);
      assert.equal(row.lanes === 2, row.kind === 'c', name);
    }
  });

  it('the addon reports the same modes, advice and map flags', function () {
    assert.deepEqual({ ...native.tables.modes }, { ...MODE_CODES });
    assert.deepEqual({ ...native.tables.advice }, { ...ADVICE_CODES });
    assert.deepEqual({ ...native.tables.mapFlags }, { ...MAP_FLAGS });
  });

  it('the addon reports the reductions in lib/reduce.ts\'s order', function () {
    assert.deepEqual({ ...native.tables.reductions }, Object.fromEntries(REDUCTIONS.map((name, code) => [name, code])));
  });

  it('every name and type code of a row parses to that dtype, in every byte order a code takes', function () {
    for (const [name, row] of Object.entries(DTYPES)) {
      for (const n of row.names) assert.equal(parseDType(n).name, name, n);
      for (const c of row.codes) {
        for (const prefix of ['', '<', '>', '=', '|']) assert.equal(parseDType(prefix + c).name, name, prefix + c);
      }
      assert.equal(parseDType(parseDType(name).descr).name, name);
    }
  });

  it('no alias names two dtypes', function () {
    const seen = new Map();
    for (const [name, row] of Object.entries(DTYPES)) {
      for (const a of [...row.names, ...row.codes]) {
        assert.ok(!seen.has(a) || seen.get(a) === name, `${a}: ${seen.get(a)} and ${name}`);
        seen.set(a, name);
      }
    }
  });
});

describe('registries: error codes', function () {
  const codes = new Set(ERROR_CODES);

  it('ERROR_CODES has no duplicates and only ERR_ codes', function () {
    assert.equal(codes.size, ERROR_CODES.length);
    for (const c of ERROR_CODES) assert.match(c, /^ERR_[A-Z0-9_]+$/);
  });

  it('docs/api.md lists exactly the codes of the union, one table row each', function () {
    const rows = [...read('docs/api.md').matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    assert.equal(new Set(rows).size, rows.length, 'a code listed twice');
    assert.deepEqual([...rows].sort(), [...ERROR_CODES].sort());
  });

  it('every ERR_ code in lib/ and in the native glue is in the union', function () {
    const files = [...fs.readdirSync(path.join(ROOT, 'lib')).map((f) => `lib/${f}`), ...fs.readdirSync(path.join(ROOT, 'src-native')).map((f) => `src-native/${f}`)];
    let found = 0;
    for (const f of files) {
      for (const m of read(f).matchAll(/['"](ERR_[A-Z0-9_]+)['"]/g)) {
        found++;
        assert.ok(codes.has(m[1]), `${f}: ${m[1]} is not in ERROR_CODES`);
      }
    }
    assert.ok(found > 50);
  });

  it('the glue throws only through its coded helpers (no bare Napi errors)', function () {
    const glue = read('src-native/binding.cc');
    const bare = glue.split('\n').filter((line) => /Napi::(Type|Range)?Error::New|NAPI_THROW|napi_throw/.test(line));
    // The one bare constructor is MakeError's fallback before init(), which sets `code` itself.
    assert.equal(bare.length, 1, bare.join('\n'));
    assert.match(glue, /err\.Set\("code"/);
  });
});

describe('registries: documented contracts', function () {
  it('every public method and getter of MemmapArray says what it throws (@throws)', function () {
    const dts = read('dist/array.d.ts');
    const body = dts.slice(dts.indexOf('export declare class MemmapArray'));
    const members = [...body.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?\n\s*((?:get )?[a-z][A-Za-z]*)\(/g)];
    const exempt = new Set(['constructor', 'get closed', 'close']);
    let checked = 0;
    for (const m of members) {
      const name = m[2];
      if (exempt.has(name)) continue;
      checked++;
      assert.ok(m[1] && /@throws|Never throws\./.test(m[1]), `${name} has no @throws (nor says it never throws)`);
    }
    assert.ok(checked >= 13, `only ${checked} members found`);
  });

  it('every exported function says what it throws (@throws)', function () {
    const where = { memmap: ['memmap', 'evict'], npy: ['openNpy', 'readNpyHeader'], share: ['fromShared'], dtype: ['parseDType'] };
    for (const [file, names] of Object.entries(where)) {
      const dts = read(`dist/${file}.d.ts`);
      for (const name of names) {
        const at = dts.indexOf(`export declare function ${name}`);
        assert.ok(at > 0, `${name} in dist/${file}.d.ts`);
        const doc = dts.slice(dts.lastIndexOf('/**', at), at);
        assert.ok(doc.includes('@throws'), `${name} has no @throws`);
      }
    }
  });
});
