import { FakeModel } from "@orchestrator-ts/testing";
import { afterEach, expect, it, vi } from "vitest";
import { ModelHealthMonitor } from "./index";

afterEach(() => {
  vi.restoreAllMocks();
});

// The seed's "Model Health Monitoring" block in TypeScript. The seed asks the registry
// (`await registry.getModelHealth("gpt-4")`); until the registry is wired in, the monitor answers.
async function seedExample(model: FakeModel): Promise<void> {
  // Configure health monitoring
  const monitor = new ModelHealthMonitor({
    checkIntervalMs: 300_000, // 5 minutes
    failureThreshold: 3,
    recoveryThreshold: 2,
  });
  monitor.watch(model);

  // Check model health
  const healthStatus = await monitor.getHealth("gpt-4");
  if (!healthStatus.isHealthy) {
    console.log(`Model issues: ${healthStatus.issues}`);
  }
}

it("reports nothing for a healthy model", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  await seedExample(new FakeModel({ name: "gpt-4", provider: "openai" }));
  expect(log).not.toHaveBeenCalled();
});

it("prints the issues of a model that fails its checks", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  const model = new FakeModel({ name: "gpt-4", provider: "openai", healthy: false });
  const monitor = new ModelHealthMonitor({ checkIntervalMs: 300_000, failureThreshold: 3, recoveryThreshold: 2 });
  monitor.watch(model);
  for (let i = 0; i < 3; i++) await monitor.checkNow("gpt-4");
  const healthStatus = await monitor.getHealth("gpt-4");
  if (!healthStatus.isHealthy) console.log(`Model issues: ${healthStatus.issues}`);
  expect(log).toHaveBeenCalledTimes(1);
  expect(log.mock.calls[0]?.[0]).toMatch(
    /^Model issues: circuit open until \d\d:\d\d:\d\d UTC,3 consecutive failures: health check reported the model unavailable$/,
  );
  // The unchanged seed function: one failed check is "degraded" (still selectable) yet not healthy.
  await seedExample(new FakeModel({ name: "gpt-4", provider: "openai", healthy: false }));
  expect(log).toHaveBeenLastCalledWith("Model issues: health check reported the model unavailable");
});
