import {
  AuthenticationError,
  OrchestratorError,
  ProviderError,
  RateLimitError,
  TimeoutError,
} from "@orchestrator-ts/core";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { type OpenAIServer, type ServerStats, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "./registry";
import { ask } from "./test-helpers";

/**
 * Issue #3's "done when", over the wire: 1,000 calls through `registry.generate`, three
 * `OpenAIModel`s on two loopback servers that answer 429 (with retry-after), 500 and dropped
 * connections at seeded random rates. Every call settles, every rejection is typed, and the
 * counts add up exactly: what the servers saw is what the registry recorded.
 */
describe("faults over the wire: OpenAIModel through the real SDK", () => {
  let primary: OpenAIServer;
  let secondary: OpenAIServer;
  beforeAll(async () => {
    [primary, secondary] = await Promise.all([
      startOpenAIServer({ apiKey: "sk-primary", models: ["gpt-4o-mini", "gpt-4o"] }),
      startOpenAIServer({ apiKey: "sk-secondary", models: ["gpt-4o-mini"] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([primary.close(), secondary.close()]);
  });

  it("1,000 calls all settle; resolved + rejected by type = 1,000 and server requests = recorded attempts", async () => {
    // retry-after: 0 keeps honouring it fast; the rates make some calls exhaust retries and fallbacks.
    primary.setFaultRates({ rateLimit: 0.2, serverError: 0.15, drop: 0.1, retryAfterSeconds: 0 }, 11);
    secondary.setFaultRates({ rateLimit: 0.15, serverError: 0.1, drop: 0.1, retryAfterSeconds: 0 }, 12);
    const registry = new ModelRegistry({ maxRetries: 1, maxFallbacks: 1, backoff: { initialMs: 1, maxMs: 5 } });
    const models = [
      registry.registerModel(
        new OpenAIModel({ name: "mini", model: "gpt-4o-mini", apiKey: "sk-primary", baseURL: primary.baseURL }),
      ),
      registry.registerModel(
        new OpenAIModel({ name: "4o", model: "gpt-4o", apiKey: "sk-primary", baseURL: primary.baseURL }),
      ),
      registry.registerModel(
        new OpenAIModel({ name: "backup", model: "gpt-4o-mini", apiKey: "sk-secondary", baseURL: secondary.baseURL }),
      ),
    ];
    let attempts = 0;
    let succeeded = 0;
    const attemptsByServer = { primary: 0, secondary: 0 };
    registry.on("outcome", (e) => {
      attempts++;
      if (e.success) succeeded++;
      if (e.model === "backup") attemptsByServer.secondary++;
      else attemptsByServer.primary++;
    });

    const total = 1000;
    const settled: PromiseSettledResult<string>[] = new Array(total);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < total) {
          const i = next++;
          settled[i] = await registry.generate(ask(`call ${i}`)).then(
            (r) => ({ status: "fulfilled", value: `${r.model}|${r.text}` }) as const,
            (reason: unknown) => ({ status: "rejected", reason }) as const,
          );
        }
      }),
    );
    const elapsedMs = performance.now() - started;

    const fulfilled = settled.filter((s): s is PromiseFulfilledResult<string> => s?.status === "fulfilled");
    const rejections = settled
      .filter((s): s is PromiseRejectedResult => s?.status === "rejected")
      .map((s) => s.reason as unknown);
    const byType = { RateLimitError: 0, TimeoutError: 0, AuthenticationError: 0, ProviderError: 0 };
    for (const e of rejections) {
      if (RateLimitError.isInstance(e)) byType.RateLimitError++;
      else if (TimeoutError.isInstance(e)) byType.TimeoutError++;
      else if (AuthenticationError.isInstance(e)) byType.AuthenticationError++;
      else if (ProviderError.isInstance(e)) byType.ProviderError++;
    }
    const stats: ServerStats[] = [primary.stats, secondary.stats];
    const sum = (f: (s: ServerStats) => number) => stats.reduce((n, s) => n + f(s), 0);

    // Every call settled and every rejection is one of the typed errors counted above.
    expect(fulfilled.length + rejections.length).toBe(total);
    expect(rejections.every((e) => OrchestratorError.isInstance(e))).toBe(true);
    expect(
      fulfilled.length +
        byType.RateLimitError +
        byType.TimeoutError +
        byType.AuthenticationError +
        byType.ProviderError,
    ).toBe(total);
    // Each answer is the echo of its own prompt, by the model that says it answered.
    expect(fulfilled.filter((f) => !/^(mini|4o|backup)\|Echo: call \d+$/.test(f.value))).toEqual([]);
    // Retry and fallback rescue most calls, not all at these rates; nothing was auth-related.
    expect(fulfilled.length).toBeGreaterThan(900);
    expect(rejections.length).toBeGreaterThan(0);
    expect(byType.AuthenticationError + byType.TimeoutError).toBe(0);

    // What the servers saw is what the registry recorded: one request per attempt, no hidden SDK retries.
    expect(sum((s) => s.requests)).toBe(attempts);
    expect(primary.stats.requests).toBe(attemptsByServer.primary);
    expect(secondary.stats.requests).toBe(attemptsByServer.secondary);
    expect(sum((s) => s.inferenceRequests)).toBe(attempts);
    // Each request was answered in full or got exactly one fault; full answers are the resolved calls.
    const faults = sum((s) => s.faults.status + s.faults.drop);
    expect(sum((s) => s.successes)).toBe(fulfilled.length);
    expect(sum((s) => s.successes) + faults).toBe(attempts);
    expect(succeeded).toBe(fulfilled.length);
    // The stats store and the models' own metrics agree too.
    const statistics = registry.getStatistics();
    expect(statistics.models.reduce((n, m) => n + m.trials, 0)).toBe(attempts);
    expect(statistics.models.reduce((n, m) => n + m.successes, 0)).toBe(fulfilled.length);
    expect(models.reduce((n, m) => n + m.metrics.requests, 0)).toBe(attempts);
    console.log(
      `wire faults: ${fulfilled.length} resolved, rejected ${JSON.stringify(byType)}; ${attempts} attempts ` +
        `(primary ${primary.stats.requests}: ${JSON.stringify({ status: primary.stats.faults.status, drop: primary.stats.faults.drop })}, ` +
        `secondary ${secondary.stats.requests}: ${JSON.stringify({ status: secondary.stats.faults.status, drop: secondary.stats.faults.drop })}) in ${Math.round(elapsedMs)} ms`,
    );
    await registry.cleanup();
  }, 20_000);
});

describe("secrets a server echoes, through the registry", () => {
  it("never show in the thrown error, outcome events, statistics or health: keys nobody registered included", async () => {
    const server = await startOpenAIServer({ apiKey: "sk-echo", models: ["gpt-4o-mini"] });
    try {
      const gatewayKey = "gw-live-5e8d1b7a90";
      const registry = new ModelRegistry({ maxRetries: 1, maxFallbacks: 0, backoff: { initialMs: 1, maxMs: 2 } });
      registry.registerModel(
        new OpenAIModel({
          name: "mini",
          model: "gpt-4o-mini",
          apiKey: "sk-echo",
          baseURL: server.baseURL,
          defaultHeaders: { "x-gateway-key": gatewayKey },
        }),
      );
      const secrets = [gatewayKey, "SiGnAtUrE0123", "0auth-c0de-77", "unregistered0bearer42"];
      const echo = `bad x-gateway-key ${gatewayKey} for https://blob.example/x?sv=1&sig=SiGnAtUrE0123 (redirect https://app.example/cb?code=0auth-c0de-77) Authorization: Bearer unregistered0bearer42`;
      server.enqueueFault({ type: "status", status: 503, message: echo });
      server.enqueueFault({ type: "status", status: 503, message: echo });
      const events: unknown[] = [];
      registry.on("outcome", (e) => events.push(e.error));
      const error = await registry.generate(ask("x")).catch((e: unknown) => e);
      expect(ProviderError.isInstance(error)).toBe(true);
      const health = await registry.getModelHealth("mini");
      expect(health.issues.some((issue) => issue.includes("sig=[REDACTED]"))).toBe(true);
      const views = [
        String((error as Error).message),
        JSON.stringify(error),
        JSON.stringify(events),
        JSON.stringify(registry.getStatistics()),
        JSON.stringify(health),
      ];
      for (const view of views) for (const secret of secrets) expect(view).not.toContain(secret);
      await registry.cleanup();
    } finally {
      await server.close();
    }
  });
});
