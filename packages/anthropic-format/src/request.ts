import {
  type CacheControl,
  type ContentPart,
  type GenerateRequest,
  type SchemaLike,
  reasoningBudgetTokens,
  toolArgumentsObject,
  inAnswerOrder,
} from "@orchestrator-ts/core";
import { toJsonSchema } from "@orchestrator-ts/core/internal";
import { isRecord } from "./parse-request";
import type {
  MessagesCacheControl,
  MessagesContentBlockParam,
  MessagesImageBlockParam,
  MessagesImageMediaType,
  MessagesMessageParam,
  MessagesRequest,
  MessagesTextBlockParam,
  MessagesTool,
  MessagesToolChoice,
} from "./wire";

/** The name of the forced tool that carries structured output. */
export const DEFAULT_RESPONSE_TOOL = "json_response";

/** How a `responseFormat: json` request was mapped, so the answer can be mapped back. */
export interface ResponseTool {
  name: string;
  /** The schema was not an object: it was wrapped as `{ value: schema }` and must be unwrapped. */
  wrapped: boolean;
}

/** The model id, and `max_tokens` for a request that sets none. */
export interface MessagesRequestOptions {
  /** The API model id sent as `model`. */
  model: string;
  /** `max_tokens` when the request sets none (the API requires it). */
  maxTokens: number;
  /** The model's longest answer: `max_tokens` raised for a thinking budget stays within it. */
  maxOutputTokens?: number | undefined;
}

/** What `toMessagesRequest` gives: the body, how structured output was asked for, and what was left out. */
export interface MappedMessagesRequest {
  params: MessagesRequest;
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

function imageBlock(part: Extract<ContentPart, { type: "image" }>): MessagesContentBlockParam {
  if (part.data !== undefined) {
    return { type: "image", source: { type: "base64", media_type: mediaType(part.mediaType), data: part.data } };
  }
  const url = part.url ?? "";
  const dataUrl = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (dataUrl)
    return { type: "image", source: { type: "base64", media_type: mediaType(dataUrl[1]), data: dataUrl[2] ?? "" } };
  return { type: "image", source: { type: "url", url } };
}

function mediaType(value: string | undefined): MessagesImageMediaType {
  // The API accepts four types; an unknown one is sent as is and the API explains the refusal.
  return (value && IMAGE_TYPES.has(value) ? value : (value ?? "image/png")) as MessagesImageMediaType;
}

/** Anthropic's `cache_control` for a core breakpoint. */
function cacheControl(control: CacheControl): MessagesCacheControl {
  return control.ttl === undefined
    ? { type: "ephemeral" }
    : { type: "ephemeral", ttl: control.ttl as NonNullable<MessagesCacheControl["ttl"]> };
}

function contentBlocks(content: string | ContentPart[]): MessagesContentBlockParam[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  const blocks: MessagesContentBlockParam[] = [];
  for (const part of content) {
    if (part.type === "text") {
      if (part.text !== "")
        blocks.push(
          part.cacheControl === undefined
            ? { type: "text", text: part.text }
            : { type: "text", text: part.text, cache_control: cacheControl(part.cacheControl) },
        );
    } else {
      const block = imageBlock(part) as MessagesImageBlockParam;
      if (part.cacheControl !== undefined) block.cache_control = cacheControl(part.cacheControl);
      blocks.push(block);
    }
  }
  return blocks;
}

/** A tool result's content: its text, or its text and image blocks (a screenshot a tool returned). */
function toolResultContent(
  content: string | ContentPart[],
): string | (MessagesTextBlockParam | MessagesImageBlockParam)[] {
  if (typeof content === "string") return content;
  return contentBlocks(content) as (MessagesTextBlockParam | MessagesImageBlockParam)[];
}

/** The conversation as Anthropic turns: system text apart, tool results in user turns, same-role turns merged. */
export function toMessagesConversation(request: GenerateRequest): {
  system: string | MessagesTextBlockParam[] | undefined;
  messages: MessagesMessageParam[];
} {
  const system: Extract<GenerateRequest["messages"][number], { role: "system" }>[] = [];
  const messages: MessagesMessageParam[] = [];
  const push = (role: "user" | "assistant", blocks: MessagesContentBlockParam[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    // The API wants alternating turns: tool results followed by a user message make one user turn.
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
        system.push(message);
        break;
      case "user":
        push("user", contentBlocks(message.content));
        break;
      case "assistant": {
        // Assistant turns carry their signed reasoning where the model wrote it (first, or after the
        // tool calls it followed: the API checks the signature and the order; another provider's
        // unsigned reasoning cannot be given back), then text and tool calls.
        const parts = message.reasoning ?? [];
        const thinking = parts.map((part): MessagesContentBlockParam | undefined =>
          part.redactedData !== undefined
            ? { type: "redacted_thinking", data: part.redactedData }
            : part.signature !== undefined && part.signature !== ""
              ? { type: "thinking", thinking: part.text, signature: part.signature }
              : undefined,
        );
        const texts = contentBlocks(message.content).filter((block) => block.type === "text");
        const tools: MessagesContentBlockParam[] = (message.toolCalls ?? []).map((call) => ({
          type: "tool_use",
          id: toolUseId(call.id),
          name: call.name,
          input: toolArgumentsObject(call.arguments),
        }));
        push("assistant", inAnswerOrder(parts, thinking, texts, tools));
        break;
      }
      case "tool":
        push("user", [
          message.cacheControl === undefined
            ? {
                type: "tool_result",
                tool_use_id: toolUseId(message.toolCallId),
                content: toolResultContent(message.content),
              }
            : {
                type: "tool_result",
                tool_use_id: toolUseId(message.toolCallId),
                content: toolResultContent(message.content),
                cache_control: cacheControl(message.cacheControl),
              },
        ]);
        break;
    }
  }
  return { system: systemPrompt(system), messages };
}

/** The system messages as one string, or as text blocks (one each) when one carries a cache breakpoint. */
function systemPrompt(
  system: readonly Extract<GenerateRequest["messages"][number], { role: "system" }>[],
): string | MessagesTextBlockParam[] | undefined {
  if (system.length === 0) return undefined;
  if (system.every((m) => m.cacheControl === undefined)) return system.map((m) => m.content).join("\n\n");
  return system.map((m) =>
    m.cacheControl === undefined
      ? { type: "text", text: m.content }
      : { type: "text", text: m.content, cache_control: cacheControl(m.cacheControl) },
  );
}

const TOOL_USE_ID = /^[a-zA-Z0-9_-]+$/;

/**
 * A tool call's id as the Messages API accepts it (`^[a-zA-Z0-9_-]+$`): other models' ids may hold
 * other characters (Kimi's `functions.get_weather:0`), and a conversation that continues on Claude
 * (a fallback, a route) would be refused. Each other character becomes `_`, the same way in the
 * call and in its result, so they still match.
 */
export function toolUseId(id: string): string {
  if (TOOL_USE_ID.test(id)) return id;
  // With a digest of the original, so ids that differ only where they were replaced stay apart.
  return `${id.replace(/[^a-zA-Z0-9_-]/g, "_")}_${fnv1a(id)}`;
}

/** FNV-1a of a string, base 36: a short, stable digest (not a secret). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

/** The wire's tool choice for a core one (`required` is `any`). */
export function toMessagesToolChoice(choice: GenerateRequest["toolChoice"]): MessagesToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (choice === "auto") return { type: "auto" };
  if (choice === "required") return { type: "any" };
  if (choice === "none") return { type: "none" };
  return { type: "tool", name: choice.name };
}

/**
 * A core request as a Messages body (without `stream`): what a client of the API sends.
 * Structured output (`responseFormat: json`) becomes a forced tool, which every Claude model
 * supports; `providerOptions.anthropic` is copied into the body as is, last — but for `betas`, which is
 * the `anthropic-beta` header (`messagesBetas`).
 */
export function toMessagesRequest(request: GenerateRequest, options: MessagesRequestOptions): MappedMessagesRequest {
  const warnings: string[] = [];
  const { system, messages } = toMessagesConversation(request);
  const params: MessagesRequest = {
    model: options.model,
    max_tokens: request.maxTokens ?? options.maxTokens,
    messages,
  };
  if (system !== undefined) params.system = system;
  // SDK 1.14 no longer has sampling parameters in the Messages API: sent only when asked for explicitly.
  if (request.temperature !== undefined)
    warnings.push(
      "Anthropic's Messages API (SDK 1.14) takes no `temperature`; not sent (set providerOptions.anthropic.temperature to force it).",
    );
  if (request.topP !== undefined)
    warnings.push(
      "Anthropic's Messages API (SDK 1.14) takes no `top_p`; not sent (set providerOptions.anthropic.top_p to force it).",
    );
  if (request.stop && request.stop.length > 0) params.stop_sequences = request.stop;
  if (request.seed !== undefined) warnings.push("Anthropic does not support `seed`; it was ignored.");

  const tools: MessagesTool[] = (request.tools ?? []).map((tool) => ({
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    input_schema: jsonSchemaOf(tool.parameters) as MessagesTool["input_schema"],
    ...(tool.cacheControl !== undefined ? { cache_control: cacheControl(tool.cacheControl) } : {}),
  }));
  let choice = toMessagesToolChoice(request.toolChoice);
  let responseTool: ResponseTool | undefined;

  const format = request.responseFormat;
  if (format?.type === "json") {
    // Structured output through a forced tool: it works on every Claude model, the seed's claude-3-opus included.
    const name = format.name ?? DEFAULT_RESPONSE_TOOL;
    const schema = format.schema ? jsonSchemaOf(format.schema) : { type: "object" };
    const wrapped = schema["type"] !== "object";
    // With the caller's tools the model must be able to call them: it must call a tool, one of
    // them or the answer's (`any`), unless the caller named one or turned tools off.
    const callerTools = tools.length > 0 && choice?.type !== "none";
    tools.push({
      name,
      description: format.description ?? "Give the answer as this tool's input: a JSON value that matches the schema.",
      input_schema: (wrapped
        ? { type: "object", properties: { value: schema }, required: ["value"] }
        : schema) as MessagesTool["input_schema"],
    });
    if (callerTools && choice?.type === "tool") {
      // The named tool stays forced: the answer comes in a later turn.
    } else if (callerTools) choice = { type: "any" };
    else {
      if (choice !== undefined && choice.type !== "none")
        warnings.push("`toolChoice` was replaced by the forced tool that carries `responseFormat: json`.");
      choice = { type: "tool", name };
    }
    responseTool = { name, wrapped };
  }
  if (tools.length > 0) params.tools = tools;
  // At most one tool call per answer: said on the tool choice (auto when none was given).
  if (request.parallelToolCalls === false && tools.length > 0 && choice?.type !== "none")
    choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true } as MessagesToolChoice;
  if (choice !== undefined) params.tool_choice = choice;

  // The request's reasoning as extended thinking, unless the caller set Anthropic's own `thinking`.
  if (request.reasoning !== undefined)
    (params as { thinking?: unknown }).thinking = {
      type: "enabled",
      budget_tokens: reasoningBudgetTokens(request.reasoning),
    };
  const extra = request.providerOptions?.["anthropic"];
  if (extra) {
    Object.assign(params, extra);
    // `betas` is the `anthropic-beta` header (messagesBetas), not a body field.
    if (extra["betas"] !== undefined) delete (params as { betas?: unknown }).betas;
  }
  if (isRecord((params as { thinking?: unknown }).thinking)) fitThinking(params, options, warnings);
  return { params, responseTool, warnings };
}

/**
 * What the API refuses with extended thinking on, made to fit (each with a warning), as a client
 * of the API would have to: a tool loop whose last assistant turn has no thinking block (it came
 * from another model) cannot go on thinking, so thinking is off for this call; a forced tool
 * (structured output, `toolChoice: "required"` or a name) is offered instead (`auto`); and
 * `max_tokens` must exceed the thinking budget, so the budget is added to the answer's own.
 */
function fitThinking(params: MessagesRequest, options: MessagesRequestOptions, warnings: string[]): void {
  const body = params as MessagesRequest & { thinking?: Record<string, unknown> };
  const thinking = body.thinking as Record<string, unknown>;
  if (thinking.type !== "enabled" && thinking.type !== "adaptive") return;
  if (continuesUnsignedToolTurn(params.messages)) {
    delete body.thinking;
    warnings.push(
      "Extended thinking was turned off for this call: the assistant turn it continues called a tool without a thinking block (another model's answer), which Anthropic refuses with thinking on.",
    );
    return;
  }
  if (params.tool_choice?.type === "tool" || params.tool_choice?.type === "any") {
    // One call at most stays asked for.
    params.tool_choice =
      params.tool_choice.disable_parallel_tool_use === true
        ? { type: "auto", disable_parallel_tool_use: true }
        : { type: "auto" };
    warnings.push(
      "With extended thinking Anthropic cannot be made to call a tool: the tool is offered (`tool_choice: auto`), not forced.",
    );
  }
  const budget = thinking.budget_tokens;
  if (thinking.type === "enabled" && typeof budget === "number" && params.max_tokens <= budget) {
    const raised = Math.min(params.max_tokens + budget, options.maxOutputTokens ?? Number.POSITIVE_INFINITY);
    if (raised > budget) {
      warnings.push(
        `max_tokens must exceed thinking's budget_tokens (${budget}): sent ${raised} (the answer's ${params.max_tokens} plus the budget).`,
      );
      params.max_tokens = raised;
    }
  }
}

/** Whether the last assistant turn called a tool without starting with (signed or redacted) thinking. */
function continuesUnsignedToolTurn(messages: readonly MessagesMessageParam[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as MessagesMessageParam;
    if (m.role !== "assistant") continue;
    if (typeof m.content === "string") return false;
    const first = m.content[0];
    const thought = first !== undefined && (first.type === "thinking" || first.type === "redacted_thinking");
    return !thought && m.content.some((b) => b.type === "tool_use");
  }
  return false;
}
