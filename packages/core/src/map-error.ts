import { AbortError, OrchestratorError, ProviderError, TimeoutError, errorFromStatus, parseRetryAfter } from "./errors";
import { scrubUrls } from "./redact";

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

function headerGetter(headers: unknown): (name: string) => string | null | undefined {
  if (!headers || typeof headers !== "object") return () => undefined;
  const h = headers as { get?: (n: string) => string | null } & Record<string, unknown>;
  if (typeof h.get === "function") return (n) => h.get?.(n);
  return (n) => {
    const v = h[n] ?? h[n.toLowerCase()];
    return typeof v === "string" ? v : Array.isArray(v) ? String(v[0]) : undefined;
  };
}

function networkCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== "object" || depth > 4) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  return networkCode((error as { cause?: unknown }).cause, depth + 1);
}

function messageOf(error: unknown): string | undefined {
  if (!error || typeof error !== "object") return undefined;
  const message = (error as { message?: unknown }).message;
  if (typeof message === "string" && message.trim() !== "") return message.trim();
  // An AggregateError (one connection attempt per address) often has no message of its own.
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    const parts = [...new Set(errors.map((e) => messageOf(e)).filter((m): m is string => m !== undefined))];
    if (parts.length > 0) return parts.join("; ");
  }
  return undefined;
}

/**
 * What failed on the wire, for a message: the error's own text and the innermost cause, where
 * Node puts the reason and the address ("fetch failed (connect ECONNREFUSED 127.0.0.1:11434)").
 * URLs in it are shown by `displayUrl`, so no userinfo or query string reaches the message.
 */
export function describeConnectionError(error: unknown): string {
  const outer = messageOf(error) ?? String(error);
  let inner: string | undefined;
  let current = error && typeof error === "object" ? (error as { cause?: unknown }).cause : undefined;
  for (let depth = 0; current && depth < 6; depth++) {
    inner = messageOf(current) ?? inner;
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
  return scrubUrls(inner && !outer.includes(inner) ? `${outer} (${inner})` : outer);
}

/**
 * The generic mapping of anything thrown by a provider into the error family, by HTTP status,
 * `retry-after` headers, network error codes and abort names. Provider packages add their own
 * cases (context-length bodies, SDK classes) and fall back to this.
 */
export function toOrchestratorError(
  error: unknown,
  context: { provider?: string; model?: string } = {},
): OrchestratorError {
  if (OrchestratorError.isInstance(error)) return error;
  const e = (error ?? {}) as {
    name?: string;
    message?: string;
    status?: unknown;
    statusCode?: unknown;
    headers?: unknown;
  };
  const message = scrubUrls(typeof e.message === "string" && e.message ? e.message : String(error));
  const options = { ...context, cause: error };
  if (e.name === "AbortError" || e.name === "APIUserAbortError") return new AbortError(message, options);
  if (e.name === "TimeoutError" || e.name === "APIConnectionTimeoutError") return new TimeoutError(message, options);
  const status = typeof e.status === "number" ? e.status : typeof e.statusCode === "number" ? e.statusCode : undefined;
  if (status !== undefined) {
    const retryAfterMs = parseRetryAfter(headerGetter(e.headers));
    const contextLength =
      status === 400 &&
      /context.length|maximum context|too many tokens|prompt is too long|context window/i.test(message);
    return errorFromStatus(status, message, {
      ...options,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      contextLength,
    });
  }
  const code = networkCode(error);
  if (code || /fetch failed|socket hang up|network|terminated|premature close|connection/i.test(message)) {
    const description = describeConnectionError(error);
    const shownCode = code && !description.includes(code) ? ` (${code})` : "";
    return new ProviderError(`Connection to the provider failed${shownCode}: ${description}`, {
      ...options,
      retryable: true,
    });
  }
  return new ProviderError(message, { ...options, retryable: false });
}
