import {
  type ContentPart,
  type GenerateRequest,
  type Message,
  type ResponseFormat,
  type SchemaLike,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
  contentText,
  reasoningEffortOf,
  reasoningText,
} from "@orchestrator-ts/core";
import { isZodSchema, toJsonSchema } from "@orchestrator-ts/core/internal";
import { toChatThinkingBlock } from "./reasoning";
import { stringifyArguments } from "./tool-calls";
import type {
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatResponseFormat,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
} from "./wire";

/**
 * How an assistant turn's reasoning is given back: not at all (the default: DeepSeek refuses
 * `reasoning_content` in a request, and OpenAI has no field for it), as `reasoning_content`, or as
 * LiteLLM's `thinking_blocks` (its signed and redacted parts only, which Anthropic models behind
 * LiteLLM need back with tool calls).
 */
export type ChatReasoningInput = "none" | "reasoning_content" | "thinking_blocks";

/**
 * The wire messages. Plain text system/user/assistant messages already have the wire shape, so
 * the common case passes the caller's array through without a copy (the hot path).
 */
export function toChatMessages(messages: readonly Message[], reasoning: ChatReasoningInput = "none"): ChatMessage[] {
  for (const m of messages) {
    if (
      typeof m.content !== "string" ||
      m.role === "tool" ||
      (m.role === "system" && m.cacheControl !== undefined) ||
      (m.role === "assistant" && (m.toolCalls !== undefined || m.reasoning !== undefined))
    ) {
      const wire = withoutBreakpoints(messages);
      return withToolImages(
        wire,
        wire.map((message) => toChatMessage(message, reasoning)),
      );
    }
  }
  return messages as ChatMessage[];
}

/**
 * The messages with a system prompt that cache breakpoints cut into several messages (a Messages
 * client's system blocks, a chat client's parts with `cache_control`) joined back into one, a
 * part per line: this wire has no breakpoints, and many chat templates (vLLM's, llama.cpp's)
 * refuse a second system message. Other messages are kept as they are (their breakpoints are not
 * written). The same array when there is nothing to join.
 */
function withoutBreakpoints(messages: readonly Message[]): readonly Message[] {
  if (!messages.some((m) => m.role === "system" && m.cacheControl !== undefined)) return messages;
  let joined: Message[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    if (m.role !== "system") {
      joined?.push(m);
      continue;
    }
    let end = i + 1;
    while (end < messages.length && messages[end]?.role === "system") end++;
    const run = messages.slice(i, end) as Extract<Message, { role: "system" }>[];
    if (run.length > 1 && run.some((s) => s.cacheControl !== undefined)) {
      joined ??= messages.slice(0, i);
      joined.push({ role: "system", content: run.map((s) => s.content).join("\n") });
    } else joined?.push(...run);
    i = end - 1;
  }
  return joined ?? messages;
}

/**
 * OpenAI's tool messages hold text only: the images tools returned (a screenshot) go in a user
 * message right after the run of tool messages (which must follow their assistant turn), so a
 * vision model still sees them.
 */
function withToolImages(messages: readonly Message[], out: ChatMessage[]): ChatMessage[] {
  let withImages = false;
  for (const m of messages) if (m.role === "tool" && typeof m.content !== "string") withImages = true;
  if (!withImages) return out;
  const result: ChatMessage[] = [];
  let images: ChatContentPart[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    result.push(out[i] as ChatMessage);
    if (m.role === "tool" && typeof m.content !== "string")
      for (const part of m.content) if (part.type === "image") images.push(toChatPart(part));
    if (images.length > 0 && messages[i + 1]?.role !== "tool") {
      result.push({ role: "user", content: images });
      images = [];
    }
  }
  return result;
}

function toChatMessage(m: Message, reasoning: ChatReasoningInput): ChatMessage {
  switch (m.role) {
    case "system":
      return { role: "system", content: m.content };
    case "user":
      return { role: "user", content: typeof m.content === "string" ? m.content : m.content.map(toChatPart) };
    case "assistant": {
      const text = contentText(m.content, "\n");
      const out: ChatMessage & { role: "assistant" } =
        !m.toolCalls || m.toolCalls.length === 0
          ? { role: "assistant", content: text }
          : // OpenAI wants null content next to tool calls when there is no text.
            { role: "assistant", content: text === "" ? null : text, tool_calls: m.toolCalls.map(toChatToolCall) };
      if (m.reasoning !== undefined && m.reasoning.length > 0 && reasoning !== "none") {
        if (reasoning === "reasoning_content") {
          const thought = reasoningText(m.reasoning);
          if (thought !== "") out.reasoning_content = thought;
        } else {
          const blocks = m.reasoning.filter((p) => p.signature !== undefined || p.redactedData !== undefined);
          if (blocks.length > 0) out.thinking_blocks = blocks.map(toChatThinkingBlock);
        }
      }
      return out;
    }
    case "tool":
      return {
        role: "tool",
        tool_call_id: m.toolCallId,
        // Its images follow in a user message (withToolImages); a result of images only says so.
        content: typeof m.content === "string" ? m.content : toolText(m.content),
      };
  }
}

function toolText(parts: readonly ContentPart[]): string {
  const text = contentText(parts, "\n");
  return text === "" ? "(the result is the image that follows)" : text;
}

/** Image parts become `image_url` parts; base64 data goes as a `data:` URL. */
export function toChatPart(part: ContentPart): ChatContentPart {
  if (part.type === "text") return { type: "text", text: part.text };
  return { type: "image_url", image_url: { url: imageUrl(part) } };
}

/** An image part as the URL OpenAI takes: its URL, or a `data:` URL of its bytes. */
export function imageUrl(part: { url?: string; data?: string; mediaType?: string }): string {
  if (part.url) return part.url;
  if (part.data) return `data:${part.mediaType ?? "image/png"};base64,${part.data}`;
  throw new TypeError("An image part needs `url` or `data`.");
}

/** A core tool call as an OpenAI `tool_calls` entry. */
export function toChatToolCall(call: ToolCall): ChatToolCall {
  return {
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: stringifyArguments(call.arguments) },
  };
}

// zod → JSON Schema conversion is costly; zod schemas are immutable, so convert each once.
const converted = new WeakMap<object, Record<string, unknown>>();

/** A tool's or response format's schema as JSON Schema (a zod schema is converted once and remembered). */
export function schemaOf(schema: SchemaLike): Record<string, unknown> {
  if (!isZodSchema(schema)) return schema as Record<string, unknown>;
  let json = converted.get(schema);
  if (!json) {
    json = toJsonSchema(schema);
    converted.set(schema, json);
  }
  return json;
}

/** Core tool definitions as OpenAI function tools (zod schemas become JSON Schema). */
export function toChatTools(tools: readonly ToolDefinition[]): ChatTool[] {
  return tools.map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      parameters: schemaOf(t.parameters),
      ...(t.strict !== undefined ? { strict: t.strict } : {}),
    },
  }));
}

/** The core tool choice as OpenAI's `tool_choice`. */
export function toChatToolChoice(choice: ToolChoice): ChatToolChoice {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/** The core response format as OpenAI's `response_format`; `strict` asks for strict schema adherence. */
export function toChatResponseFormat(format: ResponseFormat, strict: boolean): ChatResponseFormat {
  if (format.type === "text") return { type: "text" };
  if (format.schema === undefined) return { type: "json_object" };
  return {
    type: "json_schema",
    json_schema: {
      name: format.name ?? "response",
      ...(format.description !== undefined ? { description: format.description } : {}),
      schema: schemaOf(format.schema),
      strict,
    },
  };
}

/** What `toChatRequest` adds to the converted request: model, streaming, options. */
export interface ChatRequestOptions {
  /** The model id sent as `model`; left out when undefined (an endpoint that serves one model). */
  model?: string | undefined;
  /** Reasoning models take `max_completion_tokens` and refuse sampling settings. Default false. */
  reasoning?: boolean;
  /** The key of `providerOptions` whose entries are copied into the body as is (`openai`, `huggingface`). */
  providerKey: string;
}

const REASONING_INPUTS: ReadonlySet<unknown> = new Set(["none", "reasoning_content", "thinking_blocks"]);

/**
 * The chat-completions body for a request, without `stream`. Settings the model cannot take are
 * left out with a warning pushed to `warnings` (not an error); `providerOptions[providerKey]` is
 * copied into the body as is, last (`strictJsonSchema: false` turns off `strict` for JSON-schema
 * output instead, and `sendReasoning` gives assistant turns' reasoning back: see
 * `ChatReasoningInput`).
 */
export function toChatRequest(request: GenerateRequest, options: ChatRequestOptions, warnings?: string[]): ChatRequest {
  const extra = request.providerOptions?.[options.providerKey];
  const sendReasoning = extra?.sendReasoning;
  const messages = toChatMessages(
    request.messages,
    REASONING_INPUTS.has(sendReasoning) ? (sendReasoning as ChatReasoningInput) : "none",
  );
  const body: ChatRequest = options.model !== undefined ? { model: options.model, messages } : { messages };
  if (request.maxTokens !== undefined) {
    if (options.reasoning) body.max_completion_tokens = request.maxTokens;
    else body.max_tokens = request.maxTokens;
  }
  if (request.temperature !== undefined) {
    if (options.reasoning) warnings?.push(`temperature is not supported by ${options.model} and was left out.`);
    else body.temperature = request.temperature;
  }
  if (request.topP !== undefined) {
    if (options.reasoning) warnings?.push(`topP is not supported by ${options.model} and was left out.`);
    else body.top_p = request.topP;
  }
  if (request.reasoning !== undefined) {
    // A reasoning model's effort; another model answers as usual (the API would refuse the field).
    if (options.reasoning) body.reasoning_effort = reasoningEffortOf(request.reasoning);
    else
      warnings?.push(
        `reasoning is not supported by ${options.model ?? "this model"} (not a reasoning model) and was left out.`,
      );
  }
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = toChatTools(request.tools);
    if (request.toolChoice !== undefined) body.tool_choice = toChatToolChoice(request.toolChoice);
    // o-series reasoning models refuse the parameter (400 "Unsupported parameter").
    if (request.parallelToolCalls !== undefined && !options.reasoning)
      body.parallel_tool_calls = request.parallelToolCalls;
  }
  let strict = true;
  if (extra !== undefined) {
    for (const key of Object.keys(extra)) {
      if (key === "strictJsonSchema") strict = extra[key] !== false;
      else if (key === "sendReasoning") continue;
      // A parsed JSON body may carry an own "__proto__": as a plain assignment it would replace the body's prototype.
      else if (key !== "__proto__") body[key] = extra[key];
    }
  }
  if (request.responseFormat !== undefined && body.response_format === undefined) {
    body.response_format = toChatResponseFormat(request.responseFormat, strict);
  }
  return body;
}
