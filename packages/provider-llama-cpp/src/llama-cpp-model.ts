import { statSync } from "node:fs";
import { freemem } from "node:os";
import { resolve } from "node:path";
import {
  AbortError,
  ConfigError,
  type FinishReason,
  type GenerateRequest,
  Model,
  type ModelCapabilities,
  type ModelCapabilitiesInput,
  ModelConstraints,
  type ModelConstraintsInput,
  type ModelOutput,
  OrchestratorError,
  ProviderError,
  type ResponseFormat,
  type StreamChunk,
  contentText,
  toJsonSchema,
} from "@orchestrator-ts/core";
import type { ChatHistoryItem, LlamaChat, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import { ChunkQueue, SerialLock } from "./chat-queue";
import { GgufFileError, InsufficientMemoryError } from "./errors";
import { type GgufSummary, readGgufSummary } from "./gguf-file";
import { type RuntimeLease, acquireRuntime, defaultThreads, loadNodeLlamaCpp, settleWithin } from "./llama-runtime";
import { type FileQuantization, type LlamaQuantization, resolveModelFile } from "./quantization";

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

const PROVIDER = "llama-cpp";
const DEFAULT_MAX_CONTEXT = 4096;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const DISPOSE_LIMIT_MS = 2_000;

const LENGTH: FinishReason = Object.freeze({ unified: "length", raw: "maxTokens" }) as FinishReason;
const STOP_REASONS: Record<string, FinishReason> = {
  eogToken: Object.freeze({ unified: "stop", raw: "eogToken" }) as FinishReason,
  stopGenerationTrigger: Object.freeze({ unified: "stop", raw: "stopGenerationTrigger" }) as FinishReason,
  customStopTrigger: Object.freeze({ unified: "stop", raw: "customStopTrigger" }) as FinishReason,
  functionCalls: Object.freeze({ unified: "tool-calls", raw: "functionCalls" }) as FinishReason,
  maxTokens: LENGTH,
};

/**
 * Rough memory a loaded model needs on the CPU: the weights (the file), the f16 KV cache for
 * `contextSize`, and compute buffers (64 MiB plus 10%). Deliberately simple and a little generous.
 */
export function estimateMemoryBytes(summary: GgufSummary, contextSize: number): number {
  const layers = summary.blockCount ?? 0;
  const embedding = summary.embeddingLength ?? 0;
  const heads = summary.headCount ?? 0;
  const kvDim = heads > 0 ? (embedding / heads) * (summary.headCountKv ?? heads) : embedding;
  const kvCache = 2 * layers * contextSize * kvDim * 2;
  return Math.ceil((summary.sizeBytes + kvCache) * 1.1 + 64 * MIB);
}

function formatBytes(bytes: number): string {
  return bytes >= GIB ? `${(bytes / GIB).toFixed(2)} GiB` : `${(bytes / MIB).toFixed(1)} MiB`;
}

interface Loaded {
  lease: RuntimeLease;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  grammars: Map<string, Promise<LlamaGrammar>>;
}

/** What the file decides: chosen once, from `modelPath` and `quantization`. */
interface Resolved {
  file: GgufSummary;
  quantization: FileQuantization;
  contextSize: number;
}

/** Checks of the options alone, no disk access: a lazy model runs only these when constructed. */
function checkOptions(options: LlamaCppModelOptions): void {
  const context = { provider: PROVIDER, model: options?.name };
  if (!options || typeof options.modelPath !== "string" || options.modelPath.length === 0) {
    throw new ConfigError([{ path: "modelPath", message: "is required: a .gguf file or a directory of them" }], { ...context, title: "Invalid llama-cpp model options" });
  }
  const positive = (key: "contextSize" | "threads" | "maxTokens", value: number | undefined): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ConfigError([{ path: key, message: `must be a positive integer, got ${String(value)}` }], { ...context, title: "Invalid llama-cpp model options" });
    }
  };
  positive("contextSize", options.contextSize);
  positive("threads", options.threads);
  positive("maxTokens", options.maxTokens);
}

/** Reads the directory and the chosen file's header (synchronously, header only). */
function resolveFile(options: LlamaCppModelOptions): Resolved {
  const { summary: file, quantization } = resolveModelFile(options.modelPath, options.quantization, { provider: PROVIDER, model: options.name });
  const trained = file.contextLength ?? DEFAULT_MAX_CONTEXT;
  return { file, quantization, contextSize: options.contextSize ?? Math.min(trained, DEFAULT_MAX_CONTEXT) };
}

function defaultCapabilities(options: LlamaCppModelOptions, contextSize: number): ModelCapabilitiesInput {
  const cost = options.computeCostPerToken ?? 0;
  const [inputCost, outputCost] = typeof cost === "number" ? [cost, cost] : [cost.input, cost.output];
  return {
    textGeneration: true,
    maxTokens: contextSize,
    contextWindow: contextSize,
    supportsStreaming: true,
    structuredOutput: true,
    functionCalling: false,
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
  };
}

function constraintsFor(options: LlamaCppModelOptions, resolved: Resolved | undefined): ModelConstraints | ModelConstraintsInput | undefined {
  const declared = options.constraints;
  if (!resolved || declared instanceof ModelConstraints) return declared;
  const required = Math.ceil((estimateMemoryBytes(resolved.file, resolved.contextSize) / GIB) * 100) / 100;
  return { requiredMemoryGb: required, ...declared };
}

/**
 * Who answers, for cache keys: the weights file (its absolute path, size and modification time:
 * two fine-tunes of one base model can share a size, and a file replaced in place changes its
 * time), its quantization, and what changes answers (context size, default `maxTokens`). A lazy
 * model reads its file at the first use, so its identity is computed then (the same as an eager one's).
 */
function fileIdentity(resolved: Resolved, options: LlamaCppModelOptions): Record<string, unknown> {
  const path = resolve(resolved.file.path);
  let modifiedMs: number | undefined;
  try {
    modifiedMs = statSync(path).mtimeMs;
  } catch {
    // Read a moment ago; if it is gone now, loading will say so. Path and size still identify it.
  }
  return {
    file: path,
    sizeBytes: resolved.file.sizeBytes,
    modifiedMs,
    quantization: resolved.quantization.type,
    contextSize: resolved.contextSize,
    maxTokens: options.maxTokens ?? resolved.contextSize,
  };
}

function toHistory(request: GenerateRequest, warnings: string[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  let sawImage = false;
  for (const m of request.messages) {
    if (typeof m.content !== "string" && m.content.some((p) => p.type === "image")) sawImage = true;
    const text = contentText(m.content);
    if (m.role === "system") history.push({ type: "system", text });
    else if (m.role === "assistant") history.push({ type: "model", response: [text] });
    else if (m.role === "tool") history.push({ type: "user", text: `Result of ${m.name ?? "tool"}: ${text}` });
    else history.push({ type: "user", text });
  }
  // A trailing assistant message is a prefix to continue; otherwise the model answers anew.
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  if (sawImage) warnings.push("Images are not supported by llama-cpp models and were left out.");
  if (request.tools && request.tools.length > 0) warnings.push("Tools are not supported by the llama-cpp adapter and were ignored.");
  return history;
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
      capabilities: options.capabilities ?? defaultCapabilities(options, resolved?.contextSize ?? options.contextSize ?? DEFAULT_MAX_CONTEXT),
      ...(constraints !== undefined ? { constraints } : {}),
      isLocal: true,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      // A lazy model chooses its file on first use: its identity waits for that too.
      cacheIdentity: resolved ? fileIdentity(resolved, options) : () => fileIdentity((self.model as LlamaCppModel).#resolve(), options),
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
    if (!this.#options.capabilities && this.capabilities.contextWindow !== resolved.contextSize) this.updateCapabilities(defaultCapabilities(this.#options, resolved.contextSize));
    // So is the memory estimate. The limiter keeps the constraints it was built with; only
    // requiredMemoryGb differs, which it does not read.
    const constraints = constraintsFor(this.#options, resolved);
    if (constraints !== undefined && !(constraints instanceof ModelConstraints) && this.constraints.requiredMemoryGb === undefined) {
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
    if (OrchestratorError.isInstance(error)) return error;
    const e = error as { name?: string; message?: string };
    if (e?.name === "InsufficientMemoryError") {
      return new InsufficientMemoryError(`Not enough memory for ${this.name}: ${e.message ?? ""}`, 0, 0, { provider: this.provider, model: this.name, cause: error });
    }
    if (e?.name === "DisposedError") return new ProviderError(`${this.name} was unloaded during the call`, { provider: this.provider, model: this.name, retryable: true, cause: error });
    return super.mapError(error);
  }

  protected override async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    return this.#exclusive(request, undefined);
  }

  protected override async *doStream(request: GenerateRequest): AsyncIterable<StreamChunk> {
    const queue = new ChunkQueue();
    const controller = new AbortController();
    const done = this.#exclusive(request, queue.pushText, controller).then(
      (output) => queue.end({ type: "finish", ...(output.finishReason ? { finishReason: output.finishReason } : {}), ...(output.usage ? { usage: output.usage } : {}) }),
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

  async #exclusive(request: GenerateRequest, onTextChunk: ((text: string) => void) | undefined, own = new AbortController()): Promise<ModelOutput> {
    const outer = request.signal;
    const forward = (): void => own.abort();
    if (outer?.aborted) own.abort();
    else outer?.addEventListener("abort", forward, { once: true });
    this.#controllers.add(own);
    try {
      return await this.#lock.run(() => this.#generate(request, onTextChunk, own.signal), own.signal, () => this.#abortError());
    } finally {
      outer?.removeEventListener("abort", forward);
      this.#controllers.delete(own);
      if (this.#lock.pending === 0) this.onIdle();
    }
  }

  #abortError(): AbortError {
    return new AbortError(undefined, { provider: this.provider, model: this.name });
  }

  async #generate(request: GenerateRequest, onTextChunk: ((text: string) => void) | undefined, signal: AbortSignal): Promise<ModelOutput> {
    const loaded = this.#loaded ?? (await this.#ensureLoaded());
    if (signal.aborted) throw this.#abortError();
    const warnings: string[] = [];
    const history = toHistory(request, warnings);
    const grammar = request.responseFormat?.type === "json" ? await this.#grammarFor(loaded, request.responseFormat) : undefined;
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
    const inputTokens = loaded.chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(loaded.model.tokenizer).length;
    return {
      text: response.response,
      usage: { inputTokens, outputTokens },
      finishReason: STOP_REASONS[reason] ?? { unified: "other", raw: reason },
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  async #grammarFor(loaded: Loaded, format: Extract<ResponseFormat, { type: "json" }>): Promise<LlamaGrammar> {
    const schema = format.schema ? toJsonSchema(format.schema) : undefined;
    const key = schema ? JSON.stringify(schema) : "";
    let grammar = loaded.grammars.get(key);
    if (!grammar) {
      const llama = loaded.lease.llama;
      grammar = (schema ? llama.createGrammarForJsonSchema(schema as Parameters<typeof llama.createGrammarForJsonSchema>[0]) : llama.getGrammarFor("json")) as Promise<LlamaGrammar>;
      loaded.grammars.set(key, grammar);
      grammar.catch(() => loaded.grammars.delete(key));
    }
    try {
      return await grammar;
    } catch (error) {
      throw new ProviderError(`The JSON schema of responseFormat cannot be turned into a grammar: ${(error as Error)?.message ?? String(error)}`, {
        provider: this.provider,
        model: this.name,
        status: 400,
        retryable: false,
        cause: error,
      });
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
        model = await lease.llama.loadModel({ modelPath: file.path, gpuLayers: lease.llama.gpu === false ? 0 : this.gpuLayers });
      } catch (error) {
        lease.poison();
        const name = (error as { name?: string })?.name;
        if (name === "InsufficientMemoryError") throw error;
        const detail = lease.logSince(mark).slice(-3).join("; ");
        throw new GgufFileError(`llama.cpp could not load ${file.path}: ${(error as Error)?.message ?? String(error)}${detail ? ` (${detail})` : ""}`, "corrupt", { ...context, cause: error });
      }
      try {
        const llamaContext = await model.createContext({ contextSize: this.contextSize, threads: this.threads, sequences: 1 });
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
      throw new ConfigError([{ path: "idleUnloadMs", message: `must be a non-negative number of milliseconds, got ${String(idle)}` }], { provider: PROVIDER, model: options.name });
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
