'use strict';
// share() / fromShared(): one mapping shared by worker threads (writes seen at
// once, unmapped when the last holder is done, no leaks over 1000 cycles) and
// by processes in each mode; forged or stale tokens; a file truncated under
// its mapping (sum/read/gather throw ERR_SIGBUS, in a child process).
const assert = require('node:assert/strict');
const { fork } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { memmap, fromShared } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { throwsCode } = require('./helpers/assert');
const { runFixture, fixtureJSON } = require('./helpers/child');
const { skipOnWindows } = require('./helpers/platform');

describe('sharing across worker threads', function () {
  const tmp = useTmpDir();

  it('share() tokens come from the OS generator and leave no descriptor open (libc++ kept /dev/urandom open)', function () {
    if (!fs.existsSync('/proc/self/fd')) this.skip();
    const file = tmp.file('fds.u8');
    fs.writeFileSync(file, Buffer.alloc(4096));
    const arrays = Array.from({ length: 8 }, () => memmap(file, { dtype: 'uint8', mode: 'r' }));
    const before = fs.readdirSync('/proc/self/fd').length;
    const tokens = new Set(arrays.map((a) => a.share()));
    const after = fs.readdirSync('/proc/self/fd').length;
    for (const a of arrays) a.close();
    assert.equal(tokens.size, 8);
    assert.equal(after, before, 'share() opened descriptors and kept them');
  });

  it('four workers share one r+ mapping: writes visible at once, unmapped only when every thread is done', function () {
    skipOnWindows(this, 'the workers count mappings in /proc/self/maps');
    const file = tmp.file('threads.i32');
    const r = fixtureJSON('sharing-threads.js', [file]);
    assert.equal(r.seenAtOnce, true, 'main sees worker writes without flush');
    assert.deepEqual(r.workersSawMain, [7, 7, 7, 7], 'workers see main writes at once');
    assert.equal(r.mainViewAfterClose, 0, 'main view is detached by close()');
    assert.equal(r.mappedAfterMainClose, true, 'workers still hold the mapping');
    const expected = [0, 1, 2, 3].map((w) => {
      let s = 0;
      for (let j = 0; j < 1024; j++) s += w * 10000 + j;
      return s;
    });
    // Row 0 starts with main's marker (7) in its first 4 elements.
    expected[0] += 4 * 7 - (0 + 1 + 2 + 3);
    assert.deepEqual(r.afterMainClose, expected, 'workers read correct values after main closed');
    assert.equal(r.mappedWhileWorker2Holds, true, 'a worker exiting does not unmap what another still reads');
    assert.equal(r.mappedAtEnd, false, 'unmapped once every thread closed, exited or was terminated');
  });

  it('1000 share/close cycles (and 20 through workers) leave no mappings or fds', function () {
    const file = tmp.file('leak.f32');
    const r = fixtureJSON('sharing-leak.js', [file], { execArgv: ['--expose-gc'] });
    const { before, afterCycles: c, afterWorkers1: w1, afterWorkers2: w2 } = r;
    assert.equal(r.stillMapped, false);
    // Each cycle maps 4 MiB and hands out ArrayBuffers over it: a leaked region
    // (file or address space) would add 4 GiB. V8 may grow its own heap by a
    // few 256 KiB pages meanwhile, so lines of /proc/self/maps get some slack.
    assert.equal(c.fileMaps, before.fileMaps, `1000 cycles: file mappings ${before.fileMaps} -> ${c.fileMaps}`);
    assert.ok(c.vmKiB <= before.vmKiB + 64 * 1024, `1000 cycles: address space ${before.vmKiB} KiB -> ${c.vmKiB} KiB`);
    assert.ok(c.maps <= before.maps + 32, `1000 cycles: maps ${before.maps} -> ${c.maps}`);
    assert.ok(c.fds <= before.fds + 2, `1000 cycles: fds ${before.fds} -> ${c.fds}`);
    // Worker rounds: file mappings only (threads leave anonymous arenas and stacks).
    assert.ok(w1.fileMaps <= c.fileMaps, `20 worker trips: file mappings ${c.fileMaps} -> ${w1.fileMaps}`);
    assert.ok(w2.fileMaps <= w1.fileMaps, `20 more worker trips: file mappings ${w1.fileMaps} -> ${w2.fileMaps}`);
    assert.ok(w2.fds <= w1.fds + 2, `20 more worker trips: fds ${w1.fds} -> ${w2.fds}`);
    assert.ok(w1.fds <= c.fds + 2, `20 worker trips: fds ${c.fds} -> ${w1.fds}`);
  });

  it('fromShared() refuses a forged token and a mapping every holder closed', function () {
    const file = tmp.file('tok.bin');
    fs.writeFileSync(file, Buffer.alloc(64));
    throwsCode(() => fromShared({}), 'ERR_INVALID_TOKEN');
    throwsCode(() => fromShared(null), 'ERR_INVALID_TOKEN');
    const a = memmap(file, { dtype: 'float32' });
    const token = a.share();
    assert.match(token.id, /^[0-9a-f]{32}$/);
    throwsCode(() => fromShared({ ...token, shape: [1000] }), 'ERR_INVALID_TOKEN');
    throwsCode(() => fromShared({ ...token, shape: [2, 8] }), 'ERR_INVALID_TOKEN');
    // Refused before anything reads it: Buffer.from() would allocate `length` bytes and read each index.
    throwsCode(() => fromShared({ ...token, filename: { length: 2 ** 31 } }), 'ERR_INVALID_TOKEN');
    const b = fromShared(structuredClone(token));
    assert.equal(b.mode, 'r');
    assert.deepEqual(b.shape, [16]);
    a.close();
    assert.equal(b.get(3), 0, 'the other holder still reads');
    b.close();
    // Every holder closed: the id names nothing any more.
    throwsCode(() => fromShared(token), 'ERR_INVALID_TOKEN');
    throwsCode(() => a.share(), 'ERR_CLOSED');
  });
});

describe('sharing across processes', function () {
  const tmp = useTmpDir();
  const children = [];

  function child() {
    const c = fork(path.join(__dirname, 'fixtures', 'sharing-proc.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(c);
    const ask = (msg) =>
      new Promise((resolve, reject) => {
        c.once('message', (m) => (m.ok ? resolve(m.value) : reject(Object.assign(new Error(m.message), { code: m.code }))));
        c.send(msg);
      });
    return ask;
  }

  afterEach(() => {
    for (const c of children.splice(0)) if (c.connected) c.kill();
  });

  it('two r+ processes see each other’s writes without flush; r sees them; c never leaks', async function () {
    const file = tmp.file('procs.i32');
    fs.writeFileSync(file, Buffer.alloc(64 * 4));
    const a = child();
    const b = child();
    const r = child();
    const c = child();
    await a({ open: { file, mode: 'r+' } });
    await b({ open: { file, mode: 'r+' } });
    await r({ open: { file, mode: 'r' } });
    await c({ open: { file, mode: 'c' } });
    await a({ write: [5, 12345] });
    assert.equal(await b({ read: 5 }), 12345);
    assert.equal(await r({ read: 5 }), 12345, 'a read-only reader sees the writer');
    await b({ write: [6, -9] });
    assert.equal(await a({ read: 6 }), -9);
    await c({ write: [7, 777] });
    assert.equal(await c({ read: 7 }), 777);
    assert.equal(await a({ read: 7 }), 0, 'copy-on-write stays in its process');
    assert.equal(await r({ read: 7 }), 0);
    for (const ask of [a, b, r, c]) await ask({ close: true });
    const bytes = fs.readFileSync(file);
    const onDisk = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    assert.equal(onDisk[5], 12345);
    assert.equal(onDisk[6], -9);
    assert.equal(onDisk[7], 0);
  });
});

describe('truncation while mapped', function () {
  const tmp = useTmpDir();

  it('native calls survive, sum/read/gather throw ERR_SIGBUS; touching a lost page is SIGBUS (documented in Safety)', function () {
    skipOnWindows(this, 'Windows refuses to shrink a mapped file (error 1224), so no page is lost to truncation');
    const r = runFixture('sharing-truncate.js', [tmp.file('trunc.bin')]);
    assert.match(r.stdout, /native ok/);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    assert.ok(line, `no result from the child: ${r.stdout} ${r.stderr}`);
    assert.deepEqual(JSON.parse(line), {
      sum: 'ERR_SIGBUS',
      read: 'ERR_SIGBUS',
      gather: 'ERR_SIGBUS',
      firstPage: 4096,
      worker: { code: 'ERR_SIGBUS', firstPage: 4096 },
    });
    assert.doesNotMatch(r.stdout, /unreachable/);
    assert.equal(r.signal, 'SIGBUS', `expected SIGBUS, got status ${r.status} signal ${r.signal}: ${r.stderr}`);
  });
});
