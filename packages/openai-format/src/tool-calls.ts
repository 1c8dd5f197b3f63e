import type { StreamChunk, ToolCall } from "@orchestrator-ts/core";

/**
 * A tool call's arguments as the core contract holds them: the parsed JSON, or the raw string when
 * the model produced invalid JSON. `""` is `{}`; an object (TGI has sent arguments as one) passes
 * through.
 */
export function parseArguments(value: unknown): unknown {
  if (typeof value !== "string") return value ?? {};
  if (value === "") return {};
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Arguments as the wire carries them: a JSON string (a string argument is sent verbatim). */
export function stringifyArguments(args: unknown): string {
  return typeof args === "string" ? args : JSON.stringify(args ?? {});
}

/** What a streamed tool-call delta may hold (OpenAI's shape; TGI may leave out `index`). */
export interface ToolCallDeltaLike {
  index?: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: unknown } | null;
}

interface PendingToolCall {
  index: number;
  id: string;
  name: string;
  args: string;
  /** The id its `tool-input-start` carried (its arguments stream): the whole call keeps it. */
  startedId?: string;
  /** Of `args`, the characters already handed on as `tool-input-delta`s. */
  sent?: number;
}

/**
 * Assembles streamed tool-call deltas by index. A call is complete when a later index starts or
 * the stream finishes; `add` returns the calls a new index completed, `flush` the rest. Given an
 * `out` list, `add` also pushes each call's `tool-input-start` (once its name is known) and its
 * arguments as `tool-input-delta`s as they come.
 */
export class ToolCallAssembler {
  #pending: PendingToolCall[] = [];

  /** Adds deltas; returns the calls completed by them (those with a lower index than a new one). */
  add(deltas: readonly ToolCallDeltaLike[], out?: StreamChunk[]): ToolCall[] | undefined {
    let done: ToolCall[] | undefined;
    for (const d of deltas) {
      const index = d.index ?? 0;
      let entry = this.#pending.find((p) => p.index === index);
      if (!entry) {
        if (this.#pending.length > 0) {
          const finished = this.#drain((p) => p.index < index);
          if (finished.length > 0) {
            done = done ? done.concat(finished) : finished;
            // The calls a new index completed come before its start, as they do without deltas.
            if (out) for (const toolCall of finished) out.push({ type: "tool-call", toolCall });
          }
        }
        entry = { index, id: d.id ?? "", name: "", args: "" };
        this.#pending.push(entry);
      }
      if (d.id && entry.startedId === undefined) entry.id = d.id;
      if (d.function?.name && entry.startedId === undefined) entry.name += d.function.name;
      const args = d.function?.arguments;
      if (typeof args === "string") entry.args += args;
      else if (args !== undefined && args !== null) entry.args += JSON.stringify(args);
      if (out) streamInput(entry, out);
    }
    return out ? undefined : done;
  }

  /** Every call still pending, completed. */
  flush(): ToolCall[] {
    return this.#pending.length === 0 ? [] : this.#drain(() => true);
  }

  #drain(which: (p: PendingToolCall) => boolean): ToolCall[] {
    const out: ToolCall[] = [];
    const keep: PendingToolCall[] = [];
    for (const p of this.#pending) {
      if (which(p))
        out.push({ id: p.startedId ?? (p.id || `call_${p.index}`), name: p.name, arguments: parseArguments(p.args) });
      else keep.push(p);
    }
    this.#pending = keep;
    return out;
  }
}

/** A call's start once its name is known (the id then is the call's), and what its arguments added since. */
function streamInput(entry: PendingToolCall, out: StreamChunk[]): void {
  if (entry.startedId === undefined) {
    // Its name may still come in pieces until its arguments begin (or it completes).
    if (entry.name === "" || entry.args === "") return;
    entry.startedId = entry.id || `call_${entry.index}`;
    entry.sent = 0;
    out.push({ type: "tool-input-start", id: entry.startedId, name: entry.name });
  }
  const sent = entry.sent ?? 0;
  if (entry.args.length > sent) {
    out.push({
      type: "tool-input-delta",
      id: entry.startedId,
      delta: sent === 0 ? entry.args : entry.args.slice(sent),
    });
    entry.sent = entry.args.length;
  }
}
