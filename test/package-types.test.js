'use strict';
// Type tests: the fixtures in test/types/ import 'memmap' by name (CommonJS .ts
// and ESM .mts) and assert exact types of `data` per dtype; bad options are
// `@ts-expect-error` lines, so an option that stops being a compile error fails
// this test too.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');

describe('TypeScript declarations (test/types)', function () {
  this.timeout(120000);

  it('type-check: data is typed per dtype, bad options do not compile', function () {
    for (const f of ['index.d.ts', 'index.d.mts']) {
      assert.ok(fs.existsSync(path.join(ROOT, 'dist', f)), `dist/${f} missing: run \`npm run build:ts\``);
    }
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'test', 'types')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc -p test/types failed:\n${r.stdout}${r.stderr}`);
  });
});
