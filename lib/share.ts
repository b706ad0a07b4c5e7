// Sharing an array with other threads: share() tokens and fromShared().
import { createArray, type ArraySpec, type MemmapArray } from './array';
import { native, type NativeMapping } from './binding';
import { type DTypeName, parseDType } from './dtype';
import { MemmapError } from './errors';
import { MAX_DIMS, type Order } from './layout';
import type { Mode } from './modes';
import { MappedStorage } from './storage-mapped';

/** What share() returns: plain data, safe to postMessage to a worker. */
export interface SharedMemmap {
  type: 'memmap.shared';
  /** 128 random bits (hex): names one mapping of this process, unforgeably. */
  id: string;
  filename: string | Uint8Array;
  descr: string;
  shape: number[];
  order: Order;
  mode: Mode;
  offset: number;
}

/**
 * Rebuilds, in this thread, the array another thread share()d. No copy: both
 * see the same memory, and writes in 'r+' are visible to every thread at once.
 * @throws ERR_INVALID_TOKEN for anything but an unedited token of a mapping of
 * this process that some holder still has open.
 */
export function fromShared<N extends DTypeName = DTypeName>(token: SharedMemmap): MemmapArray<N> {
  const bad = (why: string): MemmapError => new MemmapError('ERR_INVALID_TOKEN', `not a share() token of a live mapping of this process: ${why}`);
  if (typeof token !== 'object' || token === null) throw bad('not an object');
  // Own data properties only: a getter or a polluted prototype cannot supply a field.
  const field = (name: string): unknown => {
    const d = Object.getOwnPropertyDescriptor(token, name);
    return d !== undefined && Object.hasOwn(d, 'value') ? d.value : undefined;
  };
  const id = field('id');
  if (field('type') !== 'memmap.shared' || typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) throw bad('no memmap.shared type or id');
  // share() never writes one: a token that has it was edited.
  if (Object.hasOwn(token, 'reportMode')) throw bad('it has a reportMode field');
  const given: Omit<SharedMemmap, 'id'> = {
    type: 'memmap.shared',
    filename: field('filename') as SharedMemmap['filename'],
    descr: field('descr') as string,
    shape: field('shape') as number[],
    order: field('order') as Order,
    mode: field('mode') as Mode,
    offset: field('offset') as number,
  };
  let meta: string | undefined;
  let mapping: NativeMapping;
  try {
    // A string or bytes, nothing else: Buffer.from() of another object would run its code and read any `length`.
    if (typeof given.filename !== 'string' && !(given.filename instanceof Uint8Array)) throw new TypeError('filename');
    given.filename = typeof given.filename === 'string' || Buffer.isBuffer(given.filename) ? given.filename : Buffer.from(given.filename);
    meta = tokenMeta(given);
  } catch {
    throw bad('fields are not plain data');
  }
  try {
    mapping = new native.Mapping('shared', id);
  } catch (err) {
    if (err instanceof MemmapError) throw err;
    throw bad('unknown id');
  }
  if (mapping.meta !== meta) {
    mapping.close();
    throw bad('its fields do not describe the mapping with this id');
  }
  // Built from what share() recorded, which equals the token.
  const spec: ArraySpec = {
    filename: typeof given.filename === 'string' ? given.filename : Buffer.from(given.filename),
    mode: given.mode,
    dtype: parseDType(given.descr),
    offset: given.offset,
    order: given.order,
  };
  const shape = (JSON.parse(meta as string) as unknown[])[2] as number[]; // the own elements tokenMeta() read, not the token's own slice()
  return createArray<N>(spec, shape, new MappedStorage(mapping));
}

/** The canonical text of a token's fields (the id aside), as share() stores it. */
export function tokenMeta(t: Omit<SharedMemmap, 'id'>): string {
  const filename = typeof t.filename === 'string' ? t.filename : { bytes: Buffer.from(t.filename).toString('hex') };
  // At most 64 axes: an edited token's `new Array(2**32 - 1)` must not be walked (V8 aborts out of memory).
  if (!Array.isArray(t.shape) || t.shape.length > MAX_DIMS) throw new TypeError('shape');
  const shape = Array.from({ length: t.shape.length }, (_, k) => Object.getOwnPropertyDescriptor(t.shape, k)?.value as unknown);
  const plain = (v: unknown): unknown => {
    if (v === undefined || v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'object' && v === filename) return v;
    throw new TypeError('not plain');
  };
  return JSON.stringify([plain(filename), plain(t.descr), shape.map(plain), plain(t.order), plain(t.mode), plain(t.offset)]);
}
