import { AbortError, RateLimitError } from "./errors";
import { MAX_DELAY_MS } from "./deadlines";

/** A held slot; release it exactly once when the call ends. */
export interface Lease {
  release(): void;
}

/**
 * Enforces a model's `maxConcurrentRequests` and `maxRequestsPerMinute`. The default is local to
 * the process; `@orchestrator-ts/redis` provides one shared by every process.
 */
export interface RateLimiter {
  /** Synchronous and cheap: whether a call started now would have to wait. Selection reads it. */
  isSaturated(): boolean;
  /**
   * Whether a call started now would have to wait if `starting` more calls (chosen for this model,
   * not started yet) took their slots first. Optional: without it selection reads `isSaturated()`.
   */
  isSaturatedWith?(starting: number): boolean;
  /** Wait for a slot (FIFO), up to `timeoutMs`, then reject with `RateLimitError`. */
  acquire(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Lease>;
  /** Calls in flight now. */
  readonly inFlight: number;
}

interface Waiter {
  resolve: (lease: Lease) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  cleanup: () => void;
}

/** In-process limiter: a counting semaphore plus a sliding one-minute window of start times. */
export class LocalRateLimiter implements RateLimiter {
  readonly maxConcurrent: number;
  readonly maxPerMinute: number;
  #inFlight = 0;
  // Start times of the calls in the last minute, oldest first (a ring would do; minutes hold few).
  readonly #starts: number[] = [];
  readonly #queue: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #now: () => number;

  constructor(options: { maxConcurrentRequests?: number; maxRequestsPerMinute?: number; now?: () => number } = {}) {
    this.maxConcurrent = options.maxConcurrentRequests ?? Number.POSITIVE_INFINITY;
    this.maxPerMinute = options.maxRequestsPerMinute ?? Number.POSITIVE_INFINITY;
    this.#now = options.now ?? Date.now;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get unlimited(): boolean {
    return this.maxConcurrent === Number.POSITIVE_INFINITY && this.maxPerMinute === Number.POSITIVE_INFINITY;
  }

  #prune(now: number): void {
    const cutoff = now - 60_000;
    let i = 0;
    while (i < this.#starts.length && (this.#starts[i] as number) <= cutoff) i++;
    if (i > 0) this.#starts.splice(0, i);
  }

  isSaturated(): boolean {
    return this.isSaturatedWith(0);
  }

  isSaturatedWith(starting: number): boolean {
    if (this.#inFlight + starting >= this.maxConcurrent) return true;
    if (this.maxPerMinute === Number.POSITIVE_INFINITY) return false;
    this.#prune(this.#now());
    return this.#starts.length + starting >= this.maxPerMinute;
  }

  /** Take a slot now if one is free. */
  tryAcquire(): Lease | undefined {
    if (this.unlimited) {
      this.#inFlight++;
      return this.#lease();
    }
    if (this.#queue.length > 0 || this.isSaturated()) return undefined;
    this.#inFlight++;
    if (this.maxPerMinute !== Number.POSITIVE_INFINITY) this.#starts.push(this.#now());
    return this.#lease();
  }

  acquire(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Lease> {
    const { signal, timeoutMs = 30_000 } = options;
    if (signal?.aborted) return Promise.reject(new AbortError());
    const lease = this.tryAcquire();
    if (lease) return Promise.resolve(lease);
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: undefined,
        cleanup: () => {
          if (waiter.timer) clearTimeout(waiter.timer);
          signal?.removeEventListener("abort", onAbort);
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          // Nobody waits any more: the wake-up timer must not keep the process alive.
          if (this.#queue.length === 0 && this.#timer) {
            clearTimeout(this.#timer);
            this.#timer = undefined;
          }
        },
      };
      const onAbort = () => {
        waiter.cleanup();
        reject(new AbortError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // Past setTimeout's range Node would fire at once; such a wait is bounded by nothing but the slot.
      if (timeoutMs <= MAX_DELAY_MS) {
        waiter.timer = setTimeout(() => {
          waiter.cleanup();
          reject(
            new RateLimitError(`No free slot within ${timeoutMs} ms (limits: ${this.#describe()}).`, {
              retryAfterMs: this.#retryAfter(),
            }),
          );
        }, timeoutMs);
      }
      this.#queue.push(waiter);
      this.#schedule();
    });
  }

  #describe(): string {
    const parts: string[] = [];
    if (this.maxConcurrent !== Number.POSITIVE_INFINITY) parts.push(`${this.maxConcurrent} concurrent`);
    if (this.maxPerMinute !== Number.POSITIVE_INFINITY) parts.push(`${this.maxPerMinute} per minute`);
    return parts.join(", ");
  }

  #retryAfter(): number | undefined {
    if (this.#starts.length < this.maxPerMinute) return undefined;
    return Math.max(0, (this.#starts[0] as number) + 60_000 - this.#now());
  }

  #lease(): Lease {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight--;
        // Unlimited limiters never queue, so there is nothing to hand the slot to.
        if (this.#queue.length > 0) this.#drain();
      },
    };
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.isSaturated()) {
      const waiter = this.#queue.shift() as Waiter;
      waiter.cleanup();
      this.#inFlight++;
      if (this.maxPerMinute !== Number.POSITIVE_INFINITY) this.#starts.push(this.#now());
      waiter.resolve(this.#lease());
    }
    this.#schedule();
  }

  // When only the per-minute window blocks, wake up when its oldest start leaves the window. The
  // timer runs only while calls wait for it, so it keeps the process alive like their own I/O would.
  #schedule(): void {
    if (this.#timer || this.#queue.length === 0 || this.#inFlight >= this.maxConcurrent) return;
    const wait = this.#retryAfter();
    if (wait === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, wait + 1);
  }
}
