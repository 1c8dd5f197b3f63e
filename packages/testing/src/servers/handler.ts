import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Fault, FaultRates, FaultType, StreamFault } from "./faults";
import {
  type ReplyFunction,
  type ReplyRequest,
  type ResolvedReply,
  type ScriptedReply,
  resolveScriptedReply,
} from "./scripted-replies";

// What a protocol plugs into the loopback server (routes, error bodies, auth) and what its routes get
// (a context that writes JSON, errors and streams with the request's stream fault applied).

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

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` (no trailing slash, no `/v1`). */
  readonly url: string;
  readonly port: number;
  readonly protocol: string;
  /** Every request received, in order. Mutable: tests may clear it with `length = 0`. */
  readonly requests: RecordedRequest[];
  /** A snapshot of the counters. */
  readonly stats: ServerStats;
  /** Connections open now (a client that leaked a socket keeps this above 0). */
  readonly openConnections: number;
  /**
   * Open connections that have carried a request. A client's pool may also hold connections it
   * opened ahead of need and has not used yet (undici does after a socket closes under a queued
   * call): those count in `openConnections` only. An aborted call whose socket stays open keeps
   * this above 0.
   */
  readonly usedConnections: number;
  /** Requests whose response has not closed yet (a leaked upstream request keeps this above 0). */
  readonly activeRequests: number;
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

export function pathMatches(pattern: LoopbackRoute["path"], path: string): boolean {
  if (typeof pattern === "string") return pattern === path;
  if (pattern instanceof RegExp) return pattern.test(path);
  return (pattern as readonly string[]).includes(path);
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

const end = (res: ServerResponse, data?: string): Promise<void> =>
  new Promise<void>((resolve) => (data === undefined ? res.end(() => resolve()) : res.end(data, () => resolve())));

/** What a response needs of its server: the protocol, ids, pacing, and whether it is closing. */
export interface ResponseWriter {
  readonly server: LoopbackServer;
  readonly handler: LoopbackHandler;
  readonly chunkDelayMs: number;
  readonly closed: boolean;
  readonly reply: ReplyFunction | undefined;
  nextId(prefix: string): string;
  sleep(ms: number): Promise<void>;
}

function requestIdHeaders(writer: ResponseWriter): Record<string, string> {
  const { handler } = writer;
  return handler.requestIdHeader ? { [handler.requestIdHeader]: writer.nextId(handler.requestIdPrefix ?? "req_") } : {};
}

/** Writes a rendered error (JSON, or text for a string body) unless a response is already under way. */
export async function writeError(
  writer: ResponseWriter,
  res: ServerResponse,
  rendered: RenderedError,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  const isText = typeof rendered.body === "string";
  const payload = isText ? (rendered.body as string) : JSON.stringify(rendered.body);
  res.writeHead(rendered.status, {
    "content-type": isText ? "text/plain; charset=utf-8" : "application/json",
    "content-length": String(Buffer.byteLength(payload)),
    ...requestIdHeaders(writer),
    ...rendered.headers,
    ...extraHeaders,
  });
  await end(res, payload);
}

/**
 * The context a route handles one request with. Its writers apply the request's stream fault (a
 * cut or a garbage frame); `faultApplied()` says whether they did (such a reply is not a success).
 */
export function createContext(
  writer: ResponseWriter,
  exchange: {
    req: IncomingMessage;
    res: ServerResponse;
    url: URL;
    request: RecordedRequest;
    body: Record<string, unknown>;
    fault: StreamFault | undefined;
  },
): { ctx: LoopbackContext; faultApplied: () => boolean } {
  const { req, res, fault: streamFault } = exchange;
  let faultApplied = false;
  const ctx: LoopbackContext = {
    server: writer.server,
    req,
    res,
    url: exchange.url,
    request: exchange.request,
    body: exchange.body,
    fault: streamFault,
    chunkDelayMs: writer.chunkDelayMs,
    nextId: (prefix) => writer.nextId(prefix),
    async sendJson(status, payload, headers = {}) {
      if (res.headersSent || res.destroyed) return;
      const text = JSON.stringify(payload);
      const baseHeaders = { "content-type": "application/json", ...requestIdHeaders(writer), ...headers };
      if (streamFault && status < 400) {
        faultApplied = true;
        if (streamFault.type === "malformed-chunk") {
          const garbage = streamFault.payload ?? `${text.slice(0, Math.floor(text.length / 2))}<<garbage`;
          res.writeHead(status, { ...baseHeaders, "content-length": String(Buffer.byteLength(garbage)) });
          await end(res, garbage);
          return;
        }
        // A truncated body: the declared length is never reached, then the socket goes.
        res.writeHead(status, { ...baseHeaders, "content-length": String(Buffer.byteLength(text)) });
        await writeAndFlush(res, text.slice(0, Math.floor(text.length / 2)));
        res.socket?.destroy();
        return;
      }
      res.writeHead(status, { ...baseHeaders, "content-length": String(Buffer.byteLength(text)) });
      await end(res, text);
    },
    async sendText(status, text, contentType = "text/plain; charset=utf-8") {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { "content-type": contentType, "content-length": String(Buffer.byteLength(text)) });
      await end(res, text);
    },
    async sendError(spec) {
      await writeError(writer, res, writer.handler.renderError(spec));
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
        ...requestIdHeaders(writer),
        ...spec.headers,
      });
      res.flushHeaders();
      const limit = cut ? Math.min(Math.max(0, cut.afterChunks), contentFrames) : spec.frames.length;
      const garbageAt = malformed ? Math.min(Math.max(0, malformed.afterChunks), contentFrames) : -1;
      for (let i = 0; i <= spec.frames.length; i++) {
        if (writer.closed || res.destroyed) return;
        if (i === garbageAt && malformed) {
          faultApplied = true;
          await writeAndFlush(res, malformed.payload ?? spec.malformedFrame);
        }
        if (i >= limit || i === spec.frames.length) break;
        if (writer.chunkDelayMs > 0 && i > 0) await writer.sleep(writer.chunkDelayMs);
        const frame = spec.frames[i];
        if (frame !== undefined) await writeAndFlush(res, frame);
      }
      if (writer.closed || res.destroyed) return;
      if (cut) {
        faultApplied = true;
        if (cut.mode === "destroy") {
          res.socket?.destroy();
          return;
        }
      }
      await end(res);
    },
    async resolveReply(request) {
      const reply = writer.reply;
      const spec: ScriptedReply = reply ? await reply(request) : {};
      return resolveScriptedReply(spec, request, writer.handler, writer.nextId);
    },
  };
  return { ctx, faultApplied: () => faultApplied };
}
