// ESM entry: re-exports the CommonJS build so both formats share one instance.
// The values are named one by one: `export * from './index.js'` would also
// re-export the `__esModule` marker that tsc's CommonJS output carries (Node
// lists every name its CommonJS lexer finds). test/esm.test.mjs checks that this
// list and require('memmap') agree, so a new export in index.ts fails the suite
// until it is added here.
export {
  memmap,
  fromShared,
  evict,
  openNpy,
  readNpyHeader,
  parseDType,
  openZarr,
  listZarr,
  createZarr,
  ZarrArray,
  pageSize,
  hasFloat16Array,
  MemmapArray,
  MemmapError,
  MemmapTypeError,
  MemmapRangeError,
  maxBufferLength,
} from './index.js';
// Every type (and the classes' instance types) without a second list.
export type * from './index.js';
import { memmap } from './index.js';
// `import memmap, { openNpy } from 'memmap'`: the default export is memmap().
export default memmap;
