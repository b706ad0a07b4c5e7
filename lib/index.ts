import { guarded } from './boundary';
import { evict as evict_, memmap as memmap_ } from './memmap';
import { fromShared as fromShared_ } from './share';
import { openNpy as openNpy_, readNpyHeader as readNpyHeader_ } from './npy';
import { parseDType as parseDType_ } from './dtype';
import { createZarr as createZarr_, listZarr as listZarr_, openZarr as openZarr_ } from './zarr';

// The factories keep the error contract: anything thrown is a MemmapError.
export const memmap: typeof memmap_ = guarded(memmap_);
export const fromShared: typeof fromShared_ = guarded(fromShared_);
export const evict: typeof evict_ = guarded(evict_);
export const openNpy: typeof openNpy_ = guarded(openNpy_);
export const readNpyHeader: typeof readNpyHeader_ = guarded(readNpyHeader_);
export const parseDType: typeof parseDType_ = guarded(parseDType_);
export const openZarr: typeof openZarr_ = guarded(openZarr_);
export const listZarr: typeof listZarr_ = guarded(listZarr_);
export const createZarr: typeof createZarr_ = guarded(createZarr_);
export { ZarrArray } from './zarr';
export type { OpenZarrOptions, ZarrNodeInfo, ZarrResidency } from './zarr';
export type { CreateZarrOptions, ZarrCompressor } from './zarr-write';
export { pageSize } from './memmap';
export { hasFloat16Array } from './dtype';
export { MemmapArray } from './array';
export type { MemmapOptions } from './memmap';
export type { MemmapJSON, MeanTypes, Reduced, ReduceArgs, Segment, SumTypes } from './array';
export type { AccumulateOptions, AsyncOptions, ReduceOptions, VarianceOptions } from './reduce';
export type { SharedMemmap } from './share';
export type { Mode, ModeInput, Advice } from './modes';
export type { Residency } from './storage-mapped';
export type { NpyHeader, NpyVersion, OpenNpyOptions, ReadNpyHeaderOptions } from './npy';
export type { DType, DTypeName, DTypeString, CanonicalDType, DataTypes, ValueTypes, InputTypes, Complex } from './dtype';
export type { Order, IndexItem, Slice } from './layout';
export { MemmapError, MemmapTypeError, MemmapRangeError } from './errors';
export type { MemmapErrorCode } from './errors';
export { maxBufferLength } from './binding';
// `import memmap from 'memmap'` (ESM, and TypeScript's CommonJS interop through
// exports.default): the default export is the memmap() factory itself.
export default memmap;
