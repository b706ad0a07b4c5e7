'use strict';
// Hostile callers: user JavaScript that runs in the middle of a native call,
// buffers moved out of close()'s reach, SIGBUS listeners, paths the OS reads
// differently from path.resolve(), failed opens under an address-space limit,
// forged share() tokens and the native handle. Every hostile script runs in its
// own node process (test/fixtures/hostile-*.js), so a crash, an ASan abort
// (npm run test:asan) or a hang fails one test, not mocha. Errors are matched
// by class and code, never by message.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { runFixture } = require('./helpers/child');
const { useTmpDir } = require('./helpers/tmp');
const { skipOnWindows, wine } = require('./helpers/platform');

const POSIX = process.platform !== 'win32';
const LINUX = process.platform === 'linux';
// A hang is a failure. wine makes a mapping in ~12 ms (the re-entrancy children open hundreds): 26 s of 30 there.
const TIMEOUT = wine ? 120000 : 30000;
const SIGBUS_TIMEOUT = 20000; // those children run side by side (a spin is today's failure mode there)

/**
 * runFixture() without blocking: resolves to the same { status, signal, stdout,
 * stderr, error } (error.code 'ETIMEDOUT' when it had to be killed), so that
 * children that may hang can wait out their timeouts side by side.
 */
function startFixture(name, args, { timeout = TIMEOUT, execArgv = [], ...rest } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...execArgv, path.join(__dirname, 'fixtures', name), ...args.map(String)], rest);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    let error;
    const timer = setTimeout(() => {
      error = Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
      child.kill('SIGKILL');
    }, timeout);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, error });
    });
  });
}

/** How a child ended, for messages. */
function ending(r) {
  if (r.error && r.error.code === 'ETIMEDOUT') return `HUNG (killed after the timeout with ${r.signal})`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit status ${r.status}`;
}

/** The last lines of a child's stderr (fixtures log their steps there). */
const tail = (text, n = 6) => (text || '').trim().split('\n').slice(-n).join('\n');

/** Asserts the child exited 0 without a signal and returns the JSON it printed last. */
function cleanJSON(r) {
  const detail = `${ending(r)}\nstdout: ${(r.stdout || '').slice(0, 2000)}\nstderr (last lines):\n${tail(r.stderr)}`;
  assert.ok(!r.error && r.signal === null && r.status === 0, `child did not exit cleanly: ${detail}`);
  const line = r.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    assert.fail(`child printed no JSON: ${detail}`);
  }
}

/** One line for what fromShared() did with a token. */
const summary = (r) => (r.opened ? `opened (first element ${r.first}, mode ${r.mode}, descr ${r.descr}, shape [${r.shape}])` : r.code || r.notMemmapError);

/** Asserts `results` (name -> fromShared() outcome) has no entry failing `ok`. */
function allRefused(results, ok, what) {
  const wrong = Object.entries(results)
    .filter(([name, r]) => !ok(name, r))
    .map(([name, r]) => `  ${name}: ${summary(r)}`);
  assert.ok(wrong.length === 0, `${wrong.length} of ${Object.keys(results).length} ${what}:\n${wrong.join('\n')}`);
}

/** A fresh directory under the suite's temp dir. */
function subdir(tmp, name) {
  const d = path.join(tmp.dir, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}

describe('hostile callers (each in a child process)', function () {
  const tmp = useTmpDir();

  describe('1. re-entrancy: user code run while sum()/read()/gather() and the reductions read their arguments', function () {
    // Each child attacks every point where the call runs user code (1st, 2nd, … hook hit) with:
    // close(); close() + open another file of the same size (a use-after-free would read it);
    // close() while a share()d copy stays open (which must keep reading the file); and, for
    // gather(), detaching the caller's Float64Array coordinates. sum/read/gather × float64/int16 × 1-d/2-d;
    // reductions with hostile axis lists and options (and out TypedArrays, moved away by 'detach-out').
    const triggers = {
      holes: 'sparse slices and coordinate arrays whose holes fall through to index accessors on Array.prototype',
      push: 'Array.prototype.push patched to leave holes, so arrays the library builds and passes to native code have them',
      map: 'Array.prototype.map patched to return sparse arrays (read through Array.prototype accessors)',
      iterator: 'Array.prototype[Symbol.iterator] patched',
      from: 'Float64Array.from patched (and its map function)',
      proxy: 'Proxies as slices and coordinate arrays (Arrays and Float64Arrays)',
      getter: 'own index getters on slices, array-likes with getters as coordinates, valueOf() objects',
      instance: "Symbol.hasInstance on the TypedArray constructors (run by the reductions' and read()'s out checks)",
    };
    for (const [trigger, what] of Object.entries(triggers)) {
      it(`${trigger}: ${what} → a MemmapError or the original file's values, never a crash or the other file`, function () {
        const dir = subdir(tmp, `reentrant-${trigger}`);
        const r = runFixture('hostile-reentrant.js', [trigger, dir], { execArgv: ['--expose-gc'], timeout: TIMEOUT });
        const out = cleanJSON(r);
        assert.ok(
          out.badCount === 0,
          `${out.badCount} of ${out.runs} attacked calls (${out.badKinds} calls × actions) neither threw a MemmapError nor returned the original values; the first of each:\n  ${out.bad.join('\n  ')}`,
        );
        if (['holes', 'proxy', 'getter', 'instance'].includes(trigger)) {
          assert.ok(out.fired > 0, 'the library must read the hostile arguments at least once: the attack never fired');
        }
      });
    }
  });

  describe('2. ArrayBuffer.prototype.transfer() / transferToFixedLength() of mapped buffers', function () {
    let flags = null; // node flags that enable transfer(), or null: not available
    before(function () {
      if (typeof ArrayBuffer.prototype.transfer === 'function') flags = [];
      else {
        const probe = spawnSync(process.execPath, [
          '--harmony-rab-gsab-transfer',
          '-e',
          "process.exit(typeof ArrayBuffer.prototype.transfer === 'function' && typeof ArrayBuffer.prototype.transferToFixedLength === 'function' ? 0 : 1)",
        ]);
        if (probe.status === 0) flags = ['--harmony-rab-gsab-transfer'];
      }
    });
    const sources = {
      data: 'a.data.buffer',
      bytes: 'a.bytes.buffer',
      segment: 'a segments({ maxBytes: 4096 }) buffer',
      window: 'a window buffer get() created (caught through a patched global DataView)',
    };
    for (const [source, what] of Object.entries(sources)) {
      for (const method of ['transfer', 'transferToFixedLength']) {
        const run = (scenario) => {
          const dir = subdir(tmp, `transfer-${source}-${method}-${scenario}`);
          return cleanJSON(runFixture('hostile-transfer.js', [source, method, scenario, dir], { execArgv: [...flags, '--expose-gc'], timeout: TIMEOUT }));
        };
        it(`${what}, ${method}(), close(): the moved buffer reads zeros or the old data, a write to it never reaches the file, the file is unmapped`, function () {
          if (flags === null) this.skip();
          const out = run('close');
          if (!out.reachable) return; // get() creates no buffer a caller can reach
          assert.equal(out.beforeClose, 'old', 'before close() the moved buffer shows the file');
          assert.ok(['old', 'zeros'].includes(out.afterClose), `after close() the moved buffer reads ${out.afterClose}`);
          assert.equal(out.fileUnchanged, true, 'a write to the moved buffer after close() reached the file');
          assert.equal(out.fileUnchangedAtEnd, true);
          assert.equal(out.reopenSeesFile, true);
          if (LINUX) {
            assert.deepEqual(out.mappedAfterClose, [], 'a moved buffer still alive must not keep the file mapped after close() (/proc/self/maps)');
            assert.deepEqual(out.openAfterClose, [], 'nor open (/proc/self/fd)');
          }
        });
        it(`${what}, ${method}(), array dropped and collected: the moved buffer still reads`, function () {
          if (flags === null) this.skip();
          const out = run('gc');
          if (!out.reachable) return;
          assert.equal(out.beforeClose, 'old');
          assert.ok(['old', 'zeros'].includes(out.afterGc), `after gc the moved buffer reads ${out.afterGc}`);
          if (LINUX) assert.deepEqual(out.mappedAtEnd, [], 'unmapped once the moved buffer is collected too');
        });
      }
    }
  });

  describe('2b. a transfer()red buffer posted from a worker that then exits', function () {
    let flags = null;
    before(function () {
      if (typeof ArrayBuffer.prototype.transfer === 'function') flags = [];
      else if (spawnSync(process.execPath, ['--harmony-rab-gsab-transfer', '-e', "process.exit(typeof ArrayBuffer.prototype.transfer === 'function' ? 0 : 1)"]).status === 0) {
        flags = ['--harmony-rab-gsab-transfer'];
      }
    });
    it('complex arrays: a set() value whose getter moves the buffer, and a big-endian ndarray() view after a move, still write the file', function () {
      if (flags === null) this.skip();
      const out = cleanJSON(runFixture('hostile-transfer-complex.js', [subdir(tmp, 'transfer-complex')], { execArgv: flags, timeout: TIMEOUT }));
      assert.deepEqual(out.ndSet, { value: null });
      assert.deepEqual(out.ndGet, { value: 2 });
      assert.deepEqual(out.setWithGetter, { value: null });
      assert.equal(out.getterCalls, 1, 'each getter of the value runs once');
      assert.deepEqual(out.readBack, { value: { re: 2.5, im: -1 } });
    });
    it('workers that exit with live views (no transfer) leave no address range behind', function () {
      if (!LINUX) this.skip();
      const out = cleanJSON(runFixture('hostile-worker-exit-leak.js', [path.join(subdir(tmp, 'worker-exit'), 'w.bin')], { execArgv: ['--expose-gc'], timeout: TIMEOUT }));
      // 40 leaked 64 MiB ranges would be 2.5 GiB of address space.
      assert.ok(out.growthKiB < 256 * 1024, `address space grew by ${out.growthKiB} KiB over 40 worker exits`);
      assert.equal(out.mapped, false);
    });
    for (const variant of ['keep', 'keep-close', 'drop-close']) {
      it(`worker ${variant}: the main thread reads the posted buffer after every holder closed (zeros), no fault, file untouched`, function () {
        if (flags === null || !LINUX) this.skip();
        const dir = subdir(tmp, `posted-${variant}`);
        const out = cleanJSON(runFixture('hostile-transfer-worker.js', [variant, dir], { execArgv: [...flags, '--expose-gc'], timeout: TIMEOUT }));
        assert.equal(out.bytes, 1 << 20);
        assert.ok(out.sum === 0 || out.sum === 7 * 256, `posted buffer sums to ${out.sum}`);
        assert.equal(out.unchanged, true, 'a write to the posted buffer reached the file');
        assert.equal(out.mapped, false, 'the file stays mapped after every holder closed');
      });
    }
  });

  describe('3b. two copies of memmap in one process (nested node_modules)', function () {
    for (const first of ['ours', 'copy']) {
      it(`loaded ${first} first: sum() through either copy over a truncated file is ERR_SIGBUS`, function () {
        if (!LINUX) this.skip();
        const out = cleanJSON(runFixture('hostile-two-copies.js', [subdir(tmp, `copies-${first}`), first], { timeout: TIMEOUT }));
        assert.deepEqual(out, { ours: 'ERR_SIGBUS', copy: 'ERR_SIGBUS' });
      });
    }
  });

  describe("3. process.on('SIGBUS') listeners and the guard of sum()/read()/gather() (file truncated by this process)", function () {
    // Today's failure mode is a hang: every child starts at once, so the timeouts run side by side.
    const WHICH = ['after', 'removed-after', 'removed-before', 'before', 'churn', 'worker', 'worker-main-loaded', 'plain-access-after', 'plain-access-before', 'first-reads', 'kill-after', 'kill-before', 'kill-after-fault'];
    const runs = {};
    before(function () {
      if (!POSIX) this.skip();
      for (const which of WHICH) runs[which] = startFixture('hostile-sigbus.js', [which, subdir(tmp, `sigbus-${which}`)], { timeout: SIGBUS_TIMEOUT });
    });
    const sigbusRun = (which) => runs[which];
    const expectGuarded = (out) => {
      assert.equal(out.first, 4 * 4096, 'the first sum() (before truncation) is right');
      assert.deepEqual({ sum: out.sum, read: out.read, gather: out.gather }, { sum: 'ERR_SIGBUS', read: 'ERR_SIGBUS', gather: 'ERR_SIGBUS' });
    };
    const guardedCases = {
      after: '(a) a listener added after the first guarded call',
      'removed-after': '(b) a listener added then removed (process.off) after the first guarded call',
      'removed-before': '(b) a listener added then removed before memmap is loaded',
      before: '(c) a listener added before memmap is loaded',
      churn: 'listeners coming and going: the last one removed after the first guarded call, then new ones added',
    };
    for (const [which, what] of Object.entries(guardedCases)) {
      it(`${what}: ERR_SIGBUS, no hang, no crash`, async function () {
        expectGuarded(cleanJSON(await sigbusRun(which)));
      });
    }
    it('(a) in a worker thread: the worker made the first guarded call, then the main thread (which never loaded memmap) added a listener: ERR_SIGBUS', async function () {
      expectGuarded(cleanJSON(await sigbusRun('worker')));
    });
    it('(a) in a worker thread, memmap loaded in the main thread too: ERR_SIGBUS', async function () {
      expectGuarded(cleanJSON(await sigbusRun('worker-main-loaded')));
    });
    it("a fresh array's first get() and one-element read() (reads of the file, no buffer yet) over a lost page: ERR_SIGBUS", async function () {
      assert.deepEqual(cleanJSON(await sigbusRun('first-reads')), { get: 'ERR_SIGBUS', read: 'ERR_SIGBUS', second: 'ERR_SIGBUS' });
    });
    for (const order of ['after', 'before']) {
      it(`(d) plain a.data[i] over a lost page with a listener (added ${order} the first guarded call) dies of SIGBUS, not a hang`, async function () {
        const r = await sigbusRun(`plain-access-${order}`);
        assert.doesNotMatch(r.stdout, /unreachable/);
        assert.equal(r.signal, 'SIGBUS', `expected death by SIGBUS, got: ${ending(r)}\n${tail(r.stderr)}`);
      });
    }
    for (const [which, what] of Object.entries({
      'kill-after': 'added after the first guarded call',
      'kill-before': 'added before memmap is loaded',
      'kill-after-fault': 'after memmap turned a real fault into ERR_SIGBUS',
    })) {
      it(`(e) process.kill(process.pid, 'SIGBUS') reaches the app's listener (${what})`, async function () {
        const out = cleanJSON(await sigbusRun(which));
        assert.equal(out.listener, true);
        if (which === 'kill-after-fault') assert.equal(out.sum, 'ERR_SIGBUS');
      });
    }
  });

  describe('4. paths reach the OS unchanged', function () {
    before(function () {
      if (!POSIX) this.skip();
    });
    const pathsRun = (which) => {
      const dir = subdir(tmp, `paths-${which.replace('+', 'plus')}`);
      return cleanJSON(runFixture('hostile-paths.js', [which, dir], { cwd: dir, timeout: TIMEOUT }));
    };

    describe("(a), (d) 'A/lnk/../x' with A/lnk -> ../B/sub: the kernel resolves lnk first, so it is B/x", function () {
      let out;
      before(function () {
        out = pathsRun('dotdot-read');
      });
      for (const kind of ['relative', 'absolute']) {
        it(`${kind}: memmap() (string and Buffer) opens what fs.readFileSync() opens, and a.filename names that file`, function () {
          const c = out.cases[kind];
          assert.equal(c.fsReads, 'BBBB');
          for (const key of ['memmap', 'memmapBuffer']) {
            assert.equal(c[key].threw, undefined, `${key} threw ${c[key].threw}`);
            assert.equal(c[key].text, 'B'.repeat(64), `${key} opened ${c[key].text.slice(0, 4)}…`);
            assert.equal(c[key].filenameIno, out.inoB, `${key}: a.filename names another file`);
          }
          assert.equal(c.memmapOnlyB.filenameIno, out.inoOnlyB, `B/onlyB (A/onlyB does not exist): ${JSON.stringify(c.memmapOnlyB)}`);
          assert.deepEqual(c.memmapOnlyA, { threw: 'ENOENT' }, 'A/onlyA exists but B/onlyA does not');
        });
        it(`${kind}: openNpy() and readNpyHeader() too`, function () {
          const c = out.cases[kind];
          assert.deepEqual(c.openNpy, { first: 5, filenameIno: out.inoBnpy });
          assert.deepEqual(c.readNpyHeader, { value: [5] });
          assert.deepEqual(c.openNpyOnlyA, { threw: 'ENOENT' });
        });
        it(`${kind}: evict() too`, function () {
          const c = out.cases[kind];
          assert.deepEqual(c.evictOnlyB, {}, `evict of B/onlyB threw ${c.evictOnlyB.threw}`);
          assert.deepEqual(c.evictOnlyA, { threw: 'ENOENT' });
        });
      }
    });

    it("(a) mode 'w+' through 'A/lnk/../x' truncates B/x and leaves A/x unchanged (memmap and openNpy)", function () {
      const out = pathsRun('dotdot-w+');
      for (const kind of ['relative', 'absolute']) {
        const c = out[kind];
        assert.equal(c.aUnchanged, true, `${kind}: A/x was changed`);
        assert.deepEqual(c.memmap, { value: c.inoB }, `${kind}: a.filename must name B/x`);
        assert.equal(c.sizeB, 4, `${kind}: B/x must be truncated to 4 bytes`);
        assert.equal(c.npyAUnchanged, true, `${kind}: A/x.npy was changed`);
        assert.deepEqual(c.openNpy, {});
        assert.notEqual(c.npyBSize, c.npyBSizeBefore, `${kind}: B/x.npy was not rewritten`);
      }
    });

    it("(b) 'file/' where file is a regular file: the OS's error (ENOTDIR; EISDIR where the mode creates, as fs.openSync with O_CREAT) in every mode and entry point; the file is unchanged", function () {
      const out = pathsRun('trailing-slash');
      assert.equal(out.fs.r, 'ENOTDIR');
      assert.equal(out.fs['r+'], 'ENOTDIR');
      assert.ok(['ENOTDIR', 'EISDIR'].includes(out.fs['w+']), `fs.openSync('file/', O_RDWR | O_CREAT): ${out.fs['w+']}`);
      // the open flags each call uses: 'w+' creates, the others do not
      const flagsOf = (call) => (call.endsWith('w+') ? 'w+' : call === 'r+' ? 'r+' : 'r');
      for (const kind of ['relative', 'absolute']) {
        for (const [call, result] of Object.entries(out[kind])) {
          assert.deepEqual(result, { threw: out.fs[flagsOf(call)] }, `${kind} ${call}: ${JSON.stringify(result)}`);
        }
      }
      assert.equal(out.fUnchanged, true, 'file changed');
      assert.equal(out.npyUnchanged, true, 'file.npy changed');
    });

    describe("(c), (d) a Buffer path with non-UTF-8 bytes ('f', 0xff, 'o') next to 'f\\ufffdo'", function () {
      let out;
      before(function () {
        out = pathsRun('buffer');
      });
      it('while the exact-bytes file does not exist: memmap, evict, openNpy and readNpyHeader throw ENOENT', function () {
        assert.deepEqual(out.absent, {
          memmap: { threw: 'ENOENT' },
          evict: { threw: 'ENOENT' },
          openNpy: { threw: 'ENOENT' },
          readNpyHeader: { threw: 'ENOENT' },
        });
      });
      it("mode 'w+' creates the exact-bytes file and leaves 'f\\ufffdo' unchanged; a.filename (string or Buffer) names it", function () {
        assert.equal(out.create.threw, undefined, `w+ threw ${out.create.threw}`);
        assert.equal(out.exactExists, true, 'the exact-bytes file was not created');
        assert.equal(out.exactContent, 'XYZW');
        assert.equal(out.create.value.filenameIno, out.exactIno, `a.filename (a ${out.create.value.filenameType}) names another file`);
        assert.equal(out.replacedUnchanged, true, "'f\\ufffdo' was changed");
        assert.equal(out.replacedUnchangedAtEnd, true);
      });
      it('reading (absolute and relative Buffer paths) opens the exact-bytes file; evict() finds it', function () {
        for (const key of ['readAbsolute', 'readRelative']) {
          assert.equal(out[key].threw, undefined, `${key} threw ${out[key].threw}`);
          assert.equal(out[key].text, 'EXACT'.repeat(4), `${key} read ${out[key].text}`);
          assert.equal(out[key].filenameIno, out.exactIno, `${key}: a.filename names another file`);
        }
        assert.deepEqual(out.evictExact, {});
      });
      it('openNpy() (r and w+) and readNpyHeader() use the exact bytes too', function () {
        assert.deepEqual(out.openNpy, { first: 1, filenameIno: out.exactNpyIno });
        assert.deepEqual(out.openNpyWrite, {});
        assert.deepEqual(out.readNpyHeader, { value: [3] }, 'after openNpy w+ with shape [3]');
        assert.equal(out.replacedNpyUnchanged, true, "'f\\ufffdo.npy' was changed");
      });
    });
  });

  describe("5. a failed 'r+' open leaves the file unchanged (address space limited with ulimit -v)", function () {
    it("16 GiB 'r+' over a 4 KiB file (memmap, and openNpy whose header claims it): an errno MemmapError, same size, sha256 and mtime", function () {
      if (!LINUX) this.skip();
      if (process.env.MEMMAP_SANITIZER) this.skip(); // ASan reserves terabytes of address space: node cannot start under ulimit -v
      // the smallest limit under which node starts and loads memmap on this machine
      const root = path.join(__dirname, '..');
      const kb = [4000000, 6000000, 8000000, 12000000].find(
        (n) => spawnSync('sh', ['-c', `ulimit -v ${n} && exec "$0" -e "require(process.argv[1])" "$1"`, process.execPath, root]).status === 0,
      );
      if (kb === undefined) this.skip();
      const dir = subdir(tmp, 'ulimit');
      const out = cleanJSON(runFixture('hostile-ulimit.js', [dir], { prefix: ['sh', '-c', `ulimit -v ${kb} && exec "$0" "$@"`], timeout: TIMEOUT }));
      if (!/\d/.test(out.limit) || /unlimited\s+unlimited/.test(out.limit)) this.skip(); // no limit in effect
      for (const [name, { result, before, after }] of Object.entries(out.results)) {
        assert.equal(result.opened, undefined, `${name}: opened under the limit; the test needs mmap to fail`);
        assert.equal(result.memmapError, true, `${name}: not a MemmapError: ${JSON.stringify(result)}`);
        assert.match(result.code, /^E[A-Z0-9]+$/, `${name}: expected an errno code (ENOMEM), got ${result.code}`);
        assert.equal(after.size, before.size, `${name}: the file was resized to ${after.size} bytes`);
        assert.equal(after.sha256, before.sha256, `${name}: the file's contents changed`);
        assert.equal(after.mtimeMs, before.mtimeMs, `${name}: the file was modified (mtime)`);
      }
      assert.equal(out.smallOpenAfterwards.opened, true);
    });
  });

  describe('6. fromShared() and the native handle do not trust their input', function () {
    const sharedRun = (which) => runFixture('hostile-shared.js', [which, subdir(tmp, `shared-${which}`)], { timeout: TIMEOUT });

    it("(a) a token printed by another process (same byte length as one this process shares): ERR_INVALID_TOKEN, never this process's mapping", function () {
      const out = cleanJSON(sharedRun('foreign'));
      assert.equal(out.own.first, 100, `control: our own token must work: ${JSON.stringify(out.own)}`);
      const ok = (_, r) => r.code === 'ERR_INVALID_TOKEN';
      const note = out.sameIdAsMine ? ' (the foreign id equals one this process shares; first element 100 is OUR file, 900 theirs)' : '';
      allRefused({ foreign: out.foreign, 'foreign, filename set to ours': out.foreignWithMyFilename }, ok, `foreign tokens were not refused with ERR_INVALID_TOKEN${note}`);
    });

    it('(b) a valid token with one field edited (id, filename, descr, shape, order, mode, offset, reportMode, type): ERR_INVALID_TOKEN', function () {
      const out = cleanJSON(sharedRun('fields'));
      assert.equal(out.valid.first, 100, `control: the unedited token must work: ${JSON.stringify(out.valid)}`);
      assert.equal(out.validJSON.first, 100, 'control: the token survives a JSON round trip');
      assert.equal(out.t2Works, true);
      assert.equal(out.originalsStillOpen, true);
      // a token of another type is also "not a share() token" (docs: ERR_INVALID_ARG_TYPE)
      const ok = (edit, r) => r.code === 'ERR_INVALID_TOKEN' || (edit.startsWith('type') && r.code === 'ERR_INVALID_ARG_TYPE');
      allRefused(out.results, ok, 'edited tokens were not refused with ERR_INVALID_TOKEN');
    });

    it('(c) wrong types (id NaN, "1", {}, …), missing fields, not a token: ERR_INVALID_TOKEN or ERR_INVALID_ARG_TYPE; other bad field values: a MemmapError', function () {
      const out = cleanJSON(sharedRun('malformed'));
      assert.equal(out.valid.first, 100);
      const ok = (_, r) => r.code === 'ERR_INVALID_TOKEN' || r.code === 'ERR_INVALID_ARG_TYPE';
      allRefused(out.results, ok, 'malformed tokens were not refused with a MemmapError ERR_INVALID_TOKEN / ERR_INVALID_ARG_TYPE');
      // other fields of a wrong type or value: any MemmapError, or (a getter that closed the source) a working array
      allRefused(out.badValueResults, (name, r) => r.code !== undefined || (name.includes('getter') && r.first === 100), 'tokens with a bad field value gave no MemmapError');
    });

    it('(d) the native handle, if a buffer leaks it: its constructor never maps past the end of a 4 KiB file (reading near the end of 1 GiB must not crash)', function () {
      const out = cleanJSON(sharedRun('handle-ctor'));
      if (!out.reachable) return assert.deepEqual(out, { reachable: false }); // no buffer exposes the handle: nothing to forge with
      assert.equal(out.fileSize, 4096, 'the constructor changed the file');
    });

    it('(d) handle.close() under the array: a.sum()/read()/gather() throw a MemmapError, nothing crashes', function () {
      const out = cleanJSON(sharedRun('handle-close'));
      if (!out.reachable) return assert.deepEqual(out, { reachable: false });
      if (out.closable === false) return; // what a buffer exposes is no handle
      for (const m of ['sum', 'read', 'gather']) {
        assert.ok(!/^not a MemmapError|^no error/.test(out[m]), `${m}() after handle.close(): ${out[m]}`);
      }
    });

    it("(d) the handle's sum/copy/gather/buffer with forged arguments (bounds, types, receivers, accessors that close it mid-call): no crash, never another file's data", function () {
      const out = cleanJSON(sharedRun('handle-forge'));
      if (!out.reachable) return assert.deepEqual(out, { reachable: false });
      assert.equal(out.otherFileData, 0, 'a call whose handle was closed mid-call returned data of a file mapped afterwards (use after free)');
      assert.ok(typeof out.sumAfter === 'number' || /^ERR_/.test(out.sumAfter), `a.sum() afterwards: ${out.sumAfter}`);
    });
  });

  describe('7. async twins: the ground pulled away while the job runs on the thread pool', function () {
    it('close/refresh/resize/abort/GC after the call, 300 jobs at once, dropped jobs, out moved or closed, options whose traps close: a Promise of the right values or a coded rejection; files unchanged', function () {
      skipOnWindows(this, 'the fixture truncates a mapped file: Windows refuses (error 1224)');
      const r = runFixture('hostile-async.js', [subdir(tmp, 'async')], { execArgv: ['--expose-gc'], timeout: TIMEOUT });
      const out = cleanJSON(r);
      assert.ok(out.runs > 500, `the fixture ran only ${out.runs} calls`);
      assert.ok(out.badCount === 0, `${out.badCount} of ${out.runs} async calls misbehaved; the first:\n  ${out.bad.join('\n  ')}`);
    });
  });
});
