import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelConfig, parseModelConfig } from "@orchestrator-ts/config";
import {
  BUILD_MODELS,
  type BuildModelsOptions,
  ConfigError,
  type Model,
  ProviderError,
  type SkippedModel,
} from "@orchestrator-ts/core";
import { FakeModel, type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CostBasedSelector, PerformanceSelector } from "./cost-performance-selectors";
import {
  type RegistryConfig,
  createSelector,
  registryFromConfig,
  registryOptionsFromConfig,
  routesFromConfig,
} from "./from-config";
import { CascadeRoute, type SelectorRoute } from "./routes";
import { ModelRegistry } from "./registry";
import { RoundRobinSelector, WeightedRandomSelector } from "./simple-selectors";
import { ask } from "./test-helpers";
import { ThompsonSamplingSelector } from "./thompson-selector";
import { UCBModelSelector } from "./ucb-selector";
import { ContextualSelector, type DecisionRecord } from "./contextual";

/** A config as `@orchestrator-ts/config` hands it over: plain data plus the non-enumerable builder. */
function configWith(
  models: Model[],
  rest: Omit<RegistryConfig, "models"> = {},
  skipped: SkippedModel[] = [],
): RegistryConfig & { calls: BuildModelsOptions[] } {
  const calls: BuildModelsOptions[] = [];
  const config = { models: models.map((m) => ({ name: m.name })), ...rest, calls };
  Object.defineProperty(config, BUILD_MODELS, {
    value: async (options: BuildModelsOptions) => {
      calls.push(options);
      return { models, skipped };
    },
    enumerable: false,
  });
  return config;
}

describe("registryFromConfig with a config object", () => {
  it("builds the selector, execution settings, fallbacks and models, and keeps the skipped list", async () => {
    const cheap = new FakeModel({ name: "cheap", capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 } });
    const dear = new FakeModel({ name: "dear", capabilities: { inputCostPerToken: 1e-5, outputCostPerToken: 1e-5 } });
    const skipped = [
      {
        name: "gpt-4",
        provider: "openai",
        reason: "OPENAI_API_KEY is not set",
        location: { source: "models.yaml", line: 2, column: 5 },
      },
    ];
    const config = configWith(
      [cheap, dear],
      {
        selector: { type: "cost", maxCostPerRequest: 0.5 },
        execution: {
          maxRetries: 0,
          maxFallbacks: 3,
          timeoutMs: 4_000,
          backoff: { initialMs: 1, maxMs: 5, jitter: false },
          fallbacks: { cheap: ["dear"] },
        },
      },
      skipped,
    );
    const registry = await registryFromConfig(config, { modulePaths: ["/opt/plugins"], cwd: "/srv" });
    expect(config.calls).toEqual([{ modulePaths: ["/opt/plugins"], cwd: "/srv" }]);
    expect(registry.selector).toBeInstanceOf(CostBasedSelector);
    expect(registry.maxRetries).toBe(0);
    expect(registry.maxFallbacks).toBe(3);
    expect(registry.timeoutMs).toBe(4_000);
    expect(registry.fallbacks).toEqual({ cheap: ["dear"] });
    expect(registry.listModels().map((m) => m.name)).toEqual(["cheap", "dear"]);
    expect(registry.skippedModels).toEqual(skipped);
    // The CLI's line: "gpt-4: OPENAI_API_KEY is not set".
    expect(registry.skippedModels.map((s) => `${s.name}: ${s.reason}`)).toEqual(["gpt-4: OPENAI_API_KEY is not set"]);
    expect(registry.selectModel().name).toBe("cheap");

    // The file's deadline reaches every model call that sets none of its own.
    cheap.enqueue({ fail: "server-error" });
    const result = await registry.generate(ask("hi"));
    expect(result.model).toBe("dear");
    expect(result.explanation.fallbackFor).toBe("cheap");
    expect(cheap.lastRequest?.timeoutMs).toBe(4_000);
    expect(dear.lastRequest?.timeoutMs).toBe(4_000);
    await registry.generate(ask("hi", { timeoutMs: 50 }));
    expect(cheap.lastRequest?.timeoutMs).toBe(50);
  });

  it("explicit options win over the file, field by field", async () => {
    const selector = new RoundRobinSelector();
    const config = configWith([new FakeModel({ name: "a" }), new FakeModel({ name: "b" })], {
      selector: { type: "ucb", explorationFactor: 2, minTrials: 5 },
      execution: {
        maxRetries: 4,
        maxFallbacks: 1,
        backoff: { initialMs: 100, maxMs: 1_000, multiplier: 3, jitter: true },
        fallbacks: { a: ["b"], b: ["a"] },
      },
    });
    const registry = await registryFromConfig(config, {
      modelSelector: selector,
      maxRetries: 1,
      backoff: { maxMs: 7 },
      fallbacks: { b: [] },
    });
    expect(registry.selector).toBe(selector);
    expect(registry.maxRetries).toBe(1);
    expect(registry.maxFallbacks).toBe(1);
    expect(registry.fallbacks).toEqual({ a: ["b"], b: [] });
    expect(registryOptionsFromConfig(config, { backoff: { maxMs: 7 } }).backoff).toEqual({
      initialMs: 100,
      maxMs: 7,
      multiplier: 3,
      jitter: "full",
    });
    expect(registryOptionsFromConfig({ execution: { backoff: { jitter: false } } }).backoff).toEqual({
      jitter: "none",
    });
    // No sections: the registry's own defaults.
    const plain = await registryFromConfig(configWith([new FakeModel({ name: "a" })]));
    expect(plain.selector).toBeInstanceOf(UCBModelSelector);
    expect(plain.maxRetries).toBe(2);
    expect(plain.timeoutMs).toBeUndefined();
    expect(plain.skippedModels).toEqual([]);
  });

  it("a config without the builder is a ConfigError that says how to load it", async () => {
    const error = await registryFromConfig({ models: [] }).catch((e: unknown) => e);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("@orchestrator-ts/config");
    expect((error as Error).message).toContain("loadModelConfig");
  });

  it("a bad option fails before any model is created; a failed registration cleans the models up", async () => {
    const config = configWith([new FakeModel({ name: "a" })], { execution: { maxRetries: -1 } });
    await expect(registryFromConfig(config)).rejects.toSatisfy(
      (e: unknown) => ConfigError.isInstance(e) && String(e).includes("maxRetries"),
    );
    expect(config.calls).toHaveLength(0);

    const twin = new FakeModel({ name: "twin" });
    await twin.initialize();
    await expect(registryFromConfig(configWith([twin, new FakeModel({ name: "twin" })]))).rejects.toSatisfy(
      (e: unknown) => ConfigError.isInstance(e) && String(e).includes("already registered"),
    );
    expect(twin.isInitialized).toBe(false);
  });
});

describe("createSelector", () => {
  it("builds each selector type with its options", () => {
    expect(createSelector(undefined)).toBeInstanceOf(UCBModelSelector);
    const ucb = createSelector({ type: "ucb", explorationFactor: 2, minTrials: 3, discount: 0.99 }) as UCBModelSelector;
    expect([ucb.explorationFactor, ucb.minTrials]).toEqual([2, 3]);
    const thompson = createSelector({ type: "thompson", minTrials: 2, window: 50 }) as ThompsonSamplingSelector;
    expect(thompson).toBeInstanceOf(ThompsonSamplingSelector);
    expect(thompson.minTrials).toBe(2);
    const cost = createSelector({ type: "cost", maxCostPerRequest: 0.1, preferLocalModels: true });
    expect(cost).toBeInstanceOf(CostBasedSelector);
    const perf = createSelector({
      type: "performance",
      minTokensPerSecond: 50,
      maxResponseTimeMs: 5_000,
      preferStreaming: true,
    }) as PerformanceSelector;
    expect(perf).toBeInstanceOf(PerformanceSelector);
    expect([perf.minTokensPerSecond, perf.maxResponseTimeMs, perf.preferStreaming]).toEqual([50, 5_000, true]);
    expect(createSelector({ type: "weighted-random", weights: { a: 3 } })).toBeInstanceOf(WeightedRandomSelector);
    expect(createSelector({ type: "round-robin" })).toBeInstanceOf(RoundRobinSelector);
    const contextual = createSelector({
      type: "contextual",
      exploration: "thompson",
      alpha: 0.5,
      budgetPerRequest: 0.002,
      dimensions: 512,
    }) as ContextualSelector;
    expect(contextual).toBeInstanceOf(ContextualSelector);
    expect([
      contextual.exploration,
      contextual.alpha,
      contextual.extractor.dimensions,
      contextual.pacer?.budgetPerRequest,
    ]).toEqual(["thompson", 0.5, 512, 0.002]);
  });

  it("an unknown type, an option of another type or a bad value is a ConfigError naming the path", () => {
    const bad = (config: unknown) => {
      try {
        createSelector(config as Parameters<typeof createSelector>[0]);
      } catch (e) {
        return ConfigError.isInstance(e)
          ? e.issues.map((i) => `${i.path}: ${i.message}`)
          : [`not a ConfigError: ${String(e)}`];
      }
      return [];
    };
    expect(bad({ type: "greedy" })).toEqual([
      expect.stringMatching(/^selector\.type: must be one of ucb, thompson, cost/),
    ]);
    expect(bad({ type: "cost", explorationFactor: 2 })).toEqual([
      'selector.explorationFactor: is an option of the ucb selector, not "cost"',
    ]);
    expect(bad({ type: "ucb", discount: 1.5 })).toEqual(["discount: must be in (0, 1), got 1.5"]);
    expect(bad({ type: "ucb", budgetPerRequest: 0.001 })).toEqual([
      'selector.budgetPerRequest: is an option of the contextual selector, not "ucb"',
    ]);
    expect(bad({ type: "contextual", alpha: -1 })).toEqual(["alpha: must be a non-negative number, got -1"]);
  });

  it("thompson honours minTrials, and a window forgets old outcomes", async () => {
    const registry = new ModelRegistry({
      modelSelector: createSelector({ type: "thompson", minTrials: 3, window: 20 }),
      maxRetries: 0,
      maxFallbacks: 0,
    });
    registry.registerModel(new FakeModel({ name: "a" }));
    registry.registerModel(new FakeModel({ name: "b" }));
    const first: string[] = [];
    for (let i = 0; i < 6; i++) first.push((await registry.generate(ask(`q${i}`))).model);
    // Each model gets its 3 trials first, fewest trials first.
    expect(first).toEqual(["a", "b", "a", "b", "a", "b"]);
    const explanation = registry.explainSelection();
    expect(explanation.candidates.every((c) => c.note === "sampled from the posterior" && (c.trials ?? 0) <= 20)).toBe(
      true,
    );
  });
});

describe("routesFromConfig", () => {
  it("builds cascade and selector routes; a problem points at the entry's place in the file", () => {
    const [cascade, selector] = routesFromConfig([
      {
        type: "cascade",
        name: "mcq",
        stages: [{ models: ["a", "b"], parallel: true }, { models: ["c"] }],
        extract: "choice",
        tasks: { w: { extract: "choice:AB" } },
        location: { source: "m.yaml", line: 3, column: 5 },
      },
      { type: "selector", name: "cheap", selector: { type: "cost" } },
    ]);
    expect(cascade).toBeInstanceOf(CascadeRoute);
    expect((cascade as CascadeRoute).planFor("w").extract("A or B")).toBe("A");
    expect((selector as SelectorRoute).selector).toBeInstanceOf(CostBasedSelector);
    expect(() =>
      routesFromConfig([
        {
          type: "cascade",
          name: "x",
          stages: [{ models: ["a"] }],
          extract: "letters",
          location: { source: "m.yaml", line: 7, column: 5 },
        },
      ]),
    ).toThrow(/m\.yaml:7:5: routes\[0\]\.extract: unknown extractor "letters"/);
  });
});

describe("registryFromConfig with loadModelConfig (YAML) and OpenAIModel", () => {
  let server: OpenAIServer;
  let dir: string;
  beforeAll(async () => {
    server = await startOpenAIServer({ apiKey: "sk-loopback-test", models: ["gpt-4o-mini", "gpt-4o"] });
    dir = await mkdtemp(join(tmpdir(), "registry-from-config-"));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const yaml = `models:
  - name: "gpt-4o-mini"
    provider: "openai"
    config:
      api_key: "\${LOOPBACK_KEY}"
      base_url: "\${LOOPBACK_URL}"
  - name: "gpt-4o"
    provider: "openai"
    config:
      api_key: "\${LOOPBACK_KEY}"
      base_url: "\${LOOPBACK_URL}"
  - name: "gpt-4"
    provider: "openai"
    config:
      api_key: "\${OPENAI_API_KEY}"
      organization: "\${OPENAI_ORG_ID}"
selector:
  type: cost
execution:
  max_retries: 0
  max_fallbacks: 2
  timeout: 30s
  backoff: { initial: 1ms, max: 5ms, jitter: false }
  fallbacks:
    gpt-4o-mini: [gpt-4, gpt-4o]
`;

  it("loads the file, skips the model whose key is not set, and serves calls through the SDK", async () => {
    const file = join(dir, "models.yaml");
    await writeFile(file, yaml);
    const env = { LOOPBACK_KEY: "sk-loopback-test", LOOPBACK_URL: server.baseURL };
    const config = await loadModelConfig(file, { env, lenient: true });
    expect(BUILD_MODELS in config).toBe(true);
    const registry = await registryFromConfig(config);
    try {
      expect(registry.listModels().map((m) => m.name)).toEqual(["gpt-4o-mini", "gpt-4o"]);
      expect(registry.skippedModels).toHaveLength(1);
      expect(registry.skippedModels[0]).toMatchObject({
        name: "gpt-4",
        provider: "openai",
        location: { source: file, line: 12 },
      });
      expect(registry.skippedModels[0]?.reason).toMatch(/OPENAI_API_KEY.*not set/);
      expect(registry.selector).toBeInstanceOf(CostBasedSelector);
      expect(registry.timeoutMs).toBe(30_000);
      expect(registry.fallbacks).toEqual({ "gpt-4o-mini": ["gpt-4", "gpt-4o"] });

      const ok = await registry.generate(ask("hello"));
      expect(ok.model).toBe("gpt-4o-mini");
      expect(ok.text).toBe("Echo: hello");

      // gpt-4o-mini fails: the chain's gpt-4 was skipped, so gpt-4o answers.
      server.enqueueFault({ type: "status", status: 500 });
      const rescued = await registry.generate(ask("again"));
      expect(rescued.model).toBe("gpt-4o");
      expect(rescued.explanation.fallbackFor).toBe("gpt-4o-mini");
      expect(rescued.attempts.map((a) => `${a.model}:${a.success ? "ok" : a.errorCode}`)).toEqual([
        "gpt-4o-mini:provider_error",
        "gpt-4o:ok",
      ]);
    } finally {
      await registry.cleanup();
    }
  });

  it("a contextual selector from YAML routes through the SDK, learns from feedback and logs its decisions", async () => {
    const file = join(dir, "contextual.yaml");
    const log = join(dir, "decisions.jsonl");
    await writeFile(
      file,
      yaml.replace(
        "selector:\n  type: cost\n",
        `selector:\n  type: contextual\n  exploration: greedy\n  epsilon: 0.2\n  decision_log: "${log}"\n`,
      ),
    );
    const registry = await registryFromConfig(
      await loadModelConfig(file, {
        env: { LOOPBACK_KEY: "sk-loopback-test", LOOPBACK_URL: server.baseURL },
        lenient: true,
      }),
    );
    try {
      expect(registry.selector).toBeInstanceOf(ContextualSelector);
      for (let i = 0; i < 30; i++) {
        const r = await registry.generate({ ...ask(`question ${i}`), task: "qa" });
        expect(r.text).toBe(`Echo: question ${i}`);
        registry.recordFeedback(r.selectionId, { quality: r.model === "gpt-4o" ? 1 : 0 });
      }
      const selector = registry.selector as ContextualSelector;
      const x = selector.features("question 99", "qa");
      expect(selector.predictQuality(x, "gpt-4o")).toBeGreaterThan(selector.predictQuality(x, "gpt-4o-mini"));
      // One JSON record per line (reading logs back with checks is @orchestrator-ts/replay's readDecisionLog).
      const lines = (await readFile(log, "utf8")).split("\n").filter((line) => line !== "");
      const records = lines.map((line) => JSON.parse(line) as DecisionRecord);
      expect(records.every((r) => r.v === 1 && Array.isArray(r.candidates) && typeof r.time === "number")).toBe(true);
      expect(records).toHaveLength(30);
      expect(records.every((r) => r.task === "qa" && (r.model === "gpt-4o") === (r.quality === 1))).toBe(true);
    } finally {
      await registry.cleanup();
    }
  });

  it("routes: from YAML — a cascade (whose skipped stage model counts as a failed one) and a selector route", async () => {
    const file = join(dir, "routes.yaml");
    await writeFile(
      file,
      `${yaml}routes:
  - name: agree
    type: cascade
    stages:
      - models: [gpt-4o-mini, gpt-4o]
        parallel: true
      - models: [gpt-4]
    extract: text
  - name: dear
    type: selector
    requirements: { providers: [openai] }
    selector: { type: round-robin }
`,
    );
    const registry = await registryFromConfig(
      await loadModelConfig(file, {
        env: { LOOPBACK_KEY: "sk-loopback-test", LOOPBACK_URL: server.baseURL },
        lenient: true,
      }),
    );
    try {
      expect(registry.listRoutes().map((r) => [r.name, r.type])).toEqual([
        ["agree", "cascade"],
        ["dear", "selector"],
      ]);
      const r = await registry.generate({ ...ask("same"), route: "agree" });
      expect(r.text).toBe("Echo: same");
      expect(r.cascade).toMatchObject({ escalated: false, accepted: true, answer: "Echo: same" });
      // One stage model fails (whichever request reaches the server first): the cascade escalates to
      // gpt-4, which was skipped (no key) and so fails too; the surviving answer is returned, not accepted.
      server.enqueueFault({ type: "status", status: 500 });
      const escalated = await registry.generate({ ...ask("again"), route: "agree" });
      expect(escalated.cascade).toMatchObject({ escalated: true, accepted: false });
      const answers = escalated.cascade?.answers ?? [];
      expect(answers.map((a) => a.model)).toEqual(["gpt-4o-mini", "gpt-4o", "gpt-4"]);
      expect(answers.filter((a) => a.ok)).toHaveLength(1);
      expect(answers[2]).toMatchObject({ ok: false, errorCode: "no_eligible_model" });
      expect(escalated.text).toBe("Echo: again");
      const models = new Set<string>();
      for (let i = 0; i < 2; i++) models.add((await registry.generate({ ...ask("x"), route: "dear" })).model);
      expect(models).toEqual(new Set(["gpt-4o-mini", "gpt-4o"]));
    } finally {
      await registry.cleanup();
    }
  });

  it("parseModelConfig works too, and a non-lenient missing key is the config's own error", async () => {
    const env = {
      LOOPBACK_KEY: "sk-loopback-test",
      LOOPBACK_URL: server.baseURL,
      OPENAI_API_KEY: "sk-x",
      OPENAI_ORG_ID: "org-x",
    };
    const config = parseModelConfig(yaml, { env });
    const registry = await registryFromConfig(config, { maxFallbacks: 0 });
    expect(registry.size).toBe(3);
    expect(registry.maxFallbacks).toBe(0);
    server.enqueueFault({ type: "status", status: 500 });
    await expect(registry.generate(ask("x"))).rejects.toSatisfy(
      (e: unknown) => ProviderError.isInstance(e) && e.status === 500,
    );
    await registry.cleanup();
    expect(() => parseModelConfig(yaml, { env: { LOOPBACK_KEY: "k", LOOPBACK_URL: server.baseURL } })).toThrow(
      /OPENAI_API_KEY/,
    );
  });
});
