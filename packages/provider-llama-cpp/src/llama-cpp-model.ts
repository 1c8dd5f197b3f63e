import { freemem } from "node:os";
import {
  AbortError,
  type CallControl,
  ConfigError,
  type GenerateRequest,
  Model,
  type ModelCapabilities,
  type ModelCapabilitiesInput,
  ModelConstraints,
  type ModelConstraintsInput,
  type ModelOutput,
  type OrchestratorError,
  ProviderError,
  type ResponseFormat,
  type StreamChunk,
  type StreamReport,
} from "@orchestrator-ts/core";
import { toJsonSchema } from "@orchestrator-ts/core/internal";
import type { LlamaChat, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import { ChunkQueue, SerialLock } from "./chat-queue";
import { GgufFileError, InsufficientMemoryError } from "./errors";
import { type GgufSummary, readGgufSummary } from "./gguf-file";
import { type RuntimeLease, acquireRuntime, defaultThreads, loadNodeLlamaCpp, settleWithin } from "./llama-runtime";
import { mapLlamaCppError } from "./map-error";
import { mapStopReason, toChatHistory } from "./mapping";
import {
  DEFAULT_MAX_CONTEXT,
  PROVIDER,
  type Resolved,
  checkOptions,
  constraintsFor,
  defaultCapabilities,
  estimateMemoryBytes,
  fileIdentity,
  formatBytes,
  resolveFile,
} from "./models";
import type { FileQuantization, LlamaQuantization } from "./quantization";

export interface LlamaCppModelOptions {
  name: string;
  /** A `.gguf` file, or a directory of them (the file with `quantization` is chosen). */
  modelPath: string;
  /** `"int8"` (Q8_0), `"int4"` (Q4_K_M, Q4_0…), `"f16"`, `"f32"`, or an exact type such as `"Q5_K_M"`. */
  quantization?: LlamaQuantization;
  /** Tokens of context to allocate. Default: the trained context length, at most 4096. */
  contextSize?: number;
  /** CPU threads. Default: half the logical CPUs, 1–8 (1 on a 2-core machine); see the README. */
  threads?: number;
  /** Layers to offload to a GPU: a number, `"auto"` (default, as many as fit) or `"max"`. 0 = CPU only. */
  gpuLayers?: number | "auto" | "max";
  /** The seed's `device_map`: `"auto"` (default) uses a GPU when one exists, `"cpu"` never does. */
  deviceMap?: "auto" | "cpu";
  /** Compute cost in USD per token, when you want local calls to carry a price (default 0). */
  computeCostPerToken?: number | { input: number; output: number };
  /** Default `maxTokens` of a request that sets none. Default: `contextSize`. */
  maxTokens?: number;
  /** Free memory for the pre-load check: a byte count or a function (default `os.freemem()`). */
  freeMemoryBytes?: number | (() => number);
  /** Check estimated memory against free memory before loading (default true; skipped on GPU). */
  memoryCheck?: boolean;
  /** Declared capabilities win over those read from the file. */
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  /** Deadline of one call unless the request sets `timeoutMs` (default 120 s). */
  timeoutMs?: number;
}

const DISPOSE_LIMIT_MS = 2_000;

interface Loaded {
  lease: RuntimeLease;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  grammars: Map<string, Promise<LlamaGrammar>>;
}

/**
 * A local GGUF model run by llama.cpp (through node-llama-cpp). The file is checked and its
 * metadata read when the model is constructed; the weights are loaded on `initialize()` (or the
 * first call) and stay loaded until `cleanup()`. Requests on one model run one at a time.
 */
export class LlamaCppModel extends Model {
  /**
   * Whether the constructor leaves the disk alone and the file is chosen and read on first use
   * (the lazy subclass): a model registered at start-up must not fail because its folder is not
   * there yet.
   */
  protected static readonly readsFileOnFirstUse: boolean = false;
  /** `providerOptions["llama-cpp"]`: its `topK` and `minP`. */
  override readonly providerOptionsKeys: readonly string[] = [PROVIDER];

  readonly threads: number;
  readonly gpuLayers: number | "auto" | "max";
  readonly deviceMap: "auto" | "cpu";

  readonly #options: LlamaCppModelOptions;
  readonly #lock = new SerialLock();
  readonly #controllers = new Set<AbortController>();
  #resolved: Resolved | undefined;
  #loaded: Loaded | undefined;
  #loading: Promise<Loaded> | undefined;
  #loadCount = 0;
  /** Whether `initialize()` loads the weights (the lazy subclass waits for the first request). */
  protected readonly loadOnInitialize: boolean = true;

  constructor(options: LlamaCppModelOptions) {
    checkOptions(options);
    const resolved = (new.target as typeof LlamaCppModel).readsFileOnFirstUse ? undefined : resolveFile(options);
    const constraints = constraintsFor(options, resolved);
    // The identity of a lazy model is asked for after construction, once `self` is set.
    const self: { model?: LlamaCppModel } = {};
    super({
      name: options.name,
      provider: PROVIDER,
      capabilities:
        options.capabilities ??
        defaultCapabilities(options, resolved?.contextSize ?? options.contextSize ?? DEFAULT_MAX_CONTEXT),
      ...(constraints !== undefined ? { constraints } : {}),
      isLocal: true,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      // A lazy model chooses its file on first use: its identity waits for that too.
      cacheIdentity: resolved
        ? fileIdentity(resolved, options)
        : () => fileIdentity((self.model as LlamaCppModel).#resolve(), options),
    });
    this.#options = options;
    this.#resolved = resolved;
    self.model = this;
    this.threads = options.threads ?? defaultThreads();
    this.deviceMap = options.deviceMap ?? (options.gpuLayers === 0 ? "cpu" : "auto");
    this.gpuLayers = this.deviceMap === "cpu" ? 0 : (options.gpuLayers ?? "auto");
  }

  /** The GGUF file chosen for `modelPath` and `quantization` (a lazy model chooses it on first read). */
  get file(): GgufSummary {
    return this.#resolve().file;
  }

  /** The chosen file's quantization. */
  get quantization(): FileQuantization {
    return this.#resolve().quantization;
  }

  /** Tokens of context allocated: `contextSize`, else the file's trained length, at most 4096. */
  get contextSize(): number {
    return this.#resolve().contextSize;
  }

  /** Chooses and reads the file once; a failure is thrown and tried again next time (the file may appear). */
  #resolve(): Resolved {
    if (this.#resolved) return this.#resolved;
    const resolved = resolveFile(this.#options);
    this.#resolved = resolved;
    // Capabilities given before the file was read assumed the default context; now it is known.
    if (!this.#options.capabilities && this.capabilities.contextWindow !== resolved.contextSize)
      this.updateCapabilities(defaultCapabilities(this.#options, resolved.contextSize));
    // So is the memory estimate. The limiter keeps the constraints it was built with; only
    // requiredMemoryGb differs, which it does not read.
    const constraints = constraintsFor(this.#options, resolved);
    if (
      constraints !== undefined &&
      !(constraints instanceof ModelConstraints) &&
      this.constraints.requiredMemoryGb === undefined
    ) {
      (this as { constraints: ModelConstraints }).constraints = ModelConstraints.from(constraints);
    }
    return resolved;
  }

  /** Whether the weights are in memory now. */
  get isLoaded(): boolean {
    return this.#loaded !== undefined;
  }

  /** How many times the weights were loaded (diagnostics: a lazy model reloads after an idle unload). */
  get loadCount(): number {
    return this.#loadCount;
  }

  /** Load the weights now (a no-op when loaded). */
  async load(): Promise<void> {
    await this.#ensureLoaded();
  }

  /** Release the weights and context (the model reloads on next use); waits for the running request. */
  async unload(): Promise<void> {
    await this.#lock.run(() => this.#dispose());
  }

  protected override async doInitialize(): Promise<void> {
    if (this.loadOnInitialize) await this.#ensureLoaded();
  }

  protected override async doCleanup(): Promise<void> {
    // Stop running generations first so cleanup never waits for a long answer.
    for (const controller of this.#controllers) controller.abort();
    await this.#lock.run(() => this.#dispose());
  }

  protected override async doHealthCheck(): Promise<boolean> {
    const loaded = this.#loaded;
    if (loaded) return !loaded.model.disposed;
    // Not loaded (lazy or idle): a readable, valid header is healthy without loading gigabytes.
    readGgufSummary(this.file.path);
    return true;
  }

  protected override mapError(error: unknown): OrchestratorError {
    return mapLlamaCppError(error, { provider: this.provider, model: this.name }) ?? super.mapError(error);
  }

  protected override async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    return this.#exclusive(request, undefined);
  }

  protected override async *doStream(
    request: GenerateRequest,
    _control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    const queue = new ChunkQueue();
    const controller = new AbortController();
    const done = this.#exclusive(request, queue.pushText, controller, report).then(
      (output) =>
        queue.end({
          type: "finish",
          ...(output.finishReason ? { finishReason: output.finishReason } : {}),
          ...(output.usage ? { usage: output.usage } : {}),
        }),
      (error: unknown) => queue.fail(error),
    );
    try {
      for (;;) {
        const chunk = queue.shift();
        if (chunk) {
          yield chunk;
          continue;
        }
        if (queue.ended) return;
        await queue.wait();
      }
    } finally {
      // The consumer stopped early (or failed): stop the generation and wait for it to let go.
      if (!queue.ended) controller.abort();
      await done;
    }
  }

  /** Hook for subclasses: called when the last queued request finished. */
  protected onIdle(): void {}

  /** Unload unless a request arrived meanwhile (then the next idle moment decides again). */
  protected async unloadIfIdle(): Promise<void> {
    await this.#lock.run(async () => {
      if (this.#lock.pending <= 1) await this.#dispose();
    });
  }

  // ---- internals --------------------------------------------------------------------------

  async #exclusive(
    request: GenerateRequest,
    onTextChunk: ((text: string) => void) | undefined,
    own = new AbortController(),
    report?: StreamReport,
  ): Promise<ModelOutput> {
    const outer = request.signal;
    const forward = (): void => own.abort();
    if (outer?.aborted) own.abort();
    else outer?.addEventListener("abort", forward, { once: true });
    this.#controllers.add(own);
    try {
      return await this.#lock.run(
        () => this.#generate(request, onTextChunk, own.signal, report),
        own.signal,
        () => this.#abortError(),
      );
    } finally {
      outer?.removeEventListener("abort", forward);
      this.#controllers.delete(own);
      if (this.#lock.pending === 0) this.onIdle();
    }
  }

  #abortError(): AbortError {
    return new AbortError(undefined, { provider: this.provider, model: this.name });
  }

  async #generate(
    request: GenerateRequest,
    onTextChunk: ((text: string) => void) | undefined,
    signal: AbortSignal,
    report: StreamReport | undefined,
  ): Promise<ModelOutput> {
    const loaded = this.#loaded ?? (await this.#ensureLoaded());
    if (signal.aborted) throw this.#abortError();
    const warnings: string[] = [];
    const history = toChatHistory(request, warnings);
    // A stream's, before its first token: the caller sees them as the stream starts.
    if (report !== undefined) for (const warning of warnings) report.warn(warning);
    const grammar =
      request.responseFormat?.type === "json" ? await this.#grammarFor(loaded, request.responseFormat) : undefined;
    const tuning = request.providerOptions?.[PROVIDER];
    const outputBefore = loaded.sequence.tokenMeter.usedOutputTokens;
    const stop = request.stop?.filter((s) => s.length > 0);
    const response = await loaded.chat.generateResponse(history, {
      maxTokens: request.maxTokens ?? this.#options.maxTokens ?? this.contextSize,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { topP: request.topP } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(typeof tuning?.topK === "number" ? { topK: tuning.topK } : {}),
      ...(typeof tuning?.minP === "number" ? { minP: tuning.minP } : {}),
      ...(stop && stop.length > 0 ? { customStopTriggers: stop } : {}),
      ...(grammar ? { grammar } : {}),
      ...(onTextChunk ? { onTextChunk } : {}),
      signal,
      stopOnAbortSignal: true,
    });
    const reason = response.metadata.stopReason;
    if (reason === "abort" || signal.aborted) throw this.#abortError();
    // Usage from the tokenizer: generated tokens as the sequence counted them, and the prompt as
    // the chat template renders it (special tokens included). Once per request, never per token.
    const outputTokens = loaded.sequence.tokenMeter.usedOutputTokens - outputBefore;
    const inputTokens = loaded.chat.chatWrapper
      .generateContextState({ chatHistory: history })
      .contextText.tokenize(loaded.model.tokenizer).length;
    return {
      text: response.response,
      usage: { inputTokens, outputTokens },
      finishReason: mapStopReason(reason),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  async #grammarFor(loaded: Loaded, format: Extract<ResponseFormat, { type: "json" }>): Promise<LlamaGrammar> {
    const schema = format.schema ? toJsonSchema(format.schema) : undefined;
    const key = schema ? JSON.stringify(schema) : "";
    let grammar = loaded.grammars.get(key);
    if (!grammar) {
      const llama = loaded.lease.llama;
      grammar = (
        schema
          ? llama.createGrammarForJsonSchema(schema as Parameters<typeof llama.createGrammarForJsonSchema>[0])
          : llama.getGrammarFor("json")
      ) as Promise<LlamaGrammar>;
      loaded.grammars.set(key, grammar);
      grammar.catch(() => loaded.grammars.delete(key));
    }
    try {
      return await grammar;
    } catch (error) {
      throw new ProviderError(
        `The JSON schema of responseFormat cannot be turned into a grammar: ${(error as Error)?.message ?? String(error)}`,
        { provider: this.provider, model: this.name, status: 400, retryable: false, cause: error },
      );
    }
  }

  #ensureLoaded(): Promise<Loaded> {
    if (this.#loaded) return Promise.resolve(this.#loaded);
    if (!this.#loading) {
      const attempt = this.#load().then((loaded) => {
        this.#loaded = loaded;
        this.#loadCount++;
        return loaded;
      });
      this.#loading = attempt;
      const clear = (): void => {
        if (this.#loading === attempt) this.#loading = undefined;
      };
      attempt.then(clear, clear);
    }
    return this.#loading;
  }

  async #load(): Promise<Loaded> {
    const context = { provider: this.provider, model: this.name };
    // Check the file again (it may have changed since construction): llama.cpp must never see a
    // truncated file, since a failed load can leave its Llama unable to dispose.
    const file = readGgufSummary(this.file.path);
    const gpu = this.deviceMap === "cpu" ? false : "auto";
    const lease = await acquireRuntime({ gpu, maxThreads: this.threads });
    try {
      if (lease.llama.gpu === false && (this.#options.memoryCheck ?? true)) this.#checkMemory(file);
      const mark = lease.logMark();
      let model: LlamaModel;
      try {
        model = await lease.llama.loadModel({
          modelPath: file.path,
          gpuLayers: lease.llama.gpu === false ? 0 : this.gpuLayers,
        });
      } catch (error) {
        lease.poison();
        const name = (error as { name?: string })?.name;
        if (name === "InsufficientMemoryError") throw error;
        const detail = lease.logSince(mark).slice(-3).join("; ");
        throw new GgufFileError(
          `llama.cpp could not load ${file.path}: ${(error as Error)?.message ?? String(error)}${detail ? ` (${detail})` : ""}`,
          "corrupt",
          { ...context, cause: error },
        );
      }
      try {
        const llamaContext = await model.createContext({
          contextSize: this.contextSize,
          threads: this.threads,
          sequences: 1,
        });
        const sequence = llamaContext.getSequence();
        const { LlamaChat } = await loadNodeLlamaCpp();
        // "auto" reads tokenizer.chat_template from the file (a Jinja template) or picks a known wrapper.
        const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
        return { lease, model, context: llamaContext, sequence, chat, grammars: new Map() };
      } catch (error) {
        await settleWithin(model.dispose(), DISPOSE_LIMIT_MS);
        throw error;
      }
    } catch (error) {
      await lease.release();
      throw error;
    }
  }

  #checkMemory(file: GgufSummary): void {
    const needed = estimateMemoryBytes(file, this.contextSize);
    const option = this.#options.freeMemoryBytes;
    const free = typeof option === "function" ? option() : (option ?? freemem());
    if (needed > free) {
      throw new InsufficientMemoryError(
        `Not enough free memory to load ${this.name}: needs about ${formatBytes(needed)} (weights ${formatBytes(file.sizeBytes)} + KV cache for ${this.contextSize} tokens + buffers), ${formatBytes(free)} free. Use a smaller quantization or a smaller contextSize.`,
        needed,
        free,
        { provider: this.provider, model: this.name },
      );
    }
  }

  async #dispose(): Promise<void> {
    const pending = this.#loading;
    if (pending) await pending.catch(() => undefined);
    const loaded = this.#loaded;
    this.#loaded = undefined;
    if (!loaded) return;
    loaded.chat.dispose({ disposeSequence: true });
    await settleWithin(loaded.context.dispose(), DISPOSE_LIMIT_MS);
    await settleWithin(loaded.model.dispose(), DISPOSE_LIMIT_MS);
    await loaded.lease.release();
  }
}

export interface LazyLlamaCppModelOptions extends LlamaCppModelOptions {
  /** Unload the weights after this long without requests (default 5 minutes; 0 = never). */
  idleUnloadMs?: number;
}

/**
 * The seed's `LazyHuggingFaceModel`: nothing is read or loaded until the first request (concurrent
 * first requests load once; reading `file`, `quantization` or `contextSize` reads the header), the weights are unloaded after `idleUnloadMs` without requests and loaded
 * again on the next one, and `cleanup()` releases everything. Health checks do not load weights.
 */
export class LazyLlamaCppModel extends LlamaCppModel {
  protected static override readonly readsFileOnFirstUse: boolean = true;
  readonly idleUnloadMs: number;
  protected override readonly loadOnInitialize: boolean = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LazyLlamaCppModelOptions) {
    super(options);
    const idle = options.idleUnloadMs ?? 300_000;
    if (!(idle >= 0) || !Number.isFinite(idle)) {
      throw new ConfigError(
        [{ path: "idleUnloadMs", message: `must be a non-negative number of milliseconds, got ${String(idle)}` }],
        { provider: PROVIDER, model: options.name },
      );
    }
    this.idleUnloadMs = idle;
  }

  protected override onIdle(): void {
    if (this.idleUnloadMs === 0) return;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      void this.unloadIfIdle().catch(() => undefined);
    }, this.idleUnloadMs);
    // An idle model must not keep the process alive.
    this.#idleTimer.unref?.();
  }

  protected override async doCleanup(): Promise<void> {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    await super.doCleanup();
  }
}
