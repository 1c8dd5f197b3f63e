// Seed: "Model Configuration Management" — load models from YAML.
import { loadModelConfig } from "@orchestrator-ts/config";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { builtinProviders } from "orchestrator-ts";

export async function fromConfig(path: string) {
  // Load model configuration
  const config = await loadModelConfig(path, { providers: builtinProviders });

  // Initialize registry with configured models
  const registry = await ModelRegistry.fromConfig(config, { providers: builtinProviders });
  return { config, registry };
}
