export { SparseFeatures, HashedNgramExtractor, requestText, type FeatureExtractor, type FeatureInput, type HashedNgramOptions } from "./features";
export { DiagonalLogisticPredictor, sigmoid } from "./predictor";
export { BudgetPacer, type BudgetPacerOptions } from "./pacing";
export {
  ContextualSelector,
  type ContextualSelectorOptions,
  type ContextualExploration,
  type ContextualChoice,
  type ContextualSelectorState,
  type TrainingExample,
  type ShareOptions,
  type SharedLearning,
} from "./contextual-selector";
export {
  MemoryDecisionLog,
  parseDecisionLog,
  readDecisionLog,
  textHash,
  type DecisionRecord,
  type DecisionSink,
  type DecisionLogProblem,
} from "./decision-log";
export { DecisionLog, type DecisionLogOptions } from "./decision-log-file";
export { offPolicyEstimate, selectorPolicy, type OffPolicyEstimate, type TargetPolicy } from "./off-policy";
