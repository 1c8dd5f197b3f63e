// How long a caller waits: a backend lookup bounded by a timeout, a joined flight by the caller's own signal.
import { AbortError, type ModelIdentity } from "@orchestrator-ts/core";
import { Deadlines } from "@orchestrator-ts/core/internal";
import { CacheBackendError } from "./errors";

// Every bounded lookup's deadline, on one timer: a setTimeout/clearTimeout pair per lookup (and, for
// lookups one after another, Node's timer list created and destroyed each time) cost ~0.4 µs a hit.
const LOOKUPS = new Deadlines();

// A call waits on this lookup, so its deadline keeps the process alive (a backend stuck without I/O
// of its own would otherwise end a script silently); it is removed as soon as the lookup settles.
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = LOOKUPS.add(ms, () =>
      reject(new CacheBackendError(`The cache backend did not answer within ${ms} ms.`)),
    );
    promise.then(
      (value) => {
        LOOKUPS.remove(deadline);
        resolve(value);
      },
      (error: unknown) => {
        LOOKUPS.remove(deadline);
        reject(error);
      },
    );
  });
}

export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, model: ModelIdentity): Promise<T> {
  if (!signal) return promise;
  const context = { provider: model.provider, model: model.name };
  if (signal.aborted) return Promise.reject(new AbortError(undefined, context));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(undefined, context));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
