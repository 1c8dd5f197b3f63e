// Test helpers. @orchestrator-ts/testing has its own, but it depends on this package: importing it here would make a cycle.

/** What `promise` rejects with; rejects itself (failing the test) when `promise` resolves instead. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => Promise.reject(new Error(`expected a rejection, got ${String(value)}`)),
    (error: unknown) => error,
  );
}

/** Every value of an async iterable, in order. */
export async function collectAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}
