import {
  type FinishReason,
  type ModelOutput,
  type ReasoningPart,
  type ToolCall,
  type UnifiedFinishReason,
  type Usage,
  toolArgumentsObject,
  inAnswerOrder,
} from "@orchestrator-ts/core";
import type { ResponseTool } from "./request";
import type {
  MessagesContentBlock,
  MessagesIdentity,
  MessagesRedactedThinkingBlock,
  MessagesThinkingBlock,
  MessagesResponse,
  MessagesStopReason,
  MessagesUsage,
} from "./wire";

// ---- stop reasons ----------------------------------------------------------------------------

const FROM_WIRE: Readonly<Record<string, UnifiedFinishReason>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool-calls",
  refusal: "content-filter",
  pause_turn: "other",
};

/**
 * `{ unified, raw }` for a wire stop reason (an unknown one is `other`, raw kept; none is
 * `undefined`). With the response tool of structured output, `tool_use` is how the answer
 * arrived, not a request to run a tool: `stop` — unless the model called one of the caller's
 * tools (`calledTools`), which the caller must run.
 */
export function fromStopReason(
  raw: string | null | undefined,
  responseTool?: ResponseTool,
  calledTools = false,
): FinishReason | undefined {
  if (raw == null) return undefined;
  if (raw === "tool_use" && responseTool && !calledTools) return { unified: "stop", raw };
  return { unified: FROM_WIRE[raw] ?? "other", raw };
}

const TO_WIRE: Readonly<Record<UnifiedFinishReason, MessagesStopReason>> = {
  stop: "end_turn",
  length: "max_tokens",
  "tool-calls": "tool_use",
  "content-filter": "refusal",
  // The wire has no name for these: the answer ended.
  error: "end_turn",
  other: "end_turn",
};

/**
 * The wire stop reason for a core finish reason. A raw Anthropic reason that means the same
 * (`stop_sequence`, `model_context_window_exceeded`…) is kept; `undefined` is `tool_use` after a
 * tool call, else `end_turn`.
 */
export function toStopReason(
  reason: FinishReason | UnifiedFinishReason | undefined,
  hasToolCalls = false,
): MessagesStopReason {
  if (reason === undefined) return hasToolCalls ? "tool_use" : "end_turn";
  if (typeof reason === "string") return TO_WIRE[reason] ?? "end_turn";
  const raw = reason.raw;
  if (raw !== undefined && FROM_WIRE[raw] === reason.unified && raw !== "pause_turn") return raw as MessagesStopReason;
  return TO_WIRE[reason.unified] ?? "end_turn";
}

// ---- usage -----------------------------------------------------------------------------------

/** What the wire counts, loosely: the SDK's `Usage`, a `message_delta`'s partial one, or parsed JSON. */
export interface MessagesUsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Prompt tokens include cache writes and reads; counts the API left out stay `undefined`. */
export function fromMessagesUsage(usage: MessagesUsageLike | null | undefined): Usage {
  if (!usage) return {};
  const out: Usage = {};
  if (typeof usage.input_tokens === "number")
    out.inputTokens =
      usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  if (typeof usage.output_tokens === "number") out.outputTokens = usage.output_tokens;
  // Only a cache hit or write is news: the API sends 0 on every call without one.
  if (usage.cache_read_input_tokens) out.cacheReadInputTokens = usage.cache_read_input_tokens;
  if (usage.cache_creation_input_tokens) out.cacheWriteInputTokens = usage.cache_creation_input_tokens;
  return out;
}

/**
 * The wire's counts for the known ones (`input_tokens` without the cache's share); an unknown count
 * is left out. `toMessagesResponse` writes 0 for those, as the `message` object requires both.
 */
export function toMessagesUsage(usage: Usage | undefined): Partial<MessagesUsage> {
  const out: Partial<MessagesUsage> = {};
  if (!usage) return out;
  const write = usage.cacheWriteInputTokens;
  const read = usage.cacheReadInputTokens;
  if (usage.inputTokens !== undefined) out.input_tokens = Math.max(0, usage.inputTokens - (write ?? 0) - (read ?? 0));
  if (write !== undefined) out.cache_creation_input_tokens = write;
  if (read !== undefined) out.cache_read_input_tokens = read;
  if (usage.outputTokens !== undefined) out.output_tokens = usage.outputTokens;
  return out;
}

// ---- tool input ------------------------------------------------------------------------------

/** The JSON text of the response tool's input (unwrapped when the schema was not an object). */
export function responseText(input: unknown, tool: ResponseTool): string {
  const value =
    tool.wrapped && input && typeof input === "object" ? (input as Record<string, unknown>)["value"] : input;
  return JSON.stringify(value ?? null);
}

/** A tool's streamed input JSON, parsed; empty is `{}`, invalid JSON is kept as the raw string (the core contract). */
export function parseToolInput(json: string): unknown {
  if (json.trim() === "") return {};
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}

// ---- messages --------------------------------------------------------------------------------

/** What an answer may hold: the SDK's `Message`, or parsed JSON. */
export interface MessagesResponseLike {
  /** The answer's id (`msg_…`). */
  id?: string;
  content: readonly (
    | {
        type: string;
        text?: string;
        id?: string;
        name?: string;
        input?: unknown;
        thinking?: string;
        signature?: string;
        data?: string;
      }
    | { type: string }
  )[];
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: MessagesUsageLike | null;
}

/**
 * A `message` as a model's output: text blocks joined, `tool_use` blocks as tool calls (the
 * response tool's input as the text), `thinking` and `redacted_thinking` blocks as reasoning parts
 * (signatures kept), usage and the stop reason. Other blocks (server tools' results…) are skipped.
 */
export function fromMessagesResponse(
  message: MessagesResponseLike,
  responseTool?: ResponseTool,
): ModelOutput & { toolCalls: ToolCall[]; usage: Usage } {
  let text = "";
  const toolCalls: ToolCall[] = [];
  let reasoning: ReasoningPart[] | undefined;
  for (const block of message.content) {
    if (block.type === "text" && "text" in block && typeof block.text === "string") text += block.text;
    else if (block.type === "thinking" || block.type === "redacted_thinking") {
      const part = reasoningOf(block as { type: string; thinking?: string; signature?: string; data?: string });
      if (part !== undefined) {
        // Interleaved thinking: a block after tool calls keeps its place, so it goes back where it was.
        if (toolCalls.length > 0) part.afterToolCalls = toolCalls.length;
        (reasoning ??= []).push(part);
      }
    } else if (block.type === "tool_use" && "id" in block) {
      const call = block as { id: string; name: string; input: unknown };
      if (responseTool && call.name === responseTool.name) text += responseText(call.input, responseTool);
      else toolCalls.push({ id: call.id, name: call.name, arguments: call.input });
    }
  }
  const output: ModelOutput & { toolCalls: ToolCall[]; usage: Usage } = {
    text,
    toolCalls,
    usage: fromMessagesUsage(message.usage),
  };
  if (reasoning !== undefined) output.reasoning = reasoning;
  const finishReason = withStopSequence(
    fromStopReason(message.stop_reason, responseTool, toolCalls.length > 0),
    message.stop_sequence,
  );
  if (finishReason) output.finishReason = finishReason;
  if (typeof message.id === "string" && message.id !== "") output.responseId = message.id;
  return output;
}

/** A thinking or redacted thinking block as a reasoning part (`undefined` when it carries nothing readable). */
function reasoningOf(block: {
  type: string;
  thinking?: string;
  signature?: string;
  data?: string;
}): ReasoningPart | undefined {
  if (block.type === "redacted_thinking")
    return typeof block.data === "string" ? { type: "reasoning", text: "", redactedData: block.data } : undefined;
  if (typeof block.thinking !== "string") return undefined;
  const part: ReasoningPart = { type: "reasoning", text: block.thinking };
  if (typeof block.signature === "string" && block.signature !== "") part.signature = block.signature;
  return part;
}

/** A finish reason with the stop sequence that matched, when the wire names one. */
export function withStopSequence(
  reason: FinishReason | undefined,
  stopSequence: string | null | undefined,
): FinishReason | undefined {
  return reason !== undefined && typeof stopSequence === "string" ? { ...reason, stopSequence } : reason;
}

/** The wire's `stop_sequence` for a finish reason (null when none matched or it is not known). */
export function toStopSequence(reason: FinishReason | MessagesStopReason | undefined): string | null {
  return typeof reason === "object" && reason.stopSequence !== undefined ? reason.stopSequence : null;
}

/** What `toMessagesResponse` writes: a model's result (or a scripted one). */
export interface MessagesOutput {
  text: string;
  toolCalls?: readonly ToolCall[];
  /** Reasoning: written as thinking blocks, first (a part's `afterToolCalls` puts it after that many tool calls). */
  reasoning?: readonly ReasoningPart[] | undefined;
  usage?: Usage;
  /** A core reason, mapped; a wire string is sent as it is. */
  finishReason?: FinishReason | MessagesStopReason;
}

/**
 * Reasoning parts as the blocks that carry them: a redacted one as `redacted_thinking`, others as
 * `thinking` (an unsigned part, from a model that does not sign, with an empty signature).
 */
export function toMessagesReasoning(
  reasoning: readonly ReasoningPart[] | undefined,
): (MessagesThinkingBlock | MessagesRedactedThinkingBlock)[] {
  const out: (MessagesThinkingBlock | MessagesRedactedThinkingBlock)[] = [];
  if (reasoning)
    for (const part of reasoning)
      out.push(
        part.redactedData !== undefined
          ? { type: "redacted_thinking", data: part.redactedData }
          : { type: "thinking", thinking: part.text, signature: part.signature ?? "" },
      );
  return out;
}

/**
 * The content blocks of an answer: its reasoning, its text (also when empty, unless there are tool
 * calls), then each tool call — a reasoning part that came after tool calls (interleaved thinking)
 * after as many tool calls as its `afterToolCalls` says.
 */
export function toMessagesContent(
  text: string,
  toolCalls: readonly ToolCall[] = [],
  reasoning?: readonly ReasoningPart[],
): MessagesContentBlock[] {
  const tools: MessagesContentBlock[] = toolCalls.map((call) => ({
    type: "tool_use",
    id: call.id,
    name: call.name,
    input: toolArgumentsObject(call.arguments),
  }));
  const texts: MessagesContentBlock[] = text !== "" || toolCalls.length === 0 ? [{ type: "text", text }] : [];
  return inAnswerOrder(reasoning ?? [], toMessagesReasoning(reasoning), texts, tools);
}

/** A result as a `message` body. Counts not known are written as 0 (the wire has no "unknown"). */
export function toMessagesResponse(output: MessagesOutput, identity: MessagesIdentity): MessagesResponse {
  const calls = output.toolCalls ?? [];
  const usage = toMessagesUsage(output.usage);
  const reason = output.finishReason;
  return {
    id: identity.id,
    type: "message",
    role: "assistant",
    model: identity.model,
    content: toMessagesContent(output.text, calls, output.reasoning),
    stop_reason: typeof reason === "string" ? reason : toStopReason(reason, calls.length > 0),
    stop_sequence: toStopSequence(reason),
    usage: { input_tokens: 0, output_tokens: 0, ...usage },
  };
}
