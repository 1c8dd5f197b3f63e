import {
  AbortError,
  type OrchestratorError,
  ProviderError,
  TimeoutError,
  displayUrl,
  errorFromStatus,
  parseRetryAfter,
} from "@orchestrator-ts/core";
import { describeConnectionError } from "@orchestrator-ts/core/internal";
import type { APIError } from "openai";
import { isSdkError, openAISdk } from "./sdk";

/**
 * The error for an `error` event inside a 200 stream: the SDK's own `APIError` (what its `Stream`
 * throws there), so that `mapOpenAIError` treats it as the SDK would.
 */
export function openAIErrorEvent(error: object, headers: Headers): APIError {
  return new (openAISdk().APIError)(undefined, error, undefined, headers);
}

interface Context {
  provider: string;
  model: string;
  /** The server called, named in connection errors (without userinfo or query). */
  baseURL?: string;
}

const CONTEXT_LENGTH = /maximum context length|context.length|context window|too many tokens/i;

/**
 * The `openai` SDK's failures in the core error family; `undefined` for anything it does not
 * recognise (the caller falls back to the generic mapping).
 */
export function mapOpenAIError(error: unknown, { baseURL, ...context }: Context): OrchestratorError | undefined {
  if (isSdkError(error, "APIUserAbortError")) return new AbortError(undefined, { ...context, cause: error });
  if (isSdkError(error, "APIConnectionTimeoutError"))
    return new TimeoutError(`The request to ${context.model} timed out.`, { ...context, cause: error });
  // Refused, reset or dropped before a response: nothing was generated, a retry can succeed. The
  // SDK says only "Connection error."; where and why are in its cause's cause.
  if (isSdkError(error, "APIConnectionError")) {
    const where = displayUrl(baseURL);
    return new ProviderError(`Connection to ${where ?? "the provider"} failed: ${describeConnectionError(error)}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  if (isAPIError(error) && typeof error.status === "number") {
    const headers = error.headers;
    const retryAfterMs = headers ? parseRetryAfter((name) => headers.get(name)) : undefined;
    const contextLength =
      error.code === "context_length_exceeded" ||
      ((error.status === 400 || error.status === 413) && CONTEXT_LENGTH.test(error.message));
    return errorFromStatus(error.status, error.message, {
      ...context,
      cause: error,
      contextLength,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  // An error event inside a 200 stream (`data: {"error": …}`): the server failed mid-answer.
  if (isAPIError(error)) {
    const invalid = error.type === "invalid_request_error";
    return new ProviderError(`The provider reported an error mid-stream: ${error.message}`, {
      ...context,
      cause: error,
      retryable: !invalid,
    });
  }
  // After headers the SDK does not wrap failures: undici's "terminated" when the body is cut.
  if (
    error instanceof TypeError &&
    /terminated|fetch failed|other side closed|socket/i.test(`${error.message} ${causeText(error)}`)
  ) {
    return new ProviderError(`The connection to the provider broke mid-response: ${describeConnectionError(error)}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  // A garbled SSE frame or body: a transient fault of the server or the network.
  if (error instanceof SyntaxError) {
    return new ProviderError(`The provider sent a malformed response: ${error.message}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  return undefined;
}

function isAPIError(error: unknown): error is APIError {
  return isSdkError(error, "APIError");
}

function causeText(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
