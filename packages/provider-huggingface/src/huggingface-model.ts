import type { InferenceClient, InferenceProviderOrPolicy } from "@huggingface/inference";
import {
  AuthenticationError,
  type CallControl,
  endpointIdentity,
  DEFAULT_MAX_EVENT_BYTES,
  fetchWithLineLimit,
  type GenerateRequest,
  Model,
  type ModelCapabilities,
  type ModelCapabilitiesInput,
  type ModelConstraints,
  type ModelConstraintsInput,
  type ModelOutput,
  type OrchestratorError,
  ProviderError,
  Secret,
  redact,
  secretFromEnv,
  type StreamChunk,
  type StreamReport,
} from "@orchestrator-ts/core";
import { isLoopbackURL } from "@orchestrator-ts/core/internal";
import { ChatStreamDecoder, type PriceSource, fromChatCompletion } from "@orchestrator-ts/openai-format";
import { type RetryAfterNote, mapHuggingFaceError, retryAfterFetch, withRetryAfter } from "./map-error";
import { type ChatInput, type ChatTarget, toChatInput } from "./mapping";
import { lookupHuggingFaceModel, resolveHuggingFaceCapabilities } from "./models";
import { loadHuggingFaceSdk } from "./sdk";

/** Environment variables read (in order) when no `accessToken` is given. */
export const HUGGINGFACE_TOKEN_ENV = ["HF_TOKEN", "HUGGINGFACE_API_KEY", "HUGGING_FACE_HUB_TOKEN"] as const;
export const HUGGINGFACE_HUB_URL = "https://huggingface.co";

export interface HuggingFaceModelOptions {
  /** The registry's name; also the Hub model id when neither `model` nor `modelPath` is given. */
  name: string;
  /** The Hub model id (`meta-llama/Llama-3.3-70B-Instruct`). */
  model?: string;
  /** The seed's spelling of `model`. */
  modelPath?: string;
  /** Default: `HF_TOKEN`, then `HUGGINGFACE_API_KEY`, `HUGGING_FACE_HUB_TOKEN`, read at first use. */
  accessToken?: string | Secret;
  /** A dedicated Inference Endpoint, a TGI server or any OpenAI-compatible URL. Without it, calls go through Inference Providers. */
  endpointUrl?: string;
  /** Inference Providers routing (`"auto"`, `"hf-inference"`, `"together"`…); not with `endpointUrl`. */
  provider?: InferenceProviderOrPolicy;
  /**
   * Accepted for parity with the seed. A remote endpoint picks its own hardware, so it is ignored
   * with a warning; local GGUF inference is `@orchestrator-ts/provider-llama-cpp`.
   */
  device?: string;
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  /** Deadline of one call (default 120 s). */
  timeoutMs?: number;
  /** Bill an organization (`X-HF-Bill-To`). */
  billTo?: string;
  fetch?: typeof fetch;
  /**
   * The largest streamed event accepted, in bytes (default 4 MiB): past it the call fails with a
   * `ProviderError`. Streamed bodies reach the SDK's parser a whole line at a time, which keeps it linear.
   */
  maxEventBytes?: number;
  /** The Hub for the health check (default https://huggingface.co). */
  hubUrl?: string;
  /** Default: true when `endpointUrl` is a loopback address. */
  isLocal?: boolean;
}

const HEALTH_TIMEOUT_MS = 10_000;

/**
 * Hugging Face chat models through `@huggingface/inference`: Inference Providers (router),
 * dedicated Inference Endpoints, and TGI / OpenAI-compatible servers via `endpointUrl`.
 */
export class HuggingFaceModel extends Model {
  // The client rejects a pending read when the request's signal aborts (tested with a stalled server).
  protected override readonly honoursAbortSignal = true;
  /** `providerOptions.huggingface`, copied into every request body. */
  override readonly providerOptionsKeys: readonly string[] = ["huggingface"];
  /** The Hub model id sent in requests (`undefined` for an endpoint that serves one model). */
  readonly modelId: string | undefined;
  /** The endpoint as it may be shown: a password or key in it reads `[REDACTED]` (the client gets the real one). */
  readonly endpointUrl: string | undefined;
  readonly inferenceProvider: InferenceProviderOrPolicy | undefined;
  readonly priceSource: PriceSource;
  /** Settings accepted but not applied (e.g. `device`); also attached to every result. */
  readonly warnings: readonly string[];
  readonly #token: Secret | undefined;
  // The endpoint as given: it may carry credentials (userinfo, `?key=`), so it is not a public field.
  readonly #endpointUrl: string | undefined;
  readonly #fetch: typeof fetch | undefined;
  // The fetch the SDK calls: streamed bodies re-cut at line ends and bounded (core's fetchWithLineLimit).
  readonly #callFetch: typeof fetch;
  readonly #billTo: string | undefined;
  readonly #hubUrl: string;
  readonly #target: ChatTarget;
  #client: InferenceClient | undefined;
  #callOptions: { retry_on_error: false; billTo?: string; fetch?: typeof fetch } = { retry_on_error: false };

  constructor(options: HuggingFaceModelOptions) {
    const endpointUrl = options.endpointUrl ? options.endpointUrl.replace(/\/+$/, "") : undefined;
    const local = endpointUrl !== undefined && isLoopbackURL(endpointUrl);
    // With an endpoint the served model decides; the name is only the registry's label then.
    const modelId = options.model || options.modelPath || (endpointUrl ? undefined : options.name);
    const warnings: string[] = [];
    if (options.device !== undefined) {
      warnings.push(
        `device "${options.device}" is ignored: a Hugging Face endpoint runs on its own hardware (use @orchestrator-ts/provider-llama-cpp for local inference).`,
      );
    }
    let provider = options.provider;
    if (endpointUrl !== undefined && provider !== undefined) {
      // The SDK refuses both at once; the endpoint is the more specific choice.
      if (provider !== "hf-inference") warnings.push(`provider "${provider}" is ignored because endpointUrl is set.`);
      provider = undefined;
    }
    const { capabilities, priceSource } = resolveHuggingFaceCapabilities(
      modelId ? lookupHuggingFaceModel(modelId) : undefined,
      options.capabilities,
      local,
    );
    super({
      name: options.name,
      provider: "huggingface",
      capabilities,
      ...(options.constraints !== undefined ? { constraints: options.constraints } : {}),
      isLocal: options.isLocal ?? local,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      // Who answers: the Hub model, or the endpoint that serves one, and the Inference Provider routing.
      cacheIdentity: { model: modelId, endpoint: endpointIdentity(endpointUrl), inferenceProvider: provider },
    });
    this.modelId = modelId;
    this.#endpointUrl = endpointUrl;
    this.endpointUrl = endpointUrl === undefined ? undefined : redact(endpointUrl);
    this.inferenceProvider = provider;
    this.priceSource = priceSource;
    this.warnings = Object.freeze(warnings);
    this.#token = Secret.from(options.accessToken);
    this.#fetch = options.fetch;
    const base =
      options.fetch ?? ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => fetch(input, init));
    this.#callFetch = fetchWithLineLimit(base, {
      maxEventBytes: options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
      provider: this.provider,
      model: this.name,
    });
    this.#billTo = options.billTo;
    this.#hubUrl = (options.hubUrl ?? HUGGINGFACE_HUB_URL).replace(/\/+$/, "");
    this.#target = {
      ...(modelId !== undefined ? { model: modelId } : {}),
      ...(provider !== undefined ? { provider } : {}),
    };
  }

  protected override async doInitialize(): Promise<void> {
    const token = this.#resolveToken();
    // Inference Providers need a token; a TGI server or endpoint may not.
    if (!token && this.#endpointUrl === undefined) {
      throw new AuthenticationError(
        `No Hugging Face token: pass \`accessToken\` or set the ${HUGGINGFACE_TOKEN_ENV[0]} environment variable.`,
        {
          provider: this.provider,
          model: this.name,
        },
      );
    }
    this.#callOptions = {
      // The SDK retries 503s immediately and forever unless told not to; the registry does retries.
      retry_on_error: false,
      ...(this.#billTo !== undefined ? { billTo: this.#billTo } : {}),
      fetch: this.#callFetch,
    };
    const { InferenceClient: Client } = await loadHuggingFaceSdk();
    this.#client = new Client(token?.reveal(), {
      ...(this.#endpointUrl !== undefined ? { endpointUrl: this.#endpointUrl } : {}),
      ...this.#callOptions,
    });
  }

  protected override async doCleanup(): Promise<void> {
    this.#client = undefined;
  }

  /**
   * Endpoint: TGI's `GET /health` (falling back to `GET /v1/models` for other OpenAI-compatible
   * servers). Inference Providers: the Hub's model info (free), healthy when a provider serves it.
   */
  protected override async doHealthCheck(): Promise<boolean> {
    const token = this.#resolveToken();
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token.reveal()}` } : {};
    const get = (url: string) =>
      (this.#fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    if (this.#endpointUrl !== undefined) {
      const base = this.#endpointUrl.replace(/(\/v1)?(\/chat\/completions)?$/, "");
      const health = await get(`${base}/health`);
      await health.body?.cancel();
      if (health.ok) return true;
      if (health.status !== 404) return false;
      const models = await get(`${base}/v1/models`);
      await models.body?.cancel();
      return models.ok;
    }
    const response = await get(
      `${this.#hubUrl}/api/models/${this.modelId ?? this.name}?expand[]=inferenceProviderMapping`,
    );
    if (!response.ok) {
      await response.body?.cancel();
      return false;
    }
    const info = (await response.json()) as { inferenceProviderMapping?: unknown };
    const want = this.inferenceProvider && this.inferenceProvider !== "auto" ? this.inferenceProvider : undefined;
    return liveProviders(info.inferenceProviderMapping).some((p) => want === undefined || p === want);
  }

  protected override mapError(error: unknown): OrchestratorError {
    return (
      mapHuggingFaceError(error, { provider: this.provider, model: this.name, endpointUrl: this.endpointUrl }) ??
      super.mapError(error)
    );
  }

  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    const client = this.#sdk();
    const warnings = [...this.warnings];
    const input = toChatInput(request, this.#target, warnings);
    const note: RetryAfterNote = {};
    let completion: Awaited<ReturnType<InferenceClient["chatCompletion"]>>;
    try {
      completion = await client.chatCompletion(input, this.#options(request, note));
    } catch (error) {
      throw withRetryAfter(error, note);
    }
    const output = fromChatCompletion(completion);
    if (warnings.length > 0) output.warnings = warnings;
    return output;
  }

  protected override async *doStream(
    request: GenerateRequest,
    _control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    const client = this.#sdk();
    const warnings = [...this.warnings];
    const input: ChatInput = toChatInput(request, this.#target, warnings);
    // Known before the first chunk, as doGenerate's are: the caller sees them as the stream starts.
    for (const warning of warnings) report.warn(warning);
    input.stream_options ??= { include_usage: true };
    // The conversion of chunks (text, tool calls assembled, finish) is openai-format's, shared with the OpenAI provider.
    const decoder = new ChatStreamDecoder(
      { provider: this.provider, model: this.name },
      { toolInputDeltas: request.toolInputDeltas },
    );
    const out: StreamChunk[] = [];
    const note: RetryAfterNote = {};
    try {
      for await (const chunk of client.chatCompletionStream(input, this.#options(request, note))) {
        decoder.push(chunk, out);
        if (out.length > 0) {
          for (const piece of out) yield piece;
          out.length = 0;
        }
      }
    } catch (error) {
      throw withRetryAfter(error, note);
    }
    // The SDK ends quietly when a stream stops before `[DONE]`: the decoder never passes a cut answer off as complete.
    decoder.end(out);
    for (const piece of out) yield piece;
  }

  #resolveToken(): Secret | undefined {
    if (this.#token) return this.#token;
    for (const name of HUGGINGFACE_TOKEN_ENV) {
      const secret = secretFromEnv(name);
      if (secret) return secret;
    }
    return undefined;
  }

  #sdk(): InferenceClient {
    if (this.#client === undefined)
      throw new ProviderError("The Hugging Face client is not initialised.", {
        provider: this.provider,
        model: this.name,
        retryable: true,
      });
    return this.#client;
  }

  // Each call gets its own fetch wrapper: the SDK drops a failed response's headers, the wrapper keeps its retry-after.
  #options(
    request: GenerateRequest,
    note: RetryAfterNote,
  ): { retry_on_error: false; signal?: AbortSignal; fetch: typeof fetch } {
    const fetch = retryAfterFetch(this.#callFetch, note);
    return request.signal ? { ...this.#callOptions, fetch, signal: request.signal } : { ...this.#callOptions, fetch };
  }
}

function liveProviders(mapping: unknown): string[] {
  if (Array.isArray(mapping)) {
    return mapping.flatMap((m: { provider?: unknown; status?: unknown }) =>
      typeof m.provider === "string" && m.status !== "staging" ? [m.provider] : [],
    );
  }
  if (typeof mapping === "object" && mapping !== null) {
    return Object.entries(mapping).flatMap(([provider, m]) =>
      (m as { status?: unknown })?.status === "staging" ? [] : [provider],
    );
  }
  return [];
}
