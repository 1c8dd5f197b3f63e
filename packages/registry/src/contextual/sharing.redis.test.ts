import { fileURLToPath } from "node:url";
import { RedisStatsStore } from "@orchestrator-ts/redis";
import { type RedisServerHandle, runFixture, startRedisServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContextualSelector } from "./contextual-selector";
import { HashedNgramExtractor } from "./features";

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

type WorkerReport = { kind: string; alone: Record<string, string[]>; shared: Record<string, string[]> };

async function worker(key: string, kind: string): Promise<WorkerReport> {
  const [report] = await runFixture(
    fileURLToPath(new URL("../../test/fixtures/contextual-worker.ts", import.meta.url)),
    [redis.url, key, kind],
    { timeoutMs: 50_000 },
  );
  if (!report) throw new Error(`worker ${kind} printed no report`);
  return report as WorkerReport;
}

describe("ContextualSelector.share through RedisStatsStore", () => {
  it("two processes each learn one kind of request and both end routing both kinds right", async () => {
    const key = "ctx-share";
    const [cook, code] = await Promise.all([worker(key, "cooking"), worker(key, "code")]);
    // Alone, each got the other kind wrong…
    expect(cook.alone.code).toEqual(["model-a", "model-a", "model-a"]);
    expect(code.alone.cooking).toEqual(["model-b", "model-b", "model-b"]);
    // …through Redis, each routes both right.
    for (const w of [cook, code]) {
      expect(w.shared.cooking).toEqual(["model-a", "model-a", "model-a"]);
      expect(w.shared.code).toEqual(["model-b", "model-b", "model-b"]);
    }
    // A third process joining later starts from both contributions.
    const store = new RedisStatsStore({ url: redis.url, key });
    const late = new ContextualSelector({
      exploration: "greedy",
      extractor: new HashedNgramExtractor({ dimensions: 1024 }),
    });
    const share = await late.share(store, { participant: "late", intervalMs: 0 });
    expect(late.choose(late.features("recipe for bread dough"), ["model-a", "model-b"]).index).toBe(0);
    expect(late.choose(late.features("why does my regex not match"), ["model-a", "model-b"]).index).toBe(1);
    expect(late.predictedCost("model-a", undefined)).toBeCloseTo(0.002, 9);
    await share.close();
    await store.close();
  }, 60_000);

  it("answers undefined (keep what you have) when Redis cannot be reached", async () => {
    const store = new RedisStatsStore({ url: "redis://127.0.0.1:1", key: "nowhere" });
    expect(await store.exchangeState("contextual", "p", "{}")).toBeUndefined();
    await store.close();
  });
});
