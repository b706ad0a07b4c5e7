'use strict';
// README's "first five minutes" runs as written: its shell and JavaScript
// blocks, in order, in a temp dir (require('memmap') resolves to this checkout).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { findPython } = require('./helpers/python');
const { useTmpDir } = require('./helpers/tmp');
const { skipOnWindows } = require('./helpers/platform');

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

describe('README: the first five minutes', function () {
  const tmp = useTmpDir();

  it('runs block by block and ends with numpy printing True', function () {
    skipOnWindows(this, 'runs sh and python3 with numpy');
    const section = README.split('<!-- first-five-minutes -->')[1].split('<!-- /first-five-minutes -->')[0];
    const blocks = [...section.matchAll(/```(sh|js)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }));
    assert.deepEqual(blocks.map((b) => b.lang), ['sh', 'js', 'sh']);
    // The python the tests use, for the README's `python3`; `memmap` resolves to this checkout.
    const py = findPython();
    const bin = path.join(tmp.dir, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(py.startsWith('/') ? py : spawnSync('sh', ['-c', `command -v ${py}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, 'python3'));
    fs.mkdirSync(path.join(tmp.dir, 'node_modules'));
    fs.symlinkSync(path.join(__dirname, '..'), path.join(tmp.dir, 'node_modules', 'memmap'));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const outputs = blocks.map((b) => {
      const r = b.lang === 'sh' ? spawnSync('sh', ['-c', b.code], { cwd: tmp.dir, env, encoding: 'utf8' }) : spawnSync(process.execPath, ['-e', b.code], { cwd: tmp.dir, env, encoding: 'utf8' });
      assert.equal(r.status, 0, `${b.lang} block failed: ${r.stderr}`);
      return r.stdout;
    });
    assert.match(outputs[1], /^memmap\(\[\[0\.8506242 , 0\.63696164,/, outputs.join('\n---\n'));
    assert.match(outputs[1], /shape=\(1000, 8\), dtype=float32\)/);
    assert.equal(outputs[2].trim(), 'True');
  });
});
