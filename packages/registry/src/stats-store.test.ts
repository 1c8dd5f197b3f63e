import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { LruMap } from "@orchestrator-ts/core/internal";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./registry";
import { MemoryStatsStore } from "./stats-store";
import { UCBModelSelector } from "./ucb-selector";

function heap(): { gc: () => void; usedMb: () => number } {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  return { gc, usedMb: () => process.memoryUsage().heapUsed / 1e6 };
}

const OK = { success: true, reward: 0.9, latencyMs: 10, costUsd: 0.001 };

describe("MemoryStatsStore", () => {
  it("keeps overall and per-task arms apart, and adjusts rewards without adding trials", () => {
    const store = new MemoryStatsStore({ now: () => 42 });
    const v0 = store.version;
    store.record("m", { success: true, reward: 0.8, latencyMs: 100, costUsd: 0.01 });
    store.record("m", { success: false, reward: 0, latencyMs: 50 }, "code");
    store.adjust("m", { reward: 0.1, rewardSq: 0.17, quality: 1 });
    expect(store.get("m")).toEqual({
      trials: 1,
      successes: 1,
      failures: 0,
      rewardSum: 0.9,
      rewardSqSum: expect.closeTo(0.81, 10),
      latencyMsSum: 100,
      costUsdSum: 0.01,
      qualitySum: 1,
      qualityCount: 1,
      updatedAt: 42,
    });
    expect(store.get("m", "code")).toMatchObject({ trials: 1, failures: 1, rewardSum: 0 });
    expect(store.get("m", "chat")).toBeUndefined();
    expect(store.version).toBe(v0 + 3);
    expect([...store.entries()].map((e) => `${e.model}/${e.scope ?? "*"}`)).toEqual(["m/*", "m/code"]);
    store.reset();
    expect(store.get("m")).toBeUndefined();
  });
});

describe("MemoryStatsStore: task tags are bounded", () => {
  it("keeps the 1,000 task tags most recently recorded: 100,000 unique tags keep the heap flat (was +45 MB)", {
    timeout: 60_000,
  }, () => {
    const { gc, usedMb } = heap();
    const store = new MemoryStatsStore();
    gc();
    const before = usedMb();
    for (let i = 0; i < 100_000; i++) {
      store.record("m", OK);
      store.record("m", OK, `request-${i}`);
    }
    gc();
    const grownMb = usedMb() - before;
    expect(store.get("m")?.trials).toBe(100_000);
    expect(grownMb).toBeLessThan(8);
    expect([...store.entries()]).toHaveLength(1 + 1_000);
    expect(store.get("m", "request-99999")?.trials).toBe(1);
    expect(store.get("m", "request-0")).toBeUndefined();
  });

  it("forgets the tag least recently recorded, not the one least recently read", () => {
    const store = new MemoryStatsStore({ maxTasks: 2 });
    store.record("m", OK, "code");
    store.record("m", OK, "chat");
    for (let i = 0; i < 10; i++) store.get("m", "code"); // selection reads do not keep a tag alive
    store.record("m", OK, "chat");
    store.record("m", OK, "math");
    expect(store.get("m", "code")).toBeUndefined();
    expect(store.get("m", "chat")?.trials).toBe(2);
    expect(store.get("m", "math")?.trials).toBe(1);
    expect(() => new MemoryStatsStore({ maxTasks: 0 })).toThrow(/maxTasks: must be a positive integer/);
  });

  it("bounds what a registry learns per task, through generate", { timeout: 30_000 }, async () => {
    const registry = new ModelRegistry({ statsStore: new MemoryStatsStore({ maxTasks: 50 }) });
    registry.registerModel(new FakeModel({ name: "a" }));
    for (let i = 0; i < 2_000; i++)
      await registry.generate({ messages: [{ role: "user", content: "x" }], task: `tag-${i}` });
    const [stats] = registry.getStatistics().models;
    expect(stats?.trials).toBe(2_000);
    expect(Object.keys(stats?.tasks ?? {})).toHaveLength(50);
    expect(stats?.tasks["tag-1999"]?.trials).toBe(1);
  });

  it("a forgetting UCB selector bounds its own per-task view the same way", { timeout: 60_000 }, () => {
    const { gc, usedMb } = heap();
    const selector = new UCBModelSelector({ discount: 0.99 });
    gc();
    const before = usedMb();
    for (let i = 0; i < 100_000; i++)
      selector.update({
        type: "outcome",
        selectionId: `s${i}`,
        model: "m",
        task: `request-${i}`,
        success: true,
        reward: 0.5,
        latencyMs: 1,
        costUsd: undefined,
      });
    gc();
    const grownMb = usedMb() - before;
    // Still in use after the measurement, so the collector cannot drop it first (unbounded: +42 MB).
    expect(selector.explorationFactor).toBeGreaterThan(0);
    expect(grownMb).toBeLessThan(12);
  });
});

describe("LruMap", () => {
  it("evicts the least recently used entry beyond its capacity", () => {
    const lru = new LruMap<string, number>(2);
    lru.set("a", 1);
    lru.set("b", 2);
    expect(lru.get("a")).toBe(1); // a is now the most recent
    lru.set("c", 3);
    expect([lru.get("a"), lru.get("b"), lru.get("c"), lru.size]).toEqual([1, undefined, 3, 2]);
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});
