import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RedisStatsStore } from "@orchestrator/redis";
import { type RedisServerHandle, startRedisServer } from "@orchestrator/testing";
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

function worker(key: string, kind: string): Promise<{ kind: string; alone: Record<string, string[]>; shared: Record<string, string[]> }> {
  const file = fileURLToPath(new URL("../../test/fixtures/contextual-worker.ts", import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file, redis.url, key, kind], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || !line) return reject(new Error(`worker ${kind} exited with ${String(code)}: ${err.slice(-2000)}`));
      resolve(JSON.parse(line));
    });
  });
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
    const late = new ContextualSelector({ exploration: "greedy", extractor: new HashedNgramExtractor({ dimensions: 256 }) });
    const share = await late.share(store, { participant: "late", intervalMs: 0 });
    expect(late.choose(late.features("recipe for bread dough"), ["model-a", "model-b"]).index).toBe(0);
    expect(late.choose(late.features("why does my regex not match"), ["model-a", "model-b"]).index).toBe(1);
    expect(late.predictedCost("model-a", undefined)).toBeCloseTo(0.002, 9);
    await share.close();
    await store.close();
  }, 30_000);

  it("answers undefined (keep what you have) when Redis cannot be reached", async () => {
    const store = new RedisStatsStore({ url: "redis://127.0.0.1:1", key: "nowhere" });
    expect(await store.exchangeState("contextual", "p", "{}")).toBeUndefined();
    await store.close();
  });
});
