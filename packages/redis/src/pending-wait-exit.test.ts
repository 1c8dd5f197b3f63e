import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runFixture } from "../test/spawn";

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  redis?.resume();
  await redis?.stop();
});

it("a process whose only work is a limiter acquire and a budget charge waiting on a frozen Redis prints both outcomes, then exits", async () => {
  const lines = (await runFixture("frozen-wait", [redis.url, String(redis.pid)], { timeoutMs: 30_000 })) as {
    part: string;
    outcome: string;
    afterMs: number;
  }[];
  expect(lines.map((l) => [l.part, l.outcome])).toEqual([
    ["limiter", "rate_limit_error"],
    ["budget", "budget_exceeded"],
  ]);
  // Each settled at its own timeout, not at once and not never.
  expect(lines[0]?.afterMs).toBeGreaterThanOrEqual(1_400);
  expect(lines[1]?.afterMs).toBeGreaterThanOrEqual(2_800);
}, 40_000);

it("a process whose only pending work is a charge waiting for another holder's slice to end gets it, prints, then exits", async () => {
  // The room comes back through unref()'d work (the slice's end timer, its return exchange): the
  // waiting charge's own polls keep the process alive until then.
  const lines = (await runFixture("slice-return-wait", [redis.url], { timeoutMs: 30_000 })) as {
    outcome: string;
    afterMs: number;
  }[];
  expect(lines.map((l) => l.outcome)).toEqual(["charged"]);
  // It waited for the slice's end (300 ms), not for its own timeout (5 s).
  expect(lines[0]?.afterMs).toBeLessThan(4_000);
}, 40_000);
