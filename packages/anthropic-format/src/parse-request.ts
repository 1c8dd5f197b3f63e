import {
  type CacheControl,
  type ContentPart,
  type GenerateRequest,
  type Message,
  type ReasoningPart,
  OrchestratorError,
  type ToolCall,
  contentText,
  type ToolChoice,
  type ToolDefinition,
} from "@orchestrator-ts/core";
import { wireCacheControl } from "@orchestrator-ts/core/internal";

/**
 * A Messages request body that cannot be served. `param` is the offending field's path in
 * Anthropic's own notation (`messages.2.content.0.type`), which the message starts with, as the
 * API's 400s do.
 */
export class InvalidMessagesRequestError extends OrchestratorError {
  static override readonly errorName: string = "InvalidMessagesRequestError";
  override readonly code = "invalid_request_error";
  /** The HTTP status an Anthropic-compatible server answers with. */
  readonly status = 400;
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

/** A request as a server receives it: the model asked for, whether to stream, the end user, the core request. */
export interface ParsedMessagesRequest {
  model: string;
  stream: boolean;
  /** `metadata.user_id`. */
  user: string | undefined;
  /**
   * The request in the core's terms. Fields the core has no name for (`metadata`, `top_k`,
   * `thinking`, `service_tier`…) are kept in `providerOptions.anthropic`, which an `AnthropicModel`
   * sends on as they are.
   */
  request: GenerateRequest;
}

// Read here; every other top-level field goes to providerOptions.anthropic.
const KNOWN = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "temperature",
  "top_p",
  "stop_sequences",
  "tools",
  "tool_choice",
  "stream",
  "output_config",
]);

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function invalid(param: string, expected: string): InvalidMessagesRequestError {
  return new InvalidMessagesRequestError(`${param}: expected ${expected}.`, param);
}

function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(key, "a number");
  return value;
}

/** A part's prompt-cache breakpoint (`cache_control`), for the models that take one (Claude). */
function cacheControlOf(part: Record<string, unknown>, param: string): CacheControl | undefined {
  return wireCacheControl(part, param, invalid);
}

/** A failed tool's result says so first. */
function erred(result: string | ContentPart[]): string | ContentPart[] {
  if (typeof result === "string") return `Error: ${result}`;
  return [{ type: "text", text: "Error:" }, ...result];
}

function systemBlocks(value: unknown, param: string): { text: string; cacheControl: CacheControl | undefined }[] {
  if (typeof value === "string") return [{ text: value, cacheControl: undefined }];
  if (!Array.isArray(value)) throw invalid(param, "a string or an array of text blocks");
  return value.map((block: unknown, i) => {
    if (!isRecord(block) || block.type !== "text" || typeof block.text !== "string")
      throw invalid(`${param}.${i}`, 'a text block ({ "type": "text", "text": … })');
    return { text: block.text, cacheControl: cacheControlOf(block, `${param}.${i}`) };
  });
}

function image(block: Record<string, unknown>, param: string): ContentPart {
  const source = block.source;
  if (isRecord(source) && source.type === "base64") {
    if (typeof source.data !== "string") throw invalid(`${param}.source.data`, "base64 data");
    if (typeof source.media_type !== "string") throw invalid(`${param}.source.media_type`, "a media type");
    return { type: "image", data: source.data, mediaType: source.media_type };
  }
  if (isRecord(source) && source.type === "url") {
    if (typeof source.url !== "string" || source.url === "") throw invalid(`${param}.source.url`, "a URL");
    return { type: "image", url: source.url };
  }
  throw invalid(
    `${param}.source`,
    'an image source ({ "type": "base64", "media_type", "data" } or { "type": "url", "url" })',
  );
}

/**
 * A tool result's content: a string; text blocks one per line (joined as they were, the last word
 * of one block and the first of the next became one); or, with images (a screenshot Claude Code's
 * Read returned), its text and image blocks as parts.
 */
function toolResultContent(value: unknown, param: string): string | ContentPart[] {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) throw invalid(param, "a string or an array of text and image blocks");
  const parts: ContentPart[] = [];
  let text = "";
  let images = false;
  for (let i = 0; i < value.length; i++) {
    const block: unknown = value[i];
    if (isRecord(block) && block.type === "text" && typeof block.text === "string") {
      parts.push({ type: "text", text: block.text });
      text = i === 0 ? block.text : `${text}\n${block.text}`;
    } else if (isRecord(block) && block.type === "image") {
      parts.push(image(block, `${param}.${i}`));
      images = true;
    } else throw invalid(`${param}.${i}`, "a text or image block");
  }
  return images ? parts : text;
}

/** One wire turn as core messages, in order: a user turn's tool results become `tool` messages. */
function turn(value: unknown, i: number, out: Message[]): void {
  const param = `messages.${i}`;
  if (!isRecord(value)) throw invalid(param, "a message object");
  const role = value.role;
  if (role !== "user" && role !== "assistant") throw invalid(`${param}.role`, '"user" or "assistant"');
  const content = value.content;
  if (typeof content === "string") {
    out.push({ role, content });
    return;
  }
  if (!Array.isArray(content)) throw invalid(`${param}.content`, "a string or an array of content blocks");
  let parts: ContentPart[] = [];
  const calls: ToolCall[] = [];
  const reasoning: ReasoningPart[] = [];
  const flushUser = (): void => {
    if (parts.length > 0) out.push({ role: "user", content: parts });
    parts = [];
  };
  for (let j = 0; j < content.length; j++) {
    const block: unknown = content[j];
    const at = `${param}.content.${j}`;
    if (!isRecord(block)) throw invalid(at, "a content block");
    switch (block.type) {
      case "text": {
        if (typeof block.text !== "string") throw invalid(`${at}.text`, "a string");
        const cacheControl = cacheControlOf(block, at);
        parts.push(
          cacheControl === undefined
            ? { type: "text", text: block.text }
            : { type: "text", text: block.text, cacheControl },
        );
        break;
      }
      case "image": {
        if (role === "assistant")
          throw invalid(`${at}.type`, 'a text, tool_use or thinking block (an assistant turn has no "image")');
        const part = image(block, at);
        const cacheControl = cacheControlOf(block, at);
        parts.push(cacheControl === undefined ? part : { ...part, cacheControl });
        break;
      }
      case "tool_use":
        if (role === "user")
          throw invalid(`${at}.type`, 'a text, image or tool_result block (a user turn has no "tool_use")');
        if (typeof block.id !== "string" || block.id === "") throw invalid(`${at}.id`, "a tool-use id");
        if (typeof block.name !== "string" || block.name === "") throw invalid(`${at}.name`, "a tool name");
        calls.push({ id: block.id, name: block.name, arguments: block.input ?? {} });
        break;
      case "tool_result": {
        if (role === "assistant")
          throw invalid(`${at}.type`, 'a text, tool_use or thinking block (an assistant turn has no "tool_result")');
        if (typeof block.tool_use_id !== "string" || block.tool_use_id === "")
          throw invalid(`${at}.tool_use_id`, "the id of a tool_use block");
        // Results stay in order with the user's own text around them.
        flushUser();
        const result = toolResultContent(block.content, `${at}.content`);
        const cacheControl = cacheControlOf(block, at);
        out.push({
          role: "tool",
          toolCallId: block.tool_use_id,
          content: block.is_error === true ? erred(result) : result,
          ...(cacheControl === undefined ? {} : { cacheControl }),
        });
        break;
      }
      case "thinking":
      case "redacted_thinking":
        if (role === "user")
          throw invalid(`${at}.type`, `a text, image or tool_result block (a user turn has no "${block.type}")`);
        {
          const part = reasoningBlock(block, at);
          // Interleaved thinking: a block after tool_use blocks keeps its place.
          if (calls.length > 0) part.afterToolCalls = calls.length;
          reasoning.push(part);
        }
        break;
      default:
        throw invalid(`${at}.type`, '"text", "image", "tool_use", "tool_result", "thinking" or "redacted_thinking"');
    }
  }
  if (role === "user") flushUser();
  else {
    // Text parts one per line, unless one is a cache breakpoint (which must stay on its block).
    const content = parts.some((p) => p.cacheControl !== undefined) ? parts : contentText(parts, "\n");
    const message: Extract<Message, { role: "assistant" }> = { role: "assistant", content };
    if (calls.length > 0) message.toolCalls = calls;
    if (reasoning.length > 0) message.reasoning = reasoning;
    out.push(message);
  }
}

/** An assistant turn's `thinking` (text and signature) or `redacted_thinking` (data) block, checked. */
function reasoningBlock(block: Record<string, unknown>, at: string): ReasoningPart {
  if (block.type === "redacted_thinking") {
    if (typeof block.data !== "string") throw invalid(`${at}.data`, "a string");
    return { type: "reasoning", text: "", redactedData: block.data };
  }
  if (typeof block.thinking !== "string") throw invalid(`${at}.thinking`, "a string");
  if (typeof block.signature !== "string") throw invalid(`${at}.signature`, "a string");
  const part: ReasoningPart = { type: "reasoning", text: block.thinking };
  if (block.signature !== "") part.signature = block.signature;
  return part;
}

function tool(value: unknown, i: number): ToolDefinition {
  const param = `tools.${i}`;
  if (!isRecord(value)) throw invalid(param, "a tool object");
  // Server tools (web_search_…, bash_…) run at Anthropic: a gateway in front of any model cannot run them.
  if (value.type !== undefined && value.type !== null && value.type !== "custom")
    throw invalid(`${param}.type`, `a custom tool (server tool "${String(value.type)}" is not supported)`);
  if (typeof value.name !== "string" || value.name === "") throw invalid(`${param}.name`, "a tool name");
  if (!isRecord(value.input_schema)) throw invalid(`${param}.input_schema`, "a JSON Schema object");
  const definition: ToolDefinition = { name: value.name, parameters: value.input_schema };
  if (typeof value.description === "string") definition.description = value.description;
  const cacheControl = cacheControlOf(value, param);
  if (cacheControl !== undefined) definition.cacheControl = cacheControl;
  return definition;
}

function toolChoice(value: unknown, tools: readonly ToolDefinition[] | undefined): ToolChoice {
  if (isRecord(value)) {
    if (value.type === "auto") return "auto";
    if (value.type === "any") {
      // Anthropic's API refuses it too: a model cannot be made to call a tool it was not given.
      if (tools !== undefined && tools.length > 0) return "required";
      throw new InvalidMessagesRequestError(
        'tool_choice: "any" makes the model call a tool, and the request declares no tools.',
        "tool_choice",
      );
    }
    if (value.type === "none") return "none";
    if (value.type === "tool") {
      const name = value.name;
      if (typeof name !== "string" || name === "") throw invalid("tool_choice.name", "a tool name");
      // A model cannot be made to call a tool it was not given (Anthropic's API refuses it with a 400 too).
      if (tools?.some((t) => t.name === name)) return { name };
      const declared =
        tools === undefined
          ? "the request declares no tools"
          : `tools has ${tools.map((t) => `'${t.name}'`).join(", ")}`;
      throw new InvalidMessagesRequestError(
        `tool_choice.name: no tool named '${name}' (${declared}).`,
        "tool_choice.name",
      );
    }
  }
  throw invalid("tool_choice", '{ "type": "auto" | "any" | "none" } or { "type": "tool", "name" }');
}

/**
 * A Messages request body (parsed JSON) in the core's terms: what an Anthropic-compatible server
 * does first. The system prompt (a string or text blocks) becomes system messages; text and image
 * blocks become content parts; `tool_use` blocks the assistant's tool calls; `tool_result` blocks
 * `tool` messages (an `is_error` result's text starts with "Error: "); `thinking` blocks are
 * dropped. A `cache_control` breakpoint on a system, text, image or tool_result block or a tool is
 * kept as the core's `cacheControl` (so an `AnthropicModel` sends it on; on a tool_use block it is
 * dropped). Bad input is an `InvalidMessagesRequestError` naming the field; the work is linear in
 * the body's size (bound the body's bytes before parsing it).
 */
export function fromMessagesRequest(body: unknown): ParsedMessagesRequest {
  return parseMessagesBody(body, false);
}

/**
 * A token-counting request body (`POST /v1/messages/count_tokens`: `model`, `messages`, `system`,
 * `tools`, `tool_choice`, `thinking`) read as `fromMessagesRequest` reads a Messages request, with
 * the same checks and field paths; it has no `max_tokens` (one that is given is ignored), and
 * `stream` means nothing there.
 */
export function fromCountTokensRequest(body: unknown): ParsedMessagesRequest {
  return parseMessagesBody(body, true);
}

function parseMessagesBody(body: unknown, counting: boolean): ParsedMessagesRequest {
  if (!isRecord(body)) throw new InvalidMessagesRequestError("The request body must be a JSON object.", "");
  const model = body.model;
  if (typeof model !== "string" || model === "")
    throw new InvalidMessagesRequestError(
      model === undefined ? "model: Field required" : "model: expected a string.",
      "model",
    );
  const rawMessages = body.messages;
  if (rawMessages === undefined) throw new InvalidMessagesRequestError("messages: Field required", "messages");
  if (!Array.isArray(rawMessages) || rawMessages.length === 0)
    throw invalid("messages", "a non-empty array of messages");
  const maxTokens = counting ? undefined : body.max_tokens;
  if (!counting) {
    if (maxTokens === undefined) throw new InvalidMessagesRequestError("max_tokens: Field required", "max_tokens");
    if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1)
      throw invalid("max_tokens", "an integer of at least 1");
  }

  const messages: Message[] = [];
  if (body.system !== undefined && body.system !== null) {
    for (const { text, cacheControl } of systemBlocks(body.system, "system"))
      if (text !== "")
        messages.push(
          cacheControl === undefined
            ? { role: "system", content: text }
            : { role: "system", content: text, cacheControl },
        );
  }
  for (let i = 0; i < rawMessages.length; i++) turn(rawMessages[i], i, messages);

  const request: GenerateRequest =
    maxTokens === undefined ? { messages } : { messages, maxTokens: maxTokens as number };
  const temperature = optionalNumber(body, "temperature");
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, "top_p");
  if (topP !== undefined) request.topP = topP;
  const stop = body.stop_sequences;
  if (stop !== undefined && stop !== null) {
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === "string"))
      throw invalid("stop_sequences", "an array of strings");
    if (stop.length > 0) request.stop = stop as string[];
  }
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw invalid("tools", "an array of tools");
    if (body.tools.length > 0) request.tools = body.tools.map(tool);
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    request.toolChoice = toolChoice(body.tool_choice, request.tools);
    if (isRecord(body.tool_choice) && body.tool_choice.disable_parallel_tool_use === true)
      request.parallelToolCalls = false;
  }

  const extra: Record<string, unknown> = {};
  const outputConfig = body.output_config;
  if (outputConfig !== undefined && outputConfig !== null) {
    if (!isRecord(outputConfig)) throw invalid("output_config", "an object");
    const { format, ...rest } = outputConfig;
    if (format !== undefined && format !== null) {
      // Structured output: the core's JSON response format, which every provider maps its own way.
      if (!isRecord(format) || format.type !== "json_schema" || !isRecord(format.schema))
        throw invalid("output_config.format", '{ "type": "json_schema", "schema": { … } }');
      request.responseFormat = { type: "json", schema: format.schema };
    }
    if (Object.keys(rest).length > 0) extra.output_config = rest;
  }
  let user: string | undefined;
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null) {
    if (!isRecord(metadata)) throw invalid("metadata", "an object");
    const id = metadata.user_id;
    if (id !== undefined && id !== null && typeof id !== "string") throw invalid("metadata.user_id", "a string");
    if (typeof id === "string" && id !== "") user = id;
  }
  for (const key of Object.keys(body)) {
    // An own "__proto__" (JSON.parse makes one) is dropped: as a key it would be the object's prototype.
    if (!KNOWN.has(key) && key !== "__proto__") extra[key] = body[key];
  }
  if (Object.keys(extra).length > 0) request.providerOptions = { anthropic: extra };
  // `betas` in a body (the SDK sends them as the header) is checked here, before any model is asked.
  if (extra.betas !== undefined) messagesBetas(request);
  // Extended thinking is also the request's reasoning, so another provider's model reasons too (an
  // Anthropic model takes `thinking` itself, as it came).
  const thinking = body.thinking;
  if (isRecord(thinking) && thinking.type === "enabled" && typeof thinking.budget_tokens === "number")
    request.reasoning = { budgetTokens: thinking.budget_tokens };
  if (counting) return { model, stream: false, user, request };
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") throw invalid("stream", "a boolean");
  return { model, stream: stream === true, user, request };
}

/**
 * The `anthropic-beta` header a request asks for: `providerOptions.anthropic.betas`, an array of
 * beta names (or one comma-separated string), as the SDK's `betas` parameter takes them. It is a
 * header, never a body field; undefined when the request names none. Anything else is an
 * `InvalidMessagesRequestError` on `betas`.
 */
export function messagesBetas(request: Pick<GenerateRequest, "providerOptions">): string | undefined {
  const betas = request.providerOptions?.["anthropic"]?.["betas"];
  if (betas === undefined || betas === null) return undefined;
  const names = typeof betas === "string" ? betas.split(",") : betas;
  if (!Array.isArray(names) || !names.every((name) => typeof name === "string"))
    throw new InvalidMessagesRequestError(
      "betas: expected an array of beta names (strings), as in providerOptions.anthropic.betas.",
      "betas",
    );
  let header = "";
  for (const name of names as string[]) {
    const trimmed = name.trim();
    if (trimmed === "") continue;
    if (!BETA_NAME.test(trimmed))
      throw new InvalidMessagesRequestError(
        `betas: "${trimmed.length > 64 ? `${trimmed.slice(0, 64)}…` : trimmed}" is not a beta name (letters, digits, ".", "_", "-").`,
        "betas",
      );
    header = header === "" ? trimmed : `${header},${trimmed}`;
  }
  return header === "" ? undefined : header;
}

const BETA_NAME = /^[A-Za-z0-9._-]{1,128}$/;
