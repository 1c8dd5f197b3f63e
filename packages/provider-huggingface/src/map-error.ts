import {
  AbortError,
  type OrchestratorError,
  ProviderError,
  displayUrl,
  errorFromStatus,
  parseRetryAfter,
} from "@orchestrator-ts/core";
import { describeConnectionError } from "@orchestrator-ts/core/internal";
import type { InferenceClientHubApiError, InferenceClientProviderApiError } from "@huggingface/inference";

interface Context {
  provider: string;
  model: string;
  /** The endpoint called, named in connection errors (without userinfo or query). */
  endpointUrl?: string | undefined;
}

// TGI: "`inputs` tokens + `max_new_tokens` must be <= 4096"; OpenAI-compatible routers: "maximum context length".
const CONTEXT_LENGTH =
  /must be <= ?\d+|maximum context length|context.length|context window|too many tokens|input is too long|exceeds? (the )?max(imum)? (input|context)/i;

/**
 * The SDK's errors keep the status and body of a failed response but not its headers. A call's own
 * fetch wrapper (`retryAfterFetch`) notes `retry-after` / `retry-after-ms`, and the call attaches
 * the note to the SDK's error (`withRetryAfter`) for the mapping below.
 */
const RETRY_AFTER_MS: unique symbol = Symbol("huggingface.retryAfterMs");

export interface RetryAfterNote {
  retryAfterMs?: number;
}

/** `fetch` that notes a failed response's retry-after in `note`. */
export function retryAfterFetch(base: typeof fetch, note: RetryAfterNote): typeof fetch {
  return (input, init) =>
    base(input, init).then((response) => {
      if (!response.ok) {
        const retryAfterMs = parseRetryAfter((name) => response.headers.get(name));
        if (retryAfterMs !== undefined) note.retryAfterMs = retryAfterMs;
      }
      return response;
    });
}

/** The error, carrying the noted retry-after when there is one. */
export function withRetryAfter(error: unknown, note: RetryAfterNote): unknown {
  if (note.retryAfterMs !== undefined && typeof error === "object" && error !== null) {
    Object.defineProperty(error, RETRY_AFTER_MS, { value: note.retryAfterMs, enumerable: false });
  }
  return error;
}

/**
 * One of the SDK's errors, known by the `name` each of its classes sets: this package loads the
 * SDK only when a model initialises, and a caller's errors may come from another copy of it.
 */
function isSdkError(error: unknown, name: string): error is Error {
  return error instanceof Error && error.name === name;
}

function isHttpError(error: unknown): error is InferenceClientProviderApiError | InferenceClientHubApiError {
  return (
    (isSdkError(error, "ProviderApiError") || isSdkError(error, "HubApiError")) &&
    typeof (error as { httpResponse?: { status?: unknown } }).httpResponse?.status === "number"
  );
}

/** `@huggingface/inference` failures in the core error family; `undefined` when not recognised. */
export function mapHuggingFaceError(
  error: unknown,
  { endpointUrl, ...context }: Context,
): OrchestratorError | undefined {
  if (isHttpError(error)) {
    const status = error.httpResponse.status;
    const detail = bodyMessage(error.httpResponse.body) ?? error.message;
    const contextLength = (status === 400 || status === 413 || status === 422) && CONTEXT_LENGTH.test(detail);
    const message = status === 503 && isLoading(error.httpResponse.body) ? `The model is loading: ${detail}` : detail;
    const retryAfterMs = (error as { [RETRY_AFTER_MS]?: number })[RETRY_AFTER_MS];
    return errorFromStatus(status, message, {
      ...context,
      cause: error,
      contextLength,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (isSdkError(error, "ProviderOutputError")) {
    return new ProviderError(`The provider sent a malformed response: ${error.message}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  if (isSdkError(error, "InputError"))
    return new ProviderError(error.message, { ...context, cause: error, retryable: false });
  if (error instanceof Error && error.name === "AbortError")
    return new AbortError(undefined, { ...context, cause: error });
  // "fetch failed" before a response; undici's "terminated" when the body is cut after headers.
  if (error instanceof TypeError && /terminated|fetch failed|other side closed|socket/i.test(error.message)) {
    const where = displayUrl(endpointUrl);
    return new ProviderError(`Connection to ${where ?? "the provider"} failed: ${describeConnectionError(error)}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  if (error instanceof SyntaxError) {
    return new ProviderError(`The provider sent a malformed response: ${error.message}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  return undefined;
}

function bodyMessage(body: unknown): string | undefined {
  if (typeof body === "string") return body || undefined;
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown; message?: unknown; detail?: unknown }).error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string")
    return (error as { message: string }).message;
  const message = (body as { message?: unknown }).message ?? (body as { detail?: unknown }).detail;
  return typeof message === "string" ? message : undefined;
}

function isLoading(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    ("estimated_time" in body || /loading/i.test(String((body as { error?: unknown }).error)))
  );
}
