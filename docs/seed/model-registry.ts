// Seed: "Model Registry Architecture" — register a custom model, then select by requirements.
import { ModelCapabilities } from "@orchestrator-ts/core";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { MyCustomModel } from "./complete-example";

export function registryArchitecture(endpoint: string, apiKey: string) {
  // Initialize model registry
  const registry = new ModelRegistry();

  // Register a custom model
  const customModel = new MyCustomModel({
    name: "custom-gpt",
    capabilities: new ModelCapabilities({ textGeneration: true, codeGeneration: true, maxTokens: 4096 }),
    config: { apiKey, endpoint },
  });
  registry.registerModel(customModel);

  // Model selection based on requirements, in the seed's snake_case spelling (camelCase works too)
  const bestModel = registry.selectModel({ capabilities: ["text_generation"], max_cost: 0.01, min_speed: 100 });
  return { registry, bestModel };
}
