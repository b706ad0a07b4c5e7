// The public API's error contract: whatever a call runs into, what leaves it
// is a MemmapError with a code. memmap's own errors already are; anything else
// was raised by JavaScript the call ran on the caller's behalf (a getter, a
// Proxy trap, a patched built-in) and is wrapped, the original as `cause`.
import { MemmapError, MemmapTypeError } from './errors';

export function asMemmapError(err: unknown, foreignReceiver = false): MemmapError {
  let ours = false;
  try {
    ours = err instanceof MemmapError;
  } catch {
    // a Proxy whose traps throw: not ours
  }
  if (ours) return err as MemmapError;
  // A method called on what is not an instance (MemmapArray.prototype.sum.call({})) fails on its private fields.
  if (foreignReceiver) return new MemmapTypeError('ERR_INVALID_ARG_TYPE', 'called on an object that is not a MemmapArray (this)', { cause: err });
  return new MemmapError('ERR_CALLBACK', 'JavaScript run during the call (a getter, a Proxy trap or a patched built-in) threw; the original is err.cause', { cause: err });
}

/** Whether a receiver is one of the class's instances (guardPrototype's `isInstance`); undefined: not checked. */
type InstanceCheck = ((x: unknown) => boolean) | undefined;
const foreign = (isInstance: InstanceCheck, self: unknown): boolean => isInstance !== undefined && !isInstance(self);

/** `fn` with the contract applied. */
export function guarded<F extends (this: never, ...args: never[]) => unknown>(fn: F, isInstance?: InstanceCheck): F {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    try {
      return Reflect.apply(fn, this, args);
    } catch (err) {
      throw asMemmapError(err, foreign(isInstance, this));
    }
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  return wrapped as unknown as F;
}

const promiseThen = Promise.prototype.then;
const promiseReject = Promise.reject.bind(Promise);

/**
 * `fn`, which returns a Promise, with the contract applied: it never throws;
 * every rejection (a synchronous throw included) is a MemmapError.
 */
export function guardedAsync<F extends (this: never, ...args: never[]) => Promise<unknown>>(fn: F, isInstance?: InstanceCheck): F {
  const wrapped = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const alien = foreign(isInstance, this);
    let p: Promise<unknown>;
    try {
      p = Reflect.apply(fn, this, args) as Promise<unknown>;
    } catch (err) {
      return promiseReject(asMemmapError(err, alien));
    }
    return Reflect.apply(promiseThen, p, [
      undefined,
      (err: unknown) => {
        throw asMemmapError(err, alien);
      },
    ]) as Promise<unknown>;
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  return wrapped as unknown as F;
}

/** Methods that return a Promise: their names end in Async, and prefetch. */
const isAsyncName = (key: string | symbol): boolean => typeof key === 'string' && (key.endsWith('Async') || key === 'prefetch');

/**
 * Applies the contract to every method and getter of a class prototype, but
 * `skip` (hot paths that carry their own try/catch). Generator methods get
 * their iterator's next()/return()/throw() wrapped too.
 */
export function guardPrototype(proto: object, skip: readonly string[], isInstance?: InstanceCheck): void {
  for (const key of Reflect.ownKeys(proto)) {
    if (key === 'constructor' || (typeof key === 'string' && skip.includes(key))) continue;
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (d === undefined) continue;
    if (typeof d.value === 'function') {
      const fn = d.value as (...args: unknown[]) => unknown;
      const isGenerator = Object.prototype.toString.call(fn) === '[object GeneratorFunction]';
      d.value = isGenerator ? guardGenerator(fn) : isAsyncName(key) ? guardedAsync(fn as () => Promise<unknown>, isInstance) : guarded(fn, isInstance);
    }
    if (typeof d.get === 'function') d.get = guarded(d.get, isInstance);
    Object.defineProperty(proto, key, d);
  }
}

function guardGenerator(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const it = Reflect.apply(fn, this, args) as Generator;
    const step = (method: 'next' | 'return' | 'throw', value?: unknown): IteratorResult<unknown> => {
      try {
        return it[method](value as never);
      } catch (err) {
        throw asMemmapError(err);
      }
    };
    return {
      next: (v?: unknown) => step('next', v),
      return: (v?: unknown) => step('return', v),
      throw: (e?: unknown) => step('throw', e),
      [Symbol.iterator]() {
        return this;
      },
    };
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}
