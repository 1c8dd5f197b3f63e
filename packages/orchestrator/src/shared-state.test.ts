// The config's top-level redis: section: two orchestrators (as two processes of one application
// would) share the cache, the bandit's statistics and a model's per-minute limit through one
// real redis-server.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RedisStatsStore } from "@orchestrator-ts/redis";
import {
  type OpenAIServer,
  type RedisServerHandle,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrchestrator } from "./orchestrator";
import { parseModelConfig } from "@orchestrator-ts/config";

let redis: RedisServerHandle;
let server: OpenAIServer;
let dir: string;
beforeAll(async () => {
  [redis, server] = await Promise.all([
    startRedisServer(),
    startOpenAIServer({ apiKey: "sk-loopback-test", models: ["gpt-4o-mini"] }),
  ]);
  dir = await mkdtemp(join(tmpdir(), "orchestrator-redis-"));
});
afterAll(async () => {
  await Promise.all([redis?.stop(), server?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });

describe("createOrchestrator with a redis: section", () => {
  it("shares the cache, the statistics and a model's per-minute limit between orchestrators", {
    timeout: 60_000,
  }, async () => {
    const file = join(dir, "models.yaml");
    await writeFile(
      file,
      `models:
  - name: "gpt-4o-mini"
    provider: "openai"
    config:
      api_key: "\${LOOPBACK_KEY}"
      base_url: "\${LOOPBACK_URL}"
    constraints:
      max_requests_per_minute: 3
      queue_timeout: 5s
cache:
  backend: redis
execution:
  max_retries: 0
redis:
  url: "\${SHARED_REDIS_URL}"
  key_prefix: "app1:"
  operation_timeout: 5s
`,
    );
    const env = { LOOPBACK_KEY: "sk-loopback-test", LOOPBACK_URL: server.baseURL, SHARED_REDIS_URL: redis.url };
    const { Redis } = await import("ioredis");
    const client = new Redis(redis.url);
    const a = await createOrchestrator({ config: file, env, startHealthMonitor: false });
    const b = await createOrchestrator({ config: file, env, startHealthMonitor: false });
    try {
      // The cache connects to the top-level redis: section (cache.redis is not given).
      expect((await a.generate(ask("shared question"))).cached).toBe(false);
      // The entry is written after the answer is returned: wait until it is stored.
      const deadline = Date.now() + 10_000;
      while ((await client.keys("app1:cache:*")).length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const fromB = await b.generate(ask("shared question"));
      expect(fromB).toMatchObject({ text: "Echo: shared question", cached: true });
      expect(server.stats.inferenceRequests).toBe(1);

      // 3 a minute in total: one start is spent, so of six more calls (three in each) at most two reach the provider.
      const settled = await Promise.allSettled(
        [a, b].flatMap((o, i) => [1, 2, 3].map((n) => o.generate(ask(`question ${i}-${n}`)))),
      );
      const served = settled.filter((s) => s.status === "fulfilled").length;
      expect(server.stats.inferenceRequests).toBe(1 + served);
      expect(server.stats.inferenceRequests).toBeLessThanOrEqual(3);
      expect(served).toBeGreaterThanOrEqual(1);

      // Each learned from the other's calls.
      const [statsA, statsB] = [a, b].map((o) => o.registry.statsStore as RedisStatsStore);
      expect(typeof statsA?.sync).toBe("function");
      await statsA?.sync();
      await statsB?.sync();
      await statsA?.sync();
      const trials = statsA?.get("gpt-4o-mini")?.trials ?? 0;
      expect(trials).toBeGreaterThanOrEqual(1 + served);
      expect(statsB?.get("gpt-4o-mini")?.trials).toBe(trials);

      // The keys live under the configured prefix.
      const keys = await client.keys("*");
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.startsWith("app1:") || k.startsWith("{app1:"))).toBe(true);
    } finally {
      client.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("publishes a record of each call for the dashboard, unless publishDecisions is false (then no connection for it)", {
    timeout: 60_000,
  }, async () => {
    const config = parseModelConfig(
      `models:
  - name: "gpt-4o-mini"
    provider: "openai"
    config: { api_key: "sk-loopback-test", base_url: "${server.baseURL}" }
health: { enabled: false }
redis: { url: "${redis.url}", key_prefix: "feed:" }
`,
      { env: {} },
    );
    const { Redis } = await import("ioredis");
    const client = new Redis(redis.url);
    try {
      const clients = async () =>
        String(await client.client("LIST"))
          .trim()
          .split("\n").length;
      // Counted after a call: by then every connection the orchestrator opened is up.
      const quiet = await createOrchestrator({ config, startHealthMonitor: false, publishDecisions: false });
      await quiet.generate(ask("not published"));
      const quietClients = await clients();
      await quiet.close();
      expect(await client.xlen("feed:{decisions}")).toBe(0);

      const publishing = await createOrchestrator({ config, startHealthMonitor: false });
      await publishing.generate(ask("published"));
      expect(await clients()).toBe(quietClients + 1);
      await publishing.close();
      expect(await client.xlen("feed:{decisions}")).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
