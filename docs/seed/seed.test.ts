import { ConfigError, ModelCapabilities } from "@orchestrator-ts/core";
import { startCustomServer } from "@acme/orchestrator-provider-custom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilities, constraints } from "./capabilities-and-constraints";
import { CustomModel } from "./custom-model";

const API_KEY = "test-key-0123456789";
let server: Awaited<ReturnType<typeof startCustomServer>>;
beforeAll(async () => {
  server = await startCustomServer(API_KEY);
});
afterAll(() => server.close());

describe("seed: Creating Custom Model Integrations", () => {
  it("generates, streams, checks health and cleans up against the custom endpoint", async () => {
    const model = new CustomModel("custom-model", API_KEY, server.url);
    expect(model.capabilities.functionCalling).toBe(true);
    const response = await model.generateResponse("Hello, world!");
    expect(response).toBe("Echo: Hello, world!");
    let streamed = "";
    for await (const chunk of model.streamResponse("Hello, world!")) streamed += chunk;
    expect(streamed).toBe(response);
    // The base class updated the metrics for both calls (the seed's update_metrics).
    expect(model.metrics.requests).toBe(2);
    expect(model.metrics.outputTokens).toBeGreaterThan(0);
    expect(model.metrics.totalCost).toBeGreaterThan(0);
    expect(await model.healthCheck()).toBe(true);
    await model.cleanup();
    await model.cleanup();
  });

  it("reports unhealthy instead of throwing when the endpoint is unreachable", async () => {
    const model = new CustomModel("unreachable", API_KEY, "http://127.0.0.1:9");
    expect(await model.healthCheck()).toBe(false);
  });
});

describe("seed: Model Capabilities and Constraints", () => {
  it("builds the seed's capabilities and constraints", () => {
    expect(capabilities.inputCostPerToken).toBe(0.00001);
    expect(capabilities.outputCostPerToken).toBe(0.00003);
    expect(capabilities.maxTokens).toBe(4096);
    expect(constraints.maxRequestsPerMinute).toBe(100);
    expect(constraints.requiredGpuMemoryGb).toBe(4);
  });

  it("rejects invalid values with the field path", () => {
    expect(() => new ModelCapabilities({ maxTokens: "4096" as unknown as number })).toThrow(ConfigError);
    expect(() => new ModelCapabilities({ outputCostPerToken: -0.1 })).toThrow(/outputCostPerToken/);
  });
});
