import type { CandidateScore, ExclusionReason, Model } from "@orchestrator-ts/core";

/** One eligible model in an explanation: its score with the parts the selector reported. */
export interface CandidateExplanation extends CandidateScore {
  model: string;
  provider: string;
  estimatedCostUsd: number;
  /** The task whose statistics were used, or `undefined` for the model's overall statistics. */
  statsScope: string | undefined;
  /** Calls through the registry running on this model when it was chosen (counted as pending trials by the UCB selector). */
  pending: number;
  chosen: boolean;
}

/** Why a model was chosen: every candidate's score and every excluded model's reason. */
export interface SelectionExplanation {
  model: Model;
  selector: string;
  task: string | undefined;
  candidates: CandidateExplanation[];
  excluded: ExclusionReason[];
  /** Set when the model came from the explicit `fallbacks` chain of this (failed) model, not from the selector. */
  fallbackFor?: string;
}

/**
 * What `explainSelection` returns when no model is eligible: no model, no candidates, and every
 * model's reason for being left out (empty when none are registered). `selectModel` and calls
 * throw `NoEligibleModelError` with the same reasons instead.
 */
export interface NoEligibleModelExplanation {
  model: undefined;
  selector: string;
  task: string | undefined;
  candidates: [];
  excluded: ExclusionReason[];
}
