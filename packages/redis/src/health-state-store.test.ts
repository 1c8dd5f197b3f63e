import type { HealthStatus } from "@orchestrator-ts/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { RedisHealthStateStore } from "./health-state-store";

let redis: RedisServerHandle;
const open: RedisHealthStateStore[] = [];

function store(key: string, refreshIntervalMs = 10_000): RedisHealthStateStore {
  const s = new RedisHealthStateStore({ url: redis.url, key, refreshIntervalMs });
  open.push(s);
  return s;
}

const down: HealthStatus = {
  isHealthy: false,
  status: "unhealthy",
  issues: ["3 consecutive failures"],
  consecutiveFailures: 3,
  consecutiveSuccesses: 0,
  lastCheckedAt: 1_700_000_000_000,
  latencyMs: 12,
  cooldownUntil: 1_700_000_060_000,
};

const up: HealthStatus = {
  ...down,
  isHealthy: true,
  status: "healthy",
  issues: [],
  consecutiveFailures: 0,
  consecutiveSuccesses: 3,
  cooldownUntil: undefined,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await redis?.stop();
});

describe("RedisHealthStateStore", () => {
  it("shares a status between processes: local at once, remote through pub/sub", async () => {
    const a = store("h1");
    const b = store("h1");
    const seen: string[] = [];
    b.subscribe((name, status) => seen.push(`${name}:${status.status}`));
    await new Promise((r) => setTimeout(r, 100)); // let both subscriptions settle
    a.set("gpt-4", down);
    expect(a.get("gpt-4")).toEqual(down);
    await until(() => b.get("gpt-4") !== undefined);
    expect(b.get("gpt-4")).toEqual(down);
    expect(seen).toEqual(["gpt-4:unhealthy"]);
    // A reload answered after the message (they race on a loaded host or a cluster) is no news.
    await b.refresh();
    expect(seen).toEqual(["gpt-4:unhealthy"]);
  });

  it("a store started later loads the current state", async () => {
    const a = store("h2");
    a.set("claude", { ...down, isHealthy: true, status: "healthy", issues: [] });
    await new Promise((r) => setTimeout(r, 50));
    const late = store("h2");
    await until(() => late.get("claude") !== undefined);
    expect(late.get("claude")?.isHealthy).toBe(true);
  });

  it("a status set while Redis is down is shared once it is back", async () => {
    const a = store("h3");
    const b = store("h3", 300);
    a.set("m", up);
    await until(() => b.get("m")?.status === "healthy");
    await redis.kill();
    try {
      a.set("m", down);
      expect(a.get("m")).toEqual(down);
    } finally {
      await redis.restart();
    }
    // Redis came back empty: the status set meanwhile must reach it, and the other process.
    await until(() => b.get("m")?.status === "unhealthy", 5_000);
    expect(b.get("m")).toEqual(down);
    expect(a.get("m")).toEqual(down);
  }, 15_000);

  it("a status set while Redis is frozen is neither lost nor undone by a reload answered when it resumes", async () => {
    const a = store("h4", 200);
    const b = store("h4", 300);
    a.set("m", up);
    await until(() => b.get("m")?.status === "healthy");
    redis.pause();
    try {
      // Reloads (every 200 ms) time out meanwhile; one is still waiting when the status changes.
      await sleep(1_500);
      a.set("m", down);
    } finally {
      redis.resume();
    }
    await until(() => b.get("m")?.status === "unhealthy", 3_000);
    expect(b.get("m")).toEqual(down);
    // Reloads answered after the resume carry the state from before the set: they must not win.
    await sleep(600);
    expect(a.get("m")).toEqual(down);
  }, 15_000);
});
