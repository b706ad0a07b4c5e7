'use strict';
// scripts/check-prebuilds.js: the checker npm run prebuild:all ends with. It
// is tried on the binary this process loaded (in a prebuilds/ layout of its
// own), and on copies placed or altered so that each check must fail.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { useTmpDir } = require('./helpers/tmp');
const { skipUnderWine } = require('./helpers/platform');
const { checkFile, checkDir, TARGETS, NAMES } = require('../scripts/check-prebuilds');

const ROOT = path.join(__dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-prebuilds.js');
const loaded = require('node-gyp-build').path(ROOT);
const here = `${process.platform}-${process.arch}`;
const name = process.platform === 'linux' ? 'memmap.glibc.node' : 'memmap.node';
const FORMATS = { linux: 'ELF', darwin: 'Mach-O', win32: 'PE32+' };

describe('check-prebuilds', function () {
  before(function () {
    // The ASan stage loads a build that links libasan/libubsan: the checker is for shipped binaries (npm test runs it).
    if (process.env.MEMMAP_SANITIZER) {
      console.log(`      (skipped: MEMMAP_SANITIZER=${process.env.MEMMAP_SANITIZER}: the loaded binary links the sanitizer runtimes)`);
      this.skip();
    }
  });
  const tmp = useTmpDir();
  const place = (dir, file, bytes = fs.readFileSync(loaded)) => {
    const to = path.join(tmp.dir, 'prebuilds', dir, file);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(to, bytes);
    return to;
  };
  const problems = (file, options) => checkFile(file, options).problems.join('\n');

  it('accepts the binary this process loaded, in its own platform-arch directory', function () {
    // Any glibc: the host build may be newer than what prebuild:all ships.
    const r = checkFile(place(here, name), { maxGlibc: '99' });
    assert.deepEqual(r.problems, []);
    assert.match(r.info, new RegExp(`^${FORMATS[process.platform].replace('+', '\\+')} ${process.arch};`));
    assert.match(r.info, /exports napi_register_module_v1/);
  });

  it('reads the same newest GLIBC_ version as objdump -T', function () {
    if (process.platform !== 'linux') this.skip();
    const dump = spawnSync('objdump', ['-T', loaded], { encoding: 'utf8' });
    if (dump.error) this.skip();
    const versions = [...new Set(dump.stdout.match(/GLIBC_[\d.]+/g))].map((v) => v.slice(6));
    versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const newest = versions.at(-1);
    assert.match(checkFile(place(here, name), { maxGlibc: '99' }).info, new RegExp(`GLIBC_${newest} newest`));
    // One step older than needed fails, naming the version.
    const [major, minor] = newest.split('.').map(Number);
    assert.match(problems(place(here, name), { maxGlibc: `${major}.${minor - 1}` }), new RegExp(`needs glibc ${newest}`));
  });

  it('fails a binary in another platform or arch directory', function () {
    const other = process.platform === 'linux' ? 'darwin-arm64' : 'linux-arm64';
    assert.match(problems(place(other, 'memmap.node'), { maxGlibc: '99' }), /file in a (darwin|linux) directory/);
    const arch = process.arch === 'arm64' ? 'x64' : 'arm64';
    assert.match(problems(place(`${process.platform}-${arch}`, name), { maxGlibc: '99' }), /machine is \w+, directory says/);
  });

  it('fails a binary that does not export the Node-API entry', function () {
    const bytes = fs.readFileSync(loaded);
    const entry = Buffer.from('napi_register_module_v1');
    let at = bytes.indexOf(entry);
    assert.ok(at >= 0);
    for (; at >= 0; at = bytes.indexOf(entry, at + 1)) bytes[at + entry.length - 1] = '2'.charCodeAt(0);
    assert.match(problems(place(here, name, bytes), { maxGlibc: '99' }), /napi_register_module_v1 is not exported/);
  });

  it('fails a glibc binary named as the musl one', function () {
    if (process.platform !== 'linux') this.skip();
    assert.match(problems(place(here, 'memmap.musl.node')), /a musl build that needs glibc/);
  });

  it('fails what is not a binary, and an empty or incomplete prebuilds/ from the command line', function () {
    assert.match(problems(place(here, 'junk.node', Buffer.from('not a shared library'))), /unreadable/);
    assert.match(problems(place(here, 'cut.node', fs.readFileSync(loaded).subarray(0, 64))), /unreadable/);
    const empty = path.join(tmp.dir, 'empty');
    fs.mkdirSync(empty);
    const r = spawnSync(process.execPath, [SCRIPT, empty], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const good = path.join(tmp.dir, 'good');
    fs.mkdirSync(path.join(good, here), { recursive: true });
    fs.copyFileSync(loaded, path.join(good, here, name));
    const ok = spawnSync(process.execPath, [SCRIPT, good, '--max-glibc', '99'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const all = spawnSync(process.execPath, [SCRIPT, good, '--max-glibc', '99', '--all'], { encoding: 'utf8' });
    assert.equal(all.status, 1, all.stdout + all.stderr);
    assert.match(all.stdout, /FAIL .*darwin-arm64[/\\]memmap\.node: missing/);
  });

  it('--pack checks the prebuilds/ of the tarball npm pack makes, not the directory', function () {
    skipUnderWine(this, 'no npm in the wine prefix');
    this.timeout(120000);
    const pkg = path.join(tmp.dir, 'pkg');
    fs.mkdirSync(path.join(pkg, 'prebuilds', here), { recursive: true });
    fs.copyFileSync(loaded, path.join(pkg, 'prebuilds', here, name));
    const manifest = { name: 'packed', version: '1.0.0', files: ['prebuilds/'] };
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify(manifest));
    const check = (...args) => spawnSync(process.execPath, [SCRIPT, '--pack', pkg, '--max-glibc', '99', ...args], { encoding: 'utf8' });
    const ok = check();
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.ok(ok.stdout.includes(`ok   ${path.join('package', 'prebuilds', here, name)}: `), ok.stdout);
    const all = check('--all');
    assert.equal(all.status, 1, all.stdout + all.stderr);
    assert.equal(all.stdout.match(/: missing$/gm).length, TARGETS.length - 1, all.stdout);
    // --require: only the named targets must be there (CI's check of the ones it builds).
    const hereName = Object.keys(NAMES).find((k) => NAMES[k] === `${here}/${name}`);
    if (hereName) assert.equal(check('--require', hereName).status, 0);
    const other = Object.keys(NAMES).find((k) => k !== hereName);
    const req = check('--require', `${hereName ?? 'linux-x64'},${other}`);
    assert.equal(req.status, 1, req.stdout + req.stderr);
    assert.equal(req.stdout.match(/: missing$/gm).length, hereName ? 1 : 2, req.stdout);
    assert.equal(check('--require', 'nowhere-x64').status, 2);
    // On disk but left out of the tarball: the check must not pass.
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ ...manifest, files: ['prebuilds/none/'] }));
    const unpacked = check();
    assert.equal(unpacked.status, 1, unpacked.stdout + unpacked.stderr);
    assert.match(unpacked.stdout, /no prebuilds in /);
  });

  it("passes every binary in the package's prebuilds/ (all six after npm run prebuild:all)", function () {
    const dir = path.join(ROOT, 'prebuilds');
    const all = process.env.MEMMAP_PREBUILDS_ALL === '1';
    // Without prebuild:all, linux-x64 may be `npm run prebuild`'s host build
    // (for tests, not shipped), which needs this machine's newer glibc.
    const { results, missing } = checkDir(dir, { all, maxGlibc: all ? '2.28' : '99' });
    if (!results.length && !all) this.skip(); // nothing built yet
    const failed = results.filter((r) => r.problems.length).map((r) => `${r.file}: ${r.problems.join('; ')}`);
    assert.deepEqual(failed, []);
    assert.deepEqual(missing, [], `MEMMAP_PREBUILDS_ALL=1: all of ${TARGETS.join(', ')}`);
  });
});

// scripts/gyp-sources.js: the source list prebuild-all.sh (zig) and prebuild-win.sh (mingw) compile.
describe('gyp-sources', function () {
  const { sources } = require('../scripts/gyp-sources');
  const gyp = JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8'));
  const all = fs
    .readdirSync(path.join(ROOT, 'src-native'))
    .filter((f) => f.endsWith('.cc'))
    .map((f) => f.slice(0, -3));

  it("lists every src-native/*.cc but the other OS's mapping core", function () {
    assert.deepEqual(sources(gyp, 'linux').sort(), all.filter((s) => s !== 'mapping_win').sort());
    assert.deepEqual(sources(gyp, 'mac').sort(), all.filter((s) => s !== 'mapping_win').sort());
    assert.deepEqual(sources(gyp, 'win').sort(), all.filter((s) => s !== 'mapping_posix').sort());
  });

  it('follows a new source and both branches of a condition', function () {
    const t = {
      target_name: 'memmap',
      sources: ['src-native/a.cc'],
      conditions: [
        ["OS=='win'", { sources: ['src-native/w.cc'] }, { sources: ['src-native/p.cc'] }],
        ["OS!='mac'", { sources: ['src-native/nm.cc'] }],
      ],
    };
    assert.deepEqual(sources({ targets: [t] }, 'win'), ['a', 'w', 'nm']);
    assert.deepEqual(sources({ targets: [t] }, 'mac'), ['a', 'p']);
  });

  it('fails on what it does not understand instead of guessing', function () {
    const t = (extra) => ({ targets: [{ target_name: 'memmap', sources: ['src-native/a.cc'], ...extra }] });
    assert.throws(() => sources(t({ conditions: [["OS=='linux' and target_arch=='x64'", {}]] }), 'linux'), /condition not understood/);
    assert.throws(() => sources(t({ sources: ['other/a.c'] }), 'linux'), /not under src-native/);
    assert.throws(() => sources({ targets: [] }, 'linux'), /no single target/);
  });
});
