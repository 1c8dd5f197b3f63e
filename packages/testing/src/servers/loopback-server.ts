import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { isRecord, parseMaybeJson, readBody } from "../internal/http";
import { seededRandom } from "@orchestrator-ts/core";
import { countWords, splitWordChunks } from "../internal/text";

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

/** Delay this response by `ms`, then reply normally. */
export interface LatencyFault {
  type: "latency";
  ms: number;
}

/** Reply with an HTTP error rendered in the protocol's own documented error body. */
export interface StatusFault {
  type: "status";
  status: number;
  /** Sent as `retry-after` (seconds). A 429 without either field gets `retry-after: 1`. */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms` by protocols whose SDK reads it (OpenAI); also sets `retry-after`. */
  retryAfterMs?: number;
  /** Overrides the protocol's default error message. */
  message?: string;
  /** Replaces the whole rendered body (an object is sent as JSON, a string as is). */
  body?: unknown;
  /** Extra response headers, e.g. `{ "x-should-retry": "false" }`. */
  headers?: Record<string, string>;
}

/** Destroy the socket without writing any response. */
export interface DropFault {
  type: "drop";
}

/**
 * End a streamed reply after `afterChunks` frames (SSE events / NDJSON lines) without the
 * protocol's terminator. `mode: "end"` (default) ends the HTTP response cleanly and closes the
 * connection, so only the missing terminator tells; `mode: "destroy"` resets the socket, which
 * clients surface as a network error. A non-streamed reply gets a truncated JSON body instead.
 */
export interface CutStreamFault {
  type: "cut-stream";
  afterChunks: number;
  mode?: "end" | "destroy";
}

/** Insert a garbage frame after `afterChunks` frames (non-streamed replies: a garbage body). */
export interface MalformedChunkFault {
  type: "malformed-chunk";
  afterChunks: number;
  /** The garbage; defaults to the protocol's framing around `{"broken": `. */
  payload?: string;
}

/** The provider's real "context length exceeded" error. */
export interface ContextLengthFault {
  type: "context-length";
}

/** Never respond: the request stays open until the client aborts or the server closes. */
export interface HangFault {
  type: "hang";
}

export type Fault =
  | LatencyFault
  | StatusFault
  | DropFault
  | CutStreamFault
  | MalformedChunkFault
  | ContextLengthFault
  | HangFault;

export type FaultType = Fault["type"];

/** Stream-shaping faults: the only ones a route handler sees; the others are served before it. */
export type StreamFault = CutStreamFault | MalformedChunkFault;

/** Probabilities (0..1, checked in this order) for random faults, drawn from a seeded PRNG. */
export interface FaultRates {
  rateLimit?: number;
  serverError?: number;
  drop?: number;
  cutStream?: number;
  /** `retry-after` on random 429s (default 0, so retrying clients stay fast). */
  retryAfterSeconds?: number;
  /** Status of random server errors (default 500). */
  serverErrorStatus?: number;
  /** Frames delivered before a random cut (default 2). */
  cutAfterChunks?: number;
  cutMode?: "end" | "destroy";
}

export const FAULT_TYPES: readonly FaultType[] = [
  "latency",
  "status",
  "drop",
  "cut-stream",
  "malformed-chunk",
  "context-length",
  "hang",
];

// ---------------------------------------------------------------------------------------------
// Records and stats
// ---------------------------------------------------------------------------------------------

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string including `?`, or "". */
  query: string;
  /** Lower-cased header names, as Node gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** The fault served to this request, if any. */
  fault: Fault | undefined;
  receivedAt: number;
}

export interface ServerStats {
  /** Every request received. */
  requests: number;
  /** Requests to inference routes (chat, messages, generate, pull). */
  inferenceRequests: number;
  /** Requests answered with a complete 2xx reply (latency faults still count as successes). */
  successes: number;
  /** Faults served, per kind. */
  faults: Record<FaultType, number>;
  /** Requests refused because the server was down. */
  down: number;
  /** Requests refused with 401 by the key check. */
  unauthorized: number;
}

// ---------------------------------------------------------------------------------------------
// Scripted replies
// ---------------------------------------------------------------------------------------------

/** Unified finish reasons; each protocol maps them to its own (`tool-calls` -> `tool_use`...). */
export type FinishReason = "stop" | "length" | "tool-calls" | "content-filter";

export interface ReplyToolCall {
  id?: string;
  name: string;
  /** An object, or a JSON string sent verbatim (it may be deliberately invalid). */
  arguments: Record<string, unknown> | string;
}

export interface ReplyUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ScriptedReply {
  text?: string;
  toolCalls?: ReplyToolCall[];
  /** `null`: the server omits usage from the reply. Omitted: whitespace-word counts. */
  usage?: ReplyUsage | null;
  /** A unified reason, or any raw string sent verbatim. */
  finishReason?: FinishReason | (string & {});
}

export interface ChatMessage {
  role: string;
  /** The message's text parts joined (tool results included). */
  content: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: unknown;
}

export interface ReplyRequest {
  protocol: string;
  path: string;
  model: string;
  messages: ChatMessage[];
  lastUserText: string;
  tools: ToolDefinition[];
  stream: boolean;
  maxTokens: number | undefined;
  /** The request asked for JSON output (response_format / format). */
  jsonMode: boolean;
  body: Record<string, unknown>;
}

export type ReplyFunction = (request: ReplyRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface ResolvedToolCall {
  id: string;
  name: string;
  argumentsJson: string;
  /** The arguments as an object ({} when the JSON string does not parse to an object). */
  argumentsObject: Record<string, unknown>;
}

export interface ResolvedReply {
  text: string;
  /** Word chunks whose concatenation is exactly `text`. */
  chunks: string[];
  toolCalls: ResolvedToolCall[];
  usage: ReplyUsage | null;
  /** Already mapped to the protocol's own finish reason. */
  finishReason: string;
}

// ---------------------------------------------------------------------------------------------
// Protocol plumbing
// ---------------------------------------------------------------------------------------------

export type ErrorKind =
  | "rate-limit"
  | "server-error"
  | "unavailable"
  | "overloaded"
  | "authentication"
  | "permission"
  | "not-found"
  | "bad-request"
  | "context-length";

export interface ErrorSpec {
  status: number;
  kind: ErrorKind;
  message?: string;
  model?: string;
}

export interface RenderedError {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface StreamSpec {
  contentType: string;
  /** Serialized frames: whole SSE events or NDJSON lines, each with its trailing newline(s). */
  frames: string[];
  /** How many trailing frames form the terminator (never sent by a cut stream). */
  terminalFrames: number;
  /** What a malformed-chunk fault inserts when it has no payload of its own. */
  malformedFrame: string;
  headers?: Record<string, string>;
}

export interface LoopbackContext {
  readonly server: LoopbackServer;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly request: RecordedRequest;
  /** The JSON body when it is an object, else {}. */
  readonly body: Record<string, unknown>;
  /** The stream-shaping fault for this request, if any (applied by sendJson/sendStream). */
  readonly fault: StreamFault | undefined;
  readonly chunkDelayMs: number;
  sendJson(status: number, body: unknown, headers?: Record<string, string>): Promise<void>;
  sendText(status: number, text: string, contentType?: string): Promise<void>;
  sendError(spec: ErrorSpec): Promise<void>;
  sendStream(spec: StreamSpec): Promise<void>;
  /** Runs the scripted (or default) reply and resolves ids, usage, chunks, finish reason. */
  resolveReply(request: ReplyRequest): Promise<ResolvedReply>;
  /** Deterministic per-server ids: `${prefix}000001`. */
  nextId(prefix: string): string;
}

export interface LoopbackRoute {
  method: "GET" | "POST" | "DELETE" | "HEAD";
  path: string | readonly string[] | RegExp;
  /** Faults apply to inference routes (unless the server's faultTargets is "all"). */
  inference?: boolean;
  /** Served without the key check (e.g. TGI `/health`). */
  public?: boolean;
  handle(ctx: LoopbackContext): void | Promise<void>;
}

/** What a protocol plugs into the shared machinery. Third parties can write their own. */
export interface LoopbackHandler {
  protocol: string;
  routes: readonly LoopbackRoute[];
  renderError(spec: ErrorSpec): RenderedError;
  /** Return false to answer 401 (rendered by renderError). */
  authenticate?(req: IncomingMessage): boolean;
  /** Whether 429s also carry `retry-after-ms`. */
  retryAfterMsHeader?: boolean;
  /** Header carrying a per-response request id (e.g. `x-request-id`). */
  requestIdHeader?: string;
  requestIdPrefix?: string;
  toolCallIdPrefix: string;
  mapFinishReason(reason: string): string;
}

export interface LoopbackServerOptions {
  /** Added before every response (health endpoints included). */
  latencyMs?: number;
  /** Delay between streamed frames. */
  chunkDelayMs?: number;
  /** Scripted replies; default `"Echo: " + lastUserText`. */
  reply?: ReplyFunction;
  /** What a down server does: answer 503 (default) or drop the connection. */
  downBehavior?: "status" | "drop";
  /** Which routes faults apply to: inference routes (default) or every route. */
  faultTargets?: "inference" | "all";
}

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` (no trailing slash, no `/v1`). */
  readonly url: string;
  readonly port: number;
  readonly protocol: string;
  /** Every request received, in order. Mutable: tests may clear it with `length = 0`. */
  readonly requests: RecordedRequest[];
  /** A snapshot of the counters. */
  readonly stats: ServerStats;
  /** Faults still queued. */
  readonly pendingFaults: number;
  readonly isDown: boolean;
  /** Queue a fault for the next inference request; `null` queues a normal reply. */
  enqueueFault(fault: Fault | null): void;
  enqueueFaults(faults: readonly (Fault | null)[]): void;
  /** Random faults for requests with no queued fault; same seed, same sequence. */
  setFaultRates(rates: FaultRates, seed?: number): void;
  /** Clears the queue and the random rates. */
  clearFaults(): void;
  setDown(down: boolean): void;
  setReply(reply: ReplyFunction | undefined): void;
  resetStats(): void;
  /** Closes the listener and destroys every open socket. Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

export function errorKindForStatus(status: number): ErrorKind {
  if (status === 429) return "rate-limit";
  if (status === 401) return "authentication";
  if (status === 403) return "permission";
  if (status === 404) return "not-found";
  if (status === 529) return "overloaded";
  if (status === 503) return "unavailable";
  if (status >= 500) return "server-error";
  return "bad-request";
}

function emptyFaultCounts(): Record<FaultType, number> {
  const counts = {} as Record<FaultType, number>;
  for (const type of FAULT_TYPES) counts[type] = 0;
  return counts;
}

function writeAndFlush(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) {
      resolve();
      return;
    }
    const onClose = (): void => resolve();
    res.once("close", onClose);
    res.write(data, () => {
      res.off("close", onClose);
      resolve();
    });
  });
}

function pathMatches(pattern: LoopbackRoute["path"], path: string): boolean {
  if (typeof pattern === "string") return pattern === path;
  if (pattern instanceof RegExp) return pattern.test(path);
  return (pattern as readonly string[]).includes(path);
}

/**
 * Starts a loopback HTTP server on 127.0.0.1 (random port) that serves `handler`'s routes with
 * the shared fault injection, down switch, request recording and stats.
 */
export async function startLoopbackServer(
  handler: LoopbackHandler,
  options: LoopbackServerOptions = {},
): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const requests: RecordedRequest[] = [];
  const queue: (Fault | null)[] = [];
  let rates: FaultRates | undefined;
  let random: () => number = Math.random;
  let down = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let reply = options.reply;
  let idCounter = 0;
  let stats: ServerStats = {
    requests: 0,
    inferenceRequests: 0,
    successes: 0,
    faults: emptyFaultCounts(),
    down: 0,
    unauthorized: 0,
  };
  const baseLatencyMs = options.latencyMs ?? 0;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const faultTargets = options.faultTargets ?? "inference";

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0 || closed) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const nextId = (prefix: string): string => `${prefix}${String(++idCounter).padStart(6, "0")}`;

  const takeFault = (): Fault | undefined => {
    if (queue.length > 0) return queue.shift() ?? undefined;
    if (!rates) return undefined;
    let r = random();
    const pick = (p: number | undefined): boolean => {
      const probability = p ?? 0;
      if (r < probability) return true;
      r -= probability;
      return false;
    };
    if (pick(rates.rateLimit)) {
      return { type: "status", status: 429, retryAfterSeconds: rates.retryAfterSeconds ?? 0 };
    }
    if (pick(rates.serverError)) return { type: "status", status: rates.serverErrorStatus ?? 500 };
    if (pick(rates.drop)) return { type: "drop" };
    if (pick(rates.cutStream)) {
      return { type: "cut-stream", afterChunks: rates.cutAfterChunks ?? 2, mode: rates.cutMode ?? "end" };
    }
    return undefined;
  };

  const destroy = (req: IncomingMessage): void => {
    req.socket.destroy();
  };

  const errorResponse = (spec: ErrorSpec): RenderedError => {
    const rendered = handler.renderError(spec);
    return rendered;
  };

  const writeError = async (
    res: ServerResponse,
    rendered: RenderedError,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> => {
    if (res.headersSent || res.destroyed) return;
    const isText = typeof rendered.body === "string";
    const payload = isText ? (rendered.body as string) : JSON.stringify(rendered.body);
    res.writeHead(rendered.status, {
      "content-type": isText ? "text/plain; charset=utf-8" : "application/json",
      "content-length": String(Buffer.byteLength(payload)),
      ...requestIdHeaders(),
      ...rendered.headers,
      ...extraHeaders,
    });
    await new Promise<void>((resolve) => res.end(payload, () => resolve()));
  };

  const requestIdHeaders = (): Record<string, string> =>
    handler.requestIdHeader ? { [handler.requestIdHeader]: nextId(handler.requestIdPrefix ?? "req_") } : {};

  const statusFaultHeaders = (fault: StatusFault): Record<string, string> => {
    const headers: Record<string, string> = {};
    let seconds = fault.retryAfterSeconds;
    if (seconds === undefined && fault.retryAfterMs !== undefined) seconds = Math.ceil(fault.retryAfterMs / 1000);
    if (seconds === undefined && fault.status === 429) seconds = 1;
    if (seconds !== undefined) {
      headers["retry-after"] = String(seconds);
      if (handler.retryAfterMsHeader) headers["retry-after-ms"] = String(fault.retryAfterMs ?? seconds * 1000);
    }
    return { ...headers, ...fault.headers };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.on("error", () => {
      /* the client went away; nothing to report */
    });
    stats.requests++;
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const parsed = parseMaybeJson(rawBody);
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.search,
      headers: req.headers,
      body: parsed,
      fault: undefined,
      receivedAt: Date.now(),
    };
    requests.push(recorded);

    if (down) {
      stats.down++;
      if (options.downBehavior === "drop") {
        destroy(req);
        return;
      }
      await writeError(res, errorResponse({ status: 503, kind: "unavailable" }));
      return;
    }

    const route = handler.routes.find((r) => r.method === recorded.method && pathMatches(r.path, url.pathname));
    if (!route) {
      await writeError(
        res,
        errorResponse({ status: 404, kind: "not-found", message: `Invalid URL (${recorded.method} ${url.pathname})` }),
      );
      return;
    }
    if (!route.public && handler.authenticate && !handler.authenticate(req)) {
      stats.unauthorized++;
      await writeError(res, errorResponse({ status: 401, kind: "authentication" }));
      return;
    }
    if (route.inference) stats.inferenceRequests++;
    const fault = route.inference || faultTargets === "all" ? takeFault() : undefined;
    recorded.fault = fault;
    if (fault) stats.faults[fault.type]++;

    await sleep(baseLatencyMs + (fault?.type === "latency" ? fault.ms : 0));
    if (closed || res.destroyed) return;

    switch (fault?.type) {
      case "drop":
        destroy(req);
        return;
      case "hang":
        // Nothing is written; close() or the client's abort destroys the socket.
        return;
      case "status": {
        const rendered = errorResponse({
          status: fault.status,
          kind: errorKindForStatus(fault.status),
          ...(fault.message !== undefined ? { message: fault.message } : {}),
        });
        const body = fault.body !== undefined ? fault.body : rendered.body;
        await writeError(res, { ...rendered, status: fault.status, body }, statusFaultHeaders(fault));
        return;
      }
      case "context-length":
        await writeError(res, errorResponse({ status: 400, kind: "context-length" }));
        return;
      default:
        break;
    }

    const streamFault: StreamFault | undefined =
      fault?.type === "cut-stream" || fault?.type === "malformed-chunk" ? fault : undefined;
    let faultApplied = false;
    const body = isRecord(parsed) ? parsed : {};

    const ctx: LoopbackContext = {
      server,
      req,
      res,
      url,
      request: recorded,
      body,
      fault: streamFault,
      chunkDelayMs,
      nextId,
      async sendJson(status, payload, headers = {}) {
        if (res.headersSent || res.destroyed) return;
        const text = JSON.stringify(payload);
        const baseHeaders = {
          "content-type": "application/json",
          ...requestIdHeaders(),
          ...headers,
        };
        if (streamFault && status < 400) {
          faultApplied = true;
          if (streamFault.type === "malformed-chunk") {
            const garbage = streamFault.payload ?? `${text.slice(0, Math.floor(text.length / 2))}<<garbage`;
            res.writeHead(status, { ...baseHeaders, "content-length": String(Buffer.byteLength(garbage)) });
            await new Promise<void>((resolve) => res.end(garbage, () => resolve()));
            return;
          }
          // A truncated body: the declared length is never reached, then the socket goes.
          res.writeHead(status, { ...baseHeaders, "content-length": String(Buffer.byteLength(text)) });
          await writeAndFlush(res, text.slice(0, Math.floor(text.length / 2)));
          res.socket?.destroy();
          return;
        }
        res.writeHead(status, { ...baseHeaders, "content-length": String(Buffer.byteLength(text)) });
        await new Promise<void>((resolve) => res.end(text, () => resolve()));
      },
      async sendText(status, text, contentType = "text/plain; charset=utf-8") {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(status, { "content-type": contentType, "content-length": String(Buffer.byteLength(text)) });
        await new Promise<void>((resolve) => res.end(text, () => resolve()));
      },
      async sendError(spec) {
        await writeError(res, errorResponse(spec));
      },
      async sendStream(spec) {
        if (res.headersSent || res.destroyed) return;
        const cut = streamFault?.type === "cut-stream" ? streamFault : undefined;
        const malformed = streamFault?.type === "malformed-chunk" ? streamFault : undefined;
        const contentFrames = Math.max(0, spec.frames.length - spec.terminalFrames);
        res.writeHead(200, {
          "content-type": spec.contentType,
          "cache-control": "no-cache",
          // "end" closes the connection after the short body; "destroy" keeps chunked framing so
          // the reset is visible to the client as an incomplete body.
          ...(cut && cut.mode !== "destroy" ? { connection: "close" } : {}),
          ...requestIdHeaders(),
          ...spec.headers,
        });
        res.flushHeaders();
        const limit = cut ? Math.min(Math.max(0, cut.afterChunks), contentFrames) : spec.frames.length;
        const garbageAt = malformed ? Math.min(Math.max(0, malformed.afterChunks), contentFrames) : -1;
        for (let i = 0; i <= spec.frames.length; i++) {
          if (closed || res.destroyed) return;
          if (i === garbageAt && malformed) {
            faultApplied = true;
            await writeAndFlush(res, malformed.payload ?? spec.malformedFrame);
          }
          if (i >= limit || i === spec.frames.length) break;
          if (chunkDelayMs > 0 && i > 0) await sleep(chunkDelayMs);
          const frame = spec.frames[i];
          if (frame !== undefined) await writeAndFlush(res, frame);
        }
        if (closed || res.destroyed) return;
        if (cut) {
          faultApplied = true;
          if (cut.mode === "destroy") {
            res.socket?.destroy();
            return;
          }
        }
        await new Promise<void>((resolve) => res.end(() => resolve()));
      },
      async resolveReply(request) {
        const spec: ScriptedReply = reply ? await reply(request) : {};
        return resolveScriptedReply(spec, request, handler, nextId);
      },
    };

    try {
      await route.handle(ctx);
    } catch (error) {
      if (!res.headersSent) {
        await writeError(
          res,
          errorResponse({ status: 500, kind: "server-error", message: `loopback handler failed: ${String(error)}` }),
        );
      } else {
        res.destroy();
      }
      return;
    }
    if (!faultApplied && res.statusCode < 400 && res.writableFinished) stats.successes++;
  };

  const httpServer = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.destroy();
    });
  });
  // Longer than any idle gap in a benchmark run, so clients never reuse a socket the server is closing.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  httpServer.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;

  const server: LoopbackServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    protocol: handler.protocol,
    requests,
    get stats(): ServerStats {
      return { ...stats, faults: { ...stats.faults } };
    },
    get pendingFaults(): number {
      return queue.length;
    },
    get isDown(): boolean {
      return down;
    },
    enqueueFault(fault) {
      queue.push(fault);
    },
    enqueueFaults(faults) {
      queue.push(...faults);
    },
    setFaultRates(next, seed = 1) {
      rates = { ...next };
      random = seededRandom(seed);
    },
    clearFaults() {
      queue.length = 0;
      rates = undefined;
    },
    setDown(value) {
      down = value;
    },
    setReply(next) {
      reply = next;
    },
    resetStats() {
      stats = { requests: 0, inferenceRequests: 0, successes: 0, faults: emptyFaultCounts(), down: 0, unauthorized: 0 };
    },
    close() {
      if (closing) return closing;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      closing = new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      });
      return closing;
    },
  };
  return server;
}

/** Turns a scripted reply into what every protocol renders. Exported for custom protocols. */
export function resolveScriptedReply(
  spec: ScriptedReply,
  request: ReplyRequest,
  handler: Pick<LoopbackHandler, "toolCallIdPrefix" | "mapFinishReason">,
  nextId: (prefix: string) => string,
): ResolvedReply {
  const scriptedCalls = spec.toolCalls ?? [];
  let text = spec.text;
  if (text === undefined) {
    if (scriptedCalls.length > 0) text = "";
    else text = request.jsonMode ? JSON.stringify({ echo: request.lastUserText }) : `Echo: ${request.lastUserText}`;
  }
  let chunks = splitWordChunks(text);
  let truncated = false;
  if (request.maxTokens !== undefined && spec.finishReason === undefined && chunks.length > request.maxTokens) {
    chunks = chunks.slice(0, Math.max(0, request.maxTokens));
    text = chunks.join("");
    truncated = true;
  }
  const toolCalls: ResolvedToolCall[] = scriptedCalls.map((call) => {
    const argumentsJson = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
    let argumentsObject: Record<string, unknown> = {};
    if (typeof call.arguments === "string") {
      const parsed = parseMaybeJson(call.arguments);
      if (isRecord(parsed)) argumentsObject = parsed;
    } else {
      argumentsObject = call.arguments;
    }
    return { id: call.id ?? nextId(handler.toolCallIdPrefix), name: call.name, argumentsJson, argumentsObject };
  });
  let usage: ReplyUsage | null;
  if (spec.usage === null) usage = null;
  else if (spec.usage !== undefined) usage = spec.usage;
  else {
    usage = {
      inputTokens: request.messages.reduce((sum, m) => sum + countWords(m.content), 0),
      outputTokens: countWords(text) + toolCalls.reduce((sum, c) => sum + countWords(c.argumentsJson), 0),
    };
  }
  const unified = spec.finishReason ?? (truncated ? "length" : toolCalls.length > 0 ? "tool-calls" : "stop");
  return { text, chunks, toolCalls, usage, finishReason: handler.mapFinishReason(unified) };
}

/** Text of the last message with role "user". */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message && message.role === "user") return message.content;
  }
  return "";
}
