// An endless (or just very long) stream through a cache: recording stops at the entry bound and
// the stream passes through, so memory stays bounded and nothing is stored. Measured before the
// fix: an endless SSE stream grew the heap to 310 MB in 20 s and crashed the process. Each run is
// a real process with a 64 MB heap; the old recorder dies of "heap out of memory" in it.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const FIXTURE = fileURLToPath(new URL("../test/fixtures/long-stream.ts", import.meta.url));
const MB = 200;
const CHUNKS = Math.ceil((MB * 1024 * 1024) / 16_384);

interface Report {
  chunks: number;
  chars: number;
  last: string;
  finished: boolean;
  peakHeapMb: number;
  calls: number;
  stored: boolean;
  stats: { oversized: number; size: number | undefined; errors: number };
}

function run(mode: "endless" | "finite", redisUrl?: string): Report {
  const args = [
    "--max-old-space-size=64",
    "--import",
    "tsx",
    FIXTURE,
    mode,
    String(MB),
    ...(redisUrl ? [redisUrl] : []),
  ];
  const out = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 60_000 });
  // A crash (heap out of memory is SIGABRT) or an early exit is the failure this guards against.
  expect({ status: out.status, signal: out.signal, stderr: out.stderr.slice(-600) }).toMatchObject({
    status: 0,
    signal: null,
  });
  const line = out.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Report;
}

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe("a stream longer than the entry bound", () => {
  it("endless: every chunk reaches the consumer, memory stays bounded, nothing is recorded", () => {
    const report = run("endless");
    expect(report).toMatchObject({
      chunks: CHUNKS,
      chars: CHUNKS * 16_384,
      last: `${CHUNKS - 1} xxxxxx`,
      finished: false,
      calls: 1,
      stored: false,
    });
    expect(report.stats).toMatchObject({ oversized: 1, size: 0, errors: 0 });
    expect(report.peakHeapMb).toBeLessThan(64);
  }, 90_000);

  it("finite but huge: it completes, passes through whole, and is not stored (memory and Redis)", () => {
    for (const url of [undefined, redis.url]) {
      const report = run("finite", url);
      expect(report).toMatchObject({ chunks: CHUNKS, chars: CHUNKS * 16_384, finished: true, calls: 1, stored: false });
      expect(report.stats).toMatchObject({ oversized: 1, errors: 0 });
    }
  }, 120_000);
});
