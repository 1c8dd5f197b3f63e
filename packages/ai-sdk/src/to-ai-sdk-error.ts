// Our errors as the AI SDK expects them from a provider: the inverse of map-error.ts. A failed
// call is an `APICallError` (status, `isRetryable`, `retry-after-ms` for a rate limit) that keeps
// our stable `code` and carries our error as its `cause`; an abort stays an abort.
import {
  AbortError,
  ConfigError,
  NoEligibleModelError,
  OrchestratorError,
  ProviderError,
  RateLimitError,
} from "@orchestrator-ts/core";
import { APICallError, InvalidArgumentError } from "@ai-sdk/provider";

/**
 * The `APICallError` a call through the orchestrator fails with. `code` is our stable code
 * (`rate_limit_error`, `no_eligible_model`…); `cause` is our typed error. `isRetryable` is ours:
 * the registry has already retried and fallen back, so an AI SDK retry repeats all of that
 * (pass `maxRetries: 0` to `generateText` to leave retries to the registry alone).
 */
export class OrchestratorCallError extends APICallError {
  readonly code: string;
  constructor(error: OrchestratorError, modelId: string) {
    const status = statusOf(error);
    const retryAfterMs = RateLimitError.isInstance(error) ? error.retryAfterMs : undefined;
    super({
      message: error.message,
      // Where the call went, for logs: no URL of a provider (it may hold a key), only names.
      url: `orchestrator:${error.model ?? modelId}`,
      requestBodyValues: undefined,
      ...(status !== undefined ? { statusCode: status } : {}),
      // The AI SDK's own retry waits `retry-after-ms` when it is given.
      ...(retryAfterMs !== undefined
        ? {
            responseHeaders: {
              "retry-after-ms": String(retryAfterMs),
              "retry-after": String(Math.ceil(retryAfterMs / 1000)),
            },
          }
        : {}),
      cause: error,
      isRetryable: error.retryable,
      data: error.toJSON(),
    });
    this.code = error.code;
  }
}

function statusOf(error: OrchestratorError): number | undefined {
  if (ProviderError.isInstance(error)) return error.status;
  // Nothing could answer: the service, not this request, is the problem.
  if (NoEligibleModelError.isInstance(error)) return 503;
  return undefined;
}

/** Any failure of a call through the registry as the error the AI SDK expects. */
export function toAISDKError(error: unknown, modelId: string): unknown {
  // An abort is not a failed call: the AI SDK recognises it by name and does not retry it.
  if (AbortError.isInstance(error)) return error;
  if (ConfigError.isInstance(error)) {
    // Bad routing hints (`providerOptions.orchestrator`, the model's settings): the caller's mistake.
    return new InvalidArgumentError({ argument: "providerOptions.orchestrator", message: error.message, cause: error });
  }
  if (OrchestratorError.isInstance(error)) return new OrchestratorCallError(error, modelId);
  return error;
}

/**
 * The caller's own abort reason when the call stopped because of its signal, as `fetch` rejects: a
 * `TimeoutError` from `AbortSignal.timeout()` stays one (an AbortError would hide that it timed out).
 */
export function callError(error: unknown, signal: AbortSignal | undefined, modelId: string): unknown {
  if (AbortError.isInstance(error) && signal?.aborted === true && signal.reason instanceof Error) return signal.reason;
  return toAISDKError(error, modelId);
}
