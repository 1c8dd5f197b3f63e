import { OrchestratorError, ProviderError, displayUrl, errorFromStatus } from "@orchestrator-ts/core";
import { describeConnectionError, toOrchestratorError } from "@orchestrator-ts/core/internal";

interface Context {
  provider: string;
  model: string;
  /** The server, named when it cannot be reached or lacks the model. */
  baseUrl: string;
  /** The Ollama model tag, named in the `ollama pull` hint. */
  modelPath: string;
}

/** The ollama client's failures (HTTP errors, errors inside a stream, connection errors) in the core error family. */
export function mapOllamaError(error: unknown, { baseUrl, modelPath, ...context }: Context): OrchestratorError {
  if (OrchestratorError.isInstance(error)) return error;
  const e = (error ?? {}) as { name?: unknown; message?: unknown; status_code?: unknown; retryAfterMs?: unknown };
  const message = typeof e.message === "string" ? e.message : String(error);
  // The client does not export ResponseError: recognise it by name and status_code.
  if (e.name === "ResponseError" && typeof e.status_code === "number") {
    const status = e.status_code;
    if (status === 404 && /not found/i.test(message)) {
      return new ProviderError(
        `Ollama at ${baseUrl} has no model "${modelPath}" (${message}): run \`ollama pull ${modelPath}\` or set \`pull: true\`.`,
        {
          ...context,
          status,
          retryable: false,
          cause: error,
        },
      );
    }
    const contextLength = /context length|context window|exceeds the context/i.test(message);
    const retryAfterMs = typeof e.retryAfterMs === "number" ? e.retryAfterMs : undefined;
    return errorFromStatus(status, `Ollama error ${status}: ${message}`, {
      ...context,
      cause: error,
      contextLength,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (/Did not receive done or success response in stream/.test(message)) {
    return new ProviderError(`The Ollama stream ended early: ${message}`, {
      ...context,
      cause: error,
      retryable: true,
    });
  }
  if (isConnectionRefused(error)) {
    return new ProviderError(
      `Ollama is not reachable at ${displayUrl(baseUrl) ?? "its address"}: ${describeConnectionError(error)}. Is \`ollama serve\` running?`,
      {
        ...context,
        cause: error,
        retryable: true,
      },
    );
  }
  // A failure reported inside a streamed reply (`{"error": "..."}`) arrives as a plain Error.
  if (error instanceof Error && error.name === "Error" && !/fetch failed|terminated|socket|network/i.test(message)) {
    const contextLength = /context length|exceeds the context/i.test(message);
    if (contextLength)
      return errorFromStatus(400, `Ollama error: ${message}`, { ...context, cause: error, contextLength });
    return new ProviderError(`Ollama error: ${message}`, {
      ...context,
      cause: error,
      retryable: /busy|try again|overloaded/i.test(message),
    });
  }
  return toOrchestratorError(error, context);
}

function isConnectionRefused(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN") return true;
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some((e) => isConnectionRefused(e, depth + 1))) return true;
  return isConnectionRefused((error as { cause?: unknown }).cause, depth + 1);
}
