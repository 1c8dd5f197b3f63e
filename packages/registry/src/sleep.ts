import { AbortError } from "@orchestrator-ts/core";

/**
 * Wait `ms`; rejects with `AbortError` as soon as `signal` aborts. Only a pending call waits here
 * (a backoff before a retry, a wait for capacity), so the timer keeps the process alive: unref'd,
 * a script whose one call is waiting to retry would exit with no answer and no error.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
