import { AsyncLocalStorage } from "node:async_hooks";
import {
  type CallControl,
  endpointIdentity,
  DEFAULT_MAX_EVENT_BYTES,
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
  type Secret,
  type StreamChunk,
  type StreamReport,
  type ToolCall,
  fetchWithLineLimit,
  parseRetryAfter,
  redact,
  registerSecretHeaders,
  revealHeaders,
} from "@orchestrator-ts/core";
import type { ChatResponse, Ollama, ShowResponse } from "ollama";
import { mapOllamaError } from "./map-error";
import { DEFAULT_CAPABILITIES, capabilitiesFromShow, declaredFields, mergeDeclared, normalizeModelTag } from "./models";
import { mapDoneReason, mapUsage, toOllamaChat } from "./mapping";
import { loadOllamaSdk } from "./sdk";

export const DEFAULT_OLLAMA_PORT = 11434;
const DEFAULT_HOST = "127.0.0.1";

export interface OllamaPullProgress {
  /** Ollama's status line: "pulling manifest", "pulling <digest>", "verifying sha256 digest", "success". */
  status: string;
  /** The layer being downloaded; `percent` is per layer. */
  digest?: string;
  completed?: number;
  total?: number;
  /** 0–100 for the layer being downloaded, when Ollama reports sizes. */
  percent?: number;
}

export interface OllamaPricing {
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface OllamaModelOptions {
  /** The registry name (the seed's `"llama2"`). */
  name: string;
  /** The Ollama model tag (the seed's `model_path="llama2:7b"`); default `name`. */
  modelPath?: string;
  /** Alias of `modelPath`. */
  model?: string;
  /** `"localhost"`, `"10.0.0.5"` or a full URL (`"http://127.0.0.1:11434"`). Default `OLLAMA_HOST` or 127.0.0.1. */
  host?: string;
  /** Used when `host` carries no port. Default 11434 for a bare host name; a URL keeps its scheme's default. */
  port?: number;
  /** Pull the model in `initialize()` when the server does not have it (default true). */
  pull?: boolean;
  onPullProgress?: (progress: OllamaPullProgress) => void;
  /** How long Ollama keeps the model loaded after a call (`"5m"`, seconds, `-1`). */
  keepAlive?: string | number;
  /** Your fields win over what `/api/show` reports. */
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  /** Deadline of one call (default 120 s; a cold model load can be slow). */
  timeoutMs?: number;
  /** Deadline of a pull in `initialize()` (default: none; models are gigabytes). */
  pullTimeoutMs?: number;
  /** Local compute is free by default; set a price to account for your own hardware. */
  pricing?: OllamaPricing;
  /** Default true: runs on your machine or network, no per-token bill. */
  isLocal?: boolean;
  /** Extra headers (e.g. an auth proxy in front of Ollama). A value may be a core `Secret`, revealed only to the client. */
  headers?: Record<string, string | Secret>;
  /**
   * The largest streamed NDJSON line accepted, in bytes (default 4 MiB): past it the call fails
   * with a `ProviderError`. Streamed bodies reach the client's parser a whole line at a time, which keeps it linear.
   */
  maxEventBytes?: number;
}

/** Where a host/port pair points: `http://host:port`, without a trailing slash. */
export function resolveOllamaUrl(host: string | undefined, port: number | undefined): string {
  const raw = (host ?? globalThis.process?.env?.["OLLAMA_HOST"] ?? DEFAULT_HOST).trim() || DEFAULT_HOST;
  const url = new URL(raw.includes("://") ? raw : `http://${raw}`);
  // A bare host gets Ollama's port; a full URL without one keeps its scheme's default unless `port` is given.
  if (url.port === "") {
    if (!raw.includes("://")) url.port = String(port ?? DEFAULT_OLLAMA_PORT);
    else if (port !== undefined) url.port = String(port);
  }
  return url.toString().replace(/\/+$/, "");
}

// The caller's signal for the request being made: the ollama client cannot take one per call,
// so the custom fetch below picks it up from here (it lives across the client's awaits). The
// client's ResponseError drops headers, so a 429's retry-after is kept here too.
interface CallStore {
  signal: AbortSignal | undefined;
  retryAfter?: string | null;
}
const callStore = new AsyncLocalStorage<CallStore>();
const fetchWithCallSignal: typeof fetch = async (input, init) => {
  const store = callStore.getStore();
  const signal = store?.signal;
  const response = await fetch(
    input,
    signal ? { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal } : init,
  );
  if (response.status === 429 && store) store.retryAfter = response.headers.get("retry-after");
  return response;
};

/** Run one client call with its signal; a 429 leaves `retryAfterMs` on the error for `mapError`. */
async function withSignal<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  const store: CallStore = { signal };
  try {
    return await callStore.run(store, call);
  } catch (error) {
    if (store.retryAfter != null && error && typeof error === "object") {
      const ms = parseRetryAfter((name) => (name === "retry-after" ? store.retryAfter : undefined));
      if (ms !== undefined) Object.assign(error, { retryAfterMs: ms });
    }
    throw error;
  }
}

/**
 * A model served by Ollama through the official `ollama` client: chat, native NDJSON streaming,
 * tools, JSON-schema output, images, reasoning (`providerOptions.ollama.think`: Ollama's
 * `thinking` becomes the result's `reasoning`); `initialize()` pulls a missing model and discovers
 * capabilities from `/api/show`.
 */
export class OllamaModel extends Model {
  // The client rejects a pending read when the request's signal aborts (tested with a stalled server).
  protected override readonly honoursAbortSignal = true;
  /** `providerOptions.ollama`, copied into every request body (`options` into its `options`). */
  override readonly providerOptionsKeys: readonly string[] = ["ollama"];
  /** The Ollama model tag sent as `model`. */
  readonly modelPath: string;
  /** `http://host:port` of the Ollama server, as it may be shown: a password in it reads `[REDACTED]`. */
  readonly baseUrl: string;
  // The URL as given, for the client: it may carry credentials (an auth proxy's userinfo).
  readonly #host: string;
  #discovered: ModelCapabilitiesInput | undefined;
  readonly #declared: ModelCapabilitiesInput;
  readonly #defaults: ModelCapabilitiesInput;
  readonly #pull: boolean;
  readonly #onPullProgress: ((progress: OllamaPullProgress) => void) | undefined;
  readonly #keepAlive: string | number | undefined;
  readonly #pullTimeoutMs: number | undefined;
  readonly #headers: Record<string, string | Secret> | undefined;
  readonly #maxEventBytes: number;
  #client: Ollama | undefined;
  #callIds = 0;

  constructor(options: OllamaModelOptions) {
    const pricing = options?.pricing ?? { inputPerMTok: 0, outputPerMTok: 0 };
    const defaults: ModelCapabilitiesInput = {
      ...DEFAULT_CAPABILITIES,
      inputCostPerToken: pricing.inputPerMTok / 1e6,
      outputCostPerToken: pricing.outputPerMTok / 1e6,
    };
    const declared = declaredFields(options?.capabilities);
    const modelPath = options?.modelPath ?? options?.model ?? options?.name;
    const baseUrl = resolveOllamaUrl(options?.host, options?.port);
    super({
      name: options?.name,
      provider: "ollama",
      capabilities: mergeDeclared(defaults, {}, declared),
      isLocal: options?.isLocal ?? true,
      ...(options?.constraints ? { constraints: options.constraints } : {}),
      ...(options?.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      // Who answers: the model tag on that server (and headers a proxy in front of it may route by).
      cacheIdentity: {
        model: typeof modelPath === "string" ? normalizeModelTag(modelPath) : modelPath,
        host: endpointIdentity(baseUrl),
        headers: headersIdentity(options?.headers),
      },
    });
    this.modelPath = modelPath;
    this.#host = baseUrl;
    this.baseUrl = redact(baseUrl);
    this.#declared = declared;
    this.#defaults = defaults;
    this.#pull = options.pull ?? true;
    this.#onPullProgress = options.onPullProgress;
    this.#keepAlive = options.keepAlive;
    this.#pullTimeoutMs = options.pullTimeoutMs;
    this.#headers = options.headers;
    // A key in a header (an auth proxy in front of Ollama) is a secret too: a server may echo it.
    registerSecretHeaders(options.headers);
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** What `/api/show` reported at the last initialisation, before your declared fields were laid over it. */
  get discoveredCapabilities(): ModelCapabilitiesInput | undefined {
    return this.#discovered;
  }

  protected override async doInitialize(): Promise<void> {
    // The client's NDJSON reader re-splits everything it holds on every read: hand it whole lines, bounded.
    const fetch = fetchWithLineLimit(fetchWithCallSignal, {
      framing: "lines",
      maxEventBytes: this.#maxEventBytes,
      provider: this.provider,
      model: this.name,
    });
    const { Ollama: OllamaClient } = await loadOllamaSdk();
    const client = new OllamaClient({
      host: this.#host,
      fetch,
      ...(this.#headers ? { headers: revealHeaders(this.#headers) } : {}),
    });
    try {
      const tags = await withSignal(AbortSignal.timeout(this.timeoutMs), () => client.list());
      const wanted = normalizeModelTag(this.modelPath);
      if (!tags.models.some((m) => normalizeModelTag(m.name) === wanted)) {
        if (!this.#pull) {
          throw new ProviderError(
            `Model "${this.modelPath}" is not on the Ollama server at ${this.baseUrl}: run \`ollama pull ${this.modelPath}\` or set \`pull: true\`.`,
            {
              provider: this.provider,
              model: this.name,
              status: 404,
              retryable: false,
            },
          );
        }
        await this.#pullModel(client);
      }
      await this.#discover(client);
    } catch (error) {
      // `initialize()` is public: its failures must be typed too.
      throw this.mapError(error);
    }
    this.#client = client;
  }

  protected override async doCleanup(): Promise<void> {
    this.#client?.abort();
    this.#client = undefined;
  }

  /** `GET /api/tags` (free, no model load) and the model is still there. */
  protected override async doHealthCheck(): Promise<boolean> {
    const tags = await withSignal(AbortSignal.timeout(Math.min(this.timeoutMs, 10_000)), () => this.#sdk().list());
    const wanted = normalizeModelTag(this.modelPath);
    return tags.models.some((m) => normalizeModelTag(m.name) === wanted);
  }

  protected override async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    const { body, warnings } = toOllamaChat(request, { model: this.modelPath, keepAlive: this.#keepAlive });
    const client = this.#sdk();
    const response = await withSignal(request.signal, () => client.chat({ ...body, stream: false }));
    const toolCalls = this.#toolCalls(response);
    const finishReason = mapDoneReason(response.done_reason, toolCalls.length > 0);
    // `thinking` comes only when the request asked for it (`providerOptions.ollama.think`).
    const thinking = response.message?.thinking;
    return {
      text: response.message?.content ?? "",
      toolCalls,
      ...(typeof thinking === "string" && thinking !== ""
        ? { reasoning: [{ type: "reasoning" as const, text: thinking }] }
        : {}),
      usage: mapUsage(response),
      ...(finishReason ? { finishReason } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  protected override async *doStream(
    request: GenerateRequest,
    _control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    const { body, warnings } = toOllamaChat(request, { model: this.modelPath, keepAlive: this.#keepAlive });
    // Known before the first chunk, as doGenerate's are: the caller sees them as the stream starts.
    for (const warning of warnings) report.warn(warning);
    const client = this.#sdk();
    const parts = await withSignal(request.signal, () => client.chat({ ...body, stream: true }));
    let final: ChatResponse | undefined;
    let sawToolCalls = false;
    try {
      // The client throws when the stream ends without its `done` line: a cut stream is an error.
      for await (const part of parts) {
        const thinking = part.message?.thinking;
        if (typeof thinking === "string" && thinking !== "") yield { type: "reasoning", text: thinking };
        const text = part.message?.content;
        if (text) yield { type: "text", text };
        for (const toolCall of this.#toolCalls(part)) {
          sawToolCalls = true;
          yield { type: "tool-call", toolCall };
        }
        if (part.done) final = part;
      }
    } finally {
      if (!final) parts.abort();
    }
    if (!final)
      throw new ProviderError("The Ollama stream ended without its final `done` line: the answer is incomplete.", {
        provider: this.provider,
        model: this.name,
        retryable: true,
      });
    const finishReason = mapDoneReason(final.done_reason, sawToolCalls);
    yield { type: "finish", usage: mapUsage(final), ...(finishReason ? { finishReason } : {}) };
  }

  protected override mapError(error: unknown): OrchestratorError {
    return mapOllamaError(error, {
      provider: this.provider,
      model: this.name,
      baseUrl: this.baseUrl,
      modelPath: this.modelPath,
    });
  }

  async #pullModel(client: Ollama): Promise<void> {
    const signal = this.#pullTimeoutMs !== undefined ? AbortSignal.timeout(this.#pullTimeoutMs) : undefined;
    const progress = await withSignal(signal, () => client.pull({ model: this.modelPath, stream: true }));
    for await (const p of progress) {
      if (!this.#onPullProgress) continue;
      const out: OllamaPullProgress = { status: p.status };
      if (typeof p.digest === "string" && p.digest !== "") out.digest = p.digest;
      if (typeof p.total === "number" && p.total > 0) {
        out.total = p.total;
        out.completed = typeof p.completed === "number" ? p.completed : 0;
        out.percent = Math.min(100, (out.completed / p.total) * 100);
      }
      this.#onPullProgress(out);
    }
  }

  async #discover(client: Ollama): Promise<void> {
    let show: ShowResponse;
    try {
      show = await withSignal(AbortSignal.timeout(this.timeoutMs), () => client.show({ model: this.modelPath }));
    } catch {
      // Older servers: keep the declared and default capabilities.
      return;
    }
    const discovered = capabilitiesFromShow(show);
    this.#discovered = discovered;
    const next = mergeDeclared(this.#defaults, discovered, this.#declared);
    this.updateCapabilities(next);
  }

  #toolCalls(response: ChatResponse): ToolCall[] {
    const calls = response.message?.tool_calls;
    if (!calls || calls.length === 0) return [];
    return calls.map((call) => {
      const id = (call as { id?: unknown }).id;
      return {
        id: typeof id === "string" && id !== "" ? id : `ollama_call_${++this.#callIds}`,
        name: call.function.name,
        arguments: call.function.arguments ?? {},
      };
    });
  }

  #sdk(): Ollama {
    if (!this.#client)
      throw new ProviderError("The Ollama client is not initialised.", {
        provider: this.provider,
        model: this.name,
        retryable: false,
      });
    return this.#client;
  }
}
