export { parseModelConfig } from "./parse";
export { loadModelConfig, type LoadOptions } from "./load";
export { buildModels, type BuiltModels, type SkippedModel } from "./build";
export { resolveProviders } from "./providers";
export { expandEnv, type Env, type ExpandResult } from "./env";
export { parseDuration } from "./duration";
export type {
  AnyProviderPlugin,
  BackoffConfig,
  CacheConfig,
  ExecutionConfig,
  HealthConfig,
  ModelConfig,
  ModelEntry,
  ParseOptions,
  ProvidersInput,
  ResolveOptions,
  SelectorConfig,
  SelectorType,
  SourceLocation,
} from "./types";
export { BUILD_MODELS } from "./parse";
