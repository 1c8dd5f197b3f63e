import type Anthropic from "@anthropic-ai/sdk";
import {
  AuthenticationError,
  type CallControl,
  endpointIdentity,
  DEFAULT_MAX_EVENT_BYTES,
  type GenerateRequest,
  headersIdentity,
  Model,
  ModelCapabilities,
  type ModelCapabilitiesInput,
  type ModelConstraints,
  type ModelConstraintsInput,
  type ModelOutput,
  type OrchestratorError,
  ProviderError,
  Secret,
  registerSecretHeaders,
  type StreamChunk,
  type StreamReport,
  fetchWithLineLimit,
  revealHeaders,
  secretFromEnv,
} from "@orchestrator-ts/core";
import { sdkBackstopTimeoutMs, withFields } from "@orchestrator-ts/core/internal";
import {
  MessagesStreamDecoder,
  fromMessagesResponse,
  messagesBetas,
  toCountTokensParams,
} from "@orchestrator-ts/anthropic-format";
import { mapAnthropicError } from "./map-error";
import { toAnthropicRequest } from "./mapping";
import { loadAnthropicSdk } from "./sdk";
import { ANTHROPIC_PRICES_AS_OF, type PriceSource, lookupAnthropicModel } from "./models";

export const ANTHROPIC_API_KEY_ENV = "ANTHROPIC_API_KEY";
// Where the SDK sends requests when no `baseURL` is given.
const ANTHROPIC_BASE_URL_ENV = "ANTHROPIC_BASE_URL";
const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com";
const DEFAULT_MAX_TOKENS = 1024;

export interface AnthropicPricing {
  /** USD per million prompt tokens. */
  inputPerMTok: number;
  /** USD per million completion tokens. */
  outputPerMTok: number;
}

export interface AnthropicModelOptions {
  /** The registry name (the seed's `"claude-3-opus"`). */
  name: string;
  /** The API model id; default: the price table's id for `name`, else `name`. */
  model?: string;
  /** Default: `ANTHROPIC_API_KEY`, read at first use (importing and constructing never throw). */
  apiKey?: string | Secret;
  /** Default: `ANTHROPIC_BASE_URL` or the public API. */
  baseURL?: string;
  /** Merged over the defaults of the price table (your fields win). */
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  /** Deadline of one call (default 120 s). */
  timeoutMs?: number;
  /** SDK retries per call; default 0 because the registry retries and falls back itself. */
  maxRetries?: number;
  /** `max_tokens` when a request sets none (the API requires it). Default 1024, capped by the model's max output. */
  defaultMaxTokens?: number;
  /** Overrides the price table. */
  pricing?: AnthropicPricing;
  /** Extra headers on every request (e.g. `anthropic-beta`). A value may be a core `Secret`, revealed only to the SDK. */
  headers?: Record<string, string | Secret>;
  /**
   * The largest streamed event accepted, in bytes (default 4 MiB): past it the call fails with a
   * `ProviderError`. Streamed bodies reach the SDK's parser a whole line at a time, which keeps it linear.
   */
  maxEventBytes?: number;
}

export interface AnthropicPriceInfo extends AnthropicPricing {
  source: PriceSource | "override";
  /** The date of the price table (not meaningful for overrides). */
  asOf: string;
}

type RawStreamEvent = Anthropic.RawMessageStreamEvent;

/**
 * Claude through the official `@anthropic-ai/sdk`: system prompt, tool use, structured output
 * (a forced tool), images, native streaming, usage and cost from a dated price table.
 */
export class AnthropicModel extends Model {
  // The client rejects a pending read when the request's signal aborts (tested with a stalled server).
  protected override readonly honoursAbortSignal = true;
  /** `providerOptions.anthropic`, copied into every request body (`betas` as the `anthropic-beta` header). */
  override readonly providerOptionsKeys: readonly string[] = ["anthropic"];
  /** The API model id sent as `model`. */
  readonly modelId: string;
  readonly pricing: AnthropicPriceInfo;
  readonly defaultMaxTokens: number;
  readonly #apiKey: Secret | undefined;
  readonly #baseURL: string | undefined;
  readonly #maxRetries: number;
  readonly #headers: Record<string, string | Secret> | undefined;
  readonly #maxEventBytes: number;
  #client: Anthropic | undefined;

  constructor(options: AnthropicModelOptions) {
    const lookup = lookupAnthropicModel(options?.model ?? options?.name ?? "");
    const info = lookup.info;
    const pricing: AnthropicPriceInfo = options?.pricing
      ? { ...options.pricing, source: "override", asOf: ANTHROPIC_PRICES_AS_OF }
      : {
          inputPerMTok: info.inputPerMTok,
          outputPerMTok: info.outputPerMTok,
          source: lookup.source,
          asOf: ANTHROPIC_PRICES_AS_OF,
        };
    const defaults: ModelCapabilitiesInput = {
      textGeneration: true,
      codeGeneration: true,
      functionCalling: true,
      vision: info.vision,
      maxTokens: info.contextWindow,
      contextWindow: info.contextWindow,
      maxOutputTokens: info.maxOutputTokens,
      supportsStreaming: true,
      structuredOutput: true,
      inputCostPerToken: pricing.inputPerMTok / 1e6,
      outputCostPerToken: pricing.outputPerMTok / 1e6,
      tasks: ["chat", "code", "analysis"],
    };
    const capabilities = mergeCapabilities(defaults, options?.capabilities);
    const modelId = options?.model ?? (lookup.source === "table" ? info.id : options?.name);
    const defaultMaxTokens = Math.min(
      options?.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
      capabilities.maxOutputTokens ?? Number.POSITIVE_INFINITY,
    );
    super({
      name: options?.name,
      provider: "anthropic",
      capabilities,
      ...(options?.constraints ? { constraints: options.constraints } : {}),
      ...(options?.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      // Who answers: the API model, the server (the SDK's own default when none is given), and what changes answers.
      cacheIdentity: {
        model: modelId,
        baseURL: endpointIdentity(
          options?.baseURL || globalThis.process?.env?.[ANTHROPIC_BASE_URL_ENV] || ANTHROPIC_DEFAULT_BASE_URL,
        ),
        defaultMaxTokens,
        headers: headersIdentity(options?.headers),
      },
    });
    this.modelId = modelId;
    this.pricing = pricing;
    this.defaultMaxTokens = defaultMaxTokens;
    this.#apiKey = Secret.from(options.apiKey);
    this.#baseURL = options.baseURL;
    this.#maxRetries = options.maxRetries ?? 0;
    this.#headers = options.headers;
    // A key in a header (a gateway's `x-portkey-api-key`…) is a secret too: a server may echo it.
    registerSecretHeaders(options.headers);
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  protected override async doInitialize(): Promise<void> {
    const key = this.#apiKey ?? secretFromEnv(ANTHROPIC_API_KEY_ENV);
    if (!key) {
      throw new AuthenticationError(
        `No Anthropic API key for model "${this.name}": pass \`apiKey\` or set ${ANTHROPIC_API_KEY_ENV}.`,
        {
          provider: this.provider,
          model: this.name,
          status: undefined,
        },
      );
    }
    const { default: AnthropicClient } = await loadAnthropicSdk();
    this.#client = new AnthropicClient({
      apiKey: key.reveal(),
      ...(this.#baseURL !== undefined ? { baseURL: this.#baseURL } : {}),
      maxRetries: this.#maxRetries,
      timeout: sdkBackstopTimeoutMs(this.timeoutMs),
      ...(this.#headers ? { defaultHeaders: revealHeaders(this.#headers) } : {}),
      // The SDK's line decoder rescans an unfinished line on every read: hand it whole lines, bounded.
      fetch: fetchWithLineLimit(
        (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => fetch(input, init),
        { maxEventBytes: this.#maxEventBytes, provider: this.provider, model: this.name },
      ),
    });
  }

  protected override async doCleanup(): Promise<void> {
    this.#client = undefined;
  }

  /** `GET /v1/models`: free, and it fails on a bad key. */
  protected override async doHealthCheck(): Promise<boolean> {
    await this.#sdk().models.list({ limit: 1 }, { timeout: Math.ceil(Math.min(this.timeoutMs, 10_000)) });
    return true;
  }

  protected override async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    const { params, responseTool, warnings } = toAnthropicRequest(
      request,
      this.modelId,
      this.defaultMaxTokens,
      this.capabilities.maxOutputTokens,
    );
    const message = await this.#sdk().messages.create(params, this.#requestOptions(request));
    const output: ModelOutput = fromMessagesResponse(message, responseTool);
    const costUsd = this.#cacheAwareCost(message.usage);
    if (costUsd !== undefined) output.costUsd = costUsd;
    if (warnings.length > 0) output.warnings = warnings;
    return output;
  }

  protected override async *doStream(
    request: GenerateRequest,
    _control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    const { params, responseTool, warnings } = toAnthropicRequest(
      request,
      this.modelId,
      this.defaultMaxTokens,
      this.capabilities.maxOutputTokens,
    );
    // Known before the first chunk, as doGenerate's are: the caller sees them as the stream starts.
    for (const warning of warnings) report.warn(warning);
    const stream = await this.#sdk().messages.create(
      withFields(params, { stream: true as const }),
      this.#requestOptions(request),
    );
    const decoder = new MessagesStreamDecoder({
      provider: this.provider,
      model: this.name,
      responseTool,
      toolInputDeltas: request.toolInputDeltas,
    });
    const out: StreamChunk[] = [];
    try {
      for await (const event of stream as AsyncIterable<RawStreamEvent>) {
        decoder.push(event, out);
        if (out.length > 0) {
          yield* out;
          out.length = 0;
        }
      }
    } finally {
      // Stop reading (and free the connection) when the consumer leaves early or a chunk fails.
      if (!decoder.stopped) stream.controller.abort();
    }
    const finish = decoder.end();
    const costUsd = this.#cacheAwareCost(decoder.rawUsage);
    if (costUsd !== undefined) finish.costUsd = costUsd;
    yield finish;
  }

  /**
   * The request's input tokens as Anthropic counts them (`POST /v1/messages/count_tokens`, free of
   * charge): the conversation, system prompt, tools (structured output's tool too) and thinking, as
   * a call would send them. Failures are this model's typed errors, as a call's are.
   */
  async countTokens(request: GenerateRequest): Promise<number> {
    try {
      await this.initialize();
      const { params } = toAnthropicRequest(
        request,
        this.modelId,
        this.defaultMaxTokens,
        this.capabilities.maxOutputTokens,
      );
      const body = toCountTokensParams(params) as unknown as Anthropic.MessageCountTokensParams;
      const counted = await this.#sdk().messages.countTokens(body, this.#requestOptions(request));
      return counted.input_tokens;
    } catch (error) {
      throw this.mapError(error);
    }
  }

  protected override mapError(error: unknown): OrchestratorError {
    return mapAnthropicError(error, {
      provider: this.provider,
      model: this.name,
      modelId: this.modelId,
      baseURL: this.#client?.baseURL ?? this.#baseURL,
    });
  }

  #sdk(): Anthropic {
    if (!this.#client)
      throw new ProviderError("The Anthropic client is not initialised.", {
        provider: this.provider,
        model: this.name,
        retryable: false,
      });
    return this.#client;
  }

  #requestOptions(request: GenerateRequest): {
    signal?: AbortSignal;
    timeout: number;
    headers?: Record<string, string>;
  } {
    const timeout = sdkBackstopTimeoutMs(request.timeoutMs ?? this.timeoutMs);
    const options: { signal?: AbortSignal; timeout: number; headers?: Record<string, string> } = request.signal
      ? { signal: request.signal, timeout }
      : { timeout };
    // The request's betas join the configured ones (a request header would replace them).
    const betas = request.providerOptions === undefined ? undefined : messagesBetas(request);
    if (betas !== undefined) {
      const configured = this.#configuredBetas;
      options.headers = { "anthropic-beta": configured === undefined ? betas : `${configured},${betas}` };
    }
    return options;
  }

  get #configuredBetas(): string | undefined {
    const headers = this.#headers;
    if (headers === undefined) return undefined;
    for (const [name, value] of Object.entries(headers))
      if (name.toLowerCase() === "anthropic-beta") return typeof value === "string" ? value : value.reveal();
    return undefined;
  }

  // Cache writes cost 1.25× and reads 0.1× the prompt price: priced here, as the base only knows one rate.
  #cacheAwareCost(usage: unknown): number | undefined {
    const u = (usage ?? {}) as Record<string, unknown>;
    const write = typeof u["cache_creation_input_tokens"] === "number" ? u["cache_creation_input_tokens"] : 0;
    const read = typeof u["cache_read_input_tokens"] === "number" ? u["cache_read_input_tokens"] : 0;
    if (write === 0 && read === 0) return undefined;
    const input = u["input_tokens"];
    const output = u["output_tokens"];
    if (typeof input !== "number" || typeof output !== "number") return undefined;
    const { inputCostPerToken: pin, outputCostPerToken: pout } = this.capabilities;
    return input * pin + write * pin * 1.25 + read * pin * 0.1 + output * pout;
  }
}

/**
 * The table's defaults under the caller's capabilities. A plain object overrides field by field;
 * a `ModelCapabilities` instance is taken whole, except that 0/0 prices (its defaults) keep the
 * table's so a paid model is never seen as free.
 */
export function mergeCapabilities(
  defaults: ModelCapabilitiesInput,
  given: ModelCapabilities | ModelCapabilitiesInput | undefined,
): ModelCapabilities {
  if (!given) return new ModelCapabilities(defaults);
  if (given instanceof ModelCapabilities) {
    if (given.inputCostPerToken === 0 && given.outputCostPerToken === 0) {
      return given.with({
        inputCostPerToken: defaults.inputCostPerToken ?? 0,
        outputCostPerToken: defaults.outputCostPerToken ?? 0,
      });
    }
    return given;
  }
  const merged: ModelCapabilitiesInput = { ...defaults, ...given };
  // A declared `maxTokens` without a context window means the window (the seed's usage).
  if (given.maxTokens !== undefined && given.contextWindow === undefined) merged.contextWindow = given.maxTokens;
  return new ModelCapabilities(merged);
}
