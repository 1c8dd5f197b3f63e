import { ModelCache } from "@orchestrator-ts/cache";
import { RedisCacheBackend } from "@orchestrator-ts/redis";
import { FakeModel, startRedisServer } from "@orchestrator-ts/testing";
const server = await startRedisServer();
const REQUEST = { messages: [{ role: "user" as const, content: "What is a multi-armed bandit? Answer in two sentences." }] };
const backend = new RedisCacheBackend({ url: server.url, keyPrefix: "bench:" });
const cache = new ModelCache({ backend });
const model = new FakeModel({ name: "fake", response: "A bandit. ".repeat(8) });
model.enableCaching(cache);
await model.generate(REQUEST);
await new Promise((r) => setTimeout(r, 50));
const key = cache.key(model, REQUEST);
async function time(name: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 2000; i++) await fn();
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < 10000; i++) await fn();
  const c = process.cpuUsage(c0);
  console.log(name, "wall us", ((performance.now() - t0) / 10).toFixed(1), "cpu us", ((c.user + c.system) / 10000).toFixed(1));
}
await time("backend.get", () => backend.get(key));
await time("cache.generate", () => cache.generate(model, REQUEST, () => { throw new Error("miss"); }));
await time("model.generate", () => model.generate(REQUEST));
console.log(cache.stats());
await cache.close(); await server.stop();
