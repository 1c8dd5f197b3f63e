import {
  AbortError,
  AuthenticationError,
  ContextLengthError,
  type OrchestratorError,
  ProviderError,
  errorFromStatus,
  parseRetryAfter,
} from "@orchestrator-ts/core";

interface Context {
  provider: string;
  model: string;
}

// The AI SDK marks its errors with `Symbol.for("vercel.ai.error.<name>")` (its own `isInstance`
// checks the same markers), which holds across every copy and version of `@ai-sdk/provider`.
function hasMarker(error: unknown, name: string): boolean {
  if (typeof error !== "object" || error === null) return false;
  return (error as Record<symbol, unknown>)[Symbol.for(`vercel.ai.error.${name}`)] === true;
}

const CONTEXT_LENGTH =
  /maximum context length|context.length|context window|too many tokens|prompt is too long|input is too long|exceeds the maximum/i;

interface APICallErrorShape {
  message: string;
  statusCode?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  isRetryable: boolean;
  data?: unknown;
}

// Errors the AI SDK raises for responses it could not use: a garbled or unexpected body, which a
// retry (here or on another model) can get past.
const MALFORMED_RESPONSE = [
  "AI_InvalidResponseDataError",
  "AI_JSONParseError",
  "AI_TypeValidationError",
  "AI_EmptyResponseBodyError",
  "AI_NoContentGeneratedError",
];
// Errors about the request itself: the same request fails again.
const INVALID_REQUEST = [
  "AI_InvalidPromptError",
  "AI_InvalidArgumentError",
  "AI_UnsupportedFunctionalityError",
  "AI_NoSuchModelError",
  "AI_LoadSettingError",
];

/**
 * The AI SDK's failures in the core error family; `undefined` for anything it does not recognise
 * (the caller falls back to core's generic mapping, which knows network errors and aborts).
 */
export function mapAISDKError(error: unknown, context: Context): OrchestratorError | undefined {
  if (hasMarker(error, "AI_APICallError")) return fromAPICallError(error as APICallErrorShape, error, context);
  if (hasMarker(error, "AI_LoadAPIKeyError")) {
    return new AuthenticationError(`No API key for ${context.model}: ${(error as Error).message}`, {
      ...context,
      cause: error,
    });
  }
  for (const name of MALFORMED_RESPONSE) {
    if (hasMarker(error, name))
      return new ProviderError(`The provider sent a response the AI SDK could not use: ${(error as Error).message}`, {
        ...context,
        cause: error,
        retryable: true,
      });
  }
  for (const name of INVALID_REQUEST) {
    if (hasMarker(error, name))
      return new ProviderError((error as Error).message, { ...context, cause: error, retryable: false });
  }
  // A `DOMException` named AbortError from the AI SDK's fetch, when the signal fires mid-call.
  if (error instanceof Error && error.name === "AbortError")
    return new AbortError(undefined, { ...context, cause: error });
  return undefined;
}

function fromAPICallError(e: APICallErrorShape, cause: unknown, context: Context): OrchestratorError {
  const status = e.statusCode;
  const message = e.message || `The provider answered ${status ?? "without a status"}.`;
  if (status === undefined) {
    // No response at all: the connection failed (the AI SDK marks it retryable).
    return new ProviderError(`Connection to the provider failed: ${message}`, {
      ...context,
      cause,
      retryable: e.isRetryable !== false,
    });
  }
  const headers = e.responseHeaders;
  const retryAfterMs = headers ? parseRetryAfter((name) => headers[name] ?? headers[name.toLowerCase()]) : undefined;
  const code = errorCode(e.data);
  const contextLength =
    code === "context_length_exceeded" ||
    ((status === 400 || status === 413) && (CONTEXT_LENGTH.test(message) || CONTEXT_LENGTH.test(e.responseBody ?? "")));
  if (contextLength) return new ContextLengthError(message, { ...context, cause, status });
  return errorFromStatus(status, message, {
    ...context,
    cause,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    // Other statuses keep the AI SDK's judgement (it also retries 409); errorFromStatus fixes 401/403/429/408/504.
    retryable: e.isRetryable,
  } as Parameters<typeof errorFromStatus>[2]);
}

/** `error.code` of an OpenAI-style error body, which the AI SDK parses into `data`. */
function errorCode(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const inner = (data as { error?: unknown }).error;
  const code = typeof inner === "object" && inner !== null ? (inner as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}
