'use strict';
// The `memmap` command: `memmap info` on .npy and raw files, errors as one
// line with a non-zero exit, and the package.json bin entry.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { memmap, evict } = require('..');
const { useTmpDir } = require('./helpers/tmp');
const { pythonJSON } = require('./helpers/python');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'memmap.js');

function cli(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30000 });
  if (r.error) throw r.error;
  return r;
}

function oneLineError(r, code) {
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^memmap: ${code}: `));
}

describe('memmap info (CLI)', function () {
  const tmp = useTmpDir();
  let npy;
  before(function () {
    npy = tmp.file('f.npy');
    pythonJSON("import numpy as np, sys; np.save(sys.argv[1], np.asfortranarray(np.arange(24, dtype='>f8').reshape(2, 3, 4))); print(1)", [npy]);
  });

  it('describes a .npy file written by numpy: version, dtype, shape, order, offset, sizes, residency', function () {
    const r = cli('info', npy);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /format\s+\.npy 1\.0/);
    assert.match(out, /dtype\s+float64 \(>f8\)/);
    assert.match(out, /shape\s+\(2, 3, 4\)/);
    assert.match(out, /order\s+F/);
    assert.match(out, /data offset\s+128\n/);
    assert.match(out, /data size\s+192 bytes/);
    assert.match(out, /file size\s+320 bytes, \d+ bytes.* allocated on disk/);
    assert.match(out, /resident\s+\d+ bytes of the file in the page cache \(\d+\.\d%\)/);
  });

  it('--json gives the same facts, and residency as mincore sees it', function () {
    let info = JSON.parse(cli('info', npy, '--json').stdout);
    assert.deepEqual(
      { version: info.version, descr: info.descr, shape: info.shape, order: info.order, dataOffset: info.dataOffset, fileSize: info.fileSize, dataBytes: info.dataBytes },
      { version: '1.0', descr: '>f8', shape: [2, 3, 4], order: 'F', dataOffset: 128, fileSize: 320, dataBytes: 192 },
    );
    // 8 MiB: reading the header pulls in at most the first pages (and readahead), not the file.
    const big = tmp.file('big.npy');
    pythonJSON("import numpy as np, sys; np.save(sys.argv[1], np.ones(1 << 20)); print(1)", [big]);
    fs.readFileSync(big);
    info = JSON.parse(cli('info', big, '--json').stdout);
    assert.equal(info.residentBytes, info.fileSize, 'a file just read is resident');
    evict(big);
    const a = memmap(big, { allowNpy: true }); // the whole file's bytes, header included
    const evicted = a.residency().residentBytes === 0;
    a.close();
    info = JSON.parse(cli('info', big, '--json').stdout);
    if (evicted) assert.ok(info.residentBytes < 1 << 20, `after evict() only the header pages are resident, got ${info.residentBytes}`);
  });

  it('describes a raw file with --dtype/--shape/--offset, or infers a 1-d shape', function () {
    const raw = tmp.file('r.bin');
    fs.writeFileSync(raw, Buffer.alloc(4096 + 16));
    let info = JSON.parse(cli('info', raw, '--dtype', 'float32', '--json').stdout);
    assert.deepEqual([info.format, info.dtype, info.shape, info.dataOffset], ['raw', 'float32', [1028], 0]);
    info = JSON.parse(cli('info', raw, '--dtype=<i2', '--shape', '8,256', '--offset', '16', '--order', 'F', '--json').stdout);
    assert.deepEqual([info.descr, info.shape, info.order, info.dataOffset, info.dataBytes], ['<i2', [8, 256], 'F', 16, 4096]);
    const text = cli('info', raw).stdout;
    assert.match(text, /format\s+raw/);
    assert.match(text, /shape\s+\(4112,\)/);
  });

  it('errors are one line with a non-zero exit', function () {
    oneLineError(cli('info', tmp.file('missing.npy')), 'ENOENT');
    const bad = tmp.file('bad.npy');
    fs.writeFileSync(bad, 'not numpy at all\n');
    oneLineError(cli('info', bad), 'ERR_NPY_BAD_MAGIC');
    const short = tmp.file('short.npy');
    fs.writeFileSync(short, fs.readFileSync(npy).subarray(0, 200));
    oneLineError(cli('info', short), 'ERR_NPY_TRUNCATED');
    const multi = tmp.file('multi.npy');
    fs.writeFileSync(multi, Buffer.concat([fs.readFileSync(npy).subarray(0, 10), Buffer.from("{'descr': '<f4',\n'fortran_order': 0,\n'shape': (3,)}\n".padEnd(118)), Buffer.alloc(12)]));
    oneLineError(cli('info', multi), 'ERR_NPY_HEADER');
    const raw = tmp.file('odd.bin');
    fs.writeFileSync(raw, Buffer.alloc(7));
    oneLineError(cli('info', raw, '--dtype', 'float32'), 'ERR_SIZE_MISMATCH');
    oneLineError(cli('info', raw, '--dtype', 'U8'), 'ERR_INVALID_DTYPE');
    oneLineError(cli('info', raw, '--shape', '2,4'), 'ERR_FILE_TOO_SHORT');
    oneLineError(cli('info', raw, '--shape', '2,-1'), 'ERR_INVALID_SHAPE');
    oneLineError(cli('info', raw, '--offset', 'x'), 'ERR_INVALID_OFFSET');
    oneLineError(cli('info', raw, '--order', 'Z'), 'ERR_INVALID_ORDER');
    oneLineError(cli('info', tmp.dir), 'EISDIR');
    // one good and one bad file: the good one is described, the exit is still 1
    const r = cli('info', npy, bad);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /\.npy 1\.0/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });

  it('bad usage exits 2 with one line; --help exits 0', function () {
    for (const args of [[], ['info'], ['frob', npy], ['info', npy, '--bogus', '1'], ['info', npy, '--dtype']]) {
      const r = cli(...args);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
      assert.match(r.stderr, /^memmap: .*--help/);
    }
    const help = cli('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: memmap info FILE/);
  });

  it('package.json has a bin entry with a node shebang, shipped in the package files', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.bin.memmap, 'bin/memmap.js');
    assert.ok(pkg.files.some((f) => f.replace(/\/$/, '') === 'bin'));
    assert.match(fs.readFileSync(path.join(ROOT, pkg.bin.memmap), 'utf8'), /^#!\/usr\/bin\/env node\n/);
    assert.ok(fs.statSync(BIN).mode & 0o111, 'executable');
  });
});
