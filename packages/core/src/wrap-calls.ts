// Wrapping a registry's calls from outside (telemetry, the decision feed): put the wrappers on the
// instance, hand back a function that takes them off again, and keep a wrapped stream's properties.

/**
 * Sets `methods` on `target` as own properties and returns the function that puts back what was
 * there: the previous own property, or none (the prototype's method shows again). A method that
 * someone replaced after us is left alone, so wrappers can be stacked and removed in any order.
 */
export function replaceMethods<T extends object>(target: T, methods: Partial<T>): () => void {
  const slots = target as Record<PropertyKey, unknown>;
  const saved = Object.keys(methods).map((key) => ({
    key,
    own: Object.hasOwn(target, key),
    previous: slots[key],
    replacement: (methods as Record<string, unknown>)[key],
  }));
  for (const { key, replacement } of saved) slots[key] = replacement;
  return () => {
    for (const { key, own, previous, replacement } of saved) {
      if (slots[key] !== replacement) continue;
      if (own) slots[key] = previous;
      else delete slots[key];
    }
  };
}

/** What a registry stream says besides its chunks (`RegistryStream` of @orchestrator-ts/registry). */
export interface StreamFacts {
  readonly selectionId: string | undefined;
  readonly explanation: unknown;
  readonly attempts: readonly unknown[];
  readonly cascade?: unknown;
  readonly warnings?: readonly string[];
}

/**
 * A stream over `inner`'s selection id, explanation, attempts, cascade record and warnings, read live from
 * it, whose chunks come from `iterate()`. Like a registry stream, it can be iterated once.
 */
export function rewrapStream<S extends StreamFacts & AsyncIterable<unknown>, C>(
  inner: S,
  iterate: () => AsyncIterator<C>,
): Omit<S, typeof Symbol.asyncIterator> & AsyncIterable<C> {
  let iterated = false;
  return {
    get selectionId() {
      return inner.selectionId;
    },
    get explanation() {
      return inner.explanation;
    },
    get attempts() {
      return inner.attempts;
    },
    get cascade() {
      return inner.cascade;
    },
    get warnings() {
      return inner.warnings;
    },
    [Symbol.asyncIterator]: () => {
      if (iterated) throw new TypeError("A registry stream can be iterated only once.");
      iterated = true;
      return iterate();
    },
  } as unknown as Omit<S, typeof Symbol.asyncIterator> & AsyncIterable<C>;
}
