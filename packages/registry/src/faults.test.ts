import {
  AuthenticationError,
  OrchestratorError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  seededRandom,
} from "@orchestrator-ts/core";
import { FakeModel, type FakeOutcome } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./registry";
import { ask } from "./test-helpers";

/** A seeded plan of outcomes: mostly answers, and the failures a real provider produces. */
function plan(seed: number, length: number, failureRate: number): FakeOutcome[] {
  const random = seededRandom(seed);
  const out: FakeOutcome[] = [];
  for (let i = 0; i < length; i++) {
    const r = random();
    if (r >= failureRate) {
      out.push("ok");
      continue;
    }
    const kind = random();
    if (kind < 0.35)
      out.push({ fail: "rate-limit", retryAfterMs: 1 + Math.floor(random() * 4) }); // 429 with retry-after
    else if (kind < 0.65)
      out.push({ fail: "server-error" }); // 500
    else if (kind < 0.88)
      out.push({ fail: "drop" }); // connection dropped
    else if (kind < 0.93) out.push({ fail: "timeout" });
    else if (kind < 0.96)
      out.push({ fail: "auth" }); // not retried; another provider may accept
    else out.push({ fail: new ProviderError("Invalid request (fake 400).", { status: 400 }) }); // not retried, no fallback
  }
  return out;
}

describe("faults through registry.generate", () => {
  it("1,000 calls all settle: each resolves or rejects with a typed error, and the counts add up exactly", async () => {
    const registry = new ModelRegistry({ maxRetries: 2, maxFallbacks: 2, backoff: { initialMs: 1, maxMs: 5 } });
    const rates = [0.5, 0.4, 0.6, 0.3];
    const models = rates.map((rate, i) =>
      registry.registerModel(
        new FakeModel({
          name: `provider-${i}`,
          latencyMs: { min: 0, max: 3 },
          seed: 7 + i,
          script: plan(1000 + i, 6000, rate),
          streaming: false,
        }),
      ),
    );
    let attempts = 0;
    let succeeded = 0;
    registry.on("outcome", (e) => {
      attempts++;
      if (e.success) succeeded++;
    });

    const total = 1000;
    const settled: PromiseSettledResult<unknown>[] = new Array(total);
    let next = 0;
    // 25 calls in flight at a time, like a busy server.
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < total) {
          const i = next++;
          settled[i] = await registry.generate(ask(`call ${i}`)).then(
            (value) => ({ status: "fulfilled", value }) as const,
            (reason: unknown) => ({ status: "rejected", reason }) as const,
          );
        }
      }),
    );

    const resolved = settled.filter((s) => s.status === "fulfilled").length;
    const rejections = settled
      .filter((s): s is PromiseRejectedResult => s.status === "rejected")
      .map((s) => s.reason as unknown);
    const byType = { RateLimitError: 0, TimeoutError: 0, AuthenticationError: 0, ProviderError: 0 };
    for (const e of rejections) {
      if (RateLimitError.isInstance(e)) byType.RateLimitError++;
      else if (TimeoutError.isInstance(e)) byType.TimeoutError++;
      else if (AuthenticationError.isInstance(e)) byType.AuthenticationError++;
      else if (ProviderError.isInstance(e)) byType.ProviderError++;
    }
    // Every call settled, none untyped, and the per-type counts account for every rejection.
    expect(settled.filter(Boolean)).toHaveLength(total);
    expect(rejections.every((e) => OrchestratorError.isInstance(e))).toBe(true);
    expect(
      resolved + byType.RateLimitError + byType.TimeoutError + byType.AuthenticationError + byType.ProviderError,
    ).toBe(total);
    // Retry and fallback rescue most calls, but not all with these failure rates.
    expect(resolved).toBeGreaterThan(800);
    expect(rejections.length).toBeGreaterThan(0);
    // Every attempt reached a model and was recorded once: events, model calls and the stats store agree.
    expect(succeeded).toBe(resolved);
    expect(models.reduce((n, m) => n + m.calls, 0)).toBe(attempts);
    expect(registry.getStatistics().models.reduce((n, m) => n + m.trials, 0)).toBe(attempts);
    expect(registry.getStatistics().models.reduce((n, m) => n + m.successes, 0)).toBe(resolved);
    console.log(
      `faults: ${resolved} resolved, rejected ${JSON.stringify(byType)}; ${attempts} attempts for ${total} calls`,
    );
  }, 20_000);
});
