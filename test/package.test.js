'use strict';
// The published package: `npm pack` ships exactly the runtime files and what
// the README links to (docs/, the benchmark code and results), and the tarball
// installs and works (CommonJS, ESM, TypeScript .mts) in a fresh project on a
// machine without a compiler (CC/CXX=/bin/false), through the prebuild; every
// relative link and image of its Markdown files resolves inside it.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { useTmpDir } = require('./helpers/tmp');
const { brokenLinks, markdownLinks } = require('./helpers/markdown');
const { skipUnderWine } = require('./helpers/platform');

const ROOT = path.join(__dirname, '..');
const TUPLE = `${process.platform}-${process.arch}`;
const PREBUILD_DIR = path.join(ROOT, 'prebuilds', TUPLE);
const NATIVE_INPUTS = ['binding.gyp', 'package.json', ...fs.readdirSync(path.join(ROOT, 'src-native')).map((f) => `src-native/${f}`)];

// Every file the tarball may contain; anything else is a packaging bug.
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^binding\.gyp$/,
  /^src-native\/[^/]+\.(cc|h)$/,
  /^dist\/[^/]+\.(js|mjs|d\.ts|d\.mts)$/,
  /^prebuilds\/[^/]+\/[^/]+\.node$/,
  /^bin\/memmap\.js$/, // the `memmap` command (package.json bin)
  // What the README and docs link to, so the links work in node_modules/memmap:
  /^docs\/[^/]+\.md$/,
  /^benchmarks\/(?:(?:kit|workloads)\/)?[^/]+\.(js|py)$/,
  /^benchmarks\/results\/[^/]+\.(md|svg|json)$/,
];
const REQUIRED = ['package.json', 'README.md', 'binding.gyp', 'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts', 'docs/api.md'];
// Command-line entry points named in package.json "bin" ship too.
const PKG_BIN = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin || {};
for (const file of typeof PKG_BIN === 'string' ? [PKG_BIN] : Object.values(PKG_BIN)) {
  const rel = path.posix.normalize(file);
  REQUIRED.push(rel);
  ALLOWED.push(new RegExp(`^${rel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** The environment of a user's shell: no npm script variables, no compiler. */
function userEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('npm_') && !['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'].includes(k)) continue;
    if (k === 'MEMMAP_PREBUILD' || k === 'PREBUILDS_ONLY' || k === 'LD_PRELOAD') continue;
    env[k] = v;
  }
  return { ...env, CC: '/bin/false', CXX: '/bin/false', ...extra };
}

function prebuildFiles() {
  try {
    return fs.readdirSync(PREBUILD_DIR).filter((f) => f.endsWith('.node'));
  } catch {
    return [];
  }
}

function prebuildIsFresh() {
  const files = prebuildFiles();
  if (files.length === 0) return false;
  const built = Math.min(...files.map((f) => fs.statSync(path.join(PREBUILD_DIR, f)).mtimeMs));
  return NATIVE_INPUTS.every((f) => fs.statSync(path.join(ROOT, f)).mtimeMs <= built);
}

function hasCompiler() {
  const cxx = process.env.CXX || 'c++';
  return spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * What `npm run prebuild` makes, built in a scratch copy so that a build/ other
 * processes are loading from is never deleted under them.
 */
function buildPrebuild() {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-prebuild-'));
  try {
    for (const f of NATIVE_INPUTS) {
      fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(stage, f));
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    // npm puts its node-gyp on PATH and passes the npmrc (nodedir) on.
    run('npm', ['run', 'prebuild', '--silent'], { cwd: stage, env: userEnv({ CC: process.env.CC, CXX: process.env.CXX }) });
    fs.mkdirSync(PREBUILD_DIR, { recursive: true });
    for (const f of fs.readdirSync(path.join(stage, 'prebuilds', TUPLE))) {
      // rename over the old file so a concurrent reader sees old or new, never half.
      const tmp = path.join(PREBUILD_DIR, `.${f}.${process.pid}`);
      fs.copyFileSync(path.join(stage, 'prebuilds', TUPLE, f), tmp);
      fs.renameSync(tmp, path.join(PREBUILD_DIR, f));
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

const CJS_SCRIPT = `
const assert = require('node:assert/strict');
const path = require('node:path');
const m = require('memmap');
const { memmap } = m;
const a = memmap(process.argv[2], { dtype: 'float32', shape: [2, 3] });
assert.deepEqual(Array.from(a.data), [0, 1.5, 3, 4.5, 6, 7.5]);
assert.equal(a.get(1, 2), 7.5);
a.close();
assert.equal(a.closed, true);
const w = memmap(process.argv[3], { dtype: 'int64', mode: 'w+', shape: 4 });
w.data.set([1n, -2n, 3n, 2n ** 62n]);
w.flush();
w.close();
// The wasm codecs come from the numcodecs dependency as installed beside memmap.
const zdir = path.join(path.dirname(process.argv[3]), 'z.zarr');
const z = m.createZarr(zdir, { shape: [64], dtype: 'int16', chunks: [16], compressor: 'zstd' });
z.write(null, new Int16Array(64).map((_, i) => i * 3));
z.close();
assert.equal(m.openZarr(zdir).get(63), 189);
const pkgDir = path.dirname(require.resolve('memmap/package.json'));
console.log(JSON.stringify({
  binary: require('node-gyp-build').path(pkgDir),
  pkgDir,
  error: m.MemmapError.name,
}));
`;

const ESM_SCRIPT = `
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import memmapDefault, { memmap, MemmapError, openZarr } from 'memmap';
import * as ns from 'memmap';
assert.equal(memmapDefault, memmap);
assert.ok(!Object.keys(ns).includes('__esModule'), Object.keys(ns).join());
const a = memmapDefault(process.argv[2], { dtype: 'float32' });
assert.deepEqual(Array.from(a.data), [0, 1.5, 3, 4.5, 6, 7.5]);
a.close();
// One instance behind both formats: same functions, same error classes.
const cjs = createRequire(import.meta.url);
assert.equal(cjs('memmap').memmap, memmap);
assert.equal(cjs('memmap').MemmapError, MemmapError);
assert.equal(ns.memmap, memmap);
let code;
try { memmap(process.argv[2], { dtype: 'float33' }); } catch (e) { assert.ok(e instanceof MemmapError); code = e.code; }
// The zstd store cjs.js wrote, read async: its chunks decode on the pool's threads, the worker file found in the
// installed dist/ (the process then exits by itself: idle threads are unref()'d).
const pool = cjs(join(dirname(cjs.resolve('memmap/package.json')), 'dist', 'zarr-decode-pool.js'));
const z = await openZarr(join(dirname(process.argv[2]), 'z.zarr')).readAsync();
assert.deepEqual(Array.from(z), Array.from({ length: 64 }, (_, i) => i * 3));
assert.equal(pool.decodePoolForTests.state().decoded, 4);
// A large async call runs whole on the off-thread worker (dist/zarr-offthread-worker.js, found in the installed dist/).
const off = cjs(join(dirname(cjs.resolve('memmap/package.json')), 'dist', 'zarr-offthread.js'));
off.offThreadForTests.setBytes(0);
assert.equal(await openZarr(join(dirname(process.argv[2]), 'z.zarr')).sumAsync(), 6048);
assert.equal(off.offThreadForTests.state().calls, 1);
console.log(JSON.stringify({ ok: true, code }));
`;

const MTS_SOURCE = `
import memmap, { openNpy, MemmapError, type MemmapArray } from 'memmap';
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
const f = memmap('x.bin', { dtype: 'float32', shape: [2, 3] });
const isF32: Equal<typeof f.data, Float32Array> = true;
const i = memmap(new URL('file:///x.bin'), { dtype: 'int64', mode: 'r+' });
const isI64: Equal<typeof i.data, BigInt64Array> = true;
const arr: MemmapArray<'float32'> = f;
const e: typeof MemmapError = MemmapError;
// @ts-expect-error not a dtype
memmap('x.bin', { dtype: 'float33' });
// @ts-expect-error not a mode
memmap('x.bin', { mode: 'rw' });
const isNpy: Equal<typeof openNpy, typeof import('memmap').openNpy> = true;
export { isF32, isI64, arr, e, isNpy };
`;

describe('npm package (pack, install without a compiler, CJS/ESM/TypeScript)', function () {
  before(function () {
    skipUnderWine(this, 'no npm in the wine prefix');
  });
  this.timeout(300000);
  const tmp = useTmpDir();
  let packed; // npm pack --json entry
  let prebuilt; // prebuilds/<tuple>/*.node just before packing (CI's other lane may add the musl one meanwhile)
  let tarball;
  let project;

  before(function () {
    if (process.env.MEMMAP_PREBUILD) {
      // Stage runs of the suite against another binary (cmake-js, ASan) test that
      // binary; the published package is covered by the default and matrix runs.
      console.log(`      (skipped: MEMMAP_PREBUILD=${process.env.MEMMAP_PREBUILD} selects a non-packaged binary)`);
      this.skip();
    }
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'index.js')), 'dist/ missing: run `npm run build:ts` first');
    if (!prebuildIsFresh()) {
      if (!hasCompiler()) {
        console.log(`      (skipped: no prebuild in ${PREBUILD_DIR} and no C++ compiler to make one; run \`npm run prebuild\`)`);
        this.skip();
      }
      buildPrebuild();
    }
    prebuilt = prebuildFiles();
    const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp.dir], {
      cwd: ROOT,
      env: userEnv(),
    });
    packed = JSON.parse(out)[0];
    tarball = path.join(tmp.dir, packed.filename);
  });

  it('packs the runtime files and nothing else', function () {
    const files = packed.files.map((f) => f.path).sort();
    const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
    assert.deepEqual(stray, [], `unexpected files in the tarball: ${stray.join(', ')}`);
    for (const f of REQUIRED) assert.ok(files.includes(f), `${f} missing from the tarball`);
    for (const f of fs.readdirSync(path.join(ROOT, 'src-native'))) {
      assert.ok(files.includes(`src-native/${f}`), `src-native/${f} missing (source builds need it)`);
    }
    for (const f of prebuilt) {
      assert.ok(files.includes(`prebuilds/${TUPLE}/${f}`), `prebuild ${f} missing`);
    }
    const dts = files.filter((f) => f.startsWith('dist/') && f.endsWith('.d.ts')).length;
    const js = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js')).length;
    assert.equal(dts, js, 'every dist/*.js has its .d.ts');
    // benchmarks/data/ holds the benchmark's GiB-sized input files.
    for (const bad of ['test/', 'benchmarks/data/', 'build/', 'node_modules/', 'lib/', 'scripts/', 'benchmarks/results/quick.', 'benchmarks/results/sum.']) {
      assert.ok(!files.some((f) => f.startsWith(bad)), `${bad} must not be packed`);
    }
  });

  it('installs from the tarball into a fresh project with no compiler', function () {
    project = path.join(tmp.dir, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: project,
      env: userEnv(),
    });
    const installed = path.join(project, 'node_modules', 'memmap');
    assert.ok(fs.existsSync(path.join(installed, 'package.json')));
    assert.ok(!fs.existsSync(path.join(installed, 'build')), 'install must not have compiled anything');
  });

  it('works from CommonJS (require) through the prebuild', function () {
    if (!project) this.skip();
    const data = path.join(project, 'f32.bin');
    fs.writeFileSync(data, Buffer.from(new Float32Array([0, 1.5, 3, 4.5, 6, 7.5]).buffer));
    const out = path.join(project, 'i64.bin');
    fs.writeFileSync(path.join(project, 'cjs.js'), CJS_SCRIPT);
    const res = JSON.parse(run(process.execPath, ['cjs.js', data, out], { cwd: project, env: userEnv() }));
    // On Linux the glibc one (this machine's libc) even when prebuild:all put the musl one beside it.
    const want = prebuilt.filter((f) => !f.endsWith('.musl.node'))[0];
    assert.equal(res.binary, path.join(res.pkgDir, 'prebuilds', TUPLE, want));
    assert.equal(res.error, 'MemmapError');
    const back = new BigInt64Array(new Uint8Array(fs.readFileSync(out)).buffer);
    assert.deepEqual(Array.from(back), [1n, -2n, 3n, 2n ** 62n]);
  });

  it('works from ESM (import) with one shared instance, and the decode pool and the off-thread calls find their workers in the installed dist/', function () {
    if (!project) this.skip();
    fs.writeFileSync(path.join(project, 'esm.mjs'), ESM_SCRIPT);
    const res = JSON.parse(run(process.execPath, ['esm.mjs', path.join(project, 'f32.bin')], { cwd: project, env: userEnv() }));
    assert.deepEqual(res, { ok: true, code: 'ERR_INVALID_DTYPE' });
  });

  it('every relative link and image of README.md and the shipped docs resolves inside the installed package', function () {
    if (!project) this.skip();
    const installed = path.join(project, 'node_modules', 'memmap');
    const mdFiles = packed.files.map((f) => f.path).filter((f) => f.endsWith('.md'));
    for (const f of ['README.md', 'docs/api.md', 'docs/npy.md', 'docs/benchmarks.md', 'docs/development.md']) {
      assert.ok(mdFiles.includes(f), `${f} missing from the tarball`);
    }
    // What the README promises: the API reference, the chart, the example.
    const readme = markdownLinks(fs.readFileSync(path.join(installed, 'README.md'), 'utf8')).map((l) => `${l.kind} ${l.target}`);
    for (const want of ['link docs/api.md', 'image benchmarks/results/default.svg', 'link benchmarks/parallel-scan.js']) {
      assert.ok(readme.includes(want), `README.md has no ${want}`);
    }
    const problems = mdFiles.flatMap((f) => brokenLinks(installed, path.join(installed, f)).map((p) => `${p.file}:${p.line} ${p.kind} ${p.target}: ${p.reason}`));
    assert.deepEqual(problems, [], `broken links in the installed package:\n${problems.join('\n')}`);
  });

  it('the link checker finds broken links, anchors and images, and ignores code and URLs', function () {
    const dir = path.join(tmp.dir, 'links');
    fs.mkdirSync(path.join(dir, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'docs', 'a.md'), '# A\n\n## Two words: `code`\n');
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      [
        '[ok](docs/a.md) [ok](docs/a.md#two-words-code) [ok](#top-heading) [ok](https://example.com/x.md) [ok](docs/)',
        '# Top heading',
        '[missing](docs/b.md) ![img](chart.svg) [anchor](docs/a.md#nope) [out](../x.md) [root](/docs/a.md)',
        '<img src="pic.png"> `[code](nope.md)`',
        '```',
        '[fenced](nope.md)',
        '```',
        '[ref]: docs/c.md',
      ].join('\n'),
    );
    const found = brokenLinks(dir, path.join(dir, 'README.md')).map((p) => `${p.line} ${p.kind} ${p.target}`);
    assert.deepEqual(found, [
      '3 link docs/b.md',
      '3 image chart.svg',
      '3 link docs/a.md#nope',
      '3 link ../x.md',
      '3 link /docs/a.md',
      '4 image pic.png',
      '8 link docs/c.md',
    ]);
  });

  it('package.json names the repository, homepage and issue tracker (npm resolves the README\'s relative links and images through it)', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(project || ROOT, project ? 'node_modules/memmap/package.json' : 'package.json'), 'utf8'));
    const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository && pkg.repository.url;
    assert.match(String(repo), /^(git\+)?https:\/\/github\.com\/[\w.-]+\/[\w.-]+?(\.git)?$/, 'repository: a GitHub URL');
    const slug = /github\.com\/([\w.-]+\/[\w.-]+?)(?:\.git)?$/.exec(repo)[1];
    assert.equal(pkg.homepage, `https://github.com/${slug}#readme`);
    assert.equal(typeof pkg.bugs === 'string' ? pkg.bugs : pkg.bugs.url, `https://github.com/${slug}/issues`);
  });

  it('type-checks a TypeScript .mts consumer against the shipped declarations', function () {
    if (!project) this.skip();
    fs.writeFileSync(path.join(project, 'consumer.mts'), MTS_SOURCE);
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        files: ['consumer.mts'],
      }),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, env: userEnv() });
  });
});

describe('package-lock.json (a fresh clone stays clean after npm install)', function () {
  before(function () {
    skipUnderWine(this, 'no npm in the wine prefix');
  });
  this.timeout(120000);
  const tmp = useTmpDir();

  // `npm install` rewrites the lockfile when it and package.json disagree (a
  // range, engines, bin or a dependency changed without `npm install`), or when
  // entries are missing. Resolving the tree from the two files alone, offline
  // with an empty cache, must succeed and leave the lockfile byte for byte as
  // committed — with npm recording registry URLs (`resolved`) or not.
  for (const omitResolved of ['true', 'false']) {
    it(`npm install --package-lock-only leaves it unchanged (omit-lockfile-registry-resolved=${omitResolved})`, function () {
      const dir = path.join(tmp.dir, `clone-${omitResolved}`);
      fs.mkdirSync(dir);
      for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
      run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: dir,
        env: userEnv({ npm_config_cache: path.join(dir, '.npm-cache'), npm_config_omit_lockfile_registry_resolved: omitResolved }),
      });
      const before = fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8');
      const after = fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
      if (after !== before) {
        const a = before.split('\n');
        const b = after.split('\n');
        const i = a.findIndex((line, k) => line !== b[k]);
        assert.fail(`npm install rewrites package-lock.json (run \`npm install\` and commit it); first difference at line ${i + 1}:\n- ${a[i]}\n+ ${b[i]}`);
      }
    });
  }
});
