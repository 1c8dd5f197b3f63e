// Every shared part on a real Redis Cluster (3 primaries + 3 replicas on loopback, started once
// for this file): configuration by `cluster: [nodes]`, keys that never cross slots, processes
// sharing limits and learning, and what the parts do when a primary dies or freezes.
import type { HealthStatus } from "@orchestrator-ts/core";
import { type RedisClusterHandle, startRedisCluster } from "@orchestrator-ts/testing";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFleet, peak } from "../test/fleet";
import { runFixture } from "../test/spawn";
import { BudgetExceededError, RedisBudget } from "./budget";
import { RedisCacheBackend } from "./cache-backend";
import { RedisHealthStateStore } from "./health-state-store";
import { RedisKeyStore } from "./key-store";
import { RedisRateLimiter } from "./rate-limiter";
import { RedisStatsStore } from "./stats-store";

let cluster: RedisClusterHandle;
const open: { close(): Promise<void> }[] = [];
let n = 0;

function track<T extends { close(): Promise<void> }>(part: T): T {
  open.push(part);
  return part;
}

beforeAll(async () => {
  const start = performance.now();
  cluster = await startRedisCluster();
  console.log(`Redis Cluster (3 primaries + 3 replicas) started in ${Math.round(performance.now() - start)} ms`);
}, 30_000);
afterAll(async () => {
  await Promise.all(open.map((p) => p.close().catch(() => undefined)));
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nodes = () => cluster.seeds.map((s) => `${s.host}:${s.port}`);

const down: HealthStatus = {
  isHealthy: false,
  status: "unhealthy",
  issues: ["3 consecutive failures"],
  consecutiveFailures: 3,
  consecutiveSuccesses: 0,
  lastCheckedAt: 1_700_000_000_000,
  latencyMs: 12,
};

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

interface FaultSummary {
  pid: number;
  calls: number;
  hits: number;
  bypasses: number;
  refused: number;
  recorded: number;
  failures: Record<string, number>;
  untyped: string[];
  maxCallMs: number;
  maxLookupMs: number;
  lookupBoundMs: number;
  fallbacks: number;
  inFlight: number;
}

/** The shared trials of the fault run's statistics, read back by a fresh store. */
async function sharedTrials(key: string): Promise<number> {
  const reader = track(new RedisStatsStore({ cluster: nodes(), key: `{${key}}:stats` }));
  await reader.sync();
  return reader.get("upstream")?.trials ?? 0;
}

describe("on a Redis Cluster", () => {
  it("the cache is shared across shards, one process's entries are the other's hits, and clear() empties every primary", async () => {
    const prefix = `c${++n}:`;
    // A generous bound: this is about sharing across shards, and the machine may be loaded.
    const a = track(new RedisCacheBackend({ cluster: nodes(), keyPrefix: prefix, operationTimeoutMs: 5_000 }));
    const b = track(new RedisCacheBackend({ cluster: nodes(), keyPrefix: prefix, operationTimeoutMs: 5_000 }));
    for (let i = 0; i < 30; i++) await a.set(`k${i}`, `v${i}`, 60_000);
    for (let i = 0; i < 30; i++) expect(await b.get(`k${i}`)).toBe(`v${i}`);
    const shards = new Set(
      await Promise.all(Array.from({ length: 30 }, async (_, i) => (await cluster.primaryFor(`${prefix}k${i}`)).port)),
    );
    expect(shards.size).toBe(3);
    await b.clear();
    for (let i = 0; i < 30; i++) expect(await a.get(`k${i}`)).toBeUndefined();
  });

  it("statistics, learned state, health and limits work across processes' stores; reset() deletes state beside the totals", async () => {
    const key = `s${++n}`;
    const a = track(new RedisStatsStore({ cluster: nodes(), key, flushDelayMs: 1 }));
    const b = track(new RedisStatsStore({ cluster: nodes(), key, flushDelayMs: 1 }));
    a.record("m", { success: true, reward: 1, latencyMs: 10 });
    b.record("m", { success: false, reward: 0, latencyMs: 20 });
    await a.sync();
    await b.sync();
    await a.sync();
    expect(a.get("m")?.trials).toBe(2);
    expect(b.get("m")?.successes).toBe(1);
    expect(await a.exchangeState("ctx", "a", "A1")).toEqual(new Map([["a", "A1"]]));
    expect(await b.exchangeState("ctx", "b", "B1")).toEqual(
      new Map([
        ["a", "A1"],
        ["b", "B1"],
      ]),
    );
    // One DEL of the totals and the state: they share a hash slot, so no CROSSSLOT.
    a.reset();
    await sleep(100);
    expect(await b.exchangeState("ctx", "b", undefined)).toEqual(new Map());

    const h1 = track(new RedisHealthStateStore({ cluster: nodes(), key: `h${n}` }));
    const h2 = track(new RedisHealthStateStore({ cluster: nodes(), key: `h${n}` }));
    const seen: string[] = [];
    h2.subscribe((name, status) => seen.push(`${name}:${status.status}`));
    await sleep(200);
    h1.set("gpt-4", down);
    await until(() => h2.get("gpt-4") !== undefined);
    expect(seen).toEqual(["gpt-4:unhealthy"]);

    const l1 = track(
      new RedisRateLimiter({ cluster: nodes(), key: `l${n}`, maxConcurrentRequests: 2, maxRequestsPerMinute: 100 }),
    );
    const l2 = track(
      new RedisRateLimiter({ cluster: nodes(), key: `l${n}`, maxConcurrentRequests: 2, maxRequestsPerMinute: 100 }),
    );
    const held = [await l1.acquire(), await l2.acquire()];
    await expect(l2.acquire({ timeoutMs: 150 })).rejects.toMatchObject({ code: "rate_limit_error" });
    const waiting = l2.acquire({ timeoutMs: 3_000 });
    held[0]?.release();
    (await waiting).release();
    held[1]?.release();
  });

  it("every part takes an ioredis Cluster you made as its client, works across slots with it and leaves it open", async () => {
    const client = new Cluster(cluster.seeds);
    try {
      const key = `u${++n}`;
      const cache = new RedisCacheBackend({ client, operationTimeoutMs: 5_000, keyPrefix: `${key}:cache:` });
      const stats = new RedisStatsStore({ client, operationTimeoutMs: 5_000, key: `${key}:stats`, flushDelayMs: 1 });
      const health = new RedisHealthStateStore({ client, operationTimeoutMs: 5_000, key: `${key}:health` });
      const limiter = new RedisRateLimiter({
        client,
        operationTimeoutMs: 5_000,
        key,
        maxConcurrentRequests: 1,
        maxRequestsPerMinute: 10,
      });
      const budget = new RedisBudget({ client, operationTimeoutMs: 5_000, key, limit: 5 });
      for (let i = 0; i < 20; i++) await cache.set(`k${i}`, `v${i}`, 60_000);
      expect(await cache.get("k7")).toBe("v7");
      // Entries on every shard, deleted without CROSSSLOT.
      await cache.clear();
      expect(await cache.get("k7")).toBeUndefined();
      stats.record("m", { success: true, reward: 1, latencyMs: 5 });
      await stats.sync();
      expect(await stats.exchangeState("ctx", "a", "A")).toEqual(new Map([["a", "A"]]));
      // The totals and the learned state beside them go in one DEL.
      stats.reset();
      await sleep(100);
      await stats.sync();
      expect(stats.get("m")).toBeUndefined();
      expect(await stats.exchangeState("ctx", "a", undefined)).toEqual(new Map());
      health.set("gpt-4", down);
      await sleep(100);
      expect(JSON.parse((await client.hget(`${key}:health`, "gpt-4")) ?? "{}")).toMatchObject({ status: "unhealthy" });
      const lease = await limiter.acquire();
      await expect(limiter.acquire({ timeoutMs: 100 })).rejects.toMatchObject({ code: "rate_limit_error" });
      lease.release();
      await budget.charge(3);
      await expect(budget.charge(3)).rejects.toBeInstanceOf(BudgetExceededError);
      await Promise.all([cache, stats, health, limiter, budget].map((p) => p.close()));
      // Closing the parts leaves the caller's client open.
      expect(client.status).toBe("ready");
      expect(await client.set(`${key}:still-open`, "1")).toBe("OK");
    } finally {
      client.disconnect();
    }
  });

  it("three processes share one limit of 30 per minute and one budget of 300: exactly 30 calls and 300 charged in all", async () => {
    const key = `p${++n}`;
    const connection = JSON.stringify({ cluster: nodes() });
    const [limits, budgets] = await Promise.all([
      Promise.all(
        [1, 2, 3].map(() => runFixture("rate-worker", [connection, key, "rpm", "20", "5000"], { timeoutMs: 55_000 })),
      ),
      Promise.all(
        [1, 2, 3].map(() =>
          runFixture("budget-worker", [connection, key, "300", "1", "5000", "5"], { timeoutMs: 55_000 }),
        ),
      ),
    ]);
    const counts = limits.map((lines) => lines[0] as { granted: number; fallbacks: number });
    const granted = counts.reduce((s, c) => s + c.granted, 0);
    const charges = budgets.map((lines) => lines[0] as { charged: number; refusedWith: string });
    const charged = charges.reduce((s, c) => s + c.charged, 0);
    console.log(
      `cluster, 3 processes: 20 attempts each under a shared limit of 30/min, granted ${counts.map((c) => c.granted).join(" + ")} = ${granted} (acquires answered by the fallback policy: ${counts.map((c) => c.fallbacks).join(" + ")}); ` +
        `charging a shared budget of 300 until refused: ${charges.map((c) => c.charged).join(" + ")} = ${charged}`,
    );
    expect(granted).toBe(30);
    expect(charges.every((c) => c.refusedWith === "budget_exceeded")).toBe(true);
    expect(charged).toBe(300);
  }, 60_000);

  it("bandit statistics shared on the cluster converge as on one server: a pair finds the best model in fewer calls each than one alone", async () => {
    const seeds = [3, 7, 11];
    const budget = { timeoutMs: 90_000 };
    const connection = JSON.stringify({ cluster: nodes() });
    const solo = seeds.map((seed) => runFixture("ucb-learner", [connection, `solo${seed}`, String(seed)], budget));
    const pairs = seeds.flatMap((seed) => [
      runFixture("ucb-learner", [connection, `pair${seed}`, String(seed)], budget),
      runFixture("ucb-learner", [connection, `pair${seed}`, String(seed + 100)], budget),
    ]);
    type Run = { convergedAt: number; wasted: number };
    const results = async (runs: Promise<unknown[]>[]) => (await Promise.all(runs)).map((lines) => lines[0] as Run);
    const [alone, shared] = await Promise.all([results(solo), results(pairs)]);
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    console.log(
      `cluster, per process, calls to other models before settling on the best: alone ${mean(alone.map((r) => r.wasted))}, shared ${mean(shared.map((r) => r.wasted))}; ` +
        `calls until 20 best picks in a row: alone ${mean(alone.map((r) => r.convergedAt))}, shared ${mean(shared.map((r) => r.convergedAt))}`,
    );
    expect(mean(shared.map((r) => r.wasted))).toBeLessThan(mean(alone.map((r) => r.wasted)));
    expect(mean(shared.map((r) => r.convergedAt))).toBeLessThan(mean(alone.map((r) => r.convergedAt)));
  }, 100_000);

  it("a primary killed mid-run: failing closed, no acquire is lost (they retry through the failover), no call fails or hangs, no outcome is lost", async () => {
    const key = `k${++n}`;
    const connection = JSON.stringify({ cluster: nodes() });
    const victim = await cluster.primaryFor(`orc:limit:{${key}}:state`);
    const acquireTimeoutMs = 20_000;
    let failoverMs = 0;
    const run = await runFleet<FaultSummary>({
      fixture: "fault-worker",
      processes: 3,
      args: (upstream) => [connection, key, upstream, "reject", "3", "4", String(acquireTimeoutMs)],
      fault: async () => {
        const start = performance.now();
        await victim.kill();
        await cluster.waitUntilHealthy(20_000);
        failoverMs = performance.now() - start;
      },
      afterMs: 3_000,
    });
    const { hits, summaries, codes, recoveredAt } = run;
    const total = (f: (s: FaultSummary) => number) => summaries.reduce((sum, s) => sum + (s ? f(s) : 0), 0);
    const trials = await sharedTrials(key);
    console.log(
      `cluster, primary killed (failover ${Math.round(failoverMs)} ms): ${total((s) => s.calls)} calls, ${total((s) => s.hits)} cache hits, ${total((s) => s.bypasses)} bypasses, ` +
        `${hits.length} upstream calls, peak in flight ${peak(hits)} (limit 3), acquires refused ${total((s) => s.refused)}, ` +
        `outcomes recorded ${total((s) => s.recorded)} / shared ${trials}; per process ${JSON.stringify(summaries.map((s) => ({ failures: s?.failures, maxCallMs: s?.maxCallMs, maxLookupMs: s?.maxLookupMs })))}`,
    );
    expect(codes).toEqual([0, 0, 0]);
    for (const s of summaries) {
      expect(s).toBeDefined();
      expect(s?.failures).toEqual({});
      expect(s?.untyped).toEqual([]);
      // No call hung: each ended within the acquire timeout; a lookup never waits past the cache's bound.
      expect(s?.maxCallMs).toBeLessThan(acquireTimeoutMs);
      // The bound plus a second of timer lag on a loaded machine: far from the 5 s outage.
      expect(s?.maxLookupMs).toBeLessThan((s?.lookupBoundMs ?? 0) + 1_000);
      expect(s?.inFlight).toBe(0);
    }
    // Failing closed through the failover: no acquire lost, and never more than the limit in flight.
    expect(total((s) => s.refused)).toBe(0);
    expect(peak(hits)).toBeLessThanOrEqual(3);
    expect(hits.filter((h) => h.start > recoveredAt).length).toBeGreaterThan(0);
    expect(trials).toBe(total((s) => s.recorded));
    await victim.restart();
    await cluster.waitUntilHealthy(20_000);
  }, 120_000);

  it("a primary frozen for 5 s (SIGSTOP): by default each process keeps to its share, calls neither fail nor hang, outcomes are merged back", async () => {
    const key = `z${++n}`;
    const connection = JSON.stringify({ cluster: nodes() });
    const victim = await cluster.primaryFor(`orc:limit:{${key}}:state`);
    const acquireTimeoutMs = 3_000;
    const run = await runFleet<FaultSummary>({
      fixture: "fault-worker",
      processes: 3,
      args: (upstream) => [connection, key, upstream, "share", "3", "4", String(acquireTimeoutMs)],
      fault: async () => {
        victim.pause();
        try {
          await sleep(5_000);
        } finally {
          victim.resume();
        }
      },
      afterMs: 4_000,
    });
    const { hits, summaries, codes, faultAt, recoveredAt, endAt } = run;
    const total = (f: (s: FaultSummary) => number) => summaries.reduce((sum, s) => sum + (s ? f(s) : 0), 0);
    const trials = await sharedTrials(key);
    const before = peak(hits, 0, faultAt);
    const during = peak(hits, faultAt, recoveredAt + 1_500);
    const after = peak(hits, recoveredAt + 1_500, endAt);
    console.log(
      `cluster, primary frozen 5 s (whenUnavailable: share): ${total((s) => s.calls)} calls, ${total((s) => s.bypasses)} cache bypasses, ${hits.length} upstream calls, ` +
        `peak in flight ${before} before / ${during} during / ${after} after (limit 3), acquires refused ${total((s) => s.refused)}, ` +
        `outcomes recorded ${total((s) => s.recorded)} / shared ${trials}; per process ${JSON.stringify(summaries.map((s) => ({ failures: s?.failures, fallbacks: s?.fallbacks, maxCallMs: s?.maxCallMs, maxLookupMs: s?.maxLookupMs })))}`,
    );
    expect(codes).toEqual([0, 0, 0]);
    for (const s of summaries) {
      expect(s?.failures).toEqual({});
      expect(s?.untyped).toEqual([]);
      expect(s?.maxCallMs).toBeLessThan(acquireTimeoutMs + 1_000);
      // The bound plus a second of timer lag on a loaded machine: far from the 5 s outage.
      expect(s?.maxLookupMs).toBeLessThan((s?.lookupBoundMs ?? 0) + 1_000);
    }
    // Exact while Redis answers; while it does not, each process adds at most its share
    // (⌈3/3⌉ = 1) to what it leased: 3 + (3 − 1) × 1.
    expect(before).toBeLessThanOrEqual(3);
    expect(during).toBeLessThanOrEqual(5);
    expect(after).toBeLessThanOrEqual(3);
    expect(trials).toBe(total((s) => s.recorded));
    await cluster.waitUntilHealthy(20_000);
  }, 120_000);
  it("the gateway's key store: keys made on one node are found from every process; rpm and a budget hold exactly across four", async () => {
    const keyPrefix = `ks${++n}:`;
    const four = Array.from({ length: 4 }, () => track(new RedisKeyStore({ cluster: nodes(), keyPrefix })));
    const [a, b, c, d] = four as [RedisKeyStore, RedisKeyStore, RedisKeyStore, RedisKeyStore];
    // Several keys, so that their records land on different shards.
    const made = Array.from({ length: 6 }, (_, i) => ({
      id: `key_c${n}_${i}`,
      name: `k${i}`,
      createdAt: new Date().toISOString(),
      source: "api" as const,
    }));
    for (const [i, r] of made.entries()) await a.create(r, `${i}`.padStart(64, "f"));
    for (const [i, r] of made.entries()) expect((await b.findByHash(`${i}`.padStart(64, "f")))?.id).toBe(r.id);
    expect((await c.list()).map((r) => r.id).sort()).toEqual(made.map((r) => r.id).sort());
    expect((await d.revoke(made[5]?.id as string, "2026-12-04T00:00:00.000Z"))?.revokedAt).toBe(
      "2026-12-04T00:00:00.000Z",
    );

    const rpmKey = made[0]?.id as string;
    const verdicts = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (four[i % 4] as RedisKeyStore).admit({ keyId: rpmKey, holdId: `r${i}`, tokens: 0, rpm: 20 }),
      ),
    );
    expect(verdicts.filter((v) => v.ok)).toHaveLength(20);

    const budgetKey = made[1]?.id as string;
    let admitted = 0;
    await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        const store = four[i % 4] as RedisKeyStore;
        const holdId = `b${i}`;
        const v = await store.admit({
          keyId: budgetKey,
          holdId,
          tokens: 0,
          budgetUsd: 0.008,
          period: "2026-12",
          holdUsd: 0.001,
        });
        if (!v.ok) return;
        admitted++;
        await sleep(5);
        await store.settle({ keyId: budgetKey, holdId, period: "2026-12", costUsd: 0.001, model: "m", user: "u" });
      }),
    );
    expect(admitted).toBe(8);
    expect(await c.spent(budgetKey, "2026-12")).toEqual({ spentUsd: 0.008, heldUsd: 0 });
    // Spend by key per hour, read across the hour keys' shards.
    const byKey = await d.spend({ by: "key", since: new Date(Date.now() - 60 * 60 * 1000) });
    expect(byKey.find((row) => row.name === budgetKey)).toMatchObject({ costUsd: 0.008, requests: 8 });
  });
});
