import type { ZodType } from "zod";

export type Role = "system" | "user" | "assistant" | "tool";

/**
 * A prompt-cache breakpoint: the provider may cache the prompt up to and including what carries it
 * (Anthropic's `cache_control`; OpenAI caches long prompts on its own, and other providers ignore it).
 */
export interface CacheControl {
  type: "ephemeral";
  /** How long the cached prefix lives (Anthropic: "5m", the default, or "1h"). */
  ttl?: string;
}

export interface TextPart {
  type: "text";
  text: string;
  cacheControl?: CacheControl;
}

/** An image given by URL (http(s) or data:) or as base64 bytes with a media type. */
export interface ImagePart {
  type: "image";
  url?: string;
  data?: string;
  mediaType?: string;
  cacheControl?: CacheControl;
}

export type ContentPart = TextPart | ImagePart;

/**
 * A piece of the model's reasoning before its answer ("thinking"): Anthropic's `thinking` and
 * `redacted_thinking` blocks, `reasoning_content` of OpenAI-compatible servers (DeepSeek, vLLM),
 * Ollama's `thinking`. Give an assistant turn's reasoning back unchanged in the next request: with
 * tools and extended thinking Anthropic requires it; providers that do not take it back leave it out.
 */
export interface ReasoningPart {
  type: "reasoning";
  /** The reasoning text; empty for a redacted block. */
  text: string;
  /** The provider's signature of this block (Anthropic): sent back with it, unchanged. */
  signature?: string;
  /** A block the provider encrypted (Anthropic `redacted_thinking`): opaque, sent back as it is. */
  redactedData?: string;
  /**
   * How many of the answer's tool calls came before this block (Anthropic's interleaved thinking:
   * thinking between tool calls, which must be given back where it was); absent or 0: before them all.
   */
  afterToolCalls?: number;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed arguments (an object), or the raw string when the provider sent invalid JSON. */
  arguments: unknown;
}

export type Message =
  | { role: "system"; content: string; cacheControl?: CacheControl }
  | { role: "user"; content: string | ContentPart[] }
  | { role: "assistant"; content: string | ContentPart[]; toolCalls?: ToolCall[]; reasoning?: ReasoningPart[] }
  /**
   * A tool's result: text, or parts when it returned images too (a screenshot, a chart). Providers
   * that cannot send an image in a tool result send its text and say so in `warnings`.
   */
  | { role: "tool"; content: string | ContentPart[]; toolCallId: string; name?: string; cacheControl?: CacheControl };

/** A JSON Schema object, or a zod schema that is converted to one. */
export type SchemaLike = Record<string, unknown> | ZodType;

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters: SchemaLike;
  /** OpenAI's strict function calling (arguments that always match `parameters`); other providers ignore it. */
  strict?: boolean;
  /** A prompt-cache breakpoint after this tool's definition (Anthropic caches tools, then system, then messages). */
  cacheControl?: CacheControl;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** How hard a model should reason before it answers (OpenAI's `reasoning_effort`). */
export type ReasoningEffort = "low" | "medium" | "high";

/**
 * Ask the model to reason before it answers, in whichever way its provider takes it: Anthropic's
 * extended thinking (`budget_tokens`), OpenAI's `reasoning_effort` (reasoning models), Ollama's
 * `think`. Give an effort or a token budget; each is mapped to the other where a provider takes
 * only one (`reasoningBudgetTokens`, `reasoningEffortOf`). A provider's own setting in
 * `providerOptions` wins; a model that cannot reason answers as usual, with a warning.
 */
export interface ReasoningRequest {
  effort?: ReasoningEffort;
  budgetTokens?: number;
}

export type ResponseFormat =
  | { type: "text" }
  | { type: "json"; schema?: SchemaLike; name?: string; description?: string };

export interface GenerateRequest {
  messages: Message[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /**
   * `false`: at most one tool call per answer (OpenAI's `parallel_tool_calls: false`, Anthropic's
   * `disable_parallel_tool_use`). Unset: the model's own default (several calls allowed).
   */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /** Reason before answering (thinking): see `ReasoningRequest`. */
  reasoning?: ReasoningRequest;
  /** Aborting rejects the call with `AbortError`. */
  signal?: AbortSignal;
  /** A deadline for the whole call; past it the call rejects with `TimeoutError`. */
  timeoutMs?: number;
  /** A task tag (`"code"`, `"summarise"`…): selection and statistics are kept per task. */
  task?: string;
  /** `false` bypasses the cache for this request; `"refresh"` calls the model and overwrites the entry. */
  cache?: boolean | "refresh";
  /**
   * A stream hands on tool calls' arguments as the model writes them: `tool-input-start` and
   * `tool-input-delta` chunks before each whole `tool-call` (from providers that stream them; the
   * others, and a cache hit, send the whole call only). Off by default: a stream then carries
   * whole tool calls only. It does not change the answer (nor the cache key).
   */
  toolInputDeltas?: boolean;
  /** Settings only one provider understands, keyed by provider name: `{ openai: { user: "u1" } }`. */
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** Everything of a request except its messages: the second argument of `generateResponse`. */
export type GenerateParameters = Omit<GenerateRequest, "messages"> & { system?: string };

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  /** Of `inputTokens`, how many the provider read from its prompt cache (most bill them at a discount). */
  cacheReadInputTokens?: number;
  /** Of `inputTokens`, how many the provider wrote to its prompt cache (Anthropic bills them at a premium). */
  cacheWriteInputTokens?: number;
}

export type UnifiedFinishReason = "stop" | "length" | "tool-calls" | "content-filter" | "error" | "other";

export interface FinishReason {
  unified: UnifiedFinishReason;
  /** What the provider said, unmapped. */
  raw?: string;
  /** The stop sequence that ended the answer, when the provider says which (Anthropic does). */
  stopSequence?: string;
}

/** What a model subclass returns from `doGenerate`. */
export interface ModelOutput {
  text: string;
  toolCalls?: ToolCall[];
  /** The model's reasoning before its answer, in the order it came, when the provider returns it. */
  reasoning?: ReasoningPart[];
  usage?: Usage;
  /** When the provider reports its own price; otherwise computed from the declared per-token prices. */
  costUsd?: number;
  finishReason?: FinishReason;
  warnings?: string[];
  /** The provider's id for this answer (`chatcmpl-…`, `msg_…`), when it gives one. */
  responseId?: string;
}

export interface GenerateResult {
  text: string;
  toolCalls: ToolCall[];
  /** The model's reasoning before its answer ("thinking"), when it returned some; see `ReasoningPart`. */
  reasoning?: ReasoningPart[];
  usage: Usage;
  /** USD; `undefined` when neither the provider nor the token counts allow computing it. */
  costUsd: number | undefined;
  finishReason: FinishReason;
  latencyMs: number;
  model: string;
  provider: string;
  cached: boolean;
  warnings: string[];
  /** The provider's id for this answer (`chatcmpl-…`, `msg_…`), when it gives one; a cache hit keeps none. */
  responseId?: string;
}

/**
 * One piece of a stream. Text and tool calls arrive as they come; `finish` closes every stream.
 * `reasoning` chunks are pieces of the model's reasoning (see `ReasoningPart`): consecutive ones
 * make one part, which a chunk carrying its `signature` (or a redacted block's `redactedData`) ends.
 */
export type StreamChunk =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string; signature?: string; redactedData?: string }
  | { type: "tool-call"; toolCall: ToolCall }
  /**
   * A tool call begins and its arguments will stream (only for a request with `toolInputDeltas`):
   * its id and name. Its `tool-input-delta` chunks follow, then the whole call as a `tool-call`
   * chunk with the same id, which ends it.
   */
  | { type: "tool-input-start"; id: string; name: string }
  /** A piece of a started tool call's arguments, as the model writes them (JSON text). */
  | { type: "tool-input-delta"; id: string; delta: string }
  | {
      type: "finish";
      finishReason?: FinishReason;
      usage?: Usage;
      costUsd?: number;
      /** Set on the finish chunk emitted by the base class (not by providers). */
      latencyMs?: number;
      timeToFirstChunkMs?: number;
      model?: string;
      cached?: boolean;
      /** The provider's id for this answer, when it gives one. */
      responseId?: string;
      /**
       * The model's warnings about this call (`GenerateResult.warnings` of a stream), present only
       * when there are some. A provider may put the ones it finds late here; the base's finish
       * chunk carries them all (those reported through `StreamReport.warn` too).
       */
      warnings?: string[];
    };

/** What `model.stream()` returns: the answer's chunks, and the model's warnings about the call. */
export interface ModelStreamResult extends AsyncIterable<StreamChunk> {
  /**
   * The model's warnings about this call (settings it could not honour and left out), as
   * `GenerateResult.warnings` has them. Those of the request's mapping are known as soon as the
   * provider built its request (by the first chunk); the list is complete at the finish chunk,
   * which carries it too. Empty when there are none, and on a cache hit.
   */
  readonly warnings: readonly string[];
}

/**
 * Adds a streamed reasoning chunk to the parts collected so far: its text joins the last part
 * unless that part was ended (signed or redacted), and its signature ends the part.
 */
export function appendReasoning(
  parts: ReasoningPart[],
  chunk: { text: string; signature?: string | undefined; redactedData?: string | undefined },
  afterToolCalls = 0,
): void {
  const last = parts[parts.length - 1];
  if (chunk.redactedData !== undefined) {
    parts.push(
      afterToolCalls > 0
        ? { type: "reasoning", text: "", redactedData: chunk.redactedData, afterToolCalls }
        : { type: "reasoning", text: "", redactedData: chunk.redactedData },
    );
    return;
  }
  if (
    last === undefined ||
    last.signature !== undefined ||
    last.redactedData !== undefined ||
    (last.afterToolCalls ?? 0) !== afterToolCalls
  )
    parts.push(
      afterToolCalls > 0
        ? { type: "reasoning", text: chunk.text, afterToolCalls }
        : { type: "reasoning", text: chunk.text },
    );
  else last.text += chunk.text;
  if (chunk.signature !== undefined) (parts[parts.length - 1] as ReasoningPart).signature = chunk.signature;
}

/**
 * A whole answer as the stream chunks that carry it, in the order the model wrote it: reasoning
 * (a chunk a part) first — a part with `afterToolCalls` after that many tool calls — then the text
 * in one chunk, then the tool calls. No finish chunk. For replaying an answer as a stream.
 */
export function answerChunks(answer: {
  text: string;
  toolCalls?: readonly ToolCall[] | undefined;
  reasoning?: readonly ReasoningPart[] | undefined;
}): StreamChunk[] {
  const parts = answer.reasoning ?? [];
  return inAnswerOrder<StreamChunk>(
    parts,
    parts.map(reasoningChunk),
    answer.text.length > 0 ? [{ type: "text", text: answer.text }] : [],
    (answer.toolCalls ?? []).map((toolCall) => ({ type: "tool-call", toolCall })),
  );
}

/**
 * An answer's pieces in the order the model wrote them, whatever they are written as (wire blocks,
 * stream chunks, items): reasoning placed by `afterToolCalls` (absent or 0: first; past the last
 * tool call: after it), then the text, then the tool calls with the reasoning that came after
 * each. `reasoning[i]` is `parts[i]` written out (`undefined`: the part is left out).
 */
export function inAnswerOrder<T>(
  parts: readonly ReasoningPart[],
  reasoning: readonly (T | undefined)[],
  texts: readonly T[],
  tools: readonly T[],
): T[] {
  const out: T[] = [];
  const placed = (after: number) => {
    for (let i = 0; i < parts.length; i++) {
      const written = reasoning[i];
      if (written !== undefined && Math.min((parts[i] as ReasoningPart).afterToolCalls ?? 0, tools.length) === after)
        out.push(written);
    }
  };
  placed(0);
  out.push(...texts);
  for (let i = 0; i < tools.length; i++) {
    out.push(tools[i] as T);
    placed(i + 1);
  }
  return out;
}

/** A whole reasoning part as the stream chunk that carries it (replaying a stored answer as a stream). */
export function reasoningChunk(part: ReasoningPart): Extract<StreamChunk, { type: "reasoning" }> {
  const chunk: Extract<StreamChunk, { type: "reasoning" }> = { type: "reasoning", text: part.text };
  if (part.signature !== undefined) chunk.signature = part.signature;
  if (part.redactedData !== undefined) chunk.redactedData = part.redactedData;
  return chunk;
}

// An effort's thinking budget, as LiteLLM maps `reasoning_effort` to Anthropic's `budget_tokens`.
const EFFORT_BUDGET: Readonly<Record<ReasoningEffort, number>> = { low: 1024, medium: 2048, high: 4096 };

/** The token budget a reasoning request asks for: its own (at least 1,024), else its effort's (default medium). */
export function reasoningBudgetTokens(reasoning: ReasoningRequest): number {
  const budget = reasoning.budgetTokens;
  if (typeof budget === "number" && Number.isFinite(budget) && budget > 0) return Math.max(1024, Math.floor(budget));
  return EFFORT_BUDGET[reasoning.effort as ReasoningEffort] ?? EFFORT_BUDGET.medium;
}

/** The effort a reasoning request asks for: its own, else the nearest to its budget (default medium). */
export function reasoningEffortOf(reasoning: ReasoningRequest): ReasoningEffort {
  if (reasoning.effort !== undefined && reasoning.effort in EFFORT_BUDGET) return reasoning.effort;
  const budget = reasoning.budgetTokens;
  if (typeof budget !== "number" || !(budget > 0)) return "medium";
  return budget < 2048 ? "low" : budget < 4096 ? "medium" : "high";
}

/** The text of reasoning parts, joined (redacted blocks have none). */
export function reasoningText(parts: readonly ReasoningPart[] | undefined): string {
  let out = "";
  if (parts) for (const part of parts) out += part.text;
  return out;
}

/** A user prompt as a one-message request. */
export function promptToRequest(prompt: string, params: GenerateParameters = {}): GenerateRequest {
  const { system, ...rest } = params;
  const messages: Message[] = system
    ? [
        { role: "system", content: system },
        { role: "user", content: prompt },
      ]
    : [{ role: "user", content: prompt }];
  return { ...rest, messages };
}

/**
 * The text of a message's content, images left out; its text parts joined with `separator`
 * (the wire formats keep parts a line apart: `"\n"`).
 */
export function contentText(content: string | readonly ContentPart[], separator = ""): string {
  if (typeof content === "string") return content;
  let out = "";
  let first = true;
  for (const part of content) {
    if (part.type !== "text") continue;
    out = first ? part.text : out + separator + part.text;
    first = false;
  }
  return out;
}

/**
 * A rough token count (≈ 4 characters a token) for estimates made before a call: cost caps and
 * context-window checks. Real counts come from the provider's usage.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated prompt tokens of a request, with a small per-message overhead and a flat cost per image. */
export function estimateRequestTokens(request: Pick<GenerateRequest, "messages" | "tools">): number {
  let total = 0;
  let lastReasoning: ReasoningPart[] | undefined;
  for (const m of request.messages) {
    total += 4 + estimateTokens(contentText(m.content));
    if (typeof m.content !== "string") for (const p of m.content) if (p.type === "image") total += 765;
    if (m.role === "assistant") lastReasoning = m.reasoning;
  }
  // Only the last assistant turn's reasoning is read (a tool loop's); earlier turns' is dropped unbilled.
  if (lastReasoning !== undefined) total += estimateTokens(reasoningText(lastReasoning));
  if (request.tools) total += estimateTokens(JSON.stringify(request.tools.map((t) => t.name + (t.description ?? ""))));
  return total;
}

/**
 * A tool call's arguments as an object, for APIs that take one (Anthropic `input`, Ollama
 * `arguments`): an object passes through, a JSON string is parsed, anything else (or invalid
 * JSON from an earlier turn) becomes `{}` rather than failing the conversation.
 */
export function toolArgumentsObject(args: unknown): Record<string, unknown> {
  if (args && typeof args === "object" && !Array.isArray(args)) return args as Record<string, unknown>;
  if (typeof args === "string") {
    try {
      const parsed: unknown = JSON.parse(args);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // invalid JSON: {} below
    }
  }
  return {};
}
