// Every shared part behind Redis Sentinel (a primary, a replica and 3 Sentinels on loopback,
// started once for this file): configuration by `sentinels` + `name`, and a primary's failover.
import { type RedisSentinelHandle, startRedisSentinel } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peak, runFleet } from "../test/fleet";
import { RedisCacheBackend } from "./cache-backend";
import { RedisHealthStateStore } from "./health-state-store";
import { RedisRateLimiter } from "./rate-limiter";
import { RedisStatsStore } from "./stats-store";

let sentinel: RedisSentinelHandle;
const open: { close(): Promise<void> }[] = [];

function track<T extends { close(): Promise<void> }>(part: T): T {
  open.push(part);
  return part;
}

beforeAll(async () => {
  const start = performance.now();
  sentinel = await startRedisSentinel();
  console.log(`primary + replica + 3 Sentinels started in ${Math.round(performance.now() - start)} ms`);
}, 30_000);
afterAll(async () => {
  await Promise.all(open.map((p) => p.close().catch(() => undefined)));
  await sentinel?.stop();
});

const connection = () => ({ sentinels: sentinel.sentinels.map((s) => `${s.host}:${s.port}`), name: sentinel.name });

interface FaultSummary {
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
  inFlight: number;
}

describe("behind Redis Sentinel", () => {
  it("every part finds the primary through the Sentinels", async () => {
    const cache = track(new RedisCacheBackend({ ...connection(), keyPrefix: "s:" }));
    await cache.set("k", "v", 60_000);
    expect(await cache.get("k")).toBe("v");
    const a = track(new RedisStatsStore({ ...connection(), key: "s-stats", flushDelayMs: 1 }));
    const b = track(new RedisStatsStore({ ...connection(), key: "s-stats", flushDelayMs: 1 }));
    a.record("m", { success: true, reward: 1, latencyMs: 5 });
    await a.sync();
    await b.sync();
    expect(b.get("m")?.trials).toBe(1);
    const h = track(new RedisHealthStateStore({ ...connection(), key: "s-health" }));
    h.set("m", {
      isHealthy: true,
      status: "healthy",
      issues: [],
      consecutiveFailures: 0,
      consecutiveSuccesses: 1,
      lastCheckedAt: undefined,
      latencyMs: undefined,
    });
    await h.refresh();
    const limiter = track(new RedisRateLimiter({ ...connection(), key: "s-limit", maxConcurrentRequests: 1 }));
    const lease = await limiter.acquire({ timeoutMs: 2_000 });
    await expect(
      track(new RedisRateLimiter({ ...connection(), key: "s-limit", maxConcurrentRequests: 1 })).acquire({
        timeoutMs: 200,
      }),
    ).rejects.toMatchObject({
      code: "rate_limit_error",
    });
    lease.release();
    expect(limiter.connection.topology).toBe("sentinel");
  });

  it("the primary dies and a replica is promoted: no acquire lost failing closed, no call fails or hangs, no outcome lost", async () => {
    const key = "sfo";
    const primary = await sentinel.primary();
    const acquireTimeoutMs = 20_000;
    let failoverMs = 0;
    const run = await runFleet<FaultSummary>({
      fixture: "fault-worker",
      processes: 3,
      args: (upstream) => [JSON.stringify(connection()), key, upstream, "reject", "3", "4", String(acquireTimeoutMs)],
      fault: async () => {
        const start = performance.now();
        await primary.kill();
        await sentinel.waitForFailover(primary);
        failoverMs = performance.now() - start;
      },
      afterMs: 3_000,
    });
    const { hits, summaries, codes, recoveredAt } = run;
    const total = (f: (s: FaultSummary) => number) => summaries.reduce((sum, s) => sum + (s ? f(s) : 0), 0);
    const reader = track(new RedisStatsStore({ ...connection(), key: `{${key}}:stats` }));
    await reader.sync();
    const trials = reader.get("upstream")?.trials ?? 0;
    console.log(
      `Sentinel, primary killed (failover ${Math.round(failoverMs)} ms): ${total((s) => s.calls)} calls, ${total((s) => s.bypasses)} cache bypasses, ${hits.length} upstream calls, ` +
        `peak in flight ${peak(hits)} (limit 3), acquires refused ${total((s) => s.refused)}, outcomes recorded ${total((s) => s.recorded)} / shared ${trials}; ` +
        `per process ${JSON.stringify(summaries.map((s) => ({ failures: s?.failures, maxCallMs: s?.maxCallMs, maxLookupMs: s?.maxLookupMs })))}`,
    );
    expect(codes).toEqual([0, 0, 0]);
    for (const s of summaries) {
      expect(s?.failures).toEqual({});
      expect(s?.untyped).toEqual([]);
      expect(s?.maxCallMs).toBeLessThan(acquireTimeoutMs);
      // The bound plus a second of timer lag on a loaded machine: far from an outage-long wait.
      expect(s?.maxLookupMs).toBeLessThan((s?.lookupBoundMs ?? 0) + 1_000);
      expect(s?.inFlight).toBe(0);
    }
    expect(total((s) => s.refused)).toBe(0);
    expect(peak(hits)).toBeLessThanOrEqual(3);
    expect(hits.filter((h) => h.start > recoveredAt).length).toBeGreaterThan(0);
    expect(trials).toBe(total((s) => s.recorded));
  }, 120_000);
});
