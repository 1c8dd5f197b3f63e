import {
  type CacheControl,
  type ContentPart,
  type GenerateRequest,
  type Message,
  OrchestratorError,
  type ReasoningPart,
  type ResponseFormat,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
} from "@orchestrator-ts/core";
import { wireCacheControl } from "@orchestrator-ts/core/internal";
import { isRecord } from "./reasoning";
import { parseArguments } from "./tool-calls";

/** A chat-completions request body that cannot be served: `param` names the field, as OpenAI's 400 does. */
export class InvalidChatRequestError extends OrchestratorError {
  static override readonly errorName: string = "InvalidChatRequestError";
  override readonly code = "invalid_request_error";
  /** The HTTP status an OpenAI-compatible server answers with. */
  readonly status = 400;
  /** The offending field, in OpenAI's notation (`messages[2].content`). */
  readonly param: string;
  constructor(message: string, param: string) {
    super(message);
    this.param = param;
  }
  /** The error as JSON, with `param`. */
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status, param: this.param };
  }
}

/** A request as a server receives it: the model asked for, whether to stream, and the core request. */
export interface ParsedChatRequest {
  model: string;
  stream: boolean;
  /** `stream_options.include_usage`: the stream ends with a usage chunk. */
  includeUsage: boolean;
  /**
   * The request in the core's terms. Fields the core has no name for (`user`, `logit_bias`,
   * `frequency_penalty`, a `reasoning_effort` other than low/medium/high…) are kept in `providerOptions.openai`, which an
   * `OpenAIModel` sends on as they are; a JSON schema without `strict: true` (OpenAI's default)
   * becomes `providerOptions.openai.strictJsonSchema: false`. A message's `name` is not kept. An
   * assistant message's reasoning (`thinking_blocks`, `reasoning_content`) is its `reasoning`.
   */
  request: GenerateRequest;
}

// Read here; every other top-level field goes to providerOptions.openai.
const KNOWN = new Set([
  "model",
  "messages",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stop",
  "seed",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "stream",
  "stream_options",
  "n",
]);

export function invalid(param: string, expected: string): InvalidChatRequestError {
  return new InvalidChatRequestError(`Invalid value for '${param}': expected ${expected}.`, param);
}

export function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(key, "a number");
  return value;
}

export function optionalInteger(body: Record<string, unknown>, key: string, min: number): number | undefined {
  const value = optionalNumber(body, key);
  if (value !== undefined && (!Number.isInteger(value) || value < min))
    throw invalid(key, `an integer of at least ${min}`);
  return value;
}

/** A part's prompt-cache breakpoint (`cache_control`), for the models that take one (Claude). */
function cacheControlOf(part: Record<string, unknown>, param: string): CacheControl | undefined {
  return wireCacheControl(part, param, invalid);
}

/**
 * Text parts with their cache breakpoints, or undefined when none has one (the content is then
 * read by `textContent`, as one string).
 */
function textPartsWithBreakpoints(
  content: unknown,
  param: string,
): { text: string; cacheControl?: CacheControl }[] | undefined {
  if (!Array.isArray(content) || !content.some((p) => isRecord(p) && p.cache_control != null)) return undefined;
  return content.map((part: unknown, i) => {
    if (!isRecord(part) || part.type !== "text" || typeof part.text !== "string")
      throw invalid(`${param}[${i}]`, 'a text part ({ "type": "text", "text": … })');
    const cacheControl = cacheControlOf(part, `${param}[${i}]`);
    return cacheControl === undefined ? { text: part.text } : { text: part.text, cacheControl };
  });
}

/** The text of a content that may only hold text: a string, or text parts one per line (never run together). */
function textContent(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalid(param, "a string or an array of text parts");
  let out = "";
  for (let i = 0; i < content.length; i++) {
    const part: unknown = content[i];
    if (!isRecord(part) || part.type !== "text" || typeof part.text !== "string")
      throw invalid(`${param}[${i}]`, 'a text part ({ "type": "text", "text": … })');
    out = i === 0 ? part.text : `${out}\n${part.text}`;
  }
  return out;
}

export const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function contentPart(part: unknown, param: string): ContentPart {
  let out: ContentPart;
  if (isRecord(part) && part.type === "text" && typeof part.text === "string") out = { type: "text", text: part.text };
  else if (isRecord(part) && part.type === "image_url") {
    const image = part.image_url;
    const url = isRecord(image) ? image.url : undefined;
    if (typeof url !== "string" || url === "") throw invalid(`${param}.image_url.url`, "a URL");
    const data = DATA_URL.exec(url);
    out = data ? { type: "image", data: data[2] as string, mediaType: data[1] as string } : { type: "image", url };
  } else throw invalid(param, "a text or image_url part");
  const cacheControl = cacheControlOf(part, param);
  if (cacheControl !== undefined) out.cacheControl = cacheControl;
  return out;
}

function toolCalls(value: unknown, param: string): ToolCall[] {
  if (!Array.isArray(value)) throw invalid(param, "an array of tool calls");
  return value.map((call: unknown, i) => {
    const fn = isRecord(call) ? call.function : undefined;
    if (!isRecord(call) || typeof call.id !== "string" || !isRecord(fn) || typeof fn.name !== "string") {
      throw invalid(
        `${param}[${i}]`,
        'a function tool call ({ "id", "type": "function", "function": { "name", "arguments" } })',
      );
    }
    return { id: call.id, name: fn.name, arguments: parseArguments(fn.arguments) };
  });
}

function thinkingBlock(block: unknown, param: string): ReasoningPart {
  if (isRecord(block)) {
    const { signature } = block;
    if (
      block.type === "thinking" &&
      typeof block.thinking === "string" &&
      (signature === undefined || signature === null || typeof signature === "string")
    ) {
      const part: ReasoningPart = { type: "reasoning", text: block.thinking };
      if (typeof signature === "string" && signature !== "") part.signature = signature;
      return part;
    }
    if (block.type === "redacted_thinking" && typeof block.data === "string")
      return { type: "reasoning", text: "", redactedData: block.data };
  }
  throw invalid(
    param,
    'a thinking block ({ "type": "thinking", "thinking", "signature" } or { "type": "redacted_thinking", "data" })',
  );
}

/**
 * An assistant turn's reasoning given back: LiteLLM's `thinking_blocks` (signed, as Anthropic
 * models need them back), else `reasoning_content` (or OpenRouter's `reasoning`) as one unsigned part.
 */
function reasoningOf(value: Record<string, unknown>, param: string): ReasoningPart[] | undefined {
  const blocks = value.thinking_blocks;
  if (blocks !== undefined && blocks !== null) {
    if (!Array.isArray(blocks)) throw invalid(`${param}.thinking_blocks`, "an array of thinking blocks");
    if (blocks.length > 0)
      return blocks.map((block: unknown, j) => thinkingBlock(block, `${param}.thinking_blocks[${j}]`));
  }
  for (const key of ["reasoning_content", "reasoning"]) {
    const text = value[key];
    if (text === undefined || text === null) continue;
    if (typeof text !== "string") throw invalid(`${param}.${key}`, "a string");
    if (text !== "") return [{ type: "reasoning", text }];
  }
  return undefined;
}

/** The messages of one wire message: a system prompt with cache breakpoints is one message per part. */
function messagesOf(value: unknown, i: number, out: Message[]): void {
  if (isRecord(value) && (value.role === "system" || value.role === "developer")) {
    const parts = textPartsWithBreakpoints(value.content, `messages[${i}].content`);
    if (parts !== undefined) {
      for (const part of parts) {
        const system: Message = { role: "system", content: part.text };
        if (part.cacheControl !== undefined) system.cacheControl = part.cacheControl;
        out.push(system);
      }
      return;
    }
  }
  out.push(message(value, i));
}

function message(value: unknown, i: number): Message {
  const param = `messages[${i}]`;
  if (!isRecord(value)) throw invalid(param, "a message object");
  const content = value.content;
  switch (value.role) {
    // "developer" is what OpenAI's reasoning models call the system prompt.
    case "system":
    case "developer":
      return { role: "system", content: textContent(content, `${param}.content`) };
    case "user": {
      if (typeof content === "string") return { role: "user", content };
      if (!Array.isArray(content)) throw invalid(`${param}.content`, "a string or an array of content parts");
      return { role: "user", content: content.map((part: unknown, j) => contentPart(part, `${param}.content[${j}]`)) };
    }
    case "assistant": {
      // Parts with a cache breakpoint stay parts (the breakpoint belongs to its block); else one string.
      const parts = textPartsWithBreakpoints(content, `${param}.content`);
      const text: string | ContentPart[] =
        parts !== undefined
          ? parts.map(
              (p): ContentPart =>
                p.cacheControl === undefined
                  ? { type: "text", text: p.text }
                  : { type: "text", text: p.text, cacheControl: p.cacheControl },
            )
          : content === undefined || content === null
            ? ""
            : textContent(content, `${param}.content`);
      const calls = value.tool_calls;
      const out: Message & { role: "assistant" } =
        calls === undefined || calls === null
          ? { role: "assistant", content: text }
          : { role: "assistant", content: text, toolCalls: toolCalls(calls, `${param}.tool_calls`) };
      const reasoning = reasoningOf(value, param);
      if (reasoning !== undefined) out.reasoning = reasoning;
      return out;
    }
    case "tool": {
      if (typeof value.tool_call_id !== "string") throw invalid(`${param}.tool_call_id`, "a string");
      // A breakpoint on a result's part marks the result (Claude's tool_result block).
      const parts = textPartsWithBreakpoints(content, `${param}.content`);
      const result: Message = {
        role: "tool",
        toolCallId: value.tool_call_id,
        content: parts ? parts.map((p) => p.text).join("\n") : textContent(content, `${param}.content`),
      };
      const marked = parts?.findLast((p) => p.cacheControl !== undefined)?.cacheControl;
      if (marked !== undefined) result.cacheControl = marked;
      return result;
    }
    default:
      throw invalid(`${param}.role`, "one of system, developer, user, assistant, tool");
  }
}

function tool(value: unknown, i: number): ToolDefinition {
  const param = `tools[${i}]`;
  const fn = isRecord(value) ? value.function : undefined;
  if (!isRecord(value) || value.type !== "function" || !isRecord(fn) || typeof fn.name !== "string") {
    throw invalid(param, 'a function tool ({ "type": "function", "function": { "name", … } })');
  }
  if (fn.parameters !== undefined && !isRecord(fn.parameters))
    throw invalid(`${param}.function.parameters`, "a JSON Schema object");
  const definition: ToolDefinition = {
    name: fn.name,
    parameters: (fn.parameters as Record<string, unknown> | undefined) ?? { type: "object", properties: {} },
  };
  if (typeof fn.description === "string") definition.description = fn.description;
  if (typeof fn.strict === "boolean") definition.strict = fn.strict;
  // A breakpoint after the tools (LiteLLM puts `cache_control` on the tool, beside `function`).
  const cacheControl = cacheControlOf(value, param);
  if (cacheControl !== undefined) definition.cacheControl = cacheControl;
  return definition;
}

function toolChoice(value: unknown, tools: readonly ToolDefinition[] | undefined): ToolChoice {
  if (value === "required") return requiredToolChoice(tools, "tool_choice");
  if (value === "auto" || value === "none") return value;
  const fn = isRecord(value) ? value.function : undefined;
  if (isRecord(value) && value.type === "function" && isRecord(fn) && typeof fn.name === "string")
    return namedToolChoice(fn.name, tools, "tool_choice.function.name");
  throw invalid("tool_choice", '"auto", "none", "required" or { "type": "function", "function": { "name" } }');
}

/**
 * `"required"`, which needs a tool to call: without `tools` a 400, as OpenAI's API answers it
 * (a model cannot be made to call a tool it was not given).
 */
export function requiredToolChoice(tools: readonly ToolDefinition[] | undefined, param: string): "required" {
  if (tools !== undefined && tools.length > 0) return "required";
  throw new InvalidChatRequestError(
    `Invalid value for '${param}': "required" makes the model call a tool, and the request declares no tools.`,
    param,
  );
}

/**
 * A tool choice naming `name`, which `tools` must declare: a model cannot be made to call a tool it
 * was not given (OpenAI's API refuses it with a 400 too). `param` is the name's field path.
 */
export function namedToolChoice(
  name: string,
  tools: readonly ToolDefinition[] | undefined,
  param: string,
): { name: string } {
  if (tools?.some((t) => t.name === name)) return { name };
  const declared =
    tools === undefined ? "the request declares no tools" : `tools has ${tools.map((t) => `'${t.name}'`).join(", ")}`;
  throw new InvalidChatRequestError(`Invalid value for '${param}': no tool named '${name}' (${declared}).`, param);
}

function responseFormat(value: unknown, extra: Record<string, unknown>): ResponseFormat {
  if (!isRecord(value)) throw invalid("response_format", "an object");
  if (value.type === "text") return { type: "text" };
  if (value.type === "json_object") return { type: "json" };
  const spec = value.json_schema;
  if (value.type !== "json_schema" || !isRecord(spec) || typeof spec.name !== "string") {
    throw invalid(
      "response_format",
      '{ "type": "text" }, { "type": "json_object" } or { "type": "json_schema", "json_schema": { "name", "schema" } }',
    );
  }
  if (spec.schema !== undefined && !isRecord(spec.schema))
    throw invalid("response_format.json_schema.schema", "a JSON Schema object");
  // OpenAI's default is not strict: only `strict: true` asks for it (the core's own default is strict).
  if (spec.strict !== true) extra.strictJsonSchema = false;
  const format: ResponseFormat = { type: "json", name: spec.name };
  if (spec.schema !== undefined) format.schema = spec.schema as Record<string, unknown>;
  if (typeof spec.description === "string") format.description = spec.description;
  return format;
}

/**
 * A chat-completions request body (parsed JSON) in the core's terms: what an OpenAI-compatible
 * server does first. Bad input is an `InvalidChatRequestError` naming the field; the work is
 * linear in the body's size (bound the body's bytes before parsing it).
 */
export function fromChatRequest(body: unknown): ParsedChatRequest {
  if (!isRecord(body)) throw new InvalidChatRequestError("The request body must be a JSON object.", "");
  const model = body.model;
  if (typeof model !== "string" || model === "") {
    throw new InvalidChatRequestError(
      model === undefined ? "Missing required parameter: 'model'." : "Invalid value for 'model': expected a string.",
      "model",
    );
  }
  const rawMessages = body.messages;
  if (!Array.isArray(rawMessages))
    throw new InvalidChatRequestError("Missing required parameter: 'messages'.", "messages");
  if (rawMessages.length === 0) throw invalid("messages", "at least one message");
  const n = body.n;
  if (n !== undefined && n !== null && n !== 1)
    throw new InvalidChatRequestError("Only n = 1 is supported: one choice per request.", "n");

  const messages: Message[] = [];
  for (let i = 0; i < rawMessages.length; i++) messagesOf(rawMessages[i], i, messages);
  const request: GenerateRequest = { messages };
  const maxTokens = optionalInteger(body, "max_completion_tokens", 1) ?? optionalInteger(body, "max_tokens", 1);
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = optionalNumber(body, "temperature");
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, "top_p");
  if (topP !== undefined) request.topP = topP;
  const seed = optionalInteger(body, "seed", Number.MIN_SAFE_INTEGER);
  if (seed !== undefined) request.seed = seed;
  const stop = body.stop;
  if (typeof stop === "string") request.stop = [stop];
  else if (Array.isArray(stop)) {
    if (!stop.every((s) => typeof s === "string")) throw invalid("stop", "a string or an array of strings");
    if (stop.length > 0) request.stop = stop as string[];
  } else if (stop !== undefined && stop !== null) throw invalid("stop", "a string or an array of strings");
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw invalid("tools", "an array of tools");
    if (body.tools.length > 0) request.tools = body.tools.map(tool);
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null)
    request.toolChoice = toolChoice(body.tool_choice, request.tools);
  // An effort every provider can take (Anthropic as a thinking budget); others ("minimal"…) go on to OpenAI as they are.
  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null && typeof effort !== "string")
    throw invalid("reasoning_effort", '"low", "medium" or "high"');
  if (effort === "low" || effort === "medium" || effort === "high") request.reasoning = { effort };

  const extra: Record<string, unknown> = {};
  if (body.response_format !== undefined && body.response_format !== null)
    request.responseFormat = responseFormat(body.response_format, extra);
  for (const key of Object.keys(body)) {
    // An own "__proto__" (JSON.parse makes one) is dropped: as a key it would be the object's prototype.
    if (!KNOWN.has(key) && key !== "__proto__" && !(key === "reasoning_effort" && request.reasoning))
      extra[key] = body[key];
  }
  const parallel = body.parallel_tool_calls;
  if (parallel !== undefined && parallel !== null) {
    if (typeof parallel !== "boolean") throw invalid("parallel_tool_calls", "a boolean");
    request.parallelToolCalls = parallel;
  }
  if (Object.keys(extra).length > 0) request.providerOptions = { openai: extra };

  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean")
    throw invalid("stream", "a boolean");
  const stream = body.stream === true;
  const options = body.stream_options;
  if (options !== undefined && options !== null && !isRecord(options)) throw invalid("stream_options", "an object");
  return { model, stream, includeUsage: stream && isRecord(options) && options.include_usage === true, request };
}
