import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AbortError, type Lease, RateLimitError } from "@orchestrator-ts/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { runFixture } from "../test/spawn";
import { RedisRateLimiter } from "./rate-limiter";

let redis: RedisServerHandle;
const open: RedisRateLimiter[] = [];
let n = 0;

function limiter(options: Omit<ConstructorParameters<typeof RedisRateLimiter>[0], "url">): RedisRateLimiter {
  const l = new RedisRateLimiter({ url: redis.url, ...options });
  open.push(l);
  return l;
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(open.map((l) => l.close()));
  await redis?.stop();
});

describe("RedisRateLimiter", () => {
  it("holds maxConcurrentRequests across two limiters (two processes' worth) and hands freed slots on", async () => {
    const key = `c${++n}`;
    const a = limiter({ key, maxConcurrentRequests: 2, pollIntervalMs: 10 });
    const b = limiter({ key, maxConcurrentRequests: 2, pollIntervalMs: 10 });
    const held: Lease[] = [await a.acquire(), await b.acquire()];
    expect(a.inFlight + b.inFlight).toBe(2);
    await expect(b.acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(RateLimitError);
    expect(b.isSaturated()).toBe(true);
    const waiting = b.acquire({ timeoutMs: 2_000 });
    held[0]?.release();
    const third = await waiting;
    expect(b.inFlight).toBe(2);
    third.release();
    held[1]?.release();
    expect(a.inFlight + b.inFlight).toBe(0);
  });

  it("holds maxRequestsPerMinute and says when to retry", async () => {
    const l = limiter({ key: `r${++n}`, maxRequestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) (await l.acquire()).release();
    const error = await l.acquire({ timeoutMs: 100 }).catch((e: unknown) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBeGreaterThan(50_000);
    expect(l.isSaturated()).toBe(true);
  });

  it("honours abort while waiting", async () => {
    const l = limiter({ key: `a${++n}`, maxConcurrentRequests: 1 });
    const lease = await l.acquire();
    const controller = new AbortController();
    const waiting = l.acquire({ signal: controller.signal, timeoutMs: 5_000 });
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toSatisfy((e) => AbortError.isInstance(e));
    lease.release();
    (await l.acquire({ timeoutMs: 500 })).release();
  });

  it("three processes under one shared limit of 30 per minute never exceed it in total", async () => {
    const key = `p${++n}`;
    const runs = await Promise.all([1, 2, 3].map(() => runFixture("rate-worker", [redis.url, key, "rpm", "20"])));
    const counts = runs.map((lines) => lines[0] as { granted: number; rejected: number });
    const granted = counts.reduce((s, c) => s + c.granted, 0);
    const rejected = counts.reduce((s, c) => s + c.rejected, 0);
    console.log(`3 processes × 20 attempts, shared limit 30/min: granted ${counts.map((c) => c.granted).join(" + ")} = ${granted}, rejected ${rejected}`);
    expect(granted).toBe(30);
    expect(rejected).toBe(30);
  }, 20_000);

  it("reclaims the slot of a holder that crashed (SIGKILL) after leaseTtlMs", async () => {
    const key = `k${++n}`;
    const file = fileURLToPath(new URL("../test/fixtures/rate-worker.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", file, redis.url, key, "hold"], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the holder never reported its slot")), 10_000);
      child.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("holding")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const l = limiter({ key, maxConcurrentRequests: 1, leaseTtlMs: 600, pollIntervalMs: 20 });
    // Alive, the holder's heartbeat keeps the slot past its TTL.
    await expect(l.acquire({ timeoutMs: 900 })).rejects.toBeInstanceOf(RateLimitError);
    child.kill("SIGKILL");
    const killedAt = performance.now();
    const lease = await l.acquire({ timeoutMs: 3_000 });
    const waitedMs = performance.now() - killedAt;
    console.log(`slot of the killed holder reclaimed after ${Math.round(waitedMs)} ms (leaseTtlMs 600)`);
    expect(waitedMs).toBeLessThan(1_500);
    lease.release();
  }, 20_000);

  it("falls back to local limits while Redis is down, or fails closed when asked; never hangs", async () => {
    const local = limiter({ key: `f${++n}`, maxConcurrentRequests: 1, whenUnavailable: "local" });
    const closed = limiter({ key: `f${++n}`, maxConcurrentRequests: 1, whenUnavailable: "reject" });
    (await local.acquire()).release();
    (await closed.acquire()).release();
    const fallbacks: string[] = [];
    local.on("fallback", (e) => fallbacks.push(e.key));
    await redis.kill();
    try {
      const start = performance.now();
      const lease = await local.acquire({ timeoutMs: 1_000 });
      await expect(local.acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(RateLimitError);
      lease.release();
      await expect(closed.acquire({ timeoutMs: 1_000 })).rejects.toBeInstanceOf(RateLimitError);
      expect(performance.now() - start).toBeLessThan(1_500);
      expect(fallbacks.length).toBeGreaterThan(0);
    } finally {
      await redis.restart();
    }
    // Back on Redis once it reconnects.
    await new Promise((r) => setTimeout(r, 1_200));
    (await closed.acquire({ timeoutMs: 1_000 })).release();
  }, 20_000);
});
