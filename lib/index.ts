import { guarded } from './boundary';
import { evict as evict_, fromShared as fromShared_, memmap as memmap_ } from './memmap';
import { openNpy as openNpy_, readNpyHeader as readNpyHeader_ } from './npy';
import { parseDType as parseDType_ } from './dtype';

// The factories keep the error contract: anything thrown is a MemmapError.
export const memmap: typeof memmap_ = guarded(memmap_);
export const fromShared: typeof fromShared_ = guarded(fromShared_);
export const evict: typeof evict_ = guarded(evict_);
export const openNpy: typeof openNpy_ = guarded(openNpy_);
export const readNpyHeader: typeof readNpyHeader_ = guarded(readNpyHeader_);
export const parseDType: typeof parseDType_ = guarded(parseDType_);
export { pageSize, hasFloat16Array, MemmapArray } from './memmap';
export type { MemmapOptions, Mode, ModeInput, Advice, Residency, Segment, SharedMemmap, SumTypes } from './memmap';
export type { NpyHeader, NpyVersion, OpenNpyOptions, ReadNpyHeaderOptions } from './npy';
export type { DType, DTypeName, DTypeString, CanonicalDType, DataTypes, ValueTypes, InputTypes, Complex } from './dtype';
export type { Order, IndexItem, Slice } from './layout';
export { MemmapError, MemmapTypeError, MemmapRangeError } from './errors';
export { maxBufferLength } from './binding';
