import {
  AbortError,
  type CacheBackend,
  ConfigError,
  ProviderError,
  type StreamChunk,
  TimeoutError,
} from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it, vi } from "vitest";
import { MemoryCacheBackend } from "./memory-backend";
import { ModelCache } from "./model-cache";
import type { CacheBypassEvent } from "./types";

async function collect(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

function counting(name = "m", extra: Partial<ConstructorParameters<typeof FakeModel>[0]> = {}): FakeModel {
  let n = 0;
  return new FakeModel({ name, response: () => `answer ${++n}`, ...extra });
}

describe("ModelCache with a model", () => {
  it("answers the seed's identical requests once", async () => {
    const model = counting();
    const cache = new ModelCache({ ttlMs: 3_600_000, maxSize: 10_000 });
    model.enableCaching(cache);
    const r1 = await model.generateResponse("What is AI?");
    const r2 = await model.generateResponse("What is AI?");
    expect(r2).toBe(r1);
    expect(model.calls).toBe(1);
    const r3 = await model.generate({ messages: [{ role: "user", content: "What is AI?" }] });
    expect(r3.cached).toBe(true);
    expect(r3.costUsd).toBe(0);
    expect(r3.model).toBe("m");
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, size: 1, inFlight: 0 });
  });

  it("keeps different requests and different models apart", async () => {
    const a = counting("a");
    const b = counting("b");
    const cache = new ModelCache();
    a.enableCaching(cache);
    b.enableCaching(cache);
    await a.generateResponse("x");
    await a.generateResponse("x", { temperature: 1 });
    await b.generateResponse("x");
    expect([a.calls, b.calls]).toEqual([2, 1]);
  });

  it("never caches an error", async () => {
    const model = counting("m", { script: [{ fail: "server-error" }] });
    model.enableCaching(new ModelCache());
    await expect(model.generateResponse("q")).rejects.toBeInstanceOf(ProviderError);
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(model.calls).toBe(2);
  });

  it("bypasses with cache: false and overwrites with cache: 'refresh'", async () => {
    const model = counting();
    const cache = new ModelCache();
    const bypasses: CacheBypassEvent[] = [];
    cache.on("bypass", (e) => bypasses.push(e));
    model.enableCaching(cache);
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(await model.generateResponse("q", { cache: false })).toBe("answer 2");
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(await model.generateResponse("q", { cache: "refresh" })).toBe("answer 3");
    expect(await model.generateResponse("q")).toBe("answer 3");
    expect(model.calls).toBe(3);
    // The Model base class skips the cache itself for `cache: false`; a direct call is counted.
    await cache.generate(model, { messages: [{ role: "user", content: "q" }], cache: false }, () =>
      model.generate({ messages: [], cache: false }),
    );
    expect(bypasses.map((b) => b.reason)).toEqual(["request"]);
  });

  it("expires entries after ttlMs", async () => {
    const model = counting();
    model.enableCaching(new ModelCache({ ttlMs: 30 }));
    await model.generateResponse("q");
    await new Promise((r) => setTimeout(r, 40));
    expect(await model.generateResponse("q")).toBe("answer 2");
  });
});

describe("streams", () => {
  it("stores a completed stream and replays it as the same chunks, marked cached", async () => {
    const model = new FakeModel({ name: "s", response: "one two three", chunkDelayMs: 1 });
    model.enableCaching(new ModelCache());
    const first = await collect(model.stream({ messages: [{ role: "user", content: "q" }] }));
    const second = await collect(model.stream({ messages: [{ role: "user", content: "q" }] }));
    expect(model.calls).toBe(1);
    const texts = (cs: StreamChunk[]) => cs.flatMap((c) => (c.type === "text" ? [c.text] : []));
    expect(texts(second)).toEqual(texts(first));
    expect(texts(second)).toEqual(["one", " two", " three"]);
    const finish = second.at(-1);
    expect(finish).toMatchObject({ type: "finish", cached: true, model: "s", finishReason: { unified: "stop" } });
    expect(first.at(-1)).toMatchObject({ type: "finish", cached: false });
    // The same entry answers a plain generate.
    const result = await model.generate({ messages: [{ role: "user", content: "q" }] });
    expect([result.text, result.cached, model.calls]).toEqual(["one two three", true, 1]);
  });

  it("replays a generate entry as a stream", async () => {
    const model = counting();
    model.enableCaching(new ModelCache());
    await model.generateResponse("q");
    const parts: string[] = [];
    for await (const t of model.streamResponse("q")) parts.push(t);
    expect(parts.join("")).toBe("answer 1");
    expect(model.calls).toBe(1);
  });

  it("does not store a stream that failed midway or that the consumer left", async () => {
    const failing = new FakeModel({ name: "f", response: "a b c d", failStreamAfterChunks: 2 });
    failing.enableCaching(new ModelCache());
    await expect(collect(failing.stream({ messages: [{ role: "user", content: "q" }] }))).rejects.toBeInstanceOf(
      ProviderError,
    );
    await expect(collect(failing.stream({ messages: [{ role: "user", content: "q" }] }))).rejects.toBeInstanceOf(
      ProviderError,
    );
    expect(failing.calls).toBe(2);

    const model = new FakeModel({ name: "g", response: "a b c d" });
    const cache = new ModelCache();
    model.enableCaching(cache);
    for await (const c of model.stream({ messages: [{ role: "user", content: "q" }] })) {
      if (c.type === "text") break;
    }
    await new Promise((r) => setTimeout(r, 5));
    expect(cache.stats().size).toBe(0);
    await collect(model.stream({ messages: [{ role: "user", content: "q" }] }));
    expect(model.calls).toBe(2);
  });
});

describe("the entry bound (maxEntryBytes)", () => {
  const req = { messages: [{ role: "user" as const, content: "q" }] };
  const long = Array.from({ length: 2_000 }, (_, i) => `word${i}`).join(" ");

  it("passes a stream longer than the bound through unchanged, stores nothing, and asks the model again next time", async () => {
    const plain = new FakeModel({ name: "s", response: long });
    const model = new FakeModel({ name: "s", response: long });
    const cache = new ModelCache({ maxEntryBytes: 8_192 });
    model.enableCaching(cache);
    const expected = await collect(plain.stream(req));
    const got = await collect(model.stream(req));
    const texts = (cs: StreamChunk[]) => cs.flatMap((c) => (c.type === "text" ? [c.text] : []));
    expect(texts(got)).toEqual(texts(expected));
    expect(texts(got).join("")).toBe(long);
    expect(got.at(-1)).toMatchObject({ type: "finish", cached: false, finishReason: { unified: "stop" } });
    await new Promise((r) => setTimeout(r, 5));
    expect(cache.stats()).toMatchObject({ oversized: 1, size: 0, errors: 0 });
    await collect(model.stream(req));
    expect(model.calls).toBe(2);
  });

  it("returns a generate answer longer than the bound without storing it; a short one is stored", async () => {
    const model = new FakeModel({ name: "g", response: (r) => (r.messages[0]?.content === "long" ? long : "short") });
    const cache = new ModelCache({ maxEntryBytes: 8_192 });
    model.enableCaching(cache);
    expect((await model.generateResponse("long")).length).toBe(long.length);
    expect(await model.generate({ messages: [{ role: "user", content: "long" }] })).toMatchObject({ cached: false });
    expect(await model.generateResponse("short")).toBe("short");
    await new Promise((r) => setTimeout(r, 5));
    expect(await model.generate({ messages: [{ role: "user", content: "short" }] })).toMatchObject({ cached: true });
    expect(cache.stats()).toMatchObject({ oversized: 2, size: 1 });
  });

  it("a stream with a tool call counts the call's arguments towards the bound", async () => {
    const args = { blob: "x".repeat(10_000) };
    const model = new FakeModel({ name: "t", response: "" });
    const cache = new ModelCache({ maxEntryBytes: 8_192 });
    model.enableCaching(cache);
    const tooLarge = async function* (): AsyncIterable<StreamChunk> {
      yield { type: "tool-call", toolCall: { id: "1", name: "save", arguments: args } };
      yield { type: "finish", finishReason: { unified: "tool-calls" } };
    };
    const got = await collect(cache.stream(model, req, tooLarge));
    expect(got[0]).toEqual({ type: "tool-call", toolCall: { id: "1", name: "save", arguments: args } });
    await new Promise((r) => setTimeout(r, 5));
    expect(cache.stats()).toMatchObject({ oversized: 1, size: 0 });
  });

  it("is at most the memory backend's maxBytes, and must be positive", () => {
    expect(new ModelCache().maxEntryBytes).toBe(4 * 1024 * 1024);
    expect(new ModelCache({ maxBytes: 10_000 }).maxEntryBytes).toBe(10_000);
    expect(new ModelCache({ maxBytes: 10_000, maxEntryBytes: 2_000 }).maxEntryBytes).toBe(2_000);
    expect(() => new ModelCache({ maxEntryBytes: 0 })).toThrow(ConfigError);
    expect(() => new ModelCache({ maxEntryBytes: Number.NaN })).toThrow(ConfigError);
  });
});

describe("single-flight", () => {
  it("makes one provider call for N concurrent identical requests", async () => {
    const model = counting("m", { latencyMs: 30 });
    const cache = new ModelCache();
    model.enableCaching(cache);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => model.generate({ messages: [{ role: "user", content: "q" }] })),
    );
    expect(model.calls).toBe(1);
    expect(new Set(results.map((r) => r.text))).toEqual(new Set(["answer 1"]));
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 19, inFlight: 0 });
  });

  it("gives every waiter the same typed error, and caches nothing", async () => {
    const model = counting("m", { latencyMs: 20, script: [{ fail: "rate-limit", retryAfterMs: 1000 }] });
    model.enableCaching(new ModelCache());
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => model.generateResponse("q")));
    expect(model.calls).toBe(1);
    for (const s of settled) {
      expect(s.status).toBe("rejected");
      expect((s as PromiseRejectedResult).reason).toMatchObject({ code: "rate_limit_error", retryAfterMs: 1000 });
    }
    expect(await model.generateResponse("q")).toBe("answer 1");
  });

  it("a waiter that aborts leaves alone; the others still get the answer", async () => {
    const model = counting("m", { latencyMs: 40 });
    model.enableCaching(new ModelCache());
    const req = { messages: [{ role: "user" as const, content: "q" }] };
    const leader = model.generate(req);
    const quitter = new AbortController();
    const leaving = model.generate({ ...req, signal: quitter.signal });
    const staying = model.generate(req);
    setTimeout(() => quitter.abort(), 5);
    await expect(leaving).rejects.toSatisfy((e) => AbortError.isInstance(e));
    expect((await leader).text).toBe("answer 1");
    expect((await staying).text).toBe("answer 1");
    expect(model.calls).toBe(1);
  });

  it("a waiter with a deadline of its own (timeoutMs) gives up at it, as an uncached call would; the others still get the answer", async () => {
    const model = counting("m", { latencyMs: 600 });
    model.enableCaching(new ModelCache());
    const req = { messages: [{ role: "user" as const, content: "q" }] };
    const leader = model.generate(req);
    const started = performance.now();
    const hurried = model.generate({ ...req, timeoutMs: 100 }).catch((e: unknown) => e);
    const staying = model.generate(req);
    const error = await hurried;
    expect(TimeoutError.isInstance(error), String(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    // Before, it waited out the leader's 600 ms.
    expect(performance.now() - started).toBeLessThan(450);
    expect((await leader).text).toBe("answer 1");
    expect((await staying).text).toBe("answer 1");
    expect(model.calls).toBe(1);
  });

  it("when the leader aborts, waiters are answered by a new call of their own", async () => {
    const model = counting("m", { latencyMs: 40 });
    model.enableCaching(new ModelCache());
    const req = { messages: [{ role: "user" as const, content: "q" }] };
    const abort = new AbortController();
    const leader = model.generate({ ...req, signal: abort.signal });
    const waiters = [model.generate(req), model.generate(req)];
    setTimeout(() => abort.abort(), 5);
    await expect(leader).rejects.toSatisfy((e) => AbortError.isInstance(e));
    const texts = (await Promise.all(waiters)).map((r) => r.text);
    // The aborted call never produced an answer: the waiters' own call did.
    expect(texts).toEqual(["answer 1", "answer 1"]);
    expect(model.calls).toBe(2);
  });
});

/** A memory backend behind an asynchronous interface with a delay: the path a Redis lookup takes. */
function slowBackend(delayMs: number, extra: Partial<CacheBackend> = {}): CacheBackend & { gets: number } {
  const inner = new MemoryCacheBackend();
  const wait = () => new Promise((r) => setTimeout(r, delayMs));
  const backend = {
    gets: 0,
    async get(key: string) {
      backend.gets++;
      await wait();
      return inner.get(key);
    },
    async set(key: string, value: string, ttlMs?: number) {
      await wait();
      await inner.set(key, value, ttlMs);
    },
    delete: (key: string) => inner.delete(key),
    clear: () => inner.clear(),
    ...extra,
  };
  return backend;
}

describe("single-flight with an asynchronous backend", () => {
  it("N concurrent identical requests make one provider call (their lookups miss and join it); later ones are hits", async () => {
    const model = counting("m", { latencyMs: 20 });
    const backend = slowBackend(10);
    const cache = new ModelCache({ backend });
    model.enableCaching(cache);
    const req = { messages: [{ role: "user" as const, content: "q" }] };
    const results = await Promise.all(Array.from({ length: 20 }, () => model.generate(req)));
    expect(model.calls).toBe(1);
    // Each looked up (a hit costs no flight); the first miss leads, the other 19 join it.
    expect(backend.gets).toBe(20);
    expect(new Set(results.map((r) => r.text))).toEqual(new Set(["answer 1"]));
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 19, hits: 0 });
    // Requests arriving while the provider call runs join it without a lookup.
    const late = await model.generate(req);
    expect([late.text, backend.gets, model.calls]).toEqual(["answer 1", 20, 1]);
    // Wait for the write, then a burst that finds the entry: every caller a hit.
    await new Promise((r) => setTimeout(r, 30));
    expect(cache.stats().inFlight).toBe(0);
    const hits = await Promise.all(Array.from({ length: 10 }, () => model.generate(req)));
    expect(hits.every((r) => r.cached && r.text === "answer 1")).toBe(true);
    expect(backend.gets).toBe(30);
    expect(model.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 10, coalesced: 20, inFlight: 0 });
    // Every caller gets its own result object.
    expect(new Set(hits).size).toBe(10);
  });

  it("arms no timer per lookup: a backend that bounds its own operations needs none, the others' deadlines share one", async () => {
    const req = { messages: [{ role: "user" as const, content: "q" }] };
    const timersPerHit = async (backend: CacheBackend): Promise<number> => {
      const model = counting();
      model.enableCaching(new ModelCache({ backend, lookupTimeoutMs: 500 }));
      await model.generate(req);
      await new Promise((r) => setTimeout(r, 5));
      const spy = vi.spyOn(globalThis, "setTimeout");
      try {
        for (let i = 0; i < 10; i++) expect((await model.generate(req)).cached).toBe(true);
        return spy.mock.calls.length / 10;
      } finally {
        spy.mockRestore();
      }
    };
    const memory = new MemoryCacheBackend();
    const asyncOnly = (operationTimeoutMs?: number): CacheBackend => ({
      ...(operationTimeoutMs === undefined ? {} : { operationTimeoutMs }),
      get: (k) => memory.get(k),
      set: (k, v, t) => memory.set(k, v, t),
      delete: (k) => memory.delete(k),
      clear: () => memory.clear(),
    });
    expect(await timersPerHit(asyncOnly(250))).toBe(0);
    await memory.clear();
    // Bounded by the cache (the tests below check that they are), on the timer already armed.
    expect(await timersPerHit(asyncOnly())).toBe(0);
    await memory.clear();
    // A bound longer than the cache's own deadline does not count: the cache bounds it too.
    expect(await timersPerHit(asyncOnly(5_000))).toBe(0);
  });
});

describe("a failing backend never fails a call", () => {
  const broken: CacheBackend = {
    get: () => Promise.reject(new Error("ECONNREFUSED")),
    set: () => Promise.reject(new Error("ECONNREFUSED")),
    delete: () => Promise.resolve(),
    clear: () => Promise.resolve(),
  };
  const stuck: CacheBackend = {
    get: () => new Promise(() => undefined),
    set: () => new Promise(() => undefined),
    delete: () => Promise.resolve(),
    clear: () => Promise.resolve(),
  };

  it("goes to the provider and reports the bypass when the backend throws", async () => {
    const model = counting();
    const cache = new ModelCache({ backend: broken });
    const events: string[] = [];
    cache.on("bypass", (e) => events.push(`bypass:${e.reason}`));
    cache.on("error", (e) => events.push(`error:${e.operation}`));
    model.enableCaching(cache);
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(await model.generateResponse("q")).toBe("answer 2");
    const streamed = await collect(model.stream({ messages: [{ role: "user", content: "q" }] }));
    expect(streamed.at(-1)).toMatchObject({ type: "finish", cached: false });
    expect(events).toContain("bypass:backend-error");
    expect(events).toContain("error:get");
    expect(cache.stats()).toMatchObject({ hits: 0, bypasses: 3 });
  });

  it("returns the answer when only writing fails", async () => {
    const model = counting();
    const cache = new ModelCache({ backend: { ...broken, get: () => Promise.resolve(undefined) } });
    const errors: string[] = [];
    cache.on("error", (e) => errors.push(e.operation));
    model.enableCaching(cache);
    expect(await model.generateResponse("q")).toBe("answer 1");
    await new Promise((r) => setTimeout(r, 5));
    expect(errors).toEqual(["set"]);
    expect(cache.stats().inFlight).toBe(0);
  });

  it("does not wait longer than lookupTimeoutMs for a backend that never answers", async () => {
    const model = counting();
    model.enableCaching(new ModelCache({ backend: stuck, lookupTimeoutMs: 50 }));
    const start = performance.now();
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(performance.now() - start).toBeLessThan(1_000);
  });

  it("bounds each lookup by its own cache's lookupTimeoutMs while lookups of other caches are in flight", async () => {
    // Every cache's lookups share one deadline list: a long bound must not hold up a short one.
    const slow = counting();
    const fast = counting();
    const slowCache = new ModelCache({ backend: stuck, lookupTimeoutMs: 1_500 });
    const fastCache = new ModelCache({ backend: stuck, lookupTimeoutMs: 60 });
    const bypassed: number[] = [];
    const start = performance.now();
    slowCache.on("bypass", () => bypassed.push(performance.now() - start));
    fastCache.on("bypass", () => bypassed.push(performance.now() - start));
    slow.enableCaching(slowCache);
    fast.enableCaching(fastCache);
    const answers = [slow.generateResponse("q"), fast.generateResponse("q"), fast.generateResponse("r")];
    await answers[1];
    await answers[2];
    expect(performance.now() - start).toBeLessThan(1_000);
    expect(bypassed).toHaveLength(2);
    expect(await answers[0]).toBe("answer 1");
    expect(performance.now() - start).toBeGreaterThanOrEqual(1_400);
    expect(bypassed).toHaveLength(3);
  });

  it("still bounds a backend whose declared operation timeout is longer than lookupTimeoutMs", async () => {
    const model = counting();
    model.enableCaching(new ModelCache({ backend: { ...stuck, operationTimeoutMs: 60_000 }, lookupTimeoutMs: 50 }));
    const start = performance.now();
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(performance.now() - start).toBeLessThan(1_000);
  });

  it("works without any error listener (an unlistened 'error' event would throw)", async () => {
    const model = counting();
    model.enableCaching(new ModelCache({ backend: broken }));
    expect(await model.generateResponse("q")).toBe("answer 1");
  });

  it("ignores a corrupt entry", async () => {
    const backend = new MemoryCacheBackend();
    const model = counting();
    const cache = new ModelCache({ backend });
    model.enableCaching(cache);
    await backend.set(cache.key(model, { messages: [{ role: "user", content: "q" }] }), "{not json");
    expect(await model.generateResponse("q")).toBe("answer 1");
    expect(cache.stats().errors).toBe(1);
  });

  it("deletes an entry of the right shape but with bad fields from a memory backend too (the synchronous hit path)", async () => {
    const backend = new MemoryCacheBackend();
    const model = counting();
    const cache = new ModelCache({ backend });
    model.enableCaching(cache);
    const req = { messages: [{ role: "user" as const, content: "q" }] };
    const key = cache.key(model, req);
    await backend.set(key, JSON.stringify({ t: "x", f: { unified: "stop" }, ch: 5 }));
    const streamed = await collect(model.stream(req));
    expect(streamed.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("")).toBe("answer 1");
    expect(streamed.at(-1)).toMatchObject({ type: "finish", cached: false });
    await backend.set(key, JSON.stringify({ t: "x", f: { unified: "stop" }, tc: "notarray" }));
    expect(await model.generate(req)).toMatchObject({ text: "answer 2", cached: false, toolCalls: [] });
    expect(await model.generate(req)).toMatchObject({ text: "answer 2", cached: true });
    expect(cache.stats().errors).toBe(2);
  });
});

describe('backend: "redis"', () => {
  it("says which package to install when @orchestrator-ts/redis is missing", async () => {
    const missing = Object.assign(new Error("Cannot find package '@orchestrator-ts/redis'"), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    const cache = new ModelCache({ backend: "redis" }, { importer: () => Promise.reject(missing) });
    const model = counting();
    model.enableCaching(cache);
    const error = await model.generateResponse("q").catch((e: unknown) => e);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(
      'backend "redis" needs the package @orchestrator-ts/redis: npm install @orchestrator-ts/redis ioredis',
    );
    expect(model.calls).toBe(0);
  });

  it("rejects an unknown backend name at construction", () => {
    expect(() => new ModelCache({ backend: "memcached" as "memory" })).toThrow(ConfigError);
  });
});

describe("cost of a hit", () => {
  it("a memory hit through model.generate costs a few microseconds", async () => {
    const model = counting();
    const cache = new ModelCache();
    model.enableCaching(cache);
    const req = {
      messages: [
        { role: "system" as const, content: "You are terse." },
        { role: "user" as const, content: "What is AI? ".repeat(20) },
      ],
      temperature: 0.2,
    };
    await model.generate(req);
    const n = 20_000;
    for (let i = 0; i < 2_000; i++) await model.generate(req);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) await model.generate(req);
    const wallUs = ((performance.now() - start) * 1000) / n;
    const used = process.cpuUsage(cpu);
    const cpuUs = (used.user + used.system) / n;
    console.log(
      `memory hit: ${wallUs.toFixed(2)} µs wall, ${cpuUs.toFixed(2)} µs CPU per call (key: sha256 of ~300 bytes)`,
    );
    expect(model.calls).toBe(1);
    expect(wallUs).toBeLessThan(100);
  });
});
