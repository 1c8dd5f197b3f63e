import { ConfigError, type ConfigIssue } from "@orchestrator-ts/core";
import type { DecisionSink } from "./decision-log";
import type { FeatureExtractor } from "./features";

export type ContextualExploration = "linucb" | "thompson" | "greedy";

export interface ContextualSelectorOptions {
  /** Request → features. Default `new HashedNgramExtractor()` (1,024 hashed word/char n-grams, length, task). */
  extractor?: FeatureExtractor;
  /**
   * `"linucb"` (default): score the upper confidence bound `σ(m·x + alpha·√(Σ xᵢ²/qᵢ))`.
   * `"thompson"`: sample the logit from its posterior `N(m·x, alpha²·Σ xᵢ²/qᵢ)`.
   * `"greedy"`: the posterior mean, no exploration (after a warm start, or with `epsilon`).
   */
  exploration?: ContextualExploration;
  /** Width of the exploration (standard deviations of the logit). Default 1. */
  alpha?: number;
  /** Prior precision of every weight (L2 regularisation). Default 1. */
  ridge?: number;
  /** Price of cost in quality per USD: the selector maximises predicted quality − λ·predicted cost. Default 0. */
  lambda?: number;
  /** Average USD per request: λ is then paced online so that the running mean cost stays at or under it. */
  budgetPerRequest?: number;
  /** Step of the budget pacer's multiplicative update. Default 0.05. */
  pacingRate?: number;
  /** Choose uniformly at random with this probability (and log the smoothed probability). Default 0. */
  epsilon?: number;
  /** Seed of the selector's random numbers (Thompson, ε). */
  seed?: number;
  /** Thompson only: samples used to estimate the probability of the choice for the log. Default 64. */
  propensitySamples?: number;
  /**
   * Where quality comes from when used through `ModelRegistry`: `"feedback"` (default) waits for
   * `recordFeedback(selectionId, { quality })`; `"reward"` learns the registry's reward at once.
   */
  learnFrom?: "feedback" | "reward";
  /** Decision log (opt-in): one record per learned outcome. */
  log?: DecisionSink;
  /** USD assumed for a model with no observed cost and no estimate. Default 0. */
  defaultCostUsd?: number;
}

/** What `choose` returns. The object is reused by the next call: read it before choosing again. */
export interface ContextualChoice {
  index: number;
  /** Probability that this policy chooses `index` for these features (1 for a deterministic choice without ε). */
  probability: number;
  /** Price of cost used for this choice. */
  lambda: number;
}

/** The options' checked values and defaults; a `ConfigError` naming every bad option. */
export function checkOptions(options: ContextualSelectorOptions): {
  exploration: ContextualExploration;
  alpha: number;
  ridge: number;
  epsilon: number;
  learnFrom: "feedback" | "reward";
} {
  const issues: ConfigIssue[] = [];
  const exploration = options.exploration ?? "linucb";
  if (exploration !== "linucb" && exploration !== "thompson" && exploration !== "greedy")
    issues.push({
      path: "exploration",
      message: `must be "linucb", "thompson" or "greedy", got ${JSON.stringify(exploration)}`,
    });
  const alpha = options.alpha ?? 1;
  if (!(Number.isFinite(alpha) && alpha >= 0))
    issues.push({ path: "alpha", message: `must be a non-negative number, got ${String(alpha)}` });
  const ridge = options.ridge ?? 1;
  if (!(Number.isFinite(ridge) && ridge > 0))
    issues.push({ path: "ridge", message: `must be a positive number, got ${String(ridge)}` });
  if (options.lambda !== undefined && !(Number.isFinite(options.lambda) && options.lambda >= 0))
    issues.push({ path: "lambda", message: `must be ≥ 0 (quality per USD), got ${String(options.lambda)}` });
  const epsilon = options.epsilon ?? 0;
  if (!(epsilon >= 0 && epsilon <= 1))
    issues.push({ path: "epsilon", message: `must be in [0, 1], got ${String(epsilon)}` });
  const learnFrom = options.learnFrom ?? "feedback";
  if (learnFrom !== "feedback" && learnFrom !== "reward")
    issues.push({ path: "learnFrom", message: `must be "feedback" or "reward", got ${JSON.stringify(learnFrom)}` });
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid ContextualSelector options" });
  return { exploration, alpha, ridge, epsilon, learnFrom };
}
