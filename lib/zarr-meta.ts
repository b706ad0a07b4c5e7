// Zarr metadata, v3 (`zarr.json`) and v2 (`.zarray` + `.zattrs`), read into
// one description: shape, dtype, chunk grid, chunk keys, fill value and the
// codec chain. Anything this reader cannot honour is refused here, before a
// chunk is touched: ERR_UNSUPPORTED_CODEC names the codec, ERR_ZARR_UNSUPPORTED
// other features (grids, data types), ERR_ZARR_METADATA malformed metadata.
import { codecOf } from './codec';
import { type DType, DTYPES, type DTypeName, parseDType } from './dtype';
import { MemmapError, type MemmapErrorCode } from './errors';
import { normalizeShape, sizeOf } from './layout';
import type { BloscSettings } from './zarr-codec-blosc';
import { bytesEndian, type Endian, storedDType } from './zarr-codec-bytes';
import { transposeOrder } from './zarr-codec-transpose';

/** A bytes -> bytes codec this reader decodes. */
export type BytesCodecName = 'gzip' | 'zlib' | 'crc32c' | 'zstd' | 'blosc' | 'lz4';

/** How chunks are re-encoded when written: each compressor's settings (the store's own, else the defaults). */
export interface CodecSettings {
  gzip: number;
  zlib: number;
  zstd: number;
  blosc: BloscSettings;
  /** lz4 acceleration. */
  lz4: number;
}

/** How a chunk (or a shard's inner chunk) is stored. */
export interface ChunkCodecs {
  /** Element dtype as stored (its byte order from the bytes codec, or v2's dtype). */
  stored: DType;
  /** Stored axis k is chunk axis order[k] (transpose; v2 order 'F' reverses). */
  order: number[];
  /** bytes -> bytes codecs, in encoding order (decoded last to first). */
  after: BytesCodecName[];
  /** `sharding_indexed` in place of `bytes`: the chunk is a shard of inner chunks. */
  sharding: Sharding | null;
}

export interface Sharding {
  /** Inner chunk shape. */
  inner: number[];
  codecs: ChunkCodecs;
  /** The index: uint64 (offset, nbytes) pairs, in this byte order, with a trailing crc32c or not. */
  indexEndian: Endian;
  indexCrc: boolean;
  indexAtStart: boolean;
}

export interface ZarrMeta {
  zarrFormat: 2 | 3;
  shape: number[];
  /** The array's dtype in this machine's byte order (what reads return). */
  dtype: DType;
  /** Chunk grid shape: a shard's shape when sharded. */
  grid: number[];
  /** Chunk key (path relative to the array directory) of grid coordinates. */
  key: (coords: readonly number[]) => string;
  /** The fill value as one element in this machine's byte order. */
  fill: Uint8Array;
  /** The fill value as the metadata gives it. */
  fillValue: unknown;
  dimensionNames: (string | null)[] | null;
  attributes: Record<string, unknown>;
  codecs: ChunkCodecs;
  /** Settings chunks are re-encoded with (the store's own, read by openZarr() for 'r+'). */
  levels?: CodecSettings;
}

type Json = Record<string, unknown>;

/** A metadata value for a message: JSON, cut short; never throws (deeply nested JSON overflows JSON.stringify). */
function show(x: unknown): string {
  try {
    const s = JSON.stringify(x);
    return typeof s !== 'string' ? String(s) : s.length > 80 ? `${s.slice(0, 80)}…` : s;
  } catch {
    return Array.isArray(x) ? '[…]' : typeof x === 'object' && x !== null ? '{…}' : String(x);
  }
}

function fail(code: MemmapErrorCode, where: string, message: string): never {
  throw new MemmapError(code, `${where}: ${message}`, { path: where });
}

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A field of parsed JSON: own properties only, so a polluted Object.prototype cannot add metadata. */
export function own(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null && Object.hasOwn(o, key) ? (o as Json)[key] : undefined;
}

/** The whole JSON document of a metadata file (ERR_ZARR_METADATA when it is not a JSON object). */
export function parseJsonObject(text: string, where: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new MemmapError('ERR_ZARR_METADATA', `${where}: not valid JSON`, { path: where, cause: err });
  }
  if (!isObject(doc)) fail('ERR_ZARR_METADATA', where, 'must hold a JSON object');
  return doc;
}

function shapeOf(x: unknown, where: string, what: string, positive: boolean): number[] {
  let s: number[];
  try {
    s = normalizeShape(x, what);
    sizeOf(s); // more than 2^53 elements: refused here, as metadata, not later as ERR_INVALID_SHAPE
  } catch (err) {
    throw new MemmapError('ERR_ZARR_METADATA', `${where}: ${what} must be a list of non-negative integers`, { path: where, cause: err });
  }
  if (!Array.isArray(x)) fail('ERR_ZARR_METADATA', where, `${what} must be a list`);
  if (positive) for (const d of s) if (d < 1) fail('ERR_ZARR_METADATA', where, `${what} must hold positive integers`);
  return s;
}

/** v3 data_type names this reader maps: the dtype table's canonical names. */
function v3DType(x: unknown, where: string): DTypeName {
  if (typeof x === 'string' && Object.hasOwn(DTYPES, x)) return x as DTypeName;
  return fail('ERR_ZARR_UNSUPPORTED', where, `data_type ${show(x)} is not supported (bool, int8..uint64, float16/32/64, complex64/128 are)`);
}

function nativeDType(name: DTypeName): DType {
  return parseDType(name);
}

// ---- fill values ------------------------------------------------------------

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** One float from its JSON: a number, "NaN"/"Infinity"/"-Infinity", or v3's "0x…" bit pattern of `bytes` bytes. */
function floatOf(x: unknown, bytes: number, where: string): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && Object.hasOwn(SPECIAL, x)) return SPECIAL[x];
  if (typeof x === 'string' && /^0x[0-9a-fA-F]+$/.test(x) && x.length === 2 + 2 * bytes) {
    const v = new DataView(new ArrayBuffer(8));
    const bits = BigInt(x);
    if (bytes === 2) {
      v.setUint16(0, Number(bits));
      return codecOf(parseDType('>f2')).read(v, 0) as number;
    }
    if (bytes === 4) {
      v.setUint32(0, Number(bits));
      return v.getFloat32(0);
    }
    v.setBigUint64(0, bits);
    return v.getFloat64(0);
  }
  return fail('ERR_ZARR_METADATA', where, `fill_value ${show(x)} is not a ${bytes * 8}-bit float`);
}

/** The fill value as one native-order element; null (v2) is 0, as zarr-python and zarrita read missing chunks. */
function fillBytes(dt: DType, x: unknown, where: string): Uint8Array {
  const out = new Uint8Array(dt.itemsize);
  const view = new DataView(out.buffer);
  const codec = codecOf(dt);
  if (x === null || x === undefined) return out;
  try {
    if (dt.kind === 'b') {
      if (typeof x !== 'boolean' && typeof x !== 'number') fail('ERR_ZARR_METADATA', where, 'fill_value of a bool array must be true or false');
      codec.write(view, 0, x);
    } else if (dt.kind === 'i' || dt.kind === 'u') {
      if (typeof x !== 'number' || !Number.isInteger(x)) fail('ERR_ZARR_METADATA', where, `fill_value ${show(x)} is not an integer`);
      codec.write(view, 0, dt.itemsize === 8 ? BigInt(x) : x);
    } else if (dt.kind === 'f') {
      codec.write(view, 0, floatOf(x, dt.itemsize, where));
    } else {
      const half = dt.itemsize / 2;
      if (!Array.isArray(x) || x.length !== 2) fail('ERR_ZARR_METADATA', where, 'fill_value of a complex array must be [real, imaginary]');
      codec.write(view, 0, { re: floatOf(x[0], half, where), im: floatOf(x[1], half, where) });
    }
  } catch (err) {
    if (err instanceof MemmapError && err.code === 'ERR_ZARR_METADATA') throw err;
    throw new MemmapError('ERR_ZARR_METADATA', `${where}: fill_value ${show(x)} does not fit ${dt.name}`, { path: where, cause: err });
  }
  return out;
}

// ---- v3 ---------------------------------------------------------------------

function codecParts(c: unknown, where: string): { name: string; config: Json } {
  if (typeof c === 'string') return { name: c, config: {} };
  const name = own(c, 'name');
  if (!isObject(c) || typeof name !== 'string') return fail('ERR_ZARR_METADATA', where, 'each codec must be an object with a name');
  const config = own(c, 'configuration') ?? {};
  if (!isObject(config)) fail('ERR_ZARR_METADATA', where, `configuration of codec ${name} must be an object`);
  // A null-prototype copy: the codecs read its fields directly.
  return { name, config: Object.assign(Object.create(null) as Json, config) };
}

/** v3 bytes -> bytes codec names read, with zarr-python 3's `numcodecs.*` names for numcodecs' own formats. */
const V3_BYTES_CODECS: Record<string, BytesCodecName> = {
  gzip: 'gzip',
  zlib: 'zlib',
  crc32c: 'crc32c',
  zstd: 'zstd',
  blosc: 'blosc',
  'numcodecs.zstd': 'zstd',
  'numcodecs.blosc': 'blosc',
  'numcodecs.lz4': 'lz4',
};

function unsupported(name: string, where: string): never {
  const why = 'is not a codec this reader knows';
  throw new MemmapError('ERR_UNSUPPORTED_CODEC', `${where}: codec ${JSON.stringify(name)} ${why}`, { path: where });
}

/** A v3 codec chain for chunks of `shape`; `nested`: inside a shard (no sharding again). */
function v3Codecs(list: unknown, shape: readonly number[], name: DTypeName, where: string, nested: boolean): ChunkCodecs {
  if (!Array.isArray(list) || list.length === 0) fail('ERR_ZARR_METADATA', where, 'codecs must be a non-empty list');
  let order = shape.map((_, i) => i);
  let i = 0;
  let parts = codecParts(list[0], where);
  for (; parts.name === 'transpose'; parts = codecParts(list[++i], where)) {
    const p = transposeOrder(parts.config, shape.length, where);
    order = p.map((k) => order[k]);
    if (i + 1 >= list.length) fail('ERR_ZARR_METADATA', where, 'codecs need an array -> bytes codec (bytes) after transpose');
  }
  let stored: DType;
  let sharding: Sharding | null = null;
  if (parts.name === 'bytes') {
    stored = storedDType(name, bytesEndian(parts.config, where), where);
  } else if (parts.name === 'sharding_indexed') {
    if (nested) fail('ERR_UNSUPPORTED_CODEC', where, 'sharding_indexed inside a shard is not supported');
    if (order.some((a, k) => a !== k)) fail('ERR_UNSUPPORTED_CODEC', where, 'transpose before sharding_indexed is not supported');
    sharding = v3Sharding(parts.config, shape, name, where);
    stored = sharding.codecs.stored;
  } else if (parts.name === 'transpose') {
    return fail('ERR_ZARR_METADATA', where, 'transpose must come first');
  } else {
    return unsupported(parts.name, where);
  }
  const after: BytesCodecName[] = [];
  for (i++; i < list.length; i++) {
    const c = codecParts(list[i], where);
    if (Object.hasOwn(V3_BYTES_CODECS, c.name)) appendName(after, V3_BYTES_CODECS[c.name]);
    else if (c.name === 'bytes' || c.name === 'sharding_indexed' || c.name === 'transpose') fail('ERR_ZARR_METADATA', where, `codec ${c.name} out of place: one array -> bytes codec, after the array -> array ones`);
    else unsupported(c.name, where);
  }
  // bytes -> bytes codecs over a whole shard (rare) would hide its index: refused rather than misread.
  if (sharding !== null && after.length > 0) unsupported(`${after[0]} (after sharding_indexed)`, where);
  return { stored, order, after, sharding };
}

function appendName(list: BytesCodecName[], name: BytesCodecName): void {
  list.push(name);
}

function v3Sharding(config: Json, shard: readonly number[], name: DTypeName, where: string): Sharding {
  const inner = shapeOf(own(config, 'chunk_shape'), where, 'sharding chunk_shape', true);
  if (inner.length !== shard.length) fail('ERR_ZARR_METADATA', where, 'sharding chunk_shape must have one entry per dimension');
  for (let d = 0; d < inner.length; d++) {
    if (shard[d] % inner[d] !== 0) fail('ERR_ZARR_METADATA', where, `the shard shape (${shard.join(', ')}) is not a multiple of the inner chunk shape (${inner.join(', ')})`);
  }
  const codecs = v3Codecs(own(config, 'codecs') ?? [{ name: 'bytes', configuration: { endian: 'little' } }], inner, name, where, true);
  const indexList = own(config, 'index_codecs') ?? [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }];
  if (!Array.isArray(indexList) || indexList.length === 0) return fail('ERR_ZARR_METADATA', where, 'index_codecs must be a non-empty list');
  const first = codecParts(indexList[0], where);
  if (first.name !== 'bytes') return unsupported(first.name === 'transpose' ? 'transpose (in index_codecs)' : first.name, where);
  const indexEndian = bytesEndian(first.config, where) ?? 'little';
  let indexCrc = false;
  for (let i = 1; i < indexList.length; i++) {
    const c = codecParts(indexList[i], where);
    if (c.name !== 'crc32c' || indexCrc) unsupported(`${c.name} (in index_codecs)`, where);
    indexCrc = true;
  }
  const loc = own(config, 'index_location') ?? 'end';
  if (loc !== 'start' && loc !== 'end') fail('ERR_ZARR_METADATA', where, 'index_location must be "start" or "end"');
  return { inner, codecs, indexEndian, indexCrc, indexAtStart: loc === 'start' };
}

function keyEncoder(encoding: unknown, where: string): (c: readonly number[]) => string {
  const { name, config } = codecParts(encoding ?? { name: 'default' }, where);
  const sep = own(config, 'separator');
  if (name === 'default') {
    if (sep !== undefined && sep !== '/' && sep !== '.') fail('ERR_ZARR_METADATA', where, 'chunk_key_encoding separator must be "/" or "."');
    const s = (sep as string | undefined) ?? '/';
    return (c) => (c.length === 0 ? 'c' : `c${s}${c.join(s)}`);
  }
  if (name === 'v2') {
    if (sep !== undefined && sep !== '/' && sep !== '.') fail('ERR_ZARR_METADATA', where, 'chunk_key_encoding separator must be "/" or "."');
    const s = (sep as string | undefined) ?? '.';
    return (c) => (c.length === 0 ? '0' : c.join(s));
  }
  return fail('ERR_ZARR_UNSUPPORTED', where, `chunk_key_encoding ${JSON.stringify(name)} is not supported (default and v2 are)`);
}

/** Reads a parsed `zarr.json` of an array. */
export function v3Meta(doc: Json, where: string): ZarrMeta {
  if (own(doc, 'zarr_format') !== 3) fail('ERR_ZARR_METADATA', where, 'zarr_format must be 3');
  if (own(doc, 'node_type') !== 'array') fail('ERR_NOT_ZARR_ARRAY', where, `node_type is ${show(own(doc, 'node_type'))}, not "array"`);
  const shape = shapeOf(own(doc, 'shape'), where, 'shape', false);
  const name = v3DType(own(doc, 'data_type'), where);
  const grid = own(doc, 'chunk_grid');
  const g = codecParts(grid, where);
  if (g.name !== 'regular') fail('ERR_ZARR_UNSUPPORTED', where, `chunk_grid ${JSON.stringify(g.name)} is not supported (regular is)`);
  const chunkShape = shapeOf(own(g.config, 'chunk_shape'), where, 'chunk_shape', true);
  if (chunkShape.length !== shape.length) fail('ERR_ZARR_METADATA', where, `chunk_shape has ${chunkShape.length} dimensions, shape ${shape.length}`);
  const st = own(doc, 'storage_transformers');
  if (st !== undefined && !(Array.isArray(st) && st.length === 0)) fail('ERR_ZARR_UNSUPPORTED', where, 'storage_transformers are not supported');
  const dims = own(doc, 'dimension_names');
  if (dims !== undefined && dims !== null && (!Array.isArray(dims) || dims.length !== shape.length || dims.some((n) => n !== null && typeof n !== 'string'))) {
    fail('ERR_ZARR_METADATA', where, 'dimension_names must list a string or null per dimension');
  }
  const attributes = own(doc, 'attributes') ?? {};
  if (!isObject(attributes)) fail('ERR_ZARR_METADATA', where, 'attributes must be an object');
  const dtype = nativeDType(name);
  if (own(doc, 'fill_value') === undefined) fail('ERR_ZARR_METADATA', where, 'fill_value is required');
  return {
    zarrFormat: 3,
    shape,
    dtype,
    grid: chunkShape,
    key: keyEncoder(own(doc, 'chunk_key_encoding'), where),
    fill: fillBytes(dtype, own(doc, 'fill_value'), where),
    fillValue: own(doc, 'fill_value'),
    dimensionNames: Array.isArray(dims) ? (dims as (string | null)[]) : null,
    attributes,
    codecs: v3Codecs(own(doc, 'codecs'), chunkShape, name, where, false),
  };
}

// ---- v2 ---------------------------------------------------------------------

function v2Compressor(c: unknown, where: string): BytesCodecName[] {
  if (c === null || c === undefined) return [];
  const id = own(c, 'id');
  if (!isObject(c) || typeof id !== 'string') return fail('ERR_ZARR_METADATA', where, 'compressor must be null or an object with an id');
  if (id === 'zlib' || id === 'gzip' || id === 'zstd' || id === 'blosc' || id === 'lz4') return [id];
  return unsupported(id, where);
}

/** Reads a parsed `.zarray` (and its `.zattrs`, already parsed). */
export function v2Meta(doc: Json, attributes: Json, where: string): ZarrMeta {
  if (own(doc, 'zarr_format') !== 2) fail('ERR_ZARR_METADATA', where, 'zarr_format must be 2');
  const shape = shapeOf(own(doc, 'shape'), where, 'shape', false);
  const grid = shapeOf(own(doc, 'chunks'), where, 'chunks', true);
  if (grid.length !== shape.length) fail('ERR_ZARR_METADATA', where, `chunks has ${grid.length} dimensions, shape ${shape.length}`);
  let stored: DType;
  try {
    const dtype = own(doc, 'dtype');
    if (typeof dtype !== 'string') throw new TypeError('not a string');
    stored = parseDType(dtype);
  } catch (err) {
    throw new MemmapError('ERR_ZARR_UNSUPPORTED', `${where}: dtype ${show(own(doc, 'dtype'))} is not supported`, { path: where, cause: err });
  }
  const filters = own(doc, 'filters');
  if (filters !== null && filters !== undefined) {
    if (!Array.isArray(filters)) fail('ERR_ZARR_METADATA', where, 'filters must be null or a list');
    const id = filters.length > 0 ? own(filters[0], 'id') : undefined;
    if (filters.length > 0) unsupported(typeof id === 'string' ? id : 'filter', where);
  }
  const order = own(doc, 'order') ?? 'C';
  if (order !== 'C' && order !== 'F') fail('ERR_ZARR_METADATA', where, 'order must be "C" or "F"');
  const sep = own(doc, 'dimension_separator') ?? '.';
  if (sep !== '.' && sep !== '/') fail('ERR_ZARR_METADATA', where, 'dimension_separator must be "." or "/"');
  const axes = shape.map((_, i) => i);
  const dtype = nativeDType(stored.name);
  return {
    zarrFormat: 2,
    shape,
    dtype,
    grid,
    key: (c) => (c.length === 0 ? '0' : c.join(sep as string)),
    fill: fillBytes(dtype, own(doc, 'fill_value'), where),
    fillValue: own(doc, 'fill_value') ?? null,
    dimensionNames: null,
    attributes,
    codecs: { stored, order: order === 'F' ? axes.reverse() : axes, after: v2Compressor(own(doc, 'compressor'), where), sharding: null },
  };
}

export { isObject };
