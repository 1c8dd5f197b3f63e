import { describe, expect, it } from "vitest";
import { cascadePolicyRoute, replayCascade } from "./cascade-replay";
import type { ReplayDataset, ReplayRow } from "./dataset";

const N = 1_200;

/** N prompts; "c1" is right unless i % 3 = 0, "c2" unless i % 4 = 0 (then they answer other letters), "big" always. */
function toy(): ReplayDataset {
  const models = ["big", "c1", "c2"];
  const rows: ReplayRow[] = [];
  for (let i = 0; i < N; i++) {
    const right = "ABCD"[i % 4] as string;
    const c1 = i % 3 === 0 ? "ABCD"[(i + 1) % 4] : right;
    const c2 = i % 4 === 0 ? "ABCD"[(i + 2) % 4] : right;
    rows.push({
      id: String(i),
      task: "t",
      prompt: `q${i}`,
      quality: Float64Array.from([1, c1 === right ? 1 : 0, c2 === right ? 1 : 0]),
      cost: Float64Array.from([0.01, 0.0001, 0.0002]),
      responses: [`The answer is ${right}.`, `${c1})`, `(${c2})`],
    });
  }
  return { models, rows, skipped: [] };
}

const POLICY = {
  type: "cascade",
  name: "toy",
  stages: [{ models: ["c1", "c2"], parallel: true }, { models: ["big"] }],
  extract: "choice",
  accept: "unanimous",
};

describe("replayCascade", () => {
  it("runs the live route's decision on the recorded answers and pays for every model asked", async () => {
    const data = toy();
    let escalations = 0;
    let correct = 0;
    for (let i = 0; i < N; i++) {
      const disagree = i % 3 === 0 || i % 4 === 0;
      if (disagree) escalations++;
      // Agreeing cheap answers are right here (they are wrong in different ways).
      correct += 1;
    }
    const r = await replayCascade(data, () => cascadePolicyRoute(POLICY, data), { seeds: [1, 2] });
    expect(r.escalationRate).toBeCloseTo(escalations / N, 12);
    expect(r.accuracy).toBeCloseTo(correct / N, 12);
    expect(r.costPerPrompt).toBeCloseTo(0.0003 + (escalations / N) * 0.01, 12);
    expect(r.modelsPerPrompt).toBeCloseTo(2 + escalations / N, 12);
    // A budget paces the escalations: spend holds the target in every order.
    const paced = await replayCascade(data, () => cascadePolicyRoute(POLICY, data, { budgetPerRequest: 0.002 }), {
      seeds: [1, 2, 3],
    });
    // The first escalation (0.01, before its price is known) is the only spend ahead of the budget.
    expect(paced.costMax).toBeLessThanOrEqual(0.002 + 0.01 / N);
    expect(paced.costPerPrompt).toBeGreaterThan(0.002 * 0.97);
    expect(paced.escalationRate).toBeLessThan(r.escalationRate);
  });

  it("rejects a policy that is not a cascade, or names models the data lacks", () => {
    const data = toy();
    expect(() => cascadePolicyRoute({ type: "contextual" }, data)).toThrow(/"type": "cascade"/);
    expect(() => cascadePolicyRoute({ ...POLICY, stages: [{ models: ["c1", "c3"] }] }, data)).toThrow(
      /models not in the data: c3/,
    );
  });
});
