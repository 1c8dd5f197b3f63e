import { type FinishReason, ProviderError, type StreamChunk, type ToolCall, type Usage } from "@orchestrator-ts/core";
import { withFields } from "@orchestrator-ts/core/internal";
import { pushChatReasoningDelta, toChatThinkingBlock } from "./reasoning";
import { type ChatUsageLike, fromChatFinishReason, fromChatUsage, toChatUsage, wireFinishReason } from "./response";
import { ToolCallAssembler, type ToolCallDeltaLike, stringifyArguments } from "./tool-calls";
import type { ChatCompletionChunk, ChatDelta, ChatFinishReason, ChatIdentity } from "./wire";

// ---- wire chunks → core stream ---------------------------------------------------------------

/** What a streamed chunk may hold: the `openai` SDK's `ChatCompletionChunk`, `@huggingface/inference`'s, or parsed JSON. */
export interface ChatCompletionChunkLike {
  id?: string | null;
  choices?:
    | readonly {
        delta?: {
          content?: string | null;
          tool_calls?: readonly ToolCallDeltaLike[] | null;
          // Compatible servers' reasoning (see ChatCompletionLike), checked as it is read.
          reasoning_content?: unknown;
          reasoning?: unknown;
          thinking_blocks?: unknown;
        } | null;
        finish_reason?: string | null;
      }[]
    | null;
  usage?: ChatUsageLike | null;
}

/**
 * Turns the chunks of one streamed answer into core stream chunks: reasoning and text as they
 * come, each tool call once its arguments are whole (and, when asked, its start and argument
 * pieces as they come), and a `finish` chunk with the finish reason
 * and usage at the end. A stream that ends without a finish reason (a body cut before `[DONE]`)
 * is an error, never a complete answer. One decoder per stream.
 */
export class ChatStreamDecoder {
  readonly #context: { provider: string; model: string };
  readonly #toolInputDeltas: boolean;
  #tools: ToolCallAssembler | undefined;
  #finishRaw: string | undefined;
  #usage: Usage | undefined;
  #id: string | undefined;

  /**
   * `context` names the provider and model in the error for a cut stream. `toolInputDeltas`: tool
   * calls' starts and argument pieces are handed on as they come (`tool-input-start`,
   * `tool-input-delta`), each whole call still follows.
   */
  constructor(context: { provider: string; model: string }, options: { toolInputDeltas?: boolean } = {}) {
    this.#context = context;
    this.#toolInputDeltas = options.toolInputDeltas === true;
  }

  /** The chunks `chunk` completes, pushed to `out`. */
  push(chunk: ChatCompletionChunkLike, out: StreamChunk[]): void {
    if (this.#id === undefined && typeof chunk.id === "string" && chunk.id !== "") this.#id = chunk.id;
    const usage = chunk.usage;
    if (usage) this.#usage = fromChatUsage(usage);
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const delta = choice.delta;
    if (delta) {
      // Reasoning comes before the text it leads to when a delta carries both.
      if (delta.reasoning_content != null || delta.reasoning != null || delta.thinking_blocks != null)
        pushChatReasoningDelta(delta, out);
      if (delta.content) out.push({ type: "text", text: delta.content });
      if (delta.tool_calls) {
        const tools = (this.#tools ??= new ToolCallAssembler());
        if (this.#toolInputDeltas) tools.add(delta.tool_calls, out);
        else {
          const done = tools.add(delta.tool_calls);
          if (done) for (const toolCall of done) out.push({ type: "tool-call", toolCall });
        }
      }
    }
    if (choice.finish_reason) {
      this.#finishRaw = choice.finish_reason;
      if (this.#tools) for (const toolCall of this.#tools.flush()) out.push({ type: "tool-call", toolCall });
    }
  }

  /** The `finish` chunk, pushed to `out`; throws a retryable `ProviderError` when no finish reason came. */
  end(out: StreamChunk[]): void {
    if (this.#finishRaw === undefined) {
      throw new ProviderError("The provider's stream ended before completion (no finish reason).", {
        provider: this.#context.provider,
        model: this.#context.model,
        retryable: true,
      });
    }
    const finish: StreamChunk = { type: "finish" };
    const finishReason = fromChatFinishReason(this.#finishRaw);
    if (finishReason) finish.finishReason = finishReason;
    if (this.#usage) finish.usage = this.#usage;
    if (this.#id !== undefined) finish.responseId = this.#id;
    out.push(finish);
  }
}

// ---- core stream → wire chunks ---------------------------------------------------------------

/** One server-sent event carrying `data` as JSON. */
export function sseFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** The event that ends an OpenAI stream. */
export const SSE_DONE = "data: [DONE]\n\n";

/** The identity every chunk of a stream carries (id, created, model) and whether usage is sent. */
export interface ChatStreamEncoderOptions {
  /**
   * `stream_options.include_usage`: every chunk carries `usage: null`, and the usage follows the
   * finish chunk in a chunk of its own with no choices (OpenAI's shape).
   */
  includeUsage?: boolean;
}

/**
 * Writes one streamed answer as `chat.completion.chunk` objects, in OpenAI's order: a role chunk,
 * reasoning deltas (`reasoning_content`, as compatible servers send them), text deltas, tool
 * calls (the name first, then the arguments in pieces: as the model writes them when the stream
 * carries `tool-input-*` chunks), the finish chunk, then the usage chunk
 * when asked for. `encode` takes core stream chunks (an OpenAI-compatible server relaying a
 * model's stream); the other methods write the pieces one by one.
 */
export class ChatStreamEncoder {
  readonly #identity: ChatIdentity;
  readonly #includeUsage: boolean;
  #started = false;
  #toolCalls = 0;
  #textFrame: [string, string] | undefined;
  /** Tool calls whose arguments stream (`tool-input-start` came): id → index, and whether a piece went. */
  #streaming: Map<string, { index: number; sent: boolean }> | undefined;

  constructor(identity: ChatIdentity, options: ChatStreamEncoderOptions = {}) {
    this.#identity = identity;
    this.#includeUsage = options.includeUsage ?? false;
  }

  /** The first chunk: the assistant role (with `content: null` when the answer is only tool calls). */
  start(toolCallsOnly = false): ChatCompletionChunk {
    this.#started = true;
    return this.#chunk({ role: "assistant", content: toolCallsOnly ? null : "", refusal: null });
  }

  /** A chunk that adds `text` to the answer. */
  text(text: string): ChatCompletionChunk {
    return this.#chunk({ content: text });
  }

  /**
   * `sseFrame(this.text(text))`, byte for byte, without building the chunk: the JSON around the
   * text is the same for every text chunk of a stream, so it is written once and reused (a
   * server relaying a stream sends mostly these).
   */
  textFrame(text: string): string {
    const around = (this.#textFrame ??= this.#textFrameParts());
    return around[0] + JSON.stringify(text) + around[1];
  }

  #textFrameParts(): [string, string] {
    const mark = `"content":${JSON.stringify("\u0000text\u0000")}`;
    const whole = sseFrame(this.#chunk({ content: "\u0000text\u0000" }));
    const at = whole.indexOf(mark) + '"content":'.length;
    return [whole.slice(0, at), whole.slice(at + mark.length - '"content":'.length)];
  }

  /**
   * A chunk that adds reasoning: its text as `reasoning_content`. A signature (the end of a signed
   * part) or a redacted block goes as LiteLLM streams it, in `thinking_blocks`
   * (`{ type: "thinking", thinking: <the chunk's text, usually "">, signature }` or
   * `{ type: "redacted_thinking", data }`). `undefined` when the chunk adds nothing.
   */
  reasoning(chunk: {
    text: string;
    signature?: string | undefined;
    redactedData?: string | undefined;
  }): ChatCompletionChunk | undefined {
    const delta: ChatDelta = {};
    if (chunk.redactedData === undefined && chunk.text !== "") delta.reasoning_content = chunk.text;
    if (chunk.redactedData !== undefined || chunk.signature !== undefined)
      delta.thinking_blocks = [toChatThinkingBlock({ type: "reasoning", ...chunk })];
    return delta.reasoning_content === undefined && delta.thinking_blocks === undefined
      ? undefined
      : this.#chunk(delta);
  }

  /** A tool call: its id and name with empty arguments, then a chunk per piece of its arguments (default: one). */
  toolCall(call: ToolCall, pieces?: readonly string[]): ChatCompletionChunk[] {
    const index = this.#toolCalls++;
    const out = [
      this.#chunk({
        tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
      }),
    ];
    for (const piece of pieces ?? [stringifyArguments(call.arguments)]) {
      if (piece !== "") out.push(this.#chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
    return out;
  }

  /**
   * A tool call whose arguments stream: its id and name with empty arguments; its pieces follow
   * with `toolInputDelta`, and `encode` then sends nothing more for its whole `tool-call`.
   */
  toolInputStart(id: string, name: string): ChatCompletionChunk {
    const index = this.#toolCalls++;
    (this.#streaming ??= new Map()).set(id, { index, sent: false });
    return this.#chunk({ tool_calls: [{ index, id, type: "function", function: { name, arguments: "" } }] });
  }

  /** A piece of a started tool call's arguments; `undefined` for a call not started (or an empty piece). */
  toolInputDelta(id: string, delta: string): ChatCompletionChunk | undefined {
    const call = this.#streaming?.get(id);
    if (call === undefined || delta === "") return undefined;
    call.sent = true;
    return this.#chunk({ tool_calls: [{ index: call.index, function: { arguments: delta } }] });
  }

  /** The finish chunk, and the usage chunk when `includeUsage` is on and both counts are known. */
  finish(reason: FinishReason | ChatFinishReason | undefined, usage?: Usage): ChatCompletionChunk[] {
    const out = [this.#chunk({}, wireFinishReason(reason, this.#toolCalls))];
    const wireUsage = this.#includeUsage ? toChatUsage(usage) : undefined;
    if (wireUsage) out.push(withFields(this.#base([]), { usage: wireUsage }));
    return out;
  }

  /** The wire chunks for one core stream chunk (the role chunk comes before the first). */
  encode(chunk: StreamChunk): ChatCompletionChunk[] {
    const out = this.#started ? [] : [this.start(chunk.type === "tool-call" || chunk.type === "tool-input-start")];
    if (chunk.type === "text") {
      if (chunk.text !== "") out.push(this.text(chunk.text));
    } else if (chunk.type === "reasoning") {
      const wire = this.reasoning(chunk);
      if (wire !== undefined) out.push(wire);
    } else if (chunk.type === "tool-call") {
      // A call whose arguments streamed is whole on the client already; one whose pieces never came
      // (a tool without arguments: Claude streams "") gets them whole, "{}" rather than "".
      const call = this.#streaming?.get(chunk.toolCall.id);
      if (call === undefined) out.push(...this.toolCall(chunk.toolCall));
      else {
        this.#streaming?.delete(chunk.toolCall.id);
        if (!call.sent)
          out.push(
            this.#chunk({
              tool_calls: [
                { index: call.index, function: { arguments: stringifyArguments(chunk.toolCall.arguments) } },
              ],
            }),
          );
      }
    } else if (chunk.type === "tool-input-start") out.push(this.toolInputStart(chunk.id, chunk.name));
    else if (chunk.type === "tool-input-delta") {
      const wire = this.toolInputDelta(chunk.id, chunk.delta);
      if (wire !== undefined) out.push(wire);
    } else if (chunk.type === "finish") out.push(...this.finish(chunk.finishReason, chunk.usage));
    return out;
  }

  #base(choices: ChatCompletionChunk["choices"]): ChatCompletionChunk {
    const id = this.#identity;
    const chunk: ChatCompletionChunk = {
      id: id.id,
      object: "chat.completion.chunk",
      created: id.created,
      model: id.model,
      choices,
    };
    if (id.systemFingerprint !== undefined) chunk.system_fingerprint = id.systemFingerprint;
    if (this.#includeUsage) chunk.usage = null;
    return chunk;
  }

  #chunk(delta: ChatDelta, finishReason: ChatFinishReason | null = null): ChatCompletionChunk {
    return this.#base([{ index: 0, delta, logprobs: null, finish_reason: finishReason }]);
  }
}
