// The shared rate limiter's acquire + release against one loopback redis-server, beside a raw
// ioredis PING on the same server (the floor: one round trip).
import { RedisRateLimiter } from "@orchestrator-ts/redis";
import { startRedisServer } from "@orchestrator-ts/testing";
import { Redis } from "ioredis";
import { type CaseResult, compare } from "../harness";

export async function rateLimiterCase(options: { iterations: number }): Promise<CaseResult> {
  const server = await startRedisServer();
  try {
    const raw = new Redis(server.url);
    const concurrency = new RedisRateLimiter({ url: server.url, key: "bench-c", maxConcurrentRequests: 1_000 });
    const both = new RedisRateLimiter({
      url: server.url,
      key: "bench-b",
      maxConcurrentRequests: 1_000,
      maxRequestsPerMinute: 1e9,
    });
    const cycle = (limiter: RedisRateLimiter) => async () => (await limiter.acquire()).release();
    const result = await compare(
      "rate-limiter-acquire",
      [
        { name: "raw ioredis PING (one round trip)", run: () => raw.ping() },
        { name: "RedisRateLimiter acquire + release (concurrency)", run: cycle(concurrency) },
        { name: "RedisRateLimiter acquire + release (concurrency + per minute)", run: cycle(both) },
      ],
      {
        warmup: 1_000,
        iterations: options.iterations,
        notes:
          "Loopback redis-server. An acquire is one script round trip; release's ZREM is not awaited (it rides ahead of the next call).",
      },
    );
    raw.disconnect();
    await Promise.all([concurrency.close(), both.close()]);
    return result;
  } finally {
    await server.stop();
  }
}
