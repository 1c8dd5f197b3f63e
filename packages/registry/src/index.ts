export {
  ModelRegistry,
  type ModelRegistryOptions,
  type BackoffOptions,
  type RegisterOptions,
  type SelectOptions,
  type AttemptRecord,
  type RegistryResult,
  type RegistryStream,
  type RegistryStreamChunk,
  type ArmSummary,
  type ModelStatistics,
  type RegistryStatistics,
} from "./registry";
export {
  createSelector,
  registryOptionsFromConfig,
  BUILD_MODELS,
  type RegistryConfig,
  type RegistrySelectorConfig,
  type RegistrySelectorType,
  type RegistryExecutionConfig,
  type FromConfigOptions,
  type BuildModelsOptions,
  type BuildModelsFunction,
  type ConfigProviders,
  type SkippedConfigModel,
} from "./from-config";
export type { SelectionExplanation, CandidateExplanation, NoEligibleModelExplanation } from "./explanation";
export type { RegistryEvents, CallEvent, SelectionEvent, OutcomeEvent, FeedbackEvent, HealthEvent } from "./events";
export { normalizeRequirements, type SelectionRequirements, type RequirementFields, type SnakeCaseRequirementFields, type NormalizedRequirements, type CapabilityRequirement } from "./requirements";
export {
  defineSelector,
  argmax,
  type ModelSelector,
  type SelectionCandidate,
  type SelectionContext,
  type SelectorChoice,
  type SelectorEvent,
  type CandidateScore,
} from "./selector";
export { UCBModelSelector, type UCBSelectorOptions, type UCBVariant } from "./ucb-selector";
export { ThompsonSamplingSelector, type ThompsonSelectorOptions } from "./thompson-selector";
export { CostBasedSelector, PerformanceSelector, type CostBasedSelectorOptions, type PerformanceSelectorOptions } from "./cost-performance-selectors";
export { WeightedRandomSelector, RoundRobinSelector, type WeightedRandomSelectorOptions } from "./simple-selectors";
export { RewardFunction, DEFAULT_REWARD_WEIGHTS, DEFAULT_LATENCY_REF_MS, DEFAULT_COST_REF_USD, type RewardWeights, type RewardOptions, type RewardInput } from "./reward";
export { DEFAULT_MAX_TASKS, MemoryStatsStore, type MemoryStatsStoreOptions } from "./stats-store";
export { DecayedArms, type ForgetOptions } from "./decayed-arms";
// Moved to core (the memory cache uses it too); still exported here.
export { LruMap } from "@orchestrator-ts/core";
export * from "./replay";
export * from "./contextual";
