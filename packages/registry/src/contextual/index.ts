export {
  SparseFeatures,
  HashedNgramExtractor,
  requestText,
  type FeatureExtractor,
  type FeatureInput,
  type HashedNgramOptions,
} from "./features";
export { DiagonalLogisticPredictor, sigmoid } from "./predictor";
export { BudgetPacer, type BudgetPacerOptions } from "./pacing";
export { ContextualSelector } from "./contextual-selector";
export type { ContextualSelectorOptions, ContextualExploration, ContextualChoice } from "./options";
export type { ContextualSelectorState } from "./state";
export type { TrainingExample } from "./training";
export type { ShareOptions, SharedLearning } from "./sharing";
export { MemoryDecisionLog, textHash, type DecisionRecord, type DecisionSink } from "./decision-log";
export { DecisionLog, type DecisionLogOptions } from "./decision-log-file";
