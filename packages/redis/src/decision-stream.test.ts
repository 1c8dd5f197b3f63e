import { Redis } from "ioredis";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisDecisionStream } from "./decision-stream";

let redis: RedisServerHandle;
let admin: Redis;
beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

/** How many XADD commands the server has run. */
async function xadds(): Promise<number> {
  const info = await admin.info("commandstats");
  return Number(/cmdstat_xadd:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe("RedisDecisionStream", () => {
  it("writes a burst of decisions in one XADD per flush, read back in order; the stream stays capped", async () => {
    const stream = new RedisDecisionStream({ url: redis.url, key: "t1:{decisions}", maxLen: 10 });
    try {
      await admin.config("RESETSTAT");
      for (let i = 0; i < 1_000; i++) stream.publish({ i });
      // Nothing is written per call: only at the flush (every 250 ms), as one pipeline.
      expect(await xadds()).toBe(0);
      await new Promise((r) => setTimeout(r, 400));
      // 1,000 decisions: two entries of 500 — two commands, not a thousand.
      expect(await xadds()).toBe(2);
      const batches = await stream.recent();
      expect(batches.flatMap((b) => b.decisions)).toEqual(Array.from({ length: 1_000 }, (_, i) => ({ i })));
      for (let round = 0; round < 30; round++) {
        stream.publish({ round });
        await stream.flush();
      }
      // MAXLEN ~ trims whole nodes: bounded near the cap, not the 32 entries written.
      expect(await admin.xlen("t1:{decisions}")).toBeLessThan(32);
    } finally {
      await stream.close();
    }
  });

  it("tails what other processes write, and close() flushes and ends the tail", async () => {
    const writer = new RedisDecisionStream({ url: redis.url, key: "t2:{decisions}", flushIntervalMs: 20 });
    const reader = new RedisDecisionStream({ url: redis.url, key: "t2:{decisions}" });
    const seen: unknown[] = [];
    const tail = reader.tail((b) => seen.push(...b.decisions));
    // The tail starts from now: give its first XREAD a moment to block.
    await new Promise((r) => setTimeout(r, 100));
    writer.publish({ model: "a" });
    writer.publish({ model: "b" });
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual([{ model: "a" }, { model: "b" }]);
    writer.publish({ model: "c" });
    await writer.close();
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(3);
    await reader.close();
    await tail;
    // A value in the stream that is not a batch of ours is skipped, not a crash.
    await admin.xadd("t2:{decisions}", "*", "d", "not json");
    const again = new RedisDecisionStream({ url: redis.url, key: "t2:{decisions}" });
    expect((await again.recent()).at(-1)?.decisions).toEqual([]);
    await again.close();
  });

  it("with Redis unreachable, publish never throws and the buffer stays bounded", async () => {
    const stream = new RedisDecisionStream({
      url: "redis://127.0.0.1:1",
      maxPending: 100,
      flushIntervalMs: 10,
      operationTimeoutMs: 200,
    });
    for (let i = 0; i < 10_000; i++) stream.publish({ i });
    expect(stream.dropped).toBeGreaterThanOrEqual(9_900);
    await stream.close();
  });
});
