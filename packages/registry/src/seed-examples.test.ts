// The seed document's registry examples ("Custom Models"), translated to TypeScript and run.
// FakeModel from @orchestrator-ts/testing stands in for the seed's MyCustomModel / CustomModel.
import { ModelCapabilities } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { CostBasedSelector, PerformanceSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import { UCBModelSelector } from "./ucb-selector";

/** The seed's `MyCustomModel(name=..., capabilities=...)`. */
class MyCustomModel extends FakeModel {
  constructor(options: { name: string; capabilities: ModelCapabilities }) {
    super({ name: options.name, provider: "custom", capabilities: options.capabilities });
  }
}

describe("seed: Model Registry Architecture", () => {
  it("registers a custom model and selects it by requirements", async () => {
    // Initialize model registry
    const registry = new ModelRegistry();

    // Register a custom model
    const customModel = new MyCustomModel({
      name: "custom-gpt",
      capabilities: new ModelCapabilities({
        textGeneration: true,
        codeGeneration: true,
        maxTokens: 4096,
      }),
    });
    registry.registerModel(customModel);

    // Model selection based on requirements (the seed's snake_case capability name works too)
    const bestModel = registry.selectModel({
      capabilities: ["text_generation"],
      maxCost: 0.01,
      minSpeed: 100,
    });

    expect(bestModel.name).toBe("custom-gpt");
    expect(bestModel).toBe(customModel);
    const text = await bestModel.generateResponse("Explain quantum computing");
    expect(text).toBe("custom-gpt: Explain quantum computing");
  });
});

describe("seed: Upper Confidence Bound (UCB)", () => {
  it("balances exploration and exploitation", async () => {
    // UCB selector balances exploration vs exploitation
    const selector = new UCBModelSelector({
      explorationFactor: 2.0,
      minTrials: 5,
    });

    const registry = new ModelRegistry({ modelSelector: selector });

    registry.registerModel(new FakeModel({ name: "a" }));
    registry.registerModel(new FakeModel({ name: "b" }));
    // minTrials: each model is tried 5 times before scores decide.
    const picks: string[] = [];
    for (let i = 0; i < 10; i++)
      picks.push((await registry.generate({ messages: [{ role: "user", content: `q${i}` }] })).model);
    expect(picks.filter((p) => p === "a")).toHaveLength(5);
    expect(picks.filter((p) => p === "b")).toHaveLength(5);
  });
});

describe("seed: Cost-Based Selection", () => {
  it("picks the cheapest acceptable model, local first", () => {
    // Select models based on cost optimization
    const selector = new CostBasedSelector({
      maxCostPerRequest: 0.1,
      preferLocalModels: true,
    });

    const registry = new ModelRegistry({ modelSelector: selector });
    registry.registerModel(
      new FakeModel({ name: "gpt-4", capabilities: { inputCostPerToken: 0.00003, outputCostPerToken: 0.00006 } }),
    );
    registry.registerModel(
      new FakeModel({ name: "gpt-4-32k", capabilities: { inputCostPerToken: 0.0001, outputCostPerToken: 0.0002 } }),
    );
    registry.registerModel(
      new FakeModel({
        name: "claude-instant",
        capabilities: { inputCostPerToken: 0.0000008, outputCostPerToken: 0.0000024 },
      }),
    );
    registry.registerModel(new FakeModel({ name: "local-llama", isLocal: true }));

    expect(registry.selectModel().name).toBe("local-llama");
    registry.unregisterModel("local-llama");
    const explained = registry.explainSelection();
    expect(explained.model?.name).toBe("claude-instant");
    // 1,000 × 0.0001 + 500 × 0.0002 = $0.20 > $0.10
    expect(explained.excluded).toEqual([
      {
        model: "gpt-4-32k",
        code: "selector",
        reason: "cost selector: estimated cost $0.2000 exceeds maxCostPerRequest $0.1000",
      },
    ]);
  });
});

describe("seed: Performance-Based Selection", () => {
  it("picks the fastest model that streams, within the response-time limit", async () => {
    // Select models based on performance metrics
    const selector = new PerformanceSelector({
      minTokensPerSecond: 50,
      maxResponseTime: 5.0,
      preferStreaming: true,
    });

    const registry = new ModelRegistry({ modelSelector: selector });
    registry.registerModel(
      new FakeModel({ name: "slow-declared", streaming: false, capabilities: { tokensPerSecond: 20 } }),
    );
    registry.registerModel(
      new FakeModel({ name: "batch-only", streaming: false, capabilities: { tokensPerSecond: 200 } }),
    );
    registry.registerModel(
      new FakeModel({ name: "streamer", capabilities: { supportsStreaming: true, tokensPerSecond: 200 } }),
    );

    const explained = registry.explainSelection();
    expect(explained.model?.name).toBe("streamer");
    expect(explained.excluded).toEqual([
      {
        model: "slow-declared",
        code: "selector",
        reason: "performance selector: speed 20.0 tokens/s is below minTokensPerSecond 50",
      },
    ]);
    expect(selector.maxResponseTimeMs).toBe(5000);
  });
});

describe("seed: Testing Custom Models", () => {
  it("test_custom_model_integration", async () => {
    const registry = new ModelRegistry();

    // Initialize custom model (the seed's CustomModel takes an api key and an endpoint; the fake needs neither)
    const customModel = new FakeModel({
      name: "test-model",
      provider: "custom",
      capabilities: {
        textGeneration: true,
        codeGeneration: true,
        functionCalling: true,
        maxTokens: 8192,
        supportsStreaming: true,
      },
    });

    // Register model
    registry.registerModel(customModel);

    // Test model selection
    const selected = registry.selectModel({ capabilities: ["text_generation"] });
    expect(selected.name).toBe("test-model");

    // Test model generation
    const response = await customModel.generateResponse("Hello, world!");
    expect(response).toBeDefined();
    expect(response.length).toBeGreaterThan(0);

    // Test health check
    const isHealthy = await customModel.healthCheck();
    expect(isHealthy).toBe(true);

    // Cleanup
    await customModel.cleanup();
  });
});
