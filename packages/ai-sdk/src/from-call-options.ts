// The AI SDK's call options as our request: the inverse of to-call-options.ts, for the direction
// in which the orchestrator is the AI SDK provider. What the request implies of the model
// (images → vision, tools → function calling, a JSON schema → structured output) becomes
// capability requirements, so selection only picks models that can answer it.
import type {
  CacheControl,
  CapabilityName,
  ContentPart,
  GenerateRequest,
  Message,
  ReasoningPart,
  ToolCall,
  ToolDefinition,
} from "@orchestrator-ts/core";
import {
  type LanguageModelV3CallOptions,
  type LanguageModelV3FilePart,
  type LanguageModelV3Prompt,
  type LanguageModelV3ToolResultOutput,
  type SharedV3ProviderOptions,
  type SharedV3Warning,
  UnsupportedFunctionalityError,
} from "@ai-sdk/provider";
import { cacheControlFrom } from "./cache-control";
import { fromReasoning, respellThinkingBudget } from "./reasoning";

export interface FromCallOptions {
  request: GenerateRequest;
  /** Capabilities the request needs of the model that answers it. */
  needs: CapabilityName[];
  warnings: SharedV3Warning[];
  /** `providerOptions.orchestrator`: routing hints for this call. */
  hints: Record<string, unknown> | undefined;
}

/** The key of the AI SDK's `providerOptions` that carries our routing hints. */
export const PROVIDER_OPTIONS_KEY = "orchestrator";

// Settings the AI SDK has and our request does not: reported as warnings, as the spec asks.
const UNSUPPORTED = ["topK", "presencePenalty", "frequencyPenalty"] as const;

export function fromCallOptions(options: LanguageModelV3CallOptions): FromCallOptions {
  const needs: CapabilityName[] = [];
  const warnings: SharedV3Warning[] = [];
  const request: GenerateRequest = { messages: fromPrompt(options.prompt, needs, warnings) };
  if (options.maxOutputTokens !== undefined) request.maxTokens = options.maxOutputTokens;
  if (options.temperature !== undefined) request.temperature = options.temperature;
  if (options.topP !== undefined) request.topP = options.topP;
  if (options.stopSequences !== undefined && options.stopSequences.length > 0) request.stop = options.stopSequences;
  if (options.seed !== undefined) request.seed = options.seed;
  for (const name of UNSUPPORTED)
    if (options[name] !== undefined) warnings.push({ type: "unsupported", feature: name });
  // The registry's models make their own requests: a call's HTTP headers have nowhere to go (the
  // AI SDK's own user-agent aside, which it adds to every call).
  const given = options.headers;
  const headers =
    given === undefined
      ? []
      : Object.keys(given).filter((k) => given[k] !== undefined && k.toLowerCase() !== "user-agent");
  if (headers.length > 0)
    warnings.push({
      type: "unsupported",
      feature: "headers",
      details: `Per-call HTTP headers (${headers.join(", ")}) are not sent: the orchestrator's models make their own requests (set headers on the model, e.g. defaultHeaders).`,
    });
  if (options.tools !== undefined && options.tools.length > 0) {
    const tools: ToolDefinition[] = [];
    for (const tool of options.tools) {
      if (tool.type !== "function") {
        warnings.push({ type: "unsupported", feature: `provider-defined tool ${tool.name}` });
        continue;
      }
      const out: ToolDefinition = { name: tool.name, parameters: tool.inputSchema as Record<string, unknown> };
      if (tool.description !== undefined) out.description = tool.description;
      const cacheControl = cacheControlFrom(tool.providerOptions);
      if (cacheControl !== undefined) out.cacheControl = cacheControl;
      tools.push(out);
    }
    if (tools.length > 0) {
      request.tools = tools;
      needs.push("functionCalling");
      const choice = options.toolChoice;
      if (choice !== undefined) request.toolChoice = choice.type === "tool" ? { name: choice.toolName } : choice.type;
    }
  }
  const format = options.responseFormat;
  if (format !== undefined) {
    if (format.type === "text") request.responseFormat = { type: "text" };
    else {
      request.responseFormat = {
        type: "json",
        ...(format.schema !== undefined ? { schema: format.schema as Record<string, unknown> } : {}),
        ...(format.name !== undefined ? { name: format.name } : {}),
        ...(format.description !== undefined ? { description: format.description } : {}),
      };
      if (format.schema !== undefined) needs.push("structuredOutput");
    }
  }
  if (options.abortSignal !== undefined) request.signal = options.abortSignal;
  let hints: Record<string, unknown> | undefined;
  const providerOptions = options.providerOptions;
  if (providerOptions !== undefined) {
    // Ours are routing hints; every other key (`openai`, `anthropic`…) reaches the model that answers.
    let rest: SharedV3ProviderOptions | undefined;
    for (const key in providerOptions) {
      if (key === PROVIDER_OPTIONS_KEY) hints = providerOptions[key] as Record<string, unknown>;
      else (rest ??= {})[key] = providerOptions[key] as SharedV3ProviderOptions[string];
    }
    // Thinking's budget as @ai-sdk/anthropic spells it (`budgetTokens`) becomes the API's, which AnthropicModel sends.
    if (rest !== undefined)
      request.providerOptions = respellThinkingBudget(rest, "budget_tokens") as Record<string, Record<string, unknown>>;
  }
  return { request, needs, warnings, hints };
}

/**
 * The AI SDK's prompt as our messages. Tool results become one `tool` message each, as text: a
 * part of a tool result that is not text (an image a tool returned) is left out with a warning.
 */
export function fromPrompt(
  prompt: LanguageModelV3Prompt,
  needs: CapabilityName[] = [],
  warnings: SharedV3Warning[] = [],
): Message[] {
  const messages: Message[] = [];
  for (const m of prompt) {
    switch (m.role) {
      case "system": {
        const cacheControl = cacheControlFrom(m.providerOptions);
        messages.push(
          cacheControl === undefined
            ? { role: "system", content: m.content }
            : { role: "system", content: m.content, cacheControl },
        );
        break;
      }
      case "user": {
        const first = m.content[0];
        // A breakpoint on the message (as @ai-sdk/anthropic reads it) stands on its last part.
        const onMessage = cacheControlFrom(m.providerOptions);
        // The common case, one text part without a breakpoint, stays a plain string.
        if (m.content.length === 1 && first?.type === "text" && onMessage === undefined && !hasCacheControl(first))
          messages.push({ role: "user", content: first.text });
        else
          messages.push({
            role: "user",
            content: m.content.map((part, j) =>
              withCacheControl(
                part.type === "text" ? { type: "text", text: part.text } : fromFilePart(part, needs),
                cacheControlFrom(part.providerOptions) ?? (j === m.content.length - 1 ? onMessage : undefined),
              ),
            ),
          });
        break;
      }
      case "assistant": {
        const content: ContentPart[] = [];
        let toolCalls: ToolCall[] | undefined;
        let reasoning: ReasoningPart[] | undefined;
        const results: Message[] = [];
        for (const part of m.content) {
          if (part.type === "text")
            content.push(withCacheControl({ type: "text", text: part.text }, cacheControlFrom(part.providerOptions)));
          else if (part.type === "file") content.push(fromFilePart(part, needs));
          else if (part.type === "tool-call" && part.providerExecuted !== true)
            (toolCalls ??= []).push({ id: part.toolCallId, name: part.toolName, arguments: part.input });
          else if (part.type === "tool-result")
            results.push(
              toolMessage(
                part.toolCallId,
                part.toolName,
                part.output,
                needs,
                warnings,
                cacheControlFrom(part.providerOptions),
              ),
            );
          else if (part.type === "reasoning") {
            // Given back with its signature (or a redacted block's data), which Anthropic checks.
            const given = fromReasoning(part.text, part.providerOptions);
            // After tool calls (interleaved thinking): it goes back there.
            if (given !== undefined && toolCalls !== undefined) given.afterToolCalls = toolCalls.length;
            if (given !== undefined) (reasoning ??= []).push(given);
          }
        }
        const onlyText = content.every((p) => p.type === "text" && p.cacheControl === undefined);
        const message: Message = {
          role: "assistant",
          content: onlyText ? content.map((p) => (p as { text: string }).text).join("") : content,
        };
        if (toolCalls !== undefined) message.toolCalls = toolCalls;
        if (reasoning !== undefined) message.reasoning = reasoning;
        messages.push(message, ...results);
        break;
      }
      case "tool":
        for (const part of m.content)
          if (part.type === "tool-result")
            messages.push(
              toolMessage(
                part.toolCallId,
                part.toolName,
                part.output,
                needs,
                warnings,
                cacheControlFrom(part.providerOptions) ?? cacheControlFrom(m.providerOptions),
              ),
            );
        break;
    }
  }
  return messages;
}

function toolMessage(
  toolCallId: string,
  name: string,
  output: LanguageModelV3ToolResultOutput,
  needs: CapabilityName[],
  warnings: SharedV3Warning[],
  cacheControl: CacheControl | undefined,
): Message {
  const content = toolOutputContent(output, name, toolCallId, warnings);
  // An image a tool returned needs a model that sees, as a user's image does.
  if (typeof content !== "string" && !needs.includes("vision")) needs.push("vision");
  const message: Message = { role: "tool", toolCallId, name, content };
  if (cacheControl !== undefined) message.cacheControl = cacheControl;
  return message;
}

/**
 * A tool result as our providers send it back to the model: text, or text and images (a
 * screenshot the tool returned). Other parts (files, provider ids) are left out with a warning.
 */
function toolOutputContent(
  output: LanguageModelV3ToolResultOutput,
  name: string,
  toolCallId: string,
  warnings: SharedV3Warning[],
): string | ContentPart[] {
  switch (output.type) {
    case "text":
    case "error-text":
      return output.value;
    case "json":
    case "error-json":
      return JSON.stringify(output.value);
    case "execution-denied":
      return output.reason ?? "The tool call was denied.";
    case "content": {
      const parts: ContentPart[] = [];
      for (const part of output.value) {
        const image = toolImage(part as ToolOutputPart);
        if (part.type === "text") parts.push({ type: "text", text: part.text });
        else if (image !== undefined) parts.push(image);
        else
          warnings.push({
            type: "other",
            message: `The result of tool "${name}" (${toolCallId}) has a part of type ${part.type} that was not sent: the orchestrator sends a tool's text and images.`,
          });
      }
      if (parts.some((p) => p.type === "image")) return parts;
      return parts.map((p) => (p as { text: string }).text).join("\n");
    }
  }
}

/** A tool result's part as the AI SDK writes it (V3's and V2's `media`), as far as an image is concerned. */
interface ToolOutputPart {
  type: string;
  data?: string;
  url?: string;
  mediaType?: string;
}

function toolImage(part: ToolOutputPart): ContentPart | undefined {
  const image = part.mediaType === undefined || part.mediaType.startsWith("image/");
  if (!image) return undefined;
  if (
    (part.type === "file-data" || part.type === "image-data" || part.type === "media") &&
    typeof part.data === "string"
  )
    return { type: "image", data: part.data, mediaType: part.mediaType ?? "image/png" };
  if ((part.type === "file-url" || part.type === "image-url") && typeof part.url === "string")
    return { type: "image", url: part.url };
  return undefined;
}

function hasCacheControl(part: { providerOptions?: SharedV3ProviderOptions }): boolean {
  return cacheControlFrom(part.providerOptions) !== undefined;
}

function withCacheControl(part: ContentPart, cacheControl: CacheControl | undefined): ContentPart {
  return cacheControl === undefined ? part : { ...part, cacheControl };
}

function fromFilePart(part: LanguageModelV3FilePart, needs: CapabilityName[]): ContentPart {
  if (!part.mediaType.startsWith("image/")) {
    throw new UnsupportedFunctionalityError({
      functionality: `file parts of type ${part.mediaType} (the orchestrator takes images)`,
    });
  }
  if (!needs.includes("vision")) needs.push("vision");
  const data = part.data;
  if (data instanceof URL) return { type: "image", url: data.href, mediaType: part.mediaType };
  if (typeof data === "string") return { type: "image", data, mediaType: part.mediaType };
  return {
    type: "image",
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"),
    mediaType: part.mediaType,
  };
}
