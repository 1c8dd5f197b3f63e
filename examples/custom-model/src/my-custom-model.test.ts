import { inspect } from "node:util";
import {
  AuthenticationError,
  ConfigError,
  ModelCapabilities,
  ProviderError,
  RateLimitError,
} from "@orchestrator-ts/core";
import type { LoopbackServer } from "@orchestrator-ts/testing";
import { describeModelConformance } from "@orchestrator-ts/testing/conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCustomServer } from "./custom-server";
import { MyCustomModel } from "./my-custom-model";

const KEY = "sk-custom-example-0123456789abcdef";
let server: LoopbackServer;
beforeAll(async () => {
  server = await startCustomServer(KEY);
});
afterAll(() => server.close());

const make = () => new MyCustomModel({ name: "my-custom-model", config: { apiKey: KEY, endpoint: server.url } });

describeModelConformance("MyCustomModel (examples/custom-model)", make, {
  secret: KEY,
  injectFailure: () => server.enqueueFault({ type: "status", status: 500 }),
  injectLatency: (_model, ms) => server.enqueueFault({ type: "latency", ms }),
});

describe("MyCustomModel", () => {
  it("reports the endpoint's usage and cost in metrics", async () => {
    const model = make();
    const result = await model.generate({ messages: [{ role: "user", content: "Explain quantum computing" }] });
    expect(result.text).toBe("Echo: Explain quantum computing");
    expect(result.usage).toEqual({ inputTokens: 3, outputTokens: 4 });
    expect(result.costUsd).toBeCloseTo(7 * 0.000002, 12);
    expect(model.metrics.totalCost).toBeCloseTo(7 * 0.000002, 12);
    await model.cleanup();
  });

  it("maps a wrong key to AuthenticationError and a 429 to RateLimitError with retry-after", async () => {
    const wrong = new MyCustomModel({
      name: "wrong-key",
      config: { apiKey: "sk-wrong-key-000000000000", endpoint: server.url },
    });
    await expect(wrong.generateResponse("hi")).rejects.toSatisfy((e: unknown) => AuthenticationError.isInstance(e));
    const model = make();
    server.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 2 });
    const error = await model.generateResponse("hi").catch((e: unknown) => e);
    expect(RateLimitError.isInstance(error) && error.retryAfterMs).toBe(2000);
  });

  it("rejects a stream cut before its done line instead of returning a shorter answer", async () => {
    const model = make();
    server.enqueueFault({ type: "cut-stream", afterChunks: 1 });
    const pieces: string[] = [];
    const consume = async () => {
      for await (const piece of model.streamResponse("one two three four")) pieces.push(piece);
    };
    await expect(consume()).rejects.toSatisfy((e: unknown) => ProviderError.isInstance(e));
    expect(pieces.join("")).not.toBe("Echo: one two three four");
  });

  it("reports unhealthy when the endpoint is down, healthy when it is back", async () => {
    const model = make();
    server.setDown(true);
    expect(await model.healthCheck()).toBe(false);
    server.setDown(false);
    expect(await model.healthCheck()).toBe(true);
    expect(inspect(model)).not.toContain(KEY);
  });

  it("takes the seed's MyCustomModel(name, capabilities) and reads the endpoint and key from ACME_ENDPOINT / ACME_API_KEY at the first call", async () => {
    const saved = { endpoint: process.env.ACME_ENDPOINT, key: process.env.ACME_API_KEY };
    try {
      delete process.env.ACME_ENDPOINT;
      delete process.env.ACME_API_KEY;
      // Constructing never throws; the first call says what is missing.
      const model = new MyCustomModel({
        name: "custom-gpt",
        capabilities: new ModelCapabilities({ textGeneration: true, codeGeneration: true, maxTokens: 4096 }),
      });
      expect(model.capabilities.codeGeneration).toBe(true);
      const noEndpoint = await model.generateResponse("hi").catch((e: unknown) => e);
      expect(ConfigError.isInstance(noEndpoint) && noEndpoint.message).toMatch(
        /config\.endpoint: is not set: pass config\.endpoint or set ACME_ENDPOINT/,
      );
      process.env.ACME_ENDPOINT = server.url;
      const noKey = await model.generateResponse("hi").catch((e: unknown) => e);
      expect(AuthenticationError.isInstance(noKey) && noKey.message).toMatch(/ACME_API_KEY/);
      process.env.ACME_API_KEY = KEY;
      expect(await model.generateResponse("Explain quantum computing")).toBe("Echo: Explain quantum computing");
      expect(inspect(model)).not.toContain(KEY);
      await model.cleanup();
    } finally {
      for (const [name, value] of [
        ["ACME_ENDPOINT", saved.endpoint],
        ["ACME_API_KEY", saved.key],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
