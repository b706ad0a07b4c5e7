// The zstd, blosc and lz4 codecs run as WebAssembly: numcodecs.js's builds of
// the C libraries (the npm package `numcodecs`, zarrita's own codecs), loaded
// synchronously. Its public API is async and ESM-only while memmap decodes
// inside synchronous reads and ships CommonJS, so this module evaluates the
// package's emscripten factory and wasm bytes itself (docs/development.md says
// why, and what an upgrade of the pinned version must re-check).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as vm from 'node:vm';
import { MemmapError } from './errors';

/** The numcodecs versions whose dist files this loader knows. */
export const NUMCODECS_VERSIONS = ['0.3.2'];

export type WasmCodecName = 'zstd' | 'blosc' | 'lz4';

/** What numcodecs.js's C++ exports through embind: results stay in wasm memory until free_result(). */
interface EmscriptenCodec {
  compress(data: Uint8Array, ...args: (number | string)[]): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
  free_result(): void;
}

type Factory = (module: Record<string, unknown>) => unknown;

// The few WebAssembly calls used here (the TypeScript lib in use declares no WebAssembly namespace).
type WasmModule = object;
interface WasmInstance {
  exports: object;
}
const WA = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule; Instance: new (m: WasmModule, imports: object) => WasmInstance } }).WebAssembly;

const compiled = new Map<WasmCodecName, { factory: Factory; module: WasmModule }>();
const instances = new Map<WasmCodecName, EmscriptenCodec>();

function unavailable(name: string, why: string, cause?: unknown): MemmapError {
  return new MemmapError('ERR_UNSUPPORTED_CODEC', `codec ${JSON.stringify(name)} needs the numcodecs package (${NUMCODECS_VERSIONS.join(', ')}): ${why}`, cause === undefined ? {} : { cause });
}

/** numcodecs' dist directory: its `exports` name no CommonJS entry, so it is found along the require paths. */
function distDir(name: string): string {
  for (const p of require.resolve.paths('numcodecs') ?? []) {
    const pkg = nodePath.join(p, 'numcodecs', 'package.json');
    let version: unknown;
    try {
      version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version?: unknown }).version;
    } catch {
      continue;
    }
    if (typeof version !== 'string' || !NUMCODECS_VERSIONS.includes(version)) throw unavailable(name, `found version ${String(version)} at ${pkg}`);
    return nodePath.join(p, 'numcodecs', 'dist');
  }
  throw unavailable(name, 'it is not installed');
}

function compile(name: WasmCodecName): { factory: Factory; module: WasmModule } {
  const hit = compiled.get(name);
  if (hit !== undefined) return hit;
  const dir = distDir(name);
  let factory: Factory;
  let module: WasmModule;
  try {
    const strip = (s: string): string => s.replace(/^import\s*\{[^}]*\}\s*from\s*"[^"]*";?/gm, '').replace(/^export\s*\{[^}]*\};?/gm, '');
    const shared = fs.readdirSync(dir).filter((f) => /^chunk-[A-Z0-9]+\.js$/.test(f));
    const parts = [...shared.map((f) => strip(fs.readFileSync(nodePath.join(dir, f), 'utf8'))), strip(fs.readFileSync(nodePath.join(dir, `${name}.js`), 'utf8'))];
    // esbuild names the emscripten factory `<name>_codec_default` and the wasm bytes `<name>_codec_default2`.
    const body = `(function () {\n${parts.join('\n')}\nreturn [${name}_codec_default, ${name}_codec_default2];\n})`;
    const fn = vm.runInThisContext(body, { filename: nodePath.join(dir, `${name}.js`) }) as () => [Factory, Uint8Array];
    const [f, wasm] = fn();
    if (typeof f !== 'function' || !(wasm instanceof Uint8Array)) throw new TypeError('unexpected dist layout');
    factory = f;
    module = new WA.Module(wasm);
  } catch (err) {
    throw unavailable(name, `its ${name} module could not be loaded`, err);
  }
  const out = { factory, module };
  compiled.set(name, out);
  return out;
}

/** The codec's emscripten module, instantiated synchronously (once; again after a failure). */
export function wasmCodec(name: WasmCodecName): EmscriptenCodec {
  const hit = instances.get(name);
  if (hit !== undefined) return hit;
  const { factory, module } = compile(name);
  const m: Record<string, unknown> = {
    noInitialRun: true,
    // Synchronous instantiation: the factory's own path is async; with this hook its runtime starts before it returns.
    instantiateWasm(imports: object, done: (i: WasmInstance) => void): object {
      const inst = new WA.Instance(module, imports);
      done(inst);
      return inst.exports;
    },
    printErr: () => {},
  };
  (factory(m) as Promise<unknown>).catch(() => {}); // its promise settles later; failures surface below
  if (typeof m.decompress !== 'function' || typeof m.compress !== 'function' || typeof m.free_result !== 'function') {
    throw unavailable(name, 'its module did not start');
  }
  const codec = m as unknown as EmscriptenCodec;
  instances.set(name, codec);
  return codec;
}

/**
 * Runs `op` on the codec and copies its result out of wasm memory. Any failure drops the instance (an aborted
 * emscripten runtime is not reused) and becomes `fail(cause)`.
 */
export function wasmCall(name: WasmCodecName, op: (c: EmscriptenCodec) => Uint8Array, fail: (cause: unknown) => Error): Uint8Array {
  const c = wasmCodec(name);
  let out: Uint8Array;
  try {
    out = op(c).slice();
    c.free_result();
  } catch (err) {
    instances.delete(name);
    throw fail(err);
  }
  return out;
}

/** Largest chunk (input + output) the 32-bit wasm memory (2 GiB) is asked to hold. */
export const MAX_WASM_BYTES = 2 ** 30;
