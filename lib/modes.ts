// Mapping modes, access advice and map flags, with the codes the addon uses.
// src-native/mapping.h lists the same (MEMMAP_MODES, MEMMAP_ADVICE); the addon
// reports its codes at load and test/registry.test.js checks they match.
import { describe, MemmapTypeError } from './errors';

/** numpy's modes: 'r' read-only, 'r+' read-write, 'w+' create, 'c' copy-on-write. */
export const MODE_CODES = Object.freeze({ r: 0, 'r+': 1, 'w+': 2, c: 3 } as const);
export type Mode = keyof typeof MODE_CODES;
/** Modes as numpy spells them, long aliases included. */
export type ModeInput = Mode | 'readonly' | 'readwrite' | 'write' | 'copyonwrite';

/** advise() values (madvise). */
export const ADVICE_CODES = Object.freeze({ normal: 0, sequential: 1, random: 2, willneed: 3, dontneed: 4 } as const);
export type Advice = keyof typeof ADVICE_CODES;

/** The code of an advise() argument. @throws ERR_INVALID_ADVICE for anything else. */
export function adviceCode(advice: unknown): number {
  const code = typeof advice === 'string' && Object.hasOwn(ADVICE_CODES, advice) ? ADVICE_CODES[advice as Advice] : undefined;
  if (code === undefined) {
    throw new MemmapTypeError('ERR_INVALID_ADVICE', `advice must be one of ${Object.keys(ADVICE_CODES).join(', ')}, got ${describe(advice)}`);
  }
  return code;
}

/** Flags of a new mapping. */
export const MAP_FLAGS = Object.freeze({ populate: 1 } as const);
