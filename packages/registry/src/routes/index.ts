export {
  AUTO_ROUTE,
  SelectorRoute,
  RouteNotFoundError,
  type Route,
  type ResolvedRoute,
  type SelectorRouteOptions,
} from "./route";
export {
  CascadeRoute,
  CascadePlan,
  type CascadeRouteOptions,
  type CascadeSettings,
  type CascadeStage,
  type AcceptRule,
  type PreferRule,
  type CascadeJudge,
  type JudgeContext,
  type JudgeVerdict,
} from "./cascade-route";
export {
  CascadeFailedError,
  runCascade,
  type CascadeAnswer,
  type CascadeInfo,
  type CascadeHost,
  type CascadeOutcome,
  type Asked,
} from "./cascade";
export type { CascadeStageReport, CascadeStageDecision } from "./stage-report";
export {
  extractors,
  choice,
  lastNumber,
  firstNumber,
  firstJson,
  jsonField,
  extractorByName,
  EXTRACTOR_NAMES,
  MAX_SCAN,
  type Extractor,
} from "./extractors";
