import type {
  GenerateRequest,
  ModelStreamResult,
  NormalizedRequirements,
  SelectionRequirements,
  StreamChunk,
} from "@orchestrator-ts/core";
import { TAKE, rewrapStream, takerOf, withFields } from "@orchestrator-ts/core/internal";
import { type CallLoop, type CallOptions, type CallOwner, CallState } from "./call-state";
import type { Entry } from "./eligibility";
import type { SelectionExplanation } from "./explanation";
import { abortableSleep } from "./sleep";
import type { AttemptRecord, RegistryStream, RegistryStreamChunk } from "./types";

// A stream that ended without a finish chunk of its own still ends with one (the cascade's streams too).
export const FINISH = Object.freeze({ type: "finish" as const });

export const NO_WARNINGS: readonly string[] = Object.freeze([]);

/** `#handle`'s answer for the model's finish chunk: kept for the run's own, and the next result read. */
const PULL_AGAIN: unique symbol = Symbol("pull again");

const RUN_DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
}) as IteratorReturnResult<undefined>;

/** What a stream that could not start says besides its error: nothing was selected or tried. */
const NOT_STARTED = Object.freeze({
  selectionId: undefined,
  explanation: undefined,
  attempts: Object.freeze([]) as readonly AttemptRecord[],
  cascade: undefined,
  warnings: NO_WARNINGS,
});

/**
 * A stream whose first `next()` rejects with `error` (a call that could not start), then is done.
 * Made like every other registry stream (`rewrapStream`), so both have the same shape.
 */
export function failedStream(error: unknown): RegistryStream {
  let failed = false;
  const iterator: AsyncIterator<RegistryStreamChunk> = {
    next: () => {
      if (failed) return Promise.resolve({ done: true, value: undefined });
      failed = true;
      return Promise.reject(error);
    },
    return: () => {
      failed = true;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return rewrapStream(NOT_STARTED, () => iterator) as unknown as RegistryStream;
}

export function registryStream(
  loop: CallLoop,
  request: GenerateRequest,
  requirements: NormalizedRequirements,
  raw: SelectionRequirements | undefined,
  options?: CallOptions,
): RegistryStream {
  const run = new StreamRun(loop, request, requirements, raw, options);
  // A plain model route has no cascade record (StreamRun has none: cascade reads undefined).
  return rewrapStream(run, () => run) as unknown as RegistryStream;
}

/**
 * One `registry.stream` call on the call loop (`CallState`): select, stream from the model, and
 * before the first chunk retry or fall back as `generate` does; after it, a failure rejects.
 * Hand-written rather than an `async function*` so that a chunk costs one `then` on the model's
 * stream instead of a generator's promise and microtasks per chunk; the rare steps (selection,
 * recovery) are async methods.
 */
class StreamRun implements AsyncIterableIterator<RegistryStreamChunk>, CallOwner {
  readonly #call: CallState;
  /** The current attempt's stream (kept after the run ends: its warnings stay readable). */
  #source: ModelStreamResult | undefined;
  #inner: AsyncIterator<StreamChunk> | undefined;
  #openError: { error: unknown } | undefined;
  /** What the model's stream threw in a `[TAKE]()`: the next `next()` recovers from it, as from a rejection. */
  #takeError: { error: unknown } | undefined;
  #state: "idle" | "open" | "closed" = "idle";
  /** Chunks of the current attempt that reached the caller. */
  #sent = 0;
  #finish: Extract<StreamChunk, { type: "finish" }> | undefined;
  // Made only when the run has to wait (backoff, capacity): return() aborts it to end the wait at once.
  #stop: AbortController | undefined;
  #unlinkStop: (() => void) | undefined;

  constructor(
    loop: CallLoop,
    request: GenerateRequest,
    requirements: NormalizedRequirements,
    raw: SelectionRequirements | undefined,
    options?: CallOptions,
  ) {
    this.#call = new CallState(loop, request, requirements, raw, this, options);
  }

  /** Set once the stream has begun (the first `next()`). */
  get selectionId(): string | undefined {
    return this.#state === "idle" ? undefined : this.#call.selectionId;
  }

  get explanation(): SelectionExplanation | undefined {
    return this.#call.explanation;
  }

  get attempts(): readonly AttemptRecord[] {
    return this.#call.attempts;
  }

  /** The current attempt's: once a chunk has come, the warnings of the model that answers. */
  get warnings(): readonly string[] {
    // A model built on an older core has no warnings on its stream.
    return (this.#source as Partial<ModelStreamResult> | undefined)?.warnings ?? NO_WARNINGS;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RegistryStreamChunk> {
    return this;
  }

  /** The caller left (`return()`) or the run ended. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /** What a wait of this run listens to: aborted by the request's signal and by `return()`. */
  waitSignal(): AbortSignal {
    if (this.#stop === undefined) {
      const stop = new AbortController();
      this.#stop = stop;
      const outer = this.#call.request.signal;
      if (outer?.aborted) stop.abort(outer.reason);
      else if (outer) {
        const onAbort = () => stop.abort(outer.reason);
        outer.addEventListener("abort", onAbort, { once: true });
        this.#unlinkStop = () => outer.removeEventListener("abort", onAbort);
      }
    }
    return this.#stop.signal;
  }

  next(): Promise<IteratorResult<RegistryStreamChunk>> {
    if (this.#state === "closed") return Promise.resolve(RUN_DONE);
    if (this.#state === "idle") {
      this.#state = "open";
      this.#call.announce(true);
      return this.#select().then(this.#pull, this.#fail);
    }
    return this.#pull();
  }

  return(): Promise<IteratorResult<RegistryStreamChunk>> {
    const wasOpen = this.#state === "open";
    const inner = this.#inner;
    this.#end();
    // A wait for a retry or for capacity ends now; the pending next() then resolves done.
    this.#stop?.abort();
    if (!wasOpen || !inner?.return) return Promise.resolve(RUN_DONE);
    // The caller stopped early: stop the model's stream (and its provider's) too.
    let stopped: unknown;
    try {
      stopped = inner.return();
    } catch {
      // Nothing more to stop.
    }
    return Promise.resolve(stopped).then(
      () => RUN_DONE,
      () => RUN_DONE,
    );
  }

  /** Select the model for the next attempts (after a fallback, the next one) and start its first attempt. */
  async #select(): Promise<void> {
    const entry = await this.#call.select();
    if (entry !== undefined) this.#startAttempt(entry);
  }

  /** A new attempt on `entry`. A model whose stream() throws fails at the first next(), as a failed call. */
  #startAttempt(entry: Entry): void {
    this.#call.beginAttempt();
    this.#sent = 0;
    this.#finish = undefined;
    this.#inner = undefined;
    this.#source = undefined;
    this.#openError = undefined;
    try {
      const source = entry.model.stream(this.#call.callRequest);
      this.#source = source;
      this.#inner = source[Symbol.asyncIterator]();
    } catch (error) {
      this.#openError = { error };
    }
  }

  /** An attempt failed: the call loop decides; a retry waits its backoff (which `return()` cuts short). */
  async #recoverFrom(thrown: unknown): Promise<void> {
    const call = this.#call;
    const next = call.afterFailure(thrown, this.#sent > 0);
    if (next === "throw") throw call.lastError;
    if (next === "retry") {
      await abortableSleep(call.delayMs, this.waitSignal());
      if (this.closed) return;
      this.#startAttempt(call.entry as Entry);
      return;
    }
    await this.#select();
  }

  /** The run is over: nothing of it stays in flight, nothing listens to the caller's signal. */
  #end(): void {
    this.#state = "closed";
    this.#inner = undefined;
    this.#call.release();
    this.#unlinkStop?.();
    this.#unlinkStop = undefined;
  }

  readonly #pull = (): Promise<IteratorResult<RegistryStreamChunk>> => {
    if (this.#state === "closed") return Promise.resolve(RUN_DONE);
    const taken = this.#takeError;
    if (taken !== undefined) {
      this.#takeError = undefined;
      return this.#recover(taken.error);
    }
    const inner = this.#inner;
    let next: Promise<IteratorResult<StreamChunk>>;
    try {
      if (inner === undefined) throw (this.#openError as { error: unknown }).error;
      next = inner.next();
    } catch (error) {
      return this.#recover(error);
    }
    return next.then(this.#onNext, this.#recover);
  };

  readonly #onNext = (
    next: IteratorResult<StreamChunk>,
  ): Promise<IteratorResult<RegistryStreamChunk>> | IteratorResult<RegistryStreamChunk> => {
    const result = this.#handle(next);
    return result === PULL_AGAIN ? this.#pull() : result;
  };

  /**
   * The next chunk when the model's stream has it without waiting (see core's `TAKE`); `undefined`
   * when `next()` must wait for it, or must recover from what the model's stream threw.
   */
  [TAKE](): IteratorResult<RegistryStreamChunk> | undefined {
    const inner = this.#inner;
    if (this.#state !== "open" || inner === undefined || this.#takeError !== undefined) return undefined;
    const take = takerOf<StreamChunk>(inner);
    if (take === undefined) return undefined;
    for (;;) {
      let next: IteratorResult<StreamChunk> | undefined;
      try {
        next = take.call(inner);
      } catch (error) {
        this.#takeError = { error };
        return undefined;
      }
      if (next === undefined) return undefined;
      const result = this.#handle(next);
      if (result !== PULL_AGAIN) return result;
    }
  }

  #handle(next: IteratorResult<StreamChunk>): IteratorResult<RegistryStreamChunk> | typeof PULL_AGAIN {
    if (this.#state === "closed") return RUN_DONE;
    if (next.done) {
      try {
        return { done: false, value: this.#complete() };
      } finally {
        this.#end();
      }
    }
    const chunk = next.value;
    if (chunk.type === "finish") {
      this.#finish = chunk;
      return PULL_AGAIN;
    }
    this.#sent++;
    return next;
  }

  /** The model's stream ended: record the outcome; the registry's finish chunk says which selection it was. */
  #complete(): RegistryStreamChunk {
    const call = this.#call;
    const finish = this.#finish;
    const latencyMs = finish?.latencyMs ?? performance.now() - call.startedAt;
    call.succeeded(latencyMs, finish?.costUsd, finish?.cached === true);
    return withFields(finish ?? FINISH, { selectionId: call.selectionId, attempts: call.attempts });
  }

  readonly #recover = (thrown: unknown): Promise<IteratorResult<RegistryStreamChunk>> => {
    this.#inner = undefined;
    // The caller already left (return()): nothing is waiting for this attempt's outcome.
    if (this.#state === "closed") return Promise.resolve(RUN_DONE);
    return this.#recoverFrom(thrown).then(this.#pull, this.#fail);
  };

  readonly #fail = (error: unknown): IteratorResult<RegistryStreamChunk> => {
    // The caller already left (return()): the wait it cut short is not an error to report.
    if (this.#state === "closed") return RUN_DONE;
    this.#end();
    throw error;
  };
}
