'use strict';
// Temp dirs and file hashing shared by the tests.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

/** A fresh temp dir, removed after the current mocha suite. Call inside describe(). */
function useTmpDir() {
  const ctx = { dir: '' };
  before(() => {
    ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-test-'));
  });
  after(() => {
    if (!ctx.dir) return;
    try {
      fs.rmSync(ctx.dir, { recursive: true, force: true });
    } catch (err) {
      // Windows deletes no mapped file: a test skipped midway left an array open until exit.
      if (process.platform !== 'win32' || err.code !== 'EPERM') throw err;
    }
  });
  ctx.file = (name) => path.join(ctx.dir, name);
  return ctx;
}

/** sha256 and size of a file, to prove an operation left it unchanged. */
function fingerprint(file) {
  const st = fs.statSync(file);
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n;
    let pos = 0;
    while ((n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) {
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return `${st.size}:${h.digest('hex')}:${st.mtimeMs}`;
}

/** Every file under dir (relative path -> contents, base64), null when dir does not exist: to prove nothing changed. */
function snapshot(dir) {
  if (!fs.existsSync(dir)) return null;
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

module.exports = { useTmpDir, fingerprint, snapshot };
