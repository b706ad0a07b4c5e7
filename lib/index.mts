// ESM entry: re-exports the CommonJS build so both formats share one instance.
export * from './index.js';
