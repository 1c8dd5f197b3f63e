import { OrchestratorError } from "@orchestrator-ts/core";

/** Reported for a failed backend operation (the call itself went to the provider). */
export class CacheBackendError extends OrchestratorError {
  static override readonly errorName: string = "CacheBackendError";
  override readonly code = "cache_backend_error";
}
