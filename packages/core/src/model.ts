import {
  ModelCapabilities,
  type ModelCapabilitiesInput,
  ModelConstraints,
  type ModelConstraintsInput,
} from "./capabilities";
import { AbortError, type OrchestratorError } from "./errors";
import { cacheIdentityOf } from "./cache-identity";
import { checkedUsage, countOrUndefined } from "./counts";
import { type CallControl, CallScope, type ProviderSignal, type StreamReport } from "./call-scope";
import type { Cache, ModelIdentity } from "./interfaces";
import { type Lease, LocalRateLimiter, type RateLimiter } from "./limits";
import { toOrchestratorError } from "./map-error";
import { ModelMetrics } from "./metrics";
import { CachedModelStream, ModelStream, STOP, type StreamHooks, TOOL_CALLS } from "./model-stream";
import { SPECIFICATION_VERSION, type SpecificationVersion } from "./specification";
import {
  type GenerateParameters,
  type GenerateRequest,
  type GenerateResult,
  type ModelOutput,
  type ModelStreamResult,
  type StreamChunk,
  type Usage,
  estimateRequestTokens,
  promptToRequest,
  answerChunks,
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
    if (typeof options.cacheIdentity !== "function")
      this.#identity = cacheIdentityOf(this.name, this.provider, options.cacheIdentity);
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
   * `AbortController` when the caller passed no signal (a controller and its signal cost more than
   * the rest of a call's start-up; with a caller's signal the provider gets a per-call one, since
   * clients leave listeners on it). The base stops the call through `control.onStop` at the
   * deadline or on abort, and races it against the deadline until a stop is registered (a client
   * may read an error body without a bound). Only read when `honoursAbortSignal` is set too.
   */
  protected readonly stopsCallsItself: boolean = false;

  /**
   * Set with `stopsCallsItself` by providers that register their stop (`control.onStop`) before
   * each request is sent, so that it also ends a request still waiting for its connection or its
   * headers. Their requests then never carry a signal, also when the caller passed one: no per-call
   * `AbortController` is made for any call (the caller's abort and the deadline reach the provider
   * through its stop). `OpenAIModel` works this way.
   */
  protected readonly registersStopFirst: boolean = false;

  /**
   * The keys of a request's `providerOptions` whose entries this model sends to its API as they
   * are, under that API's own parameter names (`["openai"]` for an `OpenAIModel`, `["anthropic"]`
   * for an `AnthropicModel`): a gateway that keeps a client's unknown parameters under such a key
   * knows they reach this model only then. Empty when it sends none so; `undefined` when the model
   * does not say (a subclass from elsewhere), and then nobody can tell.
   */
  readonly providerOptionsKeys: readonly string[] | undefined = undefined;

  /**
   * The signal a call's request carries (see `stopsCallsItself`, `registersStopFirst`): anything but
   * `"per-call"` means the provider stops its calls itself, and gets the call's control.
   */
  #providerSignal(streaming: boolean): ProviderSignal {
    if (!this.honoursAbortSignal || !this.stopsCallsItself || (streaming && this.doStream === undefined))
      return "per-call";
    return this.registersStopFirst ? "none" : "unless-caller";
  }

  // ---- what subclasses implement ------------------------------------------------------------

  /**
   * One call to the model. `request.signal` aborts on caller abort and on the deadline. Providers
   * that set `stopsCallsItself` also get `control`, and no signal when the caller passed none (or
   * never, with `registersStopFirst`).
   */
  protected abstract doGenerate(request: GenerateRequest, control?: CallControl): Promise<ModelOutput>;

  /**
   * Native streaming; leave it out and `stream()` yields the whole answer as one chunk. `control`
   * is given only to providers that set `stopsCallsItself`; `report` always: `report.warn(text)`
   * is how a stream gives what `doGenerate` returns as `warnings` (report the request's as it is
   * built, before the first chunk; see `StreamReport`).
   */
  protected doStream?(
    request: GenerateRequest,
    control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk>;

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
    return capabilities.supportsStreaming && !this.supportsNativeStreaming
      ? capabilities.with({ supportsStreaming: false })
      : capabilities;
  }

  // ---- public API -------------------------------------------------------------------------

  /**
   * The version of the `Model` contract this class was built against: that of the
   * `@orchestrator-ts/core` it extends. `registerModel` refuses a model built for another.
   */
  get specificationVersion(): SpecificationVersion {
    return SPECIFICATION_VERSION;
  }

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
    if (this.#cache && request.cache !== false)
      return this.#cache.generate(this, request, () => this.#generate(request));
    return this.#generate(request);
  }

  /** The answer as it arrives, and the model's `warnings` about the call (see `ModelStreamResult`). */
  stream(request: GenerateRequest): ModelStreamResult {
    const cache = this.#cache;
    if (cache && request.cache !== false)
      return new CachedModelStream(cache, this, request, () => this.#stream(request));
    return this.#stream(request);
  }

  /** USD this request is expected to cost: estimated prompt tokens plus `maxTokens` (or 500) completion tokens. */
  estimateCost(request: Pick<GenerateRequest, "messages" | "tools" | "maxTokens">): number {
    const { inputCostPerToken, outputCostPerToken } = this.capabilities;
    if (inputCostPerToken === 0 && outputCostPerToken === 0) return 0;
    const output =
      request.maxTokens ??
      Math.min(REFERENCE_OUTPUT_TOKENS, this.capabilities.maxOutputTokens ?? REFERENCE_OUTPUT_TOKENS);
    return estimateRequestTokens(request) * inputCostPerToken + output * outputCostPerToken;
  }

  /** USD for known token counts; `undefined` when a priced count is unknown. */
  costOf(usage: Usage): number | undefined {
    const { inputCostPerToken: pin, outputCostPerToken: pout } = this.capabilities;
    if ((pin > 0 && usage.inputTokens === undefined) || (pout > 0 && usage.outputTokens === undefined))
      return undefined;
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
    // Waiting for a slot is part of the call: it ends at the call's own deadline when that is sooner.
    const deadline = request.timeoutMs;
    const queueTimeoutMs = this.constraints.queueTimeoutMs;
    return limiter.acquire({
      timeoutMs: deadline !== undefined && deadline < queueTimeoutMs ? deadline : queueTimeoutMs,
      ...(request.signal ? { signal: request.signal } : {}),
    });
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
      const signal = this.#providerSignal(false);
      call = new CallScope(this, request, signal);
      // A provider whose client rejects as soon as the signal aborts needs no race (a promise less per call).
      const pending = this.doGenerate(call.request, signal === "per-call" ? undefined : call);
      const output = await (this.honoursAbortSignal && call.stoppable ? pending : call.race(pending));
      // A provider stopped at the deadline or on abort must not pass what it had off as the answer.
      if (call.stopped) throw call.abortError();
      const latencyMs = performance.now() - startedAt;
      const usage = output.usage === undefined ? {} : checkedUsage(output.usage);
      const costUsd = countOrUndefined(output.costUsd) ?? this.costOf(usage);
      this.metrics.recordSuccess(latencyMs, usage.inputTokens, usage.outputTokens, costUsd);
      const toolCalls = output.toolCalls ?? [];
      const result: GenerateResult = {
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
        responseId: output.responseId,
      };
      if (output.reasoning !== undefined && output.reasoning.length > 0) result.reasoning = output.reasoning;
      return result;
    } catch (error) {
      throw this.#fail(error, call, startedAt);
    } finally {
      call?.dispose();
      lease?.release();
    }
  }

  #stream(request: GenerateRequest): ModelStream {
    return new ModelStream(this, request, this.#streamHooks);
  }

  // What a stream needs of this model's private bookkeeping: one object per model, not per call.
  readonly #streamHooks: StreamHooks = {
    init: () => this.#ensureInitialized(),
    acquire: (request) => this.#acquire(request),
    source: (request, control, report) =>
      this.doStream ? this.doStream(request, control, report) : this.#oneChunk(request, report),
    fail: (error, call, startedAt) => this.#fail(error, call, startedAt),
    honoursAbortSignal: () => this.honoursAbortSignal,
    providerSignal: () => this.#providerSignal(true),
  };

  async *#oneChunk(request: GenerateRequest, report: StreamReport): AsyncGenerator<StreamChunk> {
    const output = await this.doGenerate(request);
    if (output.warnings !== undefined) for (const warning of output.warnings) report.warn(warning);
    yield* answerChunks(output);
    yield {
      type: "finish",
      ...(output.finishReason ? { finishReason: output.finishReason } : {}),
      ...(output.usage ? { usage: output.usage } : {}),
      ...(output.costUsd !== undefined ? { costUsd: output.costUsd } : {}),
      ...(output.responseId !== undefined ? { responseId: output.responseId } : {}),
    };
  }
}
