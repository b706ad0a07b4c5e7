export { memmap, fromShared, evict, pageSize, hasFloat16Array, MemmapArray } from './memmap';
export type { MemmapOptions, Mode, ModeInput, Advice, Residency, Segment, SharedMemmap, SumTypes } from './memmap';
export { openNpy, readNpyHeader } from './npy';
export type { NpyHeader, NpyVersion, OpenNpyOptions, ReadNpyHeaderOptions } from './npy';
export { parseDType } from './dtype';
export type { DType, DTypeName, DTypeString, CanonicalDType, DataTypes, ValueTypes, InputTypes, Complex } from './dtype';
export type { Order, IndexItem, Slice } from './layout';
export { MemmapError, MemmapTypeError, MemmapRangeError } from './errors';
export { maxBufferLength } from './binding';
