import { type ReasoningPart, type ToolCall, contentText } from "@orchestrator-ts/core";
import {
  type ChatFinishReason,
  type ChatIdentity,
  ChatStreamEncoder,
  InvalidChatRequestError,
  SSE_DONE,
  fromChatRequest,
  sseFrame,
  toChatCompletion,
  toChatFinishReason,
} from "@orchestrator-ts/openai-format";
import type { LoopbackContext } from "../servers/handler";
import {
  type ChatMessage,
  type ReplyRequest,
  type ResolvedReply,
  type ToolDefinition,
  lastUserText,
} from "../servers/scripted-replies";
import { isRecord } from "./http";
import { splitIntoPieces } from "./text";

// The OpenAI and Hugging Face (TGI / OpenAI-compatible) servers read requests and write answers with
// @orchestrator-ts/openai-format, the conversion the providers and the OpenAI-compatible server use.

/**
 * A scripted finish reason on the wire: the unified names with another spelling there
 * (`tool-calls`, `content-filter`) are mapped; anything else (`stop`, `length`, `eos_token`, "") is
 * sent as it is, so tests can script any raw reason.
 */
export function openAIFinishReason(reason: string): string {
  return reason === "tool-calls" || reason === "content-filter" ? toChatFinishReason(reason) : reason;
}

/** The request as scripted replies see it, or the 400 to answer. */
export function parseOpenAIChatRequest(
  protocol: string,
  path: string,
  body: Record<string, unknown>,
): ReplyRequest | { error: string; param: string } {
  let parsed: ReturnType<typeof fromChatRequest>;
  try {
    parsed = fromChatRequest(body);
  } catch (error) {
    if (InvalidChatRequestError.isInstance(error)) return { error: error.message, param: error.param };
    throw error;
  }
  const { request } = parsed;
  const messages: ChatMessage[] = request.messages.map((m) => ({ role: m.role, content: contentText(m.content) }));
  const tools: ToolDefinition[] = (request.tools ?? []).map((t) => ({
    name: t.name,
    ...(t.description !== undefined ? { description: t.description } : {}),
    parameters: t.parameters,
  }));
  return {
    protocol,
    path,
    model: parsed.model,
    messages,
    lastUserText: lastUserText(messages),
    tools,
    stream: parsed.stream,
    maxTokens: request.maxTokens,
    jsonMode: request.responseFormat?.type === "json",
    body,
  };
}

// A scripted tool call's arguments are sent verbatim (they may be deliberately invalid JSON).
const toolCallsOf = (reply: ResolvedReply): ToolCall[] =>
  reply.toolCalls.map((call) => ({ id: call.id, name: call.name, arguments: call.argumentsJson }));

// Scripted reasoning as OpenAI-compatible servers send it: `reasoning_content` (DeepSeek, vLLM); a
// block scripted with a signature or as redacted also as LiteLLM's `thinking_blocks`.
const reasoningOf = (reply: ResolvedReply): ReasoningPart[] =>
  reply.reasoning.map((block) => {
    if (block.redactedData !== undefined) return { type: "reasoning", text: "", redactedData: block.redactedData };
    return block.signature !== undefined
      ? { type: "reasoning", text: block.text, signature: block.signature }
      : { type: "reasoning", text: block.text };
  });

function usageOf(reply: ResolvedReply) {
  return reply.usage ?? undefined;
}

/**
 * SSE frames of a streamed chat completion, ending with `data: [DONE]`: reasoning first (word
 * pieces as `delta.reasoning_content`; a scripted signature or redacted block as LiteLLM's
 * `thinking_blocks`), then text. Tool-call arguments come in three pieces, to exercise assembly.
 */
export function chatCompletionFrames(reply: ResolvedReply, identity: ChatIdentity, includeUsage: boolean): string[] {
  const encoder = new ChatStreamEncoder(identity, { includeUsage });
  const chunks = [encoder.start(reply.text === "" && reply.toolCalls.length > 0)];
  for (const block of reply.reasoning) {
    const pieces =
      block.redactedData !== undefined
        ? [encoder.reasoning({ text: "", redactedData: block.redactedData })]
        : block.chunks.map((text) => encoder.reasoning({ text }));
    if (block.signature !== undefined && block.redactedData === undefined)
      pieces.push(encoder.reasoning({ text: "", signature: block.signature }));
    for (const piece of pieces) if (piece !== undefined) chunks.push(piece);
  }
  for (const piece of reply.chunks) chunks.push(encoder.text(piece));
  for (const call of toolCallsOf(reply))
    chunks.push(...encoder.toolCall(call, splitIntoPieces(call.arguments as string, 3)));
  chunks.push(...encoder.finish(reply.finishReason as ChatFinishReason, usageOf(reply)));
  const frames = chunks.map(sseFrame);
  frames.push(SSE_DONE);
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
  const identity: ChatIdentity = {
    id: ctx.nextId("chatcmpl-"),
    created: Math.floor(Date.now() / 1000),
    model: parsed.model,
    systemFingerprint: options.systemFingerprint,
  };
  if (!parsed.stream) {
    const usage = usageOf(reply);
    await ctx.sendJson(
      200,
      toChatCompletion(
        {
          text: reply.text,
          toolCalls: toolCallsOf(reply),
          reasoning: reasoningOf(reply),
          ...(usage ? { usage } : {}),
          finishReason: reply.finishReason as ChatFinishReason,
        },
        identity,
      ),
    );
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
