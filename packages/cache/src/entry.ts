import {
  type FinishReason,
  type GenerateResult,
  type ReasoningPart,
  type StreamChunk,
  type ToolCall,
  type UnifiedFinishReason,
  type Usage,
  reasoningChunk,
} from "@orchestrator-ts/core";

/**
 * A stored answer, compact (short keys, empty parts left out) because Redis holds many of them.
 * `t` is the whole text; `ch` keeps a stream's chunk boundaries (a string is a text chunk) so a
 * replay looks like the original stream. A `generate` entry replays as one text chunk. `r` is the
 * model's reasoning, replayed (one chunk a part) before the rest.
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
  r?: ReasoningPart[];
}

export function entryFromResult(result: GenerateResult): StoredEntry {
  const entry: StoredEntry = { t: result.text, f: result.finishReason };
  if (result.toolCalls.length > 0) entry.tc = result.toolCalls;
  if (result.usage.inputTokens !== undefined || result.usage.outputTokens !== undefined) entry.u = result.usage;
  if (result.costUsd !== undefined) entry.c = result.costUsd;
  if (result.warnings.length > 0) entry.w = result.warnings;
  if (result.reasoning !== undefined && result.reasoning.length > 0) entry.r = result.reasoning;
  return entry;
}

/**
 * An entry read back from a backend (Redis is shared and outlives this process: anything may be
 * there), checked field by field, so a bad one is never served. Throws on text that is not JSON.
 * Returns the entry, or a string saying what is wrong with it.
 */
export function parseEntry(raw: string): StoredEntry | string {
  const value: unknown = JSON.parse(raw);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an object";
  const e = value as Record<string, unknown>;
  if (typeof e.t !== "string") return "t: expected a string";
  if (!isFinishReason(e.f)) return "f: expected a finish reason";
  if (e.tc !== undefined && !isToolCalls(e.tc)) return "tc: expected an array of tool calls";
  if (e.u !== undefined && !isUsage(e.u)) return "u: expected usage";
  if (e.c !== undefined && !(typeof e.c === "number" && Number.isFinite(e.c) && e.c >= 0)) return "c: expected a cost";
  if (e.w !== undefined && !isStrings(e.w)) return "w: expected an array of strings";
  if (e.ch !== undefined && !isChunks(e.ch)) return "ch: expected an array of text chunks and tool calls";
  if (e.r !== undefined && !isReasoning(e.r)) return "r: expected an array of reasoning parts";
  return e as unknown as StoredEntry;
}

const UNIFIED: ReadonlySet<unknown> = new Set<UnifiedFinishReason>([
  "stop",
  "length",
  "tool-calls",
  "content-filter",
  "error",
  "other",
]);

function isFinishReason(v: unknown): v is FinishReason {
  if (typeof v !== "object" || v === null) return false;
  const f = v as Record<string, unknown>;
  return UNIFIED.has(f.unified) && (f.raw === undefined || typeof f.raw === "string");
}

function isToolCall(v: unknown): v is ToolCall {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Record<string, unknown>;
  return typeof c.id === "string" && typeof c.name === "string";
}

function isToolCalls(v: unknown): v is ToolCall[] {
  if (!Array.isArray(v)) return false;
  for (const c of v) if (!isToolCall(c)) return false;
  return true;
}

function isCount(v: unknown): boolean {
  return v === undefined || (typeof v === "number" && Number.isFinite(v) && v >= 0);
}

function isUsage(v: unknown): v is Usage {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const u = v as Record<string, unknown>;
  return isCount(u.inputTokens) && isCount(u.outputTokens);
}

function isStrings(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const s of v) if (typeof s !== "string") return false;
  return true;
}

function isChunks(v: unknown): v is (string | ToolCall)[] {
  if (!Array.isArray(v)) return false;
  for (const c of v) if (typeof c !== "string" && !isToolCall(c)) return false;
  return true;
}

function isReasoning(v: unknown): v is ReasoningPart[] {
  if (!Array.isArray(v)) return false;
  for (const p of v) {
    if (typeof p !== "object" || p === null) return false;
    const r = p as Record<string, unknown>;
    if (r.type !== "reasoning" || typeof r.text !== "string") return false;
    if (r.signature !== undefined && typeof r.signature !== "string") return false;
    if (r.redactedData !== undefined && typeof r.redactedData !== "string") return false;
    if (r.afterToolCalls !== undefined && !(Number.isInteger(r.afterToolCalls) && (r.afterToolCalls as number) >= 0))
      return false;
  }
  return true;
}

const NO_TOOL_CALLS: ToolCall[] = [];

/** A hit as a result: `cached: true`, the lookup's latency, and no cost (nothing was paid this time). */
export function resultFromEntry(
  entry: StoredEntry,
  model: string,
  provider: string,
  latencyMs: number,
): GenerateResult {
  const result: GenerateResult = {
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
  if (entry.r !== undefined) result.reasoning = entry.r;
  return result;
}

/** The chunks of a replay, finish chunk excluded. */
export function replayChunks(entry: StoredEntry): StreamChunk[] {
  const out: StreamChunk[] = [];
  const reasoning = entry.r;
  // Reasoning where the model wrote it: first, or after as many tool calls as its afterToolCalls says.
  const reasoningAfter = (calls: number) => {
    if (reasoning)
      for (const part of reasoning) if ((part.afterToolCalls ?? 0) === calls) out.push(reasoningChunk(part));
  };
  reasoningAfter(0);
  let calls = 0;
  // A generate entry keeps no chunk boundaries: its text in one chunk, then its tool calls.
  const pieces =
    entry.ch ?? (entry.t.length > 0 ? [entry.t, ...(entry.tc ?? NO_TOOL_CALLS)] : (entry.tc ?? NO_TOOL_CALLS));
  for (const c of pieces) {
    if (typeof c === "string") out.push({ type: "text", text: c });
    else {
      out.push({ type: "tool-call", toolCall: c });
      reasoningAfter(++calls);
    }
  }
  // Parts placed after more tool calls than the answer has: at the end.
  if (reasoning) for (const part of reasoning) if ((part.afterToolCalls ?? 0) > calls) out.push(reasoningChunk(part));
  return out;
}
