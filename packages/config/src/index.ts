export { MAX_CONFIG_BYTES, parseModelConfig } from "./parse";
export { loadModelConfig, type LoadOptions } from "./load";
export { buildModels, type BuiltModels, checkDependencies, checkModelCreation, type DependencyProblem } from "./build";
export { locateProviders, resolveProviders, type ProviderLocation } from "./providers";
export {
  MAX_EXPANDED_TOTAL,
  MAX_EXPANDED_VALUE,
  MAX_REFERENCE_NESTING,
  expandEnv,
  type Env,
  type ExpandResult,
  type ExpansionBudget,
} from "./env";
export { MAX_ALIAS_VALUES, MAX_NESTING } from "./yaml-tree";
export { parseDuration } from "./duration";
export type { ParseOptions } from "./types";
