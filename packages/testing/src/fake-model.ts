import {
  AuthenticationError,
  ContextLengthError,
  type GenerateRequest,
  Model,
  type ModelCapabilities,
  type ModelCapabilitiesInput,
  type ModelConstraints,
  type ModelConstraintsInput,
  type ModelOutput,
  type ReasoningPart,
  ProviderError,
  RateLimitError,
  type StreamChunk,
  TimeoutError,
  type Usage,
  contentText,
  seededRandom,
} from "@orchestrator-ts/core";

/** A failure the fake can produce, by name, or any error object to throw as is. */
export type FakeFailure = "rate-limit" | "server-error" | "timeout" | "auth" | "context-length" | "drop" | Error;

/** One scripted outcome: succeed (optionally with given text) or fail. */
export type FakeOutcome = "ok" | { text: string } | { fail: FakeFailure; retryAfterMs?: number };

type Numeric = number | { min: number; max: number };

export interface FakeModelOptions {
  name: string;
  provider?: string;
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  isLocal?: boolean;
  /** Seed of every random choice (latency, failures, text): same seed, same run. */
  seed?: number;
  /** Milliseconds before answering (fixed or uniform in a range). Default 0. */
  latencyMs?: Numeric;
  /** Probability that a call succeeds when nothing is scripted. Default 1. */
  successRate?: number;
  /** How random failures fail. Default "server-error". */
  failureKind?: FakeFailure;
  /** Outcomes of the next calls, in order; after them, `successRate` decides. */
  script?: FakeOutcome[];
  /** The answer: fixed text or a function of the request. Default `"<name>: <last user text>"`. */
  response?: string | ((request: GenerateRequest) => string);
  /** Reasoning before the answer (one part a string; streamed in word chunks, then each part's signature). */
  reasoning?: string | ReasoningPart[];
  /** Reported usage; `null` reports none. Default: word counts of prompt and answer. */
  usage?: Usage | null | ((request: GenerateRequest, text: string) => Usage | null);
  /** Cost the provider reports itself (else the base class prices the usage). */
  costUsd?: number;
  /** Stream natively (default true): the answer in word-sized chunks. */
  streaming?: boolean;
  /** Milliseconds between streamed chunks. Default 0. */
  chunkDelayMs?: number;
  /** Fail a stream after this many chunks (with `failureKind`), to test mid-stream failures. */
  failStreamAfterChunks?: number;
  /** Health check answer. Default true. */
  healthy?: boolean;
  /** Milliseconds the health check takes. Default 0. */
  healthCheckLatencyMs?: number;
}

function pick(value: Numeric | undefined, random: () => number): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  return value.min + (value.max - value.min) * random();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function words(text: string): number {
  const t = text.trim();
  return t ? t.split(/\s+/).length : 0;
}

/** Split text into word-sized chunks that concatenate to exactly the text. */
export function chunkText(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? (text ? [text] : []);
}

/**
 * A scriptable model for tests and examples: latency, failure sequences or rates, token counts,
 * cost, stream chunks and health, all deterministic under a seed. It goes through the same
 * `Model` base class as real providers, so metrics, limits, abort and caching behave for real.
 */
export class FakeModel extends Model {
  readonly options: FakeModelOptions;
  readonly #random: () => number;
  readonly #script: FakeOutcome[];
  #healthy: boolean;
  /** Calls that reached the model (generate and stream). */
  calls = 0;
  healthChecks = 0;
  lastRequest: GenerateRequest | undefined;

  constructor(options: FakeModelOptions) {
    super({
      name: options.name,
      provider: options.provider ?? "fake",
      capabilities: options.capabilities ?? { supportsStreaming: options.streaming ?? true },
      ...(options.constraints ? { constraints: options.constraints } : {}),
      ...(options.isLocal === undefined ? {} : { isLocal: options.isLocal }),
    });
    this.options = options;
    this.#random = seededRandom(options.seed ?? 1);
    this.#script = [...(options.script ?? [])];
    this.#healthy = options.healthy ?? true;
    // A non-streaming fake goes through the base class's one-chunk fallback, like a provider without doStream.
    if (options.streaming === false) Object.defineProperty(this, "doStream", { value: undefined });
  }

  /** Append outcomes for the next calls. */
  enqueue(...outcomes: FakeOutcome[]): void {
    this.#script.push(...outcomes);
  }

  setHealthy(healthy: boolean): void {
    this.#healthy = healthy;
  }

  setSuccessRate(rate: number): void {
    this.options.successRate = rate;
  }

  setLatency(latencyMs: Numeric): void {
    this.options.latencyMs = latencyMs;
  }

  protected override async doHealthCheck(): Promise<boolean> {
    this.healthChecks++;
    await sleep(this.options.healthCheckLatencyMs ?? 0);
    return this.#healthy;
  }

  #error(failure: FakeFailure, retryAfterMs?: number): Error {
    const context = { provider: this.provider, model: this.name };
    if (failure instanceof Error) return failure;
    switch (failure) {
      case "rate-limit":
        return new RateLimitError("Rate limit reached (fake).", {
          ...context,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      case "timeout":
        return new TimeoutError("The fake provider timed out.", context);
      case "auth":
        return new AuthenticationError("Invalid API key (fake).", context);
      case "context-length":
        return new ContextLengthError("The prompt is longer than the context window (fake).", context);
      case "drop":
        return new ProviderError("Connection dropped (fake).", { ...context, retryable: true });
      default:
        return new ProviderError("Internal server error (fake).", { ...context, status: 500 });
    }
  }

  /** Decide this call's outcome: the script first, then the success rate. */
  #next(): { text?: string; error?: Error } {
    const scripted = this.#script.shift();
    if (scripted !== undefined) {
      if (scripted === "ok") return {};
      if ("text" in scripted) return { text: scripted.text };
      return { error: this.#error(scripted.fail, scripted.retryAfterMs) };
    }
    const rate = this.options.successRate ?? 1;
    if (rate < 1 && this.#random() >= rate) return { error: this.#error(this.options.failureKind ?? "server-error") };
    return {};
  }

  #answer(request: GenerateRequest, override?: string): { text: string; usage: Usage | undefined } {
    const response = this.options.response;
    const lastUser = [...request.messages].reverse().find((m) => m.role === "user");
    const text =
      override ??
      (typeof response === "function"
        ? response(request)
        : (response ?? `${this.name}: ${lastUser ? contentText(lastUser.content) : ""}`));
    const limited = request.maxTokens !== undefined ? chunkText(text).slice(0, request.maxTokens).join("") : text;
    const usageOption = this.options.usage;
    const usage =
      usageOption === null
        ? undefined
        : typeof usageOption === "function"
          ? (usageOption(request, limited) ?? undefined)
          : (usageOption ?? {
              inputTokens: request.messages.reduce((n, m) => n + words(contentText(m.content)), 0),
              outputTokens: words(limited),
            });
    return { text: limited, usage };
  }

  /** What generate and stream share: count the call, wait the latency, fail or answer as scripted. */
  async #respond(request: GenerateRequest): Promise<{ text: string; usage: Usage | undefined }> {
    this.calls++;
    this.lastRequest = request;
    const outcome = this.#next();
    await sleep(pick(this.options.latencyMs, this.#random), request.signal);
    if (outcome.error) throw outcome.error;
    return this.#answer(request, outcome.text);
  }

  #reasoning(): ReasoningPart[] {
    const reasoning = this.options.reasoning;
    if (reasoning === undefined) return [];
    return typeof reasoning === "string" ? [{ type: "reasoning", text: reasoning }] : reasoning.map((p) => ({ ...p }));
  }

  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    const { text, usage } = await this.#respond(request);
    const reasoning = this.#reasoning();
    return {
      text,
      ...(reasoning.length > 0 ? { reasoning } : {}),
      ...(usage ? { usage } : {}),
      ...(this.options.costUsd === undefined ? {} : { costUsd: this.options.costUsd }),
      finishReason: { unified: "stop", raw: "stop" },
    };
  }

  protected override async *doStream(request: GenerateRequest): AsyncIterable<StreamChunk> {
    const { text, usage } = await this.#respond(request);
    for (const part of this.#reasoning()) {
      if (part.redactedData !== undefined) yield { type: "reasoning", text: "", redactedData: part.redactedData };
      else for (const piece of chunkText(part.text)) yield { type: "reasoning", text: piece };
      if (part.signature !== undefined) yield { type: "reasoning", text: "", signature: part.signature };
    }
    let sent = 0;
    for (const piece of chunkText(text)) {
      if (this.options.failStreamAfterChunks !== undefined && sent >= this.options.failStreamAfterChunks) {
        throw this.#error(this.options.failureKind ?? "drop");
      }
      if (sent > 0) await sleep(this.options.chunkDelayMs ?? 0, request.signal);
      sent++;
      yield { type: "text", text: piece };
    }
    yield {
      type: "finish",
      finishReason: { unified: "stop", raw: "stop" },
      ...(usage ? { usage } : {}),
      ...(this.options.costUsd === undefined ? {} : { costUsd: this.options.costUsd }),
    };
  }
}
