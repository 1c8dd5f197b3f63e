import {
  type ArmStats,
  ConfigError,
  emptyArmStats,
  type SelectionCandidate,
  type SelectionContext,
} from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { MemoryStatsStore } from "./stats-store";
import { UCBModelSelector } from "./ucb-selector";

function arm(trials: number, rewardSum: number, rewardSqSum: number): ArmStats {
  return { ...emptyArmStats(), trials, successes: trials, rewardSum, rewardSqSum };
}

function candidates(...stats: (ArmStats | undefined)[]): SelectionCandidate[] {
  return stats.map((s, i) => ({
    model: new FakeModel({ name: `m${i}` }),
    order: i,
    estimatedCostUsd: 0,
    stats: s,
    statsScope: undefined,
    overall: s,
  }));
}

const context = (explain = true): SelectionContext => ({
  request: undefined,
  task: undefined,
  requirements: {},
  taskMinTrials: 10,
  explain,
  statsStore: new MemoryStatsStore(),
});

describe("UCBModelSelector scores", () => {
  // Three arms: (n, Σr, Σr²) = (10, 7, 5.5), (20, 12, 8), (5, 4, 3.4); N = 35, ln N = 3.5553481.
  const three = () => candidates(arm(10, 7, 5.5), arm(20, 12, 8), arm(5, 4, 3.4));

  it("UCB1: mean + c·√(ln N / n), computed by hand", () => {
    const choice = new UCBModelSelector({ variant: "ucb1", explorationFactor: 0.5, minTrials: 5 }).select(
      three(),
      context(),
    );
    // 0.7 + 0.5·√(3.5553481/10) = 0.9981337; 0.6 + 0.5·√(3.5553481/20) = 0.8108124; 0.8 + 0.5·√(3.5553481/5) = 1.2216247
    expect(choice.scores?.map((s) => s.score)).toEqual([
      expect.closeTo(0.9981337, 6),
      expect.closeTo(0.8108124, 6),
      expect.closeTo(1.2216247, 6),
    ]);
    expect(choice.scores?.[0]).toMatchObject({
      meanReward: expect.closeTo(0.7, 10),
      bonus: expect.closeTo(0.2981337, 6),
      trials: 10,
    });
    expect(choice.index).toBe(2);
  });

  it("UCB1-Tuned: the bonus is capped by min(¼, V) and shrinks for low-variance arms", () => {
    const choice = new UCBModelSelector({ variant: "ucb1-tuned", explorationFactor: 0.5, minTrials: 5 }).select(
      three(),
      context(),
    );
    // V ≥ ¼ for all three (few trials): bonus = 0.5·√(ln N / n · ¼)
    expect(choice.scores?.map((s) => s.score)).toEqual([
      expect.closeTo(0.8490668, 6),
      expect.closeTo(0.7054062, 6),
      expect.closeTo(1.0108124, 6),
    ]);
    // 1,000 trials, mean 0.5, variance 0.01: V = 0.01 + √(2·ln 2000 / 1000) = 0.1332956 < ¼ → bonus 0.0318303
    const low = new UCBModelSelector({ variant: "ucb1-tuned", explorationFactor: 1 }).select(
      candidates(arm(1000, 500, 260), arm(1000, 500, 260)),
      context(),
    );
    expect(low.scores?.[0]?.bonus).toBeCloseTo(0.0318303, 6);
    expect(UCBModelSelector.score("ucb1-tuned", 1, 0.5, 0.01, 1000, 2000).score).toBeCloseTo(0.5318303, 6);
  });

  it("defaults to UCB1-Tuned with c = 0.5 and accepts the seed's explorationFactor 2.0", () => {
    const d = new UCBModelSelector();
    expect([d.variant, d.explorationFactor, d.minTrials]).toEqual(["ucb1-tuned", 0.5, 5]);
    const seed = new UCBModelSelector({ explorationFactor: 2.0, minTrials: 5 });
    expect(seed.explorationFactor).toBe(2);
  });

  it("tries models under minTrials first, fewest trials first, then registration order", () => {
    const selector = new UCBModelSelector({ minTrials: 3 });
    // m2 has the best mean but m0 and m3 have too few trials; m3 has fewer.
    const list = candidates(arm(2, 2, 2), arm(10, 1, 1), arm(10, 10, 10), arm(1, 0, 0), arm(1, 0, 0));
    const choice = selector.select(list, context());
    expect(choice.index).toBe(3);
    expect(choice.scores?.[3]).toMatchObject({ score: Number.POSITIVE_INFINITY, note: "exploring: 1 of 3 trials" });
    // Models never called (no stats at all) go before everything.
    expect(selector.select(candidates(arm(2, 2, 2), undefined), context(false)).index).toBe(1);
    // Once every model has minTrials, scores decide.
    expect(selector.select(candidates(arm(3, 0, 0), arm(10, 10, 10), arm(3, 1, 1)), context()).index).toBe(1);
  });

  it("breaks ties by fewer trials, then registration order", () => {
    const selector = new UCBModelSelector({ variant: "ucb1", explorationFactor: 0, minTrials: 0 });
    // Same mean 0.5, no bonus: the one with fewer trials wins.
    expect(selector.select(candidates(arm(20, 10, 5), arm(10, 5, 2.5)), context()).index).toBe(1);
    // Same mean and trials: registration order.
    expect(selector.select(candidates(arm(10, 5, 2.5), arm(10, 5, 2.5), arm(10, 5, 2.5)), context()).index).toBe(0);
    const reversed = candidates(arm(10, 5, 2.5), arm(10, 5, 2.5)).map((c, i) => ({ ...c, order: 1 - i }));
    expect(selector.select(reversed, context()).index).toBe(1);
  });

  it("rejects bad options with a ConfigError naming the field", () => {
    expect(() => new UCBModelSelector({ explorationFactor: -1 })).toThrow(
      /explorationFactor: must be a non-negative number/,
    );
    expect(() => new UCBModelSelector({ discount: 1.5 })).toThrow(/discount: must be in \(0, 1\)/);
    expect(() => new UCBModelSelector({ discount: 0.9, window: 10 })).toThrow(ConfigError);
    expect(() => new UCBModelSelector({ window: 0 })).toThrow(/window: must be a positive integer/);
    expect(() => new UCBModelSelector({ rewardWeights: { success: 0, latency: 0, cost: 0, quality: 0 } })).toThrow(
      /at least one weight must be positive/,
    );
  });
});

describe("UCBModelSelector forgetting", () => {
  const outcome = (selector: UCBModelSelector, id: string, model: string, reward: number) =>
    selector.update({
      type: "outcome",
      selectionId: id,
      model,
      task: undefined,
      success: reward > 0,
      reward,
      latencyMs: 1,
      costUsd: 0,
    });

  it("discount γ weighs an outcome γ^age, counted in outcomes", () => {
    const selector = new UCBModelSelector({ discount: 0.5, minTrials: 0, variant: "ucb1", explorationFactor: 0 });
    outcome(selector, "a", "m0", 1); // step 0
    outcome(selector, "b", "m1", 0); // step 1
    outcome(selector, "c", "m0", 0); // step 2
    // Now (step 3): m0 (outcomes at steps 0 and 2) has n = 0.5³ + 0.5¹ = 0.625 and Σr = 0.5³ = 0.125 → mean 0.2.
    const cands = candidates(arm(2, 1, 1), arm(1, 0, 0));
    const choice = selector.select(cands, context());
    expect(choice.scores?.[0]).toMatchObject({
      trials: expect.closeTo(0.625, 10),
      meanReward: expect.closeTo(0.2, 10),
    });
    expect(choice.scores?.[1]).toMatchObject({ trials: expect.closeTo(0.25, 10), meanReward: 0 });
    // Late feedback on "a" (step 0, age 3) changes its reward 1 → 0.6: Σr drops by 0.4·0.5³ = 0.05.
    selector.update({
      type: "feedback",
      selectionId: "a",
      model: "m0",
      task: undefined,
      previousReward: 1,
      reward: 0.6,
      quality: 0.2,
    });
    expect(selector.select(cands, context()).scores?.[0]?.meanReward).toBeCloseTo(0.075 / 0.625, 10);
  });

  it("window W counts only the last W outcomes, and feedback corrects an outcome still inside it", () => {
    const selector = new UCBModelSelector({ window: 3, minTrials: 0, variant: "ucb1", explorationFactor: 0 });
    outcome(selector, "a", "m0", 1);
    outcome(selector, "b", "m0", 1);
    outcome(selector, "c", "m1", 0.5);
    outcome(selector, "d", "m0", 0);
    // "a" left the window: m0 = {b: 1, d: 0}, m1 = {c: 0.5}.
    const cands = candidates(arm(3, 2, 2), arm(1, 0.5, 0.25));
    let scores = selector.select(cands, context()).scores;
    expect(scores?.[0]).toMatchObject({ trials: 2, meanReward: 0.5 });
    expect(scores?.[1]).toMatchObject({ trials: 1, meanReward: 0.5 });
    selector.update({
      type: "feedback",
      selectionId: "d",
      model: "m0",
      task: undefined,
      previousReward: 0,
      reward: 0.8,
      quality: 1,
    });
    selector.update({
      type: "feedback",
      selectionId: "a",
      model: "m0",
      task: undefined,
      previousReward: 1,
      reward: 0,
      quality: 0,
    }); // outside: ignored
    scores = selector.select(cands, context()).scores;
    expect(scores?.[0]).toMatchObject({ trials: 2, meanReward: expect.closeTo(0.9, 10) });
    // A model with no outcome in the window is re-explored first.
    outcome(selector, "e", "m0", 1);
    outcome(selector, "f", "m0", 1);
    const choice = selector.select(cands, context());
    expect(choice.scores?.[1]).toMatchObject({ trials: 0, note: "no recent trials: re-exploring" });
    expect(choice.index).toBe(1);
    selector.reset();
    expect(selector.select(cands, context()).scores?.[0]?.trials).toBe(0);
  });
});
