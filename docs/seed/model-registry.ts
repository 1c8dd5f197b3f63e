// Seed: "Model Registry Architecture" — register a custom model, then select by requirements.
import { ModelCapabilities } from "@orchestrator-ts/core";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { MyCustomModel } from "./complete-example";

export function registryArchitecture(endpoint: string, apiKey: string) {
  // Initialize model registry
  const registry = new ModelRegistry();

  // Register a custom model
  const customModel = new MyCustomModel("custom-gpt", { apiKey, endpoint }, new ModelCapabilities({ textGeneration: true, codeGeneration: true, maxTokens: 4096 }));
  registry.registerModel(customModel);

  // Model selection based on requirements (the seed's snake_case capability names work too)
  const bestModel = registry.selectModel({ capabilities: ["text_generation"], maxCost: 0.01, minSpeed: 100 });
  return { registry, bestModel };
}
