// One Redis shared by several deployments: whose answer a key names. A real redis-server and the
// real `openai` SDK against loopback servers.
import type { StreamChunk } from "@orchestrator-ts/core";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { type OpenAIServer, type RedisServerHandle, startOpenAIServer, startRedisServer } from "@orchestrator-ts/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelCache } from "./model-cache";

const KEY = "sk-shared-redis-0123456789abcdef";
const PREFIX = "orc:cache:";
let redis: RedisServerHandle;
let raw: Redis;
let serverA: OpenAIServer;
let serverB: OpenAIServer;
const caches: ModelCache[] = [];

/** One deployment's cache: its own connection to the shared Redis, the default namespace. */
function cache(): ModelCache {
  const c = new ModelCache({ backend: "redis", redis: { url: redis.url } });
  caches.push(c);
  return c;
}

async function collect(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

/** Until the entry a call stored is in Redis (the write follows the answer). */
async function stored(key: string): Promise<string> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const value = await raw.get(PREFIX + key);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`nothing stored under ${key}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.url);
  serverA = await startOpenAIServer({ apiKey: KEY, reply: (r) => ({ text: `server A, ${r.model}: ${r.lastUserText}` }) });
  serverB = await startOpenAIServer({ apiKey: KEY, reply: (r) => ({ text: `server B, ${r.model}: ${r.lastUserText}` }) });
});
afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  raw?.disconnect();
  await Promise.all([serverA?.close(), serverB?.close()]);
  await redis?.stop();
});

describe("two deployments sharing one Redis", () => {
  const ask = { messages: [{ role: "user" as const, content: "What is AI?" }] };

  it("a model named `chat` on another API model and endpoint gets its own answer, not the other's", async () => {
    const chatA = new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: serverA.baseURL, apiKey: KEY });
    const chatB = new OpenAIModel({ name: "chat", model: "gpt-4o", baseURL: serverB.baseURL, apiKey: KEY });
    chatA.enableCaching(cache());
    chatB.enableCaching(cache());
    const a = await chatA.generate(ask);
    expect([a.text, a.cached]).toEqual(["server A, gpt-4o-mini: What is AI?", false]);
    await stored(caches[0]?.key(chatA, ask) as string);

    const b = await chatB.generate(ask);
    expect([b.text, b.cached]).toEqual(["server B, gpt-4o: What is AI?", false]);
    expect(serverB.stats.inferenceRequests).toBe(1);
    await stored(caches[1]?.key(chatB, ask) as string);

    // Each is then answered from its own entry, streams included.
    expect(await chatA.generate(ask)).toMatchObject({ text: a.text, cached: true });
    expect(await chatB.generate(ask)).toMatchObject({ text: b.text, cached: true });
    const streamed = await collect(chatB.stream(ask));
    expect(streamed.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("")).toBe(b.text);
    expect(streamed.at(-1)).toMatchObject({ type: "finish", cached: true });
    expect([serverA.stats.inferenceRequests, serverB.stats.inferenceRequests]).toEqual([1, 1]);
  });

  it("a replacement on the same endpoint but another API model does not get the replaced model's answers", async () => {
    const q = { messages: [{ role: "user" as const, content: "Replaced?" }] };
    const before = new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: serverA.baseURL, apiKey: KEY });
    before.enableCaching(cache());
    expect((await before.generate(q)).text).toBe("server A, gpt-4o-mini: Replaced?");
    await stored(caches.at(-1)?.key(before, q) as string);
    // What `registerModel(new OpenAIModel(...), { replace: true })` hands the registry's cache.
    const after = new OpenAIModel({ name: "chat", model: "gpt-4.1", baseURL: serverA.baseURL, apiKey: KEY });
    after.enableCaching(cache());
    expect(await after.generate(q)).toMatchObject({ text: "server A, gpt-4.1: Replaced?", cached: false });
  });

  it("the same deployment in another process still shares answers, whatever key it authenticates with", async () => {
    const q = { messages: [{ role: "user" as const, content: "Shared?" }] };
    const one = new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: serverA.baseURL, apiKey: KEY });
    const two = new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: `${serverA.baseURL}/`, apiKey: KEY });
    one.enableCaching(cache());
    two.enableCaching(cache());
    const first = await one.generate(q);
    await stored(caches.at(-2)?.key(one, q) as string);
    expect(await two.generate(q)).toMatchObject({ text: first.text, cached: true });
  });

  it("the key holds no credential of the endpoint", () => {
    const model = new OpenAIModel({ name: "chat", model: "gpt-4o", baseURL: `http://user:pw-0123456789@127.0.0.1:1/v1?api-key=${KEY}`, apiKey: KEY });
    expect(model.cacheIdentity).not.toContain(KEY);
    expect(model.cacheIdentity).not.toContain("pw-0123456789");
  });
});
