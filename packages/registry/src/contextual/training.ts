import type { DecisionRecord } from "./decision-log";
import { SparseFeatures } from "./features";

// Warm start: what a selector learns from, and the budget's starting λ on those examples.

/** What a selector learns from: features (or text/task to extract them from) and one or more models' outcomes. */
export interface TrainingExample {
  features?: SparseFeatures;
  text?: string;
  task?: string;
  outcomes: readonly { model: string; quality: number; costUsd?: number }[];
  /** Importance weight (e.g. 1/probability for logged bandit data). Default 1. */
  weight?: number;
}

/** A training example with its features extracted. */
export interface PreparedExample {
  x: SparseFeatures;
  task: string | undefined;
  outcomes: TrainingExample["outcomes"];
}

/** A decision record as a training example: the chosen model's observed quality. */
export function fromRecord(r: DecisionRecord): TrainingExample | undefined {
  if (r.quality === undefined) return undefined;
  return {
    ...(r.features ? { features: SparseFeatures.fromJSON(r.features) } : {}),
    ...(r.task !== undefined ? { task: r.task } : {}),
    outcomes: [{ model: r.model, quality: r.quality, ...(r.costUsd !== undefined ? { costUsd: r.costUsd } : {}) }],
  };
}

/**
 * The λ at which choosing greedily (posterior mean quality − λ·predicted cost) spends
 * `budgetPerRequest` on average over these examples (bisection in log λ).
 */
export function calibrateLambda(
  predictor: {
    predictedCost(model: string, task: string | undefined): number;
    predictQuality(features: SparseFeatures, model: string): number;
  },
  examples: readonly PreparedExample[],
  budgetPerRequest: number,
): number {
  const spend = (lambda: number): number => {
    let total = 0;
    for (const ex of examples) {
      let best = Number.NEGATIVE_INFINITY;
      let bestCost = 0;
      for (const o of ex.outcomes) {
        const c = predictor.predictedCost(o.model, ex.task);
        const s = predictor.predictQuality(ex.x, o.model) - lambda * c;
        if (s > best) {
          best = s;
          bestCost = c;
        }
      }
      total += bestCost;
    }
    return total / examples.length;
  };
  let lo = Math.log(1e-3 / budgetPerRequest);
  let hi = Math.log(1e3 / budgetPerRequest);
  if (spend(Math.exp(lo)) <= budgetPerRequest) return Math.exp(lo);
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (spend(Math.exp(mid)) > budgetPerRequest) lo = mid;
    else hi = mid;
  }
  return Math.exp(hi);
}
