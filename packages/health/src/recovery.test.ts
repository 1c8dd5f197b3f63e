import { FakeModel } from "@orchestrator-ts/testing";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { ModelHealthMonitor } from "./index";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.parse("2025-01-01T12:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

/** What the registry does around every live call: report the outcome to the monitor. */
async function call(monitor: ModelHealthMonitor, model: FakeModel): Promise<void> {
  const started = Date.now();
  try {
    await model.generateResponse("ping");
    monitor.recordSuccess(model.name, Date.now() - started);
  } catch (error) {
    monitor.recordFailure(model.name, error);
  }
}

it("a model that goes down is excluded after failureThreshold, probed after the cooldown, and back after recovery", async () => {
  const model = new FakeModel({ name: "gpt-4", provider: "openai", healthCheckLatencyMs: 50 });
  const monitor = new ModelHealthMonitor({
    checkIntervalMs: 60_000,
    jitter: 0,
    cooldownMs: 30_000,
    failureThreshold: 3,
    recoveryThreshold: 2,
  });
  const transitions: string[] = [];
  monitor.on("change", (_name, health) => transitions.push(`${health.status}/${health.circuit}`));
  monitor.watch(model);
  monitor.start();
  await vi.advanceTimersByTimeAsync(50);
  expect(monitor.availability("gpt-4")).toEqual({ available: true, status: "healthy" });

  // The provider goes down: live calls fail with 500s, and so would its health endpoint.
  model.setHealthy(false);
  model.enqueue({ fail: "server-error" }, { fail: "server-error" }, { fail: "server-error" });
  await call(monitor, model);
  await call(monitor, model);
  expect(monitor.availability("gpt-4").available).toBe(true);
  await call(monitor, model);
  expect(monitor.availability("gpt-4")).toMatchObject({ available: false, status: "unhealthy" });
  expect(monitor.availability("gpt-4").reason).toContain(
    "3 consecutive failures: ProviderError 500: Internal server error (fake).",
  );

  // Cooldown over, still down: one probe fails and the circuit opens again.
  await vi.advanceTimersByTimeAsync(30_000);
  expect(monitor.circuit("gpt-4")).toBe("half-open");
  await vi.advanceTimersByTimeAsync(50);
  expect(monitor.circuit("gpt-4")).toBe("open");
  expect(monitor.availability("gpt-4").reason).toContain("health check reported the model unavailable");

  // It comes back: the next cooldown's probes close the circuit and selection may use it again.
  model.setHealthy(true);
  await vi.advanceTimersByTimeAsync(30_000);
  expect(monitor.availability("gpt-4")).toEqual({
    available: false,
    status: "unhealthy",
    reason: "circuit half-open: probing recovery (0 of 2 successes)",
  });
  await vi.advanceTimersByTimeAsync(50);
  expect(monitor.availability("gpt-4").reason).toBe("circuit half-open: probing recovery (1 of 2 successes)");
  await vi.advanceTimersByTimeAsync(50);
  expect(monitor.availability("gpt-4")).toEqual({ available: true, status: "healthy" });
  await call(monitor, model);
  expect((await monitor.getHealth("gpt-4")).issues).toEqual([]);

  expect(transitions).toEqual(["healthy/closed", "degraded/closed", "unhealthy/open", "healthy/closed"]);
  monitor.stop();
});

it("active checks alone notice an outage nobody is calling", async () => {
  const model = new FakeModel({ name: "llama", provider: "ollama" });
  const monitor = new ModelHealthMonitor({ checkIntervalMs: 10_000, jitter: 0 });
  monitor.watch(model);
  monitor.start();
  await vi.advanceTimersByTimeAsync(0);
  model.setHealthy(false);
  await vi.advanceTimersByTimeAsync(20_000);
  expect(monitor.availability("llama").status).toBe("degraded");
  await vi.advanceTimersByTimeAsync(10_000);
  expect(monitor.availability("llama")).toMatchObject({ available: false, status: "unhealthy" });
  expect((await monitor.getHealth("llama")).issues).toContain(
    "3 consecutive failures: health check reported the model unavailable",
  );
  monitor.stop();
});
