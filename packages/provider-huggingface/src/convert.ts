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
import type { InferenceClient } from "@huggingface/inference";

/** `chatCompletion`'s arguments (OpenAI's chat-completions shape). */
export type ChatInput = Parameters<InferenceClient["chatCompletion"]>[0];
type ChatMessage = ChatInput["messages"][number];
type ChatTool = NonNullable<ChatInput["tools"]>[number];

// ---- request ---------------------------------------------------------------------------------

/** Plain text messages already have the wire shape: the common case passes through without a copy. */
export function toChatMessages(messages: readonly Message[]): ChatMessage[] {
  for (const m of messages) {
    if (typeof m.content !== "string" || m.role === "tool" || (m.role === "assistant" && m.toolCalls !== undefined)) {
      return messages.map(toChatMessage);
    }
  }
  return messages as unknown as ChatMessage[];
}

function toChatMessage(m: Message): ChatMessage {
  switch (m.role) {
    case "system":
      return { role: "system", content: m.content };
    case "user":
      return { role: "user", content: typeof m.content === "string" ? m.content : m.content.map(toChatPart) };
    case "assistant": {
      const text = typeof m.content === "string" ? m.content : partsText(m.content);
      if (!m.toolCalls || m.toolCalls.length === 0) return { role: "assistant", content: text };
      return {
        role: "assistant",
        content: text,
        tool_calls: m.toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {}) },
        })),
      };
    }
    case "tool":
      return { role: "tool", tool_call_id: m.toolCallId, content: m.content, ...(m.name !== undefined ? { name: m.name } : {}) };
  }
}

function partsText(parts: readonly ContentPart[]): string {
  let out = "";
  for (const p of parts) if (p.type === "text") out += p.text;
  return out;
}

/** Image parts become `image_url` parts; base64 data goes as a `data:` URL. */
function toChatPart(part: ContentPart): { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } } {
  if (part.type === "text") return { type: "text", text: part.text };
  if (part.url) return { type: "image_url", image_url: { url: part.url } };
  if (part.data) return { type: "image_url", image_url: { url: `data:${part.mediaType ?? "image/png"};base64,${part.data}` } };
  throw new TypeError("An image part needs `url` or `data`.");
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

function toChatTools(tools: readonly ToolDefinition[]): ChatTool[] {
  return tools.map((t) => ({
    type: "function",
    function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: schemaOf(t.parameters) },
  }));
}

function toChatToolChoice(choice: ToolChoice): NonNullable<ChatInput["tool_choice"]> {
  return typeof choice === "string" ? choice : { function: { name: choice.name } };
}

function toResponseFormat(format: ResponseFormat, strict: boolean): NonNullable<ChatInput["response_format"]> {
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

/**
 * The chat body for a request (OpenAI's shape, which TGI and every Inference Provider take).
 * `providerOptions.huggingface` is passed through as is, last.
 */
export function toChatInput(request: GenerateRequest, base: { model?: string; provider?: ChatInput["provider"] }): ChatInput {
  const body: ChatInput = { ...base, messages: toChatMessages(request.messages) };
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = toChatTools(request.tools);
    if (request.toolChoice !== undefined) body.tool_choice = toChatToolChoice(request.toolChoice);
  }
  const extra = request.providerOptions?.huggingface;
  let strict = true;
  if (extra !== undefined) {
    for (const key of Object.keys(extra)) {
      if (key === "strictJsonSchema") strict = extra[key] !== false;
      else body[key] = extra[key];
    }
  }
  if (request.responseFormat !== undefined && body.response_format === undefined) body.response_format = toResponseFormat(request.responseFormat, strict);
  return body;
}

// ---- response --------------------------------------------------------------------------------

const FINISH = new Map<string, FinishReason>();
for (const [raw, unified] of [
  ["stop", "stop"],
  ["length", "length"],
  ["tool_calls", "tool-calls"],
  ["function_call", "tool-calls"],
  ["content_filter", "content-filter"],
  // TGI's own names.
  ["eos_token", "stop"],
  ["stop_sequence", "stop"],
] as const) {
  FINISH.set(raw, Object.freeze({ unified, raw }));
}

export function mapFinishReason(raw: string | null | undefined): FinishReason | undefined {
  if (raw == null || raw === "") return undefined;
  return FINISH.get(raw) ?? { unified: "other", raw };
}

export function parseArguments(value: unknown): unknown {
  // TGI has sent arguments as an object rather than a JSON string.
  if (typeof value !== "string") return value ?? {};
  if (value === "") return {};
  try {
    return JSON.parse(value);
  } catch {
    return value;
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
  function?: { name?: string | undefined; arguments?: unknown } | undefined;
}

/** Assembles streamed tool-call deltas by index; a call is complete when a later index starts or the stream finishes. */
export class ToolCallAssembler {
  #pending: PendingToolCall[] = [];

  add(deltas: readonly ToolCallDelta[]): ToolCall[] | undefined {
    let done: ToolCall[] | undefined;
    for (const d of deltas) {
      const index = d.index ?? 0;
      let entry = this.#pending.find((p) => p.index === index);
      if (!entry) {
        if (this.#pending.length > 0) {
          const finished = this.#drain((p) => p.index < index);
          if (finished.length > 0) done = done ? done.concat(finished) : finished;
        }
        entry = { index, id: d.id ?? "", name: "", args: "" };
        this.#pending.push(entry);
      }
      if (d.id) entry.id = d.id;
      if (d.function?.name) entry.name += d.function.name;
      const args = d.function?.arguments;
      if (typeof args === "string") entry.args += args;
      else if (args !== undefined && args !== null) entry.args += JSON.stringify(args);
    }
    return done;
  }

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
