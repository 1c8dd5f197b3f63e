import {
  AuthenticationError,
  type CallControl,
  DEFAULT_MAX_EVENT_BYTES,
  endpointIdentity,
  type GenerateRequest,
  headersIdentity,
  isLoopbackURL,
  Model,
  type ModelCapabilities,
  type ModelCapabilitiesInput,
  type ModelConstraints,
  type ModelConstraintsInput,
  type ModelOutput,
  type OrchestratorError,
  ProviderError,
  providerStream,
  redact,
  registerSecretHeaders,
  revealHeaders,
  Secret,
  secretFromEnv,
  type StreamChunk,
} from "@orchestrator-ts/core";
import { ChatStreamDecoder, type ChatRequestOptions, type PriceSource, SSEJsonStream, type SSEJsonStreamOptions, fromChatCompletion, readJsonBody } from "@orchestrator-ts/openai-format";
import OpenAI from "openai";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import { openAIErrorEvent, mapOpenAIError } from "./map-error";
import { type ChatBody, bodyOptions, toChatBody } from "./mapping";
import { lookupOpenAIModel, resolveOpenAICapabilities } from "./models";

export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";

export interface OpenAIModelOptions {
  /** The name the registry knows this model by (the seed's `name="gpt-4"`). */
  name: string;
  /** The API model id, when it differs from `name`. */
  model?: string;
  /** Default: `OPENAI_API_KEY`, read at first use (importing or constructing never throws). */
  apiKey?: string | Secret;
  /** Default: `OPENAI_ORG_ID` (read by the SDK). */
  organization?: string;
  /** Default: `OPENAI_PROJECT_ID` (read by the SDK). */
  project?: string;
  /** Any OpenAI-compatible server (vLLM, LM Studio, llama.cpp server…). Default: `OPENAI_BASE_URL`, else api.openai.com. */
  baseURL?: string;
  /** Merged over the known model's table entry; your values win. */
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  /** Deadline of one call (default 120 s). */
  timeoutMs?: number;
  /** The SDK's own retries. Default 0: the registry retries and falls back across models. */
  maxRetries?: number;
  /** Sent with every request. A value may be a core `Secret` (an `Authorization` or `api-key` header): revealed only to the SDK. */
  defaultHeaders?: Record<string, string | Secret>;
  /**
   * The largest server-sent event a stream accepts, in bytes (default 4 MiB); a larger one fails
   * the call with a `ProviderError` instead of buffering without bound.
   */
  maxEventBytes?: number;
  /** A custom fetch (proxies, instrumentation). */
  fetch?: typeof fetch;
  /** Default: true when `baseURL` is a loopback address. */
  isLocal?: boolean;
  /** The provider label in results and metrics (default `"openai"`). */
  provider?: string;
}

const SDK_TIMEOUT_GRACE_MS = 1_000;
// Under a CallControl the SDK's timeout is the deadline plus this: the base's deadline fires first and reports the TimeoutError.
const HEADER_SLACK_MS = 5;
// The longest setTimeout delay (~24.8 days); the SDK's timer fires at once beyond it.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * OpenAI chat completions through the official `openai` SDK; also any OpenAI-compatible server
 * through `baseURL`.
 */
export class OpenAIModel extends Model {
  // The client rejects a pending read when the request's signal aborts (tested with a stalled server).
  protected override readonly honoursAbortSignal = true;
  // The SDK's `timeout` bounds the wait for headers, cancelling the body stops the rest (no per-call
  // AbortController). Not with SDK retries: without a signal they would go on past the deadline.
  protected override readonly stopsCallsItself: boolean;
  /** The API model id sent in requests. */
  readonly modelId: string;
  /** The server's URL as it may be shown: a password or key in it reads `[REDACTED]` (the client gets the real one). */
  readonly baseURL: string;
  readonly organization: string | undefined;
  readonly project: string | undefined;
  readonly priceSource: PriceSource;
  readonly #apiKey: Secret | undefined;
  // The URL as given: it may carry credentials (userinfo, `?key=`), so it is not a public field.
  readonly #baseURL: string;
  readonly #maxRetries: number;
  readonly #headers: Record<string, string | Secret> | undefined;
  readonly #streamOptions: SSEJsonStreamOptions;
  readonly #fetch: typeof fetch | undefined;
  readonly #bodyOptions: ChatRequestOptions;
  #client: OpenAI | undefined;

  constructor(options: OpenAIModelOptions) {
    const modelId = options.model || options.name;
    const baseURL = (options.baseURL || process.env.OPENAI_BASE_URL || OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, "");
    const local = isLoopbackURL(baseURL);
    const entry = lookupOpenAIModel(modelId);
    const { capabilities, priceSource } = resolveOpenAICapabilities(entry, options.capabilities, local);
    super({
      name: options.name,
      provider: options.provider ?? "openai",
      capabilities,
      ...(options.constraints !== undefined ? { constraints: options.constraints } : {}),
      isLocal: options.isLocal ?? local,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      // Who answers: two models named alike on other API models or servers never share cached answers.
      cacheIdentity: { model: modelId, baseURL: endpointIdentity(baseURL), headers: headersIdentity(options.defaultHeaders) },
    });
    this.modelId = modelId;
    this.#baseURL = baseURL;
    this.baseURL = redact(baseURL);
    this.organization = options.organization || undefined;
    this.project = options.project || undefined;
    this.priceSource = priceSource;
    this.#apiKey = Secret.from(options.apiKey);
    this.#maxRetries = options.maxRetries ?? 0;
    this.stopsCallsItself = this.#maxRetries === 0;
    this.#headers = options.defaultHeaders;
    // A key in a header (a gateway's `x-portkey-api-key`, `api-key`…) is a secret too: a server may echo it.
    registerSecretHeaders(options.defaultHeaders);
    const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    if (!(maxEventBytes > 0)) throw new RangeError(`maxEventBytes must be a positive number of bytes, got ${maxEventBytes}`);
    this.#streamOptions = { maxEventBytes, provider: this.provider, model: this.name, onErrorEvent: openAIErrorEvent };
    this.#fetch = options.fetch;
    this.#bodyOptions = bodyOptions(modelId, entry?.reasoning);
  }

  protected override async doInitialize(): Promise<void> {
    const key = this.#apiKey ?? secretFromEnv("OPENAI_API_KEY");
    if (!key && this.#baseURL === OPENAI_DEFAULT_BASE_URL) {
      throw new AuthenticationError("No OpenAI API key: pass `apiKey` or set the OPENAI_API_KEY environment variable.", {
        provider: this.provider,
        model: this.name,
      });
    }
    this.#client = new OpenAI({
      // Local OpenAI-compatible servers usually take no key; the SDK insists on one.
      apiKey: key ? key.reveal() : "no-key",
      baseURL: this.#baseURL,
      ...(this.organization !== undefined ? { organization: this.organization } : {}),
      ...(this.project !== undefined ? { project: this.project } : {}),
      maxRetries: this.#maxRetries,
      // The base class owns the deadline (and aborts the signal); this is only a backstop.
      timeout: Number.isFinite(this.timeoutMs) ? Math.min(MAX_TIMER_MS, Math.ceil(this.timeoutMs) + SDK_TIMEOUT_GRACE_MS) : MAX_TIMER_MS,
      ...(this.#headers !== undefined ? { defaultHeaders: revealHeaders(this.#headers) } : {}),
      ...(this.#fetch !== undefined ? { fetch: this.#fetch } : {}),
    });
  }

  protected override async doCleanup(): Promise<void> {
    this.#client = undefined;
  }

  /** `GET /models`: free, checks reachability and the key. */
  protected override async doHealthCheck(): Promise<boolean> {
    await this.#sdk().models.list({ timeout: 10_000, maxRetries: 0 });
    return true;
  }

  protected override mapError(error: unknown): OrchestratorError {
    return mapOpenAIError(error, { provider: this.provider, model: this.name, baseURL: this.baseURL }) ?? super.mapError(error);
  }

  protected async doGenerate(request: GenerateRequest, control?: CallControl): Promise<ModelOutput> {
    const warnings: string[] = [];
    const body = toChatBody(request, this.#bodyOptions, warnings) as ChatBody & { stream?: false };
    const created = this.#sdk().chat.completions.create(body, this.#requestOptions(request, control));
    // The SDK sends the request and maps HTTP errors; the body is read here, cancellable at the deadline.
    const completion = control === undefined ? await created : await readJsonBody<ChatCompletion>(await created.asResponse(), control);
    const output = fromChatCompletion(completion);
    if (warnings.length > 0) output.warnings = warnings;
    return output;
  }

  // A hand-written iterator (core's providerStream), not an async generator: ~one promise per chunk less.
  protected override doStream(request: GenerateRequest, control?: CallControl): AsyncIterable<StreamChunk> {
    // The conversion of chunks (text, tool calls assembled, finish, an error for a cut stream) is openai-format's.
    const decoder = new ChatStreamDecoder({ provider: this.provider, model: this.name });
    return providerStream<ChatCompletionChunk>(
      () => {
        const body = toChatBody(request, this.#bodyOptions, []) as ChatBody & { stream: true };
        body.stream = true;
        body.stream_options ??= { include_usage: true };
        // The SDK sends the request and maps HTTP errors; the SSE body is parsed by SSEJsonStream (faster than the SDK's Stream).
        const opened = this.#sdk().chat.completions.create(body, this.#requestOptions(request, control)).asResponse();
        const options = this.#streamOptions;
        return control === undefined
          ? opened.then((response) => new SSEJsonStream<ChatCompletionChunk>(response, options))
          : opened.then((response) => {
              const chunks = new SSEJsonStream<ChatCompletionChunk>(response, options);
              control.onStop(() => chunks.cancel());
              return chunks;
            });
      },
      (chunk, out) => decoder.push(chunk, out),
      // A body that ends before `[DONE]` ends the events quietly: the decoder never passes a cut answer off as complete.
      (out) => decoder.end(out),
    );
  }

  #sdk(): OpenAI {
    if (this.#client === undefined) throw new ProviderError("The OpenAI client is not initialised.", { provider: this.provider, model: this.name, retryable: true });
    return this.#client;
  }

  // Under a CallControl the SDK's timeout is the real bound on the headers: the deadline plus a few ms, so the base's deadline fires first.
  // The SDK takes whole milliseconds only, and no more than a timer can hold.
  #requestOptions(request: GenerateRequest, control: CallControl | undefined): { signal?: AbortSignal; timeout: number } {
    const deadline = control === undefined ? (request.timeoutMs ?? this.timeoutMs) + SDK_TIMEOUT_GRACE_MS : control.timeoutMs + HEADER_SLACK_MS;
    const timeout = Number.isFinite(deadline) ? Math.min(MAX_TIMER_MS, Math.ceil(deadline)) : MAX_TIMER_MS;
    return request.signal ? { signal: request.signal, timeout } : { timeout };
  }
}

