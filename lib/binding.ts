// Loads the native addon (prebuilt binary or local build) and wires its errors
// to MemmapError.
import { constants as bufferConstants } from 'node:buffer';
import * as path from 'node:path';
import { nativeError } from './errors';

export interface NativeMapping {
  buffer(start: number, length: number): ArrayBuffer;
  flush(start?: number, length?: number): void;
  advise(advice: number): void;
  residency(): Uint8Array;
  close(): void;
  share(): number;
  sum(type: number, swap: boolean, offset: number, shape: number[], strides: number[]): number | bigint | [number, number];
  copy(type: number, swap: boolean, offset: number, shape: number[], strides: number[], dst: ArrayBufferView): void;
  gather(type: number, swap: boolean, coords: Float64Array[], shape: readonly number[], strides: number[], dst: ArrayBufferView): undefined | [kind: 'integer' | 'range', axis: number, position: number];
  readonly closed: boolean;
  readonly length: number;
}

export interface NativeBinding {
  init(makeError: typeof nativeError, maxBufferLength: number): void;
  openFile(path: string, mode: number): [fd: number, size: number];
  resizeFile(fd: number, size: number, path?: string): void;
  closeFile(fd: number): void;
  evictFile(path: string): void;
  Mapping: {
    new (fd: number, mode: number, offset: number, length: number, flags: number): NativeMapping;
    new (adopt: 'shared', id: number): NativeMapping;
  };
  readonly pageSize: number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;

/** Largest ArrayBuffer the running Node accepts (4 GiB on Node 20, 2^53-1 on 22+). */
export const maxBufferLength: number = bufferConstants.MAX_LENGTH;

export const native = load(path.join(__dirname, '..')) as NativeBinding;
native.init(nativeError, maxBufferLength);

export const MODE_CODES = { r: 0, 'r+': 1, 'w+': 2, c: 3 } as const;
export const ADVICE_CODES = { normal: 0, sequential: 1, random: 2, willneed: 3, dontneed: 4 } as const;
export const MAP_POPULATE = 1;
