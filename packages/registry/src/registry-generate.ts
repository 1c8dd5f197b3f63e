import type { GenerateRequest, NormalizedRequirements, SelectionRequirements } from "@orchestrator-ts/core";
import { type CallLoop, type CallOptions, CallState } from "./call-state";
import type { Entry } from "./eligibility";
import type { SelectionExplanation } from "./explanation";
import { abortableSleep } from "./sleep";
import type { AttemptRecord, RegistryResult } from "./types";
import { withFields } from "@orchestrator-ts/core/internal";

// `registry.generate`'s call loop: select, call, and on failure ask the CallState what next
// (retry after a backoff, fall back to another model, or throw). registry-stream.ts is its streamed twin.

/** The call loop for one generate call; `attemptsOut` (a cascade's) receives its attempts, also when it fails. */
export async function registryGenerate(
  loop: CallLoop,
  request: GenerateRequest,
  normalized: NormalizedRequirements,
  requirements: SelectionRequirements | undefined,
  options?: CallOptions,
  attemptsOut?: AttemptRecord[],
): Promise<RegistryResult> {
  const call = new CallState(loop, request, normalized, requirements, undefined, options);
  if (attemptsOut === undefined || options?.cascade !== undefined) call.announce(false);
  try {
    for (;;) {
      // Never undefined here: only a call whose owner left (a stream's return()) gets no model.
      const entry = (await call.select()) as Entry;
      try {
        for (;;) {
          call.beginAttempt();
          try {
            const result = await entry.model.generate(call.callRequest);
            call.succeeded(result.latencyMs, result.costUsd, result.cached);
            return withFields(result, {
              selectionId: call.selectionId,
              explanation: call.explanation as SelectionExplanation,
              attempts: call.attempts,
            });
          } catch (thrown) {
            const next = call.afterFailure(thrown);
            if (next === "throw") throw call.lastError;
            if (next === "fallback") break;
            await abortableSleep(call.delayMs, request.signal);
          }
        }
      } finally {
        // Counted in flight since its selection; retries on the same model stay in flight.
        call.release();
      }
    }
  } finally {
    if (attemptsOut) attemptsOut.push(...call.attempts);
  }
}
