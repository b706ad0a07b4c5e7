'use strict';
// Bad input: every case throws a MemmapError with a stable code (or the errno
// name for OS failures) AND leaves the file on disk unchanged.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { memmap, MemmapArray, MemmapError } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { throwsCode, patternFile } = require('./helpers/assert');
const { fixtureJSON, runFixture, expectCleanExit } = require('./helpers/child');
const { skipOnWindows, windows } = require('./helpers/platform');
const { getSystemErrorName } = require('node:util');

// The call that opens a file, as errors name it.
const OPEN = windows ? 'CreateFileW' : 'open';

const MODES = ['r', 'r+', 'w+', 'c'];

describe('errors', function () {
  const tmp = useTmpDir();

  /** Runs every case against a fresh 64-byte file in every mode; the file must not change. */
  function rejectsInEveryMode(cases, modes = MODES) {
    const file = tmp.file('victim.bin');
    patternFile(file, 64);
    const before = fingerprint(file);
    for (const [options, code, cls] of cases) {
      for (const mode of modes) {
        const opts = { shape: [4], ...options, mode };
        const err = throwsCode(() => memmap(file, opts), code, cls);
        const what = JSON.stringify(options, (k, v) => (typeof v === 'bigint' ? `${v}n` : v));
        assert.equal(fingerprint(file), before, `${mode} ${what} (${err.code}) changed the file`);
      }
    }
  }

  describe('OS failures carry errno name, syscall and path', function () {
    it('missing file: ENOENT', function () {
      const file = tmp.file('does-not-exist.bin');
      for (const mode of ['r', 'r+', 'c']) {
        const err = throwsCode(() => memmap(file, { mode }), 'ENOENT');
        assert.equal(err.syscall, OPEN);
        assert.equal(err.path, file);
        assert.equal(getSystemErrorName(err.errno), 'ENOENT', 'the errno fs would give');
      }
      const err = throwsCode(() => memmap(tmp.file('no-dir/x.bin'), { mode: 'w+', shape: [1] }), 'ENOENT');
      assert.equal(err.syscall, OPEN);
      assert.ok(!fs.existsSync(file));
    });

    it('directory: EISDIR, and the directory is left alone', function () {
      const dir = tmp.file('a-dir');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'inside'), 'x');
      for (const mode of MODES) {
        const err = throwsCode(() => memmap(dir, { mode, shape: [1] }), 'EISDIR');
        assert.equal(err.path, dir);
        assert.equal(typeof err.syscall, 'string');
      }
      assert.deepEqual(fs.readdirSync(dir), ['inside']);
    });

    it('character device: ENODEV', function () {
      for (const mode of ['r', 'c']) throwsCode(() => memmap('/dev/null', { mode }), 'ENODEV');
    });

    it('a file the kernel cannot map (a sysfs attribute): errno name, syscall mmap and path', function () {
      skipOnWindows(this, 'no sysfs');
      // sysfs attributes are regular files of 4096 bytes that refuse mmap()
      const file = ['/sys/kernel/mm/transparent_hugepage/enabled', '/sys/kernel/profiling', '/sys/power/state']
        .find((f) => fs.existsSync(f) && fs.statSync(f).isFile() && fs.statSync(f).size > 0);
      assert.ok(file, 'no sysfs attribute found');
      for (const mode of ['r', 'c']) {
        const err = throwsCode(() => memmap(file, { mode }), 'ENODEV');
        assert.equal(err.syscall, 'mmap');
        assert.equal(err.path, file);
        assert.equal(err.errno, -os.constants.errno.ENODEV);
      }
    });

    it('FIFO: ENODEV without blocking on the open, for memmap() and evict() (checked in a child process)', function () {
      skipOnWindows(this, 'no mkfifo');
      const fifo = tmp.file('a-fifo');
      const r = spawnSync('mkfifo', [fifo]);
      assert.equal(r.status, 0, 'mkfifo (coreutils) failed');
      const cases = MODES.map((mode) => ({ file: fifo, options: { mode, shape: [1] } }));
      cases.push({ file: fifo, options: 'evict' });
      const { results } = fixtureJSON('errors-open-cases.js', [JSON.stringify(cases)], { timeout: 15000 });
      for (const res of results) {
        assert.equal(res.memmapError, true, JSON.stringify(res));
        assert.equal(res.code, 'ENODEV', JSON.stringify(res));
      }
      assert.ok(fs.statSync(fifo).isFIFO());
    });

    it("no permission: EACCES, file untouched (without root's permission override)", function () {
      skipOnWindows(this, 'POSIX file modes and uids (chmod, setpriv)');
      // root bypasses permission bits, so as root the opens run in a child as
      // user nobody or, if nobody cannot read the package, as root without
      // CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (setpriv).
      const asRoot = process.getuid && process.getuid() === 0;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-eacces-'));
      try {
        fs.chmodSync(dir, 0o755);
        const locked = path.join(dir, 'locked.bin'); // mode 000
        const readonly = path.join(dir, 'readonly.bin'); // mode 444
        const hiddenDir = path.join(dir, 'hidden'); // mode 700, owned by someone else
        const hidden = path.join(hiddenDir, 'h.bin');
        const noWriteDir = path.join(dir, 'nowrite'); // mode 555
        patternFile(locked, 32);
        patternFile(readonly, 32);
        fs.mkdirSync(hiddenDir);
        patternFile(hidden, 32);
        fs.mkdirSync(noWriteDir);
        const files = [locked, readonly, hidden];
        const before = files.map(fingerprint);
        fs.chmodSync(locked, 0o000);
        fs.chmodSync(readonly, 0o444);
        fs.chmodSync(noWriteDir, 0o555);
        fs.chmodSync(hiddenDir, asRoot ? 0o700 : 0o000);
        const cases = [
          { file: locked, options: { mode: 'r' } },
          { file: locked, options: { mode: 'c' } },
          { file: readonly, options: { mode: 'r+' } },
          { file: readonly, options: { mode: 'w+', shape: [4] } },
          { file: hidden, options: { mode: 'r' } },
          { file: path.join(noWriteDir, 'new.bin'), options: { mode: 'w+', shape: [4] } },
        ];
        // r and c only read the file: a read-only file is enough (as numpy)
        const allowed = [{ file: readonly, options: { mode: 'r' } }, { file: readonly, options: { mode: 'c' } }];
        const run = (options) => runFixture('errors-open-cases.js', [JSON.stringify([...cases, ...allowed])], options);
        let r = run(asRoot ? { uid: 65534, gid: 65534 } : {});
        if (asRoot && r.status !== 0 && /Cannot find module|EACCES|EPERM/.test(r.stderr + (r.error ? r.error.code : ''))) {
          // nobody cannot reach this checkout (e.g. under /root)
          if (spawnSync('setpriv', ['--version']).status !== 0) {
            console.log(`      (skipped: user nobody cannot read the package and setpriv is missing: ${r.stderr.split('\n')[0]})`);
            this.skip();
          }
          fs.chownSync(hiddenDir, 65534, 65534); // root without DAC override cannot enter another user's 700 dir
          r = run({ prefix: ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] });
        }
        const out = JSON.parse(expectCleanExit(r));
        assert.deepEqual(out.results.slice(cases.length), allowed.map(() => ({ ok: true })));
        out.results.slice(0, cases.length).forEach((res, k) => {
          const c = JSON.stringify(cases[k]);
          assert.equal(res.ok, false, `${c} opened`);
          assert.equal(res.memmapError, true, c);
          assert.equal(res.code, 'EACCES', `${c}: ${JSON.stringify(res)}`);
          assert.equal(res.syscall, 'open', c);
          assert.equal(res.path, cases[k].file, c);
        });
        fs.chmodSync(hiddenDir, 0o700);
        fs.chmodSync(locked, 0o600); // chmod leaves size, content and mtime alone
        assert.deepEqual(files.map(fingerprint), before);
        assert.ok(!fs.existsSync(path.join(noWriteDir, 'new.bin')));
      } finally {
        for (const d of ['hidden', 'nowrite']) {
          try {
            fs.chmodSync(path.join(dir, d), 0o700);
          } catch {}
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('file contents that do not fit', function () {
    it('empty file in r/c: ERR_EMPTY_FILE (with or without shape)', function () {
      const file = tmp.file('empty.bin');
      fs.writeFileSync(file, '');
      const before = fingerprint(file);
      for (const mode of ['r', 'c']) {
        throwsCode(() => memmap(file, { mode }), 'ERR_EMPTY_FILE');
        throwsCode(() => memmap(file, { mode, shape: [1] }), 'ERR_EMPTY_FILE');
        throwsCode(() => memmap(file, { mode, dtype: 'float64', shape: [2, 2] }), 'ERR_EMPTY_FILE');
      }
      // With no shape there is nothing to map in r+ either (numpy: "cannot mmap an empty file").
      throwsCode(() => memmap(file, { mode: 'r+' }), 'ERR_EMPTY_FILE');
      assert.equal(fingerprint(file), before);
    });

    it('no shape and no data after the offset: ERR_FILE_TOO_SHORT in every mode, as numpy', function () {
      const file = tmp.file('at-end.bin');
      patternFile(file, 32);
      const before = fingerprint(file);
      for (const mode of ['r', 'r+', 'c']) throwsCode(() => memmap(file, { mode, offset: 32 }), 'ERR_FILE_TOO_SHORT');
      assert.equal(fingerprint(file), before);
    });

    it('file too short in r/c: ERR_FILE_TOO_SHORT', function () {
      const file = tmp.file('short.bin');
      patternFile(file, 30);
      const before = fingerprint(file);
      for (const mode of ['r', 'c']) {
        throwsCode(() => memmap(file, { mode, shape: [31] }), 'ERR_FILE_TOO_SHORT');
        throwsCode(() => memmap(file, { mode, dtype: 'int32', shape: [8] }), 'ERR_FILE_TOO_SHORT');
        throwsCode(() => memmap(file, { mode, shape: [1], offset: 30 }), 'ERR_FILE_TOO_SHORT');
        throwsCode(() => memmap(file, { mode, offset: 31 }), 'ERR_FILE_TOO_SHORT');
        throwsCode(() => memmap(file, { mode, shape: [2, 3, 5], offset: 1 }), 'ERR_FILE_TOO_SHORT');
      }
      assert.equal(fingerprint(file), before);
    });

    it('size not a multiple of the itemsize: ERR_SIZE_MISMATCH', function () {
      rejectsInEveryMode([
        [{ shape: undefined, dtype: 'float64', offset: 1 }, 'ERR_SIZE_MISMATCH'],
        [{ shape: undefined, dtype: 'complex128', offset: 8 }, 'ERR_SIZE_MISMATCH'],
        [{ shape: undefined, dtype: 'int16', offset: 3 }, 'ERR_SIZE_MISMATCH'],
      ], ['r', 'r+', 'c']);
    });
  });

  describe('bad options', function () {
    it('negative or non-integer shape: ERR_INVALID_SHAPE', function () {
      rejectsInEveryMode([
        [{ shape: [-1] }, 'ERR_INVALID_SHAPE', RangeError],
        [{ shape: -3 }, 'ERR_INVALID_SHAPE', RangeError],
        [{ shape: [2, -2] }, 'ERR_INVALID_SHAPE', RangeError],
        [{ shape: [1.5] }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: [NaN] }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: [Infinity] }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: ['4'] }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: [2, null] }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: '4' }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: null }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: { length: 1, 0: 4 } }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: [2 ** 53] }, 'ERR_INVALID_SHAPE', TypeError],
        [{ shape: [2 ** 30, 2 ** 30, 2 ** 30] }, 'ERR_INVALID_SHAPE', RangeError],
      ]);
    });

    it('negative or non-integer offset: ERR_INVALID_OFFSET', function () {
      rejectsInEveryMode([
        [{ offset: -1 }, 'ERR_INVALID_OFFSET', RangeError],
        [{ offset: -1n }, 'ERR_INVALID_OFFSET'],
        [{ offset: 0.5 }, 'ERR_INVALID_OFFSET', TypeError],
        [{ offset: NaN }, 'ERR_INVALID_OFFSET', TypeError],
        [{ offset: Infinity }, 'ERR_INVALID_OFFSET', TypeError],
        [{ offset: '8' }, 'ERR_INVALID_OFFSET', TypeError],
        [{ offset: null }, 'ERR_INVALID_OFFSET', TypeError],
        [{ offset: 2 ** 53 }, 'ERR_INVALID_OFFSET', TypeError],
        [{ offset: 2n ** 64n }, 'ERR_INVALID_OFFSET'],
      ]);
    });

    it('an array ending past 2^53 - 1 bytes: ERR_INVALID_OFFSET before the file is touched', function () {
      rejectsInEveryMode([
        [{ offset: 2 ** 53 - 8, shape: [10] }, 'ERR_INVALID_OFFSET', RangeError],
        [{ offset: 2 ** 53 - 2, dtype: 'float64', shape: [1] }, 'ERR_INVALID_OFFSET', RangeError],
      ]);
      const missing = tmp.file('never-created.bin');
      throwsCode(() => memmap(missing, { mode: 'w+', offset: 2 ** 53 - 4, shape: [8] }), 'ERR_INVALID_OFFSET');
      assert.ok(!fs.existsSync(missing));
    });

    it('unknown mode: ERR_INVALID_MODE', function () {
      const file = tmp.file('mode.bin');
      patternFile(file, 16);
      const before = fingerprint(file);
      for (const mode of ['w', 'rw', 'R', 'a', 'r+b', 'wb', '', 'read', 0, 1, null, true, {}]) {
        throwsCode(() => memmap(file, { mode }), 'ERR_INVALID_MODE', TypeError);
        throwsCode(() => memmap(file, { mode, shape: [2] }), 'ERR_INVALID_MODE', TypeError);
      }
      assert.equal(fingerprint(file), before);
    });

    it('unknown order: ERR_INVALID_ORDER', function () {
      rejectsInEveryMode(['A', 'K', 'row', '', 0, null].map((order) => [{ order }, 'ERR_INVALID_ORDER', TypeError]));
    });

    it('unknown dtype: ERR_INVALID_DTYPE', function () {
      rejectsInEveryMode(['U4', 'O', 'M8', 'V8', 'f3', 'x'].map((dtype) => [{ dtype }, 'ERR_INVALID_DTYPE', TypeError]));
    });

    it('w+ without shape: ERR_SHAPE_REQUIRED', function () {
      rejectsInEveryMode([[{ shape: undefined }, 'ERR_SHAPE_REQUIRED', TypeError]], ['w+']);
    });

    it('bad path or options argument: ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE', function () {
      const file = tmp.file('args.bin');
      patternFile(file, 16);
      const before = fingerprint(file);
      for (const p of [42, null, undefined, {}, ['a']]) throwsCode(() => memmap(p), 'ERR_INVALID_ARG_TYPE', TypeError);
      for (const opts of ['r', 5, null]) throwsCode(() => memmap(file, opts), 'ERR_INVALID_ARG_TYPE', TypeError);
      for (const mode of MODES) {
        throwsCode(() => memmap(`${file}\0.evil`, { mode, shape: [1] }), 'ERR_INVALID_ARG_VALUE', TypeError);
        throwsCode(() => memmap(Buffer.from(`${file}\0`), { mode, shape: [1] }), 'ERR_INVALID_ARG_VALUE', TypeError);
        throwsCode(() => memmap(new URL(`file://${file}%00x`), { mode, shape: [1] }), 'ERR_INVALID_ARG_VALUE', TypeError);
      }
      throwsCode(() => memmap(new URL('https://example.com/a.bin')), 'ERR_INVALID_ARG_VALUE', TypeError);
      assert.equal(fingerprint(file), before);
    });

    it('MemmapArray cannot be constructed directly: ERR_ILLEGAL_CONSTRUCTOR', function () {
      throwsCode(() => new MemmapArray(), 'ERR_ILLEGAL_CONSTRUCTOR', TypeError);
      throwsCode(() => new MemmapArray(Symbol('memmap.internal'), {}, [1], {}), 'ERR_ILLEGAL_CONSTRUCTOR', TypeError);
    });

    it('a failed open leaves no fd or mapping behind', function () {
      const fdsBefore = fs.readdirSync('/proc/self/fd').length;
      const file = tmp.file('fd-leak.bin');
      patternFile(file, 17);
      for (let k = 0; k < 200; k++) {
        assert.throws(() => memmap(file, { shape: [18] }), MemmapError);
        assert.throws(() => memmap(file, { dtype: 'float64' }), MemmapError);
      }
      assert.ok(fs.readdirSync('/proc/self/fd').length <= fdsBefore + 2);
    });
  });
});
