import type Anthropic from "@anthropic-ai/sdk";
import {
  type ContentPart,
  type FinishReason,
  type GenerateRequest,
  type SchemaLike,
  type ToolCall,
  type Usage,
  toJsonSchema,
  toolArgumentsObject,
} from "@orchestrator-ts/core";

type MessageParam = Anthropic.MessageParam;
type ContentBlockParam = Anthropic.ContentBlockParam;
type ImageMediaType = Anthropic.Base64ImageSource["media_type"];

/** The name of the forced tool that carries structured output. */
export const DEFAULT_RESPONSE_TOOL = "json_response";

/** How a `responseFormat: json` request was mapped, so the answer can be mapped back. */
export interface ResponseTool {
  name: string;
  /** The schema was not an object: it was wrapped as `{ value: schema }` and must be unwrapped. */
  wrapped: boolean;
}

export interface MappedRequest {
  params: Anthropic.MessageCreateParamsNonStreaming;
  responseTool: ResponseTool | undefined;
  warnings: string[];
}

// zod → JSON Schema conversion is not free: convert each schema object once.
const schemaCache = new WeakMap<object, Record<string, unknown>>();
function jsonSchemaOf(schema: SchemaLike): Record<string, unknown> {
  let out = schemaCache.get(schema);
  if (!out) {
    out = toJsonSchema(schema);
    schemaCache.set(schema, out);
  }
  return out;
}

const IMAGE_TYPES = new Set<string>(["image/jpeg", "image/png", "image/gif", "image/webp"]);

function imageBlock(part: Extract<ContentPart, { type: "image" }>): ContentBlockParam {
  if (part.data !== undefined) {
    return { type: "image", source: { type: "base64", media_type: mediaType(part.mediaType), data: part.data } };
  }
  const url = part.url ?? "";
  const dataUrl = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (dataUrl) return { type: "image", source: { type: "base64", media_type: mediaType(dataUrl[1]), data: dataUrl[2] ?? "" } };
  return { type: "image", source: { type: "url", url } };
}

function mediaType(value: string | undefined): ImageMediaType {
  // The API accepts four types; an unknown one is sent as is and the API explains the refusal.
  return (value && IMAGE_TYPES.has(value) ? value : (value ?? "image/png")) as ImageMediaType;
}

function contentBlocks(content: string | ContentPart[]): ContentBlockParam[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  const blocks: ContentBlockParam[] = [];
  for (const part of content) {
    if (part.type === "text") {
      if (part.text !== "") blocks.push({ type: "text", text: part.text });
    } else blocks.push(imageBlock(part));
  }
  return blocks;
}


/** The conversation as Anthropic turns: system text apart, tool results in user turns, same-role turns merged. */
export function toAnthropicMessages(request: GenerateRequest): { system: string | undefined; messages: MessageParam[] } {
  const system: string[] = [];
  const messages: MessageParam[] = [];
  const push = (role: "user" | "assistant", blocks: ContentBlockParam[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    // The API wants alternating turns: tool results followed by a user message make one user turn.
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
        system.push(message.content);
        break;
      case "user":
        push("user", contentBlocks(message.content));
        break;
      case "assistant": {
        // Assistant turns carry text and tool calls only.
        const blocks: ContentBlockParam[] = contentBlocks(message.content).filter((b) => b.type === "text");
        for (const call of message.toolCalls ?? []) blocks.push({ type: "tool_use", id: call.id, name: call.name, input: toolArgumentsObject(call.arguments) });
        push("assistant", blocks);
        break;
      }
      case "tool":
        push("user", [{ type: "tool_result", tool_use_id: message.toolCallId, content: message.content }]);
        break;
    }
  }
  return { system: system.length > 0 ? system.join("\n\n") : undefined, messages };
}

function toolChoice(choice: GenerateRequest["toolChoice"]): Anthropic.ToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (choice === "auto") return { type: "auto" };
  if (choice === "required") return { type: "any" };
  if (choice === "none") return { type: "none" };
  return { type: "tool", name: choice.name };
}

export function toAnthropicParams(request: GenerateRequest, model: string, maxTokens: number): MappedRequest {
  const warnings: string[] = [];
  const { system, messages } = toAnthropicMessages(request);
  const params: Anthropic.MessageCreateParamsNonStreaming = { model, max_tokens: request.maxTokens ?? maxTokens, messages };
  if (system !== undefined) params.system = system;
  // SDK 1.14 no longer has sampling parameters in the Messages API: sent only when asked for explicitly.
  if (request.temperature !== undefined) warnings.push("Anthropic's Messages API (SDK 1.14) takes no `temperature`; not sent (set providerOptions.anthropic.temperature to force it).");
  if (request.topP !== undefined) warnings.push("Anthropic's Messages API (SDK 1.14) takes no `top_p`; not sent (set providerOptions.anthropic.top_p to force it).");
  if (request.stop && request.stop.length > 0) params.stop_sequences = request.stop;
  if (request.seed !== undefined) warnings.push("Anthropic does not support `seed`; it was ignored.");

  const tools: Anthropic.Tool[] = (request.tools ?? []).map((tool) => ({
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    input_schema: jsonSchemaOf(tool.parameters) as Anthropic.Tool.InputSchema,
  }));
  let choice = toolChoice(request.toolChoice);
  let responseTool: ResponseTool | undefined;

  const format = request.responseFormat;
  if (format?.type === "json") {
    // Structured output through a forced tool: it works on every Claude model, the seed's claude-3-opus included.
    const name = format.name ?? DEFAULT_RESPONSE_TOOL;
    const schema = format.schema ? jsonSchemaOf(format.schema) : { type: "object" };
    const wrapped = schema["type"] !== "object";
    tools.push({
      name,
      description: format.description ?? "Give the answer as this tool's input: a JSON value that matches the schema.",
      input_schema: (wrapped ? { type: "object", properties: { value: schema }, required: ["value"] } : schema) as Anthropic.Tool.InputSchema,
    });
    if (choice !== undefined) warnings.push("`toolChoice` was replaced by the forced tool that carries `responseFormat: json`.");
    choice = { type: "tool", name };
    responseTool = { name, wrapped };
  }
  if (tools.length > 0) params.tools = tools;
  if (choice !== undefined) params.tool_choice = choice;

  const extra = request.providerOptions?.["anthropic"];
  if (extra) Object.assign(params, extra);
  return { params, responseTool, warnings };
}

const STOP_REASONS: Readonly<Record<string, FinishReason["unified"]>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool-calls",
  refusal: "content-filter",
  pause_turn: "other",
};

export function mapStopReason(raw: string | null | undefined, responseTool?: ResponseTool): FinishReason | undefined {
  if (raw == null) return undefined;
  // The forced response tool is how the answer arrives, not a request to run a tool.
  if (raw === "tool_use" && responseTool) return { unified: "stop", raw };
  return { unified: STOP_REASONS[raw] ?? "other", raw };
}

interface RawUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Prompt tokens include cache writes and reads; counts the API left out stay `undefined`. */
export function mapUsage(usage: RawUsage | null | undefined): Usage {
  if (!usage) return {};
  const out: Usage = {};
  if (typeof usage.input_tokens === "number") out.inputTokens = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  if (typeof usage.output_tokens === "number") out.outputTokens = usage.output_tokens;
  return out;
}

/** The JSON text of the response tool's input (unwrapped when the schema was not an object). */
export function responseText(input: unknown, tool: ResponseTool): string {
  const value = tool.wrapped && input && typeof input === "object" ? (input as Record<string, unknown>)["value"] : input;
  return JSON.stringify(value ?? null);
}

export function parseToolInput(json: string): unknown {
  if (json.trim() === "") return {};
  try {
    return JSON.parse(json);
  } catch {
    // The core contract: invalid JSON arguments are passed on as the raw string.
    return json;
  }
}

export function toToolCall(block: { id: string; name: string; input: unknown }): ToolCall {
  return { id: block.id, name: block.name, arguments: block.input };
}
