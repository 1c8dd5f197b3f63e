import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContextualSelector, DecisionLog, HashedNgramExtractor, MemoryDecisionLog } from "@orchestrator-ts/registry";
import { seededRandom } from "@orchestrator-ts/registry/internal";
import { describe, expect, it } from "vitest";
import { parseDecisionLog, readDecisionLog } from "./decision-log";
import { offPolicyEstimate, selectorPolicy } from "./off-policy";

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

describe("Decision log", () => {
  it("writes JSONL, and reports a corrupt line with its number and skips it", () => {
    const dir = mkdtempSync(join(tmpdir(), "decision-log-"));
    try {
      const path = join(dir, "log.jsonl");
      const log = new DecisionLog(path);
      const selector = new ContextualSelector({ exploration: "greedy", log });
      const x = selector.features("hello");
      selector.choose(x, ["a", "b"]);
      log.write({ v: 1, time: 1, candidates: ["a", "b"], model: "a", probability: 1, quality: 1, costUsd: 0.001 });
      log.write({ v: 1, time: 2, candidates: ["a", "b"], model: "b", probability: 0.5, quality: 0, costUsd: 0.002 });
      writeFileSync(path, `${readFileSync(path, "utf8")}{"v":1,"time":3,"candid\n{"v":2,"model":"a"}\n\n`, {
        flag: "w",
      });
      log.write({ v: 1, time: 4, candidates: ["a"], model: "a", quality: 1 });
      const { records, problems } = readDecisionLog(path);
      expect(records.map((r) => r.time)).toEqual([1, 2, 4]);
      expect(problems).toEqual([
        { line: 3, message: expect.stringMatching(/invalid JSON/) },
        { line: 4, message: expect.stringMatching(/unsupported version 2/) },
      ]);
      // Warm start from the log: the chosen models' outcomes.
      const warm = new ContextualSelector({ exploration: "greedy" }).fit(records);
      expect(warm.models.sort()).toEqual(["a", "b"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks fields", () => {
    const { problems } = parseDecisionLog(
      '[1]\n{"v":1,"time":1,"candidates":["a"],"model":"a","probability":0}\n{"v":1,"time":1,"candidates":["a"],"model":"a","features":{"i":[1],"v":[]}}',
    );
    expect(problems.map((p) => p.line)).toEqual([1, 2, 3]);
  });
});

describe("Off-policy evaluation", () => {
  it("estimates a target policy's quality from an ε-greedy log (SNIPS within 0.05 of the truth)", () => {
    // Logging policy: a barely-trained selector with ε = 0.5 (so every model gets logged).
    const logger = new ContextualSelector({
      exploration: "greedy",
      epsilon: 0.5,
      seed: 4,
      extractor: new HashedNgramExtractor({ dimensions: 256 }),
    });
    const log = new MemoryDecisionLog();
    const requests = stream(21, 3000);
    for (const { text, kind } of requests) {
      const x = logger.features(text);
      const choice = logger.choose(x, MODELS, { probability: true });
      const model = MODELS[choice.index] as string;
      log.write({
        v: 1,
        time: 0,
        features: x.toJSON(),
        candidates: MODELS,
        model,
        probability: choice.probability,
        quality: truth(kind, model),
        costUsd: 0.001,
      });
    }
    // Target: a selector trained on other data to the known best policy (true quality 1.0),
    // and a constant policy "always model-b" (true quality 0.5).
    const target = new ContextualSelector({ exploration: "greedy", extractor: logger.extractor });
    for (const { text, kind } of stream(22, 400)) {
      const x = target.features(text);
      for (const m of MODELS) target.learn(x, m, truth(kind, m), 0.001);
    }
    const good = offPolicyEstimate(log.records, selectorPolicy(target));
    expect(good.n).toBe(3000);
    expect(good.snips.quality).toBeGreaterThan(0.95);
    expect(good.effectiveSampleSize).toBeGreaterThan(500);
    const alwaysB = offPolicyEstimate(log.records, (r) => (r.model === "model-b" ? 1 : 0));
    expect(Math.abs(alwaysB.snips.quality - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(alwaysB.ips.quality - 0.5)).toBeLessThan(0.08);
  });
});
