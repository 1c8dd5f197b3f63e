import type { ReasoningPart, StreamChunk } from "@orchestrator-ts/core";
import type { ChatThinkingBlock } from "./wire";

// Reasoning ("thinking") on the OpenAI shape, which has no field for it in OpenAI's own API. What
// compatible servers send instead: `reasoning_content` (DeepSeek, vLLM, SGLang, LM Studio, LiteLLM),
// `reasoning` (OpenRouter, Ollama's /v1, newer vLLM), and LiteLLM's `thinking_blocks`, which carry
// Anthropic's signed and redacted blocks. Everything read here comes from another server: its
// types are checked, never trusted.

/** Where a message or a delta may carry reasoning, as any compatible server sends it. */
export interface ChatReasoningLike {
  reasoning_content?: unknown;
  reasoning?: unknown;
  thinking_blocks?: unknown;
}

type ReasoningChunk = Extract<StreamChunk, { type: "reasoning" }>;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A `thinking_blocks` entry as a reasoning chunk; `undefined` for anything else (a block of a kind unknown here). */
export function fromChatThinkingBlock(block: unknown): ReasoningChunk | undefined {
  if (!isRecord(block)) return undefined;
  if (block.type === "redacted_thinking")
    return typeof block.data === "string" ? { type: "reasoning", text: "", redactedData: block.data } : undefined;
  if (block.type !== "thinking") return undefined;
  const chunk: ReasoningChunk = { type: "reasoning", text: typeof block.thinking === "string" ? block.thinking : "" };
  // LiteLLM's thinking deltas say `signature: null` (or "") until the block's signature comes.
  if (typeof block.signature === "string" && block.signature !== "") chunk.signature = block.signature;
  return chunk;
}

/** The reasoning text of a message or delta: `reasoning_content`, else `reasoning` (servers in transition send both). */
function reasoningTextOf(source: ChatReasoningLike): string {
  const text = source.reasoning_content;
  if (typeof text === "string" && text !== "") return text;
  const other = source.reasoning;
  return typeof other === "string" ? other : "";
}

/**
 * A completion message's reasoning as parts: its `thinking_blocks` when it has any (they carry the
 * signatures; `reasoning_content` then repeats their text), else its reasoning text as one
 * unsigned part. `undefined` when it has none.
 */
export function fromChatReasoning(message: ChatReasoningLike): ReasoningPart[] | undefined {
  const blocks = message.thinking_blocks;
  if (Array.isArray(blocks) && blocks.length > 0) {
    const parts: ReasoningPart[] = [];
    for (const block of blocks) {
      const part = fromChatThinkingBlock(block);
      if (part !== undefined) parts.push(part as ReasoningPart);
    }
    if (parts.length > 0) return parts;
  }
  const text = reasoningTextOf(message);
  return text === "" ? undefined : [{ type: "reasoning", text }];
}

/** The reasoning chunks one streamed delta adds, pushed to `out` (its `thinking_blocks` when it has any, as for a message). */
export function pushChatReasoningDelta(delta: ChatReasoningLike, out: StreamChunk[]): void {
  const blocks = delta.thinking_blocks;
  if (Array.isArray(blocks) && blocks.length > 0) {
    let read = false;
    for (const block of blocks) {
      const chunk = fromChatThinkingBlock(block);
      if (chunk === undefined) continue;
      read = true;
      if (chunk.text !== "" || chunk.signature !== undefined || chunk.redactedData !== undefined) out.push(chunk);
    }
    if (read) return;
  }
  const text = reasoningTextOf(delta);
  if (text !== "") out.push({ type: "reasoning", text });
}

/** Parts as LiteLLM's `thinking_blocks`; `undefined` unless one is signed or redacted (plain reasoning needs no blocks). */
export function toChatThinkingBlocks(parts: readonly ReasoningPart[] | undefined): ChatThinkingBlock[] | undefined {
  if (parts === undefined || !parts.some((p) => p.signature !== undefined || p.redactedData !== undefined))
    return undefined;
  return parts.map(toChatThinkingBlock);
}

/** One part as a `thinking_blocks` entry. */
export function toChatThinkingBlock(part: ReasoningPart): ChatThinkingBlock {
  if (part.redactedData !== undefined) return { type: "redacted_thinking", data: part.redactedData };
  const block: ChatThinkingBlock = { type: "thinking", thinking: part.text };
  if (part.signature !== undefined) block.signature = part.signature;
  return block;
}
