import {
  AbortError,
  ConfigError,
  ContextLengthError,
  OrchestratorError,
  ProviderError,
  RateLimitError,
} from "@orchestrator-ts/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ModelHealthMonitor } from "./index";

const T0 = Date.parse("2025-01-01T12:00:00Z");
const serverError = () => new ProviderError("Internal server error", { status: 500 });

/** A model whose health check is whatever the test says, counting calls and overlap. */
function probe(name: string, check: () => Promise<boolean> = async () => true) {
  const stats = { calls: 0, active: 0, maxActive: 0 };
  return {
    stats,
    model: {
      name,
      provider: "test",
      async healthCheck() {
        stats.calls++;
        stats.active++;
        stats.maxActive = Math.max(stats.maxActive, stats.active);
        try {
          return await check();
        } finally {
          stats.active--;
        }
      },
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("circuit breaker from live calls", () => {
  it("stays available below failureThreshold and opens at it, saying why", async () => {
    const monitor = new ModelHealthMonitor({ failureThreshold: 3 });
    monitor.watch(probe("gpt-4").model);
    expect(monitor.availability("gpt-4")).toEqual({ available: true, status: "unknown" });

    monitor.recordFailure("gpt-4", serverError());
    monitor.recordFailure("gpt-4", serverError());
    expect(monitor.availability("gpt-4")).toEqual({
      available: true,
      status: "degraded",
      reason: "2 consecutive failures: ProviderError 500: Internal server error",
    });

    monitor.recordFailure("gpt-4", serverError());
    expect(monitor.availability("gpt-4")).toEqual({
      available: false,
      status: "unhealthy",
      reason: "circuit open until 12:00:30 UTC after 3 consecutive failures: ProviderError 500: Internal server error",
    });
    const health = await monitor.getHealth("gpt-4");
    expect(health).toMatchObject({
      isHealthy: false,
      status: "unhealthy",
      circuit: "open",
      consecutiveFailures: 3,
      cooldownUntil: T0 + 30_000,
    });
    expect(health.issues).toEqual([
      "circuit open until 12:00:30 UTC",
      "3 consecutive failures: ProviderError 500: Internal server error",
    ]);
  });

  it("a success in between resets the count", () => {
    const monitor = new ModelHealthMonitor({ failureThreshold: 3 });
    for (let i = 0; i < 10; i++) {
      monitor.recordFailure("m", serverError());
      monitor.recordFailure("m", serverError());
      monitor.recordSuccess("m", 50);
    }
    expect(monitor.availability("m").available).toBe(true);
    expect(monitor.circuit("m")).toBe("closed");
  });

  it("after the cooldown, probes with health checks and closes after recoveryThreshold successes", async () => {
    const { model, stats } = probe("m", async () => {
      await sleep(100);
      return true;
    });
    const monitor = new ModelHealthMonitor({ failureThreshold: 3, recoveryThreshold: 2, cooldownMs: 30_000 });
    monitor.watch(model);
    for (let i = 0; i < 3; i++) monitor.recordFailure("m", serverError());

    await vi.advanceTimersByTimeAsync(29_999);
    expect(monitor.availability("m").available).toBe(false);
    expect(monitor.circuit("m")).toBe("open");
    expect(stats.calls).toBe(0);

    await vi.advanceTimersByTimeAsync(1);
    // Half-open: still excluded while the probes run.
    expect(monitor.availability("m")).toEqual({
      available: false,
      status: "unhealthy",
      reason: "circuit half-open: probing recovery (0 of 2 successes)",
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(monitor.availability("m").reason).toBe("circuit half-open: probing recovery (1 of 2 successes)");
    await vi.advanceTimersByTimeAsync(100);
    expect(monitor.availability("m")).toEqual({ available: true, status: "healthy" });
    expect(monitor.circuit("m")).toBe("closed");
    expect(stats.calls).toBe(2);
  });

  it("a failed probe opens the circuit for another cooldown", async () => {
    let healthy = false;
    const { model, stats } = probe("m", async () => healthy);
    const monitor = new ModelHealthMonitor({ cooldownMs: 10_000 });
    monitor.watch(model);
    for (let i = 0; i < 3; i++) monitor.recordFailure("m", serverError());
    await vi.advanceTimersByTimeAsync(10_000);
    monitor.availability("m");
    await vi.advanceTimersByTimeAsync(0);
    expect(stats.calls).toBe(1);
    expect(monitor.availability("m").reason).toBe(
      "circuit open until 12:00:20 UTC after 4 consecutive failures: health check reported the model unavailable",
    );
    healthy = true;
    await vi.advanceTimersByTimeAsync(10_000);
    monitor.availability("m");
    await vi.advanceTimersByTimeAsync(0);
    expect(monitor.availability("m")).toEqual({ available: true, status: "healthy" });
  });

  it("a started monitor probes at the cooldown's end without any traffic", async () => {
    const { model, stats } = probe("m");
    const monitor = new ModelHealthMonitor({ cooldownMs: 30_000, checkIntervalMs: 3_600_000 });
    monitor.watch(model);
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(stats.calls).toBe(1); // the first check runs at start
    for (let i = 0; i < 3; i++) monitor.recordFailure("m", serverError());
    await vi.advanceTimersByTimeAsync(30_000);
    expect(stats.calls).toBe(3);
    expect(monitor.circuit("m")).toBe("closed");
    monitor.stop();
  });

  it("does not count caller faults (abort, context length, 400) against the model", () => {
    const monitor = new ModelHealthMonitor({ failureThreshold: 1 });
    monitor.recordFailure("m", new AbortError());
    monitor.recordFailure("m", new ContextLengthError("too long"));
    monitor.recordFailure("m", new ProviderError("bad request", { status: 400 }));
    // A request a wire format refused before it was sent (bad betas, a malformed part): the caller's too.
    monitor.recordFailure(
      "m",
      new (class InvalidRequest extends OrchestratorError {
        override readonly code = "invalid_request_error";
      })("betas: expected an array of beta names"),
    );
    expect(monitor.availability("m")).toEqual({ available: true, status: "unknown" });
  });
});

describe("rate limits", () => {
  it("a 429 rests the model for retryAfterMs without making it unhealthy", async () => {
    const monitor = new ModelHealthMonitor({ failureThreshold: 3 });
    monitor.recordSuccess("m", 100);
    for (let i = 0; i < 5; i++)
      monitor.recordFailure("m", new RateLimitError("Rate limit reached", { retryAfterMs: 5_000 }));
    expect(monitor.availability("m")).toEqual({
      available: false,
      status: "healthy",
      reason: "rate limited until 12:00:05 UTC",
    });
    const health = await monitor.getHealth("m");
    expect(health).toMatchObject({
      isHealthy: true,
      status: "healthy",
      circuit: "closed",
      consecutiveFailures: 0,
      cooldownUntil: T0 + 5_000,
    });
    expect(health.issues).toEqual(["rate limited until 12:00:05 UTC"]);

    vi.advanceTimersByTime(4_999);
    expect(monitor.availability("m").available).toBe(false);
    vi.advanceTimersByTime(1);
    expect(monitor.availability("m")).toEqual({ available: true, status: "healthy" });
  });

  it("a 429 without retry-after rests for rateLimitCooldownMs", () => {
    const monitor = new ModelHealthMonitor({ rateLimitCooldownMs: 2_000 });
    monitor.recordFailure("m", new RateLimitError("Rate limit reached"));
    expect(monitor.availability("m").reason).toBe("rate limited until 12:00:02 UTC");
  });
});

describe("degraded", () => {
  it("by p95 latency of recent calls", async () => {
    const monitor = new ModelHealthMonitor({ degradedLatencyMs: 2_000, minSamples: 5, windowSize: 20 });
    for (let i = 0; i < 4; i++) monitor.recordSuccess("m", 3_000);
    expect(monitor.availability("m").status).toBe("healthy"); // too few samples to judge
    monitor.recordSuccess("m", 3_000);
    expect(monitor.availability("m")).toEqual({
      available: true,
      status: "degraded",
      reason: "degraded: p95 latency above 2000 ms",
    });
    expect((await monitor.getHealth("m")).issues).toEqual([
      "p95 latency 3000 ms over the last 5 calls exceeds 2000 ms",
    ]);
    for (let i = 0; i < 20; i++) monitor.recordSuccess("m", 200);
    expect(monitor.availability("m")).toEqual({ available: true, status: "healthy" });
  });

  it("by a falling success rate", async () => {
    const monitor = new ModelHealthMonitor({ degradedSuccessRate: 0.8, failureThreshold: 3 });
    for (let i = 0; i < 6; i++) monitor.recordSuccess("m", 100);
    monitor.recordFailure("m", serverError());
    monitor.recordFailure("m", serverError());
    monitor.recordSuccess("m", 100);
    const health = await monitor.getHealth("m");
    expect(health).toMatchObject({ isHealthy: false, status: "degraded", consecutiveFailures: 0 });
    expect(health.successRate).toBeCloseTo(7 / 9);
    expect(health.issues).toEqual(["success rate 78% over the last 9 calls is below 80%"]);
    expect(monitor.availability("m")).toEqual({
      available: true,
      status: "degraded",
      reason: "degraded: success rate below 80%",
    });
  });
});

describe("active checks", () => {
  it("a hanging health check times out, counts as a failure, and no second call stacks on it", async () => {
    const { model, stats } = probe("hang", () => new Promise<boolean>(() => {}));
    const monitor = new ModelHealthMonitor({ timeoutMs: 1_000, failureThreshold: 2 });
    monitor.watch(model);
    const pending = monitor.checkNow("hang");
    await vi.advanceTimersByTimeAsync(1_000);
    const health = await pending;
    expect(health).toMatchObject({
      status: "degraded",
      consecutiveFailures: 1,
      latencyMs: 1_000,
      lastCheckedAt: T0 + 1_000,
    });
    expect(health.issues).toEqual(["health check timed out after 1000 ms"]);

    const again = await monitor.checkNow("hang");
    expect(stats.calls).toBe(1);
    expect(again.issues).toEqual([
      "circuit open until 12:00:31 UTC",
      "2 consecutive failures: health check still running (it timed out after 1000 ms)",
    ]);
  });

  it("a health check that throws is a failure with the error, secrets redacted", async () => {
    const monitor = new ModelHealthMonitor();
    monitor.watch({
      name: "m",
      provider: "test",
      healthCheck: () => Promise.reject(new Error("401 for key sk-proj-abcdefghijklmnopqrstuvwx")),
    });
    const health = await monitor.checkNow("m");
    expect(health.issues).toEqual(["health check failed: Error: 401 for key [REDACTED]"]);
    monitor.recordFailure("m", new Error("Bearer abcdefghijklmnopqrstuvwxyz123 rejected"));
    expect(JSON.stringify(await monitor.getHealth("m"))).not.toContain("abcdefghijklmnopqrstuvwxyz123");
  });

  it("never runs two checks of one model at once, even with a short interval and checkNow", async () => {
    const { model, stats } = probe("slow", async () => {
      await sleep(5_000);
      return true;
    });
    const monitor = new ModelHealthMonitor({ checkIntervalMs: 1_000, jitter: 0, timeoutMs: 60_000 });
    monitor.watch(model);
    monitor.start();
    const manual = [monitor.checkNow("slow"), monitor.checkNow("slow"), monitor.checkNow()];
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all(manual);
    monitor.stop();
    expect(stats.maxActive).toBe(1);
    // One check per 5 s + 1 s gap: the next is scheduled only after the last one ends.
    expect(stats.calls).toBe(4);
  });

  it("bounds concurrent checks across models", async () => {
    const models = Array.from({ length: 12 }, (_, i) =>
      probe(`m${i}`, async () => {
        await sleep(100);
        return true;
      }),
    );
    let active = 0;
    let maxActive = 0;
    const monitor = new ModelHealthMonitor({ concurrency: 3 });
    for (const { model } of models) {
      const check = model.healthCheck.bind(model);
      model.healthCheck = async () => {
        maxActive = Math.max(maxActive, ++active);
        try {
          return await check();
        } finally {
          active--;
        }
      };
      monitor.watch(model);
    }
    const all = monitor.checkNow();
    await vi.advanceTimersByTimeAsync(400);
    const results = await all;
    expect(maxActive).toBe(3);
    expect(results.map((r) => r.status)).toEqual(Array(12).fill("healthy"));
  });

  it("checks every watched model on the interval, with jitter, until stop()", async () => {
    const { model, stats } = probe("m");
    const monitor = new ModelHealthMonitor({ checkIntervalMs: 10_000, jitter: 0.5, random: () => 0 });
    monitor.watch(model);
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(stats.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000); // random 0 → the shortest interval: 10 000 × (1 − 0.5)
    expect(stats.calls).toBe(2);
    monitor.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stats.calls).toBe(2);
    expect(monitor.running).toBe(false);
  });

  it("unwatch stops checking a model", async () => {
    const { model, stats } = probe("m");
    const monitor = new ModelHealthMonitor({ checkIntervalMs: 1_000, jitter: 0 });
    monitor.watch(model);
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    monitor.unwatch("m");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.calls).toBe(1);
    expect(monitor.availability("m")).toEqual({ available: true, status: "unknown" });
    await expect(monitor.getHealth("m")).rejects.toMatchObject({ name: "ModelNotFoundError", code: "model_not_found" });
    monitor.stop();
  });

  it("getHealth of a model never checked nor called runs one check first", async () => {
    const { model, stats } = probe("gpt-4");
    const monitor = new ModelHealthMonitor();
    monitor.watch(model);
    const health = await monitor.getHealth("gpt-4");
    expect(health).toMatchObject({ isHealthy: true, status: "healthy", issues: [], lastCheckedAt: T0 });
    expect(stats.calls).toBe(1);
    await monitor.getHealth("gpt-4");
    expect(stats.calls).toBe(1);
  });
});

describe("API", () => {
  it("availability returns the same object until something changes (no allocation on the hot path)", () => {
    const monitor = new ModelHealthMonitor();
    monitor.recordSuccess("m", 10);
    const first = monitor.availability("m");
    for (let i = 0; i < 5; i++) monitor.recordSuccess("m", 10);
    expect(monitor.availability("m")).toBe(first);
    expect(monitor.availability("nobody")).toBe(monitor.availability("someone-else"));
    expect(Object.isFrozen(first)).toBe(true);
  });

  it("emits change on status or availability transitions only", async () => {
    const seen: string[] = [];
    const onChange = vi.fn();
    const monitor = new ModelHealthMonitor({ onChange, cooldownMs: 1_000 });
    monitor.watch(probe("m").model);
    const off = monitor.on("change", (name, health) =>
      seen.push(`${name}:${health.status}:${monitor.availability(name).available}`),
    );
    monitor.on("change", () => {
      throw new Error("a broken listener");
    });
    for (let i = 0; i < 3; i++) monitor.recordFailure("m", serverError());
    await vi.advanceTimersByTimeAsync(1_000);
    monitor.availability("m");
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(["m:degraded:true", "m:unhealthy:false", "m:healthy:true"]);
    expect(onChange).toHaveBeenCalledTimes(3);
    off();
    monitor.recordFailure("m", serverError());
    expect(seen).toHaveLength(3);
  });

  it("rejects invalid options with a ConfigError naming each one", () => {
    let error: unknown;
    try {
      new ModelHealthMonitor({ failureThreshold: 0, jitter: 2, timeoutMs: Number.NaN });
    } catch (e) {
      error = e;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(["failureThreshold", "timeoutMs", "jitter"]);
  });

  it("has the documented defaults", () => {
    expect(new ModelHealthMonitor().options).toMatchObject({
      checkIntervalMs: 300_000,
      failureThreshold: 3,
      recoveryThreshold: 2,
      timeoutMs: 10_000,
      concurrency: 4,
      jitter: 0.1,
      cooldownMs: 30_000,
      degradedSuccessRate: 0.8,
    });
  });
});
