import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type InferenceSettings, longestAnswerOf } from "./answer";
import { chatCompletions } from "./chat-completions";
import { anthropicErrorBody, messages } from "./messages";
import { countTokens } from "./count-tokens";
import { responses } from "./responses";
import { type Caller, GatewayError, type Gatekeeper, type ServedOrchestrator, type ServerObserver } from "./contract";
import { DEFAULT_BODY_LIMIT_BYTES, readJson } from "./body";
import { openAIErrorBody, sendError, toGatewayError } from "./errors";
import { Exchange, RATERS_KEPT, type ServerContext } from "./exchange";
import { LruMap, timeLimit } from "@orchestrator-ts/core/internal";
import { feedback, healthz, listModels, readyz } from "./info-endpoints";
import { type ModelInitFailure, initializeModels } from "./initialize";

/** A route of another part of the gateway (`GET /metrics`, the dashboard): matched on method and exact path. */
export interface ServerRoute {
  method: string;
  path: string;
  /** Answers the request; a rejection becomes a 500 in OpenAI's error shape. */
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

/**
 * `/admin/*`, once the caller is authenticated as admin (the master key). Resolves true when it
 * answered, false for a path it does not serve (the server then answers 404).
 */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller) => Promise<boolean>;

/** The options of `createServer`: what is served, where, and the parts other packages plug in. */
export interface CreateServerOptions {
  /** What is served: a registry (and the config it came from). `createOrchestrator()`'s result fits. */
  orchestrator: ServedOrchestrator;
  /** Default `127.0.0.1`; `0.0.0.0` to listen on every interface. */
  host?: string;
  /** Default 4000; 0 picks a free port (read it from `url` after `listen()`). */
  port?: number;
  /** The largest request body; a larger one gets 413 and is not read. Default 4 MiB. */
  bodyLimitBytes?: number;
  /**
   * How long a client has to send a whole request, headers and body (a client trickling bytes
   * holds a connection and its buffered body); past it the server answers 408 and closes the
   * connection, checked every second. Default 66 s: a connection opened ahead of use is bounded by it
   * too, and load balancers close idle ones at 60 s. Answers, streamed or not, are not bounded by it.
   */
  receiveTimeoutMs?: number;
  /** The key gate. Default: none, every request is served anonymously. */
  gatekeeper?: Gatekeeper;
  /** Told about every finished API request (metrics, dashboards). */
  observers?: readonly ServerObserver[];
  /** Serves `/admin/*` for the master key; without it those paths are 404. */
  admin?: AdminHandler;
  /** More routes (`GET /metrics`…), served as they are: no key gate, no body parsing. */
  extraRoutes?: readonly ServerRoute[];
  /** Deadline of one API call, retries and fallbacks included (504 past it). Default: the registry's own. */
  requestTimeoutMs?: number;
  /** How long `close()` lets in-flight requests and streams finish before cutting them. Default 30 s. */
  drainTimeoutMs?: number;
  /**
   * `close()` also closes the orchestrator (its Redis connections, models), waiting for that up to
   * `drainTimeoutMs` (a model still loading its weights holds it). Default false.
   */
  ownsOrchestrator?: boolean;
  /**
   * Initialise every registered model as the server is created (the provider SDK's import, a local
   * model's load), so that no request pays it; `GET /readyz` answers 503 until each model has
   * initialised or failed. A model that failed tries again at its next request and at each
   * `/readyz` probe. Default true.
   */
  initializeModels?: boolean;
}

// Past the 60 s idle timeout of load balancers: a connection opened ahead of use, with no request
// yet, is bounded by it too, and must not be closed by us first (the balancer's request would fail).
const DEFAULT_RECEIVE_TIMEOUT_MS = 66_000;
const MAX_RECEIVE_TIMEOUT_MS = 2_147_483_647;
const REQUEST_TIMEOUT = "ERR_HTTP_REQUEST_TIMEOUT";
/** Set on a socket whose request did not arrive within the receive timeout (its record says 408). */
const TIMED_OUT: unique symbol = Symbol("orchestrator-ts.receive-timed-out") as never;
type ClientSocket = Socket & { [TIMED_OUT]?: true };

/**
 * A request Node's parser refused or that did not arrive in time: the status Node's own handler
 * gives, on a bare line, unless a response is being written on the connection (then it is cut).
 */
function refuseRequest(
  socket: ClientSocket,
  code: string | undefined,
  answering: ServerResponse | null | undefined,
): void {
  if (code === REQUEST_TIMEOUT) socket[TIMED_OUT] = true;
  if (!socket.writable || answering?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    code === REQUEST_TIMEOUT
      ? "408 Request Timeout"
      : code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : "400 Bad Request";
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/** How long, past the drain deadline, aborted answers get to write their end (a stream's error event). */
const ABORTED_ANSWER_GRACE_MS = 1_000;

/** A gateway made by `createServer`: `listen()` to start, `close()` to drain and stop. */
export interface OrchestratorServer {
  /** `http://host:port` (the real port once listening). */
  readonly url: string;
  /** The underlying `node:http` server. */
  readonly server: Server;
  /** Start listening; resolves with `url`. */
  listen(): Promise<string>;
  /**
   * Settles once every model registered at creation has initialised or failed (see
   * `initializeModels`), with the ones that failed; at once, with none, when that is off.
   */
  readonly initialized: Promise<readonly ModelInitFailure[]>;
  /**
   * Stop accepting, let in-flight requests and streams finish (up to `drainTimeoutMs`, then
   * abort them), close the key gate and, when it owns it, the orchestrator. Idempotent.
   */
  close(): Promise<void>;
}

const CHAT = "/v1/chat/completions";
const MESSAGES = "/v1/messages";
const COUNT_TOKENS = "/v1/messages/count_tokens";
const RESPONSES = "/v1/responses";

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** The key a client sent: `Authorization: Bearer …` (OpenAI's SDK) or `x-api-key` (Anthropic's). */
export function rawKeyOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === "string") {
    if (auth.length > 7 && auth.slice(0, 7).toLowerCase() === "bearer ") return auth.slice(7).trim();
    return auth.trim();
  }
  const key = req.headers["x-api-key"];
  return typeof key === "string" ? key : undefined;
}

/**
 * The gateway's HTTP front on `node:http`: OpenAI's `POST /v1/chat/completions`, Anthropic's
 * `POST /v1/messages` (and the endpoints other parts add), `GET /v1/models`, `POST /v1/feedback`, `GET /healthz`, `GET /readyz`.
 */
export function createServer(options: CreateServerOptions): OrchestratorServer {
  const served = options.orchestrator;
  if (!served || typeof served !== "object" || !served.registry)
    throw new TypeError("createServer needs { orchestrator } (a ServedOrchestrator: { registry, config? }).");
  const registry = served.registry;
  const host = options.host ?? "127.0.0.1";
  const wantedPort = options.port ?? 4000;
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const gatekeeper = options.gatekeeper;
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const extra = new Map<string, ServerRoute>();
  for (const route of options.extraRoutes ?? []) extra.set(`${route.method.toUpperCase()} ${route.path}`, route);
  const startedAt = Math.floor(Date.now() / 1000);

  let onIdle: (() => void) | undefined;
  const context: ServerContext = {
    observers: options.observers ?? [],
    active: new Set(),
    settling: new Set(),
    draining: false,
    raters: new LruMap(RATERS_KEPT),
  };
  if (options.initializeModels !== false) context.initialization = initializeModels(registry);

  const settings: InferenceSettings = {
    registry,
    requestTimeoutMs: options.requestTimeoutMs,
    admit: gatekeeper
      ? async (exchange, model, promptTokens, maxTokens) => {
          const caller = exchange.caller ?? {};
          // Without max_tokens a key's tpm counts the longest answer the reachable models allow.
          const answer =
            maxTokens === undefined && caller.keyId !== undefined
              ? longestAnswerOf(registry, model, caller.models)
              : undefined;
          exchange.admission = await gatekeeper.admit(caller, {
            model,
            estimatedTokens: promptTokens + (maxTokens ?? 0),
            promptTokens,
            ...(maxTokens === undefined ? {} : { maxOutputTokens: maxTokens }),
            ...(answer?.longest === undefined ? {} : { longestAnswerTokens: answer.longest }),
            ...(answer?.safe === undefined ? {} : { safeAnswerTokens: answer.safe }),
          });
        }
      : async () => undefined,
  };

  async function authenticate(exchange: Exchange): Promise<void> {
    if (gatekeeper) exchange.caller = await gatekeeper.authenticate(rawKeyOf(exchange.req));
  }

  function fail(exchange: Exchange, error: unknown, render: (error: GatewayError) => string = openAIErrorBody): void {
    const failure = exchange.failure(error);
    if (!exchange.clientGone) sendError(exchange.res, failure, render, failure.status === 413 || context.draining);
    exchange.settle({ costUsd: undefined });
    // A request cut for arriving too slowly was answered 408 by the clientError handler, whatever the body reader says.
    if ((exchange.req.socket as ClientSocket)[TIMED_OUT]) exchange.record(408, { errorCode: "request_timeout" });
    else exchange.record(failure.status, { errorCode: failure.code });
  }

  /** An inference endpoint: the key, the body, then the endpoint; any failure in the endpoint's API's error shape. */
  async function inference(
    exchange: Exchange,
    endpoint: (exchange: Exchange, body: unknown, settings: InferenceSettings) => Promise<void>,
    render: (error: GatewayError) => string,
  ): Promise<void> {
    try {
      await authenticate(exchange);
      const body = await readJson(exchange.req, bodyLimit);
      await endpoint(exchange, body, settings);
    } catch (error) {
      fail(exchange, error, render);
    }
  }

  async function api(exchange: Exchange, run: (exchange: Exchange) => Promise<void>): Promise<void> {
    try {
      await authenticate(exchange);
      await run(exchange);
    } catch (error) {
      fail(exchange, error);
    }
  }

  async function admin(exchange: Exchange): Promise<void> {
    try {
      if (!gatekeeper || !options.admin)
        throw new GatewayError(
          404,
          "not_found_error",
          "The admin endpoints are not enabled on this server (it runs without keys).",
          { code: "not_found" },
        );
      const caller = await gatekeeper.authenticate(rawKeyOf(exchange.req));
      exchange.caller = caller;
      if (!caller.admin)
        throw new GatewayError(403, "permission_error", "The admin endpoints need the master key.", {
          code: "admin_only",
        });
      const url = new URL(exchange.req.url ?? "/", "http://gateway.invalid");
      const handled = await options.admin(exchange.req, exchange.res, url, caller);
      if (!handled)
        throw new GatewayError(404, "not_found_error", `No admin endpoint ${exchange.req.method} ${url.pathname}.`, {
          code: "not_found",
        });
      exchange.record(exchange.res.statusCode, {});
    } catch (error) {
      fail(exchange, error);
    }
  }

  function notFound(res: ServerResponse, method: string, path: string): void {
    sendError(
      res,
      new GatewayError(
        404,
        "not_found_error",
        `Unknown endpoint ${method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}.`,
        { code: "unknown_url" },
      ),
    );
  }

  function methodNotAllowed(
    res: ServerResponse,
    allowed: string,
    path: string,
    render: (error: GatewayError) => string = openAIErrorBody,
  ): void {
    sendError(
      res,
      new GatewayError(405, "invalid_request_error", `${path} accepts ${allowed} only.`, {
        code: "method_not_allowed",
        headers: { allow: allowed },
      }),
      render,
    );
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req.url);
    const method = req.method ?? "GET";
    if (path === CHAT) {
      if (method !== "POST") {
        methodNotAllowed(res, "POST", path);
        return;
      }
      void inference(new Exchange(req, res, context, "openai.chat"), chatCompletions, openAIErrorBody);
      return;
    }
    switch (path) {
      case MESSAGES:
        if (method !== "POST") {
          methodNotAllowed(res, "POST", path, anthropicErrorBody);
          return;
        }
        void inference(new Exchange(req, res, context, "anthropic.messages"), messages, anthropicErrorBody);
        return;
      case RESPONSES:
        if (method !== "POST") {
          methodNotAllowed(res, "POST", path);
          return;
        }
        void inference(new Exchange(req, res, context, "openai.responses"), responses, openAIErrorBody);
        return;
      case COUNT_TOKENS:
        if (method !== "POST") {
          methodNotAllowed(res, "POST", path, anthropicErrorBody);
          return;
        }
        void inference(new Exchange(req, res, context, "anthropic.count_tokens"), countTokens, anthropicErrorBody);
        return;
      case "/v1/models":
        if (method !== "GET") {
          methodNotAllowed(res, "GET", path);
          return;
        }
        void api(new Exchange(req, res, context, "models"), (exchange) => listModels(exchange, registry, startedAt));
        return;
      case "/v1/feedback":
        if (method !== "POST") {
          methodNotAllowed(res, "POST", path);
          return;
        }
        void api(new Exchange(req, res, context, "feedback"), async (exchange) =>
          feedback(exchange, registry, await readJson(req, bodyLimit)),
        );
        return;
      case "/healthz":
        healthz(res);
        return;
      case "/readyz":
        void readyz(res, served, context).catch(() => res.destroy());
        return;
      default:
        break;
    }
    if (path.startsWith("/admin/") || path === "/admin") {
      void admin(new Exchange(req, res, context, "admin"));
      return;
    }
    const route = extra.get(`${method} ${path}`);
    if (route) {
      Promise.resolve()
        .then(() => route.handle(req, res))
        .catch((error: unknown) => sendError(res, toGatewayError(error)));
      return;
    }
    notFound(res, method, path);
  };

  const givenReceiveMs = options.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS;
  // Node keeps these timeouts as 32-bit numbers: a larger one would wrap around to a short one.
  if (!(givenReceiveMs > 0 && givenReceiveMs <= MAX_RECEIVE_TIMEOUT_MS))
    throw new RangeError(
      `receiveTimeoutMs must be a positive number of milliseconds up to ${MAX_RECEIVE_TIMEOUT_MS}, got ${givenReceiveMs}`,
    );
  const receiveTimeoutMs = Math.ceil(givenReceiveMs);
  // How often the bound is checked (Node's default, 30 s, would let a 1 s bound run 31 s).
  const receiveCheckMs = Math.min(1_000, receiveTimeoutMs);
  const server = createHttpServer(
    {
      // Past the keep-alive timeout of load balancers (60 s), so they never reuse a socket being closed.
      keepAliveTimeout: 65_000,
      requestTimeout: receiveTimeoutMs,
      headersTimeout: receiveTimeoutMs,
      connectionsCheckingInterval: receiveCheckMs,
    },
    onRequest,
  );
  // Malformed HTTP or a request too slow to arrive, never a crash; Node's own handler asks the
  // socket's current message whether a response is under way, as this does.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) =>
    refuseRequest(
      socket as ClientSocket,
      error.code,
      (socket as { _httpMessage?: ServerResponse | null })._httpMessage,
    ),
  );

  let listening: Promise<string> | undefined;
  let closing: Promise<void> | undefined;
  const urlOf = (): string => {
    const address = server.address() as AddressInfo | null;
    const port = address?.port ?? wantedPort;
    const shown = host.includes(":") ? `[${host}]` : host;
    return `http://${shown}:${port}`;
  };

  const handle: OrchestratorServer = {
    get url() {
      return urlOf();
    },
    server,
    initialized: context.initialization?.done ?? Promise.resolve([]),
    listen() {
      listening ??= new Promise<string>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once("error", onError);
        server.listen(wantedPort, host, () => {
          server.off("error", onError);
          resolve(urlOf());
        });
      });
      return listening;
    },
    close() {
      closing ??= (async () => {
        context.draining = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Node stops checking the receive bound once the server closes: a client still sending its
        // request would hold the drain to its deadline. The bound keeps holding while draining.
        const receiving = setInterval(cutSlowRequests, receiveCheckMs);
        await untilIdle(drainTimeoutMs);
        clearInterval(receiving);
        if (context.active.size > 0) {
          // Past the deadline: stop what is left (upstream calls are aborted, admissions settled), and give
          // each answer a moment to end as a client can read it (a stream's error event) before the sockets go.
          for (const exchange of context.active) {
            exchange.cutByShutdown = true;
            exchange.abort("the server is shutting down");
          }
          await untilIdle(ABORTED_ANSWER_GRACE_MS);
        }
        server.closeAllConnections();
        await stopped;
        await Promise.all(context.settling);
        await gatekeeper?.close?.();
        // A model still initialising (loading its weights, pulling them) holds the orchestrator's close
        // until it is done: the server does not wait for that past the drain bound.
        if (options.ownsOrchestrator && served.close)
          await timeLimit(
            served.close(),
            drainTimeoutMs,
            () => new Error("The orchestrator did not close within the drain timeout."),
          ).catch(() => undefined);
      })();
      return closing;
    },
  };

  /** While draining: a request not all received within the receive bound gets Node's 408, as before the close. */
  function cutSlowRequests(): void {
    const now = performance.now();
    for (const exchange of context.active)
      if (!exchange.req.complete && now - exchange.startedAt >= receiveTimeoutMs)
        refuseRequest(exchange.req.socket as ClientSocket, REQUEST_TIMEOUT, exchange.res);
  }

  /** Until no exchange is in progress (told by the last one to end), or `ms` have passed. */
  function untilIdle(ms: number): Promise<void> {
    if (context.active.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      onIdle = undefined;
    });
  }

  // Told by each exchange as it ends, so close() can stop waiting as soon as the last one is done.
  context.onExchangeEnd = () => {
    if (!context.draining) return;
    server.closeIdleConnections();
    if (context.active.size === 0) onIdle?.();
  };
  return handle;
}
