// Exact type equality (not mere assignability): Equal<A, B> is `true` only when
// A and B are the same type.
export type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
export function expectType<T extends true>(_ok: T): void {}
