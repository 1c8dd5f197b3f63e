import {
  AuthenticationError,
  ConfigError,
  ContextLengthError,
  ModelNotFoundError,
  NoEligibleModelError,
  ProviderError,
  RateLimitError,
} from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./registry";
import { MapCache, ScriptedHealth, ask } from "./test-helpers";

const fast = { backoff: { initialMs: 1, maxMs: 20 } } as const;

describe("registering models", () => {
  it("rejects a duplicate name unless replace is asked, and lists models and providers", () => {
    const registry = new ModelRegistry();
    const a = registry.registerModel(new FakeModel({ name: "gpt-4", provider: "openai" }));
    registry.registerModel(new FakeModel({ name: "claude-3-opus", provider: "anthropic" }));
    registry.registerModel(new FakeModel({ name: "gpt-3.5", provider: "openai" }));
    expect(() => registry.registerModel(new FakeModel({ name: "gpt-4" }))).toThrow(
      /"gpt-4" is already registered; pass \{ replace: true \}/,
    );
    const b = registry.registerModel(new FakeModel({ name: "gpt-4", provider: "openai" }), { replace: true });
    expect(registry.getModel("gpt-4")).toBe(b);
    expect(registry.getModel("gpt-4")).not.toBe(a);
    expect(registry.listModels({ provider: "openai" }).map((m) => m.name)).toEqual(["gpt-3.5", "gpt-4"]);
    expect(registry.listProviders()).toEqual(["anthropic", "openai"]);
    expect(registry.unregisterModel("gpt-3.5")).toBe(true);
    expect(registry.unregisterModel("gpt-3.5")).toBe(false);
    expect(registry.listModels().map((m) => m.name)).toEqual(["claude-3-opus", "gpt-4"]);
  });

  it("getModel of an unknown name is a ModelNotFoundError naming close names", () => {
    const registry = new ModelRegistry();
    registry.registerModel(new FakeModel({ name: "gpt-4" }));
    registry.registerModel(new FakeModel({ name: "claude-3-opus" }));
    try {
      registry.getModel("gpt4");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ModelNotFoundError);
      expect((error as ModelNotFoundError).code).toBe("model_not_found");
      expect((error as ModelNotFoundError).suggestions).toEqual(["gpt-4"]);
      expect((error as Error).message).toContain('Did you mean "gpt-4"?');
    }
  });

  it("enables the registry cache on models that have none, and cache hits teach the bandit nothing", async () => {
    const cache = new MapCache();
    const own = new MapCache();
    const registry = new ModelRegistry({ cache });
    const plain = registry.registerModel(new FakeModel({ name: "plain" }));
    const mine = new FakeModel({ name: "mine" });
    mine.enableCaching(own);
    registry.registerModel(mine);
    expect(plain.cache).toBe(cache);
    expect(mine.cache).toBe(own);
    registry.unregisterModel("mine");
    const first = await registry.generate(ask("hi"));
    const again = await registry.generate(ask("hi"));
    expect([first.cached, again.cached, cache.hits]).toEqual([false, true, 1]);
    expect(registry.recordFeedback(again.selectionId, { quality: 1 })).toBe(false);
    expect(registry.recordFeedback(first.selectionId, { quality: 1 })).toBe(true);
    expect(registry.getStatistics().models[0]?.trials).toBe(1);
  });
});

describe("selection and its explanation", () => {
  function fleet() {
    const registry = new ModelRegistry();
    registry.registerModel(
      new FakeModel({
        name: "gpt-4",
        provider: "openai",
        capabilities: {
          codeGeneration: true,
          functionCalling: true,
          maxTokens: 8192,
          inputCostPerToken: 0.00003,
          outputCostPerToken: 0.00006,
          tokensPerSecond: 40,
          tasks: ["code", "chat"],
          languages: ["en", "de"],
        },
      }),
    );
    registry.registerModel(
      new FakeModel({
        name: "claude",
        provider: "anthropic",
        capabilities: {
          codeGeneration: true,
          maxTokens: 200_000,
          inputCostPerToken: 0.000003,
          outputCostPerToken: 0.000015,
          tasks: ["chat"],
          languages: ["en-US"],
        },
      }),
    );
    registry.registerModel(
      new FakeModel({
        name: "llama",
        provider: "ollama",
        isLocal: true,
        capabilities: { maxTokens: 4096, tokensPerSecond: 120, languages: ["en"] },
      }),
    );
    return registry;
  }

  it("filters on every requirement and says why each model was excluded", () => {
    const registry = fleet();
    const pick = (req: Parameters<ModelRegistry["selectModel"]>[0]) => registry.explainSelection(req);
    expect(pick({ capabilities: ["functionCalling"] }).model?.name).toBe("gpt-4");
    expect(pick({ capabilities: ["function_calling"] }).model?.name).toBe("gpt-4");
    expect(pick({ localOnly: true }).model?.name).toBe("llama");
    expect(pick({ providers: ["anthropic"] }).model?.name).toBe("claude");
    expect(pick({ minContextWindow: 100_000 }).model?.name).toBe("claude");
    expect(pick({ tasks: ["code"] }).model?.name).toBe("gpt-4");
    expect(pick({ languages: ["de"] }).model?.name).toBe("gpt-4");
    // Declared speed: gpt-4 40 tok/s is excluded; claude declares nothing and is not.
    const speed = pick({ minSpeed: 100 });
    expect(speed.candidates.map((c) => c.model).sort()).toEqual(["claude", "llama"]);
    expect(speed.excluded).toEqual([
      { model: "gpt-4", code: "speed", reason: "declared speed 40.0 tokens/s is below minSpeed 100" },
    ]);
    // An allow-list of models (a virtual key's): the others are out, with the reason in words.
    const allowed = pick({ models: ["claude", "llama", "not-registered"], localOnly: false });
    expect(allowed.candidates.map((c) => c.model).sort()).toEqual(["claude", "llama"]);
    expect(allowed.excluded).toEqual([
      {
        model: "gpt-4",
        code: "model_not_allowed",
        reason: "is not one of the models allowed here (claude, llama, not-registered)",
      },
    ]);
    expect(() => pick({ models: "claude" as never })).toThrow(/models: must be an array of strings/);
    const explained = pick({ capabilities: ["codeGeneration"], excludeProviders: ["openai"], languages: ["en"] });
    expect(explained.model?.name).toBe("claude");
    expect(explained.excluded).toEqual([
      { model: "gpt-4", code: "provider_excluded", reason: 'provider "openai" is excluded' },
      { model: "llama", code: "capability", reason: 'lacks capability "codeGeneration"' },
    ]);
    expect(explained.candidates).toEqual([
      expect.objectContaining({
        model: "claude",
        provider: "anthropic",
        chosen: true,
        score: Number.POSITIVE_INFINITY,
        meanReward: 0,
        trials: 0,
        note: "exploring: 0 of 5 trials",
      }),
    ]);
  });

  it("explains a selection that finds nothing: no model, every model's reason (selectModel throws them)", () => {
    const registry = fleet();
    const none = registry.explainSelection({ capabilities: ["vision"], localOnly: true });
    expect(none.model).toBeUndefined();
    expect(none.candidates).toEqual([]);
    expect(none.selector).toBe(registry.getStatistics().selector);
    expect(none.excluded.map((e) => [e.model, e.code])).toEqual([
      ["gpt-4", "capability"],
      ["claude", "capability"],
      ["llama", "capability"],
    ]);
    const thrown = (() => {
      try {
        registry.selectModel({ capabilities: ["vision"], localOnly: true });
      } catch (error) {
        return error;
      }
    })();
    expect(NoEligibleModelError.isInstance(thrown) && thrown.excluded).toEqual(none.excluded);
    expect(new ModelRegistry().explainSelection()).toMatchObject({ model: undefined, candidates: [], excluded: [] });
  });

  it("prices maxCost from the request's tokens and maxTokens, or from the reference request", () => {
    const registry = fleet();
    // Reference request: 1,000 prompt + 500 completion tokens. gpt-4: 0.03 + 0.03 = $0.06; claude: 0.003 + 0.0075 = $0.0105.
    const ref = registry.explainSelection({ maxCost: 0.02 });
    expect(ref.excluded).toEqual([
      { model: "gpt-4", code: "cost", reason: "estimated cost $0.0600 exceeds maxCost $0.0200" },
    ]);
    expect(ref.candidates.find((c) => c.model === "claude")?.estimatedCostUsd).toBeCloseTo(0.0105, 10);
    // A short prompt with maxTokens 10: gpt-4 ≈ 6·0.00003 + 10·0.00006 = $0.00078.
    const small = registry.explainSelection({ maxCost: 0.001 }, { request: ask("Hi there", { maxTokens: 10 }) });
    expect(small.excluded).toEqual([]);
    expect(small.candidates.find((c) => c.model === "gpt-4")?.estimatedCostUsd).toBeCloseTo(0.00078, 8);
  });

  it("rejects unknown capability names and requirement keys instead of matching nothing", () => {
    const registry = fleet();
    expect(() => registry.selectModel({ capabilities: ["text_genration" as "textGeneration"] })).toThrow(
      /capabilities\[0\]: unknown capability "text_genration". Did you mean "text_generation"/,
    );
    expect(() => registry.selectModel({ maxCosts: 0.01 } as never)).toThrow(
      /maxCosts: is not a selection requirement \(known: capabilities, maxCost/,
    );
    // "vision" is both the camelCase name and its snake_case alias: suggested once.
    expect(() => registry.selectModel({ capabilities: ["visoin" as "vision"] })).toThrow(
      /unknown capability "visoin". Did you mean "vision"\? Known:/,
    );
    expect(() => registry.selectModel({ maxCost: -1 })).toThrow(ConfigError);
  });

  it("takes the seed's snake_case requirement names: select_model(capabilities=[...], max_cost=0.01, min_speed=100)", () => {
    const registry = fleet();
    // Typed as written: no cast. Every snake_case field means what its camelCase twin means.
    const seed = registry.explainSelection({
      capabilities: ["text_generation"],
      max_cost: 0.02,
      min_speed: 1,
      min_context_window: 1000,
      exclude_providers: ["meta"],
      max_latency_ms: 60_000,
      local_only: false,
    });
    const camel = registry.explainSelection({
      capabilities: ["textGeneration"],
      maxCost: 0.02,
      minSpeed: 1,
      minContextWindow: 1000,
      excludeProviders: ["meta"],
      maxLatencyMs: 60_000,
      localOnly: false,
    });
    expect(seed.excluded).toEqual(camel.excluded);
    expect(seed.excluded.map((x) => x.code)).toContain("cost");
    expect(seed.candidates.map((c) => c.model)).toEqual(camel.candidates.map((c) => c.model));
    expect(registry.selectModel({ max_cost: 0.02 }).name).toBe(registry.selectModel({ maxCost: 0.02 }).name);
    // Errors name the spelling that was written; writing both spellings of one field is an error.
    expect(() => registry.selectModel({ max_cost: -1 })).toThrow(/max_cost: must be a non-negative number, got -1/);
    expect(() => registry.selectModel({ max_cost: 0.01, maxCost: 0.02 })).toThrow(
      /max_cost: and "maxCost" are the same requirement/,
    );
    expect(() => registry.selectModel({ max_costs: 0.01 } as never)).toThrow(
      /max_costs: is not a selection requirement \(known:/,
    );
  });

  it("throws NoEligibleModelError carrying every model's reason", () => {
    const registry = fleet();
    try {
      registry.selectModel({ capabilities: ["vision"], maxCost: 0.001 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NoEligibleModelError);
      expect((error as NoEligibleModelError).code).toBe("no_eligible_model");
      const e = error as NoEligibleModelError;
      expect(e.excluded.map((x) => `${x.model}:${x.code}`)).toEqual([
        "gpt-4:capability",
        "claude:capability",
        "llama:capability",
      ]);
      expect(e.message).toContain('gpt-4: lacks capability "vision"');
    }
    expect(() => new ModelRegistry().selectModel()).toThrow(/no models are registered/);
  });

  it("excludes by observed p95 latency and observed speed once known", async () => {
    const registry = new ModelRegistry({ ...fast, modelSelector: undefined });
    registry.registerModel(new FakeModel({ name: "slow", latencyMs: 30, capabilities: { tokensPerSecond: 1000 } }));
    registry.registerModel(new FakeModel({ name: "quick" }));
    expect(registry.explainSelection({ maxLatencyMs: 10, minSpeed: 500 }).candidates).toHaveLength(2);
    await registry.getModel("slow").generate(ask("one two three"));
    const e = registry.explainSelection({ maxLatencyMs: 10 });
    expect(e.excluded).toEqual([
      {
        model: "slow",
        code: "latency",
        reason: expect.stringMatching(/^observed p95 latency \d+ ms exceeds maxLatencyMs 10$/),
      },
    ]);
    // Observed speed (a few tokens in ~30 ms) replaces the declared 1,000 tokens/s.
    expect(registry.explainSelection({ minSpeed: 500 }).excluded[0]).toMatchObject({
      model: "slow",
      code: "speed",
      reason: expect.stringContaining("observed median speed"),
    });
  });
});

describe("health and limits", () => {
  it("skips unavailable models with the monitor's reason, feeds it every outcome, and delegates getModelHealth", async () => {
    const health = new ScriptedHealth();
    const registry = new ModelRegistry({ healthMonitor: health, ...fast });
    registry.registerModel(new FakeModel({ name: "a" }));
    registry.registerModel(new FakeModel({ name: "b", script: [{ fail: "server-error" }] }));
    expect([...health.watched]).toEqual(["a", "b"]);
    health.set("a", "unhealthy", "3 failed checks");
    const events: string[] = [];
    registry.on("health", (e) => events.push(`${e.model}:${e.status}`));
    const e = registry.explainSelection();
    expect(e.model?.name).toBe("b");
    expect(e.excluded).toEqual([{ model: "a", code: "unhealthy", reason: "unavailable (unhealthy): 3 failed checks" }]);
    expect(events).toContain("a:unhealthy");
    const result = await registry.generate(ask("x"));
    expect(result.model).toBe("b");
    expect(health.failures).toEqual([{ name: "b", code: "provider_error" }]);
    expect(health.successes).toEqual(["b"]);
    expect(await registry.getModelHealth("a")).toMatchObject({ isHealthy: false, issues: ["3 failed checks"] });
    registry.unregisterModel("a");
    expect(health.watched.has("a")).toBe(false);
  });

  it("when every model is unhealthy: NoEligibleModelError by default, the least bad with 'least-bad'", () => {
    const health = new ScriptedHealth();
    const strict = new ModelRegistry({ healthMonitor: health });
    const lenient = new ModelRegistry({ healthMonitor: health, unhealthyPolicy: "least-bad" });
    for (const r of [strict, lenient]) {
      r.registerModel(new FakeModel({ name: "down" }));
      r.registerModel(new FakeModel({ name: "shaky" }));
    }
    health.states.set("down", { available: false, status: "unhealthy", reason: "connection refused" });
    health.states.set("shaky", { available: false, status: "degraded", reason: "resting after 429" });
    expect(() => strict.selectModel()).toThrow(
      /down: unavailable \(unhealthy\): connection refused; shaky: unavailable \(degraded\): resting after 429/,
    );
    expect(lenient.selectModel().name).toBe("shaky");
  });

  it("without a monitor, health is derived from the registry's live calls", async () => {
    const registry = new ModelRegistry({ maxRetries: 0, maxFallbacks: 0 });
    registry.registerModel(
      new FakeModel({
        name: "m",
        script: [{ fail: "server-error" }, { fail: "server-error" }, { fail: "server-error" }],
      }),
    );
    expect((await registry.getModelHealth("m")).status).toBe("unknown");
    for (let i = 0; i < 3; i++) await expect(registry.generate(ask("x"))).rejects.toThrow(ProviderError);
    const h = await registry.getModelHealth("m");
    expect(h).toMatchObject({ isHealthy: false, status: "unhealthy", consecutiveFailures: 3 });
    expect(h.issues[0]).toBe("3 consecutive failed calls");
    await registry.generate(ask("x"));
    expect(await registry.getModelHealth("m")).toMatchObject({
      isHealthy: true,
      status: "degraded",
      consecutiveFailures: 0,
    });
    await expect(registry.getModelHealth("nope")).rejects.toThrow(ModelNotFoundError);
  });

  it("skips a model at its concurrency limit, and waits for capacity when every model is busy", async () => {
    const registry = new ModelRegistry({ waitForCapacityMs: 2_000 });
    const busy = registry.registerModel(
      new FakeModel({ name: "busy", latencyMs: 60, constraints: { maxConcurrentRequests: 1 } }),
    );
    const first = registry.generate(ask("one"));
    await new Promise((r) => setTimeout(r, 5));
    expect(busy.rateLimiter.isSaturated()).toBe(true);
    expect(() => registry.selectModel()).toThrow(/busy: at its request limits \(1 concurrent\)/);
    const started = performance.now();
    const second = await registry.generate(ask("two"));
    expect(second.model).toBe("busy");
    expect(performance.now() - started).toBeGreaterThanOrEqual(30);
    await first;
    registry.registerModel(new FakeModel({ name: "free" }));
    // A call made on the model directly holds its only slot too.
    const third = busy.generate(ask("three"));
    await new Promise((r) => setTimeout(r, 5));
    const e = registry.explainSelection();
    expect(e.model?.name).toBe("free");
    expect(e.excluded).toEqual([{ model: "busy", code: "saturated", reason: "at its request limits (1 concurrent)" }]);
    await third;
  });

  it("rejects after waitForCapacityMs when every eligible model stays saturated", async () => {
    const registry = new ModelRegistry({ waitForCapacityMs: 30 });
    registry.registerModel(new FakeModel({ name: "busy", latencyMs: 300, constraints: { maxConcurrentRequests: 1 } }));
    const first = registry.generate(ask("one"));
    await new Promise((r) => setTimeout(r, 5));
    const started = performance.now();
    const error = await registry.generate(ask("two")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoEligibleModelError);
    expect((error as NoEligibleModelError).code).toBe("no_eligible_model");
    expect((error as Error).message).toMatch(
      /Every eligible model stayed at its request limits for 30 ms \(busy: at its request limits/,
    );
    expect(performance.now() - started).toBeLessThan(250);
    await first;
  });
});

describe("retry and fallback", () => {
  it("retries retryable failures on the same model with backoff", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new FakeModel({ name: "m", script: [{ fail: "server-error" }, { fail: "drop" }, "ok"] }));
    const result = await registry.generate(ask("x"));
    expect(result.attempts.map((a) => [a.model, a.success, a.errorCode, a.next])).toEqual([
      ["m", false, "provider_error", "retry"],
      ["m", false, "provider_error", "retry"],
      ["m", true, undefined, undefined],
    ]);
  });

  it("honours retryAfterMs, and falls back at once when it is longer than backoff.maxMs", async () => {
    const registry = new ModelRegistry({ backoff: { initialMs: 1, maxMs: 200 } });
    registry.registerModel(new FakeModel({ name: "m", script: [{ fail: "rate-limit", retryAfterMs: 80 }, "ok"] }));
    const started = performance.now();
    await registry.generate(ask("x"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);

    const other = new ModelRegistry({ backoff: { initialMs: 1, maxMs: 50 } });
    other.registerModel(new FakeModel({ name: "limited", script: [{ fail: "rate-limit", retryAfterMs: 60_000 }] }));
    other.registerModel(new FakeModel({ name: "spare" }));
    const t0 = performance.now();
    const result = await other.generate(ask("x"), { providers: ["fake"] });
    // The first choice is "limited" (registration order while both are untried).
    expect(result.attempts.map((a) => `${a.model}:${a.next ?? "ok"}`)).toEqual(["limited:fallback", "spare:ok"]);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it("never retries authentication or bad-request errors; authentication falls back to another model", async () => {
    const registry = new ModelRegistry(fast);
    const bad = registry.registerModel(new FakeModel({ name: "bad-key", script: [{ fail: "auth" }] }));
    registry.registerModel(new FakeModel({ name: "good" }));
    const result = await registry.generate(ask("x"));
    expect(result.model).toBe("good");
    expect(bad.calls).toBe(1);

    const solo = new ModelRegistry(fast);
    const only = solo.registerModel(new FakeModel({ name: "only", script: [{ fail: "auth" }] }));
    await expect(solo.generate(ask("x"))).rejects.toSatisfy((e: unknown) => AuthenticationError.isInstance(e));
    expect(only.calls).toBe(1);

    const badRequest = new ModelRegistry(fast);
    const a = badRequest.registerModel(
      new FakeModel({ name: "a", script: [{ fail: new ProviderError("invalid temperature", { status: 400 }) }] }),
    );
    const b = badRequest.registerModel(new FakeModel({ name: "b" }));
    await expect(badRequest.generate(ask("x"))).rejects.toThrow(/invalid temperature/);
    expect([a.calls, b.calls]).toEqual([1, 0]);
  });

  it("falls back from a context-length error to a model with a larger window", async () => {
    const registry = new ModelRegistry(fast);
    const small = registry.registerModel(
      new FakeModel({ name: "small", capabilities: { maxTokens: 4096 }, script: [{ fail: "context-length" }] }),
    );
    const same = registry.registerModel(new FakeModel({ name: "same", capabilities: { maxTokens: 4096 } }));
    registry.registerModel(new FakeModel({ name: "large", capabilities: { maxTokens: 128_000 } }));
    const result = await registry.generate(ask("a very long prompt"));
    expect(result.model).toBe("large");
    expect([small.calls, same.calls]).toEqual([1, 0]);
    expect(result.explanation.excluded).toContainEqual({
      model: "same",
      code: "context_window_fallback",
      reason: "context window 4096 tokens is not larger than the window that was too small",
    });

    const none = new ModelRegistry(fast);
    none.registerModel(new FakeModel({ name: "only", script: [{ fail: "context-length" }] }));
    await expect(none.generate(ask("x"))).rejects.toSatisfy((e: unknown) => ContextLengthError.isInstance(e));
  });

  it("bounds fallbacks by maxFallbacks and rejects with the last typed error", async () => {
    const registry = new ModelRegistry({ ...fast, maxRetries: 1, maxFallbacks: 1 });
    const models = ["a", "b", "c"].map((name) => registry.registerModel(new FakeModel({ name, successRate: 0 })));
    const error = await registry.generate(ask("x")).catch((e: unknown) => e);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(models.map((m) => m.calls)).toEqual([2, 2, 0]);
  });

  it("aborts a backoff sleep as soon as the request's signal aborts", async () => {
    const registry = new ModelRegistry({ backoff: { initialMs: 5_000, maxMs: 5_000, jitter: "none" } });
    registry.registerModel(new FakeModel({ name: "m", script: [{ fail: "server-error" }] }));
    const controller = new AbortController();
    const started = performance.now();
    const pending = registry.generate(ask("x", { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: "abort_error" });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("streaming", () => {
  it("fails over transparently before the first chunk and carries the selection on the finish chunk", async () => {
    const registry = new ModelRegistry({ ...fast, maxRetries: 0 });
    registry.registerModel(new FakeModel({ name: "flaky", script: [{ fail: "server-error" }] }));
    registry.registerModel(new FakeModel({ name: "steady", response: "all good here" }));
    const stream = registry.stream(ask("x"));
    let text = "";
    let finish: Record<string, unknown> | undefined;
    for await (const chunk of stream) {
      if (chunk.type === "text") text += chunk.text;
      if (chunk.type === "finish") finish = chunk as unknown as Record<string, unknown>;
    }
    expect(text).toBe("all good here");
    expect(finish).toMatchObject({ type: "finish", model: "steady", selectionId: stream.selectionId });
    expect(stream.attempts.map((a) => a.model)).toEqual(["flaky", "steady"]);
    expect(registry.recordFeedback(stream.selectionId ?? "", { quality: 1 })).toBe(true);
  });

  it("rejects with a typed error when the stream fails after its first chunk — never a silent truncation", async () => {
    const registry = new ModelRegistry(fast);
    const cut = registry.registerModel(
      new FakeModel({ name: "cut", response: "one two three four", failStreamAfterChunks: 2 }),
    );
    const spare = registry.registerModel(new FakeModel({ name: "spare" }));
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of registry.stream(ask("x"))) if (chunk.type === "text") seen.push(chunk.text);
    })().catch((e: unknown) => e);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).code).toBe("provider_error");
    expect(seen).toEqual(["one", " two"]);
    expect([cut.calls, spare.calls]).toEqual([1, 0]);
  });
});

describe("feedback and statistics", () => {
  it("applies a quality signal to the same arms (overall and task), once", async () => {
    const registry = new ModelRegistry({ modelSelector: undefined });
    registry.registerModel(new FakeModel({ name: "m", costUsd: 0 }));
    const result = await registry.generate(ask("x", { task: "code" }));
    const before = registry.statsStore.get("m", "code")?.rewardSum ?? 0;
    expect(() => registry.recordFeedback(result.selectionId, { quality: 1.5 })).toThrow(
      /quality: must be a number in \[0, 1\], got 1.5/,
    );
    expect(registry.recordFeedback(result.selectionId, { quality: 1 })).toBe(true);
    expect(registry.recordFeedback(result.selectionId, { quality: 0 })).toBe(false);
    expect(registry.recordFeedback("sel_unknown", { quality: 1 })).toBe(false);
    // Default weights: quality weighs 0.2; the assumed 0.5 became 1 → +0.1 on both arms.
    expect((registry.statsStore.get("m", "code")?.rewardSum ?? 0) - before).toBeCloseTo(0.1, 10);
    expect(registry.statsStore.get("m")?.rewardSum).toBeCloseTo(
      registry.statsStore.get("m", "code")?.rewardSum ?? -1,
      10,
    );
    const stats = registry.getStatistics().models[0];
    expect(stats).toMatchObject({
      model: "m",
      trials: 1,
      meanQuality: 1,
      tasks: { code: { trials: 1, meanQuality: 1 } },
    });
  });

  it("remembers only the most recent selections for feedback (bounded memory)", async () => {
    const registry = new ModelRegistry({ feedbackCapacity: 3 });
    registry.registerModel(new FakeModel({ name: "m" }));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await registry.generate(ask(`q${i}`))).selectionId);
    expect(new Set(ids).size).toBe(5);
    expect(ids.map((id) => registry.recordFeedback(id, { quality: 1 }))).toEqual([false, false, true, true, true]);
  });

  it("uses a task's own statistics once it has taskMinTrials, the model's overall ones before", async () => {
    const registry = new ModelRegistry({ taskMinTrials: 3 });
    registry.registerModel(new FakeModel({ name: "m" }));
    for (let i = 0; i < 2; i++) await registry.generate(ask("x", { task: "code" }));
    expect(
      registry.explainSelection({}, { request: ask("y", { task: "code" }) }).candidates[0]?.statsScope,
    ).toBeUndefined();
    await registry.generate(ask("x", { task: "code" }));
    const e = registry.explainSelection({}, { request: ask("y", { task: "code" }) });
    expect(e.candidates[0]?.statsScope).toBe("code");
    expect(e.task).toBe("code");
  });

  it("emits selection, outcome and feedback events; a throwing listener does not break the call", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new FakeModel({ name: "m", script: [{ fail: "rate-limit", retryAfterMs: 1 }, "ok"] }));
    const log: string[] = [];
    registry.on("selection", (e) => log.push(`selection:${e.model}:${e.fallback}`));
    registry.on("outcome", (e) => log.push(`outcome:${e.success}:${e.error?.code ?? "-"}:${e.attempt}`));
    registry.on("feedback", (e) => log.push(`feedback:${e.quality}`));
    const off = registry.on("outcome", () => {
      throw new Error("listener bug");
    });
    const result = await registry.generate(ask("x"));
    registry.recordFeedback(result.selectionId, { quality: 0.5 });
    off();
    expect(log).toEqual(["selection:m:0", "outcome:false:rate_limit_error:1", "outcome:true:-:2", "feedback:0.5"]);
  });

  it("emits call synchronously when generate or a stream's first next() starts, with the call's selection id", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new FakeModel({ name: "m" }));
    const calls: { selectionId: string; stream: boolean; prompt: unknown }[] = [];
    registry.on("call", (e) =>
      calls.push({ selectionId: e.selectionId, stream: e.stream, prompt: e.request.messages[0]?.content }),
    );
    const pending = registry.generate(ask("x"));
    // Synchronous: a listener runs in the caller's context, before any selection.
    expect(calls).toHaveLength(1);
    const result = await pending;
    expect(calls[0]).toEqual({ selectionId: result.selectionId, stream: false, prompt: "x" });
    const stream = registry.stream(ask("y"));
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    expect(calls).toHaveLength(2);
    await first;
    while (!(await it.next()).done);
    expect(calls[1]).toEqual({ selectionId: stream.selectionId, stream: true, prompt: "y" });
  });

  it("resetStatistics forgets what was learnt", async () => {
    const registry = new ModelRegistry();
    registry.registerModel(new FakeModel({ name: "m" }));
    const r = await registry.generate(ask("x"));
    registry.resetStatistics();
    expect(registry.getStatistics().models[0]?.trials).toBe(0);
    expect(registry.recordFeedback(r.selectionId, { quality: 1 })).toBe(false);
  });

  it("validates its options", () => {
    expect(() => new ModelRegistry({ maxRetries: -1 })).toThrow(/maxRetries: must be a non-negative number/);
    expect(() => new ModelRegistry({ backoff: { jitter: "lots" as "full" } })).toThrow(/backoff.jitter/);
    expect(RateLimitError.isInstance(new RateLimitError("x"))).toBe(true);
  });
});
