// Our request as the AI SDK's call options. The fields used here have the same shape in V2 and
// V3 (prompt parts, function tools, tool choice, response format), so one object serves both.
import {
  type ContentPart,
  contentText,
  type GenerateRequest,
  type Message,
  type SchemaLike,
  type ToolCall,
  type ToolDefinition,
  toolArgumentsObject,
  inAnswerOrder,
} from "@orchestrator-ts/core";
import { isZodSchema, toJsonSchema } from "@orchestrator-ts/core/internal";
import type {
  JSONObject,
  LanguageModelV3FilePart,
  LanguageModelV3FunctionTool,
  LanguageModelV3Message,
  LanguageModelV3Prompt,
  LanguageModelV3TextPart,
  LanguageModelV3ToolChoice,
  SharedV3ProviderOptions,
} from "@ai-sdk/provider";
import type { JSONSchema7 } from "@ai-sdk/provider";
import { cacheControlOptions } from "./cache-control";
import { reasoningPromptParts, respellThinkingBudget } from "./reasoning";
import type { CallOptions } from "./spec";

// zod → JSON Schema is costly and zod schemas are immutable: convert each once.
const converted = new WeakMap<object, JSONSchema7>();

function schemaOf(schema: SchemaLike): JSONSchema7 {
  if (!isZodSchema(schema)) return schema as JSONSchema7;
  let json = converted.get(schema);
  if (!json) {
    json = toJsonSchema(schema) as JSONSchema7;
    converted.set(schema, json);
  }
  return json;
}

/**
 * The call options for one request. `defaults` are provider options set on the model (from
 * config); the request's own `providerOptions` win, key by key within each provider.
 */
export function toCallOptions(request: GenerateRequest, defaults: SharedV3ProviderOptions | undefined): CallOptions {
  const options: CallOptions = { prompt: toPrompt(request.messages) };
  if (request.maxTokens !== undefined) options.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.topP !== undefined) options.topP = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) options.stopSequences = request.stop;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.tools !== undefined && request.tools.length > 0) {
    options.tools = request.tools.map(toFunctionTool);
    if (request.toolChoice !== undefined) options.toolChoice = toToolChoice(request.toolChoice);
  }
  const format = request.responseFormat;
  if (format !== undefined) {
    options.responseFormat =
      format.type === "text"
        ? { type: "text" }
        : {
            type: "json",
            ...(format.schema !== undefined ? { schema: schemaOf(format.schema) } : {}),
            ...(format.name !== undefined ? { name: format.name } : {}),
            ...(format.description !== undefined ? { description: format.description } : {}),
          };
  }
  const providerOptions = mergeProviderOptions(defaults, request.providerOptions);
  // Thinking's budget as the API spells it (`budget_tokens`, what AnthropicModel takes) becomes @ai-sdk/anthropic's.
  if (providerOptions !== undefined) options.providerOptions = respellThinkingBudget(providerOptions, "budgetTokens");
  if (request.signal !== undefined) options.abortSignal = request.signal;
  return options;
}

function mergeProviderOptions(
  defaults: SharedV3ProviderOptions | undefined,
  given: Record<string, Record<string, unknown>> | undefined,
): SharedV3ProviderOptions | undefined {
  if (given === undefined) return defaults;
  if (defaults === undefined) return given as SharedV3ProviderOptions;
  const out: SharedV3ProviderOptions = { ...defaults };
  for (const [key, value] of Object.entries(given)) out[key] = { ...defaults[key], ...(value as JSONObject) };
  return out;
}

/** Our messages as the AI SDK's prompt: every user and assistant content becomes parts. */
export function toPrompt(messages: readonly Message[]): LanguageModelV3Prompt {
  // Tool results name their tool in the AI SDK: look the name up from the assistant's call.
  let toolNames: Map<string, string> | undefined;
  const prompt: LanguageModelV3Prompt = new Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    switch (m.role) {
      case "system":
        prompt[i] =
          m.cacheControl === undefined
            ? { role: "system", content: m.content }
            : { role: "system", content: m.content, providerOptions: cacheControlOptions(m.cacheControl) };
        break;
      case "user":
        prompt[i] = {
          role: "user",
          content: typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content.map(toUserPart),
        };
        break;
      case "assistant": {
        // An earlier turn's reasoning goes back where the model wrote it — first, or after the tool
        // calls it followed — signed as it came (the AI SDK model decides what it sends).
        type AssistantPart = Extract<LanguageModelV3Message, { role: "assistant" }>["content"][number];
        const parts = m.reasoning ?? [];
        const texts: AssistantPart[] =
          typeof m.content === "string"
            ? m.content !== ""
              ? [{ type: "text", text: m.content }]
              : []
            : m.content.map(toUserPart);
        const tools: AssistantPart[] = (m.toolCalls ?? []).map((call) => {
          (toolNames ??= new Map()).set(call.id, call.name);
          return { type: "tool-call", toolCallId: call.id, toolName: call.name, input: toolInput(call) };
        });
        const content = inAnswerOrder<AssistantPart>(parts, reasoningPromptParts(parts), texts, tools);
        prompt[i] = { role: "assistant", content };
        break;
      }
      case "tool":
        prompt[i] = {
          role: "tool",
          content: [
            {
              type: "tool-result",
              toolCallId: m.toolCallId,
              toolName: m.name ?? toolNames?.get(m.toolCallId) ?? "",
              // Text: a tool result's images are not passed to an AI SDK model (their part differs between V2 and V3).
              output: { type: "text", value: contentText(m.content) },
              ...(m.cacheControl === undefined ? {} : { providerOptions: cacheControlOptions(m.cacheControl) }),
            },
          ],
        };
        break;
    }
  }
  return prompt;
}

// Arguments that were invalid JSON (kept as the raw string) go back as `{}`, as to Anthropic.
function toolInput(call: ToolCall): unknown {
  return toolArgumentsObject(call.arguments);
}

function toUserPart(part: ContentPart): LanguageModelV3TextPart | LanguageModelV3FilePart {
  const out = toUserPartOnly(part);
  if (part.cacheControl !== undefined) out.providerOptions = cacheControlOptions(part.cacheControl);
  return out;
}

function toUserPartOnly(part: ContentPart): LanguageModelV3TextPart | LanguageModelV3FilePart {
  if (part.type === "text") return { type: "text", text: part.text };
  if (part.url !== undefined && part.url !== "") {
    const inline = /^data:([^;,]+)?(;base64)?,/i.exec(part.url);
    if (inline) {
      const data = part.url.slice(inline[0].length);
      return {
        type: "file",
        mediaType: part.mediaType ?? inline[1] ?? "image/*",
        data: inline[2] ? data : Buffer.from(decodeURIComponent(data)).toString("base64"),
      };
    }
    // The AI SDK's own `generateText` downloads URLs a model does not take; a model called directly gets the URL.
    return { type: "file", mediaType: part.mediaType ?? "image/*", data: new URL(part.url) };
  }
  if (part.data !== undefined && part.data !== "")
    return { type: "file", mediaType: part.mediaType ?? "image/*", data: part.data };
  throw new TypeError("An image part needs `url` or `data`.");
}

function toFunctionTool(tool: ToolDefinition): LanguageModelV3FunctionTool {
  const out: LanguageModelV3FunctionTool = {
    type: "function",
    name: tool.name,
    inputSchema: schemaOf(tool.parameters),
  };
  if (tool.description !== undefined) out.description = tool.description;
  if (tool.cacheControl !== undefined) out.providerOptions = cacheControlOptions(tool.cacheControl);
  return out;
}

function toToolChoice(choice: NonNullable<GenerateRequest["toolChoice"]>): LanguageModelV3ToolChoice {
  if (typeof choice === "string") return { type: choice };
  return { type: "tool", toolName: choice.name };
}
