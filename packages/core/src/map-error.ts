import {
  AbortError,
  OrchestratorError,
  ProviderError,
  TimeoutError,
  errorFromStatus,
  parseRetryAfter,
} from "./errors";

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

/**
 * The generic mapping of anything thrown by a provider into the error family, by HTTP status,
 * `retry-after` headers, network error codes and abort names. Provider packages add their own
 * cases (context-length bodies, SDK classes) and fall back to this.
 */
export function toOrchestratorError(error: unknown, context: { provider?: string; model?: string } = {}): OrchestratorError {
  if (OrchestratorError.isInstance(error)) return error;
  const e = (error ?? {}) as { name?: string; message?: string; status?: unknown; statusCode?: unknown; headers?: unknown };
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  const options = { ...context, cause: error };
  if (e.name === "AbortError" || e.name === "APIUserAbortError") return new AbortError(message, options);
  if (e.name === "TimeoutError" || e.name === "APIConnectionTimeoutError") return new TimeoutError(message, options);
  const status = typeof e.status === "number" ? e.status : typeof e.statusCode === "number" ? e.statusCode : undefined;
  if (status !== undefined) {
    const retryAfterMs = parseRetryAfter(headerGetter(e.headers));
    const contextLength = status === 400 && /context.length|maximum context|too many tokens|prompt is too long|context window/i.test(message);
    return errorFromStatus(status, message, { ...options, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), contextLength });
  }
  const code = networkCode(error);
  if (code || /fetch failed|socket hang up|network|terminated|premature close|connection/i.test(message)) {
    return new ProviderError(`Connection to the provider failed${code ? ` (${code})` : ""}: ${message}`, { ...options, retryable: true });
  }
  return new ProviderError(message, { ...options, retryable: false });
}
