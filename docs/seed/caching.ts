// Seed: "Model Caching and Optimization" — a Redis-backed response cache.
import { ModelCache } from "@orchestrator-ts/cache";
import type { Model } from "@orchestrator-ts/core";

export async function cachedTwice(model: Model, redisUrl: string) {
  // Configure model response caching
  const cache = new ModelCache({
    backend: "redis",
    redis: { url: redisUrl },
    ttlMs: 3_600_000, // 1 hour
    maxSize: 10000,
  });

  // Enable caching for specific models
  model.enableCaching(cache);

  // Cached responses are automatically used for identical requests
  const response1 = await model.generateResponse("What is AI?");
  const response2 = await model.generateResponse("What is AI?"); // From cache
  return { cache, response1, response2 };
}
