import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { isRecord, parseMaybeJson, readBody } from "../internal/http";
import { FaultPlan, type StreamFault, emptyFaultCounts, statusFaultHeaders } from "./faults";
import {
  type LoopbackHandler,
  type LoopbackServer,
  type RecordedRequest,
  type ResponseWriter,
  type ServerStats,
  createContext,
  errorKindForStatus,
  pathMatches,
  writeError,
} from "./handler";
import type { ReplyFunction } from "./scripted-replies";

// The server: one listener, request recording, stats, the down switch and the faults served before
// a route runs (latency, status, drop, hang, context length). What a protocol plugs in is in
// handler.ts, the faults in faults.ts, the scripted replies in scripted-replies.ts.

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

const freshStats = (): ServerStats => ({
  requests: 0,
  inferenceRequests: 0,
  successes: 0,
  faults: emptyFaultCounts(),
  down: 0,
  unauthorized: 0,
});

/**
 * Starts a loopback HTTP server on 127.0.0.1 (random port) that serves `handler`'s routes with
 * the shared fault injection, down switch, request recording and stats.
 */
export async function startLoopbackServer(
  handler: LoopbackHandler,
  options: LoopbackServerOptions = {},
): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const used = new WeakSet<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const requests: RecordedRequest[] = [];
  const faults = new FaultPlan();
  let down = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let reply = options.reply;
  let idCounter = 0;
  let active = 0;
  let stats = freshStats();
  const baseLatencyMs = options.latencyMs ?? 0;
  const faultTargets = options.faultTargets ?? "inference";

  const writer: ResponseWriter = {
    get server() {
      return server;
    },
    handler,
    chunkDelayMs: options.chunkDelayMs ?? 0,
    get closed() {
      return closed;
    },
    get reply() {
      return reply;
    },
    nextId: (prefix) => `${prefix}${String(++idCounter).padStart(6, "0")}`,
    sleep: (ms) =>
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
      }),
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
        req.socket.destroy();
        return;
      }
      await writeError(writer, res, handler.renderError({ status: 503, kind: "unavailable" }));
      return;
    }

    const route = handler.routes.find((r) => r.method === recorded.method && pathMatches(r.path, url.pathname));
    if (!route) {
      await writeError(
        writer,
        res,
        handler.renderError({
          status: 404,
          kind: "not-found",
          message: `Invalid URL (${recorded.method} ${url.pathname})`,
        }),
      );
      return;
    }
    if (!route.public && handler.authenticate && !handler.authenticate(req)) {
      stats.unauthorized++;
      await writeError(writer, res, handler.renderError({ status: 401, kind: "authentication" }));
      return;
    }
    if (route.inference) stats.inferenceRequests++;
    const fault = route.inference || faultTargets === "all" ? faults.take() : undefined;
    recorded.fault = fault;
    if (fault) stats.faults[fault.type]++;

    await writer.sleep(baseLatencyMs + (fault?.type === "latency" ? fault.ms : 0));
    if (closed || res.destroyed) return;

    switch (fault?.type) {
      case "drop":
        req.socket.destroy();
        return;
      case "hang":
        // Nothing is written; close() or the client's abort destroys the socket.
        return;
      case "status": {
        const rendered = handler.renderError({
          status: fault.status,
          kind: errorKindForStatus(fault.status),
          ...(fault.message !== undefined ? { message: fault.message } : {}),
        });
        const body = fault.body !== undefined ? fault.body : rendered.body;
        await writeError(
          writer,
          res,
          { ...rendered, status: fault.status, body },
          statusFaultHeaders(fault, handler.retryAfterMsHeader),
        );
        return;
      }
      case "context-length":
        await writeError(writer, res, handler.renderError({ status: 400, kind: "context-length" }));
        return;
      default:
        break;
    }

    const streamFault: StreamFault | undefined =
      fault?.type === "cut-stream" || fault?.type === "malformed-chunk" ? fault : undefined;
    const { ctx, faultApplied } = createContext(writer, {
      req,
      res,
      url,
      request: recorded,
      body: isRecord(parsed) ? parsed : {},
      fault: streamFault,
    });
    try {
      await route.handle(ctx);
    } catch (error) {
      if (!res.headersSent) {
        await writeError(
          writer,
          res,
          handler.renderError({
            status: 500,
            kind: "server-error",
            message: `loopback handler failed: ${String(error)}`,
          }),
        );
      } else {
        res.destroy();
      }
      return;
    }
    if (!faultApplied() && res.statusCode < 400 && res.writableFinished) stats.successes++;
  };

  const onResponseClosed = () => {
    active--;
  };
  const httpServer = createServer((req, res) => {
    active++;
    used.add(req.socket);
    res.once("close", onResponseClosed);
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
    get openConnections(): number {
      return sockets.size;
    },
    get usedConnections(): number {
      let count = 0;
      for (const socket of sockets) if (used.has(socket)) count++;
      return count;
    },
    get activeRequests(): number {
      return active;
    },
    get pendingFaults(): number {
      return faults.pending;
    },
    get isDown(): boolean {
      return down;
    },
    enqueueFault(fault) {
      faults.enqueue([fault]);
    },
    enqueueFaults(next) {
      faults.enqueue(next);
    },
    setFaultRates(rates, seed = 1) {
      faults.setRates(rates, seed);
    },
    clearFaults() {
      faults.clear();
    },
    setDown(value) {
      down = value;
    },
    setReply(next) {
      reply = next;
    },
    resetStats() {
      stats = freshStats();
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
