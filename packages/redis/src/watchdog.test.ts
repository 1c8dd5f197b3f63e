import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { CommandWatchdog } from "./watchdog";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let redis: RedisServerHandle;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  await client.set("w:k", "v".repeat(400));
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

/** Sends one GET through the watchdog and returns a weak reference to the reply's promise, once settled. */
async function settledLookup(watchdog: CommandWatchdog): Promise<WeakRef<Promise<unknown>>> {
  const reply = watchdog.send(client, "get", ["w:k"]);
  expect(await reply).toBe("v".repeat(400));
  return new WeakRef(reply);
}

describe("CommandWatchdog", () => {
  it("lets go of a settled command at the next send, not at the next tick: a cache hit's reply is not kept alive", async () => {
    // A 10 s bound ticks every 2.5 s: far later than this test looks.
    const watchdog = new CommandWatchdog(10_000);
    try {
      const first = await settledLookup(watchdog);
      // The next lookup finds the first one settled at the head of the queue and drops it.
      await settledLookup(watchdog);
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      expect(first.deref()).toBeUndefined();
    } finally {
      watchdog.stop();
    }
  });

  it("still rejects, within the bound, a command sent after settled ones while the server does not answer", async () => {
    const watchdog = new CommandWatchdog(200);
    const pauser = new Redis(redis.url);
    try {
      for (let i = 0; i < 3; i++) await settledLookup(watchdog);
      await pauser.call("CLIENT", "PAUSE", "800", "ALL");
      const start = performance.now();
      const stuck = await watchdog.send(client, "get", ["w:k"]).catch((e: unknown) => e);
      const tookMs = performance.now() - start;
      expect(String(stuck)).toContain("Command timed out");
      expect(tookMs).toBeGreaterThanOrEqual(190);
      expect(tookMs).toBeLessThan(600);
    } finally {
      watchdog.stop();
      pauser.disconnect();
      // Wait out the pause so later tests find the server answering.
      await new Promise((r) => setTimeout(r, 700));
    }
  });

  it("under constant load (the queue never drains) lets go of the settled commands too", async () => {
    const watchdog = new CommandWatchdog(10_000);
    try {
      // 3,000 lookups, 50 in flight at any time; the first 500 replies are watched.
      const inFlight = new Set<Promise<unknown>>();
      const early: WeakRef<Promise<unknown>>[] = [];
      let sent = 0;
      while (sent < 3_000) {
        while (inFlight.size < 50 && sent < 3_000) {
          const reply = watchdog.send(client, "get", ["w:k"]);
          if (sent < 500) early.push(new WeakRef(reply));
          const p: Promise<unknown> = reply.finally(() => inFlight.delete(p));
          inFlight.add(p);
          sent++;
        }
        await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      await settledLookup(watchdog);
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      expect(early.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    } finally {
      watchdog.stop();
    }
  });
});
