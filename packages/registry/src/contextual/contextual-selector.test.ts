import { type GenerateRequest, Model, type ModelOutput } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../random";
import { ModelRegistry } from "../registry";
import { ContextualSelector } from "./contextual-selector";
import type { ContextualExploration } from "./options";
import { MemoryDecisionLog } from "./decision-log";
import { HashedNgramExtractor, SparseFeatures } from "./features";

// Two kinds of request: model A answers questions about cooking, model B about code.
const COOKING = [
  "how long do I boil an egg",
  "best way to roast vegetables",
  "recipe for bread dough",
  "how to season a cast iron pan",
  "what spices go in curry",
];
const CODE = [
  "fix this typescript compile error",
  "write a python function to sort",
  "why does my regex not match",
  "explain this stack trace",
  "how to debounce in javascript",
];
const MODELS = ["model-a", "model-b"];

function truth(kind: 0 | 1, model: string): number {
  return (kind === 0) === (model === "model-a") ? 1 : 0;
}

function stream(seed: number, n: number): { text: string; kind: 0 | 1 }[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const kind = random() < 0.5 ? 0 : 1;
    const pool = kind === 0 ? COOKING : CODE;
    return { text: pool[Math.floor(random() * pool.length)] as string, kind: kind as 0 | 1 };
  });
}

describe("ContextualSelector: learning a known best policy", () => {
  for (const exploration of ["linucb", "thompson", "greedy"] as ContextualExploration[]) {
    it(`${exploration}: picks A for cooking and B for code after a few hundred requests`, () => {
      const selector = new ContextualSelector({
        exploration,
        seed: 3,
        ...(exploration === "greedy" ? { epsilon: 0.1 } : {}),
        extractor: new HashedNgramExtractor({ dimensions: 256 }),
      });
      let correctLate = 0;
      const requests = stream(7, 600);
      requests.forEach(({ text, kind }, t) => {
        const x = selector.features(text);
        const { index } = selector.choose(x, MODELS);
        const model = MODELS[index] as string;
        const q = truth(kind, model);
        selector.learn(x, model, q, 0.001);
        if (t >= 400) correctLate += q;
      });
      // ε = 0.1 greedy explores a random model 10% of the time: half of those are wrong.
      expect(correctLate / 200).toBeGreaterThan(exploration === "greedy" ? 0.9 : 0.97);
      // Bandit feedback: the model it stopped choosing stays uncertain, but the ranking is learnt.
      const cooking = selector.features("recipe for bread dough").clone();
      const code = selector.features("explain this stack trace");
      expect(selector.predictQuality(cooking, "model-a")).toBeGreaterThan(0.8);
      expect(selector.predictQuality(cooking, "model-a")).toBeGreaterThan(selector.predictQuality(cooking, "model-b"));
      expect(selector.predictQuality(code, "model-b")).toBeGreaterThan(selector.predictQuality(code, "model-a"));
    });
  }

  it("trades predicted quality against λ·cost", () => {
    const selector = new ContextualSelector({ exploration: "greedy", lambda: 0 });
    const x = selector.features("anything");
    // Warm start: A is right 90% of the time at $0.01, B 70% at $0.0001.
    selector.fit(
      Array.from({ length: 200 }, (_, i) => ({
        features: x,
        outcomes: [
          { model: "A", quality: i % 10 === 0 ? 0 : 1, costUsd: 0.01 },
          { model: "B", quality: i % 10 < 3 ? 0 : 1, costUsd: 0.0001 },
        ],
      })),
    );
    expect(selector.choose(x, ["A", "B"]).index).toBe(0);
    selector.lambda = 100; // 0.2 quality is worth less than 100 × $0.0099
    expect(selector.choose(x, ["A", "B"]).index).toBe(1);
    expect(selector.predictedCost("A", undefined)).toBeCloseTo(0.01, 9);
  });
});

describe("ContextualSelector: budget pacing", () => {
  it("keeps the running mean cost within 5% of the budget over 1,000 requests while spending it", () => {
    // Expensive model: right on 90% of requests; cheap: 60%. The budget allows ~35% expensive calls.
    const budget = 0.004;
    const selector = new ContextualSelector({ exploration: "greedy", budgetPerRequest: budget, seed: 1 });
    const random = seededRandom(11);
    const texts = ["easy question", "hard question", "medium question", "tricky question"];
    let spent = 0;
    let quality = 0;
    let expensive = 0;
    for (let t = 0; t < 1000; t++) {
      const x = selector.features(texts[t % 4] as string);
      const { index } = selector.choose(x, ["expensive", "cheap"]);
      const cost = index === 0 ? 0.01 : 0.001;
      const q = random() < (index === 0 ? 0.9 : 0.6) ? 1 : 0;
      selector.learn(x, index === 0 ? "expensive" : "cheap", q, cost);
      spent += cost;
      quality += q;
      if (index === 0) expensive++;
    }
    expect(spent / 1000).toBeLessThanOrEqual(budget * 1.05);
    expect(spent / 1000).toBeGreaterThan(budget * 0.85);
    expect(expensive).toBeGreaterThan(200);
    expect(quality / 1000).toBeGreaterThan(0.65);
    expect(selector.pacer?.meanCostUsd).toBeCloseTo(spent / 1000, 12);
  });

  it("calibrates the starting λ to the budget on warm-start data", () => {
    const selector = new ContextualSelector({ exploration: "greedy", budgetPerRequest: 0.005 });
    const ex = new HashedNgramExtractor();
    const rows = Array.from({ length: 300 }, (_, i) => ({
      features: ex.extract({ text: `question ${i % 7}` }, new SparseFeatures()).clone(),
      outcomes: [
        { model: "big", quality: i % 10 === 0 ? 0 : 1, costUsd: 0.01 },
        { model: "small", quality: i % 10 < 4 ? 0 : 1, costUsd: 0.001 },
      ],
    }));
    selector.fit(rows);
    const lambda = selector.lambda;
    // At that price the two models' net values are about equal: 0.9 − 0.01λ ≈ 0.6 − 0.001λ.
    expect(lambda).toBeGreaterThan(20);
    expect(lambda).toBeLessThan(45);
  });
});

describe("ContextualSelector: save, restore and the registry", () => {
  it("round-trips its learned state through JSON", () => {
    const a = new ContextualSelector({ exploration: "greedy", seed: 5 });
    for (const { text, kind } of stream(2, 200)) {
      const x = a.features(text, "t");
      for (const m of MODELS) a.learn(x, m, truth(kind, m), m === "model-a" ? 0.002 : 0.001, { task: "t" });
    }
    const json = JSON.stringify(a.save());
    const b = new ContextualSelector({ exploration: "greedy", seed: 5 }).restore(JSON.parse(json));
    for (const text of [...COOKING, ...CODE]) {
      const xa = a.features(text, "t").clone();
      for (const m of MODELS) expect(b.predictQuality(b.features(text, "t"), m)).toBe(a.predictQuality(xa, m));
    }
    expect(b.predictedCost("model-a", "t")).toBeCloseTo(0.002, 12);
    expect(() =>
      new ContextualSelector({ extractor: new HashedNgramExtractor({ dimensions: 64 }) }).restore(JSON.parse(json)),
    ).toThrow(/1024 dimensions/);
  });

  it("learns through registry.generate + recordFeedback, and logs each decision", async () => {
    class Answerer extends Model {
      protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
        return { text: `${this.name}: ${request.messages.length}`, costUsd: this.name === "model-a" ? 0.002 : 0.001 };
      }
    }
    const log = new MemoryDecisionLog();
    const selector = new ContextualSelector({
      exploration: "linucb",
      alpha: 0.5,
      log,
      extractor: new HashedNgramExtractor({ dimensions: 256 }),
    });
    const registry = new ModelRegistry({ modelSelector: selector });
    for (const name of MODELS) registry.registerModel(new Answerer({ name, provider: "test" }));
    let late = 0;
    const requests = stream(9, 300);
    for (const [t, { text, kind }] of requests.entries()) {
      const result = await registry.generate({ messages: [{ role: "user", content: text }], task: "qa" });
      const q = truth(kind, result.model);
      registry.recordFeedback(result.selectionId, { quality: q });
      if (t >= 200) late += q;
    }
    expect(late / 100).toBeGreaterThan(0.95);
    expect(log.records).toHaveLength(300);
    const first = log.records[0];
    expect(first).toMatchObject({ v: 1, task: "qa", candidates: MODELS, probability: 1, success: true });
    expect(first?.features?.i.length).toBeGreaterThan(3);
    expect(typeof first?.costUsd).toBe("number");
    const explanation = registry.explainSelection(undefined, {
      request: { messages: [{ role: "user", content: COOKING[0] as string }] },
    });
    expect(explanation.model?.name).toBe("model-a");
    expect(explanation.candidates[0]?.note).toMatch(/predicted quality/);
  });
});
