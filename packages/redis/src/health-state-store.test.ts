import type { HealthStatus } from "@orchestrator-ts/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { RedisHealthStateStore } from "./health-state-store";

let redis: RedisServerHandle;
const open: RedisHealthStateStore[] = [];

function store(key: string): RedisHealthStateStore {
  const s = new RedisHealthStateStore({ url: redis.url, key, refreshIntervalMs: 10_000 });
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
  });

  it("a store started later loads the current state", async () => {
    const a = store("h2");
    a.set("claude", { ...down, isHealthy: true, status: "healthy", issues: [] });
    await new Promise((r) => setTimeout(r, 50));
    const late = store("h2");
    await until(() => late.get("claude") !== undefined);
    expect(late.get("claude")?.isHealthy).toBe(true);
  });
});
