import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ModelCache } from "@orchestrator-ts/cache";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./index";

function heap(): { gc: () => void; usedMb: () => number } {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  return { gc, usedMb: () => process.memoryUsage().heapUsed / 1e6 };
}

function registryWithCache() {
  const models = ["a", "b", "c"].map(
    (name, i) => new FakeModel({ name, seed: i + 1, response: `answer from ${name}` }),
  );
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

  // ~100 MB of prompts go through: seconds on a loaded machine.
  it("remembers which model answered by the cache key, not the request: 2,000 distinct 50 KB prompts keep the heap flat", {
    timeout: 60_000,
  }, async () => {
    const { gc, usedMb } = heap();
    // The cache itself is bounded to 1 MB.
    const registry = new ModelRegistry({ cache: new ModelCache({ backend: "memory", maxBytes: 1_000_000 }) });
    for (const name of ["a", "b", "c"]) registry.registerModel(new FakeModel({ name, response: "ok", usage: null }));
    const filler = "lorem ipsum dolor ".repeat(2_800); // ~50 KB
    await registry.generate({ messages: [{ role: "user", content: `warm-up ${filler}` }] });
    gc();
    const before = usedMb();
    for (let i = 0; i < 2_000; i++)
      await registry.generate({ messages: [{ role: "user", content: `${i} ${filler}` }] });
    gc();
    const grownMb = usedMb() - before;
    // Still reachable after the measurement, so nothing of it can be collected first.
    expect(registry.size).toBe(3);
    // Keyed by the whole request text the map held every prompt: +105 MB here.
    expect(grownMb).toBeLessThan(15);
    // And affinity still works for a prompt that is in the cache.
    const last = { messages: [{ role: "user" as const, content: `1999 ${filler}` }] };
    const again = await registry.generate(last);
    expect(again.cached).toBe(true);
  });

  it("forgets a request when the cache can no longer hold its answer (maxSize), so the selector decides again", async () => {
    const models = ["a", "b", "c"].map((name) => new FakeModel({ name, response: `answer from ${name}` }));
    const registry = new ModelRegistry({ cache: new ModelCache({ backend: "memory", maxSize: 2 }) });
    for (const m of models) registry.registerModel(m);
    const first = await registry.generate({ messages: [{ role: "user", content: "one" }] });
    await registry.generate({ messages: [{ role: "user", content: "two" }] });
    await registry.generate({ messages: [{ role: "user", content: "three" }] });
    // The cache evicted "one": the registry must not claim to reuse a cached answer it no longer has.
    const again = await registry.generate({ messages: [{ role: "user", content: "one" }] });
    expect(again.cached).toBe(false);
    expect(again.explanation.candidates.find((c) => c.chosen)?.note ?? "").not.toMatch(/cached answer is reused/);
    expect(
      again.explanation.candidates.filter((c) => Number.isFinite(c.score) || c.score === Number.POSITIVE_INFINITY)
        .length,
    ).toBe(3);
    void first;
  });

  it("forgets a request once the cache's entry has expired (ttlMs)", async () => {
    const models = ["a", "b", "c"].map((name) => new FakeModel({ name, response: `answer from ${name}` }));
    const registry = new ModelRegistry({ cache: new ModelCache({ backend: "memory", ttlMs: 30 }) });
    for (const m of models) registry.registerModel(m);
    const request = { messages: [{ role: "user" as const, content: "short-lived" }] };
    await registry.generate(request);
    expect((await registry.generate(request)).cached).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const later = await registry.generate(request);
    expect(later.cached).toBe(false);
    expect(later.explanation.candidates.find((c) => c.chosen)?.note ?? "").not.toMatch(/cached answer is reused/);
  });
});
