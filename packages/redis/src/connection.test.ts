import { inspect } from "node:util";
import { ConfigError, Secret } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { RedisConnection, createRedisClient, validateRedisConnectionOptions } from "./connection";
import { RedisRateLimiter } from "./rate-limiter";
import { RedisStatsStore } from "./stats-store";

function problems(options: Parameters<typeof validateRedisConnectionOptions>[0]): string[] {
  try {
    validateRedisConnectionOptions(options);
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe("connection options: { url | cluster | sentinels + name | client }", () => {
  it("accepts each shape, with nodes as host:port, redis:// URLs (or Secrets) and { host, port }", () => {
    expect(problems({ url: "redis://a:6379" })).toEqual([]);
    expect(
      problems({
        cluster: [
          "10.0.0.1:6379",
          "redis://10.0.0.2",
          { host: "h", port: 7000 },
          "[::1]:7001",
          new Secret("redis://:pw@h:6379"),
        ],
      }),
    ).toEqual([]);
    expect(problems({ sentinels: ["s1:26379", "s2"], name: "mymaster" })).toEqual([]);
  });

  it("refuses two shapes, Sentinel without a name, and malformed nodes, naming each field", () => {
    expect(problems({ url: "redis://a", cluster: ["b:1"] })).toEqual([
      "cluster: give one of url, cluster, sentinels and client, not url and cluster",
    ]);
    expect(problems({ sentinels: ["s:26379"] })).toEqual([
      "name: is required with sentinels: the master group name the Sentinels monitor",
    ]);
    expect(problems({ cluster: [], name: "x" })).toEqual([
      'cluster: must be a non-empty list of nodes ("host:port" or { host, port })',
      "name: only applies with sentinels",
    ]);
    expect(problems({ cluster: ["a:99999", { host: "", port: 1 }, "redis://:s3cret@"] })).toEqual([
      'cluster[0]: expected "host:port" or a redis:// URL, got "a:99999"',
      "cluster[1]: needs a host",
      // The node is shown without its password.
      'cluster[2]: expected "host:port" or a redis:// URL, got "redis://[REDACTED]@"',
    ]);
    expect(problems({ url: "redis://a", operationTimeoutMs: 0 })).toEqual([
      "operationTimeoutMs: must be a positive number of milliseconds, got 0",
    ]);
  });

  it("every part checks its options before connecting", () => {
    expect(() => new RedisRateLimiter({ key: "m", url: "redis://a", sentinels: ["s:1"], name: "n" })).toThrow(
      ConfigError,
    );
    expect(() => new RedisStatsStore({ cluster: ["not a node at all"] })).toThrow(/cluster\[0\]/);
    // A URL that cannot be parsed is our ConfigError, never ioredis's TypeError, whose `input` held the whole URL.
    for (const url of [
      "redis://default:hunter2-SECRET@redis.internal:99999",
      "redis://default:hunter2-SECRET@[::1:6379",
    ]) {
      let thrown: unknown;
      try {
        new RedisStatsStore({ url });
      } catch (error) {
        thrown = error;
      }
      expect(ConfigError.isInstance(thrown), String(thrown)).toBe(true);
      expect((thrown as ConfigError).issues[0]?.path).toBe("url");
      expect(`${(thrown as Error).message} ${inspect(thrown)} ${JSON.stringify(thrown)}`).not.toContain("hunter2");
    }
  });

  it("creates a Cluster or a Sentinel-backed client without connecting until used, and never shows a password", async () => {
    const cluster = createRedisClient(
      { cluster: ["redis://:cl-pass-0123@127.0.0.1:1"], redisOptions: { lazyConnect: true } },
      100,
    );
    expect(cluster.topology).toBe("cluster");
    expect(cluster.client.isCluster).toBe(true);
    cluster.client.disconnect();
    const connection = new RedisConnection(
      { sentinels: ["127.0.0.1:1"], name: "m", password: "sentinel-data-pass", redisOptions: { lazyConnect: true } },
      { operationTimeoutMs: 100 },
    );
    expect(connection.topology).toBe("sentinel");
    expect(inspect(connection, { depth: 5 })).not.toContain("sentinel-data-pass");
    expect(JSON.stringify(connection)).not.toContain("sentinel-data-pass");
    await connection.close();
    connection.client.disconnect();
  });
});
