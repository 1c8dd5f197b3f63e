import { inspect } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { RedisCacheBackend } from "./cache-backend";
import { RedisUnavailableError } from "./connection";

const PASSWORD = "s3cret-Pa55word-xyz";
let redis: RedisServerHandle;
let probe: Redis;
const open: RedisCacheBackend[] = [];

function backend(keyPrefix = "t:"): RedisCacheBackend {
  const b = new RedisCacheBackend({ url: redis.url, keyPrefix });
  open.push(b);
  return b;
}

beforeAll(async () => {
  redis = await startRedisServer({ password: PASSWORD });
  probe = new Redis(redis.url);
  probe.on("error", () => undefined);
});
afterAll(async () => {
  probe?.disconnect();
  await Promise.all(open.map((b) => b.close()));
  await redis?.stop();
});

describe("RedisCacheBackend", () => {
  it("stores with a PX expiry under its prefix, and another connection reads it", async () => {
    const a = backend();
    await a.set("k1", "v1", 60_000);
    const pttl = await probe.pttl("t:k1");
    expect(pttl).toBeGreaterThan(59_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await backend().get("k1")).toBe("v1");
    expect(await a.get("missing")).toBeUndefined();
    await a.set("short", "v", 30);
    await new Promise((r) => setTimeout(r, 60));
    expect(await a.get("short")).toBeUndefined();
  });

  it("clear() removes only its own prefix", async () => {
    const mine = backend("mine:");
    const other = backend("other:");
    await Promise.all([mine.set("a", "1"), mine.set("b*", "2"), other.set("a", "3")]);
    await mine.clear();
    expect(await mine.get("a")).toBeUndefined();
    expect(await mine.get("b*")).toBeUndefined();
    expect(await other.get("a")).toBe("3");
  });

  it("never shows the password from the URL", async () => {
    const b = backend();
    expect(inspect(b, { depth: 5 })).not.toContain(PASSWORD);
    expect(inspect(b.connection, { depth: 5 })).not.toContain(PASSWORD);
    expect(JSON.stringify(b)).not.toContain(PASSWORD);
    const wrong = new RedisCacheBackend({ url: `redis://:${PASSWORD}x@127.0.0.1:${redis.port}` });
    open.push(wrong);
    const error = await wrong.get("k").catch((e: unknown) => e);
    expect(RedisUnavailableError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).not.toContain(PASSWORD);
    expect(JSON.stringify(error)).not.toContain(PASSWORD);
  });

  it("declares its operation bound: its own client's timeout plus one watchdog tick, a given client's commandTimeout, or none", async () => {
    // One watchdog timer ticks every quarter of the timeout: a command settles within 1.25× of it.
    expect(backend().operationTimeoutMs).toBe(250 + 63);
    const custom = new RedisCacheBackend({ url: redis.url, operationTimeoutMs: 80 });
    open.push(custom);
    expect(custom.operationTimeoutMs).toBe(100);
    const withTimeout = new Redis(redis.url, { lazyConnect: true, commandTimeout: 120 });
    expect(new RedisCacheBackend({ client: withTimeout }).operationTimeoutMs).toBe(120);
    withTimeout.disconnect();
    const own = new Redis(redis.url, { lazyConnect: true });
    const unbounded = new RedisCacheBackend({ client: own });
    expect(unbounded.operationTimeoutMs).toBeUndefined();
    own.disconnect();
  });

  it("bounds every command with one watchdog timer: a paused server fails lookups and writes in time", async () => {
    const b = backend();
    await b.set("w", "v");
    const probe = new Redis(redis.url);
    await probe.call("CLIENT", "PAUSE", "1200", "ALL");
    const start = performance.now();
    const outcomes = await Promise.allSettled([b.get("w"), b.set("w2", "v"), b.get("w")]);
    const tookMs = performance.now() - start;
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      expect(String((o as PromiseRejectedResult).reason)).toMatch(
        /RedisUnavailableError: Redis is unavailable for a cache (lookup|write): Command timed out/,
      );
    }
    expect(tookMs).toBeGreaterThanOrEqual(240);
    expect(tookMs).toBeLessThan(700);
    // Back as soon as Redis answers again (the pause ends 1.2 s after it began).
    const deadline = performance.now() + 2_000;
    while (!b.connection.available && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(performance.now() - start).toBeLessThan(1_800);
    expect(await b.get("w")).toBe("v");
    probe.disconnect();
  }, 10_000);

  it("while Redis is frozen only the first lookups wait out the bound, the next bypass at once; hits resume with Redis", async () => {
    const b = backend();
    await b.set("f", "v");
    redis.pause();
    let resumedAt = 0;
    try {
      const first = performance.now();
      await expect(b.get("f")).rejects.toSatisfy((e) => RedisUnavailableError.isInstance(e));
      expect(performance.now() - first).toBeGreaterThanOrEqual(240);
      // Redis did not answer in time: until it answers a PING, lookups fail without waiting.
      const next = performance.now();
      const results = await Promise.allSettled([b.get("f"), b.get("f"), b.set("g", "v")]);
      expect(results.every((r) => r.status === "rejected" && RedisUnavailableError.isInstance(r.reason))).toBe(true);
      expect(performance.now() - next).toBeLessThan(50);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      redis.resume();
      resumedAt = performance.now();
    }
    while (!b.connection.available && performance.now() - resumedAt < 2_000) await new Promise((r) => setTimeout(r, 5));
    console.log(`cache lookups back on Redis ${Math.round(performance.now() - resumedAt)} ms after it resumed`);
    expect(performance.now() - resumedAt).toBeLessThan(500);
    expect(await b.get("f")).toBe("v");
  }, 10_000);

  it("fails fast while Redis is down and recovers by itself", async () => {
    const b = backend();
    await b.set("k", "v");
    await redis.kill();
    try {
      const start = performance.now();
      const results = await Promise.allSettled([b.get("k"), b.get("k"), b.set("k", "w")]);
      expect(results.every((r) => r.status === "rejected" && RedisUnavailableError.isInstance(r.reason))).toBe(true);
      expect(performance.now() - start).toBeLessThan(500);
    } finally {
      await redis.restart();
    }
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && b.connection.client.status !== "ready") await new Promise((r) => setTimeout(r, 20));
    await b.set("k", "again");
    expect(await b.get("k")).toBe("again");
  });
});
