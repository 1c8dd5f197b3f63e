import {
  type ContentPart,
  type FinishReason,
  type GenerateRequest,
  type Message,
  type ResponseFormat,
  type SchemaLike,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
  isZodSchema,
  toJsonSchema,
} from "@orchestrator-ts/core";
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from "openai/resources/chat/completions";

/** The request body without `stream`: the model id, messages and sampling settings. */
export type ChatBody = Omit<ChatCompletionCreateParamsBase, "stream">;

// ---- request ---------------------------------------------------------------------------------

/**
 * OpenAI's messages. Plain text system/user/assistant messages already have the wire shape, so
 * the common case passes the caller's array through without a copy (the hot path).
 */
export function toOpenAIMessages(messages: readonly Message[]): ChatCompletionMessageParam[] {
  for (const m of messages) {
    if (typeof m.content !== "string" || m.role === "tool" || (m.role === "assistant" && m.toolCalls !== undefined)) {
      return messages.map(toOpenAIMessage);
    }
  }
  return messages as ChatCompletionMessageParam[];
}

function toOpenAIMessage(m: Message): ChatCompletionMessageParam {
  switch (m.role) {
    case "system":
      return { role: "system", content: m.content };
    case "user":
      return { role: "user", content: typeof m.content === "string" ? m.content : m.content.map(toOpenAIPart) };
    case "assistant": {
      const text = typeof m.content === "string" ? m.content : partsText(m.content);
      if (!m.toolCalls || m.toolCalls.length === 0) return { role: "assistant", content: text };
      // OpenAI wants null content next to tool calls when there is no text.
      return { role: "assistant", content: text === "" ? null : text, tool_calls: m.toolCalls.map(toOpenAIToolCall) };
    }
    case "tool":
      return { role: "tool", tool_call_id: m.toolCallId, content: m.content };
  }
}

function partsText(parts: readonly ContentPart[]): string {
  let out = "";
  for (const p of parts) if (p.type === "text") out += p.text;
  return out;
}

/** Image parts become `image_url` parts; base64 data goes as a `data:` URL. */
export function toOpenAIPart(part: ContentPart): ChatCompletionContentPart {
  if (part.type === "text") return { type: "text", text: part.text };
  return { type: "image_url", image_url: { url: imageUrl(part) } };
}

export function imageUrl(part: { url?: string; data?: string; mediaType?: string }): string {
  if (part.url) return part.url;
  if (part.data) return `data:${part.mediaType ?? "image/png"};base64,${part.data}`;
  throw new TypeError("An image part needs `url` or `data`.");
}

function toOpenAIToolCall(call: ToolCall): ChatCompletionMessageToolCall {
  return {
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {}) },
  };
}

// zod → JSON Schema conversion is costly; zod schemas are immutable, so convert each once.
const converted = new WeakMap<object, Record<string, unknown>>();

export function schemaOf(schema: SchemaLike): Record<string, unknown> {
  if (!isZodSchema(schema)) return schema as Record<string, unknown>;
  let json = converted.get(schema);
  if (!json) {
    json = toJsonSchema(schema);
    converted.set(schema, json);
  }
  return json;
}

export function toOpenAITools(tools: readonly ToolDefinition[]): ChatCompletionTool[] {
  return tools.map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      parameters: schemaOf(t.parameters),
    },
  }));
}

export function toOpenAIToolChoice(choice: ToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

export function toOpenAIResponseFormat(format: ResponseFormat, strict: boolean): ChatCompletionCreateParamsBase["response_format"] {
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

export interface BodyOptions {
  model: string;
  /** Reasoning models take `max_completion_tokens` and refuse sampling settings. */
  reasoning: boolean;
  /** Key of `providerOptions` passed through into the body (`openai`). */
  providerKey: string;
}

/**
 * The chat-completions body for a request. Settings the model cannot take are left out with a
 * warning (not an error); `providerOptions[providerKey]` is passed through as is, last.
 */
export function toChatBody(request: GenerateRequest, options: BodyOptions, warnings: string[]): ChatBody {
  const body: ChatBody = { model: options.model, messages: toOpenAIMessages(request.messages) };
  if (request.maxTokens !== undefined) {
    if (options.reasoning) body.max_completion_tokens = request.maxTokens;
    else body.max_tokens = request.maxTokens;
  }
  if (request.temperature !== undefined) {
    if (options.reasoning) warnings.push(`temperature is not supported by ${options.model} and was left out.`);
    else body.temperature = request.temperature;
  }
  if (request.topP !== undefined) {
    if (options.reasoning) warnings.push(`topP is not supported by ${options.model} and was left out.`);
    else body.top_p = request.topP;
  }
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = toOpenAITools(request.tools);
    if (request.toolChoice !== undefined) body.tool_choice = toOpenAIToolChoice(request.toolChoice);
  }
  const extra = request.providerOptions?.[options.providerKey];
  let strict = true;
  if (extra !== undefined) {
    for (const key of Object.keys(extra)) {
      if (key === "strictJsonSchema") strict = extra[key] !== false;
      else (body as unknown as Record<string, unknown>)[key] = extra[key];
    }
  }
  if (request.responseFormat !== undefined && body.response_format === undefined) {
    body.response_format = toOpenAIResponseFormat(request.responseFormat, strict);
  }
  return body;
}

// ---- response --------------------------------------------------------------------------------

// Shared frozen values: finish reasons repeat on every call, so they are not allocated per call.
const FINISH = new Map<string, FinishReason>();
for (const [raw, unified] of [
  ["stop", "stop"],
  ["length", "length"],
  ["tool_calls", "tool-calls"],
  ["function_call", "tool-calls"],
  ["content_filter", "content-filter"],
  // TGI's own name for a stop sequence / end of sequence.
  ["eos_token", "stop"],
  ["stop_sequence", "stop"],
] as const) {
  FINISH.set(raw, Object.freeze({ unified, raw }));
}

/** `{ unified, raw }` for an OpenAI finish reason; unknown ones are `other` with the raw kept. */
export function mapFinishReason(raw: string | null | undefined): FinishReason | undefined {
  if (raw == null) return undefined;
  return FINISH.get(raw) ?? { unified: "other", raw };
}

/** Parsed arguments, or the raw string when the model produced invalid JSON. */
export function parseArguments(text: string): unknown {
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface PendingToolCall {
  index: number;
  id: string;
  name: string;
  args: string;
}

interface ToolCallDelta {
  index: number;
  id?: string | undefined;
  function?: { name?: string | undefined; arguments?: string | undefined } | undefined;
}

/**
 * Assembles streamed tool-call deltas by index. A call is complete when a later index starts or
 * the stream finishes; `take` returns the completed calls in order.
 */
export class ToolCallAssembler {
  #pending: PendingToolCall[] = [];

  /** Adds deltas; returns the calls completed by them (those with a lower index than a new one). */
  add(deltas: readonly ToolCallDelta[]): ToolCall[] | undefined {
    let done: ToolCall[] | undefined;
    for (const d of deltas) {
      let entry = this.#pending.find((p) => p.index === d.index);
      if (!entry) {
        if (this.#pending.length > 0) {
          const finished = this.#drain((p) => p.index < d.index);
          if (finished.length > 0) done = done ? done.concat(finished) : finished;
        }
        entry = { index: d.index, id: d.id ?? "", name: "", args: "" };
        this.#pending.push(entry);
      }
      if (d.id) entry.id = d.id;
      if (d.function?.name) entry.name += d.function.name;
      if (d.function?.arguments) entry.args += d.function.arguments;
    }
    return done;
  }

  /** Every call still pending, completed. */
  flush(): ToolCall[] {
    return this.#drain(() => true);
  }

  #drain(which: (p: PendingToolCall) => boolean): ToolCall[] {
    const out: ToolCall[] = [];
    const keep: PendingToolCall[] = [];
    for (const p of this.#pending) {
      if (which(p)) out.push({ id: p.id || `call_${p.index}`, name: p.name, arguments: parseArguments(p.args) });
      else keep.push(p);
    }
    this.#pending = keep;
    return out;
  }
}
