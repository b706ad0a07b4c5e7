#!/usr/bin/env node
'use strict';
// npm run demo: maps a 256 MiB float32 file and shows what a row, a column and
// a strided slice cost from a cold page cache (wall time, page faults, bytes
// read from disk, how much of the file ended up resident).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { memmap, evict, pageSize } = require('..');
const { valueAt, writeArrayFile, snapshot, countersDelta, fmtBytes } = require('../benchmarks/common');

const N = 8192; // 8192 x 8192 float32 = 256 MiB
const STEP = 64;

let dir = null;
function cleanup() {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/** Copies every element of a scijs ndarray view (1-d or 2-d) into a plain array, checking each. */
function readAndCheck(view, logical) {
  const values = [];
  const [rows, cols] = view.shape.length === 1 ? [1, view.shape[0]] : view.shape;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = view.shape.length === 1 ? view.get(c) : view.get(r, c);
      const [i, j] = logical(r, c);
      if (v !== valueAt(i, j)) throw new Error(`value at (${i}, ${j}) is ${v}, expected ${valueAt(i, j)}`);
      values.push(v);
    }
  }
  return values;
}

function main() {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-demo-'));
  const file = path.join(dir, `sample-${N}x${N}-float32.arr`);
  let t = process.hrtime.bigint();
  writeArrayFile(file, N, 'C');
  const ms = (since) => Number(process.hrtime.bigint() - since) / 1e6;
  console.log(`wrote ${file}: ${N} x ${N} float32, ${fmtBytes(N * N * 4)} in ${ms(t).toFixed(0)} ms`);
  console.log(`value(i, j) = ((7i + 13j) mod 1021) / 4; page size ${pageSize} B; every read below starts from a cold cache\n`);

  const i0 = N / 2;
  const j0 = N / 2 + 1;
  const reads = [
    { name: `row a[${i0}, :]`, view: (nd) => nd.pick(i0, null), logical: (_, c) => [i0, c] },
    { name: `column a[:, ${j0}]`, view: (nd) => nd.pick(null, j0), logical: (_, c) => [c, j0] },
    { name: `strided a[::${STEP}, ::${STEP}]`, view: (nd) => nd.step(STEP, STEP), logical: (r, c) => [r * STEP, c * STEP] },
    // The same column with read-ahead off: one page per element instead of whole read-ahead windows.
    { name: `column a[:, ${j0}] after advise('random')`, advise: 'random', view: (nd) => nd.pick(null, j0), logical: (_, c) => [c, j0] },
  ];
  const rows = [];
  for (const rd of reads) {
    evict(file);
    const a = memmap(file, { dtype: 'float32', shape: [N, N] });
    try {
      const cold = a.residency();
      if (cold.fraction > 0.01) console.warn(`warning: ${(cold.fraction * 100).toFixed(1)}% of the file is still cached; numbers below are not cold`);
      if (rd.advise) a.advise(rd.advise);
      const before = snapshot();
      t = process.hrtime.bigint();
      const view = rd.view(a.ndarray());
      const values = readAndCheck(view, rd.logical);
      const wall = ms(t);
      const d = countersDelta(before, snapshot());
      const after = a.residency();
      rows.push({ rd, view, values, wall, d, cold, after });
      console.log(`${rd.name}: shape [${view.shape.join(', ')}], ${values.length} values, all match the formula; first ${values.slice(0, 4).join(', ')}`);
      console.log(
        `  ${wall.toFixed(2)} ms, ${d.minorFaults} minor + ${d.majorFaults} major page faults, ${fmtBytes(d.inblockBytes)} read from disk, ` +
          `resident ${(cold.fraction * 100).toFixed(2)}% -> ${(after.fraction * 100).toFixed(2)}% (${after.residentPages} of ${after.totalPages} pages)`,
      );
    } finally {
      a.close();
    }
  }
  const [row, col, , colRandom] = rows;
  const x = (a, b) => (b > 0 ? `${(a / b).toFixed(0)}x` : 'n/a');
  console.log(
    `\nrow vs column, same ${fmtBytes(col.values.length * 4)} of data: the column read ${fmtBytes(col.d.inblockBytes)} from disk, the row ${fmtBytes(row.d.inblockBytes)} (${x(col.d.inblockBytes, row.d.inblockBytes)}).\n` +
      `Read-ahead pulls whole windows around each fault; with advise('random') the column read ${fmtBytes(colRandom.d.inblockBytes)} ` +
      `(one page per element, ${x(colRandom.d.inblockBytes, col.values.length * 4)} the bytes it uses). More in docs/benchmarks.md.`,
  );
}

try {
  main();
} catch (err) {
  process.exitCode = 1;
  console.error(err && err.stack ? err.stack : err);
} finally {
  cleanup();
}
