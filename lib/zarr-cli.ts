// `memmap convert` (raw / .npy / Zarr, any direction, block by block) and the
// Zarr part of `memmap info`. Only one block (a shard, a chunk, or a slab of
// chunk rows) is in memory at a time.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { MemmapArray } from './array';
import type { DTypeString } from './dtype';
import { fsError, MemmapError, osError } from './errors';
import { sizeOf, type Order } from './layout';
import { memmap } from './memmap';
import { openNpy } from './npy';
import { createZarr, listZarr, openZarr, type ZarrArray } from './zarr';
import { own } from './zarr-meta';
import type { ZarrCompressor } from './zarr-write';

/** Raw-file layout options, as `memmap info` takes them (strings from the command line). */
export interface RawOptions {
  dtype?: string;
  shape?: string;
  offset?: string;
  order?: string;
}

/** Plain decimal integers only ('1e3', '0x10', '' are refused by the library, not read as numbers). */
function integer(t: string): string | bigint {
  return /^\d+$/.test(t) ? BigInt(t) : t;
}

/** "256,256", "(256, 256)", "256x256" as a list (items the library checks). */
export function listArg(t: string): (string | bigint)[] {
  return t.replace(/^[([]|[)\]]$/g, '').split(/[,x\s]+/).filter(Boolean).map(integer);
}

/** Maps a raw file with the layout options (dtype default uint8, 1-d from the file size by default). */
export function openRaw(file: string, opts: RawOptions): MemmapArray {
  const offset = typeof opts.offset === 'string' ? integer(opts.offset) : opts.offset;
  const shape = typeof opts.shape === 'string' ? listArg(opts.shape) : opts.shape;
  return memmap(file, { mode: 'r', dtype: (opts.dtype ?? 'uint8') as DTypeString, shape: shape as number[] | undefined, offset: offset as number | bigint | undefined, order: opts.order as Order | undefined });
}

export interface ConvertOptions extends RawOptions {
  /** Output kind; default from OUT: `.npy` -> npy, `.zarr` or any Zarr option -> zarr, else raw. */
  to?: string;
  chunks?: string;
  shards?: string;
  compressor?: string;
  zarrFormat?: string;
  overwrite?: boolean;
}

type Source = MemmapArray | ZarrArray;

export function isNpyFile(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(6);
    const n = fs.readSync(fd, head, 0, 6, 0);
    return head.subarray(0, n).toString('latin1') === '\x93NUMPY';
  } finally {
    fs.closeSync(fd);
  }
}

function openSource(file: string, opts: RawOptions): Source {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw fsError(err, file);
  }
  if (st.isDirectory()) return openZarr(file);
  const raw = opts.dtype !== undefined || opts.shape !== undefined || opts.offset !== undefined;
  if (!raw && isNpyFile(file)) return openNpy(file, { mode: 'r' });
  return openRaw(file, opts);
}

/** The slices of block `b` (row-major over a grid of `block`-sized blocks). */
function blockSlices(shape: readonly number[], block: readonly number[], b: number): [number, number][] {
  const out: [number, number][] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = Math.ceil(shape[d] / block[d]);
    const k = b % n;
    b = Math.floor(b / n);
    out.unshift([k * block[d], Math.min((k + 1) * block[d], shape[d])]);
  }
  return out;
}

function blockCount(shape: readonly number[], block: readonly number[]): number {
  return sizeOf(shape) === 0 ? 0 : shape.reduce((a, s, d) => a * Math.ceil(s / block[d]), 1);
}

/** Progress on stderr, only when it is a terminal. */
function progress(total: number): (done: number) => void {
  if (!process.stderr.isTTY || total === 0) return () => {};
  let shown = -1;
  return (done) => {
    const pct = Math.floor((100 * done) / total);
    if (pct === shown && done !== total) return;
    shown = pct;
    const w = 30;
    const fill = Math.round((w * done) / total);
    process.stderr.write(`\r[${'#'.repeat(fill)}${' '.repeat(w - fill)}] ${String(pct).padStart(3)}% (${done}/${total} blocks)${done === total ? '\n' : ''}`);
  };
}

/** What convert() wrote. */
export interface ConvertResult {
  output: string;
  kind: 'npy' | 'raw' | 'zarr';
  shape: number[];
  dtype: string;
  blocks: number;
}

/**
 * Copies IN to OUT block by block. Zarr output: one shard (or chunk) at a time, each read from IN and written once.
 * npy / raw output: C order, little-endian as this machine, in slabs of whole rows along axis 0.
 */
export function convert(input: string, output: string, opts: ConvertOptions): ConvertResult {
  const src = openSource(nodePath.resolve(input), opts);
  const out = nodePath.resolve(output);
  const zarrOpt = opts.chunks !== undefined || opts.shards !== undefined || opts.compressor !== undefined || opts.zarrFormat !== undefined;
  const kind = opts.to ?? (out.endsWith('.npy') ? 'npy' : out.endsWith('.zarr') || zarrOpt ? 'zarr' : 'raw');
  try {
    if (kind !== 'npy' && kind !== 'raw' && kind !== 'zarr') throw new MemmapError('ERR_INVALID_ARG_VALUE', `--to must be npy, raw or zarr, not ${JSON.stringify(kind)}`);
    if (kind !== 'zarr' && zarrOpt) throw new MemmapError('ERR_INVALID_ARG_VALUE', `--chunks, --shards, --compressor and --zarr-format are for Zarr output, not ${kind}`);
    const shape = [...src.shape];
    const dtype = src.dtype;
    if (kind === 'zarr') {
      const format = opts.zarrFormat === undefined ? undefined : Number(opts.zarrFormat);
      const shards = opts.shards === undefined ? undefined : opts.shards === 'none' ? null : (listArg(opts.shards) as unknown as number[]);
      const z = createZarr(out, {
        shape,
        dtype: dtype as DTypeString,
        ...(opts.chunks === undefined ? {} : { chunks: listArg(opts.chunks) as unknown as number[] }),
        ...(shards === undefined ? {} : { shards }),
        ...(opts.compressor === undefined || opts.compressor === 'none' ? {} : { compressor: opts.compressor as ZarrCompressor }),
        ...(format === undefined ? {} : { zarrFormat: format as 2 | 3 }),
        overwrite: opts.overwrite === true,
      });
      try {
        const block = z.shards ?? z.chunks;
        const compressed = opts.compressor !== undefined && opts.compressor !== 'none';
        const total = blockCount(shape, block);
        const tick = progress(total);
        for (let b = 0; b < total; b++) {
          const slices = blockSlices(shape, block, b);
          z.write(...slices, src.read(...slices));
          if (compressed && z.shards !== null) z.flush(); // a compressed shard is rebuilt once, from all its chunks
          tick(b + 1);
        }
        return { output: out, kind, shape, dtype, blocks: total };
      } finally {
        z.close();
      }
    }
    if (fs.existsSync(out) && opts.overwrite !== true) throw osError('EEXIST', `${out} exists (pass --overwrite to replace it)`, { path: out });
    let dataOffset = 0;
    if (kind === 'npy') {
      const a = openNpy(out, { mode: 'w+', dtype: dtype as DTypeString, shape });
      dataOffset = a.offset;
      a.close();
    } else {
      fs.writeFileSync(out, '');
    }
    const itemsize = src.itemsize;
    const rowBytes = shape.length === 0 ? itemsize : (sizeOf(shape) / Math.max(1, shape[0])) * itemsize;
    const zrows = 'zarrFormat' in src ? (src.shards ?? src.chunks)[0] : 1;
    const rows = shape.length === 0 ? 1 : Math.max(zrows ?? 1, Math.floor(2 ** 24 / Math.max(1, rowBytes)), 1);
    const block = shape.map((s, d) => (d === 0 ? rows : s));
    const total = blockCount(shape, block);
    const tick = progress(total);
    const fd = fs.openSync(out, 'r+');
    try {
      if (kind === 'raw') fs.ftruncateSync(fd, sizeOf(shape) * itemsize);
      for (let b = 0; b < total; b++) {
        const slices = blockSlices(shape, block, b);
        const data = src.read(...slices) as unknown as { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
        const start = shape.length === 0 ? 0 : slices[0][0] * rowBytes;
        fs.writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, dataOffset + start);
        tick(b + 1);
      }
    } finally {
      fs.closeSync(fd);
    }
    return { output: out, kind, shape, dtype, blocks: total };
  } finally {
    src.close();
  }
}

/** `memmap info` of a Zarr array or group. */
export interface ZarrInfo {
  file: string;
  format: 'zarr';
  zarrFormat: 2 | 3;
  nodeType: 'array' | 'group';
  attributes: Record<string, unknown>;
  /** A group's direct members. */
  members?: { name: string; nodeType: 'array' | 'group' }[];
  dtype?: string;
  shape?: number[];
  chunks?: number[];
  shards?: number[] | null;
  /** Chunks (inner chunks) along each axis. */
  chunkGrid?: number[];
  /** Codec names, in encoding order (v3), or the v2 compressor's id (null: none). */
  codecs?: string[];
  fillValue?: unknown;
  /** Bytes of the array's elements. */
  logicalBytes?: number;
  /** Bytes of its chunk and shard files on disk (file sizes), and how many there are. */
  storedBytes?: number;
  storedFiles?: number;
  /** logicalBytes / storedBytes (null when nothing is stored). */
  ratio?: number | null;
  /** Stored bytes in the page cache now (mincore; touches no chunk), and their fraction of storedBytes. */
  residentBytes?: number;
  residentFraction?: number;
  /**
   * 2-d arrays: the chunk grid drawn as text rows (at most 32 x 64 cells; a cell averages a block of chunks when the
   * grid is larger): ' ' not stored, '.' none resident, ':' under half, '+' half or more, '#' all.
   */
  residencyMap?: string[];
}

const MAP_ROWS = 32;
const MAP_COLS = 64;

/** The residency map of a 2-d chunk grid (see ZarrInfo.residencyMap). */
function residencyMap(grid: readonly number[], chunks: Float32Array): string[] {
  const [gy, gx] = grid;
  const by = Math.ceil(gy / MAP_ROWS);
  const bx = Math.ceil(gx / MAP_COLS);
  const rows: string[] = [];
  for (let y = 0; y < gy; y += by) {
    let row = '';
    for (let x = 0; x < gx; x += bx) {
      let sum = 0;
      let n = 0;
      for (let i = y; i < Math.min(y + by, gy); i++) {
        for (let j = x; j < Math.min(x + bx, gx); j++) {
          const f = chunks[i * gx + j];
          if (f >= 0) {
            sum += f;
            n++;
          }
        }
      }
      const f = sum / n;
      row += n === 0 ? ' ' : f === 0 ? '.' : f < 0.5 ? ':' : f < 1 ? '+' : '#';
    }
    rows.push(row);
  }
  return rows;
}

function codecNames(dir: string, format: 2 | 3): string[] {
  const doc = JSON.parse(fs.readFileSync(nodePath.join(dir, format === 3 ? 'zarr.json' : '.zarray'), 'utf8')) as unknown;
  if (format === 2) {
    const id = own(own(doc, 'compressor'), 'id');
    return typeof id === 'string' ? [id] : [];
  }
  const names: string[] = [];
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const c of list) {
      const name = typeof c === 'string' ? c : own(c, 'name');
      if (typeof name !== 'string') continue;
      if (name === 'sharding_indexed') {
        names.push('sharding_indexed(');
        walk(own(own(c, 'configuration'), 'codecs'));
        names.push(')');
      } else names.push(name);
    }
  };
  walk(own(doc, 'codecs'));
  return names;
}

/** Sizes of the non-metadata files under `dir`, not descending into member nodes. */
function storedSize(dir: string, top = true): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = nodePath.join(dir, e.name);
    if (e.isDirectory()) {
      if (fs.existsSync(nodePath.join(p, 'zarr.json')) || fs.existsSync(nodePath.join(p, '.zarray'))) continue;
      const s = storedSize(p, false);
      bytes += s.bytes;
      files += s.files;
    } else if (e.isFile() && !(top && ['zarr.json', '.zarray', '.zattrs', '.zgroup'].includes(e.name))) {
      bytes += fs.statSync(p).size;
      files++;
    }
  }
  return { bytes, files };
}

export function zarrInfo(dir: string): ZarrInfo {
  const node = listZarr(dir);
  const base = { file: dir, format: 'zarr' as const, zarrFormat: node.zarrFormat, nodeType: node.nodeType, attributes: node.attributes };
  if (node.nodeType === 'group') return { ...base, members: node.members };
  const z = openZarr(dir);
  try {
    const logical = z.size * z.itemsize;
    const { bytes, files } = storedSize(dir);
    const res = z.residency();
    return {
      ...base,
      dtype: z.dtype,
      shape: [...z.shape],
      chunks: [...z.chunks],
      shards: z.shards === null ? null : [...z.shards],
      chunkGrid: z.shape.map((s, d) => Math.ceil(s / z.chunks[d])),
      codecs: codecNames(dir, z.zarrFormat),
      fillValue: z.fillValue,
      logicalBytes: logical,
      storedBytes: bytes,
      storedFiles: files,
      ratio: bytes === 0 ? null : logical / bytes,
      residentBytes: res.residentBytes,
      residentFraction: res.fraction,
      ...(res.grid.length === 2 && res.chunks.length > 0 ? { residencyMap: residencyMap(res.grid, res.chunks) } : {}),
    };
  } finally {
    z.close();
  }
}

/** `memmap info`'s text for a Zarr node. */
export function formatZarrInfo(i: ZarrInfo, human: (n: number) => string, tuple: (s: readonly number[]) => string): string {
  const rows: [string, string][] = [['format', `Zarr v${i.zarrFormat} ${i.nodeType}`]];
  if (i.nodeType === 'group') {
    rows.push(['members', (i.members ?? []).map((m) => `${m.name} (${m.nodeType})`).join(', ') || '(none)']);
  } else {
    rows.push(
      ['dtype', String(i.dtype)],
      ['shape', tuple(i.shape ?? [])],
      ['chunks', `${tuple(i.chunks ?? [])}, grid ${tuple(i.chunkGrid ?? [])}`],
      ['shards', i.shards ? tuple(i.shards) : 'none'],
      ['codecs', (i.codecs ?? []).join(' ').replace(/\( /g, '(').replace(/ \)/g, ')') || 'none (raw)'],
      ['fill value', JSON.stringify(i.fillValue)],
      ['logical', human(i.logicalBytes ?? 0)],
      ['stored', `${human(i.storedBytes ?? 0)} in ${i.storedFiles} files`],
      ['ratio', i.ratio === null || i.ratio === undefined ? '-' : `${i.ratio.toFixed(2)}x`],
      ['resident', `${human(i.residentBytes ?? 0)} of the stored bytes in the page cache (${(100 * (i.residentFraction ?? 1)).toFixed(1)}%)`],
    );
    if (i.residencyMap !== undefined) {
      rows.push(['chunk map', `' ' not stored, '.' none resident, ':' < 50%, '+' >= 50%, '#' all`]);
      for (const r of i.residencyMap) rows.push(['', `|${r}|`]);
    }
  }
  if (Object.keys(i.attributes).length > 0) rows.push(['attributes', JSON.stringify(i.attributes)]);
  return [i.file, ...rows.map(([k, v]) => `  ${k.padEnd(12)} ${v}`)].join('\n');
}
