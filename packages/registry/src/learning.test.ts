import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./registry";
import { DEFAULT_REWARD } from "./reward";
import { UCBModelSelector } from "./ucb-selector";

/** Five arms: success rate, reported cost per call and the quality the application reports back. */
const ARMS = [
  { name: "steady-pricey", successRate: 0.95, costUsd: 0.004, quality: 0.6 },
  { name: "balanced", successRate: 0.9, costUsd: 0.0005, quality: 0.8 },
  { name: "cheap-flaky", successRate: 0.7, costUsd: 0.0001, quality: 0.7 },
  { name: "premium", successRate: 0.9, costUsd: 0.01, quality: 0.9 },
  { name: "mediocre", successRate: 0.8, costUsd: 0.001, quality: 0.5 },
];

/** Expected reward of an arm under the default reward (latency ≈ 0 ms scores ≈ 1). */
function expected(arm: (typeof ARMS)[number]): number {
  return (
    arm.successRate * DEFAULT_REWARD.of({ success: true, latencyMs: 0, costUsd: arm.costUsd, quality: arm.quality })
  );
}

function setup(selector?: UCBModelSelector) {
  // No retries or fallbacks: every call is exactly one pull of one arm, so regret is well defined.
  const registry = new ModelRegistry({
    maxRetries: 0,
    maxFallbacks: 0,
    ...(selector ? { modelSelector: selector } : {}),
  });
  const models = ARMS.map((a, i) =>
    registry.registerModel(
      new FakeModel({ name: a.name, successRate: a.successRate, costUsd: a.costUsd, seed: 100 + i, streaming: false }),
    ),
  );
  const picks: string[] = [];
  registry.on("selection", (e) => picks.push(e.model));
  return { registry, models, picks };
}

async function call(registry: ModelRegistry, i: number): Promise<void> {
  try {
    const result = await registry.generate({ messages: [{ role: "user", content: `question ${i}` }] });
    const arm = ARMS.find((a) => a.name === result.model);
    registry.recordFeedback(result.selectionId, { quality: arm?.quality ?? 0 });
  } catch {
    // A failed call is an outcome the bandit learns from (reward 0); the test only counts picks.
  }
}

describe("learning through registry.generate", () => {
  it("converges on the arm with the best expected reward, with falling regret", async () => {
    const { registry, picks } = setup();
    const values = new Map(ARMS.map((a) => [a.name, expected(a)]));
    const bestValue = Math.max(...values.values());
    const best = ARMS.find((a) => expected(a) === bestValue)?.name;
    expect(best).toBe("balanced");

    for (let i = 0; i < 2000; i++) await call(registry, i);

    expect(picks).toHaveLength(2000);
    const last500 = picks.slice(-500);
    const share = last500.filter((p) => p === best).length / last500.length;
    expect(share).toBeGreaterThanOrEqual(0.8);

    // Average (pseudo-)regret per call so far, at doubling horizons (regret grows like log t): must fall every time.
    const perCall = picks.map((p) => bestValue - (values.get(p) ?? 0));
    const checkpoints = [125, 250, 500, 1000, 2000];
    const regret = checkpoints.map((t) => perCall.slice(0, t).reduce((a, b) => a + b, 0) / t);
    for (let k = 1; k < regret.length; k++) expect(regret[k]).toBeLessThan(regret[k - 1] as number);
    // And per window: the last 500 calls lose far less than the first 500.
    const windowRegret = [0, 1, 2, 3].map(
      (w) => perCall.slice(w * 500, (w + 1) * 500).reduce((a, b) => a + b, 0) / 500,
    );
    for (let w = 1; w < 4; w++) expect(windowRegret[w]).toBeLessThan(windowRegret[0] as number);
    expect(windowRegret[3]).toBeLessThan((windowRegret[0] as number) / 5);

    // Every call was recorded in the stats store, feedback included.
    const stats = registry.getStatistics();
    expect(stats.models.reduce((n, m) => n + m.trials, 0)).toBe(2000);
    const balanced = stats.models.find((m) => m.model === "balanced");
    expect(balanced?.meanQuality).toBeCloseTo(0.8, 10);
    console.log(
      `learning: best-arm share in last 500 = ${(share * 100).toFixed(1)}%, average regret per call at ${checkpoints.join("/")} = ${regret.map((r) => r.toFixed(4)).join(" → ")}`,
    );
  });

  it.each([
    ["discount 0.995", { discount: 0.995 }, 0.7],
    ["window 500", { window: 500 }, 0.9],
  ])(
    "with %s, moves away from the best model within a bounded number of calls when it degrades",
    async (_label, forget, minShareBefore) => {
      const { registry, models, picks } = setup(new UCBModelSelector(forget));
      for (let i = 0; i < 1500; i++) await call(registry, i);
      const before = picks.slice(-300).filter((p) => p === "balanced").length / 300;
      expect(before).toBeGreaterThan(minShareBefore);

      // The best provider goes bad: 15% of its calls now succeed.
      (models[1] as FakeModel).setSuccessRate(0.15);
      const start = picks.length;
      for (let i = 0; i < 400; i++) await call(registry, 1500 + i);
      const after = picks.slice(start);
      // First point after which "balanced" gets under 20% of a 50-call window.
      let movedAt = -1;
      for (let i = 50; i <= after.length; i++) {
        const window = after.slice(i - 50, i);
        if (window.filter((p) => p === "balanced").length < 10) {
          movedAt = i;
          break;
        }
      }
      expect(movedAt).toBeGreaterThan(0);
      expect(movedAt).toBeLessThanOrEqual(120);
      // And it stays away (re-exploring now and then, but not returning).
      const tail = after.slice(-150).filter((p) => p === "balanced").length / 150;
      expect(tail).toBeLessThan(0.1);
      console.log(
        `${_label}: moved away ${movedAt} calls after degradation; share of the degraded model in the last 150 = ${(tail * 100).toFixed(1)}%`,
      );
    },
  );

  it("without forgetting, a long history keeps the degraded model longer than with a window", async () => {
    const runs: number[] = [];
    for (const selector of [new UCBModelSelector(), new UCBModelSelector({ window: 500 })]) {
      const { registry, models, picks } = setup(selector);
      for (let i = 0; i < 1500; i++) await call(registry, i);
      (models[1] as FakeModel).setSuccessRate(0.15);
      const start = picks.length;
      for (let i = 0; i < 300; i++) await call(registry, 1500 + i);
      runs.push(picks.slice(start).filter((p) => p === "balanced").length);
    }
    const [cumulative, windowed] = runs as [number, number];
    expect(windowed * 2).toBeLessThan(cumulative);
  });

  it('a cost that is not a number (NaN from a plugin, "n/a" from a server) teaches nothing false: scores stay numbers and a failing model loses its place', async () => {
    /** Reports a NaN cost and a NaN token count on its first answer. */
    class NaNOnce extends FakeModel {
      #calls = 0;
      protected override async doGenerate(...args: Parameters<FakeModel["doGenerate"]>) {
        const out = await super.doGenerate(...args);
        return this.#calls++ === 0
          ? { ...out, costUsd: Number.NaN, usage: { inputTokens: Number.NaN, outputTokens: 3 } }
          : out;
      }
    }
    const registry = new ModelRegistry({ maxRetries: 0, backoff: { initialMs: 1, maxMs: 1 } });
    const a = new NaNOnce({ name: "a" });
    registry.registerModel(a);
    registry.registerModel(new FakeModel({ name: "b" }));
    for (let i = 0; i < 10; i++) await registry.generate({ messages: [{ role: "user", content: `warm ${i}` }] });
    a.setSuccessRate(0);
    const first: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const result = await registry.generate({ messages: [{ role: "user", content: `q ${i}` }] });
      const model = result.attempts[0]?.model as string;
      first[model] = (first[model] ?? 0) + 1;
    }
    for (const c of registry.explainSelection().candidates) {
      expect(Number.isFinite(c.score), `${c.model}: ${c.score}`).toBe(true);
      expect(Number.isFinite(c.meanReward ?? 0)).toBe(true);
    }
    // Before, "a" (score NaN) was asked first 40 times of 40 while failing every call.
    expect(first.b ?? 0).toBeGreaterThan(30);
  });
});
