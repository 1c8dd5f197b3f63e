import { ConfigError } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { bestTaskMixture, cascadeCvMarkdown, crossValidateCascade, mixturePoint } from "./cascade-cv";
import type { ReplayDataset, ReplayRow } from "./dataset";

function row(task: string, i: number, quality: number[], cost: number[], responses?: string[]): ReplayRow {
  return {
    id: `${task}${i}`,
    task,
    prompt: `q${i}`,
    quality: Float64Array.from(quality),
    cost: Float64Array.from(cost),
    ...(responses ? { responses } : {}),
  };
}

describe("bestTaskMixture", () => {
  it("spends the budget on the steepest per-task step first, mixing two models of one task at the margin", () => {
    // Task a: cheap .5 @1, mid .8 @2, big 1 @10. Task b: cheap .6 @1, mid .75 @2, big .9 @4 (accuracy as the share right).
    const models = ["cheap", "mid", "big"];
    const rows: ReplayRow[] = [];
    const rate = { a: [0.5, 0.8, 1], b: [0.6, 0.75, 0.9] } as const;
    const cost = { a: [1, 2, 10], b: [1, 2, 4] } as const;
    for (const task of ["a", "b"] as const)
      for (let i = 0; i < 20; i++)
        rows.push(
          row(
            task,
            i,
            rate[task].map((r) => (i < r * 20 ? 1 : 0)),
            [...cost[task]],
          ),
        );
    const data: ReplayDataset = { models, rows, skipped: [] };
    // From both cheap (1): a's cheap→mid (+.3 per USD) first, then b's cheap→mid (+.15), half of it at 1.75.
    const mix = bestTaskMixture(data, 1.75);
    expect(mix.get("a")).toEqual([{ model: 1, weight: 1 }]);
    expect(mix.get("b")?.map((m) => m.model)).toEqual([0, 1]);
    expect(mix.get("b")?.[1]?.weight).toBeCloseTo(0.5, 12);
    const p = mixturePoint(data, mix, rows);
    expect(p.cost).toBeCloseTo(1.75, 12);
    expect(p.quality).toBeCloseTo(0.5 * 0.8 + 0.5 * (0.5 * 0.6 + 0.5 * 0.75), 12);
    // Below the cheapest models' cost: the cheapest models.
    expect(mixturePoint(data, bestTaskMixture(data, 0.1), rows).cost).toBeCloseTo(1, 12);
    // Past every model's cost: the best model of each task.
    expect(mixturePoint(data, bestTaskMixture(data, 100), rows).quality).toBeCloseTo(0.5 * 1 + 0.5 * 0.9, 12);
  });
});

const N = 1_000;
/** c1 is wrong when i % 3 = 0, c2 when i % 4 = 0 (other letters), big always right. */
function toy(): ReplayDataset {
  const rows: ReplayRow[] = [];
  for (let i = 0; i < N; i++) {
    const right = "ABCD"[i % 4] as string;
    const c1 = i % 3 === 0 ? "ABCD"[(i + 1) % 4] : right;
    const c2 = i % 4 === 0 ? "ABCD"[(i + 2) % 4] : right;
    rows.push(
      row(
        "t",
        i,
        [1, c1 === right ? 1 : 0, c2 === right ? 1 : 0],
        [0.01, 0.0001, 0.0002],
        [right, `${c1})`, `(${c2})`],
      ),
    );
  }
  return { models: ["big", "c1", "c2"], rows, skipped: [] };
}
const POLICY = {
  type: "cascade",
  name: "toy",
  stages: [{ models: ["c1", "c2"], parallel: true }, { models: ["big"] }],
  extract: "choice",
  budgetPerRequest: 0.002,
};

describe("crossValidateCascade", () => {
  it("replays the paced cascade on each held-out fold against the per-task mixture fitted on the other folds", async () => {
    const data = toy();
    const cv = await crossValidateCascade(data, POLICY, { folds: 4, seeds: [1, 2] });
    expect(cv.folds.map((f) => f.prompts)).toEqual([250, 250, 250, 250]);
    for (const f of cv.folds) {
      expect(f.gain).toBeCloseTo(f.accuracy - f.baselineAccuracy, 12);
      // Both at the budget: the cascade never ahead of it beyond its first escalation, the mixture fitted to it.
      expect(f.costMax).toBeLessThanOrEqual(0.002 + 0.01 / 250);
      expect(f.costPerPrompt).toBeGreaterThan(0.002 * 0.9);
      expect(f.baselineCost).toBeGreaterThan(0.002 * 0.9);
      expect(f.baselineCost).toBeLessThan(0.002 * 1.1);
    }
    const gains = cv.folds.map((f) => f.gain);
    const mean = gains.reduce((s, g) => s + g, 0) / 4;
    expect(cv.gain).toBeCloseTo(mean, 12);
    expect(cv.gainSe).toBeCloseTo(Math.sqrt(gains.reduce((s, g) => s + (g - mean) ** 2, 0) / 3) / 2, 12);
    // Same folds and orders, same figures.
    expect((await crossValidateCascade(data, POLICY, { folds: 4, seeds: [1, 2] })).gain).toBe(cv.gain);
    expect(cascadeCvMarkdown(cv, "train")).toMatch(/Cross-validated gain: [+−]\d\.\d{3} ± \d\.\d{3} accuracy/);
  });

  it("needs a budget to compare at, and a sensible number of folds", async () => {
    const data = toy();
    const { budgetPerRequest: _, ...unpaced } = POLICY;
    await expect(crossValidateCascade(data, unpaced)).rejects.toThrow(/set a positive budgetPerRequest/);
    await expect(crossValidateCascade(data, POLICY, { folds: 1 })).rejects.toSatisfy(
      (e) => ConfigError.isInstance(e) && /folds: must be an integer from 2/.test(String((e as Error).message)),
    );
  });
});
