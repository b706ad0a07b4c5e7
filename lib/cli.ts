// The `memmap` command line: `memmap info FILE…` describes .npy and raw files
// and Zarr arrays and groups; `memmap convert IN OUT` copies between raw, .npy and Zarr.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { osError } from './errors';
import type { MemmapArray } from './array';
import { memmap } from './memmap';
import { convert, formatZarrInfo, isNpyFile, openRaw, type RawOptions, zarrInfo } from './zarr-cli';
import { openNpy, readNpyHeader } from './npy';
import { readOptions } from './options';

const USAGE = `Usage: memmap info FILE... [--dtype DTYPE] [--shape N,M,...] [--offset BYTES] [--order C|F] [--json]
       memmap convert IN OUT [--chunks N,M,...] [--shards N,M,...|none] [--compressor gzip|zstd|blosc|zlib|lz4|none]
                             [--zarr-format 2|3] [--to npy|raw|zarr] [--overwrite] [raw input options]

  info    For a .npy file: format version, dtype, shape, order, data offset,
          size on disk and how much of the file is in the page cache now.
          For a raw file: the same for --dtype (default uint8), --shape
          (default: 1-d, inferred from the file size), --offset and --order.
          For a Zarr array directory: format, dtype, shape, chunk grid, shards,
          codecs, fill value, logical vs stored bytes and the compression
          ratio; for a Zarr group: its members.
  convert Copies IN (a raw file with the options above, a .npy file, or a Zarr
          array directory) to OUT, block by block (never the whole array in
          memory). OUT is a .npy file if it ends in .npy, a Zarr array if it
          ends in .zarr or a Zarr option is given, else a raw C-order file
          (--to overrides). Zarr output: v3 unless --zarr-format 2; chunks,
          shards and compressor as createZarr() (defaults documented there).
          Refuses an existing OUT unless --overwrite. A progress bar is drawn
          when stderr is a terminal.
  --json  one JSON object per file instead of text (info).

Errors are printed as one line and the exit code is 1 (2 for bad usage).`;

export interface FileInfo {
  file: string;
  format: 'npy' | 'raw';
  /** .npy format version, e.g. "1.0" (npy only). */
  version?: string;
  dtype: string;
  descr: string;
  shape: number[];
  order: 'C' | 'F';
  dataOffset: number;
  dataBytes: number;
  fileSize: number;
  /** Bytes the file system has allocated (less than fileSize for a sparse file). */
  allocatedBytes: number;
  /** Bytes of the file in the page cache now (mincore; touches nothing). */
  residentBytes: number;
}

class UsageError extends Error {}

interface InfoOptions {
  dtype?: string;
  shape?: string;
  offset?: string;
  order?: string;
  json: boolean;
}

const VALUE_OPTIONS = ['dtype', 'shape', 'offset', 'order', 'chunks', 'shards', 'compressor', 'zarr-format', 'to'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

function parseArgs(argv: string[]): { command: string | undefined; files: string[]; opts: InfoOptions; more: Partial<Record<ValueOption, string>> & { overwrite?: boolean } } {
  const opts: InfoOptions = { json: false };
  const more: Partial<Record<ValueOption, string>> & { overwrite?: boolean } = {};
  const files: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') {
      opts.json = true;
    } else if (arg === '--overwrite') {
      more.overwrite = true;
    } else if (arg === '-h' || arg === '--help') {
      command = 'help';
    } else if (arg === '--version' || arg === '-v') {
      command = 'version';
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (!(VALUE_OPTIONS as readonly string[]).includes(name)) throw new UsageError(`unknown option ${arg}`);
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      if (['dtype', 'shape', 'offset', 'order'].includes(name)) opts[name as 'dtype' | 'shape' | 'offset' | 'order'] = value;
      else more[name as ValueOption] = value;
    } else if (command === undefined) {
      command = arg;
    } else {
      files.push(arg);
    }
  }
  return { command, files, opts, more };
}

/** A directory with Zarr metadata (any other directory stays EISDIR, from fileInfo()). */
function isZarrNode(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory() && ['zarr.json', '.zarray', '.zgroup'].some((m) => fs.existsSync(path.join(file, m)));
  } catch {
    return false;
  }
}

/** Bytes of the whole file in the page cache (mincore through a read-only mapping). */
function residentBytes(file: string, size: number): number {
  if (size === 0) return 0;
  const a = memmap(file, { mode: 'r', dtype: 'uint8', allowNpy: true }); // the whole file's bytes, a .npy header included
  try {
    return a.residency().residentBytes;
  } finally {
    a.close();
  }
}

/** Describes one file as `memmap info` does. Throws MemmapError for files it cannot describe. */
export function fileInfo(file: string, options: Omit<InfoOptions, 'json'> = {}): FileInfo {
  // Own properties only: a polluted Object.prototype.shape must not turn a .npy into a raw file.
  const opts = readOptions(options, ['dtype', 'shape', 'offset', 'order', 'json'], 'fileInfo()');
  const abs = path.resolve(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw osError(e.code ?? 'UNKNOWN', e.message, { path: abs, syscall: 'stat', errno: e.errno });
  }
  if (!st.isFile()) throw osError(st.isDirectory() ? 'EISDIR' : 'ENODEV', `${abs} is not a regular file`, { path: abs });
  let info: Omit<FileInfo, 'residentBytes' | 'fileSize' | 'allocatedBytes' | 'file'>;
  // Opening the array (never touching it) applies exactly the library's checks.
  let a: MemmapArray;
  let version: string | undefined;
  if (opts.dtype === undefined && opts.shape === undefined && opts.offset === undefined && (isNpyFile(abs) || abs.endsWith('.npy'))) {
    version = readNpyHeader(abs).version.join('.');
    a = openNpy(abs, { mode: 'r' });
  } else {
    a = openRaw(abs, opts as RawOptions);
  }
  try {
    info = {
      format: version ? 'npy' : 'raw',
      ...(version ? { version } : {}),
      dtype: a.dtype,
      descr: a.descr,
      shape: [...a.shape],
      order: a.order,
      dataOffset: a.offset,
      dataBytes: a.byteLength,
    };
  } finally {
    a.close();
  }
  return { file: abs, ...info, fileSize: st.size, allocatedBytes: st.blocks * 512, residentBytes: residentBytes(abs, st.size) };
}

function human(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${n} bytes (${v.toFixed(1)} ${units[u]})`;
}

function pyShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function formatInfo(i: FileInfo): string {
  const pct = i.fileSize === 0 ? 100 : (100 * i.residentBytes) / i.fileSize;
  const rows: [string, string][] = [
    ['format', i.format === 'npy' ? `.npy ${i.version}` : 'raw'],
    ['dtype', `${i.dtype} (${i.descr})`],
    ['shape', pyShape(i.shape)],
    ['order', i.order],
    ['data offset', String(i.dataOffset)],
    ['data size', human(i.dataBytes)],
    ['file size', `${human(i.fileSize)}, ${human(i.allocatedBytes)} allocated on disk`],
    ['resident', `${human(i.residentBytes)} of the file in the page cache (${pct.toFixed(1)}%)`],
  ];
  return [i.file, ...rows.map(([k, v]) => `  ${k.padEnd(12)} ${v}`)].join('\n');
}

function oneLine(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = String(e?.message ?? err).replace(/\s*\n\s*/g, ' ');
  return e?.code && !msg.startsWith(e.code) ? `${e.code}: ${msg}` : msg;
}

/** Runs the command line; returns the exit code. */
export function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): number {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    err(`memmap: ${(e as Error).message} (see memmap --help)`);
    return 2;
  }
  const { command, files, opts, more } = parsed;
  if (command === 'help') {
    out(USAGE);
    return 0;
  }
  if (command === 'version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    out(String((require('../package.json') as { version: string }).version));
    return 0;
  }
  if (command === 'convert') {
    if (files.length !== 2) {
      err('memmap: convert needs IN and OUT (see memmap --help)');
      return 2;
    }
    try {
      const r = convert(files[0], files[1], { ...opts, chunks: more.chunks, shards: more.shards, compressor: more.compressor, zarrFormat: more['zarr-format'], to: more.to, overwrite: more.overwrite });
      if (opts.json) out(JSON.stringify(r));
      return 0;
    } catch (e) {
      err(`memmap: ${oneLine(e)}`);
      return 1;
    }
  }
  if (Object.keys(more).length > 0) {
    err(`memmap: ${Object.keys(more).map((k) => `--${k}`).join(', ')} only apply to convert (see memmap --help)`);
    return 2;
  }
  if (command !== 'info') {
    err(command === undefined ? 'memmap: missing command (see memmap --help)' : `memmap: unknown command ${JSON.stringify(command)} (see memmap --help)`);
    return 2;
  }
  if (files.length === 0) {
    err('memmap: info needs a FILE (see memmap --help)');
    return 2;
  }
  let status = 0;
  files.forEach((file, k) => {
    try {
      const zarr = isZarrNode(file);
      const info = zarr ? zarrInfo(path.resolve(file)) : fileInfo(file, opts);
      if (opts.json) out(JSON.stringify(info));
      else out((k > 0 ? '\n' : '') + ('nodeType' in info ? formatZarrInfo(info, human, pyShape) : formatInfo(info)));
    } catch (e) {
      err(`memmap: ${oneLine(e)}`);
      status = 1;
    }
  });
  return status;
}
