// Core stream chunks → Anthropic's Messages stream events (a server relaying a model's stream),
// and Anthropic's error bodies.
import {
  type FinishReason,
  type StreamChunk,
  type ToolCall,
  type Usage,
  toolArgumentsObject,
} from "@orchestrator-ts/core";
import { toMessagesUsage, toStopReason, toStopSequence } from "./response";
import type {
  MessagesErrorBody,
  MessagesErrorType,
  MessagesIdentity,
  MessagesStopReason,
  MessagesStreamEvent,
  MessagesUsage,
} from "./wire";

// ---- core stream → wire events ---------------------------------------------------------------

/** One server-sent event: Anthropic names each event (`event: message_start`) and repeats the type in its data. */
export function sseEvent(event: MessagesStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Writes one streamed answer as Anthropic's events, in the API's order: `message_start`, then per
 * content block `content_block_start`, its deltas (`text_delta`, `thinking_delta` then
 * `signature_delta` for reasoning, or `input_json_delta` for a tool call's input, as it comes when
 * the stream carries `tool-input-*` chunks) and `content_block_stop`, then `message_delta` (stop reason and cumulative usage)
 * and `message_stop`. `encode` takes core stream chunks (a server relaying a model's stream); the
 * other methods write the pieces one by one. `ping` and `error` events can come at any time.
 */
export class MessagesStreamEncoder {
  readonly #identity: MessagesIdentity;
  #started = false;
  #finished = false;
  /** The open block's index and kind; -1 when none is open. */
  #open = -1;
  #openKind: "text" | "thinking" | "tool" | undefined;
  /** The id of the open tool block's call (its input streams). */
  #openTool: string | undefined;
  #blocks = 0;
  #toolCalls = 0;
  /** Tool calls whose input streamed (`tool-input-start` came): their whole `tool-call` sends nothing more. */
  #streamed: Set<string> | undefined;
  /** What came while a streamed call's block was open, for after it ends (see `encode`). */
  #held: StreamChunk[] | undefined;

  constructor(identity: MessagesIdentity) {
    this.#identity = identity;
  }

  /** True once `message_start` was written. */
  get started(): boolean {
    return this.#started;
  }

  /** True once `message_stop` was written. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * `message_start`. `usage` is what is known at the start; by default both counts are 0, as the
   * API's own placeholders, and the real ones follow in `message_delta`.
   */
  start(usage: Partial<MessagesUsage> = { input_tokens: 0, output_tokens: 0 }): MessagesStreamEvent {
    this.#started = true;
    const { id, model } = this.#identity;
    return {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
    };
  }

  /** A `ping` event: a keep-alive while the model thinks; the SDK skips it. */
  ping(): MessagesStreamEvent {
    return { type: "ping" };
  }

  /** A text block's start (closing any open block), unless a text block is open. */
  openText(): MessagesStreamEvent[] {
    if (this.#openKind === "text") return [];
    const out = this.#close();
    this.#open = this.#blocks++;
    this.#openKind = "text";
    out.push({ type: "content_block_start", index: this.#open, content_block: { type: "text", text: "" } });
    return out;
  }

  /** Events that add `text` to the answer (opening a text block when needed). */
  text(text: string): MessagesStreamEvent[] {
    const out = this.openText();
    out.push({ type: "content_block_delta", index: this.#open, delta: { type: "text_delta", text } });
    return out;
  }

  /**
   * Events for a piece of reasoning: its text in a thinking block (opened when none is), a signature
   * as the block's `signature_delta` and its end; a redacted part as a `redacted_thinking` block.
   */
  reasoning(chunk: {
    text: string;
    signature?: string | undefined;
    redactedData?: string | undefined;
  }): MessagesStreamEvent[] {
    if (chunk.redactedData !== undefined) {
      const out = this.#close();
      const index = this.#blocks++;
      out.push(
        { type: "content_block_start", index, content_block: { type: "redacted_thinking", data: chunk.redactedData } },
        { type: "content_block_stop", index },
      );
      return out;
    }
    const out = this.#openKind === "thinking" ? [] : this.#close();
    if (this.#openKind !== "thinking") {
      this.#open = this.#blocks++;
      this.#openKind = "thinking";
      out.push({
        type: "content_block_start",
        index: this.#open,
        content_block: { type: "thinking", thinking: "", signature: "" },
      });
    }
    if (chunk.text !== "")
      out.push({
        type: "content_block_delta",
        index: this.#open,
        delta: { type: "thinking_delta", thinking: chunk.text },
      });
    if (chunk.signature !== undefined) {
      out.push({
        type: "content_block_delta",
        index: this.#open,
        delta: { type: "signature_delta", signature: chunk.signature },
      });
      out.push(...this.#close());
    }
    return out;
  }

  /** A tool call as a block of its own: its id and name, its input JSON in the pieces given (default: one piece), the block's end. */
  toolCall(call: ToolCall, pieces?: readonly string[]): MessagesStreamEvent[] {
    const out = this.#close();
    const index = this.#blocks++;
    this.#toolCalls++;
    out.push({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
    });
    // The input is an object on this wire: arguments that are not one (invalid JSON kept raw) are sent as {}, as in a `message`.
    for (const piece of pieces ?? [JSON.stringify(toolArgumentsObject(call.arguments))]) {
      out.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } });
    }
    out.push({ type: "content_block_stop", index });
    return out;
  }

  /**
   * A tool call whose input streams: its block opens (closing any open block) with its id and
   * name; `toolInputDelta` adds its pieces; its whole `tool-call` then only closes the block.
   */
  toolInputStart(id: string, name: string): MessagesStreamEvent[] {
    const out = this.#close();
    this.#open = this.#blocks++;
    this.#openKind = "tool";
    this.#openTool = id;
    this.#toolCalls++;
    (this.#streamed ??= new Set()).add(id);
    out.push({
      type: "content_block_start",
      index: this.#open,
      content_block: { type: "tool_use", id, name, input: {} },
    });
    return out;
  }

  /** A piece of the open tool block's input JSON; nothing for another call's (its block has closed) or an empty piece. */
  toolInputDelta(id: string, delta: string): MessagesStreamEvent[] {
    if (this.#openKind !== "tool" || this.#openTool !== id || delta === "") return [];
    return [
      { type: "content_block_delta", index: this.#open, delta: { type: "input_json_delta", partial_json: delta } },
    ];
  }

  /**
   * The end: the open block's stop (an empty text block when the answer had none), `message_delta`
   * with the stop reason and the known counts, and `message_stop`. A wire stop reason is sent as it is.
   */
  finish(reason: FinishReason | MessagesStopReason | undefined, usage?: Usage): MessagesStreamEvent[] {
    const out = this.#blocks === 0 ? this.openText() : [];
    out.push(...this.#close());
    const stopReason = typeof reason === "string" ? reason : toStopReason(reason, this.#toolCalls > 0);
    out.push({
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: toStopSequence(reason) },
      usage: toMessagesUsage(usage),
    });
    out.push({ type: "message_stop" });
    this.#finished = true;
    return out;
  }

  /**
   * An `error` event: the stream failed after it began, so the status is already 200 and this is
   * how the client learns the answer is incomplete (the SDK throws it as an `APIError`).
   */
  error(type: MessagesErrorType, message: string): MessagesStreamEvent {
    this.#finished = true;
    return messagesErrorBody(type, message);
  }

  /**
   * The wire events for one core stream chunk (`message_start` comes before the first). A block
   * must end before the next begins, so while a tool call's input streams, what comes before the
   * call is whole (text, or another call: some AI SDK providers interleave calls) waits, in order,
   * and a call begun meanwhile is then sent whole.
   */
  encode(chunk: StreamChunk): MessagesStreamEvent[] {
    const out = this.#started ? [] : [this.start()];
    const streaming = this.#openKind === "tool" ? this.#openTool : undefined;
    if (streaming !== undefined && this.#streamed?.has(streaming)) {
      if (chunk.type === "tool-input-delta") {
        // Another call's pieces are dropped: that call goes whole once it is.
        if (chunk.id === streaming) out.push(...this.toolInputDelta(chunk.id, chunk.delta));
      } else if (chunk.type === "tool-call" && chunk.toolCall.id === streaming) {
        this.#streamed?.delete(streaming);
        out.push(...this.#close(), ...this.#release());
      } else if (chunk.type === "finish") {
        // A stream ending inside a call (the decoders send every call whole first): its block ends as it is.
        out.push(...this.#close(), ...this.#release(), ...this.finish(chunk.finishReason, chunk.usage));
      } else if (chunk.type !== "tool-input-start") (this.#held ??= []).push(chunk);
      return out;
    }
    if (chunk.type === "text") {
      if (chunk.text !== "") out.push(...this.text(chunk.text));
    } else if (chunk.type === "reasoning") out.push(...this.reasoning(chunk));
    else if (chunk.type === "tool-call") {
      if (this.#streamed?.delete(chunk.toolCall.id)) {
        // Its input went as it came: the call is whole, its block ends.
        if (this.#openKind === "tool" && this.#openTool === chunk.toolCall.id) out.push(...this.#close());
      } else out.push(...this.toolCall(chunk.toolCall));
    } else if (chunk.type === "tool-input-start") out.push(...this.toolInputStart(chunk.id, chunk.name));
    else if (chunk.type === "tool-input-delta") out.push(...this.toolInputDelta(chunk.id, chunk.delta));
    else if (chunk.type === "finish") out.push(...this.finish(chunk.finishReason, chunk.usage));
    return out;
  }

  /** The chunks held while a streamed call's block was open, now that it has ended. */
  #release(): MessagesStreamEvent[] {
    const held = this.#held;
    if (held === undefined) return [];
    this.#held = undefined;
    const out: MessagesStreamEvent[] = [];
    for (const chunk of held) out.push(...this.encode(chunk));
    return out;
  }

  #close(): MessagesStreamEvent[] {
    if (this.#open < 0 || this.#openKind === undefined) return [];
    const index = this.#open;
    this.#open = -1;
    this.#openKind = undefined;
    this.#openTool = undefined;
    return [{ type: "content_block_stop", index }];
  }
}

// ---- errors ----------------------------------------------------------------------------------

/** Anthropic's error body: `{ type: "error", error: { type, message } }`. */
export function messagesErrorBody(type: MessagesErrorType, message: string, requestId?: string): MessagesErrorBody {
  const body: MessagesErrorBody = { type: "error", error: { type, message } };
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}

/**
 * The error type Anthropic answers an HTTP status with (what its SDK maps back to its error
 * classes): 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403
 * permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 504
 * timeout_error, 529 (and 503) overloaded_error, anything else api_error.
 */
export function messagesErrorType(status: number): MessagesErrorType {
  switch (status) {
    case 400:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
}
