import type { LoopbackContext } from "../servers/handler";
import { type ChatMessage, type ReplyRequest, type ResolvedReply, type ToolDefinition, lastUserText } from "../servers/scripted-replies";
import { asNumber, asString, isRecord } from "./http";
import { splitIntoPieces } from "./text";

/** Shared by the OpenAI and Hugging Face (TGI / OpenAI-compatible) servers. */

export function openAIFinishReason(reason: string): string {
  switch (reason) {
    case "tool-calls":
      return "tool_calls";
    case "content-filter":
      return "content_filter";
    default:
      return reason;
  }
}

/** Text of an OpenAI message `content`: a string, or an array of `{ type: "text", text }` parts. */
export function openAIContentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isRecord(part) && typeof part["text"] === "string" ? part["text"] : ""))
      .join("");
  }
  return "";
}

export function parseOpenAIChatRequest(
  protocol: string,
  path: string,
  body: Record<string, unknown>,
): ReplyRequest | { error: string; param: string } {
  const rawMessages = body["messages"];
  if (!Array.isArray(rawMessages)) return { error: "Missing required parameter: 'messages'.", param: "messages" };
  const model = asString(body["model"]);
  if (model === undefined) return { error: "Missing required parameter: 'model'.", param: "model" };
  const messages: ChatMessage[] = rawMessages.map((m) =>
    isRecord(m) ? { role: asString(m["role"]) ?? "user", content: openAIContentText(m["content"]) } : { role: "user", content: "" },
  );
  const tools: ToolDefinition[] = [];
  if (Array.isArray(body["tools"])) {
    for (const tool of body["tools"]) {
      const fn = isRecord(tool) ? tool["function"] : undefined;
      if (isRecord(fn) && typeof fn["name"] === "string") {
        const definition: ToolDefinition = { name: fn["name"] };
        if (typeof fn["description"] === "string") definition.description = fn["description"];
        if (fn["parameters"] !== undefined) definition.parameters = fn["parameters"];
        tools.push(definition);
      }
    }
  }
  const format = body["response_format"];
  const formatType = isRecord(format) ? format["type"] : undefined;
  return {
    protocol,
    path,
    model,
    messages,
    lastUserText: lastUserText(messages),
    tools,
    stream: body["stream"] === true,
    maxTokens: asNumber(body["max_completion_tokens"]) ?? asNumber(body["max_tokens"]),
    jsonMode: formatType === "json_object" || formatType === "json_schema",
    body,
  };
}

function usageBody(reply: ResolvedReply): Record<string, unknown> | undefined {
  if (!reply.usage) return undefined;
  return {
    prompt_tokens: reply.usage.inputTokens,
    completion_tokens: reply.usage.outputTokens,
    total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
  };
}

export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
}

export function chatCompletionBody(reply: ResolvedReply, identity: CompletionIdentity): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: "assistant",
    content: reply.text === "" && reply.toolCalls.length > 0 ? null : reply.text,
    refusal: null,
  };
  if (reply.toolCalls.length > 0) {
    message["tool_calls"] = reply.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.argumentsJson },
    }));
  }
  const body: Record<string, unknown> = {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: reply.finishReason }],
    system_fingerprint: identity.systemFingerprint,
  };
  const usage = usageBody(reply);
  if (usage) body["usage"] = usage;
  return body;
}

/** SSE frames of a streamed chat completion, ending with `data: [DONE]`. */
export function chatCompletionFrames(
  reply: ResolvedReply,
  identity: CompletionIdentity,
  includeUsage: boolean,
): string[] {
  const frames: string[] = [];
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
    const payload: Record<string, unknown> = {
      id: identity.id,
      object: "chat.completion.chunk",
      created: identity.created,
      model: identity.model,
      system_fingerprint: identity.systemFingerprint,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    };
    frames.push(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const delta = (d: Record<string, unknown>, finishReason: string | null = null): unknown[] => [
    { index: 0, delta: d, logprobs: null, finish_reason: finishReason },
  ];
  const toolOnly = reply.text === "" && reply.toolCalls.length > 0;
  chunk(delta({ role: "assistant", content: toolOnly ? null : "", refusal: null }));
  for (const piece of reply.chunks) chunk(delta({ content: piece }));
  reply.toolCalls.forEach((call, index) => {
    chunk(
      delta({
        tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
      }),
    );
    for (const piece of splitIntoPieces(call.argumentsJson, 3)) {
      chunk(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  chunk(delta({}, reply.finishReason));
  const usage = usageBody(reply);
  if (includeUsage && usage) chunk([], { usage });
  frames.push("data: [DONE]\n\n");
  return frames;
}

/** Serves one chat-completions request (JSON or SSE) for an OpenAI-compatible protocol. */
export async function serveChatCompletion(
  ctx: LoopbackContext,
  options: {
    protocol: string;
    systemFingerprint: string;
    models: readonly string[] | undefined;
    badRequest: (message: string, param: string) => Promise<void>;
    modelNotFound: (model: string) => Promise<void>;
  },
): Promise<void> {
  const parsed = parseOpenAIChatRequest(options.protocol, ctx.url.pathname, ctx.body);
  if ("error" in parsed) {
    await options.badRequest(parsed.error, parsed.param);
    return;
  }
  if (options.models && !options.models.includes(parsed.model)) {
    await options.modelNotFound(parsed.model);
    return;
  }
  const reply = await ctx.resolveReply(parsed);
  const identity: CompletionIdentity = {
    id: ctx.nextId("chatcmpl-"),
    created: Math.floor(Date.now() / 1000),
    model: parsed.model,
    systemFingerprint: options.systemFingerprint,
  };
  if (!parsed.stream) {
    await ctx.sendJson(200, chatCompletionBody(reply, identity));
    return;
  }
  const streamOptions = ctx.body["stream_options"];
  const includeUsage = isRecord(streamOptions) && streamOptions["include_usage"] === true;
  await ctx.sendStream({
    contentType: "text/event-stream; charset=utf-8",
    frames: chatCompletionFrames(reply, identity, includeUsage),
    terminalFrames: 1,
    malformedFrame: 'data: {"id": "chatcmpl-broken", "choices": [{\n\n',
  });
}
