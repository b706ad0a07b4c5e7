// Compressors a Zarr array is written with: createZarr()'s `compressor` option
// read into the metadata zarr-python writes (a v3 codec, a v2 compressor), and
// the settings chunks are re-encoded with when a store is opened 'r+'.
// Defaults follow zarr-python: v3 as zarr-python 3 (zstd level 0; blosc zstd,
// clevel 5, shuffle or, for 1-byte elements, bitshuffle), v2 as numcodecs and
// zarr-python 2 (Zstd level 1; Blosc lz4, clevel 5, SHUFFLE; LZ4 acceleration 1).
import { describe, MemmapError, MemmapRangeError, MemmapTypeError } from './errors';
import { BLOSC_CNAMES, BLOSC_SHUFFLES, type BloscCname, type BloscSettings } from './zarr-codec-blosc';
import { ZSTD_LEVELS } from './zarr-codec-zstd';
import { type CodecSettings, isObject, own } from './zarr-meta';

export type CompressorName = 'gzip' | 'zlib' | 'zstd' | 'blosc' | 'lz4';

/** A compressor to write: its metadata in either format, and the settings its chunks are encoded with. */
export interface Compression {
  name: CompressorName;
  /** The v3 codec entry (after `bytes`). */
  v3: Record<string, unknown>;
  /** The v2 `compressor`. */
  v2: Record<string, unknown>;
  settings: CodecSettings;
}

const GZIP_LEVEL = 5;
const ZLIB_LEVEL = 1;
const LZ4_ACCELERATION = 1;

/** Settings for a store whose metadata names none: each codec's default for `format` and element size. */
export function defaultSettings(format: 2 | 3, itemsize: number): CodecSettings {
  const blosc: BloscSettings =
    format === 3 ? { cname: 'zstd', clevel: 5, shuffle: itemsize === 1 ? 2 : 1, blocksize: 0 } : { cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 };
  return { gzip: GZIP_LEVEL, zlib: ZLIB_LEVEL, zstd: format === 3 ? 0 : 1, blosc, lz4: LZ4_ACCELERATION };
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

/** Blosc's shuffle as numcodecs numbers it: a v3 name, or v2's 0/1/2 and -1 (AUTOSHUFFLE: bitshuffle for 1-byte elements). */
function shuffleOf(x: unknown, itemsize: number): 0 | 1 | 2 | null {
  const i = typeof x === 'string' ? BLOSC_SHUFFLES.indexOf(x as (typeof BLOSC_SHUFFLES)[number]) - (BLOSC_SHUFFLES.includes(x as never) ? 0 : 1) : isInt(x) && x >= -1 && x <= 2 ? x : -2;
  if (i === -1) return itemsize === 1 ? 2 : 1;
  return i === 0 || i === 1 || i === 2 ? i : null;
}

/** The options of a codec object: v3's `configuration`, or v2's fields beside `id`. */
function optionsOf(c: Record<string, unknown>): Record<string, unknown> {
  const conf = own(c, 'configuration');
  if (isObject(conf)) return { ...conf };
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(c)) if (k !== 'id' && k !== 'name' && k !== 'configuration') out[k] = c[k];
  return out;
}

function bad(name: string, what: string, x: unknown): never {
  throw new MemmapRangeError('ERR_INVALID_ARG_VALUE', `createZarr(): ${name} ${what}, got ${describe(x)}`);
}

function onlyKeys(name: string, opts: Record<string, unknown>, keys: string[]): void {
  for (const k of Object.keys(opts)) if (!keys.includes(k)) throw new MemmapTypeError('ERR_UNKNOWN_OPTION', `createZarr(): ${name} has no option ${JSON.stringify(k)} (${keys.join(', ')})`);
}

/** createZarr()'s `compressor`: null, a name, or the codec's Zarr JSON (v3 `{ name, configuration }`, v2 `{ id, ... }`). */
export function compressionOf(c: unknown, format: 2 | 3, itemsize: number): Compression | null {
  if (c === null || c === undefined) return null;
  let name: unknown;
  let opts: Record<string, unknown> = {};
  if (typeof c === 'string') name = c;
  else if (isObject(c)) {
    name = own(c, 'name') ?? own(c, 'id');
    opts = optionsOf(c);
  } else throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `createZarr() option compressor must be null, a codec name or a codec object, got ${describe(c)}`);
  if (typeof name !== 'string') throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'createZarr() option compressor needs a name (v3) or id (v2)');
  if (typeof c === 'string' && name.startsWith('numcodecs.')) name = name.slice('numcodecs.'.length);
  const settings = defaultSettings(format, itemsize);
  if (name === 'gzip' || name === 'zlib') {
    if (name === 'zlib' && format === 3) throw new MemmapError('ERR_UNSUPPORTED_CODEC', 'createZarr(): zlib is a v2 compressor; Zarr v3 readers know gzip');
    const level = opts.level ?? settings[name];
    if (!isInt(level) || level < 0 || level > 9) throw new MemmapRangeError('ERR_INVALID_ARG_VALUE', `createZarr(): ${name} level must be an integer 0..9, got ${describe(level)}`);
    settings[name] = level;
    return { name, v3: { name, configuration: { level } }, v2: { id: name, level }, settings };
  }
  if (name === 'zstd') {
    onlyKeys(name, opts, ['level', 'checksum']);
    const level = opts.level ?? settings.zstd;
    if (!isInt(level) || level < ZSTD_LEVELS.min || level > ZSTD_LEVELS.max) bad(name, `level must be an integer ${ZSTD_LEVELS.min}..${ZSTD_LEVELS.max}`, level);
    const checksum = opts.checksum ?? false;
    if (typeof checksum !== 'boolean') bad(name, 'checksum must be a boolean', checksum);
    // numcodecs.js's zstd writes no content checksum; reading one is checked.
    if (checksum) throw new MemmapError('ERR_UNSUPPORTED_CODEC', 'createZarr(): zstd with checksum: true cannot be written (it is read and checked)');
    settings.zstd = level;
    return { name, v3: { name, configuration: { level, checksum: false } }, v2: { id: name, level }, settings };
  }
  if (name === 'blosc') {
    onlyKeys(name, opts, ['cname', 'clevel', 'shuffle', 'typesize', 'blocksize']);
    const b = settings.blosc;
    const cname = opts.cname ?? b.cname;
    if (typeof cname !== 'string' || !(BLOSC_CNAMES as readonly string[]).includes(cname)) bad(name, `cname must be one of ${BLOSC_CNAMES.join(', ')}`, cname);
    const clevel = opts.clevel ?? b.clevel;
    if (!isInt(clevel) || clevel < 0 || clevel > 9) bad(name, 'clevel must be an integer 0..9', clevel);
    const shuffle = opts.shuffle === undefined ? b.shuffle : shuffleOf(opts.shuffle, itemsize);
    if (shuffle === null) bad(name, 'shuffle must be noshuffle, shuffle, bitshuffle (v2: 0, 1, 2, -1)', opts.shuffle);
    const blocksize = opts.blocksize ?? 0;
    if (!isInt(blocksize) || blocksize < 0) bad(name, 'blocksize must be a non-negative integer', blocksize);
    const typesize = opts.typesize ?? itemsize;
    if (!isInt(typesize) || typesize < 1) bad(name, 'typesize must be a positive integer', typesize);
    settings.blosc = { cname: cname as BloscCname, clevel, shuffle, blocksize };
    const v2shuffle = opts.shuffle === -1 ? -1 : shuffle;
    return {
      name,
      v3: { name, configuration: { typesize, cname, clevel, shuffle: BLOSC_SHUFFLES[shuffle], blocksize } },
      v2: { id: name, cname, clevel, shuffle: v2shuffle, blocksize },
      settings,
    };
  }
  if (name === 'lz4') {
    if (format === 3) throw new MemmapError('ERR_UNSUPPORTED_CODEC', 'createZarr(): lz4 is a v2 compressor; Zarr v3 has no lz4 codec (blosc with cname lz4 is one)');
    onlyKeys(name, opts, ['acceleration']);
    const acceleration = opts.acceleration ?? LZ4_ACCELERATION;
    if (!isInt(acceleration) || acceleration < 1) bad(name, 'acceleration must be a positive integer', acceleration);
    settings.lz4 = acceleration;
    return { name, v3: {}, v2: { id: name, acceleration }, settings };
  }
  throw new MemmapError('ERR_UNSUPPORTED_CODEC', `createZarr(): compressor ${JSON.stringify(name)} is not a codec this writer knows (gzip, zlib, zstd, blosc, lz4)`);
}

/** The settings a store's metadata names (v3 codecs, inside a shard too; v2 compressor); what it leaves out, the defaults. */
export function settingsFromDoc(doc: Record<string, unknown>, format: 2 | 3, itemsize: number): CodecSettings {
  const out = defaultSettings(format, itemsize);
  const take = (name: unknown, o: Record<string, unknown>): void => {
    if (typeof name !== 'string') return;
    const n = name.startsWith('numcodecs.') ? name.slice('numcodecs.'.length) : name;
    const level = o.level;
    if ((n === 'gzip' || n === 'zlib') && isInt(level) && level >= 0 && level <= 9) out[n] = level;
    if (n === 'zstd' && isInt(level) && level >= ZSTD_LEVELS.min && level <= ZSTD_LEVELS.max) out.zstd = level;
    if (n === 'lz4' && isInt(o.acceleration) && o.acceleration >= 1) out.lz4 = o.acceleration;
    if (n === 'blosc') {
      const b = out.blosc;
      if (typeof o.cname === 'string' && (BLOSC_CNAMES as readonly string[]).includes(o.cname)) b.cname = o.cname as BloscCname;
      if (isInt(o.clevel) && o.clevel >= 0 && o.clevel <= 9) b.clevel = o.clevel;
      const s = o.shuffle === undefined ? null : shuffleOf(o.shuffle, itemsize);
      if (s !== null) b.shuffle = s;
      if (isInt(o.blocksize) && o.blocksize >= 0) b.blocksize = o.blocksize;
    }
  };
  if (format === 2) {
    const c = own(doc, 'compressor');
    if (isObject(c)) take(own(c, 'id'), optionsOf(c));
    return out;
  }
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const c of list) {
      if (!isObject(c)) continue;
      const conf = own(c, 'configuration');
      take(own(c, 'name'), isObject(conf) ? { ...conf } : {});
      walk(own(conf, 'codecs'));
    }
  };
  walk(own(doc, 'codecs'));
  return out;
}
