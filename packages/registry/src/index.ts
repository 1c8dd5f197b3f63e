export { ModelRegistry } from "./registry";
export type {
  ModelRegistryOptions,
  BackoffOptions,
  RegisterOptions,
  SelectOptions,
  AttemptRecord,
  RegistryRequest,
  RegistryResult,
  RegistryStream,
  RegistryStreamChunk,
  ArmSummary,
  ModelStatistics,
  RegistryStatistics,
} from "./types";
export { PassiveHealth, type PassivelyWatchedModel } from "./passive-health";
export {
  registryFromConfig,
  routesFromConfig,
  createSelector,
  registryOptionsFromConfig,
  type RegistryConfig,
  type FromConfigOptions,
} from "./from-config";
export type { SelectionExplanation, CandidateExplanation, NoEligibleModelExplanation } from "./explanation";
export type {
  RegistryEvents,
  CallEvent,
  CascadeCallTag,
  CascadeStageEvent,
  SelectionEvent,
  OutcomeEvent,
  FeedbackEvent,
  HealthEvent,
} from "./events";
export { normalizeRequirements } from "./requirements";
export { UCBModelSelector, type UCBSelectorOptions, type UCBVariant } from "./ucb-selector";
export { ThompsonSamplingSelector, type ThompsonSelectorOptions } from "./thompson-selector";
export {
  CostBasedSelector,
  PerformanceSelector,
  type CostBasedSelectorOptions,
  type PerformanceSelectorOptions,
} from "./cost-performance-selectors";
export { WeightedRandomSelector, RoundRobinSelector, type WeightedRandomSelectorOptions } from "./simple-selectors";
export {
  RewardFunction,
  DEFAULT_REWARD_WEIGHTS,
  DEFAULT_LATENCY_REF_MS,
  DEFAULT_COST_REF_USD,
  type RewardWeights,
  type RewardOptions,
} from "./reward";
export { DEFAULT_MAX_TASKS, MemoryStatsStore, type MemoryStatsStoreOptions } from "./stats-store";
export { DecayedArms, type ForgetOptions } from "./decayed-arms";
export * from "./routes";
export * from "./contextual";
