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
export function rewrapStream<S extends StreamFacts, C>(
  inner: S,
  iterate: () => AsyncIterator<C>,
): Omit<S, typeof Symbol.asyncIterator> & AsyncIterable<C> {
  return new RewrappedStream(inner, iterate) as unknown as Omit<S, typeof Symbol.asyncIterator> & AsyncIterable<C>;
}

/** `RewrappedStream`'s own state. Symbol-keyed rather than `#private`: a getter called through a
 * `Proxy` of the stream, or with the stream as a prototype, still finds it (private fields throw there). */
const INNER: unique symbol = Symbol("rewrapStream.inner");
const ITERATE: unique symbol = Symbol("rewrapStream.iterate");

/**
 * `rewrapStream`'s stream. A class, its getters on the prototype: an object literal with getters
 * gets its getters as new closures, held through V8 accessor pairs that are made in the old
 * generation, so every minor GC kept each stream's whole graph (the closures reach `inner`) alive
 * until a full GC. Through `registry.stream` over the OpenAI provider and a loopback server, one
 * process, one stream at a time: ~10.6 KB moved into the old generation per 40-chunk stream with the
 * literal, ~2.2 KB with the class (the provider's own stream alone: ~1.8 KB).
 */
class RewrappedStream<C> implements AsyncIterable<C> {
  readonly [INNER]: StreamFacts;
  [ITERATE]: (() => AsyncIterator<C>) | undefined;

  constructor(inner: StreamFacts, iterate: () => AsyncIterator<C>) {
    this[INNER] = inner;
    this[ITERATE] = iterate;
  }

  get selectionId(): string | undefined {
    return this[INNER].selectionId;
  }

  get explanation(): unknown {
    return this[INNER].explanation;
  }

  get attempts(): readonly unknown[] {
    return this[INNER].attempts;
  }

  get cascade(): unknown {
    return this[INNER].cascade;
  }

  get warnings(): readonly string[] | undefined {
    return this[INNER].warnings;
  }

  [Symbol.asyncIterator](): AsyncIterator<C> {
    const iterate = this[ITERATE];
    if (iterate === undefined) throw new TypeError("A registry stream can be iterated only once.");
    this[ITERATE] = undefined;
    return iterate();
  }
}
