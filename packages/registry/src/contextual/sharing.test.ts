import { describe, expect, it } from "vitest";
import { seededRandom } from "../random";
import { MemoryStatsStore } from "../stats-store";
import { ContextualSelector } from "./contextual-selector";
import { HashedNgramExtractor } from "./features";

// Model A is right about cooking, model B about code (as in contextual-selector.test.ts).
const COOKING = [
  "how long do I boil an egg",
  "best way to roast vegetables",
  "recipe for bread dough",
  "how to season a cast iron pan",
];
const CODE = [
  "fix this typescript compile error",
  "write a python function to sort",
  "why does my regex not match",
  "explain this stack trace",
];
const MODELS = ["model-a", "model-b"];
const extractor = () => new HashedNgramExtractor({ dimensions: 256 });

/** Full-information lessons: both models' outcomes for one prompt. */
function teach(
  selector: ContextualSelector,
  texts: readonly string[],
  cooking: boolean,
  n: number,
  seed: number,
): void {
  const random = seededRandom(seed);
  for (let i = 0; i < n; i++) {
    const x = selector.features(texts[Math.floor(random() * texts.length)] as string);
    selector.learn(x, "model-a", cooking ? 1 : 0, cooking ? 0.002 : 0.004, { task: "t" });
    selector.learn(x, "model-b", cooking ? 0 : 1, 0.001, { task: "t" });
  }
}

const choice = (s: ContextualSelector, text: string) => MODELS[s.choose(s.features(text), MODELS).index];
const quality = (s: ContextualSelector, text: string, model: string) => s.predictQuality(s.features(text), model);

describe("ContextualSelector.share", () => {
  it("each selector ends knowing what the other learnt alone", async () => {
    const store = new MemoryStatsStore();
    const cook = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const code = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const a = await cook.share(store, { participant: "cook", intervalMs: 0 });
    const b = await code.share(store, { participant: "code", intervalMs: 0 });
    teach(cook, COOKING, true, 60, 1);
    teach(code, CODE, false, 60, 2);
    // Before exchanging, each gets the other's kind of request wrong.
    for (const t of CODE) expect(choice(cook, t)).toBe("model-a");
    for (const t of COOKING) expect(choice(code, t)).toBe("model-b");
    expect(await a.sync()).toBe(true);
    expect(await b.sync()).toBe(true);
    expect(await a.sync()).toBe(true);
    for (const s of [cook, code]) {
      for (const t of COOKING) expect(choice(s, t)).toBe("model-a");
      for (const t of CODE) expect(choice(s, t)).toBe("model-b");
      expect(quality(s, CODE[1] as string, "model-b")).toBeGreaterThan(0.65);
      expect(quality(s, COOKING[1] as string, "model-a")).toBeGreaterThan(0.65);
      // Costs are totals over both: model-a 60 × 0.002 + 60 × 0.004.
      expect(s.predictedCost("model-a", "t")).toBeCloseTo(0.003, 9);
    }
    await a.close();
    await b.close();
  });

  it("two selectors sharing what they learn predict like one that saw everything", async () => {
    const store = new MemoryStatsStore();
    const left = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const right = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const alone = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const l = await left.share(store, { intervalMs: 0 });
    const r = await right.share(store, { intervalMs: 0 });
    const random = seededRandom(5);
    for (let i = 0; i < 400; i++) {
      const cooking = random() < 0.5;
      const text = (cooking ? COOKING : CODE)[Math.floor(random() * 4)] as string;
      // Noisy outcomes: A is right 80% of the time on cooking and 30% on code.
      const y = random() < (cooking ? 0.8 : 0.3) ? 1 : 0;
      for (const s of [i % 2 === 0 ? left : right, alone]) s.learn(s.features(text), "model-a", y, 0.001);
      // Sync every 50 outcomes, as a running interval would.
      if (i % 50 === 49) {
        await l.sync();
        await r.sync();
      }
    }
    await l.sync();
    await r.sync();
    await l.sync();
    for (const text of [...COOKING, ...CODE]) {
      const want = quality(alone, text, "model-a");
      expect(Math.abs(quality(left, text, "model-a") - want)).toBeLessThan(0.05);
      expect(Math.abs(quality(right, text, "model-a") - want)).toBeLessThan(0.05);
    }
    expect(quality(left, COOKING[0] as string, "model-a")).toBeGreaterThan(0.65);
    expect(quality(left, CODE[0] as string, "model-a")).toBeLessThan(0.45);
  });

  it("a worker restarted under the same participant resumes its contribution, counted once", async () => {
    const store = new MemoryStatsStore();
    const first = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const share = await first.share(store, { participant: "worker-1", intervalMs: 0 });
    teach(first, COOKING, true, 40, 3);
    await share.close();
    const restarted = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const again = await restarted.share(store, { participant: "worker-1", intervalMs: 0 });
    expect(quality(restarted, COOKING[0] as string, "model-a")).toBeCloseTo(
      quality(first, COOKING[0] as string, "model-a"),
      6,
    );
    teach(restarted, CODE, false, 40, 4);
    await again.sync();
    const observer = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    await observer.share(store, { participant: "observer", intervalMs: 0 });
    // 80 lessons × 2 models, not 120 × 2: the resumed part is not published twice.
    expect(observer.predictedCost("model-b", "t")).toBeCloseTo(0.001, 9);
    expect(quality(observer, COOKING[0] as string, "model-a")).toBeCloseTo(
      quality(restarted, COOKING[0] as string, "model-a"),
      6,
    );
    expect(quality(observer, CODE[0] as string, "model-b")).toBeCloseTo(
      quality(restarted, CODE[0] as string, "model-b"),
      6,
    );
  });

  it("does not publish a warm start (every process may fit the same data)", async () => {
    const store = new MemoryStatsStore();
    const fitted = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const share = await fitted.share(store, { participant: "fitted", intervalMs: 0 });
    fitted.fit(COOKING.map((text) => ({ text, outcomes: [{ model: "model-a", quality: 1, costUsd: 0.002 }] })));
    teach(fitted, CODE, false, 20, 1);
    await share.sync();
    const observer = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    await observer.share(store, { participant: "observer", intervalMs: 0 });
    // Only the 20 live lessons arrive: model-a's cost is theirs (0.004), not mixed with the fit's 0.002.
    expect(observer.predictedCost("model-a", undefined)).toBeCloseTo(0.004, 9);
    expect(choice(observer, CODE[0] as string)).toBe("model-b");
  });

  it("skips a participant's unreadable contribution and says why", async () => {
    const store = new MemoryStatsStore();
    await store.exchangeState("contextual", "broken", "{not json");
    await store.exchangeState("contextual", "other-size", JSON.stringify({ v: 1, dimensions: 64, arms: {} }));
    const s = new ContextualSelector({ extractor: extractor() });
    const share = await s.share(store, { participant: "me", intervalMs: 0 });
    expect(share.problems.map((p) => p.participant).sort()).toEqual(["broken", "other-size"]);
    expect(share.problems.find((p) => p.participant === "other-size")?.message).toBe(
      "has 64 dimensions, this selector 256",
    );
    teach(s, COOKING, true, 10, 1);
    expect(await share.sync()).toBe(true);
  });

  it("rejects a store that cannot exchange state, and a second share", async () => {
    const s = new ContextualSelector({ extractor: extractor() });
    await expect(s.share({} as never)).rejects.toThrow(/store: this stats store cannot exchange learned state/);
    const share = await s.share(new MemoryStatsStore(), { intervalMs: 0 });
    await expect(s.share(new MemoryStatsStore())).rejects.toThrow(/already shared/);
    await share.close();
  });

  it("keeps learning alone while the store is unreachable, and publishes once it is back", async () => {
    const backing = new MemoryStatsStore();
    let up = false;
    const flaky = {
      exchangeState: (c: string, p: string, v: string | undefined) =>
        up ? backing.exchangeState(c, p, v) : Promise.resolve(undefined),
    };
    const s = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    const share = await s.share(flaky, { participant: "w", intervalMs: 0 });
    teach(s, COOKING, true, 30, 2);
    expect(await share.sync()).toBe(false);
    expect(choice(s, COOKING[0] as string)).toBe("model-a");
    up = true;
    expect(await share.sync()).toBe(true);
    const observer = new ContextualSelector({ exploration: "greedy", extractor: extractor() });
    await observer.share(backing, { participant: "o", intervalMs: 0 });
    expect(choice(observer, COOKING[0] as string)).toBe("model-a");
  });
});
