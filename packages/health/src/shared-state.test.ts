import { type HealthStateStore, type HealthStatus, ProviderError, RateLimitError } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ModelHealthMonitor } from "./index";

/** What `@orchestrator-ts/redis` does across processes, in one process: last write wins, subscribers hear every write. */
class MemoryHealthStateStore implements HealthStateStore {
  readonly states = new Map<string, HealthStatus>();
  readonly #listeners = new Set<(name: string, status: HealthStatus) => void>();
  get(name: string): HealthStatus | undefined {
    return this.states.get(name);
  }
  set(name: string, status: HealthStatus): void {
    // A copy, as a status that went through Redis would be.
    const copy = structuredClone(status);
    this.states.set(name, copy);
    for (const listener of this.#listeners) listener(name, copy);
  }
  subscribe(listener: (name: string, status: HealthStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

const T0 = Date.parse("2025-01-01T12:00:00Z");

/** Two processes, each with its own monitor and its own client object for the same model. */
function twoProcesses(options: { cooldownMs?: number; checkIntervalMs?: number } = {}) {
  const store = new MemoryHealthStateStore();
  const modelA = new FakeModel({ name: "gpt-4", provider: "openai" });
  const modelB = new FakeModel({ name: "gpt-4", provider: "openai" });
  const a = new ModelHealthMonitor({ stateStore: store, jitter: 0, ...options });
  const b = new ModelHealthMonitor({ stateStore: store, jitter: 0, ...options });
  a.watch(modelA);
  b.watch(modelB);
  return { store, a, b, modelA, modelB };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("shared health state", () => {
  it("one process discovers a dead model; the other's availability respects it", async () => {
    const { a, b, modelB } = twoProcesses({ cooldownMs: 30_000 });
    for (let i = 0; i < 3; i++) a.recordFailure("gpt-4", new ProviderError("Bad gateway", { status: 502 }));
    expect(a.availability("gpt-4").available).toBe(false);

    const seenByB = b.availability("gpt-4");
    expect(seenByB.available).toBe(false);
    expect(seenByB.status).toBe("unhealthy");
    expect(seenByB.reason).toBe(
      "circuit open until 12:00:30 UTC; 3 consecutive failures: ProviderError 502: Bad gateway (shared health state)",
    );
    expect(b.availability("gpt-4")).toBe(seenByB); // cached while the shared state is unchanged
    const health = await b.getHealth("gpt-4");
    expect(health.isHealthy).toBe(false);
    expect(health.issues).toContain("3 consecutive failures: ProviderError 502: Bad gateway (shared health state)");

    // B does not probe a provider A already knows is dead.
    b.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(modelB.healthChecks).toBe(0);

    // B's own live successes (calls that were in flight) do not lift A's block.
    b.recordSuccess("gpt-4", 100);
    expect(b.availability("gpt-4").available).toBe(false);
    b.stop();
  });

  it("when the discovering process sees recovery, the other process routes to the model again", async () => {
    const { a, b } = twoProcesses({ cooldownMs: 30_000 });
    a.start();
    b.start();
    for (let i = 0; i < 3; i++) a.recordFailure("gpt-4", new ProviderError("Bad gateway", { status: 502 }));
    expect(b.availability("gpt-4").available).toBe(false);
    await vi.advanceTimersByTimeAsync(30_000); // A's cooldown ends; its probes succeed
    expect(a.circuit("gpt-4")).toBe("closed");
    expect(b.availability("gpt-4")).toMatchObject({ available: true });
    a.stop();
    b.stop();
  });

  it("a recovery published elsewhere closes this process's open circuit", () => {
    const { store, a, b } = twoProcesses({ cooldownMs: 30_000 });
    b.start();
    for (let i = 0; i < 3; i++) b.recordFailure("gpt-4", new ProviderError("Bad gateway", { status: 502 }));
    vi.advanceTimersByTime(1_000);
    expect(b.circuit("gpt-4")).toBe("open");
    store.set("gpt-4", {
      isHealthy: true,
      status: "healthy",
      issues: [],
      consecutiveFailures: 0,
      consecutiveSuccesses: 2,
      lastCheckedAt: Date.now(),
      latencyMs: 12,
    });
    expect(b.circuit("gpt-4")).toBe("closed");
    expect(b.availability("gpt-4").available).toBe(true);
    b.stop();
    a.stop();
  });

  it("a 429 seen by one process rests the model in the other too", () => {
    const { a, b } = twoProcesses();
    a.recordFailure("gpt-4", new RateLimitError("Rate limit reached", { retryAfterMs: 5_000 }));
    expect(b.availability("gpt-4")).toEqual({
      available: false,
      status: "unknown",
      reason: "rate limited until 12:00:05 UTC (shared health state)",
    });
    vi.advanceTimersByTime(5_000);
    expect(b.availability("gpt-4").available).toBe(true);
  });

  it("a process skips its check when another one checked recently", async () => {
    const { a, b, modelA, modelB } = twoProcesses({ checkIntervalMs: 60_000 });
    a.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(modelA.healthChecks).toBe(1);
    b.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(modelB.healthChecks).toBe(0);
    expect(await b.getHealth("gpt-4")).toMatchObject({ status: "healthy", lastCheckedAt: T0 });
    expect(modelB.healthChecks).toBe(0);
    a.stop();
    b.stop();
  });
});

it("a broken shared store does not break selection", () => {
  const broken: HealthStateStore = {
    get() {
      throw new Error("connection lost");
    },
    set() {
      throw new Error("connection lost");
    },
  };
  const monitor = new ModelHealthMonitor({ stateStore: broken });
  monitor.recordSuccess("m", 10);
  for (let i = 0; i < 3; i++) monitor.recordFailure("m", new ProviderError("Bad gateway", { status: 502 }));
  expect(monitor.availability("m")).toMatchObject({ available: false, status: "unhealthy" });
  expect(monitor.availability("other")).toEqual({ available: true, status: "unknown" });
});
