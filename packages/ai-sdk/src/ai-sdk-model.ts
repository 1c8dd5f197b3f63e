import {
  type CallControl,
  type GenerateRequest,
  Model,
  type ModelCapabilities,
  type ModelCapabilitiesInput,
  type ModelConstraints,
  type ModelConstraintsInput,
  type ModelOutput,
  type OrchestratorError,
  ProviderError,
  type ReasoningPart,
  type StreamChunk,
  type StreamReport,
  type ToolCall,
  providerStream,
} from "@orchestrator-ts/core";
import { mergeDeclaredCapabilities } from "@orchestrator-ts/core/internal";
import type { SharedV3ProviderOptions } from "@ai-sdk/provider";
import { mapAISDKError } from "./map-error";
import { isUnexplainedFinish, toFinishReason, toUsage, warningTexts } from "./normalize";
import { ReasoningStreamReader, fromReasoning } from "./reasoning";
import type { AISDKLanguageModel, AnyFinishReason, AnyStreamPart, AnyUsage, AnyWarning } from "./spec";
import { isAISDKLanguageModel } from "./spec";
import { toCallOptions } from "./to-call-options";

/** Where a model's per-token prices came from. */
export type PriceSource = "declared" | "local" | "conservative-default";

/**
 * What a model of unknown price is assumed to cost, USD per 1M tokens (the priciest list price
 * the OpenAI provider knows, gpt-4's): cost filters never take a paid model for a free one.
 */
export const CONSERVATIVE_PRICE = Object.freeze({ inputPerMillion: 30, outputPerMillion: 60 });

export interface AISDKModelOptions {
  /** The registry's name for the model. */
  name: string;
  /** An AI SDK language model: `mistral("mistral-large-latest")`, `createOpenAI({ … }).chat("gpt-4o")`. */
  model: AISDKLanguageModel;
  /**
   * What the model can do and what it costs; the AI SDK does not say, so declare prices
   * (`inputCostPerToken`, `outputCostPerToken`). Undeclared prices are `CONSERVATIVE_PRICE`
   * unless `isLocal`.
   */
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  constraints?: ModelConstraints | ModelConstraintsInput;
  /** Deadline of one call (default 120 s). */
  timeoutMs?: number;
  /** Runs on this machine (free, no network): prices default to 0. */
  isLocal?: boolean;
  /** The provider label in results and metrics; default the AI SDK's (`openai.chat`, `google.generative-ai`). */
  provider?: string;
  /** Provider options sent with every call (`{ google: { thinkingConfig: … } }`); a request's own win, key by key. */
  providerOptions?: SharedV3ProviderOptions;
  /**
   * What else decides this model's answers, for cache keys (the endpoint, a region, a default
   * setting): the AI SDK provider id and model id are always part of it.
   */
  cacheIdentity?: Record<string, unknown>;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
}) as IteratorReturnResult<undefined>;

/**
 * Any Vercel AI SDK language model (specification V2 or V3) as an orchestrator model. Calls the
 * model's `doGenerate` / `doStream` directly, so the registry's retries and fallbacks are in
 * charge (not the AI SDK's `maxRetries`), and maps prompts, tools, usage, finish reasons and
 * errors both ways.
 */
export class AISDKModel extends Model {
  // The AI SDK passes `abortSignal` to fetch, which rejects a pending request or read at once.
  protected override readonly honoursAbortSignal = true;
  /**
   * None as they are: `providerOptions` go to the AI SDK provider, which reads its own key under
   * its own option names (`logitBias`, not OpenAI's `logit_bias`) and drops the others unseen.
   */
  override readonly providerOptionsKeys: readonly string[] = [];
  /** The AI SDK's provider id (`openai.chat`). */
  readonly aiSdkProvider: string;
  /** The model id the AI SDK sends. */
  readonly modelId: string;
  /** The wrapped AI SDK model's specification (`"v2"` or `"v3"`); `specificationVersion` is our own contract's. */
  readonly aiSdkSpecificationVersion: "v2" | "v3";
  readonly priceSource: PriceSource;
  readonly #model: AISDKLanguageModel;
  readonly #providerOptions: SharedV3ProviderOptions | undefined;

  constructor(options: AISDKModelOptions) {
    const model = options?.model;
    if (!isAISDKLanguageModel(model)) {
      throw new TypeError(
        `AISDKModel needs \`model\`: an AI SDK language model of specification v2 or v3 (e.g. openai("gpt-4o-mini")), got ${describe(model)}.`,
      );
    }
    const isLocal = options.isLocal ?? false;
    const known: ModelCapabilitiesInput = {
      textGeneration: true,
      supportsStreaming: true,
      inputCostPerToken: isLocal ? 0 : CONSERVATIVE_PRICE.inputPerMillion / 1_000_000,
      outputCostPerToken: isLocal ? 0 : CONSERVATIVE_PRICE.outputPerMillion / 1_000_000,
    };
    const { capabilities, priceSource } = mergeDeclaredCapabilities<PriceSource>(
      known,
      options.capabilities,
      isLocal ? "local" : "conservative-default",
    );
    super({
      name: options.name,
      provider: options.provider ?? model.provider,
      capabilities,
      ...(options.constraints !== undefined ? { constraints: options.constraints } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      isLocal,
      // Who answers: the AI SDK's provider and model ids, and what the caller adds (endpoint, region…).
      cacheIdentity: {
        ...options.cacheIdentity,
        aiSdkProvider: model.provider,
        modelId: model.modelId,
        providerOptions: options.providerOptions,
      },
    });
    this.#model = model;
    this.aiSdkProvider = model.provider;
    this.modelId = model.modelId;
    this.aiSdkSpecificationVersion = model.specificationVersion;
    this.priceSource = priceSource;
    this.#providerOptions = options.providerOptions;
  }

  /** The wrapped AI SDK model. */
  get languageModel(): AISDKLanguageModel {
    return this.#model;
  }

  protected override mapError(error: unknown): OrchestratorError {
    return mapAISDKError(error, { provider: this.provider, model: this.name }) ?? super.mapError(error);
  }

  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    const options = toCallOptions(request, this.#providerOptions);
    // One call: V2 and V3 take the same options for everything set here.
    const result = await (this.#model.doGenerate as (o: typeof options) => PromiseLike<GenerateResultShape>)(options);
    let text = "";
    let toolCalls: ToolCall[] | undefined;
    let reasoning: ReasoningPart[] | undefined;
    for (const part of result.content) {
      if (part.type === "text") text += part.text as string;
      else if (part.type === "reasoning") {
        // Signed (or redacted) as @ai-sdk/anthropic reports it, so it can be given back.
        const given = fromReasoning(part.text ?? "", part.providerMetadata);
        // After tool calls (interleaved thinking): it goes back there.
        if (given !== undefined && toolCalls !== undefined) given.afterToolCalls = toolCalls.length;
        if (given !== undefined) (reasoning ??= []).push(given);
      } else if (part.type === "tool-call" && part.providerExecuted !== true) {
        (toolCalls ??= []).push({
          id: part.toolCallId as string,
          name: part.toolName as string,
          arguments: parseArguments(part.input),
        });
      }
    }
    const output: ModelOutput = { text, finishReason: toFinishReason(result.finishReason) };
    if (toolCalls !== undefined) output.toolCalls = toolCalls;
    if (reasoning !== undefined) output.reasoning = reasoning;
    const usage = toUsage(result.usage);
    if (usage !== undefined) output.usage = usage;
    const warnings = warningTexts(result.warnings);
    if (warnings !== undefined) output.warnings = warnings;
    const id = result.response?.id;
    if (typeof id === "string" && id !== "") output.responseId = id;
    return output;
  }

  // A hand-written iterator over the stream's reader (core's providerStream): no async generator per chunk.
  protected override doStream(
    request: GenerateRequest,
    _control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    let finishReason: AnyFinishReason | undefined;
    let usage: AnyUsage | undefined;
    let finished = false;
    let responseId: string | undefined;
    const reasoning = new ReasoningStreamReader();
    // Tool calls whose input is handed on as it comes (their tool-input-start went out).
    let streaming: Set<string> | undefined;
    const context = { provider: this.provider, model: this.name };
    return providerStream<AnyStreamPart>(
      () => {
        const options = toCallOptions(request, this.#providerOptions);
        const opened = (
          this.#model.doStream as (o: typeof options) => PromiseLike<{ stream: ReadableStream<AnyStreamPart> }>
        )(options);
        return Promise.resolve(opened).then((result) => new ReaderIterator(result.stream.getReader()));
      },
      (part, out) => {
        switch (part.type) {
          case "stream-start": {
            // The model's warnings about the call, before its first part: ours as the stream starts, as doGenerate's are.
            const warnings = warningTexts(part.warnings);
            if (warnings !== undefined) for (const warning of warnings) report.warn(warning);
            return;
          }
          case "text-delta":
            if (part.delta) out.push({ type: "text", text: part.delta });
            return;
          case "reasoning-start":
          case "reasoning-delta":
          case "reasoning-end":
            reasoning.push(part, out);
            return;
          case "tool-input-start":
            // Only when the caller asked for tool input as it comes; not a tool the provider runs itself.
            if (request.toolInputDeltas === true && part.providerExecuted !== true) {
              (streaming ??= new Set()).add(part.id);
              out.push({ type: "tool-input-start", id: part.id, name: part.toolName });
            }
            return;
          case "tool-input-delta":
            if (part.delta !== "" && streaming?.has(part.id))
              out.push({ type: "tool-input-delta", id: part.id, delta: part.delta });
            return;
          case "tool-call":
            streaming?.delete(part.toolCallId);
            if (part.providerExecuted !== true)
              out.push({
                type: "tool-call",
                toolCall: { id: part.toolCallId, name: part.toolName, arguments: parseArguments(part.input) },
              });
            return;
          case "response-metadata":
            if (typeof part.id === "string" && part.id !== "") responseId ??= part.id;
            return;
          case "finish":
            finished = true;
            finishReason = part.finishReason;
            usage = part.usage;
            return;
          case "error":
            // The provider reported a failure mid-answer (an error event, an unparsable chunk).
            throw streamError(part.error, context);
        }
      },
      (out) => {
        // The AI SDK finishes every stream it reads to the end; a body cut short says "other" without a raw reason.
        if (!finished || isUnexplainedFinish(finishReason)) {
          throw new ProviderError("The provider's stream ended before completion (no finish reason).", {
            ...context,
            retryable: true,
          });
        }
        const finish: StreamChunk = { type: "finish", finishReason: toFinishReason(finishReason) };
        const mapped = toUsage(usage);
        if (mapped !== undefined) finish.usage = mapped;
        if (responseId !== undefined) finish.responseId = responseId;
        out.push(finish);
      },
    );
  }
}

interface ContentShape {
  type: string;
  text?: string;
  toolCallId?: string;
  toolName?: string;
  input?: string;
  providerExecuted?: boolean;
  providerMetadata?: Record<string, Record<string, unknown>>;
}

interface GenerateResultShape {
  content: readonly ContentShape[];
  finishReason: AnyFinishReason;
  usage: AnyUsage;
  warnings?: AnyWarning[];
  response?: { id?: string };
}

/** The stream's reader as an async iterator: `read()` already returns iterator results. */
class ReaderIterator<T> implements AsyncIterableIterator<T> {
  readonly #reader: ReadableStreamDefaultReader<T>;
  constructor(reader: ReadableStreamDefaultReader<T>) {
    this.#reader = reader;
  }
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
  next(): Promise<IteratorResult<T>> {
    return this.#reader.read() as Promise<IteratorResult<T>>;
  }
  // Leaving early cancels the stream, which cancels the response body and frees the connection.
  return(): Promise<IteratorResult<T>> {
    return this.#reader.cancel().then(
      () => DONE,
      () => DONE,
    );
  }
}

function streamError(error: unknown, context: { provider: string; model: string }): OrchestratorError {
  const mapped = mapAISDKError(error, context);
  if (mapped) return mapped;
  const message =
    error instanceof Error
      ? error.message
      : typeof error === "object" && error !== null
        ? JSON.stringify(error)
        : String(error);
  const invalid =
    typeof error === "object" && error !== null && (error as { type?: unknown }).type === "invalid_request_error";
  return new ProviderError(`The provider reported an error mid-stream: ${message}`, {
    ...context,
    cause: error,
    retryable: !invalid,
  });
}

/** Parsed arguments, or the raw string when the model produced invalid JSON. */
function parseArguments(input: string | undefined): unknown {
  if (input === undefined || input === "") return {};
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value !== "object") return typeof value;
  const version = (value as { specificationVersion?: unknown }).specificationVersion;
  return version === undefined
    ? "an object that is not a language model"
    : `a model of specification ${String(version)}`;
}
