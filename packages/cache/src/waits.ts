// How long a caller waits: a backend lookup bounded by a timeout, a joined flight by the caller's own signal.
import { AbortError, type GenerateRequest, type ModelIdentity, TimeoutError } from "@orchestrator-ts/core";
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

/**
 * `promise`, or the caller's own end: its signal's abort, or its `timeoutMs` (from `start`) passing —
 * a caller that joined another's call waits no longer than it would for a call of its own.
 */
export function raceCaller<T>(
  promise: Promise<T>,
  request: Pick<GenerateRequest, "signal" | "timeoutMs">,
  model: ModelIdentity,
  start: number,
): Promise<T> {
  const { signal, timeoutMs } = request;
  if (!signal && timeoutMs === undefined) return promise;
  const context = { provider: model.provider, model: model.name };
  if (signal?.aborted) return Promise.reject(new AbortError(undefined, context));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (deadline !== undefined) LOOKUPS.remove(deadline);
      reject(new AbortError(undefined, context));
    };
    const deadline =
      timeoutMs === undefined
        ? undefined
        : LOOKUPS.add(Math.max(0, timeoutMs - (performance.now() - start)), () => {
            signal?.removeEventListener("abort", onAbort);
            reject(
              new TimeoutError(`The call to ${model.name} took longer than ${timeoutMs} ms.`, {
                ...context,
                timeoutMs,
              }),
            );
          });
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      signal?.removeEventListener("abort", onAbort);
      if (deadline !== undefined) LOOKUPS.remove(deadline);
    };
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
  });
}
