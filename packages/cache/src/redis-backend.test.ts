import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { FakeModel } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { ModelCache } from "./model-cache";

// `backend: "redis"` loads the built @orchestrator-ts/redis (an optional peer) exactly as users get it.
let redis: RedisServerHandle;
const caches: ModelCache[] = [];

function cache(namespace: string): ModelCache {
  const c = new ModelCache({ backend: "redis", namespace, redis: { url: redis.url } });
  caches.push(c);
  return c;
}

function runWriter(namespace: string): { text: string; cached: boolean; calls: number } {
  const file = fileURLToPath(new URL("../test/fixtures/cache-writer.ts", import.meta.url));
  const out = spawnSync(process.execPath, ["--import", "tsx", file, redis.url, namespace], {
    encoding: "utf8",
    timeout: 15_000,
  });
  if (out.status !== 0) throw new Error(`writer failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}") as { text: string; cached: boolean; calls: number };
}

/** Calls per command on the server so far (INFO commandstats), without INFO itself. */
function commandCalls(url: string): Map<string, number> {
  const out = spawnSync("redis-cli", ["-u", url, "INFO", "commandstats"], { encoding: "utf8", timeout: 5_000 });
  if (out.status !== 0) throw new Error(`redis-cli failed: ${out.stderr}`);
  const calls = new Map<string, number>();
  for (const match of out.stdout.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    if (match[1] !== "info") calls.set(match[1] as string, Number(match[2]));
  return calls;
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  await redis?.stop();
});

describe('ModelCache with backend: "redis"', () => {
  it("an answer cached by one process is served to another", async () => {
    const first = runWriter("xp");
    expect(first).toMatchObject({ cached: false, calls: 1 });
    const second = runWriter("xp");
    expect(second).toMatchObject({ text: first.text, cached: true, calls: 0 });
    // And to this process, through its own connection.
    const model = new FakeModel({ name: "shared" });
    model.enableCaching(cache("xp"));
    const here = await model.generate({ messages: [{ role: "user", content: "What is AI?" }] });
    expect([here.text, here.cached, model.calls]).toEqual([first.text, true, 0]);
  }, 20_000);

  it("killing Redis mid-run loses no request; hits resume once it is back", async () => {
    let n = 0;
    const model = new FakeModel({ name: "m", response: () => `answer ${++n}` });
    const c = cache("kill");
    const bypasses: string[] = [];
    c.on("bypass", (e) => bypasses.push(e.reason));
    model.enableCaching(c);
    const ask = (i: number) => model.generate({ messages: [{ role: "user", content: `q${i % 5}` }] });
    for (let i = 0; i < 10; i++) await ask(i);
    expect(model.calls).toBe(5);

    await redis.kill();
    const start = performance.now();
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(i)));
    expect(during).toHaveLength(20);
    expect(during.every((r) => r.text.startsWith("answer "))).toBe(true);
    // No entry could be read: the provider answered, once per distinct question (single-flight still holds).
    expect(model.calls).toBe(10);
    expect(performance.now() - start).toBeLessThan(2_000);
    expect(bypasses.filter((b) => b === "backend-error").length).toBeGreaterThan(0);

    await redis.restart();
    const deadline = Date.now() + 5_000;
    let hit = false;
    while (!hit && Date.now() < deadline) {
      await ask(0);
      hit = (await ask(0)).cached;
      if (!hit) await new Promise((r) => setTimeout(r, 50));
    }
    expect(hit).toBe(true);
  }, 20_000);

  it("a stalled Redis (every client paused) delays a call by the command timeout at most, then the provider answers", async () => {
    let n = 0;
    const model = new FakeModel({ name: "stall", response: () => `answer ${++n}` });
    const c = cache("stall");
    model.enableCaching(c);
    const req = { messages: [{ role: "user" as const, content: "q" }] };
    await model.generate(req);
    await new Promise((r) => setTimeout(r, 50));
    expect((await model.generate(req)).cached).toBe(true);
    // ModelCache arms no timer of its own here: the backend's watchdog (250 ms + one 63 ms tick) is the bound.
    expect((await c.backend()).operationTimeoutMs).toBe(313);
    const probe = (await cache("stall-probe").backend()) as unknown as {
      connection: { client: { call(...args: string[]): Promise<unknown> } };
    };
    await probe.connection.client.call("CLIENT", "PAUSE", "1500", "ALL");
    const start = performance.now();
    const during = await model.generate(req);
    const tookMs = performance.now() - start;
    expect([during.text, during.cached]).toEqual(["answer 2", false]);
    expect(tookMs).toBeGreaterThanOrEqual(240);
    expect(tookMs).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 1_600));
  }, 10_000);

  it("a Redis hit costs one round trip", async () => {
    const model = new FakeModel({ name: "timed" });
    model.enableCaching(cache("timed"));
    const req = { messages: [{ role: "user" as const, content: "What is AI?" }] };
    await model.generate(req);
    // Until the write is acknowledged, identical requests share the finished flight (no round trip).
    await new Promise((r) => setTimeout(r, 50));
    const before = commandCalls(redis.url);
    const times: number[] = [];
    for (let i = 0; i < 500; i++) {
      const start = performance.now();
      const r = await model.generate(req);
      times.push(performance.now() - start);
      expect(r.cached).toBe(true);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1] ?? 0;
    console.log(
      `redis hit: median ${(median * 1000).toFixed(0)} µs, p99 ${((times[Math.floor(times.length * 0.99)] ?? 0) * 1000).toFixed(0)} µs (loopback)`,
    );
    expect(model.calls).toBe(1);
    expect(caches.at(-1)?.stats()).toMatchObject({ hits: 500, coalesced: 0 });
    // One command per hit, counted by the server itself (INFO commandstats, its own INFO calls aside).
    const after = commandCalls(redis.url);
    const sent = [...after]
      .map(([name, calls]) => [name, calls - (before.get(name) ?? 0)] as const)
      .filter(([, n]) => n > 0);
    expect(
      sent.reduce((sum, [, n]) => sum + n, 0),
      JSON.stringify(sent),
    ).toBe(500);
    // A loose bound: a loopback round trip, not a timeout or a retry.
    expect(median).toBeLessThan(20);
  });
});
