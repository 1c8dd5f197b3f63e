import type { OrchestratorError } from "@orchestrator-ts/core";
import type { CascadeAnswer, RegistryResult } from "../types";

/** What a cascade stage decided: its answer is returned (`accepted`, or `final` on the last stage), the next stage runs (`escalated`), or the budget kept it from running (`paced`). */
export type CascadeStageDecision = "accepted" | "escalated" | "final" | "paced";

/**
 * A cascade stage begins (`phase: "start"`) or has decided (`phase: "end"`), as `runCascade`
 * reports it to its host. The live route turns these into the registry's `cascade` events.
 */
export interface CascadeStageReport {
  phase: "start" | "end";
  stage: number;
  /** This is the route's last stage. */
  final: boolean;
  models: readonly string[];
  /** The stage's models were asked at once. */
  parallel: boolean;
  /** At the end: the stage's answers in the order they came (a judge's own calls marked `judge`). Empty at the start. */
  answers: readonly CascadeAnswer[];
  /** At the end: each answer's registry result (undefined when that model failed), parallel to `answers`. */
  results: readonly (RegistryResult | undefined)[];
  /** At the end: each failed answer's error, parallel to `answers`. */
  errors: readonly (OrchestratorError | undefined)[];
  /** At the end: how many of the stage's readable answers agree with the largest group. */
  agreeing: number;
  /** At the end: what the stage decided. */
  decision: CascadeStageDecision | undefined;
}

/** The start report of a stage. */
export function stageStart(stage: number, final: boolean, st: { models: readonly string[]; parallel?: boolean }) {
  return report("start", stage, final, st, [], [], 0, undefined);
}

/** The end report of a stage: its answers from index `first` on, with the results and errors of what was asked. */
export function stageEnd(
  stage: number,
  final: boolean,
  st: { models: readonly string[]; parallel?: boolean },
  answers: readonly CascadeAnswer[],
  asked: readonly { payload?: unknown; error?: unknown }[],
  first: number,
  agreeing: number,
  decision: CascadeStageDecision,
): CascadeStageReport {
  return report("end", stage, final, st, answers.slice(first), asked.slice(first), agreeing, decision);
}

function report(
  phase: "start" | "end",
  stage: number,
  final: boolean,
  st: { models: readonly string[]; parallel?: boolean },
  answers: readonly CascadeAnswer[],
  asked: readonly { payload?: unknown; error?: unknown }[],
  agreeing: number,
  decision: CascadeStageDecision | undefined,
): CascadeStageReport {
  return {
    phase,
    stage,
    final,
    models: st.models,
    parallel: st.parallel === true && st.models.length > 1,
    answers,
    results: asked.map((a) => a.payload as RegistryResult | undefined),
    errors: asked.map((a) => a.error as OrchestratorError | undefined),
    agreeing,
    decision,
  };
}
