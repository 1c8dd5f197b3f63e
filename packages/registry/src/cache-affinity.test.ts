import { ModelCache } from "@orchestrator-ts/cache";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./index";

function registryWithCache() {
  const models = ["a", "b", "c"].map((name, i) => new FakeModel({ name, seed: i + 1, response: `answer from ${name}` }));
  const registry = new ModelRegistry({ cache: new ModelCache({ backend: "memory" }) });
  for (const m of models) registry.registerModel(m);
  return { registry, models };
}

describe("registry-level cache", () => {
  it("answers an identical request from the cache of the model that answered it, though the selector is still exploring", async () => {
    const { registry, models } = registryWithCache();
    const request = { messages: [{ role: "user" as const, content: "What is a bandit?" }] };
    const first = await registry.generate(request);
    // The UCB selector tries untried models first: without affinity the repeat would go to another model.
    const again = await registry.generate(request);
    expect(again.cached).toBe(true);
    expect(again.model).toBe(first.model);
    expect(again.text).toBe(first.text);
    expect(again.explanation.candidates.find((c) => c.chosen)?.note).toMatch(/cached answer is reused/);
    expect(models.reduce((n, m) => n + m.calls, 0)).toBe(1);
    // A cache hit teaches the bandit nothing: one trial in total.
    expect(registry.getStatistics().models.reduce((n, m) => n + m.trials, 0)).toBe(1);
    // A different request is selected as usual.
    const other = await registry.generate({ messages: [{ role: "user", content: "Something else" }] });
    expect(other.cached).toBe(false);
    expect(other.model).not.toBe(first.model);
  });

  it("streams a repeated request from the same model's cache, and respects cache: false and other requirements", async () => {
    const { registry, models } = registryWithCache();
    const request = { messages: [{ role: "user" as const, content: "Stream this" }] };
    let firstModel: string | undefined;
    for await (const chunk of registry.stream(request)) if (chunk.type === "finish") firstModel = chunk.model;
    let cached: boolean | undefined;
    let model: string | undefined;
    for await (const chunk of registry.stream(request)) if (chunk.type === "finish") ({ cached, model } = chunk);
    expect(cached).toBe(true);
    expect(model).toBe(firstModel);
    const bypass = await registry.generate({ ...request, cache: false });
    expect(bypass.cached).toBe(false);
    // Requirements are part of the key: the same prompt under other requirements is a new decision.
    const constrained = await registry.generate(request, { providers: ["fake"], excludeProviders: [] });
    expect(constrained.explanation.candidates.find((c) => c.chosen)?.note ?? "").not.toMatch(/cached answer/);
    expect(models.reduce((n, m) => n + m.calls, 0)).toBeGreaterThanOrEqual(2);
  });

  it("does not route to a model that is no longer eligible", async () => {
    const { registry } = registryWithCache();
    const request = { messages: [{ role: "user" as const, content: "Pinned?" }] };
    const first = await registry.generate(request);
    registry.unregisterModel(first.model);
    const again = await registry.generate(request);
    expect(again.model).not.toBe(first.model);
    expect(again.cached).toBe(false);
  });
});
