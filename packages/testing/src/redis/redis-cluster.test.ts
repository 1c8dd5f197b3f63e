import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClusterHandle, startRedisCluster } from "./redis-cluster";
import { type RedisSentinelHandle, startRedisSentinel } from "./redis-sentinel";
import { respCommand } from "./resp";

describe("startRedisCluster", () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    const start = performance.now();
    cluster = await startRedisCluster();
    console.log(`cluster of 6 started in ${Math.round(performance.now() - start)} ms`);
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("3 primaries with a replica each, every slot served; a key lives on its slot's primary only", async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(new Set(cluster.seeds.map((s) => s.port)).size).toBe(6);
    const primaries = await cluster.primaries();
    expect(primaries).toHaveLength(3);
    const owner = await cluster.primaryFor("orc:test");
    await expect(respCommand(owner.port, ["SET", "orc:test", "1"])).resolves.toBe("OK");
    const other = primaries.find((p) => p.port !== owner.port);
    await expect(respCommand(other?.port ?? 0, ["GET", "orc:test"])).rejects.toThrow(/^MOVED \d+ 127\.0\.0\.1:/);
  });

  it("a killed primary's replica takes over, and the killed node rejoins after restart()", async () => {
    const victim = await cluster.primaryFor("orc:failover");
    await victim.kill();
    const start = performance.now();
    await cluster.waitUntilHealthy(20_000);
    const next = await cluster.primaryFor("orc:failover");
    console.log(`failover took ${Math.round(performance.now() - start)} ms`);
    expect(next.port).not.toBe(victim.port);
    await victim.restart();
    await cluster.waitUntilHealthy(20_000);
    expect(await cluster.primaries()).toHaveLength(3);
  }, 45_000);
});

describe("startRedisSentinel", () => {
  let sentinel: RedisSentinelHandle;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 30_000);
  afterAll(async () => {
    await sentinel?.stop();
  });

  it("the Sentinels name the primary; when it dies they promote the replica", async () => {
    expect(sentinel.sentinels).toHaveLength(3);
    const primary = await sentinel.primary();
    expect(primary.port).toBe(sentinel.nodes[0]?.port);
    await primary.kill();
    const next = await sentinel.waitForFailover(primary);
    expect(next.port).toBe(sentinel.nodes[1]?.port);
    await expect(respCommand(next.port, ["SET", "k", "v"])).resolves.toBe("OK");
  }, 45_000);
});
