import type { ServerResponse } from "node:http";
import {
  AbortError,
  AuthenticationError,
  ConfigError,
  ContextLengthError,
  NoEligibleModelError,
  OrchestratorError,
  ProviderError,
  RateLimitError,
  TimeoutError,
} from "@orchestrator-ts/core";
import { isModuleNotFound, withFields } from "@orchestrator-ts/core/internal";
import { GatewayError } from "./contract";

/**
 * Any failure as the gateway answers it. The client's own mistakes are 4xx; what went wrong
 * upstream is 429 (with the provider's retry-after), 503 (no model could be used, with the
 * reasons), 504 (past the deadline) or 502; anything unexpected is a 500 whose message says
 * nothing about internals.
 */
export function toGatewayError(error: unknown): GatewayError {
  if (GatewayError.isInstance(error)) return error;
  if (OrchestratorError.isInstance(error)) {
    const code = error.code;
    if (code === "invalid_request_error") {
      const param = (error as { param?: unknown }).param;
      return new GatewayError(400, "invalid_request_error", error.message, {
        ...(typeof param === "string" && param !== "" ? { param } : {}),
        code: "invalid_value",
        cause: error,
      });
    }
    if (code === "route_not_found" || code === "model_not_found") {
      return new GatewayError(404, "not_found_error", error.message, {
        param: "model",
        code: "model_not_found",
        cause: error,
      });
    }
    if (NoEligibleModelError.isInstance(error)) {
      return new GatewayError(503, "overloaded_error", upstreamMessage(error.message), {
        code: "no_eligible_model",
        cause: error,
      });
    }
    if (RateLimitError.isInstance(error)) {
      return new GatewayError(
        429,
        "rate_limit_error",
        `Every model that could answer is rate limited: ${upstreamMessage(error.message)}`,
        {
          code: "rate_limit_exceeded",
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
          cause: error,
        },
      );
    }
    if (TimeoutError.isInstance(error)) {
      return new GatewayError(504, "timeout_error", upstreamMessage(error.message), { code: "timeout", cause: error });
    }
    if (ContextLengthError.isInstance(error)) {
      return new GatewayError(400, "invalid_request_error", upstreamMessage(error.message), {
        param: "messages",
        code: "context_length_exceeded",
        cause: error,
      });
    }
    if (AbortError.isInstance(error)) {
      // Only a client that already left gets this; the status is for the record.
      return new GatewayError(499, "invalid_request_error", error.message, { code: "client_closed", cause: error });
    }
    if (ConfigError.isInstance(error) && isModuleNotFound(error.cause)) {
      // A model whose SDK is not installed: the gateway's setup, not the request (a config leaves such a
      // model out at start-up; a model built in code meets it at its first call).
      return new GatewayError(500, "api_error", error.message, { code: "missing_package", cause: error });
    }
    if (ConfigError.isInstance(error)) {
      // The one configuration a request supplies is its routing hints.
      const issue = error.issues[0];
      return new GatewayError(400, "invalid_request_error", error.message, {
        param: issue?.path ? `orchestrator.${issue.path}` : "orchestrator",
        code: "invalid_value",
        cause: error,
      });
    }
    if (AuthenticationError.isInstance(error)) {
      // The provider refused the gateway's own key: the gateway's problem, not the client's.
      return new GatewayError(
        502,
        "api_error",
        `The upstream provider refused the gateway's credentials: ${upstreamMessage(error.message)}`,
        { code: "upstream_authentication", cause: error },
      );
    }
    if (ProviderError.isInstance(error) && (error.status === 400 || error.status === 413 || error.status === 422)) {
      // The provider found the request itself wrong (an image it cannot decode, a field it refuses): the
      // client's to fix, so a 400 — a 5xx would say "try again", and the official SDKs retry it twice.
      return new GatewayError(
        400,
        "invalid_request_error",
        `The model's provider refused the request (${error.status}): ${upstreamMessage(error.message)}`,
        { code: "upstream_invalid_request", cause: error },
      );
    }
    if (ProviderError.isInstance(error)) {
      return new GatewayError(502, "api_error", upstreamMessage(error.message), {
        code: error.code === "provider_error" ? "upstream_error" : error.code,
        cause: error,
      });
    }
    return new GatewayError(500, "api_error", error.message, { code: error.code, cause: error });
  }
  return new GatewayError(500, "api_error", "The gateway failed to handle the request (an internal error).", {
    code: "internal_error",
    cause: error,
  });
}

// Where an upstream lives, as error texts write it: a URL (without the punctuation after it), an
// IPv4 or IPv6 address (bracketed or not, with a port), a dotted host name with a port, the host a
// resolver names after its code (`ENOTFOUND vllm.internal`, Go's `lookup vllm.internal`), Python's
// `host='…'`, a certificate's `DNS:` names and `Host: …` in a TLS mismatch, undici's `attempted address`.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]*[^\s"'<>().,:;!?]/gi;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g;
const IPV6 = /\[?\b(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\b\]?(?::\d{1,5})?|\[?::1\]?(?::\d{1,5})?/gi;
const HOST_PORT = /\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}\b/gi;
const NAMED_HOST =
  /\b(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|lookup|Host:|DNS:)\s*(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?)(?=[\s,;:)]|$)/gi;
const PYTHON_HOST = /\bhost='[^']*'/g;
// Credentials in a URL's userinfo, taken out before anything else reads the text: a password may
// hold characters (parentheses, quotes) that end a URL for URL_IN_TEXT. Also without a scheme (`user:pass@host`).
const URL_USERINFO = /\/\/[^\s/?#@]*@/g;
const BARE_USERINFO = /(^|[\s("'=])[^\s:/@("'=]+:[^\s/@]+@(?=[a-z0-9[])/gi;
const ADDRESS = "[upstream]";

function ipv6Like(text: string): boolean {
  // Times (10:00:00) and counters are not addresses: an IPv6 address has "::" or seven colons, or hex letters.
  return text.includes("::") || (text.match(/:/g) ?? []).length >= 7 || /[a-f]/i.test(text.replace(/:\d+$/, ""));
}

/**
 * An upstream failure's message as a client of the gateway may read it: without the provider's
 * URL or the hosts and addresses a network or TLS error names (`getaddrinfo ENOTFOUND
 * vllm.internal`, `connect ECONNREFUSED 10.0.0.5:8000`, `dial tcp [fd00::5]:8000`) — where the
 * gateway's models live is the operator's, not the client's. The error itself (its `cause`, what
 * the registry, health and traces see) keeps them.
 */
export function upstreamMessage(message: string): string {
  return message
    .replace(URL_USERINFO, "//")
    .replace(BARE_USERINFO, "$1")
    .replace(URL_IN_TEXT, "the provider")
    .replace(PYTHON_HOST, `host='${ADDRESS}'`)
    .replace(NAMED_HOST, `$1 ${ADDRESS}`)
    .replace(HOST_PORT, ADDRESS)
    .replace(IPV4, ADDRESS)
    .replace(IPV6, (match) => (ipv6Like(match) ? ADDRESS : match));
}

/** Why each model was left out, as a client may read it (a health failure's detail names no upstream). */
export function excludedForClients(error: NoEligibleModelError): NoEligibleModelError["excluded"] {
  return error.excluded.map((entry) => withFields(entry, { reason: upstreamMessage(entry.reason) }));
}

/** OpenAI's error body (`{ error: { message, type, param, code } }`), with `excluded` when no model was eligible. */
export function openAIErrorBody(error: GatewayError): string {
  const body: { error: Record<string, unknown> } = {
    error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code },
  };
  const cause = (error as { cause?: unknown }).cause;
  if (NoEligibleModelError.isInstance(cause)) body.error.excluded = excludedForClients(cause);
  return JSON.stringify(body);
}

/** Writes `error` as JSON with its status and headers (`Retry-After` in whole seconds, rounded up). */
export function sendError(
  res: ServerResponse,
  error: GatewayError,
  render: (error: GatewayError) => string = openAIErrorBody,
  close = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = render(error);
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  };
  if (error.retryAfterMs !== undefined)
    headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  for (const name in error.headers) headers[name] = error.headers[name] as string;
  if (close) headers.connection = "close";
  res.writeHead(error.status, headers);
  res.end(body);
}

/** A JSON answer. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void {
  const body = JSON.stringify(value);
  res.writeHead(
    status,
    headers === undefined
      ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
      : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
  );
  res.end(body);
}
