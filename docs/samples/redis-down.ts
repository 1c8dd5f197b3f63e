// docs/troubleshooting.md, "Redis is missing or down": a Redis URL where nothing listens. The
// port differs per run; the guide shows the usual one.
import { createServer } from "node:net";
import { ModelCache } from "@orchestrator-ts/cache";
import { RedisRateLimiter } from "@orchestrator-ts/redis";
import { FakeModel } from "@orchestrator-ts/testing";
import { errorLine } from "./error-line";

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});
const url = `redis://127.0.0.1:${port}`;
const usual = (text: string) => text.replaceAll(`:${port}`, ":6379");

const cache = new ModelCache({ backend: "redis", redis: { url } });
cache.on("error", (event) => console.log(usual(`cache error event: ${(event.error as Error).message}`)));
const model = new FakeModel({ name: "gpt-4o" });
model.enableCaching(cache);
await model.generateResponse("What is AI?"); // answered by the model: the cache is bypassed
const stats = cache.stats();
console.log(`cache stats: bypasses ${stats.bypasses}, errors ${stats.errors}`);
await cache.close();

const limiter = new RedisRateLimiter({ url, key: "gpt-4o", maxRequestsPerMinute: 60, whenUnavailable: "reject" });
console.log(usual(await limiter.acquire().then(() => "acquired", errorLine)));
await limiter.close();
