import {
  AuthenticationError,
  type CallControl,
  DEFAULT_MAX_EVENT_BYTES,
  ConfigError,
  endpointIdentity,
  type GenerateRequest,
  headersIdentity,
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
  type StreamReport,
} from "@orchestrator-ts/core";
import { isLoopbackURL, sdkBackstopTimeoutMs } from "@orchestrator-ts/core/internal";
import {
  ChatStreamDecoder,
  type ChatRequestOptions,
  type PriceSource,
  SSEJsonStream,
  type SSEJsonStreamOptions,
  chatChunkParser,
  fromChatCompletion,
  readJsonBody,
} from "@orchestrator-ts/openai-format";
import type OpenAI from "openai";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import { openAIErrorEvent, mapOpenAIError } from "./map-error";
import { loadOpenAISdk } from "./sdk";
import { type ChatBody, bodyOptions, toChatBody } from "./mapping";
import { undiciFetch, userDispatcher } from "./transport";
import { DirectChat, directHeaders, directTarget } from "./direct";
import { lookupOpenAIModel, resolveOpenAICapabilities } from "./models";
import { AZURE_DEFAULT_API_VERSION, type OpenAIPreset, type OpenAIPresetName, lookupPreset } from "./presets";

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
  /**
   * A custom fetch (proxies, instrumentation). Default: a thin fetch over undici's `request` (see
   * `undiciFetch`); a dispatcher installed with undici's `setGlobalDispatcher` is still honoured.
   */
  fetch?: typeof fetch;
  /** Default: true when `baseURL` is a loopback address. */
  isLocal?: boolean;
  /** The provider label in results and metrics (default `"openai"`, or the preset's name). */
  provider?: string;
  /**
   * An OpenAI-compatible service by name: its base URL, its key's variable (`GROQ_API_KEY`…) and
   * what it documents of its models. `baseURL` still overrides the URL.
   */
  preset?: OpenAIPresetName;
  /** Azure (`preset: "azure"`): `https://<resource>.openai.azure.com`. Default: `AZURE_OPENAI_ENDPOINT`. */
  endpoint?: string;
  /** Azure: the deployment to call. Default: `model` (or `name`). */
  deployment?: string;
  /** Azure: the data-plane API version. Default: `OPENAI_API_VERSION`, else `AZURE_DEFAULT_API_VERSION`. */
  apiVersion?: string;
}

interface AzureTarget {
  endpoint: string | undefined;
  baseURL: string | undefined;
  deployment: string;
  apiVersion: string;
}

// Under a CallControl the SDK's timeout is the deadline plus this: the base's deadline fires first and reports the TimeoutError.
const HEADER_SLACK_MS = 5;

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
  // Every request's stop is registered before it is sent (the direct path's RequestStop, the SDK
  // path's own AbortController): its requests need no signal, also when the caller passed one.
  protected override readonly registersStopFirst = true;
  /** `providerOptions.openai`, copied into every request body (whatever the preset or `provider` label). */
  override readonly providerOptionsKeys: readonly string[] = ["openai"];
  /** The API model id sent in requests. */
  readonly modelId: string;
  /** The server's URL as it may be shown: a password or key in it reads `[REDACTED]` (the client gets the real one). */
  readonly baseURL: string;
  readonly organization: string | undefined;
  readonly project: string | undefined;
  readonly priceSource: PriceSource;
  /** The preset's name, when one was given. */
  readonly preset: OpenAIPresetName | undefined;
  readonly #apiKey: Secret | undefined;
  readonly #preset: OpenAIPreset | undefined;
  readonly #azure: AzureTarget | undefined;
  // The URL as given: it may carry credentials (userinfo, `?key=`), so it is not a public field.
  readonly #baseURL: string;
  readonly #maxRetries: number;
  readonly #headers: Record<string, string | Secret> | undefined;
  readonly #streamOptions: SSEJsonStreamOptions;
  readonly #fetch: typeof fetch | undefined;
  readonly #ownFetch: boolean;
  readonly #bodyOptions: ChatRequestOptions;
  #client: OpenAI | undefined;
  // Chat requests without the SDK's request machinery, when nothing it adds is asked for (see DirectChat).
  #direct: DirectChat | undefined;

  constructor(options: OpenAIModelOptions) {
    const modelId = options.model || options.name;
    const preset = options.preset === undefined ? undefined : lookupPreset(options.preset);
    const azure = preset?.name === "azure" ? azureTarget(options, modelId) : undefined;
    const baseURL = (
      azure
        ? azureURL(azure)
        : options.baseURL || (preset ? preset.baseURL : process.env.OPENAI_BASE_URL) || OPENAI_DEFAULT_BASE_URL
    ).replace(/\/+$/, "");
    const local = isLoopbackURL(baseURL);
    // OpenAI's table prices OpenAI's models (Azure deploys the same ones); other services' models are theirs.
    const entry = preset === undefined || azure ? lookupOpenAIModel(modelId) : undefined;
    const { capabilities, priceSource } = resolveOpenAICapabilities(
      entry,
      options.capabilities,
      local || preset?.local === true,
      preset ? presetKnown(preset, modelId) : undefined,
    );
    super({
      name: options.name,
      provider: options.provider ?? preset?.name ?? "openai",
      capabilities,
      ...(options.constraints !== undefined ? { constraints: options.constraints } : {}),
      isLocal: options.isLocal ?? local,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      // Who answers: two models named alike on other API models or servers never share cached answers.
      cacheIdentity: {
        model: modelId,
        baseURL: endpointIdentity(baseURL),
        headers: headersIdentity(options.defaultHeaders),
      },
    });
    this.modelId = modelId;
    this.#baseURL = baseURL;
    this.baseURL = redact(baseURL);
    this.organization = options.organization || undefined;
    this.project = options.project || undefined;
    this.priceSource = priceSource;
    this.preset = preset?.name as OpenAIPresetName | undefined;
    this.#preset = preset;
    this.#azure = azure;
    this.#apiKey = Secret.from(options.apiKey);
    this.#maxRetries = options.maxRetries ?? 0;
    this.stopsCallsItself = this.#maxRetries === 0;
    this.#headers = options.defaultHeaders;
    // A key in a header (a gateway's `x-portkey-api-key`, `api-key`…) is a secret too: a server may echo it.
    registerSecretHeaders(options.defaultHeaders);
    const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    if (!(maxEventBytes > 0))
      throw new RangeError(`maxEventBytes must be a positive number of bytes, got ${maxEventBytes}`);
    this.#streamOptions = {
      maxEventBytes,
      provider: this.provider,
      model: this.name,
      onErrorEvent: openAIErrorEvent,
      // Read by ChatStreamDecoder only: text deltas cut from their template instead of parsed.
      parser: chatChunkParser,
    };
    this.#ownFetch = options.fetch === undefined;
    this.#fetch = options.fetch ?? undiciFetch();
    this.#bodyOptions = bodyOptions(modelId, entry?.reasoning ?? (preset === undefined ? undefined : false));
  }

  protected override async doInitialize(): Promise<void> {
    const preset = this.#preset;
    // A preset's key comes from its own variable only: OpenAI's key is never sent to another service.
    const envName = preset ? preset.apiKeyEnv : "OPENAI_API_KEY";
    const key = this.#apiKey ?? (envName === undefined ? undefined : secretFromEnv(envName));
    const needsKey = preset
      ? !preset.local && !isLoopbackURL(this.#baseURL)
      : this.#baseURL === OPENAI_DEFAULT_BASE_URL;
    if (!key && needsKey) {
      throw new AuthenticationError(
        `No ${preset ? `${preset.name} ` : "OpenAI "}API key: pass \`apiKey\` or set the ${envName} environment variable.`,
        {
          provider: this.provider,
          model: this.name,
        },
      );
    }
    const openai = await loadOpenAISdk();
    const { default: OpenAIClient, AzureOpenAI } = openai;
    const azure = this.#azure;
    if (azure) {
      this.#client = new AzureOpenAI({
        apiKey: key ? key.reveal() : "no-key",
        // The SDK reads OPENAI_BASE_URL when no baseURL is given, which would clash with `endpoint`.
        ...(azure.baseURL !== undefined
          ? { baseURL: azure.baseURL }
          : { endpoint: azure.endpoint as string, baseURL: null }),
        deployment: azure.deployment,
        apiVersion: azure.apiVersion,
        maxRetries: this.#maxRetries,
        timeout: sdkBackstopTimeoutMs(this.timeoutMs),
        ...(this.#headers !== undefined ? { defaultHeaders: revealHeaders(this.#headers) } : {}),
        ...(this.#fetch !== undefined ? { fetch: this.#fetch } : {}),
      });
      return;
    }
    // Local OpenAI-compatible servers usually take no key; the SDK insists on one.
    const apiKey = key ? key.reveal() : "no-key";
    // The SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID when none is given: OpenAI's, never sent to another service.
    const organization = this.organization ?? (preset ? undefined : readEnv("OPENAI_ORG_ID"));
    const project = this.project ?? (preset ? undefined : readEnv("OPENAI_PROJECT_ID"));
    this.#client = new OpenAIClient({
      apiKey,
      baseURL: this.#baseURL,
      organization: organization ?? null,
      project: project ?? null,
      maxRetries: this.#maxRetries,
      // The base class owns the deadline (and aborts the signal); this is only a backstop.
      timeout: sdkBackstopTimeoutMs(this.timeoutMs),
      ...(this.#headers !== undefined ? { defaultHeaders: revealHeaders(this.#headers) } : {}),
      ...(this.#fetch !== undefined ? { fetch: this.#fetch } : {}),
    });
    // The direct path does what the SDK would for one chat request. Every request goes through the
    // SDK when something only it does is asked for: a fetch of the user's, its own retries, its
    // request log (OPENAI_LOG), headers from OPENAI_CUSTOM_HEADERS, or a header it would refuse.
    const sdkOnly =
      !this.#ownFetch ||
      this.#maxRetries !== 0 ||
      readEnv("OPENAI_CUSTOM_HEADERS") !== undefined ||
      /^(info|debug)$/i.test(readEnv("OPENAI_LOG") ?? "");
    const target = sdkOnly ? undefined : directTarget(this.#baseURL);
    const headers =
      target === undefined
        ? undefined
        : directHeaders({
            apiKey,
            organization,
            project,
            defaultHeaders: this.#headers === undefined ? undefined : revealHeaders(this.#headers),
          });
    this.#direct =
      target === undefined || headers === undefined ? undefined : new DirectChat({ ...target, headers }, openai);
  }

  protected override async doCleanup(): Promise<void> {
    this.#client = undefined;
    this.#direct = undefined;
  }

  /** `GET /models`: free, checks reachability and the key. */
  protected override async doHealthCheck(): Promise<boolean> {
    await this.#sdk().models.list({ timeout: 10_000, maxRetries: 0 });
    return true;
  }

  protected override mapError(error: unknown): OrchestratorError {
    return (
      mapOpenAIError(error, { provider: this.provider, model: this.name, baseURL: this.baseURL }) ??
      super.mapError(error)
    );
  }

  protected async doGenerate(request: GenerateRequest, control?: CallControl): Promise<ModelOutput> {
    const warnings: string[] = [];
    const body = this.#body(request, warnings) as ChatBody & { stream?: false };
    // Sent directly or by the SDK, HTTP errors mapped to the SDK's; the body is read here, cancellable at the deadline.
    const response = await this.#open(body, request, control);
    const completion = await readJsonBody<ChatCompletion>(response, control ?? UNCONTROLLED);
    const output = fromChatCompletion(completion);
    if (warnings.length > 0) output.warnings = warnings;
    return output;
  }

  // A hand-written iterator (core's providerStream), not an async generator: ~one promise per chunk less.
  protected override doStream(
    request: GenerateRequest,
    control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    // The conversion of chunks (text, tool calls assembled, finish, an error for a cut stream) is openai-format's.
    const decoder = new ChatStreamDecoder(
      { provider: this.provider, model: this.name },
      { toolInputDeltas: request.toolInputDeltas },
    );
    return providerStream<ChatCompletionChunk>(
      () => {
        const warnings: string[] = [];
        const body = this.#body(request, warnings) as ChatBody & { stream: true };
        // Known before the first chunk, as doGenerate's are: the caller sees them as the stream starts.
        for (const warning of warnings) report.warn(warning);
        body.stream = true;
        if (this.#preset?.streamOptions !== false) body.stream_options ??= { include_usage: true };
        // Sent directly or by the SDK, HTTP errors mapped to the SDK's; the SSE body is parsed by SSEJsonStream (faster than the SDK's Stream).
        const opened = this.#open(body, request, control);
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

  #body(request: GenerateRequest, warnings: string[]): ChatBody {
    const body = toChatBody(request, this.#bodyOptions, warnings);
    const renames = this.#preset?.renameFields;
    if (renames !== undefined) {
      const record = body as unknown as Record<string, unknown>;
      for (const [from, to] of Object.entries(renames)) {
        if (record[from] === undefined) continue;
        record[to] ??= record[from];
        delete record[from];
      }
    }
    return body;
  }

  /**
   * The 2xx response to a chat request: sent directly when it can be, else (or after a redirect) by
   * the SDK. Under a CallControl the direct request is stopped through it (at the deadline and on
   * abort, also when the caller passed no signal), not through the request's signal.
   */
  #open(body: ChatBody, request: GenerateRequest, control: CallControl | undefined): Promise<Response> {
    const direct = this.#direct;
    // An application's installed dispatcher (a proxy) is honoured by fetch only: those requests go through the SDK.
    if (direct === undefined || userDispatcher())
      return this.#sdk().chat.completions.create(body, this.#sdkOptions(request, control)).asResponse();
    // undici's header timer ticks every ~0.5 s and may fire that much early: a second past the
    // deadline it is only a backstop (the base stops the call at the deadline itself).
    const sent =
      control === undefined
        ? direct.send(body, request.signal, sdkBackstopTimeoutMs(request.timeoutMs ?? this.timeoutMs), undefined)
        : direct.send(body, undefined, sdkBackstopTimeoutMs(control.timeoutMs), control);
    return sent.then((response) => {
      if (response !== undefined) return response;
      // The base URL redirects: from now on the SDK, which follows redirects, sends this model's
      // requests (two hops each, not the direct attempt first and then those two).
      if (this.#direct === direct) this.#direct = undefined;
      // The direct request's stop is spent: #sdkOptions registers the SDK request's own.
      return this.#sdk().chat.completions.create(body, this.#sdkOptions(request, control)).asResponse();
    });
  }

  /**
   * The SDK's options for one request. Under a CallControl the request has no signal (the base
   * stops the call through the control): the SDK's request gets one of its own, stopped through
   * it, so the deadline and the caller's abort end it also before its headers, not only the race
   * around it (and, after a redirect, the direct request's stop is spent: the base no longer races
   * a call that registered a stop). The SDK's timeout is then the real bound on the headers: the
   * deadline plus a few ms, so the base's deadline fires first.
   */
  #sdkOptions(request: GenerateRequest, control: CallControl | undefined): { signal?: AbortSignal; timeout: number } {
    if (control === undefined) {
      const timeout = sdkBackstopTimeoutMs(request.timeoutMs ?? this.timeoutMs);
      return request.signal ? { signal: request.signal, timeout } : { timeout };
    }
    const stop = new AbortController();
    control.onStop(() => stop.abort());
    return { signal: stop.signal, timeout: sdkBackstopTimeoutMs(control.timeoutMs, HEADER_SLACK_MS) };
  }

  #sdk(): OpenAI {
    if (this.#client === undefined)
      throw new ProviderError("The OpenAI client is not initialised.", {
        provider: this.provider,
        model: this.name,
        retryable: true,
      });
    return this.#client;
  }
}

/** An environment variable as the SDK reads it: trimmed, and undefined when blank. */
function readEnv(name: string): string | undefined {
  return globalThis.process?.env?.[name]?.trim() || undefined;
}

// A call without a CallControl (a subclass or test calling doGenerate directly): nothing to register.
const UNCONTROLLED: CallControl = { timeoutMs: Number.POSITIVE_INFINITY, onStop: () => undefined };

/** What a preset's service documents for a model: its abilities, and the model's window when listed. */
function presetKnown(preset: OpenAIPreset, modelId: string): ModelCapabilitiesInput {
  const info = Object.hasOwn(preset.models, modelId) ? preset.models[modelId] : undefined;
  if (info === undefined) return preset.capabilities;
  return {
    ...preset.capabilities,
    maxTokens: info.contextWindow,
    contextWindow: info.contextWindow,
    ...(info.maxOutputTokens !== undefined ? { maxOutputTokens: info.maxOutputTokens } : {}),
  };
}

function azureTarget(options: OpenAIModelOptions, modelId: string): AzureTarget {
  const env = globalThis.process?.env ?? {};
  const baseURL = options.baseURL || undefined;
  const endpoint = options.endpoint || env.AZURE_OPENAI_ENDPOINT || undefined;
  if (baseURL === undefined && endpoint === undefined) {
    throw new ConfigError(
      [
        {
          path: "endpoint",
          message:
            "Azure OpenAI needs `endpoint` (https://<resource>.openai.azure.com) or the AZURE_OPENAI_ENDPOINT environment variable",
        },
      ],
      {
        title: "Invalid OpenAI model options",
        provider: "azure",
        model: options.name,
      },
    );
  }
  return {
    endpoint,
    baseURL,
    deployment: options.deployment || modelId,
    apiVersion: options.apiVersion || env.OPENAI_API_VERSION || AZURE_DEFAULT_API_VERSION,
  };
}

/** Where an Azure deployment's chat completions live, as shown and as part of the cache identity. */
function azureURL(azure: AzureTarget): string {
  const root = azure.baseURL ?? `${(azure.endpoint as string).replace(/\/+$/, "")}/openai`;
  return `${root.replace(/\/+$/, "")}/deployments/${encodeURIComponent(azure.deployment)}?api-version=${encodeURIComponent(azure.apiVersion)}`;
}
