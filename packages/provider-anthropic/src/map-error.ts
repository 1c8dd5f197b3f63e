import {
  AbortError,
  OrchestratorError,
  ProviderError,
  TimeoutError,
  displayUrl,
  errorFromStatus,
  parseRetryAfter,
} from "@orchestrator-ts/core";
import { describeConnectionError, toOrchestratorError } from "@orchestrator-ts/core/internal";
import { type AnthropicSdk, anthropicSdkIfLoaded } from "./sdk";

interface Context {
  provider: string;
  model: string;
  /** The id sent to the API, named in a 404's hint. */
  modelId: string;
  /** Where the client points, named when it cannot be reached. */
  baseURL: string | undefined;
}

/** The Anthropic SDK's failures (HTTP errors, stream `event: error`s, connection errors) in the core error family. */
export function mapAnthropicError(error: unknown, { modelId, baseURL, ...context }: Context): OrchestratorError {
  if (OrchestratorError.isInstance(error)) return error;
  // The SDK is loaded before the first call (the model's initialisation): its errors come from that copy.
  const sdk = anthropicSdkIfLoaded();
  if (sdk !== undefined) {
    const mapped = mapSdkError(error, sdk, baseURL, modelId, context);
    if (mapped !== undefined) return mapped;
  }
  if (error instanceof SyntaxError) {
    // A garbled event: the stream cannot be trusted, but a retry can succeed.
    return new ProviderError(`The Anthropic stream sent a malformed event: ${error.message}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  return toOrchestratorError(error, context);
}

function mapSdkError(
  error: unknown,
  { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError }: AnthropicSdk,
  baseURL: string | undefined,
  modelId: string,
  context: { provider: string; model: string },
): OrchestratorError | undefined {
  if (error instanceof APIUserAbortError) return new AbortError(undefined, { ...context, cause: error });
  if (error instanceof APIConnectionTimeoutError)
    return new TimeoutError(`The call to ${context.model} timed out.`, { ...context, cause: error });
  if (error instanceof APIConnectionError) {
    // The SDK says only "Connection error."; where and why are in its cause's cause.
    const where = displayUrl(baseURL);
    return new ProviderError(
      `Could not reach the Anthropic API${where ? ` at ${where}` : ""}: ${describeConnectionError(error)}`,
      { ...context, cause: error, retryable: true },
    );
  }
  if (error instanceof APIError) {
    const status = typeof error.status === "number" ? error.status : undefined;
    const detail = error.apiMessage ?? error.message;
    const type = error.type ?? "error";
    if (status === undefined) {
      // An `event: error` inside a stream (overloaded, api_error) has no HTTP status.
      const retryable = /overloaded|api_error|rate_limit/.test(type);
      return new ProviderError(`Anthropic stream error (${type}): ${detail}`, { ...context, cause: error, retryable });
    }
    const retryAfterMs = parseRetryAfter((name) => error.headers?.get(name));
    const contextLength = status === 400 && /prompt is too long|context (length|window)|too many tokens/i.test(detail);
    const hint = status === 404 && type === "not_found_error" ? ` (is "${modelId}" a model id your key can use?)` : "";
    return errorFromStatus(status, `Anthropic API error ${status} (${type}): ${detail}${hint}`, {
      ...context,
      cause: error,
      contextLength,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  return undefined;
}
