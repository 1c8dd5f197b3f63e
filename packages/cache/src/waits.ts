// How long a caller waits: a backend lookup bounded by a timeout, a joined flight by the caller's own signal.
import { AbortError, type ModelIdentity } from "@orchestrator-ts/core";
import { CacheBackendError } from "./errors";

// A call waits on this lookup, so its timer keeps the process alive (a backend stuck without I/O of
// its own would otherwise end a script silently); it is cleared as soon as the lookup settles.
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheBackendError(`The cache backend did not answer within ${ms} ms.`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
