// `registerModel(…, { replace: true })` with a registry-level cache on a real Redis: the
// replacement answers for itself; the replaced model's cached answers are not served for it.
import { ModelCache } from "@orchestrator-ts/cache";
import type { Model } from "@orchestrator-ts/core";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import {
  type OpenAIServer,
  type RedisServerHandle,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "./index";

const KEY = "sk-replace-identity-0123456789ab";
let redis: RedisServerHandle;
let serverA: OpenAIServer;
let serverB: OpenAIServer;
const caches: ModelCache[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  serverA = await startOpenAIServer({ apiKey: KEY, reply: (r) => ({ text: `A/${r.model}: ${r.lastUserText}` }) });
  serverB = await startOpenAIServer({ apiKey: KEY, reply: (r) => ({ text: `B/${r.model}: ${r.lastUserText}` }) });
});
afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  await Promise.all([serverA?.close(), serverB?.close()]);
  await redis?.stop();
});

function registry(): { registry: ModelRegistry; cache: ModelCache } {
  const cache = new ModelCache({ backend: "redis", redis: { url: redis.url } });
  caches.push(cache);
  return { registry: new ModelRegistry({ cache }), cache };
}

async function written(
  cache: ModelCache,
  model: Model,
  request: { messages: { role: "user"; content: string }[] },
): Promise<void> {
  const backend = await cache.backend();
  const deadline = Date.now() + 2_000;
  while ((await backend.get(cache.key(model, request))) === undefined) {
    if (Date.now() > deadline) throw new Error("the answer was not stored");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("a registry-level cache on a shared Redis", () => {
  const q = { messages: [{ role: "user" as const, content: "Who answers?" }] };

  it("after registerModel(…, { replace: true }) the replacement answers, not the replaced model's cache", async () => {
    const { registry: r, cache } = registry();
    const old = r.registerModel(
      new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: serverA.baseURL, apiKey: KEY }),
    );
    expect(await r.generate(q)).toMatchObject({ text: "A/gpt-4o-mini: Who answers?", cached: false });
    await written(cache, old, q);
    expect(await r.generate(q)).toMatchObject({ text: "A/gpt-4o-mini: Who answers?", cached: true });

    r.registerModel(new OpenAIModel({ name: "chat", model: "gpt-4o", baseURL: serverB.baseURL, apiKey: KEY }), {
      replace: true,
    });
    expect(await r.generate(q)).toMatchObject({ model: "chat", text: "B/gpt-4o: Who answers?", cached: false });
    expect(serverB.stats.inferenceRequests).toBe(1);
  });

  it("two registries whose `chat` runs on different API models and endpoints each get their own answers", async () => {
    const ask = { messages: [{ role: "user" as const, content: "Whose answer?" }] };
    const one = registry();
    const two = registry();
    const a = one.registry.registerModel(
      new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: serverA.baseURL, apiKey: KEY }),
    );
    two.registry.registerModel(
      new OpenAIModel({ name: "chat", model: "gpt-4.1", baseURL: serverB.baseURL, apiKey: KEY }),
    );
    expect((await one.registry.generate(ask)).text).toBe("A/gpt-4o-mini: Whose answer?");
    await written(one.cache, a, ask);
    expect(await two.registry.generate(ask)).toMatchObject({ text: "B/gpt-4.1: Whose answer?", cached: false });
  });
});
