import {
  type FinishReason,
  type ModelOutput,
  type ReasoningPart,
  type ToolCall,
  type UnifiedFinishReason,
  type Usage,
  reasoningText,
} from "@orchestrator-ts/core";
import { countOrUndefined } from "@orchestrator-ts/core/internal";
import { fromChatReasoning, toChatThinkingBlocks } from "./reasoning";
import { toChatToolCall } from "./request";
import { parseArguments } from "./tool-calls";
import type { ChatCompletion, ChatCompletionMessage, ChatFinishReason, ChatIdentity, ChatUsage } from "./wire";

// ---- finish reasons --------------------------------------------------------------------------

// Shared frozen values: finish reasons repeat on every call, so they are not allocated per call.
const FROM_WIRE = new Map<string, FinishReason>();
for (const [raw, unified] of [
  ["stop", "stop"],
  ["length", "length"],
  ["tool_calls", "tool-calls"],
  ["function_call", "tool-calls"],
  ["content_filter", "content-filter"],
  // TGI's own names for end of sequence and a stop sequence.
  ["eos_token", "stop"],
  ["stop_sequence", "stop"],
] as const) {
  FROM_WIRE.set(raw, Object.freeze({ unified, raw }));
}

/**
 * `{ unified, raw }` for a wire finish reason; an unknown one is `other` with the raw kept. Absent
 * (`null`, `undefined`) and empty (`""`, which some compatible servers send for "none") are
 * `undefined`: not reported, so the model's default (stop, or tool-calls after a tool call) applies.
 */
export function fromChatFinishReason(raw: string | null | undefined): FinishReason | undefined {
  if (raw == null || raw === "") return undefined;
  return FROM_WIRE.get(raw) ?? { unified: "other", raw };
}

const TO_WIRE: Readonly<Record<UnifiedFinishReason, ChatFinishReason>> = {
  stop: "stop",
  length: "length",
  "tool-calls": "tool_calls",
  "content-filter": "content_filter",
  // The wire has no name for these: the answer ended, so "stop".
  error: "stop",
  other: "stop",
};

/** The wire finish reason for a core one (`undefined` → `stop`). */
export function toChatFinishReason(reason: FinishReason | UnifiedFinishReason | undefined): ChatFinishReason {
  if (reason === undefined) return "stop";
  return TO_WIRE[typeof reason === "string" ? reason : reason.unified] ?? "stop";
}

// ---- usage -----------------------------------------------------------------------------------

/** The wire's usage as servers send it: counts may be null, cached prompt tokens are a detail. */
export interface ChatUsageLike {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

/** Core usage from the wire's; `undefined` when the server sent none (never a made-up 0). */
export function fromChatUsage(usage: ChatUsageLike | null | undefined): Usage | undefined {
  if (!usage) return undefined;
  // An OpenAI-compatible server may send anything there ("n/a"): only a count is a count.
  const out: Usage = {
    inputTokens: countOrUndefined(usage.prompt_tokens),
    outputTokens: countOrUndefined(usage.completion_tokens),
  };
  // OpenAI counts cached prompt tokens inside prompt_tokens, as our Usage does, and sends 0 on
  // every call without a cache hit: only a hit is news.
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (typeof cached === "number" && cached > 0) out.cacheReadInputTokens = cached;
  return out;
}

/** The wire's usage; `undefined` unless both counts are known (the wire has no "unknown"). */
export function toChatUsage(usage: Usage | undefined): ChatUsage | undefined {
  if (usage?.inputTokens === undefined || usage.outputTokens === undefined) return undefined;
  const wire: ChatUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cacheReadInputTokens !== undefined)
    wire.prompt_tokens_details = { cached_tokens: usage.cacheReadInputTokens };
  return wire;
}

// ---- completions -----------------------------------------------------------------------------

/**
 * What a completion may hold: the `openai` SDK's `ChatCompletion`, `@huggingface/inference`'s
 * output, or parsed JSON; with the reasoning compatible servers add (`reasoning_content`,
 * `reasoning`, LiteLLM's `thinking_blocks`), checked as it is read.
 */
export interface ChatCompletionLike {
  id?: string | null;
  choices: readonly {
    message?: {
      content?: string | null;
      tool_calls?: readonly { id: string; type?: string; function?: { name: string; arguments?: unknown } }[] | null;
      reasoning_content?: unknown;
      reasoning?: unknown;
      thinking_blocks?: unknown;
    } | null;
    finish_reason?: string | null;
  }[];
  usage?: ChatUsageLike | null;
}

/** A completion as a model's output: the first choice's text and tool calls, usage, finish reason. */
export function fromChatCompletion(completion: ChatCompletionLike): ModelOutput {
  const choice = completion.choices[0];
  const message = choice?.message;
  // Built field by field: no spread copies on the hot path.
  const output: ModelOutput = { text: message?.content ?? "" };
  if (message) {
    const reasoning = fromChatReasoning(message);
    if (reasoning !== undefined) output.reasoning = reasoning;
  }
  const calls = message?.tool_calls;
  if (calls && calls.length > 0) {
    const toolCalls: ToolCall[] = [];
    // Custom (non-function) tool calls have no name and arguments to give.
    for (const call of calls) {
      const fn = call.function;
      if (fn !== undefined && (call.type === undefined || call.type === "function"))
        toolCalls.push({ id: call.id, name: fn.name, arguments: parseArguments(fn.arguments) });
    }
    if (toolCalls.length > 0) output.toolCalls = toolCalls;
  }
  const usage = completion.usage;
  if (usage) output.usage = fromChatUsage(usage) as Usage;
  const finishReason = fromChatFinishReason(choice?.finish_reason);
  if (finishReason !== undefined) output.finishReason = finishReason;
  if (typeof completion.id === "string" && completion.id !== "") output.responseId = completion.id;
  return output;
}

/** What `toChatCompletion` writes: a model's result (or a scripted one). */
export interface ChatOutput {
  text: string;
  toolCalls?: readonly ToolCall[];
  /** Written as `reasoning_content` (the text), and as `thinking_blocks` when a part is signed or redacted. */
  reasoning?: readonly ReasoningPart[];
  usage?: Usage;
  /** A core reason, mapped; a wire string is sent as it is. */
  finishReason?: FinishReason | ChatFinishReason;
}

export function wireFinishReason(
  reason: FinishReason | ChatFinishReason | undefined,
  toolCalls: number,
): ChatFinishReason {
  if (typeof reason === "string") return reason;
  return reason === undefined && toolCalls > 0 ? "tool_calls" : toChatFinishReason(reason);
}

/** A result as a `chat.completion` body. */
export function toChatCompletion(output: ChatOutput, identity: ChatIdentity): ChatCompletion {
  const calls = output.toolCalls ?? [];
  const message: ChatCompletionMessage = {
    role: "assistant",
    content: output.text === "" && calls.length > 0 ? null : output.text,
    refusal: null,
  };
  if (calls.length > 0) message.tool_calls = calls.map(toChatToolCall);
  const reasoning = output.reasoning;
  if (reasoning !== undefined && reasoning.length > 0) {
    message.reasoning_content = reasoningText(reasoning);
    const blocks = toChatThinkingBlocks(reasoning);
    if (blocks !== undefined) message.thinking_blocks = blocks;
  }
  const body: ChatCompletion = {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [
      { index: 0, message, logprobs: null, finish_reason: wireFinishReason(output.finishReason, calls.length) },
    ],
  };
  const usage = toChatUsage(output.usage);
  if (usage) body.usage = usage;
  if (identity.systemFingerprint !== undefined) body.system_fingerprint = identity.systemFingerprint;
  return body;
}
