import { type ReasoningPart, type StreamChunk, type ToolCall, appendReasoning } from "@orchestrator-ts/core";
import type { StoredEntry } from "./entry";

// Characters an entry takes beside its text and chunks (finish reason, usage, cost, field names).
const ENTRY_OVERHEAD_CHARS = 256;

/**
 * Records a stream as it passes, up to the entry bound (then lets go of what it holds, so only the
 * consumer holds the chunks), and gives the entry to store once the stream completed normally.
 */
export class StreamRecorder {
  #parts: (string | ToolCall)[] | undefined = [];
  #toolCalls: ToolCall[] = [];
  #reasoning: ReasoningPart[] = [];
  #text = "";
  // Characters the stored JSON will take at least: the text twice (`t` and `ch`), the tool calls twice.
  #chars = ENTRY_OVERHEAD_CHARS;
  readonly #maxChars: number;

  constructor(maxEntryBytes: number) {
    this.#maxChars = maxEntryBytes / 2;
  }

  /** Records a chunk (not the finish); `true` when this chunk made the entry too large to store. */
  add(chunk: StreamChunk): boolean {
    const parts = this.#parts;
    if (parts === undefined) return false;
    if (chunk.type === "text") {
      this.#chars += 2 * chunk.text.length + 3;
      parts.push(chunk.text);
      this.#text += chunk.text;
    } else if (chunk.type === "tool-call") {
      this.#chars += 2 * jsonLength(chunk.toolCall) + 1;
      parts.push(chunk.toolCall);
      this.#toolCalls.push(chunk.toolCall);
    } else if (chunk.type === "reasoning") {
      this.#chars += chunk.text.length + (chunk.signature?.length ?? 0) + (chunk.redactedData?.length ?? 0) + 8;
      // A part after tool calls (interleaved thinking) keeps its place, for replays and whole answers.
      appendReasoning(this.#reasoning, chunk, this.#toolCalls.length);
    }
    if (this.#chars <= this.#maxChars) return false;
    this.#parts = undefined;
    this.#toolCalls = [];
    this.#reasoning = [];
    this.#text = "";
    return true;
  }

  /** The entry to store; `undefined` when the stream was too large, did not finish, or finished with an error. */
  entry(finish: Extract<StreamChunk, { type: "finish" }> | undefined): StoredEntry | undefined {
    const parts = this.#parts;
    if (parts === undefined || !finish || finish.finishReason?.unified === "error") return undefined;
    const entry: StoredEntry = { t: this.#text, f: finish.finishReason ?? { unified: "stop" }, ch: parts };
    if (this.#toolCalls.length > 0) entry.tc = this.#toolCalls;
    if (this.#reasoning.length > 0) entry.r = this.#reasoning;
    if (finish.usage && (finish.usage.inputTokens !== undefined || finish.usage.outputTokens !== undefined))
      entry.u = finish.usage;
    if (finish.costUsd !== undefined) entry.c = finish.costUsd;
    // What the model left out when it made this answer: a hit tells it again.
    if (finish.warnings !== undefined && finish.warnings.length > 0) entry.w = finish.warnings;
    return entry;
  }
}

/** Characters of a value's JSON (0 when it has none): the size a tool call adds to an entry. */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    // Not serialisable (a BigInt, a cycle): storing it would fail anyway; count it as too large.
    return Number.POSITIVE_INFINITY;
  }
}
