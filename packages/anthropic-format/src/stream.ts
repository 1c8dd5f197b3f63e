import { ProviderError, type StreamChunk } from "@orchestrator-ts/core";
import type { ResponseTool } from "./request";
import {
  type MessagesUsageLike,
  fromMessagesUsage,
  fromStopReason,
  parseToolInput,
  responseText,
  withStopSequence,
} from "./response";

// ---- wire events → core stream ---------------------------------------------------------------

/** What a streamed event may be: the SDK's `RawMessageStreamEvent`, or parsed JSON. */
export interface MessagesStreamEventLike {
  type: string;
  index?: number;
  message?: { id?: string; usage?: MessagesUsageLike | null } | null;
  content_block?: {
    type: string;
    text?: string;
    id?: string;
    name?: string;
    thinking?: string;
    signature?: string;
    data?: string;
  } | null;
  delta?: {
    type?: string;
    text?: string;
    partial_json?: string;
    thinking?: string;
    signature?: string;
    stop_reason?: string | null;
    stop_sequence?: string | null;
  } | null;
  usage?: MessagesUsageLike | null;
}

/**
 * Turns the events of one streamed answer into core stream chunks: text and reasoning as they come
 * (a thinking block's signature as the reasoning chunk that ends its part, a redacted block whole),
 * each tool call when its block closes (its input JSON assembled; when asked, also its start and
 * input pieces as they come), and at `end` the `finish` chunk with the
 * stop reason and usage. With a response tool (structured output) its input is the text: streamed
 * as it comes, or whole at the block's end when it must be unwrapped. A stream without
 * `message_stop` is an error, never a complete answer. One decoder per stream.
 */
export class MessagesStreamDecoder {
  readonly #context: { provider: string; model: string };
  readonly #responseTool: ResponseTool | undefined;
  readonly #toolInputDeltas: boolean;
  // Tool input arrives as JSON pieces per content block.
  readonly #blocks = new Map<number, { id: string; name: string; json: string; response: boolean }>();
  readonly #usage: Record<string, number> = {};
  #stopReason: string | null | undefined;
  #stopSequence: string | undefined;
  #stopped = false;
  /** A caller's tool was called (not the response tool): `tool_use` then means tool calls. */
  #calledTools = false;
  #id: string | undefined;

  /**
   * `context` names the provider and model in the error for a cut stream; with `toolInputDeltas`
   * a tool call's start and input pieces are handed on as they come (`tool-input-start`,
   * `tool-input-delta`), and the whole call still follows when its block closes.
   */
  constructor(context: {
    provider: string;
    model: string;
    responseTool?: ResponseTool | undefined;
    toolInputDeltas?: boolean | undefined;
  }) {
    this.#context = { provider: context.provider, model: context.model };
    this.#responseTool = context.responseTool;
    this.#toolInputDeltas = context.toolInputDeltas === true;
  }

  /** True once `message_stop` came. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The raw counts seen so far (`input_tokens`, `cache_read_input_tokens`…), for pricing. */
  get rawUsage(): Readonly<Record<string, number>> {
    return this.#usage;
  }

  /** The chunks `event` completes, pushed to `out`. */
  push(event: MessagesStreamEventLike, out: StreamChunk[]): void {
    switch (event.type) {
      case "message_start": {
        addCounts(this.#usage, event.message?.usage);
        const id = event.message?.id;
        if (typeof id === "string" && id !== "") this.#id = id;
        break;
      }
      case "content_block_start": {
        const block = event.content_block;
        if (!block) break;
        if (block.type === "text" && block.text) out.push({ type: "text", text: block.text });
        else if (block.type === "thinking" && block.thinking) out.push({ type: "reasoning", text: block.thinking });
        else if (block.type === "redacted_thinking" && typeof block.data === "string")
          out.push({ type: "reasoning", text: "", redactedData: block.data });
        else if (block.type === "tool_use" && event.index !== undefined) {
          const name = block.name ?? "";
          const response = this.#responseTool?.name === name;
          const id = block.id ?? "";
          this.#blocks.set(event.index, { id, name, json: "", response });
          if (this.#toolInputDeltas && !response) out.push({ type: "tool-input-start", id, name });
        }
        break;
      }
      case "content_block_delta": {
        const delta = event.delta;
        if (!delta) break;
        if (delta.type === "text_delta" && delta.text) out.push({ type: "text", text: delta.text });
        else if (delta.type === "thinking_delta" && delta.thinking)
          out.push({ type: "reasoning", text: delta.thinking });
        else if (delta.type === "signature_delta" && delta.signature)
          out.push({ type: "reasoning", text: "", signature: delta.signature });
        else if (delta.type === "input_json_delta" && event.index !== undefined) {
          const block = this.#blocks.get(event.index);
          const piece = delta.partial_json ?? "";
          if (!block) break;
          block.json += piece;
          // Structured output streams as text as it comes, unless it must be unwrapped first.
          if (block.response && this.#responseTool && !this.#responseTool.wrapped && piece !== "")
            out.push({ type: "text", text: piece });
          else if (this.#toolInputDeltas && !block.response && piece !== "")
            out.push({ type: "tool-input-delta", id: block.id, delta: piece });
        }
        break;
      }
      case "content_block_stop": {
        if (event.index === undefined) break;
        const block = this.#blocks.get(event.index);
        if (!block) break;
        this.#blocks.delete(event.index);
        if (block.response && this.#responseTool) {
          if (this.#responseTool.wrapped)
            out.push({ type: "text", text: responseText(parseToolInput(block.json), this.#responseTool) });
        } else {
          this.#calledTools = true;
          out.push({
            type: "tool-call",
            toolCall: { id: block.id, name: block.name, arguments: parseToolInput(block.json) },
          });
        }
        break;
      }
      case "message_delta":
        if (event.delta?.stop_reason !== undefined) this.#stopReason = event.delta.stop_reason;
        if (typeof event.delta?.stop_sequence === "string") this.#stopSequence = event.delta.stop_sequence;
        addCounts(this.#usage, event.usage);
        break;
      case "message_stop":
        this.#stopped = true;
        break;
    }
  }

  /** The `finish` chunk; throws a retryable `ProviderError` when the stream ended before `message_stop`. */
  end(): Extract<StreamChunk, { type: "finish" }> {
    if (!this.#stopped) {
      throw new ProviderError("The Anthropic stream ended before `message_stop`: the answer is incomplete.", {
        provider: this.#context.provider,
        model: this.#context.model,
        retryable: true,
      });
    }
    const finish: Extract<StreamChunk, { type: "finish" }> = { type: "finish", usage: fromMessagesUsage(this.#usage) };
    const finishReason = withStopSequence(
      fromStopReason(this.#stopReason, this.#responseTool, this.#calledTools),
      this.#stopSequence,
    );
    if (finishReason) finish.finishReason = finishReason;
    if (this.#id !== undefined) finish.responseId = this.#id;
    return finish;
  }
}

function addCounts(into: Record<string, number>, usage: MessagesUsageLike | null | undefined): void {
  if (!usage) return;
  // Counts are cumulative: a later event's value replaces the earlier one.
  for (const [key, value] of Object.entries(usage)) if (typeof value === "number") into[key] = value;
}

export { MessagesStreamEncoder, messagesErrorBody, messagesErrorType, sseEvent } from "./stream-encoder";
