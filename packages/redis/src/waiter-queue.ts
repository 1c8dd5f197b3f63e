import { AbortError } from "@orchestrator-ts/core";

/** One queued acquire (or charge) of a leasing part: settled once, by a serve, its timeout, an abort or close. */
export interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  /** Leaves the queue and stops its timer and abort listener. */
  cleanup: () => void;
  /** Whether it may wait for room (it has a timeout). */
  readonly hasTimeout: boolean;
}

/**
 * The FIFO of callers waiting for what a process leases from Redis (`RedisRateLimiter`'s slots
 * and starts, `RedisBudget`'s amounts), served in order by the part's pump; and the pump's nap
 * between two asks, which a release here cuts short.
 */
export class WaiterQueue<T, W extends Waiter<T>> {
  readonly items: W[] = [];
  #wake: (() => void) | undefined;

  get length(): number {
    return this.items.length;
  }

  get head(): W | undefined {
    return this.items[0];
  }

  /**
   * Queues a waiter built from `fields`; `onTimeout` (after `timeoutMs`, when given) says what
   * it rejects with, once it has left the queue.
   */
  wait(
    fields: Omit<W, keyof Waiter<T>>,
    options: { signal?: AbortSignal; timeoutMs: number | undefined; onTimeout: (waiter: W) => unknown },
  ): Promise<T> {
    const { signal, timeoutMs, onTimeout } = options;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        waiter.cleanup();
        reject(new AbortError());
      };
      const waiter = {
        ...fields,
        resolve,
        reject,
        hasTimeout: timeoutMs !== undefined,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          const i = this.items.indexOf(waiter);
          if (i >= 0) this.items.splice(i, 1);
        },
      } as W;
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          waiter.cleanup();
          reject(onTimeout(waiter));
        }, timeoutMs);
      }
      this.items.push(waiter);
    });
  }

  /** Settles waiters from the head while `take` gives each something (`undefined`: stop). */
  serve(take: (head: W) => { value: T } | undefined): void {
    while (this.items.length > 0) {
      const head = this.items[0] as W;
      const got = take(head);
      if (!got) return;
      head.cleanup();
      head.resolve(got.value);
    }
  }

  /** Rejects every waiter (close). */
  rejectAll(error: () => unknown): void {
    for (const w of [...this.items]) {
      w.cleanup();
      w.reject(error());
    }
  }

  /** Until `waitMs` (jittered ±25%, at least `minMs`) pass or `wake()` is called. */
  nap(waitMs: number, minMs = 0): Promise<void> {
    const ms = Math.max(minMs, waitMs) * (0.75 + Math.random() * 0.5);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).then(() => {
      this.#wake = undefined;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}
