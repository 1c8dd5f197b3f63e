import type { FinishReason, GenerateResult, StreamChunk, ToolCall, Usage } from "@orchestrator-ts/core";

/**
 * A stored answer, compact (short keys, empty parts left out) because Redis holds many of them.
 * `t` is the whole text; `ch` keeps a stream's chunk boundaries (a string is a text chunk) so a
 * replay looks like the original stream. A `generate` entry replays as one text chunk.
 */
export interface StoredEntry {
  t: string;
  tc?: ToolCall[];
  u?: Usage;
  /** What the original call cost (hits themselves cost nothing). */
  c?: number;
  f: FinishReason;
  w?: string[];
  ch?: (string | ToolCall)[];
}

export function entryFromResult(result: GenerateResult): StoredEntry {
  const entry: StoredEntry = { t: result.text, f: result.finishReason };
  if (result.toolCalls.length > 0) entry.tc = result.toolCalls;
  if (result.usage.inputTokens !== undefined || result.usage.outputTokens !== undefined) entry.u = result.usage;
  if (result.costUsd !== undefined) entry.c = result.costUsd;
  if (result.warnings.length > 0) entry.w = result.warnings;
  return entry;
}

export function parseEntry(raw: string): StoredEntry | undefined {
  const value = JSON.parse(raw) as Partial<StoredEntry> | null;
  if (!value || typeof value !== "object" || typeof value.t !== "string" || typeof value.f !== "object" || value.f === null) return undefined;
  return value as StoredEntry;
}

const NO_TOOL_CALLS: ToolCall[] = [];

/** A hit as a result: `cached: true`, the lookup's latency, and no cost (nothing was paid this time). */
export function resultFromEntry(entry: StoredEntry, model: string, provider: string, latencyMs: number): GenerateResult {
  return {
    text: entry.t,
    toolCalls: entry.tc ?? [],
    usage: entry.u ?? {},
    costUsd: 0,
    finishReason: entry.f,
    latencyMs,
    model,
    provider,
    cached: true,
    warnings: entry.w ?? [],
  };
}

/** The chunks of a replay, finish chunk excluded. */
export function replayChunks(entry: StoredEntry): StreamChunk[] {
  const out: StreamChunk[] = [];
  if (entry.ch) {
    for (const c of entry.ch) out.push(typeof c === "string" ? { type: "text", text: c } : { type: "tool-call", toolCall: c });
    return out;
  }
  if (entry.t.length > 0) out.push({ type: "text", text: entry.t });
  for (const toolCall of entry.tc ?? NO_TOOL_CALLS) out.push({ type: "tool-call", toolCall });
  return out;
}
