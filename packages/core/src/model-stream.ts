import { AbortError, type OrchestratorError } from "./errors";
import { checkedUsage, countOrUndefined } from "./counts";
import { CallScope, type CallControl, type ProviderSignal, type ScopedModel, type StreamReport } from "./call-scope";
import type { Cache, ModelIdentity } from "./interfaces";
import type { Lease } from "./limits";
import type { ModelMetrics } from "./metrics";
import { DRIVE, type StreamDriver, isDrivable } from "./provider-stream";
import { TAKE, takerOf } from "./take";
import type { FinishReason, GenerateRequest, ModelStreamResult, StreamChunk, Usage } from "./types";

/** The finish reasons a call reports when its provider gave none. */
export const STOP: FinishReason = Object.freeze({ unified: "stop" }) as FinishReason;
export const TOOL_CALLS: FinishReason = Object.freeze({ unified: "tool-calls" }) as FinishReason;

/** What a stream needs of its model's public side: who it is, its metrics, its prices. */
export interface StreamedModel extends ScopedModel {
  readonly metrics: ModelMetrics;
  costOf(usage: Usage): number | undefined;
}

/** What a stream needs of its model's private bookkeeping (one object per model, not per call). */
export interface StreamHooks {
  init(): Promise<void> | undefined;
  acquire(request: GenerateRequest): Lease | Promise<Lease>;
  source(request: GenerateRequest, control: CallControl | undefined, report: StreamReport): AsyncIterable<StreamChunk>;
  fail(error: unknown, call: CallScope | undefined, startedAt: number): OrchestratorError;
  honoursAbortSignal(): boolean;
  /** The signal the provider's request carries: anything but `"per-call"` means it stops its calls itself (it gets the control). */
  providerSignal(): ProviderSignal;
}

const STREAM_DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
}) as IteratorReturnResult<undefined>;

const NO_WARNINGS: readonly string[] = Object.freeze([]);

/** `#handle`'s answer for a provider result that is kept (a finish chunk) or skipped (an empty one). */
const PULL_AGAIN: unique symbol = Symbol("pull again");

/**
 * `model.stream(request)`: starts on the first `next()` (initialise, acquire a lease, open the
 * provider's stream under a deadline), passes text and tool-call chunks through, keeps usage and
 * finish reason from the provider's finish chunk, records metrics and ends with its own finish
 * chunk. Failures are mapped and recorded once; leaving early stops the provider's stream.
 *
 * Hand-written rather than an `async function*`: a chunk costs one `then` on the provider's
 * `next()` instead of a generator's promise and microtasks per chunk.
 */
export class ModelStream implements AsyncIterableIterator<StreamChunk>, ModelStreamResult {
  readonly #model: StreamedModel;
  readonly #request: GenerateRequest;
  readonly #hooks: StreamHooks;
  #state: "idle" | "open" | "closed" = "idle";
  #startedAt = 0;
  #call: CallScope | undefined;
  #lease: Lease | undefined;
  #iterator: AsyncIterator<StreamChunk> | undefined;
  #honours = false;
  #driven = false;
  // Set once the provider's stream has ended or failed: leaving early then has nothing to stop.
  #finished = false;
  #firstAt: number | undefined;
  #usage: Usage | undefined;
  #finishReason: FinishReason | undefined;
  #responseId: string | undefined;
  #providerCost: number | undefined;
  #sawToolCall = false;
  // The call's warnings, kept when the call is disposed (while it runs, they are the call's).
  #warnings: string[] | undefined;
  #error: OrchestratorError | undefined;
  // One next() at a time, as an async generator would queue them.
  #busy = false;
  #waiting: (() => void)[] | undefined;

  constructor(model: StreamedModel, request: GenerateRequest, hooks: StreamHooks) {
    this.#model = model;
    this.#request = request;
    this.#hooks = hooks;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamChunk> {
    return this;
  }

  /** What the provider reported: by the first chunk, those of its request's mapping; at the finish chunk, all. */
  get warnings(): readonly string[] {
    return this.#call?.warnings ?? this.#warnings ?? NO_WARNINGS;
  }

  next(): Promise<IteratorResult<StreamChunk>> {
    if (this.#busy) return this.#queue(() => this.next());
    if (this.#state === "closed") return this.#done();
    this.#busy = true;
    if (this.#state === "idle") {
      this.#state = "open";
      return this.#start();
    }
    return this.#pull();
  }

  return(): Promise<IteratorResult<StreamChunk>> {
    if (this.#busy) return this.#queue(() => this.return());
    if (this.#state === "closed") return this.#done();
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    const iterator = this.#iterator;
    if (!wasOpen || this.#finished || !iterator?.return) {
      this.#dispose();
      return this.#done();
    }
    // The consumer stopped early: tell the provider's stream to stop too.
    this.#busy = true;
    let stopped: unknown;
    try {
      stopped = iterator.return();
    } catch {
      // A provider that fails to stop is not the consumer's problem.
    }
    const done = (): IteratorResult<StreamChunk> => {
      this.#dispose();
      this.#settled();
      return STREAM_DONE;
    };
    return Promise.resolve(stopped).then(done, done);
  }

  throw(error?: unknown): Promise<IteratorResult<StreamChunk>> {
    return this.return().then(() => Promise.reject(error));
  }

  // Synchronous up to the provider's first next() when the model is initialised and a slot is free.
  #start(): Promise<IteratorResult<StreamChunk>> {
    const model = this.#model;
    const request = this.#request;
    if (request.signal?.aborted) {
      this.#state = "closed";
      this.#settled();
      return Promise.reject(new AbortError(undefined, { provider: model.provider, model: model.name }));
    }
    this.#startedAt = performance.now();
    let init: Promise<void> | undefined;
    let acquired: Lease | Promise<Lease> | undefined;
    try {
      init = this.#hooks.init();
      if (init === undefined) {
        acquired = this.#hooks.acquire(request);
        if (!(acquired instanceof Promise)) {
          this.#lease = acquired;
          this.#open();
          return this.#pull();
        }
      }
    } catch (error) {
      return Promise.reject(this.#failed(error));
    }
    return this.#startLater(init, acquired);
  }

  async #startLater(
    init: Promise<void> | undefined,
    acquired: Lease | Promise<Lease> | undefined,
  ): Promise<IteratorResult<StreamChunk>> {
    try {
      if (init) {
        await init;
        acquired = this.#hooks.acquire(this.#request);
      }
      this.#lease = acquired instanceof Promise ? await acquired : acquired;
      this.#open();
    } catch (error) {
      throw this.#failed(error);
    }
    return this.#pull();
  }

  #open(): void {
    const signal = this.#hooks.providerSignal();
    const call = new CallScope(this.#model, this.#request, signal);
    this.#call = call;
    this.#honours = this.#hooks.honoursAbortSignal();
    const iterator = this.#hooks
      .source(call.request, signal === "per-call" ? undefined : call, call)
      [Symbol.asyncIterator]();
    this.#iterator = iterator;
    // A providerStream() under a signal-honouring provider: its then runs our handler too (one promise per chunk).
    if (this.#honours && isDrivable(iterator)) {
      iterator[DRIVE](this.#onNext as StreamDriver, this.#onError);
      this.#driven = true;
    }
  }

  #pull(): Promise<IteratorResult<StreamChunk>> {
    // Read first: a driven provider may finish the stream (and dispose the call) inside next().
    const call = this.#call as CallScope;
    let next: Promise<IteratorResult<StreamChunk>>;
    try {
      next = (this.#iterator as AsyncIterator<StreamChunk>).next();
    } catch (error) {
      return Promise.reject(this.#failed(error));
    }
    if (this.#driven)
      return call.stoppable || this.#state === "closed" ? next : call.race(next).then(undefined, this.#onError);
    return (this.#honours && call.stoppable ? next : call.race(next)).then(this.#onNext, this.#onError);
  }

  readonly #onNext = (
    next: IteratorResult<StreamChunk>,
  ): Promise<IteratorResult<StreamChunk>> | IteratorResult<StreamChunk> => {
    const result = this.#handle(next);
    return result === PULL_AGAIN ? this.#pull() : result;
  };

  /**
   * The next chunk when the provider's stream has it without waiting (see `TAKE`): what `next()`
   * would resolve to, with the same bookkeeping; `undefined` when `next()` must wait for it.
   */
  [TAKE](): IteratorResult<StreamChunk> | undefined {
    const call = this.#call;
    const iterator = this.#iterator;
    // At the deadline or on abort the async path decides (it reports the call's failure).
    if (this.#busy || this.#state !== "open" || call === undefined || call.stopped || iterator === undefined)
      return undefined;
    const take = takerOf<StreamChunk>(iterator);
    if (take === undefined) return undefined;
    for (;;) {
      let next: IteratorResult<StreamChunk> | undefined;
      try {
        next = take.call(iterator);
      } catch (error) {
        throw this.#failed(error);
      }
      if (next === undefined) return undefined;
      const result = this.#handle(next);
      if (result !== PULL_AGAIN) return result;
    }
  }

  /** One result of the provider's stream: the chunk to pass on, the end, or `PULL_AGAIN` for one kept or skipped. */
  #handle(next: IteratorResult<StreamChunk>): IteratorResult<StreamChunk> | typeof PULL_AGAIN {
    if (this.#state === "closed") return STREAM_DONE;
    if (next.done) {
      // A provider stopped at the deadline or on abort may just end: that is the call's failure, not its answer.
      if ((this.#call as CallScope).stopped) throw this.#failed(undefined);
      return this.#complete();
    }
    const chunk = next.value;
    if (chunk.type === "finish") {
      if (chunk.usage) this.#usage = chunk.usage;
      if (chunk.finishReason) this.#finishReason = chunk.finishReason;
      if (chunk.costUsd !== undefined) this.#providerCost = chunk.costUsd;
      if (chunk.responseId !== undefined) this.#responseId = chunk.responseId;
      if (chunk.warnings !== undefined) for (const warning of chunk.warnings) this.#call?.warn(warning);
      return PULL_AGAIN;
    }
    if (chunk.type === "text") {
      if (chunk.text.length === 0) return PULL_AGAIN;
    } else if (chunk.type === "reasoning") {
      if (isEmptyReasoning(chunk)) return PULL_AGAIN;
    } else if (chunk.type === "tool-call") this.#sawToolCall = true;
    // A provider may stream tool-call arguments unasked: only a request that asked sees them.
    else if (chunk.type === "tool-input-delta") {
      if (chunk.delta.length === 0 || this.#request.toolInputDeltas !== true) return PULL_AGAIN;
    } else if (chunk.type === "tool-input-start" && this.#request.toolInputDeltas !== true) return PULL_AGAIN;
    if (this.#firstAt === undefined) this.#firstAt = performance.now();
    this.#settled();
    // The provider's result object passes through as it is: no copy per chunk.
    return next;
  }

  readonly #onError = (error: unknown): never => {
    throw this.#failed(error);
  };

  #complete(): IteratorResult<StreamChunk> {
    this.#finished = true;
    const model = this.#model;
    const startedAt = this.#startedAt;
    const firstAt = this.#firstAt;
    const endAt = performance.now();
    const latencyMs = endAt - startedAt;
    const usage = this.#usage === undefined ? {} : checkedUsage(this.#usage);
    const costUsd = countOrUndefined(this.#providerCost) ?? model.costOf(usage);
    model.metrics.recordSuccess(
      latencyMs,
      usage.inputTokens,
      usage.outputTokens,
      costUsd,
      firstAt === undefined ? latencyMs : endAt - firstAt,
    );
    const warnings = this.#call?.warnings;
    // The finish chunk is the last: the next next() says done.
    this.#state = "closed";
    this.#dispose();
    this.#settled();
    const finish: Extract<StreamChunk, { type: "finish" }> = {
      type: "finish",
      finishReason: this.#finishReason ?? (this.#sawToolCall ? TOOL_CALLS : STOP),
      usage,
      costUsd,
      latencyMs,
      timeToFirstChunkMs: firstAt === undefined ? latencyMs : firstAt - startedAt,
      model: model.name,
      cached: false,
      responseId: this.#responseId,
    };
    if (warnings !== undefined) finish.warnings = warnings;
    return { done: false, value: finish };
  }

  /** Map and record a failure once, release what the call holds; the caller throws the result. */
  #failed(error: unknown): OrchestratorError {
    // Once: a provider that settles after the deadline won the race fails into the same error.
    if (this.#error !== undefined) return this.#error;
    this.#finished = true;
    this.#state = "closed";
    const mapped = this.#hooks.fail(error, this.#call, this.#startedAt);
    this.#error = mapped;
    this.#dispose();
    this.#settled();
    return mapped;
  }

  #dispose(): void {
    const call = this.#call;
    if (call?.warnings !== undefined) this.#warnings = call.warnings;
    call?.dispose();
    this.#lease?.release();
    this.#call = undefined;
    this.#lease = undefined;
  }

  /** Done, at once; calls queued behind this one still run (each says done in turn). */
  #done(): Promise<IteratorResult<StreamChunk>> {
    this.#settled();
    return Promise.resolve(STREAM_DONE);
  }

  /** The current step is over: let a queued next()/return() run. */
  #settled(): void {
    this.#busy = false;
    const waiting = this.#waiting;
    if (waiting && waiting.length > 0) (waiting.shift() as () => void)();
  }

  #queue(step: () => Promise<IteratorResult<StreamChunk>>): Promise<IteratorResult<StreamChunk>> {
    return new Promise((resolve) => {
      (this.#waiting ??= []).push(() => resolve(step()));
    });
  }
}

/** A reasoning chunk that adds nothing: no text, and it neither signs nor is a redacted block. */
function isEmptyReasoning(chunk: Extract<StreamChunk, { type: "reasoning" }>): boolean {
  return chunk.text.length === 0 && chunk.signature === undefined && chunk.redactedData === undefined;
}

/**
 * `model.stream()` through a cache: the cache's stream, with the warnings of the model's own
 * stream when the cache asked the model, or those a hit's stored answer keeps (told before its
 * first chunk).
 */
export class CachedModelStream implements AsyncIterableIterator<StreamChunk>, ModelStreamResult {
  readonly #source: AsyncIterable<StreamChunk>;
  #iterator: AsyncIterator<StreamChunk> | undefined;
  #produced: ModelStreamResult | undefined;
  #stored: string[] | undefined;

  constructor(cache: Cache, model: ModelIdentity, request: GenerateRequest, produce: () => ModelStreamResult) {
    this.#source = cache.stream(
      model,
      request,
      () => {
        const produced = produce();
        this.#produced = produced;
        return produced;
      },
      {
        warn: (warning) => {
          (this.#stored ??= []).push(warning);
        },
      },
    );
  }

  get warnings(): readonly string[] {
    return this.#produced?.warnings ?? this.#stored ?? NO_WARNINGS;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamChunk> {
    return this;
  }

  next(): Promise<IteratorResult<StreamChunk>> {
    return this.#inner().next();
  }

  return(value?: unknown): Promise<IteratorResult<StreamChunk>> {
    const inner = this.#inner();
    return inner.return ? inner.return(value) : Promise.resolve(STREAM_DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<StreamChunk>> {
    const inner = this.#inner();
    return inner.throw ? inner.throw(error) : Promise.reject(error);
  }

  #inner(): AsyncIterator<StreamChunk> {
    if (this.#iterator === undefined) this.#iterator = this.#source[Symbol.asyncIterator]();
    return this.#iterator;
  }
}
