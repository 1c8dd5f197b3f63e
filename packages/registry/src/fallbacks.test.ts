import { ConfigError, ProviderError } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { CostBasedSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import type { ModelRegistryOptions } from "./types";
import { ScriptedHealth, ask } from "./test-helpers";

/** Models priced so the cost selector's own order is a, c, b, d, e: chains must visibly override it. */
const PRICES: Record<string, number> = { a: 1e-7, c: 2e-7, b: 3e-7, d: 4e-7, e: 5e-7 };

function setup(fallbacks: Record<string, string[]>, options: ModelRegistryOptions = {}) {
  const registry = new ModelRegistry({
    modelSelector: new CostBasedSelector(),
    maxRetries: 0,
    maxFallbacks: 4,
    backoff: { initialMs: 1, maxMs: 5 },
    fallbacks,
    ...options,
  });
  const models: Record<string, FakeModel> = {};
  for (const [name, price] of Object.entries(PRICES)) {
    const contextWindow = name === "e" ? 200_000 : 8_000;
    models[name] = registry.registerModel(
      new FakeModel({
        name,
        capabilities: {
          inputCostPerToken: price,
          outputCostPerToken: price,
          contextWindow,
          codeGeneration: name !== "b",
        },
      }),
    );
  }
  const model = (name: string) => models[name] as FakeModel;
  return { registry, model };
}

const path = (attempts: readonly { model: string; success: boolean }[]) =>
  attempts.map((a) => `${a.model}${a.success ? "" : "✗"}`).join(" ");

describe("explicit fallback chains", () => {
  it("a failing model is followed by its chain, in order, not by the selector's next-best", async () => {
    const { registry, model } = setup({ a: ["b", "d"] });
    expect(registry.selectModel().name).toBe("a");
    model("a").enqueue({ fail: "server-error" });
    const r1 = await registry.generate(ask("one"));
    expect(path(r1.attempts)).toBe("a✗ b");
    expect(r1.explanation.fallbackFor).toBe("a");
    const chosen = r1.explanation.candidates.find((c) => c.chosen);
    expect(chosen?.note).toBe('explicit fallback for "a" (fallbacks: b → d)');
    expect(r1.explanation.excluded).toContainEqual({
      model: "a",
      code: "already_tried",
      reason: "already failed in this call",
    });

    model("a").enqueue({ fail: "server-error" });
    model("b").enqueue({ fail: "timeout" });
    const r2 = await registry.generate(ask("two"));
    expect(path(r2.attempts)).toBe("a✗ b✗ d");

    // The chain used up: the selector's next-best (c, the cheapest left) takes over.
    model("a").enqueue({ fail: "server-error" });
    model("b").enqueue({ fail: "server-error" });
    model("d").enqueue({ fail: "server-error" });
    const r3 = await registry.generate(ask("three"));
    expect(path(r3.attempts)).toBe("a✗ b✗ d✗ c");
    expect(r3.explanation.fallbackFor).toBeUndefined();
    expect(r3.explanation.selector).toBe("cost");
  });

  it("a fallback's own chain goes first, then the rest of the earlier chain", async () => {
    const { registry, model } = setup({ a: ["b", "e"], b: ["d"] });
    model("a").enqueue({ fail: "server-error" });
    model("b").enqueue({ fail: "server-error" });
    model("d").enqueue({ fail: "server-error" });
    const r = await registry.generate(ask("x"));
    expect(path(r.attempts)).toBe("a✗ b✗ d✗ e");
    expect(r.explanation.fallbackFor).toBe("b");
  });

  it("chain members must still be eligible: requirements, health and limits skip them", async () => {
    const health = new ScriptedHealth();
    const { registry, model } = setup({ a: ["zzz-unregistered", "b", "d", "e"] }, { healthMonitor: health });
    health.set("d", "unhealthy", "circuit open");
    // b lacks codeGeneration, d is unhealthy, the unknown name is ignored: e is the first eligible.
    model("a").enqueue({ fail: "server-error" });
    const r = await registry.generate(ask("x"), { capabilities: ["codeGeneration"] });
    expect(path(r.attempts)).toBe("a✗ e");
    expect(r.explanation.excluded.map((x) => `${x.model}:${x.code}`)).toEqual([
      "a:already_tried",
      "b:capability",
      "d:unhealthy",
    ]);
  });

  it("a context-length failure skips chain members whose window is not larger", async () => {
    const { registry, model } = setup({ a: ["b", "c", "e"] });
    model("a").enqueue({ fail: "context-length" });
    const r = await registry.generate(ask("long"));
    expect(path(r.attempts)).toBe("a✗ e");
  });

  it("a non-retryable bad request is thrown at once; maxFallbacks bounds the chain", async () => {
    const { registry, model } = setup({ a: ["b", "d", "e"] }, { maxFallbacks: 1 });
    model("a").enqueue({ fail: new ProviderError("Invalid request.", { status: 400 }) });
    await expect(registry.generate(ask("x"))).rejects.toSatisfy(
      (e: unknown) => ProviderError.isInstance(e) && e.status === 400,
    );
    expect(model("b").calls).toBe(0);

    model("a").enqueue({ fail: "server-error" });
    model("b").enqueue({ fail: "server-error" });
    const error = await registry.generate(ask("y")).catch((e: unknown) => e);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(model("b").calls).toBe(1);
    expect(model("d").calls).toBe(0);
  });

  it("retries stay on the model; the chain starts when its retries are used up", async () => {
    const { registry, model } = setup({ a: ["d"] }, { maxRetries: 1 });
    model("a").enqueue({ fail: "server-error" }, { fail: "server-error" });
    const r = await registry.generate(ask("x"));
    expect(path(r.attempts)).toBe("a✗ a✗ d");
  });

  it("streams follow the chain when the failure comes before the first chunk", async () => {
    const { registry, model } = setup({ a: ["d"] });
    model("a").enqueue({ fail: "server-error" });
    const stream = registry.stream(ask("stream me"));
    let text = "";
    for await (const chunk of stream) if (chunk.type === "text") text += chunk.text;
    expect(text).toBe("d: stream me");
    expect(path(stream.attempts)).toBe("a✗ d");
    expect(stream.explanation?.fallbackFor).toBe("a");
  });

  it("validates the option and exposes it", () => {
    const bad = (fallbacks: unknown) => () => new ModelRegistry({ fallbacks: fallbacks as Record<string, string[]> });
    expect(bad(["a"])).toThrow(ConfigError);
    expect(bad({ a: "b" })).toThrow(/fallbacks\.a: must be a list of model names/);
    expect(bad({ a: ["b", 3] })).toThrow(/fallbacks\.a/);
    // Duplicates and the model itself are dropped.
    expect(new ModelRegistry({ fallbacks: { a: ["b", "a", "b", "c"] } }).fallbacks).toEqual({ a: ["b", "c"] });
    expect(new ModelRegistry().fallbacks).toEqual({});
  });
});

describe("registry timeoutMs", () => {
  it("is the deadline of each model call without its own: a slow model times out and the call falls back", async () => {
    const registry = new ModelRegistry({
      modelSelector: new CostBasedSelector(),
      timeoutMs: 30,
      maxRetries: 0,
      fallbacks: { slow: ["fast"] },
    });
    registry.registerModel(
      new FakeModel({
        name: "slow",
        latencyMs: 2_000,
        capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 },
      }),
    );
    registry.registerModel(
      new FakeModel({ name: "fast", capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 1e-6 } }),
    );
    const started = performance.now();
    const r = await registry.generate(ask("x"));
    expect(path(r.attempts)).toBe("slow✗ fast");
    expect(r.attempts[0]?.errorCode).toBe("timeout_error");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(() => new ModelRegistry({ timeoutMs: 0 })).toThrow(/timeoutMs: must be a positive number/);
  });
});
