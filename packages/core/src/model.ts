import { ModelCapabilities, type ModelCapabilitiesInput, ModelConstraints, type ModelConstraintsInput } from "./capabilities";
import { AbortError, type OrchestratorError, TimeoutError } from "./errors";
import { cacheIdentityOf } from "./cache-identity";
import type { Cache, ModelIdentity } from "./interfaces";
import { type Deadline, Deadlines } from "./deadlines";
import { DRIVE, type StreamDriver, isDrivable } from "./provider-stream";
import { type Lease, LocalRateLimiter, type RateLimiter } from "./limits";
import { toOrchestratorError } from "./map-error";
import { ModelMetrics } from "./metrics";
import {
  type FinishReason,
  type GenerateParameters,
  type GenerateRequest,
  type GenerateResult,
  type ModelOutput,
  type StreamChunk,
  type Usage,
  estimateRequestTokens,
  promptToRequest,
} from "./types";

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** The request size `estimateCost` assumes for completion tokens when a request sets no `maxTokens`. */
export const REFERENCE_OUTPUT_TOKENS = 500;
/** The request `maxCost` is judged against when selection is given no request: 1,000 prompt + 500 completion tokens. */
export const REFERENCE_REQUEST = Object.freeze({ inputTokens: 1000, outputTokens: REFERENCE_OUTPUT_TOKENS });

export interface ModelOptions {
  name: string;
  provider: string;
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  /** Runs on this machine (no network, no per-token bill): `localOnly` and `preferLocalModels` use it. */
  isLocal?: boolean;
  /** Deadline of one call unless the request sets `timeoutMs`. Default 120 s: nothing waits forever. */
  timeoutMs?: number;
  /**
   * What, besides `name` and `provider`, decides this model's answers: API model id, endpoint,
   * deployment, weights file, options such as a default `maxTokens`. Part of every cache key, so
   * two models named alike but answering differently (another API model or server, a replaced
   * registration) never share cached answers. Leave credentials out (members named like them and
   * `Secret`s are redacted anyway). A function is called once, at the first read of
   * `model.cacheIdentity` (a model that reads its weights on first use knows them only then).
   */
  cacheIdentity?: Record<string, unknown> | (() => Record<string, unknown>);
}

const DEFAULT_TIMEOUT_MS = 120_000;
const STOP: FinishReason = Object.freeze({ unified: "stop" }) as FinishReason;
const TOOL_CALLS: FinishReason = Object.freeze({ unified: "tool-calls" }) as FinishReason;
const NO_WARNINGS: string[] = [];

/**
 * The base of every model. Subclasses implement `doGenerate` (and `doStream` when they stream
 * natively); the base owns the public API and does the bookkeeping once for every provider:
 * lazy one-time initialisation, limits, deadlines and abort, error mapping, metrics, cost,
 * caching.
 */
export abstract class Model implements ModelIdentity {
  readonly name: string;
  readonly provider: string;
  readonly constraints: ModelConstraints;
  readonly metrics: ModelMetrics = new ModelMetrics();
  readonly isLocal: boolean;
  timeoutMs: number;

  #capabilities: ModelCapabilities;
  #identity: string | undefined;
  #identitySource: ModelOptions["cacheIdentity"];
  #cache: Cache | undefined;
  #limiter: RateLimiter;
  #initialized = false;
  #initPromise: Promise<void> | undefined;
  #cleanupPromise: Promise<void> | undefined;
  #cleaned = false;

  constructor(options: ModelOptions) {
    if (!options || typeof options.name !== "string" || options.name.length === 0) {
      throw new TypeError("Model needs a non-empty `name`.");
    }
    this.name = options.name;
    this.provider = options.provider ?? "custom";
    this.#capabilities = this.#checked(options.capabilities);
    this.constraints = ModelConstraints.from(options.constraints);
    this.isLocal = options.isLocal ?? false;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#identitySource = options.cacheIdentity;
    if (typeof options.cacheIdentity !== "function") this.#identity = cacheIdentityOf(this.name, this.provider, options.cacheIdentity);
    this.#limiter = new LocalRateLimiter(this.constraints);
  }

  /** Canonical JSON of name, provider and the declared `cacheIdentity`: computed once, part of every cache key. */
  get cacheIdentity(): string {
    if (this.#identity === undefined) {
      const source = this.#identitySource;
      this.#identity = cacheIdentityOf(this.name, this.provider, typeof source === "function" ? source() : source);
    }
    return this.#identity;
  }

  /**
   * Set by providers whose client rejects a pending request or read as soon as `request.signal`
   * aborts (the official SDKs do, and their tests prove it with a hanging server). The base then
   * skips its guard against clients that ignore the signal (a race per call and per chunk).
   */
  protected readonly honoursAbortSignal: boolean = false;

  /**
   * Set by providers whose client bounds the wait for a response itself (a per-request timeout)
   * and whose response, once it has started, can be stopped directly (cancelling its body).
   * `doGenerate` and `doStream` then get a `CallControl`, and a request without the per-call
   * `AbortController` when the caller passed no signal (reading a controller's signal costs more
   * than the rest of a call's start-up; with a caller's signal the provider gets a per-call one,
   * since clients leave listeners on it). The base stops the call through `control.onStop` at the
   * deadline or on abort, and races it against the deadline until a stop is registered (a client
   * may read an error body without a bound). Only read when `honoursAbortSignal` is set too.
   */
  protected readonly stopsCallsItself: boolean = false;

  // ---- what subclasses implement ------------------------------------------------------------

  /**
   * One call to the model. `request.signal` aborts on caller abort and on the deadline. Providers
   * that set `stopsCallsItself` also get `control`, and no signal when the caller passed none.
   */
  protected abstract doGenerate(request: GenerateRequest, control?: CallControl): Promise<ModelOutput>;

  /**
   * Native streaming; leave it out and `stream()` yields the whole answer as one chunk. `control`
   * is given only to providers that set `stopsCallsItself`.
   */
  protected doStream?(request: GenerateRequest, control?: CallControl): AsyncIterable<StreamChunk>;

  /** Connect, load, authenticate. Called once, on first use, even under concurrent first calls. */
  protected async doInitialize(): Promise<void> {}

  /** Free resources. Called by `cleanup()`, at most once per initialisation. */
  protected async doCleanup(): Promise<void> {}

  /** A cheap liveness probe (a free endpoint, not a billed generation). Default: initialisation succeeds. */
  protected async doHealthCheck(): Promise<boolean> {
    return true;
  }

  /** Map a provider failure into the error family. Providers override and fall back to `super.mapError`. */
  protected mapError(error: unknown): OrchestratorError {
    return toOrchestratorError(error, { provider: this.provider, model: this.name });
  }

  /**
   * Replace the capabilities once the model knows more than at construction (a local server's
   * reported context window, a file's metadata). Validated like the constructor's.
   */
  protected updateCapabilities(next: ModelCapabilities | ModelCapabilitiesInput): void {
    this.#capabilities = this.#checked(next);
  }

  #checked(input: ModelCapabilities | ModelCapabilitiesInput | undefined): ModelCapabilities {
    const capabilities = ModelCapabilities.from(input);
    // A model without its own doStream still streams (one chunk), but must not claim native streaming.
    return capabilities.supportsStreaming && !this.supportsNativeStreaming ? capabilities.with({ supportsStreaming: false }) : capabilities;
  }

  // ---- public API -------------------------------------------------------------------------

  /** What the model can do and what it costs. */
  get capabilities(): ModelCapabilities {
    return this.#capabilities;
  }

  get supportsNativeStreaming(): boolean {
    return typeof this.doStream === "function";
  }

  get rateLimiter(): RateLimiter {
    return this.#limiter;
  }

  /** Replace the in-process limiter, e.g. with a `RedisRateLimiter` shared by every process. */
  setRateLimiter(limiter: RateLimiter): void {
    this.#limiter = limiter;
  }

  get cache(): Cache | undefined {
    return this.#cache;
  }

  /** Answer identical requests from `cache` from now on. */
  enableCaching(cache: Cache): void {
    this.#cache = cache;
  }

  disableCaching(): void {
    this.#cache = undefined;
  }

  get isInitialized(): boolean {
    return this.#initialized;
  }

  async initialize(): Promise<void> {
    const pending = this.#ensureInitialized();
    if (pending) await pending;
  }

  async healthCheck(): Promise<boolean> {
    try {
      await this.initialize();
      return (await this.doHealthCheck()) === true;
    } catch {
      return false;
    }
  }

  /** Release resources. Safe to call any number of times; a later call re-initialises. */
  cleanup(): Promise<void> {
    if (this.#cleanupPromise) return this.#cleanupPromise;
    if (this.#cleaned && !this.#initPromise) return Promise.resolve();
    const pendingInit = this.#initPromise;
    this.#cleanupPromise = (async () => {
      try {
        if (pendingInit) await pendingInit.catch(() => undefined);
        await this.doCleanup();
      } finally {
        this.#initialized = false;
        this.#initPromise = undefined;
        this.#cleaned = true;
        this.#cleanupPromise = undefined;
      }
    })();
    return this.#cleanupPromise;
  }

  /** The answer's text to one user prompt (the seed's `generate_response`). */
  async generateResponse(prompt: string, params?: GenerateParameters): Promise<string> {
    return (await this.generate(promptToRequest(prompt, params))).text;
  }

  /** The answer's text as it arrives (the seed's `stream_response`). */
  async *streamResponse(prompt: string, params?: GenerateParameters): AsyncIterable<string> {
    for await (const chunk of this.stream(promptToRequest(prompt, params))) {
      if (chunk.type === "text") yield chunk.text;
    }
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    if (this.#cache && request.cache !== false) return this.#cache.generate(this, request, () => this.#generate(request));
    return this.#generate(request);
  }

  stream(request: GenerateRequest): AsyncIterable<StreamChunk> {
    if (this.#cache && request.cache !== false) return this.#cache.stream(this, request, () => this.#stream(request));
    return this.#stream(request);
  }

  /** USD this request is expected to cost: estimated prompt tokens plus `maxTokens` (or 500) completion tokens. */
  estimateCost(request: Pick<GenerateRequest, "messages" | "tools" | "maxTokens">): number {
    const { inputCostPerToken, outputCostPerToken } = this.capabilities;
    if (inputCostPerToken === 0 && outputCostPerToken === 0) return 0;
    const output = request.maxTokens ?? Math.min(REFERENCE_OUTPUT_TOKENS, this.capabilities.maxOutputTokens ?? REFERENCE_OUTPUT_TOKENS);
    return estimateRequestTokens(request) * inputCostPerToken + output * outputCostPerToken;
  }

  /** USD for known token counts; `undefined` when a priced count is unknown. */
  costOf(usage: Usage): number | undefined {
    const { inputCostPerToken: pin, outputCostPerToken: pout } = this.capabilities;
    if ((pin > 0 && usage.inputTokens === undefined) || (pout > 0 && usage.outputTokens === undefined)) return undefined;
    return (usage.inputTokens ?? 0) * pin + (usage.outputTokens ?? 0) * pout;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      provider: this.provider,
      isLocal: this.isLocal,
      capabilities: this.capabilities.toJSON(),
      constraints: this.constraints.toJSON(),
      metrics: this.metrics.snapshot(),
    };
  }

  // Only the safe view: subclasses hold SDK clients and keys that must never be printed.
  [INSPECT](): string {
    return `${this.constructor.name} ${JSON.stringify({ name: this.name, provider: this.provider, isLocal: this.isLocal, initialized: this.#initialized })}`;
  }

  // ---- the bookkeeping --------------------------------------------------------------------

  #ensureInitialized(): Promise<void> | undefined {
    if (this.#initialized) return undefined;
    if (!this.#initPromise) {
      const attempt = (async () => {
        await this.doInitialize();
        this.#initialized = true;
        this.#cleaned = false;
      })();
      this.#initPromise = attempt;
      // A failed initialisation is not remembered: the next call tries again.
      attempt.catch(() => {
        if (this.#initPromise === attempt) this.#initPromise = undefined;
      });
    }
    return this.#initPromise;
  }

  #acquire(request: GenerateRequest): Lease | Promise<Lease> {
    const limiter = this.#limiter;
    if (limiter instanceof LocalRateLimiter) {
      const lease = limiter.tryAcquire();
      if (lease) return lease;
    }
    return limiter.acquire({ ...(request.signal ? { signal: request.signal } : {}), timeoutMs: this.constraints.queueTimeoutMs });
  }

  #fail(error: unknown, call: CallScope | undefined, startedAt: number): OrchestratorError {
    const mapped = call?.abortError() ?? this.mapError(error);
    this.metrics.recordFailure(performance.now() - startedAt, mapped);
    return mapped;
  }

  async #generate(request: GenerateRequest): Promise<GenerateResult> {
    if (request.signal?.aborted) throw new AbortError(undefined, { provider: this.provider, model: this.name });
    const startedAt = performance.now();
    let call: CallScope | undefined;
    let lease: Lease | undefined;
    try {
      const init = this.#ensureInitialized();
      if (init) await init;
      const acquired = this.#acquire(request);
      lease = acquired instanceof Promise ? await acquired : acquired;
      const selfStopping = this.honoursAbortSignal && this.stopsCallsItself;
      call = new CallScope(this, request, selfStopping);
      // A provider whose client rejects as soon as the signal aborts needs no race (a promise less per call).
      const pending = this.doGenerate(call.request, selfStopping ? call : undefined);
      const output = await (this.honoursAbortSignal && call.stoppable ? pending : call.race(pending));
      // A provider stopped at the deadline or on abort must not pass what it had off as the answer.
      if (call.stopped) throw call.abortError();
      const latencyMs = performance.now() - startedAt;
      const usage = output.usage ?? {};
      const costUsd = output.costUsd ?? this.costOf(usage);
      this.metrics.recordSuccess(latencyMs, usage.inputTokens, usage.outputTokens, costUsd);
      const toolCalls = output.toolCalls ?? [];
      return {
        text: output.text,
        toolCalls,
        usage,
        costUsd,
        finishReason: output.finishReason ?? (toolCalls.length > 0 ? TOOL_CALLS : STOP),
        latencyMs,
        model: this.name,
        provider: this.provider,
        cached: false,
        warnings: output.warnings ?? NO_WARNINGS,
      };
    } catch (error) {
      throw this.#fail(error, call, startedAt);
    } finally {
      call?.dispose();
      lease?.release();
    }
  }

  #stream(request: GenerateRequest): AsyncIterableIterator<StreamChunk> {
    return new ModelStream(this, request, this.#streamHooks);
  }

  // What a stream needs of this model's private bookkeeping: one object per model, not per call.
  readonly #streamHooks: StreamHooks = {
    init: () => this.#ensureInitialized(),
    acquire: (request) => this.#acquire(request),
    source: (request, control) => (this.doStream ? this.doStream(request, control) : this.#oneChunk(request)),
    fail: (error, call, startedAt) => this.#fail(error, call, startedAt),
    honoursAbortSignal: () => this.honoursAbortSignal,
    stopsCallsItself: () => this.honoursAbortSignal && this.stopsCallsItself && this.doStream !== undefined,
  };

  async *#oneChunk(request: GenerateRequest): AsyncGenerator<StreamChunk> {
    const output = await this.doGenerate(request);
    if (output.text) yield { type: "text", text: output.text };
    for (const toolCall of output.toolCalls ?? []) yield { type: "tool-call", toolCall };
    yield {
      type: "finish",
      ...(output.finishReason ? { finishReason: output.finishReason } : {}),
      ...(output.usage ? { usage: output.usage } : {}),
      ...(output.costUsd !== undefined ? { costUsd: output.costUsd } : {}),
    };
  }
}

interface StreamHooks {
  init(): Promise<void> | undefined;
  acquire(request: GenerateRequest): Lease | Promise<Lease>;
  source(request: GenerateRequest, control: CallControl | undefined): AsyncIterable<StreamChunk>;
  fail(error: unknown, call: CallScope | undefined, startedAt: number): OrchestratorError;
  honoursAbortSignal(): boolean;
  stopsCallsItself(): boolean;
}

/** What a provider that stops its own calls (`Model.stopsCallsItself`) gets with the request. */
export interface CallControl {
  /** The call's deadline, in ms from now: bound the wait for the response's headers by it. */
  readonly timeoutMs: number;
  /**
   * Register how to stop the response once it has started (cancel its body); the base calls it at
   * the deadline or when the caller aborts, at once if that has happened already. A later call
   * replaces it. The call may then end early or fail: the base reports `TimeoutError` /
   * `AbortError` either way.
   */
  onStop(stop: () => void): void;
}

const STREAM_DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

/**
 * `model.stream(request)`: starts on the first `next()` (initialise, acquire a lease, open the
 * provider's stream under a deadline), passes text and tool-call chunks through, keeps usage and
 * finish reason from the provider's finish chunk, records metrics and ends with its own finish
 * chunk. Failures are mapped and recorded once; leaving early stops the provider's stream.
 *
 * Hand-written rather than an `async function*`: a chunk costs one `then` on the provider's
 * `next()` instead of a generator's promise and microtasks per chunk.
 */
class ModelStream implements AsyncIterableIterator<StreamChunk> {
  readonly #model: Model;
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
  #providerCost: number | undefined;
  #sawToolCall = false;
  #error: OrchestratorError | undefined;
  // One next() at a time, as an async generator would queue them.
  #busy = false;
  #waiting: (() => void)[] | undefined;

  constructor(model: Model, request: GenerateRequest, hooks: StreamHooks) {
    this.#model = model;
    this.#request = request;
    this.#hooks = hooks;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamChunk> {
    return this;
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

  async #startLater(init: Promise<void> | undefined, acquired: Lease | Promise<Lease> | undefined): Promise<IteratorResult<StreamChunk>> {
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
    const selfStopping = this.#hooks.stopsCallsItself();
    const call = new CallScope(this.#model, this.#request, selfStopping);
    this.#call = call;
    this.#honours = this.#hooks.honoursAbortSignal();
    const iterator = this.#hooks.source(call.request, selfStopping ? call : undefined)[Symbol.asyncIterator]();
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
    if (this.#driven) return call.stoppable || this.#state === "closed" ? next : call.race(next).then(undefined, this.#onError);
    return (this.#honours && call.stoppable ? next : call.race(next)).then(this.#onNext, this.#onError);
  }

  readonly #onNext = (next: IteratorResult<StreamChunk>): Promise<IteratorResult<StreamChunk>> | IteratorResult<StreamChunk> => {
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
      return this.#pull();
    }
    if (chunk.type === "text" && chunk.text.length === 0) return this.#pull();
    if (chunk.type === "tool-call") this.#sawToolCall = true;
    if (this.#firstAt === undefined) this.#firstAt = performance.now();
    this.#settled();
    // The provider's result object passes through as it is: no copy per chunk.
    return next;
  };

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
    const usage = this.#usage ?? {};
    const costUsd = this.#providerCost ?? model.costOf(usage);
    model.metrics.recordSuccess(latencyMs, usage.inputTokens, usage.outputTokens, costUsd, firstAt === undefined ? latencyMs : endAt - firstAt);
    // The finish chunk is the last: the next next() says done.
    this.#state = "closed";
    this.#dispose();
    this.#settled();
    return {
      done: false,
      value: {
        type: "finish",
        finishReason: this.#finishReason ?? (this.#sawToolCall ? TOOL_CALLS : STOP),
        usage,
        costUsd,
        latencyMs,
        timeToFirstChunkMs: firstAt === undefined ? latencyMs : firstAt - startedAt,
        model: model.name,
        cached: false,
      } as StreamChunk,
    };
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
    this.#call?.dispose();
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

// Every call's deadline, on one timer.
const DEADLINES = new Deadlines();

/**
 * One call's deadline and abort wiring: a signal for the provider that fires on caller abort or
 * timeout, and `race` so a provider that ignores its signal still cannot hang the caller. For a
 * provider that stops its own calls and a caller without a signal there is none: the request
 * passes as it is, and the stop the provider registered runs instead.
 */
class CallScope implements CallControl {
  readonly request: GenerateRequest;
  readonly #controller: AbortController | undefined;
  readonly #deadline: Deadline;
  readonly #outer: AbortSignal | undefined;
  readonly #model: Model;
  readonly #timeoutMs: number;
  #reason: "abort" | "timeout" | undefined;
  #rejectors: ((e: unknown) => void)[] = [];
  #stop: (() => void) | undefined;

  constructor(model: Model, request: GenerateRequest, withoutSignal = false) {
    this.#model = model;
    this.#outer = request.signal;
    this.#timeoutMs = request.timeoutMs ?? model.timeoutMs;
    this.#deadline = DEADLINES.add(this.#timeoutMs, () => this.#abort("timeout"));
    if (this.#outer) this.#outer.addEventListener("abort", this.#onOuterAbort, { once: true });
    // The provider always gets a signal of this call's own when the caller passed one: clients leave
    // listeners on the signals they are given (the openai SDK never removes its), and a caller's
    // signal often lives for the whole process.
    if (withoutSignal && this.#outer === undefined) {
      this.#controller = undefined;
      this.request = request;
    } else {
      this.#controller = new AbortController();
      this.request = { ...request, signal: this.#controller.signal };
    }
    // Aborted while the call waited for initialisation or a free slot.
    if (this.#outer?.aborted) this.#abort("abort");
  }

  /**
   * Whether aborting this call reaches the provider now: it has a signal, or the provider has
   * registered its stop. Until then a provider without a signal (waiting for headers, or for an
   * error body its client reads) is raced against the deadline.
   */
  get stoppable(): boolean {
    return this.#controller !== undefined || this.#stop !== undefined;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  onStop(stop: () => void): void {
    this.#stop = stop;
    if (this.#reason) this.#runStop();
  }

  readonly #onOuterAbort = (): void => this.#abort("abort");

  #abort(reason: "abort" | "timeout"): void {
    if (this.#reason) return;
    this.#reason = reason;
    const error = this.abortError();
    this.#controller?.abort(error);
    for (const reject of this.#rejectors) reject(error);
    this.#rejectors = [];
    this.#runStop();
  }

  #runStop(): void {
    const stop = this.#stop;
    this.#stop = undefined;
    try {
      stop?.();
    } catch {
      // A stop that fails leaves the provider's own timeout; the caller still gets its error.
    }
  }

  /** Aborted or timed out. */
  get stopped(): boolean {
    return this.#reason !== undefined;
  }

  /** The error to report when this call was aborted or timed out, else `undefined`. */
  abortError(): OrchestratorError | undefined {
    if (this.#reason === undefined) return undefined;
    const context = { provider: this.#model.provider, model: this.#model.name };
    if (this.#reason === "abort") return new AbortError(undefined, context);
    if (this.#reason === "timeout") return new TimeoutError(`The call to ${this.#model.name} took longer than ${this.#timeoutMs} ms.`, { ...context, timeoutMs: this.#timeoutMs });
    return undefined;
  }

  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#reason) {
      promise.catch(() => undefined);
      return Promise.reject(this.abortError());
    }
    return new Promise<T>((resolve, reject) => {
      this.#rejectors.push(reject);
      promise.then(
        (value) => {
          this.#drop(reject);
          resolve(value);
        },
        (error) => {
          this.#drop(reject);
          reject(error);
        },
      );
    });
  }

  #drop(reject: (e: unknown) => void): void {
    const i = this.#rejectors.indexOf(reject);
    if (i >= 0) this.#rejectors.splice(i, 1);
  }

  dispose(): void {
    this.#stop = undefined;
    DEADLINES.remove(this.#deadline);
    this.#outer?.removeEventListener("abort", this.#onOuterAbort);
  }
}
