import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { runFixture } from "../test/spawn";
import { RedisStatsStore } from "./stats-store";

let redis: RedisServerHandle;
const open: RedisStatsStore[] = [];
let n = 0;

function store(key: string, extra: Partial<ConstructorParameters<typeof RedisStatsStore>[0]> = {}): RedisStatsStore {
  const s = new RedisStatsStore({ url: redis.url, key, refreshIntervalMs: 50, flushDelayMs: 1, ...extra });
  open.push(s);
  return s;
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await redis?.stop();
});

describe("RedisStatsStore", () => {
  it("applies a record locally at once, synchronously", () => {
    const s = store(`k${++n}`);
    const before = s.version;
    s.record("gpt", { success: true, reward: 0.75, latencyMs: 120, costUsd: 0.002, quality: 0.9 });
    expect(s.version).toBeGreaterThan(before);
    expect(s.get("gpt")).toMatchObject({
      trials: 1,
      successes: 1,
      failures: 0,
      rewardSum: 0.75,
      rewardSqSum: 0.5625,
      latencyMsSum: 120,
      costUsdSum: 0.002,
      qualitySum: 0.9,
      qualityCount: 1,
    });
    expect(s.get("gpt", "code")).toBeUndefined();
  });

  it("two stores on one key end with the same totals, each outcome counted once", async () => {
    const key = `k${++n}`;
    const a = store(key);
    const b = store(key);
    for (let i = 0; i < 50; i++) {
      a.record("m1", { success: i % 2 === 0, reward: i % 2 === 0 ? 1 : 0, latencyMs: 10 });
      b.record("m1", { success: true, reward: 0.5, latencyMs: 20 });
      b.record("m2", { success: true, reward: 1, latencyMs: 5 }, "code");
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    a.adjust("m1", { reward: 0.25, rewardSq: 0.0625, quality: 1 });
    await a.sync();
    await b.sync();
    await a.sync();
    for (const s of [a, b]) {
      expect(s.get("m1")).toMatchObject({
        trials: 100,
        successes: 75,
        failures: 25,
        rewardSum: 50.25,
        latencyMsSum: 1500,
        qualityCount: 1,
      });
      expect(s.get("m2", "code")).toMatchObject({ trials: 50, rewardSum: 50 });
    }
    const arms = [...a.entries()].map((e) => `${e.model}/${e.scope ?? "-"}`).sort();
    expect(arms).toEqual(["m1/-", "m2/code"]);
  });

  it("a NaN or infinite number in an outcome is not summed: the shared totals stay exact and the batch is sent once", async () => {
    const key = `k${++n}`;
    const a = store(key);
    const b = store(key);
    a.record("m", { success: true, reward: Number.NaN, latencyMs: 10, costUsd: Number.NaN, quality: Number.NaN });
    a.record("m", { success: true, reward: 1, latencyMs: Number.POSITIVE_INFINITY, costUsd: 0.5 });
    a.adjust("m", { reward: Number.NaN, rewardSq: Number.NaN });
    await a.sync();
    // Before, the script failed on the NaN after counting the trial, and the batch went again in a loop.
    await new Promise((r) => setTimeout(r, 300));
    await b.sync();
    for (const s of [a, b])
      expect(s.get("m")).toMatchObject({
        trials: 2,
        successes: 2,
        rewardSum: 1,
        latencyMsSum: 10,
        costUsdSum: 0.5,
        qualityCount: 0,
      });
  });

  it("picks up another process's outcomes on the refresh interval", async () => {
    const key = `k${++n}`;
    const a = store(key);
    const b = store(key, { refreshIntervalMs: 30 });
    const version = b.version;
    a.record("x", { success: true, reward: 1, latencyMs: 1 });
    await new Promise((r) => setTimeout(r, 150));
    expect(b.get("x")?.trials).toBe(1);
    expect(b.version).toBeGreaterThan(version);
  });

  it("keeps outcomes while Redis is down and shares them once it is back", async () => {
    const key = `k${++n}`;
    const a = store(key);
    a.record("m", { success: true, reward: 1, latencyMs: 1 });
    await a.sync();
    await redis.kill();
    const start = performance.now();
    for (let i = 0; i < 5; i++) a.record("m", { success: false, reward: 0, latencyMs: 1 });
    expect(a.get("m")?.trials).toBe(6);
    await a.sync();
    expect(performance.now() - start).toBeLessThan(1_500);
    await redis.restart();
    // Redis restarted empty: the 5 outcomes not yet shared must still arrive (the first one is lost with the server's memory).
    await new Promise((r) => setTimeout(r, 800));
    await a.sync();
    const b = store(key);
    await b.sync();
    expect(b.get("m")).toMatchObject({ trials: 5, failures: 5 });
  });

  it("a batch whose reply timed out while Redis was frozen is counted once, though sent again", async () => {
    const key = `k${++n}`;
    const a = store(key, { refreshIntervalMs: 200 });
    a.record("m", { success: true, reward: 1, latencyMs: 1 });
    await a.sync();
    redis.pause();
    try {
      for (let i = 0; i < 10; i++) a.record("m", { success: false, reward: 0, latencyMs: 1 });
      // The batch goes out, times out after operationTimeoutMs (1 s) and is kept to be sent again;
      // Redis applies it when it resumes, whatever the client concluded.
      await new Promise((r) => setTimeout(r, 3_500));
    } finally {
      redis.resume();
    }
    const deadline = performance.now() + 3_000;
    while (!a.connection.available && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await a.sync();
    await a.sync();
    const b = store(key);
    await b.sync();
    expect(b.get("m")).toMatchObject({ trials: 11, failures: 10 });
    expect(a.get("m")).toMatchObject({ trials: 11, failures: 10 });
  }, 20_000);

  it("two processes sharing the store find the best model in fewer calls each than one alone", async () => {
    const seeds = [3, 7, 11];
    // Nine processes at once: ~4 s on an idle machine, ~40 s on a loaded 2-core one. The budget is
    // for the machine; what is asserted is how many calls each process needed.
    const budget = { timeoutMs: 90_000 };
    const solo = seeds.map((seed) => runFixture("ucb-learner", [redis.url, `solo${seed}`, String(seed)], budget));
    const pairs = seeds.flatMap((seed) => [
      runFixture("ucb-learner", [redis.url, `pair${seed}`, String(seed)], budget),
      runFixture("ucb-learner", [redis.url, `pair${seed}`, String(seed + 100)], budget),
    ]);
    type Run = { convergedAt: number; wasted: number };
    const results = async (runs: Promise<unknown[]>[]) => (await Promise.all(runs)).map((lines) => lines[0] as Run);
    const [alone, shared] = await Promise.all([results(solo), results(pairs)]);
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    console.log(
      `per process, calls to other models before settling on the best: alone ${mean(alone.map((r) => r.wasted))}, shared ${mean(shared.map((r) => r.wasted))}; ` +
        `calls until 20 best picks in a row: alone ${mean(alone.map((r) => r.convergedAt))}, shared ${mean(shared.map((r) => r.convergedAt))}`,
    );
    expect(mean(shared.map((r) => r.wasted))).toBeLessThan(mean(alone.map((r) => r.wasted)));
    expect(mean(shared.map((r) => r.convergedAt))).toBeLessThan(mean(alone.map((r) => r.convergedAt)));
  }, 100_000);
  it("exchanges opaque learned state per channel and participant; reset forgets it", async () => {
    const a = store("state-a");
    const b = store("state-a");
    expect(await a.exchangeState("ctx", "a", "A1")).toEqual(new Map([["a", "A1"]]));
    expect(await b.exchangeState("ctx", "b", "B1")).toEqual(
      new Map([
        ["a", "A1"],
        ["b", "B1"],
      ]),
    );
    // Reading only, and another channel is separate.
    expect(await a.exchangeState("ctx", "a", undefined)).toEqual(
      new Map([
        ["a", "A1"],
        ["b", "B1"],
      ]),
    );
    expect(await a.exchangeState("other", "a", undefined)).toEqual(new Map());
    a.reset();
    await new Promise((r) => setTimeout(r, 50));
    expect(await b.exchangeState("ctx", "b", undefined)).toEqual(new Map());
  });

  it("keeps at most maxTasks task tags, in Redis and in every process: 20,000 unique tags stay bounded", async () => {
    const key = `tasks${++n}`;
    const a = store(key, { maxTasks: 100 });
    const b = store(key, { maxTasks: 100 });
    for (let i = 0; i < 20_000; i++) {
      const s = i % 2 === 0 ? a : b;
      s.record("m", { success: true, reward: 1, latencyMs: 1 });
      s.record("m", { success: true, reward: 1, latencyMs: 1 }, `request-${i}`);
      if (i % 2_000 === 0) await s.sync();
    }
    await a.sync();
    await b.sync();
    await a.sync();
    const scopes = (s: RedisStatsStore) =>
      new Set([...s.entries()].flatMap((e) => (e.scope === undefined ? [] : [e.scope])));
    for (const s of [a, b]) {
      expect(s.get("m")?.trials).toBe(20_000);
      expect(scopes(s).size).toBeLessThanOrEqual(100);
    }
    // Redis itself: the overall arm's fields plus at most 100 tasks' (10 fields each).
    const { Redis } = await import("ioredis");
    const client = new Redis(redis.url);
    try {
      expect(await client.hlen(key)).toBeLessThanOrEqual(10 + 100 * 10);
    } finally {
      client.disconnect();
    }
    // The most recent tags are the ones kept.
    expect(a.get("m", "request-19999") ?? b.get("m", "request-19999")).toBeDefined();
    expect(() => new RedisStatsStore({ url: redis.url, maxTasks: 0 })).toThrow(/maxTasks/);
  }, 30_000);
});
