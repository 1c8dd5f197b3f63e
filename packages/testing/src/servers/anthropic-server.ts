import type { IncomingMessage } from "node:http";
import {
  type MessagesErrorBody,
  type MessagesErrorType,
  type MessagesStopReason,
  type MessagesStreamEvent,
  MessagesStreamEncoder,
  messagesErrorBody,
  sseEvent,
  toMessagesResponse,
  toStopReason,
} from "@orchestrator-ts/anthropic-format";
import type { FinishReason, ReasoningPart, Usage } from "@orchestrator-ts/core";
import { asNumber, asString, isRecord } from "../internal/http";
import { countWords, splitIntoPieces, splitWordChunks } from "../internal/text";
import {
  type Issued,
  issuedKey,
  signatureOf,
  thinkingEnabled,
  thinkingProblem,
  toolIdProblem,
} from "./anthropic-request-checks";
import { type LoopbackServerOptions, startLoopbackServer } from "./loopback-server";
import type { ErrorSpec, LoopbackContext, LoopbackHandler, LoopbackServer, RenderedError } from "./handler";
import {
  type ChatMessage,
  type ReplyRequest,
  type ResolvedReply,
  type ToolDefinition,
  lastUserText,
} from "./scripted-replies";

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

/** The error types the loopback server answers with. */
export type AnthropicErrorType = Exclude<MessagesErrorType, "billing_error" | "timeout_error">;

/** Anthropic's error body (`@orchestrator-ts/anthropic-format`'s `MessagesErrorBody`). */
export type AnthropicErrorBody = MessagesErrorBody;

// The loopback server writes answers and errors with @orchestrator-ts/anthropic-format, the mapping
// the provider and the gateway's /v1/messages use.
let errorCounter = 0;
function anthropicError(type: AnthropicErrorType, message: string): AnthropicErrorBody {
  return messagesErrorBody(type, message, `req_loopback${String(++errorCounter).padStart(6, "0")}`);
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
        body: anthropicError(
          "permission_error",
          spec.message ?? "Your API key does not have permission to use the specified resource.",
        ),
      };
    case "not-found":
      return { status, body: anthropicError("not_found_error", spec.message ?? "Not found") };
    case "context-length":
      return {
        status: 400,
        body: anthropicError(
          "invalid_request_error",
          spec.message ?? "prompt is too long: 208310 tokens > 200000 maximum",
        ),
      };
    case "bad-request":
      return {
        status,
        body: anthropicError(
          status === 413 ? "request_too_large" : "invalid_request_error",
          spec.message ?? "Invalid request",
        ),
      };
    case "overloaded":
      return { status, body: anthropicError("overloaded_error", spec.message ?? "Overloaded") };
    case "unavailable":
    case "server-error":
      return { status, body: anthropicError("api_error", spec.message ?? "Internal server error") };
  }
}

/**
 * A scripted finish reason on the wire: the unified names are mapped (`stop` → `end_turn`,
 * `tool-calls` → `tool_use`…); anything else is sent as it is, so tests can script any raw reason.
 */
export function anthropicFinishReason(reason: string): string {
  return UNIFIED.has(reason) ? toStopReason(reason as Parameters<typeof toStopReason>[0]) : reason;
}
const UNIFIED = new Set(["stop", "length", "tool-calls", "content-filter"]);

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

/** A reply as the API ends it: a scripted text that meets one of `stop_sequences` stops before it. */
export type AnthropicReply = ResolvedReply & { stopSequence?: string };

function stopAtSequence(reply: ResolvedReply, stopSequences: unknown): AnthropicReply {
  if (!Array.isArray(stopSequences) || reply.finishReason !== "end_turn") return reply;
  let at = -1;
  let matched: string | undefined;
  for (const sequence of stopSequences) {
    if (typeof sequence !== "string" || sequence === "") continue;
    const i = reply.text.indexOf(sequence);
    if (i >= 0 && (at < 0 || i < at)) {
      at = i;
      matched = sequence;
    }
  }
  if (matched === undefined) return reply;
  const text = reply.text.slice(0, at);
  return { ...reply, text, chunks: splitWordChunks(text), finishReason: "stop_sequence", stopSequence: matched };
}

/** The finish reason to write: the wire's own string, or with the stop sequence that matched. */
function finishOf(reply: AnthropicReply): FinishReason | MessagesStopReason {
  return reply.stopSequence === undefined
    ? (reply.finishReason as MessagesStopReason)
    : { unified: "stop", raw: "stop_sequence", stopSequence: reply.stopSequence };
}

function usageOf(reply: ResolvedReply): Usage | undefined {
  // Anthropic always reports usage; `usage: null` leaves the counts out (an empty object keeps
  // the SDK's stream accumulator working) so callers can test "unknown, not 0".
  if (!reply.usage) return undefined;
  return { ...reply.usage, cacheWriteInputTokens: 0, cacheReadInputTokens: reply.usage.cacheReadInputTokens ?? 0 };
}

/** The real event sequence of a streamed Message. Tool input comes in pieces (an empty one first, as the API sends). */
export function anthropicStreamFrames(reply: AnthropicReply, id: string, model: string): string[] {
  const encoder = new MessagesStreamEncoder({ id, model });
  const usage = usageOf(reply);
  // The API's message_start carries the prompt's counts and a placeholder of 1 output token.
  const events: MessagesStreamEvent[] = [
    encoder.start(
      usage
        ? {
            input_tokens: (usage.inputTokens ?? 0) - (usage.cacheReadInputTokens ?? 0),
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: usage.cacheReadInputTokens ?? 0,
            output_tokens: 1,
          }
        : {},
    ),
  ];
  // Thinking comes first (a block scripted after tool calls, after them): each block's text in
  // pieces, then its signature (a redacted block whole).
  const thinkingAfter = (calls: number) => {
    for (const part of reply.reasoning) {
      if (Math.min(part.afterToolCalls ?? 0, reply.toolCalls.length) !== calls) continue;
      if (part.redactedData !== undefined)
        events.push(...encoder.reasoning({ text: "", redactedData: part.redactedData }));
      else {
        for (const piece of part.chunks) events.push(...encoder.reasoning({ text: piece }));
        events.push(...encoder.reasoning({ text: "", signature: part.signature ?? signatureOf(part.text) }));
      }
    }
  };
  thinkingAfter(0);
  if (reply.text !== "" || reply.toolCalls.length === 0) {
    events.push(...encoder.openText());
    for (const piece of reply.chunks) events.push(...encoder.text(piece));
  }
  // A scripted call's arguments are sent verbatim (they may be deliberately invalid JSON).
  reply.toolCalls.forEach((call, i) => {
    events.push(
      ...encoder.toolCall({ id: call.id, name: call.name, arguments: call.argumentsObject }, [
        "",
        ...splitIntoPieces(call.argumentsJson, 3),
      ]),
    );
    thinkingAfter(i + 1);
  });
  events.push(...encoder.finish(finishOf(reply), usage && { outputTokens: usage.outputTokens }));
  // A ping follows the first block's start, as on the real API.
  const first = events.findIndex((e) => e.type === "content_block_start");
  events.splice(first + 1, 0, encoder.ping());
  return events.map(sseEvent);
}

function signedPart(part: ResolvedReply["reasoning"][number]): ReasoningPart {
  const signed: ReasoningPart =
    part.redactedData !== undefined
      ? { type: "reasoning", text: "", redactedData: part.redactedData }
      : { type: "reasoning", text: part.text, signature: part.signature ?? signatureOf(part.text) };
  if (part.afterToolCalls !== undefined && part.afterToolCalls > 0) signed.afterToolCalls = part.afterToolCalls;
  return signed;
}

function keyMatches(req: IncomingMessage, apiKey: string): boolean {
  return req.headers["x-api-key"] === apiKey || req.headers.authorization === `Bearer ${apiKey}`;
}

async function serveMessages(
  ctx: LoopbackContext,
  options: { models: readonly string[] | undefined; requireVersionHeader: boolean; issued: Issued },
): Promise<void> {
  const parsed = await readRequest(ctx, options, ctx.body);
  if (parsed === undefined) return;
  const badId = toolIdProblem(parsed.body);
  if (badId !== undefined) {
    await ctx.sendError({ status: 400, kind: "bad-request", message: badId });
    return;
  }
  const thinking = thinkingEnabled(parsed.body);
  if (thinking) {
    const problem = thinkingProblem(parsed.body, options.issued);
    if (problem !== undefined) {
      await ctx.sendError({ status: 400, kind: "bad-request", message: problem });
      return;
    }
  }
  const resolved = await ctx.resolveReply(parsed);
  // Like the API: reasoning only when the request turned thinking on.
  const reply = stopAtSequence(thinking ? resolved : { ...resolved, reasoning: [] }, parsed.body["stop_sequences"]);
  // Every signed block, with its place (a scripted signature is this server's to accept when the block comes back).
  for (const part of reply.reasoning)
    options.issued.set(
      issuedKey(part.signature ?? signatureOf(part.text), part.text, part.redactedData),
      Math.min(part.afterToolCalls ?? 0, reply.toolCalls.length),
    );
  const id = ctx.nextId("msg_loopback");
  if (!parsed.stream) {
    const output = {
      reasoning: reply.reasoning.map(signedPart),
      text: reply.text,
      toolCalls: reply.toolCalls.map((call) => ({ id: call.id, name: call.name, arguments: call.argumentsObject })),
      finishReason: finishOf(reply),
    };
    const usage = usageOf(reply);
    const message = toMessagesResponse(usage ? { ...output, usage } : output, { id, model: parsed.model });
    // Unknown counts are left out rather than written as 0, so tests can script "not reported".
    await ctx.sendJson(200, usage ? message : { ...message, usage: {} });
    return;
  }
  await ctx.sendStream({
    contentType: "text/event-stream; charset=utf-8",
    frames: anthropicStreamFrames(reply, id, parsed.model),
    terminalFrames: 1,
    malformedFrame: 'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {\n\n',
  });
}

// The fields a count_tokens body may have; the API refuses any other (max_tokens, stream, sampling…).
const COUNT_FIELDS = new Set([
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
  "mcp_servers",
  "context_management",
]);

/** The checks every Messages endpoint makes (the version header, the body, a known model); undefined once it answered an error. */
async function readRequest(
  ctx: LoopbackContext,
  options: { models: readonly string[] | undefined; requireVersionHeader: boolean },
  body: Record<string, unknown>,
): Promise<ReplyRequest | undefined> {
  if (options.requireVersionHeader && ctx.req.headers["anthropic-version"] === undefined) {
    await ctx.sendError({ status: 400, kind: "bad-request", message: "anthropic-version: header is required" });
    return undefined;
  }
  const parsed = parseMessagesRequest(ctx.url.pathname, body);
  if (typeof parsed === "string") {
    await ctx.sendError({ status: 400, kind: "bad-request", message: parsed });
    return undefined;
  }
  if (options.models && !options.models.includes(parsed.model)) {
    await ctx.sendError({ status: 404, kind: "not-found", message: `model: ${parsed.model}` });
    return undefined;
  }
  return parsed;
}

/**
 * `POST /v1/messages/count_tokens`: `{ input_tokens }`, counted as this server counts a call's
 * prompt (words of the system prompt and the messages), so a count matches the usage of the call.
 */
async function serveCountTokens(
  ctx: LoopbackContext,
  options: { models: readonly string[] | undefined; requireVersionHeader: boolean },
): Promise<void> {
  const extra = Object.keys(ctx.body).find((key) => !COUNT_FIELDS.has(key));
  if (extra !== undefined) {
    await ctx.sendError({ status: 400, kind: "bad-request", message: `${extra}: Extra inputs are not permitted` });
    return;
  }
  // A count has no max_tokens; the rest is read as a Messages body is.
  const parsed = await readRequest(ctx, options, { ...ctx.body, max_tokens: 1 });
  if (parsed === undefined) return;
  await ctx.sendJson(200, { input_tokens: parsed.messages.reduce((sum, m) => sum + countWords(m.content), 0) });
}

/**
 * An Anthropic Messages server: `POST /v1/messages` (JSON, and SSE with message_start,
 * content_block_start, ping, content_block_delta, content_block_stop, message_delta, message_stop)
 * `POST /v1/messages/count_tokens`, and `GET /v1/models` for health.
 */
export async function startAnthropicServer(options: AnthropicServerOptions = {}): Promise<AnthropicServer> {
  const { apiKey, models } = options;
  const listed = models ?? ["claude-sonnet-4-6"];
  const requireVersionHeader = options.requireVersionHeader ?? true;
  const issued: Issued = new Map();
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
        handle: (ctx) => serveMessages(ctx, { models, requireVersionHeader, issued }),
      },
      {
        method: "POST",
        path: "/v1/messages/count_tokens",
        handle: (ctx) => serveCountTokens(ctx, { models, requireVersionHeader }),
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

export { signatureOf };
