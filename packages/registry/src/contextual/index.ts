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
export { MemoryDecisionLog, textHash, type DecisionRecord, type DecisionSink } from "./decision-log";
export { DecisionLog, type DecisionLogOptions } from "./decision-log-file";
