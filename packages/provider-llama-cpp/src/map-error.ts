import { OrchestratorError, ProviderError } from "@orchestrator-ts/core";
import { InsufficientMemoryError } from "./errors";

/**
 * node-llama-cpp's failures in the core error family; `undefined` for anything it does not
 * recognise (the model falls back to the generic mapping). Our own errors pass through.
 */
export function mapLlamaCppError(
  error: unknown,
  context: { provider: string; model: string },
): OrchestratorError | undefined {
  if (OrchestratorError.isInstance(error)) return error;
  const e = error as { name?: string; message?: string };
  if (e?.name === "InsufficientMemoryError")
    return new InsufficientMemoryError(`Not enough memory for ${context.model}: ${e.message ?? ""}`, 0, 0, {
      ...context,
      cause: error,
    });
  if (e?.name === "DisposedError")
    return new ProviderError(`${context.model} was unloaded during the call`, {
      ...context,
      retryable: true,
      cause: error,
    });
  return undefined;
}
