// The memmap() factory (numpy.memmap), evict() and pageSize.
import { createArray, type MemmapArray, type Remapper } from './array';
import { native } from './binding';
import { type CanonicalDType, type DTypeName, type DTypeString, parseDType } from './dtype';
import { describe, MemmapTypeError } from './errors';
import { checkNumpySize, normalizeOrder, normalizeShape, type Order } from './layout';
import type { ModeInput } from './modes';
import { normalizeMode, normalizeOffset, normalizePartial, readOptions } from './options';
import { absoluteName, normalizePath } from './paths';
import { mapFile, type MapSpec, remapFile } from './storage-mapped';

export interface MemmapOptions<D extends DTypeString | null = DTypeString> {
  /**
   * Element type. Default 'uint8' (as numpy); `null` is numpy's `dtype=None`,
   * which np.memmap reads as float64.
   */
  dtype?: D;
  /** Dimensions. Default: 1-d, inferred from (file size - offset) / itemsize. Required for 'w+'. */
  shape?: number | readonly number[];
  /** Default 'r' (numpy's default is 'r+'; read-only is safer). */
  mode?: ModeInput;
  /** Byte offset of the array in the file; any value, aligned or not. Default 0. */
  offset?: number | bigint;
  /** Memory layout: 'C' (row-major, default) or 'F' (column-major). */
  order?: Order | 'c' | 'f';
  /** Pre-fault every page at open (MAP_POPULATE on Linux). Default false. */
  populate?: boolean;
  /**
   * Map a .npy file's bytes as they are, header included. Default false: a
   * file named *.npy that starts with the .npy magic, mapped from offset 0,
   * is refused with ERR_NPY_FILE (use openNpy()).
   */
  allowNpy?: boolean;
  /**
   * With no shape, what a trailing partial element (a write half done) is: 'error' (default, ERR_SIZE_MISMATCH, as
   * numpy) or 'ignore' (the array ends at the last whole element).
   */
  partial?: 'error' | 'ignore';
}

/** `dtype: null` is float64, as numpy's dtype=None. */
type OrFloat64<D extends DTypeString | null> = D extends null ? 'float64' : D;

const MEMMAP_OPTIONS = ['dtype', 'shape', 'mode', 'offset', 'order', 'populate', 'allowNpy', 'partial'] as const;

/**
 * Maps `file` as a typed n-d array, like numpy.memmap. Options are read as own
 * data properties only (see readOptions()); an unknown one is ERR_UNKNOWN_OPTION.
 *
 * @throws MemmapError with `code` ERR_… for bad input (ERR_INVALID_DTYPE,
 * ERR_INVALID_MODE, ERR_INVALID_SHAPE, ERR_INVALID_OFFSET, ERR_INVALID_ORDER,
 * ERR_UNKNOWN_OPTION, ERR_SHAPE_REQUIRED, ERR_EMPTY_FILE, ERR_FILE_TOO_SHORT,
 * ERR_SIZE_MISMATCH, ERR_NPY_FILE, ERR_INVALID_ARG_VALUE for a bad `partial`), or the errno name (ENOENT, EACCES, EISDIR, …) with
 * `syscall` and `path` when the OS refuses.
 */
export function memmap<D extends DTypeString | null = 'uint8'>(
  file: string | Buffer | URL,
  options: MemmapOptions<D> = {},
): MemmapArray<CanonicalDType<OrFloat64<D>>> {
  const o = readOptions(options, MEMMAP_OPTIONS, 'memmap()');
  if (o.allowNpy !== undefined && typeof o.allowNpy !== 'boolean') {
    throw new MemmapTypeError('ERR_INVALID_ARG_TYPE', `allowNpy must be a boolean, got ${describe(o.allowNpy)}`);
  }
  const osPath = normalizePath(file);
  const mode = normalizeMode(o.mode);
  // Omitted: numpy.memmap's default, uint8. null: numpy's dtype=None, float64
  // (np.memmap(f, dtype=None).dtype is float64, as np.dtype(None) is).
  const dtype = parseDType(o.dtype === undefined ? 'uint8' : o.dtype === null ? 'float64' : o.dtype);
  const shape = o.shape === undefined ? undefined : normalizeShape(o.shape);
  if (shape !== undefined) checkNumpySize(shape, dtype.itemsize);
  const spec: MapSpec = {
    filename: absoluteName(osPath),
    osPath,
    mode,
    dtype,
    shape,
    offset: normalizeOffset(o.offset),
    order: normalizeOrder(o.order),
    populate: Boolean(o.populate),
    refuseNpy: !o.allowNpy,
    partial: normalizePartial(o.partial),
  };
  return mapArray<CanonicalDType<OrFloat64<D>>>(spec);
}

/**
 * Internal: maps a file (mapFile()) and makes the array over it; memmap() and openNpy() end here. `header` gives a
 * format's header bytes for a new shape (resize() writes them at byte 0).
 */
export function mapArray<N extends DTypeName>(spec: MapSpec, header?: (shape: readonly number[]) => Buffer): MemmapArray<N> {
  const { storage, shape } = mapFile(spec);
  const remap: Remapper = {
    refresh: (current) => remapFile(spec, current, { refresh: true }),
    resize: (current, next, keepSize, release) => remapFile(spec, current, { shape: next, header: header?.(next), keepSize, release }),
  };
  return createArray<N>({ ...spec, remap }, shape, storage);
}

/**
 * Drops a file's pages from the page cache (fdatasync + posix_fadvise
 * DONTNEED), without root. Pages that are still mapped stay resident: close
 * arrays over the file first. Used for cold-cache benchmarks.
 * @throws ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE for a bad path; the errno name (ENOENT, …) when the OS refuses.
 */
export function evict(file: string | Buffer | URL): void {
  native.evictFile(normalizePath(file));
}

/** The machine's page size in bytes. */
export const pageSize: number = native.pageSize;
