import { RedisRateLimiter } from "@orchestrator-ts/redis";
import { FakeModel, startRedisServer } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { CostBasedSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import { ask } from "./test-helpers";
import { UCBModelSelector } from "./ucb-selector";

function identical(selector?: UCBModelSelector) {
  const registry = new ModelRegistry({
    maxRetries: 0,
    maxFallbacks: 0,
    ...(selector ? { modelSelector: selector } : {}),
  });
  for (const name of ["a", "b", "c"])
    registry.registerModel(new FakeModel({ name, seed: name.charCodeAt(0), latencyMs: 2 }));
  return registry;
}

/** `n` concurrent registry.generate calls; how many each model answered. */
async function burst(registry: ModelRegistry, n: number, offset = 0): Promise<Record<string, number>> {
  const results = await Promise.all(Array.from({ length: n }, (_, i) => registry.generate(ask(`burst ${offset + i}`))));
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.model] = (counts[r.model] ?? 0) + 1;
  return counts;
}

const pendingOf = (registry: ModelRegistry) =>
  Object.fromEntries(registry.explainSelection().candidates.map((c) => [c.model, c.pending]));

// Hundreds of calls per test: give them room on a loaded machine.
describe("concurrent selections with the default UCB selector", { timeout: 30_000 }, () => {
  it("spread a cold burst of 600 concurrent calls over 3 identical models (was 600/0/0)", async () => {
    const registry = identical();
    const counts = await burst(registry, 600);
    for (const name of ["a", "b", "c"]) expect(counts[name] ?? 0).toBeGreaterThanOrEqual(150);
    expect(pendingOf(registry)).toEqual({ a: 0, b: 0, c: 0 });
  });

  it("spread a warm burst too: calls in flight count as pending trials", async () => {
    const registry = identical();
    for (let i = 0; i < 90; i++) await registry.generate(ask(`warm ${i}`));
    expect(registry.getStatistics().models.map((m) => m.trials)).toEqual([30, 30, 30]);
    const counts = await burst(registry, 600);
    for (const name of ["a", "b", "c"]) expect(counts[name] ?? 0).toBeGreaterThanOrEqual(150);
    expect(pendingOf(registry)).toEqual({ a: 0, b: 0, c: 0 });
  });

  it("still sends a burst to a clearly better model, and keeps converging under concurrent load", async () => {
    const registry = new ModelRegistry({ maxRetries: 0, maxFallbacks: 0 });
    registry.registerModel(new FakeModel({ name: "good", seed: 1, latencyMs: 1 }));
    registry.registerModel(new FakeModel({ name: "flaky", seed: 2, latencyMs: 1, successRate: 0.5 }));
    registry.registerModel(new FakeModel({ name: "flakier", seed: 3, latencyMs: 1, successRate: 0.4 }));
    const picks: string[] = [];
    registry.on("selection", (e) => picks.push(e.model));
    // Rounds of 20 concurrent calls: the bandit learns between rounds.
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => registry.generate(ask(`r${round} q${i}`)).catch(() => undefined)),
      );
    }
    const last = picks.slice(-200);
    expect(last.filter((p) => p === "good").length / last.length).toBeGreaterThanOrEqual(0.8);
    // A burst once it has learnt: nearly all of it to the best model.
    const start = picks.length;
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => registry.generate(ask(`late ${i}`)).catch(() => undefined)),
    );
    const late = picks.slice(start);
    expect(late.filter((p) => p === "good").length / late.length).toBeGreaterThanOrEqual(0.9);
    expect(pendingOf(registry)).toEqual({ good: 0, flaky: 0, flakier: 0 });
  });

  it("spreads concurrent streams, and releases every pending call: failed or left early", async () => {
    const registry = new ModelRegistry({ maxRetries: 1, maxFallbacks: 1, backoff: { initialMs: 1, maxMs: 2 } });
    for (const name of ["a", "b", "c"])
      registry.registerModel(new FakeModel({ name, seed: name.charCodeAt(0), chunkDelayMs: 1, successRate: 0.8 }));
    const models: string[] = [];
    const consume = async (i: number) => {
      const stream = registry.stream(ask(`stream ${i} with a few words`));
      try {
        for await (const chunk of stream) {
          if (chunk.type === "finish") models.push(chunk.model ?? "");
          // Every fifth caller leaves after the first chunk.
          if (i % 5 === 0) break;
        }
      } catch {
        // A failure after the first chunk rejects: counted below through pending.
      }
    };
    await Promise.all(Array.from({ length: 90 }, (_, i) => consume(i)));
    const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (const m of models) counts[m] = (counts[m] ?? 0) + 1;
    for (const name of ["a", "b", "c"]) expect(counts[name]).toBeGreaterThanOrEqual(10);
    expect(pendingOf(registry)).toEqual({ a: 0, b: 0, c: 0 });
  });

  it("releases the pending call of a request aborted while it waits to retry", async () => {
    const registry = new ModelRegistry({ backoff: { initialMs: 10_000, jitter: "none" } });
    registry.registerModel(new FakeModel({ name: "a", script: [{ fail: "server-error" }] }));
    const controller = new AbortController();
    registry.on("outcome", () => controller.abort());
    const pending = registry.generate(ask("x", { signal: controller.signal }));
    await expect(pending).rejects.toMatchObject({ code: "abort_error" });
    expect(pendingOf(registry)).toEqual({ a: 0 });
  });

  it("explains a selection made while calls are in flight", async () => {
    const registry = identical(new UCBModelSelector({ minTrials: 0 }));
    const running = Promise.all([
      registry.generate(ask("1")),
      registry.generate(ask("2")),
      registry.generate(ask("3")),
      registry.generate(ask("4")),
    ]);
    const explanation = registry.explainSelection();
    expect(explanation.candidates.map((c) => c.pending).reduce((a, b) => a + b, 0)).toBe(4);
    expect(explanation.candidates.find((c) => c.chosen)?.pending).toBe(1);
    await running;
  });
});

describe("a burst selected in one tick and a model's limits", () => {
  /** "cheap" is preferred (CostBasedSelector) but limited; "dear" is not. */
  function limited(constraints: { maxConcurrentRequests?: number; maxRequestsPerMinute?: number }) {
    const registry = new ModelRegistry({ modelSelector: new CostBasedSelector(), maxRetries: 0 });
    registry.registerModel(
      new FakeModel({
        name: "cheap",
        latencyMs: 300,
        constraints,
        capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 },
      }),
    );
    registry.registerModel(
      new FakeModel({
        name: "dear",
        latencyMs: 300,
        capabilities: { inputCostPerToken: 1e-5, outputCostPerToken: 1e-5 },
      }),
    );
    return registry;
  }

  /** The burst's test, `shared` giving each registry's "cheap" its limits through Redis (a fleet's). */
  async function spreads(shared?: { url: string }) {
    for (const constraints of [{ maxConcurrentRequests: 1 }, { maxRequestsPerMinute: 2 }]) {
      const registry = limited(constraints);
      const limiter = shared
        ? new RedisRateLimiter({ url: shared.url, key: `cheap-${Object.keys(constraints)[0]}`, ...constraints })
        : undefined;
      if (limiter) registry.getModel("cheap").setRateLimiter(limiter);
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => registry.generate({ ...ask(`q${i}`), timeoutMs: 5_000 })),
      );
      const limit = constraints.maxConcurrentRequests ?? constraints.maxRequestsPerMinute;
      // Before, all four were chosen for "cheap" and waited in its queue (one at a time, or 30 s for a slot).
      expect(
        results.filter((r) => r.model === "cheap"),
        JSON.stringify(constraints),
      ).toHaveLength(limit as number);
      expect(results.every((r) => r.attempts.length === 1)).toBe(true);
      expect(performance.now() - started).toBeLessThan(1_500);
      await limiter?.close();
    }
  }

  it("calls chosen for a model but not started yet take its slots: the rest of the burst goes elsewhere at once instead of queueing", async () => {
    await spreads();
  });

  it("the same with the model's limits shared through Redis (RedisRateLimiter)", async () => {
    const redis = await startRedisServer();
    try {
      await spreads(redis);
    } finally {
      await redis.stop();
    }
  });
});
