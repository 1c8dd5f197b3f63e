// A Redis Cluster cache hit (3 primaries + 3 replicas on loopback) against a raw ioredis Cluster
// GET of the very key the cache reads (same node, same payload): what the cache adds on a cluster.
import { ModelCache } from "@orchestrator-ts/cache";
import { RedisCacheBackend } from "@orchestrator-ts/redis";
import { FakeModel, startRedisCluster } from "@orchestrator-ts/testing";
import { Cluster } from "ioredis";
import { type CaseResult, compare } from "../harness";

const REQUEST = {
  messages: [{ role: "user" as const, content: "What is a multi-armed bandit? Answer in two sentences." }],
};

export async function cacheClusterCase(options: { iterations: number }): Promise<CaseResult> {
  const cluster = await startRedisCluster();
  try {
    const raw = new Cluster(cluster.seeds);
    const backend = new RedisCacheBackend({ cluster: cluster.seeds, keyPrefix: "bench:" });
    const cache = new ModelCache({ backend });
    const model = new FakeModel({ name: "fake", response: "A bandit balances exploring and exploiting. ".repeat(8) });
    model.enableCaching(cache);
    await model.generate(REQUEST);
    const key = `bench:${cache.key(model, REQUEST)}`;
    const stored = await raw.get(key);
    if (!stored) throw new Error("the cache entry was not stored on the cluster");
    const result = await compare(
      "cache-redis-cluster-hit",
      [
        { name: "raw ioredis Cluster GET of the same key", run: () => raw.get(key) },
        { name: "Redis Cluster cache hit through model.generate", run: () => model.generate(REQUEST) },
      ],
      {
        warmup: 2_000,
        iterations: options.iterations * 2.5,
        notes: `Loopback Redis Cluster, 3 primaries + 3 replicas; payload ${stored.length} bytes; 2,000 warm-up calls each. Goal ≤ 1.15× the raw GET.`,
      },
    );
    raw.disconnect();
    await cache.close();
    await backend.close();
    return result;
  } finally {
    await cluster.stop();
  }
}
