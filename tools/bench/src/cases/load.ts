// 1,000 concurrent calls under limits, and heap after 100,000 calls through the registry.
import { ModelRegistry } from "@orchestrator-ts/registry";
import { FakeModel } from "@orchestrator-ts/testing";
import type { CaseResult } from "../harness";

function heapMb(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

export async function loadCase(options: { calls: number }): Promise<CaseResult> {
  // Three models with concurrency limits well below the offered load: the registry must queue and spread.
  const registry = new ModelRegistry({ waitForCapacityMs: 60_000 });
  const models = [4, 8, 16].map(
    (limit, i) =>
      new FakeModel({
        name: `limited-${limit}`,
        latencyMs: { min: 1, max: 3 },
        seed: i + 1,
        constraints: { maxConcurrentRequests: limit, queueTimeoutMs: 60_000 },
      }),
  );
  for (const m of models) registry.registerModel(m);
  let peakInFlight = 0;
  const watch = setInterval(() => {
    for (const m of models) peakInFlight = Math.max(peakInFlight, m.rateLimiter.inFlight);
  }, 1);
  const t0 = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: 1_000 }, (_, i) => registry.generate({ messages: [{ role: "user", content: `q${i}` }] })),
  );
  const concurrentMs = performance.now() - t0;
  clearInterval(watch);
  const fulfilled = settled.filter((s) => s.status === "fulfilled").length;
  const overLimit = models.some((m) => m.rateLimiter.inFlight > 0);

  // Heap: 100,000 sequential calls with feedback; the registry keeps bounded state (LRU of selection ids, metric windows).
  const heap = new ModelRegistry();
  const fast = [1, 2, 3].map((i) => new FakeModel({ name: `fast-${i}`, seed: i }));
  for (const m of fast) heap.registerModel(m);
  for (let i = 0; i < 2_000; i++) await heap.generate({ messages: [{ role: "user", content: "warm" }] });
  const before = heapMb();
  const t1 = performance.now();
  for (let i = 0; i < options.calls; i++) {
    const r = await heap.generate({ messages: [{ role: "user", content: "hello" }], task: i % 2 ? "a" : "b" });
    if (i % 4 === 0) heap.recordFeedback(r.selectionId, { quality: 1 });
  }
  const heapCallsMs = performance.now() - t1;
  const after = heapMb();
  return {
    case: "load",
    date: new Date().toISOString(),
    node: process.version,
    notes:
      "1,000 concurrent registry.generate calls over 3 models limited to 4/8/16 concurrent; then 100,000 sequential calls and the heap growth (run with --expose-gc for exact numbers).",
    results: [],
    extra: {
      concurrent: {
        calls: 1_000,
        fulfilled,
        rejected: 1_000 - fulfilled,
        wallMs: concurrentMs,
        peakInFlightPerModel: peakInFlight,
        limits: [4, 8, 16],
        leftInFlight: overLimit,
      },
      heap: {
        calls: options.calls,
        heapBeforeMb: before,
        heapAfterMb: after,
        growthMb: after - before,
        usPerCall: (heapCallsMs * 1000) / options.calls,
        gcExposed: typeof globalThis.gc === "function",
      },
    },
  };
}
