// Redis commands per routed call (registry → cache → shared rate limiter → model → shared
// statistics), measured on a real redis-server with INFO commandstats and MONITOR while three
// processes make routed calls under load.
import { fileURLToPath } from "node:url";
import {
  type RedisServerHandle,
  commandStatsDelta,
  countRedisCommands,
  redisCommandStats,
  runFixture,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const fixture = fileURLToPath(new URL("../test/fixtures/routed-load.ts", import.meta.url));

interface LoadSummary {
  calls: number;
  failed: number;
  hits: number;
}

/** Three processes × 16 callers for 2 s; what Redis ran meanwhile, per routed call. */
async function measure(cacheMode: "none" | "hits") {
  const key = `load-${cacheMode}`;
  const counter = await countRedisCommands(redis.port);
  const before = await redisCommandStats(redis.port);
  const runs = await Promise.all(
    [1, 2, 3].map(() => runFixture(fixture, [redis.url, key, "16", "2000", cacheMode, "2"], { timeoutMs: 60_000 })),
  );
  const after = await redisCommandStats(redis.port);
  counter.stop();
  const summaries = runs.map((lines) => lines[0] as LoadSummary);
  const calls = summaries.reduce((n, s) => n + s.calls, 0);
  const executed = commandStatsDelta(before, after);
  const sent = counter.sent;
  console.log(
    `${cacheMode === "none" ? "no cache" : "cache hits"}: ${calls} routed calls in 3 processes; Redis commands sent ${sent} = ${(sent / calls).toFixed(3)} per call ` +
      `${JSON.stringify(counter.sentByCommand)}; executed (INFO commandstats, inside scripts too) ${executed.total} = ${(executed.total / calls).toFixed(3)} per call ${JSON.stringify(executed.byCommand)}`,
  );
  return {
    summaries,
    calls,
    sentPerCall: sent / calls,
    executedPerCall: executed.total / calls,
    sentByCommand: counter.sentByCommand,
  };
}

describe("Redis commands per routed call under load", () => {
  it("shared rate limits and statistics cost a small fraction of a command per call (leased slices, batched statistics)", async () => {
    const m = await measure("none");
    for (const s of m.summaries) expect(s.failed).toBe(0);
    expect(m.calls).toBeGreaterThan(300);
    // Was 3+ (a reservation, a release and a statistics update per call).
    expect(m.sentPerCall).toBeLessThanOrEqual(0.5);
  }, 90_000);

  it("with the Redis cache answering, a call is its one GET and nearly nothing else", async () => {
    const m = await measure("hits");
    for (const s of m.summaries) expect(s.failed).toBe(0);
    const hits = m.summaries.reduce((n, s) => n + s.hits, 0);
    expect(hits).toBeGreaterThan(m.calls * 0.9);
    expect(m.sentPerCall).toBeLessThanOrEqual(1.1);
    expect((m.sentByCommand.get ?? 0) / m.calls).toBeLessThanOrEqual(1.01);
  }, 90_000);
});
