import { NoEligibleModelError, ProviderError } from "@orchestrator-ts/core";
import { ModelHealthMonitor } from "@orchestrator-ts/health";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CostBasedSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import { ask } from "./test-helpers";

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** "a" is the cheaper model, so the cost selector picks it whenever it is available. */
function models(a: OpenAIServer, b: OpenAIServer): [OpenAIModel, OpenAIModel] {
  return [
    new OpenAIModel({
      name: "a",
      model: "gpt-4o-mini",
      apiKey: "sk-a",
      baseURL: a.baseURL,
      capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 },
    }),
    new OpenAIModel({
      name: "b",
      model: "gpt-4o-mini",
      apiKey: "sk-b",
      baseURL: b.baseURL,
      capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 1e-6 },
    }),
  ];
}

/**
 * Issue #5 end to end: a `ModelHealthMonitor` in the registry, two `OpenAIModel`s on two loopback
 * servers, real timers. A server goes down, live failures open its circuit, traffic moves; it comes
 * back, the half-open probe (`GET /v1/models`) closes the circuit, traffic returns.
 */
describe("health monitor in the registry, over the wire", () => {
  let serverA: OpenAIServer;
  let serverB: OpenAIServer;
  let monitor: ModelHealthMonitor | undefined;
  beforeAll(async () => {
    [serverA, serverB] = await Promise.all([
      startOpenAIServer({ apiKey: "sk-a" }),
      startOpenAIServer({ apiKey: "sk-b" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([serverA.close(), serverB.close()]);
  });
  beforeEach(() => {
    for (const s of [serverA, serverB]) {
      s.setDown(false);
      s.clearFaults();
      s.resetStats();
      s.requests.length = 0;
    }
  });
  afterEach(() => {
    monitor?.stop();
    monitor = undefined;
  });

  it("down → excluded after failureThreshold live failures (calls still resolve via B) → probed back → selected again", async () => {
    // The cooldown outlasts the four calls below even on a loaded machine: a probe inside it would change the reason asserted.
    monitor = new ModelHealthMonitor({
      checkIntervalMs: 5_000,
      failureThreshold: 3,
      recoveryThreshold: 2,
      cooldownMs: 3_000,
      // A first check on a loaded CI machine (the SDK loaded, the connection opened) can pass 1 s: a
      // timed-out check would count as a failure and start the model "degraded".
      timeoutMs: 4_000,
      jitter: 0,
    });
    const registry = new ModelRegistry({
      healthMonitor: monitor,
      modelSelector: new CostBasedSelector(),
      maxRetries: 1,
      maxFallbacks: 1,
      backoff: { initialMs: 1, maxMs: 5 },
    });
    const [a, b] = models(serverA, serverB);
    registry.registerModel(a);
    registry.registerModel(b);
    const events: string[] = [];
    registry.on("health", (e) => events.push(`${e.model}:${e.status}${e.available ? "" : " (excluded)"}`));
    monitor.start();
    await monitor.checkNow();
    expect(await registry.getModelHealth("a")).toMatchObject({ isHealthy: true, status: "healthy" });
    expect((await registry.generate(ask("before"))).model).toBe("a");

    // A goes down. Live calls fail on A, are retried, then fall back to B: every user call resolves.
    serverA.setDown(true);
    const downFrom = serverA.requests.length;
    const during: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await registry.generate(ask(`during ${i}`));
      expect(r.text).toBe(`Echo: during ${i}`);
      during.push(r.attempts.map((x) => `${x.model}${x.success ? "" : "✗"}`).join(" "));
    }
    // Retry, fall back; the third failure opens the circuit, so no second try on A; then B only.
    expect(during).toEqual(["a✗ a✗ b", "a✗ b", "b", "b"]);
    // Exactly failureThreshold live calls reached A while it was down.
    expect(serverA.requests.slice(downFrom).filter((r) => r.method === "POST").length).toBe(3);
    expect(monitor.circuit("a")).toBe("open");
    const explanation = registry.explainSelection();
    expect(explanation.model?.name).toBe("b");
    const excluded = explanation.excluded.find((x) => x.model === "a");
    expect(excluded?.code).toBe("unhealthy");
    expect(excluded?.reason).toMatch(
      /^unavailable \(unhealthy\): circuit open until \d\d:\d\d:\d\d(\.\d+)? UTC after 3 consecutive failures: .*503/,
    );
    const health = await registry.getModelHealth("a");
    expect(health.isHealthy).toBe(false);
    expect(health.issues.join("; ")).toMatch(/circuit open/);

    // A comes back. After the cooldown the monitor probes it with GET /v1/models and closes the circuit.
    const probesBefore = serverA.requests.length;
    serverA.setDown(false);
    await until(() => monitor?.circuit("a") === "closed", 10_000, "the circuit of a to close");
    const probes = serverA.requests.slice(probesBefore);
    expect(probes.filter((r) => r.method === "GET" && r.path === "/v1/models").length).toBeGreaterThanOrEqual(2);
    expect(probes.every((r) => r.method === "GET")).toBe(true); // no live traffic was used as a probe
    expect(registry.explainSelection().model?.name).toBe("a");
    const after = await registry.generate(ask("after"));
    expect(after.model).toBe("a");
    expect(after.attempts).toHaveLength(1);
    expect(events).toContain("a:unhealthy (excluded)");
    expect(events.at(-1)).toBe("a:healthy");
  }, 20_000);

  it("every eligible model unhealthy: NoEligibleModelError with each reason, or least-bad picks one", async () => {
    // A long cooldown keeps both circuits open for the whole test.
    monitor = new ModelHealthMonitor({ failureThreshold: 2, recoveryThreshold: 2, cooldownMs: 60_000 });
    const strict = new ModelRegistry({
      healthMonitor: monitor,
      modelSelector: new CostBasedSelector(),
      maxRetries: 0,
      maxFallbacks: 1,
      backoff: { initialMs: 1, maxMs: 5 },
    });
    const [a, b] = models(serverA, serverB);
    strict.registerModel(a);
    strict.registerModel(b);
    serverA.setDown(true);
    serverB.setDown(true);
    // Two calls fail on both models (the last typed error is thrown); that opens both circuits.
    for (let i = 0; i < 2; i++)
      await expect(strict.generate(ask(`x${i}`))).rejects.toSatisfy(
        (e: unknown) => ProviderError.isInstance(e) && e.status === 503,
      );
    expect([monitor.circuit("a"), monitor.circuit("b")]).toEqual(["open", "open"]);
    const requestsBefore = serverA.stats.requests + serverB.stats.requests;

    const error = await strict.generate(ask("y")).catch((e: unknown) => e);
    expect(NoEligibleModelError.isInstance(error)).toBe(true);
    const excluded = (error as NoEligibleModelError).excluded;
    expect(excluded.map((x) => `${x.model}:${x.code}`)).toEqual(["a:unhealthy", "b:unhealthy"]);
    for (const x of excluded) expect(x.reason).toMatch(/circuit open until .* after 2 consecutive failures/);
    expect((error as Error).message).toMatch(/a: unavailable \(unhealthy\).*; b: unavailable \(unhealthy\)/);
    expect(() => strict.selectModel()).toThrow(NoEligibleModelError);
    // Nothing was sent: excluded models are not called.
    expect(serverA.stats.requests + serverB.stats.requests).toBe(requestsBefore);

    // The providers are back but the circuits are still open: "least-bad" uses an unhealthy model anyway.
    serverA.setDown(false);
    serverB.setDown(false);
    const lenient = new ModelRegistry({
      healthMonitor: monitor,
      modelSelector: new CostBasedSelector(),
      unhealthyPolicy: "least-bad",
      maxRetries: 0,
      backoff: { initialMs: 1, maxMs: 5 },
    });
    lenient.registerModel(a);
    lenient.registerModel(b);
    const chosen = lenient.explainSelection();
    expect(chosen.model?.name).toBe("a");
    expect(chosen.candidates.map((c) => c.model)).toEqual(["a", "b"]);
    const r = await lenient.generate(ask("z"));
    expect([r.model, r.text]).toEqual(["a", "Echo: z"]);
    await expect(strict.generate(ask("still"))).rejects.toBeInstanceOf(NoEligibleModelError);
  }, 10_000);
});
