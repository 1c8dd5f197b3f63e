import { type ModelSelector, defineSelector } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { CostBasedSelector, PerformanceSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import { RoundRobinSelector, WeightedRandomSelector } from "./simple-selectors";
import { ask } from "./test-helpers";
import { ThompsonSamplingSelector } from "./thompson-selector";

function registryWith(selector: ModelSelector, ...names: string[]) {
  const registry = new ModelRegistry({ modelSelector: selector, backoff: { initialMs: 1, maxMs: 5 } });
  for (const name of names) registry.registerModel(new FakeModel({ name }));
  return registry;
}

describe("ThompsonSamplingSelector", () => {
  it("learns the better model through generate + feedback", async () => {
    const registry = new ModelRegistry({
      modelSelector: new ThompsonSamplingSelector({ seed: 3 }),
      maxRetries: 0,
      maxFallbacks: 0,
    });
    registry.registerModel(new FakeModel({ name: "good", seed: 1 }));
    registry.registerModel(new FakeModel({ name: "bad", successRate: 0.3, seed: 2 }));
    const picks: string[] = [];
    for (let i = 0; i < 400; i++) {
      const r = await registry.generate(ask(`q${i}`)).catch(() => undefined);
      if (r) picks.push(r.model);
      else picks.push("bad");
    }
    expect(picks.slice(-100).filter((p) => p === "good").length).toBeGreaterThanOrEqual(85);
    const e = registry.explainSelection();
    expect(e.candidates.every((c) => c.note === "sampled from the posterior" && c.score >= 0 && c.score <= 1)).toBe(
      true,
    );
  });
});

describe("WeightedRandomSelector", () => {
  it("splits traffic in proportion to the weights (seeded), and excludes zero weights", () => {
    const registry = registryWith(
      new WeightedRandomSelector({ weights: { a: 3, b: 1, c: 0 }, seed: 42 }),
      "a",
      "b",
      "c",
    );
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 4000; i++) {
      const name = registry.selectModel().name;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect(counts.c).toBe(0);
    expect((counts.a ?? 0) / 4000).toBeCloseTo(0.75, 1);
    const e = registry.explainSelection();
    expect(e.excluded).toEqual([{ model: "c", code: "selector", reason: "weighted-random selector: its weight is 0" }]);
    expect(e.candidates.map((c) => c.score)).toEqual([0.75, 0.25]);
  });
});

describe("RoundRobinSelector", () => {
  it("takes eligible models in turn and skips ineligible ones", () => {
    const registry = registryWith(new RoundRobinSelector(), "a", "b", "c");
    expect(Array.from({ length: 5 }, () => registry.selectModel().name)).toEqual(["a", "b", "c", "a", "b"]);
    expect(registry.selectModel({ providers: ["fake"] }).name).toBe("c");
    registry.unregisterModel("a");
    expect(Array.from({ length: 3 }, () => registry.selectModel().name)).toEqual(["b", "c", "b"]);
  });
});

describe("CostBasedSelector", () => {
  it("prices the actual request: a long prompt can change the cheapest model", () => {
    const registry = new ModelRegistry({ modelSelector: new CostBasedSelector() });
    // Cheap prompt tokens but expensive completions, and the opposite.
    registry.registerModel(
      new FakeModel({ name: "cheap-input", capabilities: { inputCostPerToken: 0.000001, outputCostPerToken: 0.0001 } }),
    );
    registry.registerModel(
      new FakeModel({
        name: "cheap-output",
        capabilities: { inputCostPerToken: 0.00002, outputCostPerToken: 0.000001 },
      }),
    );
    expect(registry.selectModel({}, { request: ask("short", { maxTokens: 1000 }) }).name).toBe("cheap-output");
    expect(registry.selectModel({}, { request: ask("x".repeat(40_000), { maxTokens: 10 }) }).name).toBe("cheap-input");
  });
});

describe("PerformanceSelector", () => {
  it("prefers observed speed and latency once known", async () => {
    const selector = new PerformanceSelector({ maxResponseTimeMs: 25 });
    const registry = new ModelRegistry({ modelSelector: selector });
    const slow = registry.registerModel(new FakeModel({ name: "slow", latencyMs: 40 }));
    const quick = registry.registerModel(new FakeModel({ name: "quick", latencyMs: 1 }));
    await slow.generate(ask("a b c"));
    await quick.generate(ask("a b c"));
    const e = registry.explainSelection();
    expect(e.model?.name).toBe("quick");
    expect(e.excluded[0]).toMatchObject({
      model: "slow",
      code: "selector",
      reason: expect.stringMatching(/observed p95 latency \d+ ms exceeds maxResponseTime 25 ms/),
    });
  });
});

describe("custom selectors", () => {
  it("a user-written selector gets candidates with statistics and learns through update()", async () => {
    const seen: string[] = [];
    const alphabetical = defineSelector({
      name: "alphabetical-last",
      select(candidates, context) {
        let best = 0;
        candidates.forEach((c, i) => {
          if (c.model.name > (candidates[best]?.model.name ?? "")) best = i;
        });
        return context.explain
          ? { index: best, scores: candidates.map((c) => ({ score: c.overall?.trials ?? 0 })) }
          : { index: best };
      },
      update(event) {
        seen.push(`${event.type}:${event.model}`);
      },
    });
    const registry = registryWith(alphabetical, "alpha", "omega");
    const r = await registry.generate(ask("x"));
    registry.recordFeedback(r.selectionId, { quality: 1 });
    expect(r.model).toBe("omega");
    expect(seen).toEqual(["outcome:omega", "feedback:omega"]);
    expect(registry.explainSelection().candidates.map((c) => [c.model, c.score])).toEqual([
      ["alpha", 0],
      ["omega", 1],
    ]);
  });

  it("a selector that returns a bad index is a clear error", () => {
    const registry = registryWith(defineSelector({ name: "broken", select: () => ({ index: 5 }) }), "a");
    expect(() => registry.selectModel()).toThrow(/selector "broken" returned index 5 for 1 candidates/);
  });
});
