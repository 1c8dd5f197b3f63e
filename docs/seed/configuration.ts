// Seed: "Model Configuration Management" — load models from YAML.
import { loadModelConfig } from "@orchestrator-ts/config";
import { registryFromConfig } from "@orchestrator-ts/registry";
import { builtinProviders } from "orchestrator-ts";

export async function fromConfig(path: string) {
  // Load model configuration
  const config = await loadModelConfig(path, { providers: builtinProviders });

  // Initialize registry with configured models (the seed's ModelRegistry.from_config(config): a
  // function of its own here, so that a plain ModelRegistry loads no selector it does not use)
  const registry = await registryFromConfig(config, { providers: builtinProviders });
  return { config, registry };
}
