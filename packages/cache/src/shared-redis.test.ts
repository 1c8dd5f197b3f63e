// One Redis shared by several deployments: whose answer a key names (issue 17, point 6), and what
// a lookup does with entries it did not write itself (point 7). A real redis-server, the real
// `openai` SDK against loopback servers, and bad entries written with a raw ioredis client.
import type { StreamChunk } from "@orchestrator-ts/core";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import {
  FakeModel,
  type OpenAIServer,
  type RedisServerHandle,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelCache } from "./model-cache";
import type { CacheErrorEvent } from "./types";

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
  serverA = await startOpenAIServer({
    apiKey: KEY,
    reply: (r) => ({ text: `server A, ${r.model}: ${r.lastUserText}` }),
  });
  serverB = await startOpenAIServer({
    apiKey: KEY,
    reply: (r) => ({ text: `server B, ${r.model}: ${r.lastUserText}` }),
  });
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
    const model = new OpenAIModel({
      name: "chat",
      model: "gpt-4o",
      baseURL: `http://user:pw-0123456789@127.0.0.1:1/v1?api-key=${KEY}`,
      apiKey: KEY,
    });
    expect(model.cacheIdentity).not.toContain(KEY);
    expect(model.cacheIdentity).not.toContain("pw-0123456789");
  });
});

describe("entries read back from Redis", () => {
  const q = { messages: [{ role: "user" as const, content: "q" }] };

  /** A model with a cache of its own and the Redis key a bad entry must be written under. */
  function setup(name: string): { model: FakeModel; c: ModelCache; errors: CacheErrorEvent[]; redisKey: string } {
    let n = 0;
    const model = new FakeModel({ name, response: () => `fresh answer ${++n}` });
    const c = cache();
    const errors: CacheErrorEvent[] = [];
    c.on("error", (e) => errors.push(e));
    model.enableCaching(c);
    return { model, c, errors, redisKey: PREFIX + c.key(model, q) };
  }

  const bad: [string, Record<string, unknown> | string][] = [
    ["ch: 5", { t: "x", f: { unified: "stop" }, ch: 5 }],
    ['tc: "notarray"', { t: "x", f: { unified: "tool-calls" }, tc: "notarray" }],
    ["a chunk that is neither text nor a tool call", { t: "x", f: { unified: "stop" }, ch: ["x", 7] }],
    ["a tool call without a name", { t: "", f: { unified: "tool-calls" }, tc: [{ id: "1", arguments: {} }] }],
    ["an unknown finish reason", { t: "x", f: { unified: "exploded" } }],
    ["usage that is not a count", { t: "x", f: { unified: "stop" }, u: { inputTokens: "12" } }],
    ["a negative cost", { t: "x", f: { unified: "stop" }, c: -1 }],
    ["warnings that are not strings", { t: "x", f: { unified: "stop" }, w: [{}] }],
    ["text that is not a string", { t: 5, f: { unified: "stop" } }],
    ["reasoning that is not a list of parts", { t: "x", f: { unified: "stop" }, r: [{ type: "reasoning", text: 1 }] }],
    [
      "a reasoning signature that is not a string",
      { t: "x", f: { unified: "stop" }, r: [{ type: "reasoning", text: "", signature: 2 }] },
    ],
    ["an array", "[1,2]"],
    ["not JSON", "{not json"],
  ];

  for (const [what, entry] of bad) {
    it(`an entry with ${what} is deleted and the call goes to the model, for generate and stream`, async () => {
      const { model, errors, redisKey } = setup(`bad-${what}`);
      const write = () => raw.set(redisKey, typeof entry === "string" ? entry : JSON.stringify(entry), "PX", 60_000);

      await write();
      const result = await model.generate(q);
      expect([result.text, result.cached, model.calls]).toEqual(["fresh answer 1", false, 1]);
      expect(errors.map((e) => e.operation)).toContain("parse");
      expect(String((errors[0]?.error as Error | undefined)?.message)).toContain("not a valid cache entry");
      // The fresh answer replaced it: the next call is a hit on a good entry.
      expect(JSON.parse(await stored(redisKey.slice(PREFIX.length)))).toMatchObject({ t: "fresh answer 1" });
      expect(await model.generate(q)).toMatchObject({ text: "fresh answer 1", cached: true });

      // The same for a stream, and the bad entry is gone even when nothing replaces it.
      await write();
      const chunks = await collect(model.stream(q));
      expect(
        chunks
          .filter((c) => c.type === "text")
          .map((c) => (c as { text: string }).text)
          .join(""),
      ).toBe("fresh answer 2");
      expect(chunks.at(-1)).toMatchObject({ type: "finish", cached: false });
      expect(model.calls).toBe(2);
    });
  }

  it("a bad entry nothing replaces is deleted, not met again on every call until its TTL", async () => {
    const { model, c, redisKey } = setup("deleted");
    const failing = new FakeModel({ name: "deleted", script: [{ fail: "server-error" }] });
    failing.enableCaching(c);
    await raw.set(redisKey, JSON.stringify({ t: "x", f: { unified: "stop" }, ch: 5 }), "PX", 60_000);
    await expect(failing.generate(q)).rejects.toMatchObject({ code: "provider_error" });
    const deadline = Date.now() + 2_000;
    while ((await raw.exists(redisKey)) === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await raw.exists(redisKey)).toBe(0);
    expect(c.stats().errors).toBe(1);
    expect(model.calls).toBe(0);
  });

  it("an entry larger than maxEntryBytes is dropped without being parsed", async () => {
    const model = new FakeModel({ name: "big", response: "small answer" });
    const c = new ModelCache({ backend: "redis", redis: { url: redis.url }, maxEntryBytes: 4_096 });
    caches.push(c);
    model.enableCaching(c);
    const redisKey = PREFIX + c.key(model, q);
    await raw.set(redisKey, JSON.stringify({ t: "x".repeat(10_000), f: { unified: "stop" } }), "PX", 60_000);
    expect(await model.generate(q)).toMatchObject({ text: "small answer", cached: false });
    expect(model.calls).toBe(1);
    expect(JSON.parse(await stored(redisKey.slice(PREFIX.length)))).toMatchObject({ t: "small answer" });
  });

  it("a good entry written by another process is served as it is", async () => {
    const { model, redisKey } = setup("good");
    const entry = {
      t: "stored",
      f: { unified: "tool-calls", raw: "tool_calls" },
      tc: [{ id: "c1", name: "lookup", arguments: { q: "x" } }],
      u: { inputTokens: 3, outputTokens: 1 },
      c: 0.5,
      w: ["w"],
      ch: ["sto", "red", { id: "c1", name: "lookup", arguments: { q: "x" } }],
      r: [{ type: "reasoning", text: "hm", signature: "s" }],
    };
    await raw.set(redisKey, JSON.stringify(entry), "PX", 60_000);
    expect(await model.generate(q)).toMatchObject({
      text: "stored",
      cached: true,
      toolCalls: entry.tc,
      usage: entry.u,
      costUsd: 0,
      warnings: ["w"],
      reasoning: entry.r,
    });
    const chunks = await collect(model.stream(q));
    expect(chunks.slice(0, 4)).toEqual([
      { type: "reasoning", text: "hm", signature: "s" },
      { type: "text", text: "sto" },
      { type: "text", text: "red" },
      { type: "tool-call", toolCall: entry.tc[0] },
    ]);
    expect(model.calls).toBe(0);
  });
});
