import { type ReasoningPart, type StreamChunk, type ToolCall, type Usage, inAnswerOrder } from "@orchestrator-ts/core";
import type { ChatOutput } from "./response";
import { stringifyArguments } from "./tool-calls";

/** Who a Responses answer is: its id (`resp_…`), creation time (unix seconds) and the model that answered. */
export interface ResponsesIdentity {
  id: string;
  createdAt: number;
  model: string;
}

/** An output item of a Responses answer: a reasoning item, the assistant's message, or a function call. */
export type ResponsesOutputItem =
  | {
      type: "reasoning";
      id: string;
      summary: { type: "summary_text"; text: string }[];
      content?: { type: "reasoning_text"; text: string }[];
      encrypted_content?: string | null;
      status?: "in_progress" | "completed";
    }
  | {
      type: "message";
      id: string;
      role: "assistant";
      status: "in_progress" | "completed" | "incomplete";
      content: ResponsesOutputText[];
    }
  | {
      type: "function_call";
      id: string;
      call_id: string;
      name: string;
      arguments: string;
      status: "in_progress" | "completed";
    };

/** A text part of the assistant's `message` item (`annotations` and `logprobs` are always empty here). */
export interface ResponsesOutputText {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

/** A response's token counts; the details are present only when the provider counted them. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details?: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details?: { reasoning_tokens: number };
  total_tokens: number;
}

/** A `response` object, as `POST /v1/responses` answers and its stream's lifecycle events carry. */
export interface ResponsesResponse {
  id: string;
  object: "response";
  created_at: number;
  status: "in_progress" | "completed" | "incomplete";
  model: string;
  output: ResponsesOutputItem[];
  usage?: ResponsesUsage;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  error: null;
  instructions: null;
  metadata: Record<string, string>;
  parallel_tool_calls: boolean;
  temperature: null;
  top_p: null;
  tool_choice: "auto";
  tools: [];
}

/** One event of a streamed Responses answer (`type` is also the SSE event name). */
export interface ResponsesStreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

function usageOf(usage: Usage | undefined): ResponsesUsage | undefined {
  // Counts a provider did not report are left out rather than written as 0.
  if (usage?.inputTokens === undefined || usage.outputTokens === undefined) return undefined;
  const out: ResponsesUsage = {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  // Details only when the provider counted them (never a made-up 0).
  if (usage.cacheReadInputTokens !== undefined)
    out.input_tokens_details = { cached_tokens: usage.cacheReadInputTokens };
  return out;
}

function incompleteOf(reason: ChatOutput["finishReason"]): ResponsesResponse["incomplete_details"] {
  const unified = typeof reason === "string" ? reason : reason?.unified;
  if (unified === "length") return { reason: "max_output_tokens" };
  if (unified === "content-filter" || unified === "content_filter") return { reason: "content_filter" };
  return null;
}

function responseOf(identity: ResponsesIdentity, status: ResponsesResponse["status"]): ResponsesResponse {
  return {
    id: identity.id,
    object: "response",
    created_at: identity.createdAt,
    status,
    model: identity.model,
    output: [],
    incomplete_details: null,
    error: null,
    instructions: null,
    metadata: {},
    parallel_tool_calls: true,
    temperature: null,
    top_p: null,
    tool_choice: "auto",
    tools: [],
  };
}

// Item ids are the answer's id with a suffix: unique per answer, no randomness per item.
const itemId = (identity: ResponsesIdentity, prefix: string, index: number): string =>
  `${prefix}_${identity.id.startsWith("resp_") ? identity.id.slice(5) : identity.id}_${index}`;

/** A reasoning part as an item: its text as `reasoning_text`, a signature (or a redacted block's data) as `encrypted_content`. */
/** How a redacted block's data starts in `encrypted_content` (a signature has text beside it; redacted data has none). */
export const REDACTED = "redacted:";

function encryptedOf(part: { signature?: string; redactedData?: string }): string | undefined {
  return part.redactedData !== undefined ? REDACTED + part.redactedData : part.signature;
}

function reasoningItem(part: ReasoningPart, id: string): ResponsesOutputItem {
  const encrypted = encryptedOf(part);
  return {
    type: "reasoning",
    id,
    summary: [],
    ...(part.text !== "" ? { content: [{ type: "reasoning_text" as const, text: part.text }] } : {}),
    ...(encrypted !== undefined ? { encrypted_content: encrypted } : {}),
    status: "completed",
  };
}

function functionCallItem(call: ToolCall, id: string, status: "in_progress" | "completed"): ResponsesOutputItem {
  return {
    type: "function_call",
    id,
    call_id: call.id,
    name: call.name,
    arguments: status === "completed" ? stringifyArguments(call.arguments) : "",
    status,
  };
}

const outputText = (text: string): ResponsesOutputText => ({
  type: "output_text",
  text,
  annotations: [],
  logprobs: [],
});

/**
 * A result as a Responses API `response` body: reasoning items first (text as `reasoning_text`,
 * a signature as `encrypted_content`, so it comes back with the next turn), then the assistant's
 * `message` (when there is text), then a `function_call` item per tool call. A cut answer
 * (`length`, a content filter) is `incomplete` with its reason; usage only when the counts are known.
 */
export function toResponsesResponse(output: ChatOutput, identity: ResponsesIdentity): ResponsesResponse {
  const incomplete = incompleteOf(output.finishReason);
  const response = responseOf(identity, incomplete === null ? "completed" : "incomplete");
  response.incomplete_details = incomplete;
  const calls = output.toolCalls ?? [];
  // Items in the model's order (reasoning between function calls stays there); ids are their places.
  type Item = (index: number) => ResponsesOutputItem;
  const reasoning = (output.reasoning ?? []).map(
    (part): Item =>
      (i) =>
        reasoningItem(part, itemId(identity, "rs", i)),
  );
  const message: Item[] =
    output.text !== "" || calls.length === 0
      ? [
          (i) => ({
            type: "message",
            id: itemId(identity, "msg", i),
            role: "assistant",
            // As streamed: a message cut short is the last item; one followed by tool calls was complete.
            status: incomplete !== null && calls.length === 0 ? "incomplete" : "completed",
            content: [outputText(output.text)],
          }),
        ]
      : [];
  const functionCalls = calls.map(
    (call): Item =>
      (i) =>
        functionCallItem(call, itemId(identity, "fc", i), "completed"),
  );
  response.output = inAnswerOrder(output.reasoning ?? [], reasoning, message, functionCalls).map((item, i) => item(i));
  const usage = usageOf(output.usage);
  if (usage) response.usage = usage;
  return response;
}

/** An event as a server-sent event: `event: <type>` and its JSON. */
export function responsesSseEvent(event: ResponsesStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Core stream chunks as a Responses API event stream, the way OpenAI writes one:
 * `response.created` and `response.in_progress` first; reasoning as a `reasoning` item
 * (`response.reasoning_text.delta`s; a chunk with a signature ends the item); text as a `message`
 * item with one `output_text` part (`response.output_text.delta`s); each tool call as a
 * `function_call` item (its arguments in one delta, or as they come when the stream carries
 * `tool-input-*` chunks); every item added, then done, in order; and
 * `response.completed` (`response.incomplete` for a cut answer) with the whole response. A failure
 * after the stream began is `error(…)`: an `error` event, never `response.completed`.
 */
export class ResponsesStreamEncoder {
  readonly #identity: ResponsesIdentity;
  readonly #response: ResponsesResponse;
  #sequence = 0;
  #started = false;
  // The item being written: its index in `output`, and the text so far for `.done` events.
  #open: { kind: "message" | "reasoning"; index: number; text: string } | undefined;
  /** Function calls whose arguments stream (`tool-input-start` came), by call id: their item and the arguments so far. */
  #calls: Map<string, { index: number; id: string; args: string }> | undefined;

  constructor(identity: ResponsesIdentity) {
    this.#identity = identity;
    this.#response = responseOf(identity, "in_progress");
  }

  /** The events for one chunk (the stream's opening with the first). */
  encode(chunk: StreamChunk): ResponsesStreamEvent[] {
    const out: ResponsesStreamEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      out.push(this.#event("response.created", { response: this.#snapshot() }));
      out.push(this.#event("response.in_progress", { response: this.#snapshot() }));
    }
    if (chunk.type === "text") {
      if (chunk.text === "") return out;
      const open = this.#openItem("message", out);
      open.text += chunk.text;
      out.push(
        this.#event("response.output_text.delta", {
          item_id: this.#itemId(open.index),
          output_index: open.index,
          content_index: 0,
          delta: chunk.text,
          logprobs: [],
        }),
      );
    } else if (chunk.type === "reasoning") {
      if (chunk.text === "" && chunk.redactedData !== undefined && this.#open?.kind !== "reasoning") {
        // A redacted block comes whole: its item, added and done (no text part), as a whole answer writes it.
        this.#close(out);
        const index = this.#response.output.length;
        const item = reasoningItem(chunk, itemId(this.#identity, "rs", index));
        this.#response.output.push(item);
        out.push(
          this.#event("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress" } }),
        );
        out.push(this.#event("response.output_item.done", { output_index: index, item: structuredClone(item) }));
        return out;
      }
      const open = this.#openItem("reasoning", out);
      if (chunk.text !== "") {
        open.text += chunk.text;
        out.push(
          this.#event("response.reasoning_text.delta", {
            item_id: this.#itemId(open.index),
            output_index: open.index,
            content_index: 0,
            delta: chunk.text,
          }),
        );
      }
      if (chunk.signature !== undefined || chunk.redactedData !== undefined) this.#close(out, encryptedOf(chunk));
    } else if (chunk.type === "tool-input-start") {
      this.#close(out);
      const index = this.#response.output.length;
      const id = itemId(this.#identity, "fc", index);
      const item = functionCallItem({ id: chunk.id, name: chunk.name, arguments: {} }, id, "in_progress");
      this.#response.output.push(item);
      (this.#calls ??= new Map()).set(chunk.id, { index, id, args: "" });
      out.push(this.#event("response.output_item.added", { output_index: index, item: structuredClone(item) }));
    } else if (chunk.type === "tool-input-delta") {
      const call = this.#calls?.get(chunk.id);
      if (call === undefined || chunk.delta === "") return out;
      call.args += chunk.delta;
      out.push(
        this.#event("response.function_call_arguments.delta", {
          item_id: call.id,
          output_index: call.index,
          delta: chunk.delta,
        }),
      );
    } else if (chunk.type === "tool-call" && this.#calls?.has(chunk.toolCall.id)) {
      // Its arguments went as they came: the item is done, with those arguments.
      const call = this.#calls.get(chunk.toolCall.id) as { index: number; id: string; args: string };
      this.#calls.delete(chunk.toolCall.id);
      // No piece came (a tool without arguments: Claude streams ""): its arguments whole, "{}" rather than "".
      if (call.args === "") {
        call.args = stringifyArguments(chunk.toolCall.arguments);
        out.push(
          this.#event("response.function_call_arguments.delta", {
            item_id: call.id,
            output_index: call.index,
            delta: call.args,
          }),
        );
      }
      const done = { ...functionCallItem(chunk.toolCall, call.id, "completed"), arguments: call.args };
      this.#response.output[call.index] = done;
      out.push(
        this.#event("response.function_call_arguments.done", {
          item_id: call.id,
          output_index: call.index,
          name: chunk.toolCall.name,
          arguments: call.args,
        }),
      );
      out.push(this.#event("response.output_item.done", { output_index: call.index, item: structuredClone(done) }));
    } else if (chunk.type === "tool-call") {
      this.#close(out);
      const index = this.#response.output.length;
      const id = itemId(this.#identity, "fc", index);
      const done = functionCallItem(chunk.toolCall, id, "completed");
      this.#response.output.push(done);
      out.push(
        this.#event("response.output_item.added", {
          output_index: index,
          item: functionCallItem(chunk.toolCall, id, "in_progress"),
        }),
      );
      const args = (done as { arguments: string }).arguments;
      out.push(
        this.#event("response.function_call_arguments.delta", { item_id: id, output_index: index, delta: args }),
      );
      out.push(
        this.#event("response.function_call_arguments.done", {
          item_id: id,
          output_index: index,
          name: chunk.toolCall.name,
          arguments: args,
        }),
      );
      out.push(this.#event("response.output_item.done", { output_index: index, item: done }));
    } else if (chunk.type === "finish") {
      const incomplete = incompleteOf(chunk.finishReason);
      // An answer with neither text nor tool calls still has its (empty) message, as a whole answer does.
      if (this.#response.output.every((item) => item.type === "reasoning")) this.#openItem("message", out);
      this.#close(out, undefined, incomplete === null ? "completed" : "incomplete");
      const response = this.#response;
      response.status = incomplete === null ? "completed" : "incomplete";
      response.incomplete_details = incomplete;
      const usage = usageOf(chunk.usage);
      if (usage) response.usage = usage;
      out.push(
        this.#event(incomplete === null ? "response.completed" : "response.incomplete", {
          response: this.#snapshot(),
        }),
      );
    }
    return out;
  }

  /**
   * The event that ends a stream cut after it began: OpenAI's `error` event (`code`, `message`),
   * with the same as an `error` member, which the `openai` SDK raises as an `APIError` — so a cut
   * answer is never taken for a whole one.
   */
  error(code: string, message: string, type = "api_error"): ResponsesStreamEvent {
    return this.#event("error", { code, message, param: null, error: { type, code, message, param: null } });
  }

  #event(type: string, fields: Record<string, unknown>): ResponsesStreamEvent {
    return { type, sequence_number: this.#sequence++, ...fields };
  }

  #itemId(index: number): string {
    return (this.#response.output[index] as { id: string }).id;
  }

  #snapshot(): ResponsesResponse {
    return structuredClone(this.#response);
  }

  /** The open item of this kind, after closing another kind's; a new one (added) when none is open. */
  #openItem(kind: "message" | "reasoning", out: ResponsesStreamEvent[]): { index: number; text: string } {
    if (this.#open?.kind === kind) return this.#open;
    this.#close(out);
    const output = this.#response.output;
    const index = output.length;
    if (kind === "message") {
      const item: ResponsesOutputItem = {
        type: "message",
        id: itemId(this.#identity, "msg", index),
        role: "assistant",
        status: "in_progress",
        content: [],
      };
      output.push(item);
      out.push(this.#event("response.output_item.added", { output_index: index, item: structuredClone(item) }));
      out.push(
        this.#event("response.content_part.added", {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          part: outputText(""),
        }),
      );
    } else {
      const item: ResponsesOutputItem = {
        type: "reasoning",
        id: itemId(this.#identity, "rs", index),
        summary: [],
        status: "in_progress",
      };
      output.push(item);
      out.push(this.#event("response.output_item.added", { output_index: index, item: structuredClone(item) }));
      out.push(
        this.#event("response.content_part.added", {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          part: { type: "reasoning_text", text: "" },
        }),
      );
    }
    this.#open = { kind, index, text: "" };
    return this.#open;
  }

  /** Ends the open item: its text's `.done`, its part's, then the whole item's. */
  #close(out: ResponsesStreamEvent[], encrypted?: string, status: "completed" | "incomplete" = "completed"): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    const output = this.#response.output;
    const id = this.#itemId(open.index);
    const where = { item_id: id, output_index: open.index, content_index: 0 };
    if (open.kind === "message") {
      const part = outputText(open.text);
      output[open.index] = { type: "message", id, role: "assistant", status, content: [part] };
      out.push(this.#event("response.output_text.done", { ...where, text: open.text, logprobs: [] }));
      out.push(this.#event("response.content_part.done", { ...where, part }));
    } else {
      const part = { type: "reasoning_text" as const, text: open.text };
      output[open.index] = {
        type: "reasoning",
        id,
        summary: [],
        content: [part],
        ...(encrypted !== undefined ? { encrypted_content: encrypted } : {}),
        status: "completed",
      };
      out.push(this.#event("response.reasoning_text.done", { ...where, text: open.text }));
      out.push(this.#event("response.content_part.done", { ...where, part }));
    }
    out.push(
      this.#event("response.output_item.done", { output_index: open.index, item: structuredClone(output[open.index]) }),
    );
  }
}
