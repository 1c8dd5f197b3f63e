export { parseCsv } from "./csv";
export { loadReplayCsv, type ReplayDataset, type ReplayRow } from "./dataset";
export { aiq, nonDecreasingHull, oraclePoint, randomPoint, singleModelPoint, type Point } from "./metrics";
export {
  replayFullInformation,
  qualityCostCurve,
  permutation,
  fixedPolicy,
  randomPolicy,
  oraclePolicy,
  contextualPolicy,
  fitOnDataset,
  rowFeatures,
  contextualSelectorFromConfig,
  type ReplayPolicy,
  type ReplayOptions,
  type ReplayResult,
  type ReplayRunResult,
  type SelectorConfigLike,
} from "./simulate";
export { renderSvg, type SvgPlotOptions, type SvgCurve } from "./svg";
export { replayFromFiles, DEFAULT_LAMBDAS, type ReplayFromFilesOptions, type ReplayReport } from "./from-files";
export { parseDecisionLog, readDecisionLog, type DecisionLogProblem } from "./decision-log";
export { offPolicyEstimate, selectorPolicy, type OffPolicyEstimate, type TargetPolicy } from "./off-policy";
export {
  replayCascade,
  replayCascadeFromFiles,
  cascadePolicyRoute,
  cascadeBudgetCurve,
  DEFAULT_CASCADE_BUDGETS,
  type CascadeReplayResult,
  type CascadeReplayRun,
  type CascadeReplayFromFilesOptions,
} from "./cascade-replay";
export {
  crossValidateCascade,
  cascadeCvMarkdown,
  bestTaskMixture,
  mixturePoint,
  type TaskMixture,
  type CascadeCvFold,
  type CascadeCvResult,
  type CascadeCvOptions,
} from "./cascade-cv";
