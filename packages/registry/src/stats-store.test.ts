import { LruMap } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { MemoryStatsStore } from "./stats-store";

describe("MemoryStatsStore", () => {
  it("keeps overall and per-task arms apart, and adjusts rewards without adding trials", () => {
    const store = new MemoryStatsStore({ now: () => 42 });
    const v0 = store.version;
    store.record("m", { success: true, reward: 0.8, latencyMs: 100, costUsd: 0.01 });
    store.record("m", { success: false, reward: 0, latencyMs: 50 }, "code");
    store.adjust("m", { reward: 0.1, rewardSq: 0.17, quality: 1 });
    expect(store.get("m")).toEqual({ trials: 1, successes: 1, failures: 0, rewardSum: 0.9, rewardSqSum: expect.closeTo(0.81, 10), latencyMsSum: 100, costUsdSum: 0.01, qualitySum: 1, qualityCount: 1, updatedAt: 42 });
    expect(store.get("m", "code")).toMatchObject({ trials: 1, failures: 1, rewardSum: 0 });
    expect(store.get("m", "chat")).toBeUndefined();
    expect(store.version).toBe(v0 + 3);
    expect([...store.entries()].map((e) => `${e.model}/${e.scope ?? "*"}`)).toEqual(["m/*", "m/code"]);
    store.reset();
    expect(store.get("m")).toBeUndefined();
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
