import { inspect } from "node:util";
import {
  AbortError,
  type GenerateRequest,
  type Model,
  type OrchestratorError,
  ProviderError,
  type StreamChunk,
  TimeoutError,
} from "@orchestrator-ts/core";
import { afterAll, describe, expect, it } from "vitest";

export interface ConformanceOptions {
  /** The request every check sends (default: one user message, temperature 0, seed 7, maxTokens 32). */
  request?: GenerateRequest;
  /** The API key or token the model was created with: it must never be visible. */
  secret?: string;
  /** The provider reports token usage (default true). */
  reportsUsage?: boolean;
  /** Same request, same text (default true): streamed text must then equal generated text. */
  deterministic?: boolean;
  /** Make the next call of `model` fail at the provider (e.g. tell a loopback server to answer 500). */
  injectFailure?: (model: Model) => void | Promise<void>;
  /** The error class the injected failure must surface as (default `ProviderError`). */
  expectedFailure?: typeof OrchestratorError;
  /** Make the next call slow (ms) so abort lands mid-flight; without it, abort fires right after the call starts. */
  injectLatency?: (model: Model, ms: number) => void | Promise<void>;
  /** Per-test timeout in ms (default 30 s). */
  timeoutMs?: number;
}

const DEFAULT_REQUEST: GenerateRequest = {
  messages: [{ role: "user", content: "Say hello to the conformance suite." }],
  temperature: 0,
  seed: 7,
  maxTokens: 32,
};

async function collect(
  stream: AsyncIterable<StreamChunk>,
): Promise<{ text: string; finish: StreamChunk | undefined; chunks: number }> {
  let text = "";
  let finish: StreamChunk | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    if (chunk.type === "text") {
      text += chunk.text;
      chunks++;
    } else if (chunk.type === "finish") finish = chunk;
  }
  return { text, finish, chunks };
}

/**
 * The suite every model package runs, ours and third parties': generate, stream, usage and cost
 * in metrics, abort, typed provider failures, health, idempotent cleanup, no visible secrets.
 * `factory` makes a fresh model for each check.
 */
export function describeModelConformance(
  name: string,
  factory: () => Model | Promise<Model>,
  options: ConformanceOptions = {},
): void {
  const request = options.request ?? DEFAULT_REQUEST;
  const timeout = options.timeoutMs ?? 30_000;
  const made: Model[] = [];
  const fresh = async () => {
    const model = await factory();
    made.push(model);
    return model;
  };

  describe(`model conformance: ${name}`, () => {
    afterAll(async () => {
      await Promise.all(made.map((m) => m.cleanup().catch(() => undefined)));
    });

    it("generates a well-formed result", { timeout }, async () => {
      const model = await fresh();
      const result = await model.generate(request);
      expect(typeof result.text).toBe("string");
      expect(result.text.length + result.toolCalls.length).toBeGreaterThan(0);
      expect(result.model).toBe(model.name);
      expect(result.provider).toBe(model.provider);
      expect(result.cached).toBe(false);
      expect(result.latencyMs).toBeGreaterThan(0);
      expect(result.finishReason.unified).toMatch(/^(stop|length|tool-calls|content-filter|error|other)$/);
      expect(
        await model.generateResponse(String((request.messages.at(-1)?.content as string) ?? "hi"), {
          maxTokens: request.maxTokens ?? 32,
        }),
      ).toEqual(expect.any(String));
    });

    it("streams text that assembles to what generate returns", { timeout }, async () => {
      const model = await fresh();
      const generated = await model.generate(request);
      const streamed = await collect(model.stream(request));
      expect(streamed.finish?.type).toBe("finish");
      if (options.deterministic ?? true) expect(streamed.text).toBe(generated.text);
      else expect(streamed.text.length).toBeGreaterThan(0);
      if (model.capabilities.supportsStreaming && generated.text.length > 16)
        expect(streamed.chunks).toBeGreaterThan(1);
      const viaSugar: string[] = [];
      for await (const piece of model.streamResponse("hello", { maxTokens: 8 })) viaSugar.push(piece);
      expect(viaSugar.every((p) => typeof p === "string")).toBe(true);
    });

    it("records usage, cost and latency in metrics", { timeout }, async () => {
      const model = await fresh();
      const result = await model.generate(request);
      const metrics = model.metrics.snapshot();
      expect(metrics.requests).toBe(1);
      expect(metrics.successes).toBe(1);
      expect(metrics.latencyP50Ms).toBeGreaterThan(0);
      if (options.reportsUsage ?? true) {
        expect(result.usage.inputTokens).toBeGreaterThan(0);
        expect(result.usage.outputTokens).toBeGreaterThan(0);
        expect(metrics.inputTokens).toBe(result.usage.inputTokens);
        expect(metrics.outputTokens).toBe(result.usage.outputTokens);
        // Cost is the provider's own figure when it reports one, else priced from the declared per-token prices.
        expect(result.costUsd).toBeGreaterThanOrEqual(0);
        const { inputCostPerToken, outputCostPerToken } = model.capabilities;
        if (inputCostPerToken > 0 || outputCostPerToken > 0) expect(result.costUsd).toBeGreaterThan(0);
        expect(metrics.totalCost).toBeCloseTo(result.costUsd ?? Number.NaN, 12);
      }
    });

    it("rejects with AbortError when the caller aborts", { timeout }, async () => {
      const model = await fresh();
      await model.initialize();
      if (options.injectLatency) await options.injectLatency(model, 2_000);
      const controller = new AbortController();
      const pending = model.generate({ ...request, signal: controller.signal });
      // Without a way to slow the provider down, abort right after the call started (it is in flight by then).
      if (options.injectLatency) setTimeout(() => controller.abort(), 50);
      else controller.abort();
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(AbortError.isInstance(error), `expected AbortError, got ${inspect(error)}`).toBe(true);
      const already = new AbortController();
      already.abort();
      await expect(model.generate({ ...request, signal: already.signal })).rejects.toSatisfy((e: unknown) =>
        AbortError.isInstance(e),
      );
    });

    if (options.injectLatency) {
      const injectLatency = options.injectLatency;
      it("ends a stalled stream at its deadline with TimeoutError", { timeout }, async () => {
        const model = await fresh();
        await model.initialize();
        await injectLatency(model, 5_000);
        const started = performance.now();
        const error = await (async () => {
          for await (const _ of model.stream({ ...request, timeoutMs: 100 })) {
            // draining
          }
        })().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(TimeoutError.isInstance(error), `expected TimeoutError, got ${inspect(error)}`).toBe(true);
        expect(performance.now() - started).toBeLessThan(3_000);
      });
    }

    if (options.injectFailure) {
      const inject = options.injectFailure;
      it("surfaces provider failures as typed errors", { timeout }, async () => {
        const model = await fresh();
        await model.initialize();
        await inject(model);
        const error = await model.generate(request).then(
          () => undefined,
          (e: unknown) => e,
        );
        const expected = options.expectedFailure ?? ProviderError;
        expect(expected.isInstance(error), `expected ${expected.errorName}, got ${inspect(error)}`).toBe(true);
        expect(model.metrics.failures).toBe(1);
        expect(model.metrics.lastError?.code).toBe((error as OrchestratorError).code);
      });
    }

    it("answers its health check", { timeout }, async () => {
      const model = await fresh();
      expect(await model.healthCheck()).toBe(true);
    });

    it("cleans up idempotently", { timeout }, async () => {
      const model = await fresh();
      await model.generate(request);
      await model.cleanup();
      await model.cleanup();
      await Promise.all([model.cleanup(), model.cleanup()]);
      expect(model.isInitialized).toBe(false);
    });

    it("never shows its secret in inspection, JSON or errors", { timeout }, async () => {
      const model = await fresh();
      await model.generate(request);
      const views = [inspect(model, { depth: 20, showHidden: true }), JSON.stringify(model), String(model)];
      if (options.injectFailure) {
        await options.injectFailure(model);
        const error = await model.generate(request).then(
          () => undefined,
          (e: unknown) => e,
        );
        views.push(
          inspect(error, { depth: 20 }),
          JSON.stringify(error),
          String((error as Error)?.message),
          String((error as Error)?.stack),
        );
      }
      views.push(JSON.stringify(model.metrics.snapshot()));
      if (options.secret) for (const view of views) expect(view).not.toContain(options.secret);
      else expect(views.join("")).not.toMatch(/sk-[A-Za-z0-9]{16,}/);
    });
  });
}

export { describeProviderFaults, type ProviderFaultsSetup } from "./provider-faults";
