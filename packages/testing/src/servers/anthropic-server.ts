import type { IncomingMessage } from "node:http";
import { asNumber, asString, isRecord } from "../internal/http";
import { splitIntoPieces } from "../internal/text";
import { type LoopbackServerOptions, startLoopbackServer } from "./loopback-server";
import type { ErrorSpec, LoopbackContext, LoopbackHandler, LoopbackServer, RenderedError } from "./handler";
import { type ChatMessage, type ReplyRequest, type ResolvedReply, type ToolDefinition, lastUserText } from "./scripted-replies";

export interface AnthropicServerOptions extends LoopbackServerOptions {
  /** When set, requests must carry the key as `x-api-key` or `Authorization: Bearer` (401 otherwise). */
  apiKey?: string;
  /** Listed by `GET /v1/models`; when set, other models get 404 `not_found_error`. */
  models?: readonly string[];
  /** Answer 400 when `anthropic-version` is missing, as the real API does (default true). */
  requireVersionHeader?: boolean;
}

export interface AnthropicServer extends LoopbackServer {
  /** Same as `url`: the `@anthropic-ai/sdk` adds `/v1/...` itself. */
  readonly baseURL: string;
}

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

export interface AnthropicErrorBody {
  type: "error";
  error: { type: AnthropicErrorType; message: string };
  request_id?: string;
}

let errorCounter = 0;
function anthropicError(type: AnthropicErrorType, message: string): AnthropicErrorBody {
  return {
    type: "error",
    error: { type, message },
    request_id: `req_loopback${String(++errorCounter).padStart(6, "0")}`,
  };
}

/** Anthropic's documented error bodies (529 for overloaded). */
export function renderAnthropicError(spec: ErrorSpec): RenderedError {
  const { status } = spec;
  switch (spec.kind) {
    case "rate-limit":
      return {
        status,
        body: anthropicError(
          "rate_limit_error",
          spec.message ??
            "This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later.",
        ),
      };
    case "authentication":
      return { status, body: anthropicError("authentication_error", spec.message ?? "invalid x-api-key") };
    case "permission":
      return {
        status,
        body: anthropicError("permission_error", spec.message ?? "Your API key does not have permission to use the specified resource."),
      };
    case "not-found":
      return { status, body: anthropicError("not_found_error", spec.message ?? "Not found") };
    case "context-length":
      return {
        status: 400,
        body: anthropicError("invalid_request_error", spec.message ?? "prompt is too long: 208310 tokens > 200000 maximum"),
      };
    case "bad-request":
      return {
        status,
        body: anthropicError(status === 413 ? "request_too_large" : "invalid_request_error", spec.message ?? "Invalid request"),
      };
    case "overloaded":
      return { status, body: anthropicError("overloaded_error", spec.message ?? "Overloaded") };
    case "unavailable":
    case "server-error":
      return { status, body: anthropicError("api_error", spec.message ?? "Internal server error") };
  }
}

export function anthropicFinishReason(reason: string): string {
  switch (reason) {
    case "stop":
      return "end_turn";
    case "length":
      return "max_tokens";
    case "tool-calls":
      return "tool_use";
    case "content-filter":
      return "refusal";
    default:
      return reason;
  }
}

function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block) => {
      if (!isRecord(block)) return "";
      if (typeof block["text"] === "string") return block["text"];
      if (block["type"] === "tool_result") return blockText(block["content"]);
      return "";
    })
    .join("");
}

function parseMessagesRequest(path: string, body: Record<string, unknown>): ReplyRequest | string {
  const model = asString(body["model"]);
  if (model === undefined) return "model: Field required";
  if (!Array.isArray(body["messages"])) return "messages: Field required";
  if (asNumber(body["max_tokens"]) === undefined) return "max_tokens: Field required";
  const messages: ChatMessage[] = [];
  const system = blockText(body["system"]);
  if (system !== "") messages.push({ role: "system", content: system });
  for (const m of body["messages"] as unknown[]) {
    if (isRecord(m)) messages.push({ role: asString(m["role"]) ?? "user", content: blockText(m["content"]) });
  }
  // The last user turn's text; a turn made only of tool results has none of its own.
  const conversation = messages.filter((m) => m.role !== "system");
  const tools: ToolDefinition[] = [];
  if (Array.isArray(body["tools"])) {
    for (const tool of body["tools"]) {
      if (isRecord(tool) && typeof tool["name"] === "string") {
        const definition: ToolDefinition = { name: tool["name"] };
        if (typeof tool["description"] === "string") definition.description = tool["description"];
        if (tool["input_schema"] !== undefined) definition.parameters = tool["input_schema"];
        tools.push(definition);
      }
    }
  }
  return {
    protocol: "anthropic",
    path,
    model,
    messages,
    lastUserText: lastUserText(conversation),
    tools,
    stream: body["stream"] === true,
    maxTokens: asNumber(body["max_tokens"]),
    jsonMode: isRecord(body["output_format"]),
    body,
  };
}

function usageOf(reply: ResolvedReply): Record<string, unknown> {
  // Anthropic always reports usage; `usage: null` leaves the counts out (an empty object keeps
  // the SDK's stream accumulator working) so callers can test "unknown, not 0".
  if (!reply.usage) return {};
  return {
    input_tokens: reply.usage.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: reply.usage.outputTokens,
  };
}

function contentBlocks(reply: ResolvedReply): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  if (reply.text !== "" || reply.toolCalls.length === 0) blocks.push({ type: "text", text: reply.text });
  for (const call of reply.toolCalls) {
    blocks.push({ type: "tool_use", id: call.id, name: call.name, input: call.argumentsObject });
  }
  return blocks;
}

function sse(event: string, data: Record<string, unknown>): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The real event sequence of a streamed Message. */
export function anthropicStreamFrames(reply: ResolvedReply, id: string, model: string): string[] {
  const frames: string[] = [];
  const usage = usageOf(reply);
  const startUsage = reply.usage ? { ...usage, output_tokens: 1 } : {};
  frames.push(
    sse("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: startUsage,
      },
    }),
  );
  let index = 0;
  if (reply.text !== "" || reply.toolCalls.length === 0) {
    frames.push(sse("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }));
    frames.push(sse("ping", { type: "ping" }));
    for (const piece of reply.chunks) {
      frames.push(sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } }));
    }
    frames.push(sse("content_block_stop", { type: "content_block_stop", index }));
    index++;
  }
  for (const call of reply.toolCalls) {
    frames.push(
      sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      }),
    );
    if (index === 0) frames.push(sse("ping", { type: "ping" }));
    for (const piece of ["", ...splitIntoPieces(call.argumentsJson, 3)]) {
      frames.push(
        sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } }),
      );
    }
    frames.push(sse("content_block_stop", { type: "content_block_stop", index }));
    index++;
  }
  frames.push(
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: reply.finishReason, stop_sequence: null },
      usage: reply.usage ? { output_tokens: reply.usage.outputTokens } : {},
    }),
  );
  frames.push(sse("message_stop", { type: "message_stop" }));
  return frames;
}

function keyMatches(req: IncomingMessage, apiKey: string): boolean {
  return req.headers["x-api-key"] === apiKey || req.headers.authorization === `Bearer ${apiKey}`;
}

async function serveMessages(
  ctx: LoopbackContext,
  options: { models: readonly string[] | undefined; requireVersionHeader: boolean },
): Promise<void> {
  if (options.requireVersionHeader && ctx.req.headers["anthropic-version"] === undefined) {
    await ctx.sendError({ status: 400, kind: "bad-request", message: "anthropic-version: header is required" });
    return;
  }
  const parsed = parseMessagesRequest(ctx.url.pathname, ctx.body);
  if (typeof parsed === "string") {
    await ctx.sendError({ status: 400, kind: "bad-request", message: parsed });
    return;
  }
  if (options.models && !options.models.includes(parsed.model)) {
    await ctx.sendError({ status: 404, kind: "not-found", message: `model: ${parsed.model}` });
    return;
  }
  const reply = await ctx.resolveReply(parsed);
  const id = ctx.nextId("msg_loopback");
  if (!parsed.stream) {
    const message: Record<string, unknown> = {
      id,
      type: "message",
      role: "assistant",
      model: parsed.model,
      content: contentBlocks(reply),
      stop_reason: reply.finishReason,
      stop_sequence: null,
      usage: usageOf(reply),
    };
    await ctx.sendJson(200, message);
    return;
  }
  await ctx.sendStream({
    contentType: "text/event-stream; charset=utf-8",
    frames: anthropicStreamFrames(reply, id, parsed.model),
    terminalFrames: 1,
    malformedFrame: 'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {\n\n',
  });
}

/**
 * An Anthropic Messages server: `POST /v1/messages` (JSON, and SSE with message_start,
 * content_block_start, ping, content_block_delta, content_block_stop, message_delta, message_stop)
 * and `GET /v1/models` for health.
 */
export async function startAnthropicServer(options: AnthropicServerOptions = {}): Promise<AnthropicServer> {
  const { apiKey, models } = options;
  const listed = models ?? ["claude-sonnet-4-6"];
  const requireVersionHeader = options.requireVersionHeader ?? true;
  const handler: LoopbackHandler = {
    protocol: "anthropic",
    toolCallIdPrefix: "toolu_loopback",
    requestIdHeader: "request-id",
    requestIdPrefix: "req_loopback",
    retryAfterMsHeader: false,
    mapFinishReason: anthropicFinishReason,
    renderError: renderAnthropicError,
    ...(apiKey !== undefined ? { authenticate: (req: IncomingMessage) => keyMatches(req, apiKey) } : {}),
    routes: [
      {
        method: "POST",
        path: "/v1/messages",
        inference: true,
        handle: (ctx) => serveMessages(ctx, { models, requireVersionHeader }),
      },
      {
        method: "GET",
        path: "/v1/models",
        handle: (ctx) =>
          ctx.sendJson(200, {
            data: listed.map((id) => ({
              type: "model",
              id,
              display_name: id,
              created_at: "2025-01-01T00:00:00Z",
            })),
            has_more: false,
            first_id: listed[0] ?? null,
            last_id: listed[listed.length - 1] ?? null,
          }),
      },
    ],
  };
  const server = await startLoopbackServer(handler, options);
  return Object.assign(server, { baseURL: server.url });
}
