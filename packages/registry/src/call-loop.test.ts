import { type FakeOutcome, FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { CostBasedSelector } from "./cost-performance-selectors";
import { PassiveHealth } from "./passive-health";
import { ModelRegistry } from "./registry";
import { ScriptedHealth, ask } from "./test-helpers";
import type { AttemptRecord } from "./types";

// generate and stream run one call loop (CallState): for every failure the same decision follows.

interface Scenario {
  name: string;
  models: { name: string; script: FakeOutcome[]; contextWindow?: number; cost: number }[];
  fallbacks?: Record<string, string[]>;
}

const SCENARIOS: Scenario[] = [
  {
    name: "a rate limit, then an answer: retry",
    models: [{ name: "a", script: [{ fail: "rate-limit", retryAfterMs: 1 }, "ok"], cost: 1e-7 }],
  },
  {
    name: "server errors beyond the retries: fall back",
    models: [
      { name: "a", script: [{ fail: "server-error" }, { fail: "server-error" }, { fail: "server-error" }], cost: 1e-7 },
      { name: "b", script: ["ok"], cost: 2e-7 },
    ],
  },
  {
    name: "auth: fall back at once",
    models: [
      { name: "a", script: [{ fail: "auth" }], cost: 1e-7 },
      { name: "b", script: ["ok"], cost: 2e-7 },
    ],
  },
  {
    name: "context length: fall back to a larger window",
    models: [
      { name: "small", script: [{ fail: "context-length" }], contextWindow: 1_000, cost: 1e-7 },
      { name: "same", script: ["ok"], contextWindow: 1_000, cost: 2e-7 },
      { name: "large", script: ["ok"], contextWindow: 100_000, cost: 3e-7 },
    ],
  },
  {
    name: "a retryAfter beyond the backoff cap: fall back",
    models: [
      { name: "a", script: [{ fail: "rate-limit", retryAfterMs: 60_000 }], cost: 1e-7 },
      { name: "b", script: ["ok"], cost: 2e-7 },
    ],
  },
  {
    name: "an explicit chain first",
    models: [
      { name: "a", script: [{ fail: "auth" }], cost: 1e-7 },
      { name: "b", script: ["ok"], cost: 2e-7 },
      { name: "c", script: ["ok"], cost: 3e-7 },
    ],
    fallbacks: { a: ["c"] },
  },
  {
    name: "every model fails: the last error",
    models: [
      { name: "a", script: [{ fail: "auth" }], cost: 1e-7 },
      { name: "b", script: [{ fail: "auth" }], cost: 2e-7 },
    ],
  },
  {
    name: "a bad request: thrown at once",
    models: [
      { name: "a", script: [{ fail: Object.assign(new Error("bad request"), { status: 400 }) }], cost: 1e-7 },
      { name: "b", script: ["ok"], cost: 2e-7 },
    ],
  },
];

function registryFor(s: Scenario): ModelRegistry {
  const registry = new ModelRegistry({
    modelSelector: new CostBasedSelector(),
    maxRetries: 2,
    maxFallbacks: 2,
    backoff: { initialMs: 1, maxMs: 5 },
    ...(s.fallbacks ? { fallbacks: s.fallbacks } : {}),
  });
  for (const m of s.models) {
    registry.registerModel(
      new FakeModel({
        name: m.name,
        script: [...m.script],
        capabilities: {
          supportsStreaming: true,
          inputCostPerToken: m.cost,
          ...(m.contextWindow ? { contextWindow: m.contextWindow } : {}),
        },
      }),
    );
  }
  return registry;
}

const shape = (attempts: readonly AttemptRecord[]) =>
  attempts.map((a) => `${a.model}:${a.success ? "ok" : `${a.errorCode}→${a.next}`}`);

type Run = { outcomes: string[]; attempts: string[] | undefined; outcome: string };

/** Every outcome the registry recorded, the attempts it reports, and how the call ended. */
async function run(
  s: Scenario,
  call: (registry: ModelRegistry) => Promise<{ model: string; attempts: readonly AttemptRecord[] }>,
): Promise<Run> {
  const registry = registryFor(s);
  const outcomes: string[] = [];
  registry.on("outcome", (e) => outcomes.push(`${e.attempt}.${e.model}:${e.success ? "ok" : e.error?.code}`));
  try {
    const r = await call(registry);
    return { outcomes, attempts: shape(r.attempts), outcome: `answered by ${r.model}` };
  } catch (error) {
    return { outcomes, attempts: undefined, outcome: `threw ${(error as { code?: string }).code}` };
  }
}

const viaGenerate = (s: Scenario) => run(s, (registry) => registry.generate(ask("hello")));
const viaStream = (s: Scenario) =>
  run(s, async (registry) => {
    const stream = registry.stream(ask("hello"));
    let model = "";
    for await (const chunk of stream) if (chunk.type === "finish") model = chunk.model ?? "";
    return { model, attempts: stream.attempts };
  });

describe("one call loop for generate and stream", () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: the same attempts, decisions and outcome`, async () => {
      const g = await viaGenerate(s);
      const st = await viaStream(s);
      expect(st).toEqual(g);
    });
  }

  it("the decisions themselves", async () => {
    expect((await viaGenerate(SCENARIOS[1] as Scenario)).attempts).toEqual([
      "a:provider_error→retry",
      "a:provider_error→retry",
      "a:provider_error→fallback",
      "b:ok",
    ]);
    expect((await viaGenerate(SCENARIOS[3] as Scenario)).attempts).toEqual([
      "small:context_length_error→fallback",
      "large:ok",
    ]);
    expect((await viaGenerate(SCENARIOS[5] as Scenario)).attempts).toEqual(["a:authentication_error→fallback", "c:ok"]);
    expect(await viaGenerate(SCENARIOS[6] as Scenario)).toEqual({
      outcomes: ["1.a:authentication_error", "2.b:authentication_error"],
      attempts: undefined,
      outcome: "threw authentication_error",
    });
    expect((await viaGenerate(SCENARIOS[7] as Scenario)).outcome).toMatch(/^threw /);
  });
});

describe("one health interface", () => {
  it("without a monitor the registry keeps a PassiveHealth: derived from its calls, never excluding", async () => {
    const registry = new ModelRegistry({ maxRetries: 0, maxFallbacks: 0 });
    expect(registry.health).toBeInstanceOf(PassiveHealth);
    expect(registry.healthMonitor).toBeUndefined();
    registry.registerModel(
      new FakeModel({
        name: "m",
        script: [{ fail: "server-error" }, { fail: "server-error" }, { fail: "server-error" }],
      }),
    );
    const events: string[] = [];
    registry.on("health", (e) => events.push(`${e.status}${e.available ? "" : " (excluded)"}`));
    for (let i = 0; i < 3; i++) await expect(registry.generate(ask("x"))).rejects.toThrow();
    expect(events).toEqual(["degraded", "unhealthy"]);
    // Reported, never excluded: the model is still chosen.
    expect(registry.selectModel().name).toBe("m");
    expect(registry.health.availability("m")).toEqual({ available: true, status: "unhealthy" });
    registry.resetStatistics();
    expect((await registry.getModelHealth("m")).consecutiveFailures).toBe(0);
  });

  it("with a monitor, the monitor is the one tracker: asked per candidate, fed every outcome", async () => {
    const monitor = new ScriptedHealth();
    const registry = new ModelRegistry({ healthMonitor: monitor, maxRetries: 0, maxFallbacks: 1 });
    expect(registry.health).toBe(monitor);
    registry.registerModel(new FakeModel({ name: "a", script: [{ fail: "server-error" }] }));
    registry.registerModel(new FakeModel({ name: "b" }));
    monitor.set("b", "unhealthy", "probe failed");
    await expect(registry.generate(ask("x"))).rejects.toThrow();
    expect(monitor.failures).toEqual([{ name: "a", code: "provider_error" }]);
    expect(registry.explainSelection().excluded).toEqual([
      { model: "b", code: "unhealthy", reason: "unavailable (unhealthy): probe failed" },
    ]);
  });

  it("PassiveHealth is a HealthTracker on its own", async () => {
    const health = new PassiveHealth();
    const model = new FakeModel({ name: "m" });
    health.watch(model);
    expect(health.availability("m")).toEqual({ available: true, status: "unknown" });
    await model.generate(ask("x"));
    health.recordSuccess("m");
    expect(health.availability("m").status).toBe("healthy");
    health.recordFailure("m", new Error("boom"));
    expect(await health.getHealth("m")).toMatchObject({
      isHealthy: true,
      status: "degraded",
      consecutiveFailures: 1,
      issues: ["1 consecutive failed calls"],
    });
    await expect(health.getHealth("other")).rejects.toThrow(/other/);
  });
});
