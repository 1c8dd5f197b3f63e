// A library process configured with Redis publishes a decision record per call (which model, its
// score and the alternatives, latency, cost, cache, cascade stages) so that `orchestrator
// dashboard` can show its live feed. Publishing only appends to a buffer; the Redis stream writes
// batches (see RedisDecisionStream), so a call pays for a few allocations, never a Redis round trip.
import { hostname } from "node:os";
import { replaceMethods, rewrapStream } from "@orchestrator-ts/core/internal";
import type { ModelRegistry, RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import { type DecisionRecord, decisionOfError, decisionOfResult } from "@orchestrator-ts/server";

/** Where decision records go (a `RedisDecisionStream`, which serialises them at its next flush). */
export interface DecisionSink {
  publish(decision: { toJSON(): DecisionRecord }): void;
}

/**
 * A call's record, made when the sink serialises it (off the call's path): until then it holds
 * what the call already built — no copy of the answer's text is ever made.
 */
class Deferred {
  readonly #make: () => DecisionRecord;
  constructor(make: () => DecisionRecord) {
    this.#make = make;
  }
  toJSON(): DecisionRecord {
    return this.#make();
  }
}

type Generate = ModelRegistry["generate"];
type Stream = ModelRegistry["stream"];

/**
 * Publish a record of every call through `registry.generate` / `registry.stream` to `sink`.
 * Returns the function that stops it (the registry's own methods are back).
 */
export function publishDecisions(registry: ModelRegistry, sink: DecisionSink): () => void {
  const source = `${hostname()}:${process.pid}`;
  const originalGenerate = registry.generate;
  const originalStream = registry.stream;
  const publish = (make: () => DecisionRecord): void => {
    try {
      sink.publish(new Deferred(make));
    } catch {
      // The feed must never change the outcome of a call.
    }
  };

  const generate: Generate = function generate(request, requirements) {
    const startedAt = performance.now();
    const route = request?.route;
    return originalGenerate.call(registry, request, requirements).then(
      (result) => {
        const at = Date.now();
        // Until the flush only what the record needs is held: never the answer's text.
        const kept = {
          model: result.model,
          latencyMs: result.latencyMs,
          costUsd: result.costUsd,
          cached: result.cached,
          usage: result.usage,
          selectionId: result.selectionId,
          explanation: result.explanation,
          attempts: result.attempts,
          cascade: result.cascade,
        } as RegistryResult;
        publish(() => decisionOfResult(kept, { route, stream: false, source, at }));
        return result;
      },
      (error: unknown) => {
        const latencyMs = performance.now() - startedAt;
        const at = Date.now();
        publish(() => decisionOfError(error, { route, stream: false, source, latencyMs, at }));
        throw error;
      },
    );
  };

  const stream: Stream = function stream(request, requirements) {
    const inner = originalStream.call(registry, request, requirements);
    const route = request?.route;
    async function* run(): AsyncGenerator<RegistryStreamChunk> {
      const startedAt = performance.now();
      try {
        for await (const chunk of inner) {
          if (chunk.type === "finish" && "selectionId" in chunk) {
            // The finish chunk has what a whole result has, but the text (a record never holds it).
            const result = {
              ...chunk,
              text: "",
              toolCalls: [],
              usage: chunk.usage ?? {},
              latencyMs: chunk.latencyMs ?? performance.now() - startedAt,
              cached: chunk.cached === true,
              explanation: inner.explanation,
            } as unknown as RegistryResult;
            const at = Date.now();
            publish(() => decisionOfResult(result, { route, stream: true, source, at }));
          }
          yield chunk;
        }
      } catch (error) {
        const latencyMs = performance.now() - startedAt;
        const at = Date.now();
        publish(() => decisionOfError(error, { route, stream: true, source, latencyMs, at }));
        throw error;
      }
    }
    return rewrapStream(inner, run);
  };

  // Until stopped; then the registry's own methods (or what was there before) are back.
  return replaceMethods(registry, { generate, stream });
}
