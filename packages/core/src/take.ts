/**
 * Between this repository's own stream layers (the SSE reader, `providerStream`, the model's
 * stream, the registry's stream, the server): the next result when it is already known, without
 * waiting. A network read often holds many events; handing them on through a promise per layer
 * per event cost more than parsing them. `[TAKE]()` returns what `next()` would resolve to, when
 * that needs no waiting, and `undefined` when the caller must call `next()` (which then does
 * whatever is left: reading, recovering, failing). A throw is what a rejected `next()` would
 * have been, with the same state after it. Call it only while no `next()` is pending.
 *
 * A registered symbol (`Symbol.for`), so layers built against different copies of core agree.
 */
export const TAKE: unique symbol = Symbol.for("orchestrator-ts.stream.take") as never;

/** An iterator that may hand on its next result at once: see `TAKE`. */
export interface Takeable<T> {
  [TAKE](): IteratorResult<T> | undefined;
}

/** `iterator[TAKE]` when the iterator has one. */
export function takerOf<T>(iterator: object): (() => IteratorResult<T> | undefined) | undefined {
  const take = (iterator as Partial<Takeable<T>>)[TAKE];
  return typeof take === "function" ? take : undefined;
}
