// The configured models `registryFromConfig` left out, per registry: written by from-config.ts and
// read by `registry.skippedModels`, in a module of its own so that neither file imports the other's.
import type { SkippedModel } from "@orchestrator-ts/core";

const NO_SKIPPED: readonly SkippedModel[] = Object.freeze([]);
const skippedByRegistry = new WeakMap<object, readonly SkippedModel[]>();

/** Records the configured models `registryFromConfig` left out. For that function only. */
export function setSkippedModels(registry: object, skipped: readonly SkippedModel[]): void {
  skippedByRegistry.set(registry, Object.freeze([...skipped]));
}

export function skippedModelsOf(registry: object): readonly SkippedModel[] {
  return skippedByRegistry.get(registry) ?? NO_SKIPPED;
}
