import { ConfigError } from "@orchestrator/core";
import { seededRandom, sampleBeta } from "./random";
import { RewardFunction, type RewardOptions, type RewardWeights } from "./reward";
import type { CandidateScore, ModelSelector, SelectionCandidate, SelectionContext, SelectorChoice } from "./selector";

export interface ThompsonSelectorOptions extends Omit<RewardOptions, "weights"> {
  rewardWeights?: RewardWeights;
  /** Beta prior of every arm. Default 1, 1 (uniform). */
  priorAlpha?: number;
  priorBeta?: number;
  /** Seed of the sampling, for reproducible runs; or your own `random` in [0, 1). */
  seed?: number;
  random?: () => number;
}

/**
 * Thompson sampling: draws a plausible mean reward for each model from
 * Beta(α + Σreward, β + trials − Σreward) and picks the highest draw. Explores in proportion to
 * uncertainty, with no exploration constant to tune.
 */
export class ThompsonSamplingSelector implements ModelSelector {
  readonly name = "thompson";
  readonly reward: RewardFunction;
  readonly #alpha: number;
  readonly #beta: number;
  readonly #random: () => number;

  constructor(options: ThompsonSelectorOptions = {}) {
    const alpha = options.priorAlpha ?? 1;
    const beta = options.priorBeta ?? 1;
    if (!(alpha > 0) || !(beta > 0)) throw new ConfigError([{ path: alpha > 0 ? "priorBeta" : "priorAlpha", message: `must be a positive number, got ${alpha > 0 ? beta : alpha}` }], { title: "Invalid ThompsonSamplingSelector options" });
    this.#alpha = alpha;
    this.#beta = beta;
    this.#random = options.random ?? seededRandom(options.seed ?? Date.now());
    const { rewardWeights, latencyRefMs, costRefUsd, qualityPrior } = options;
    this.reward = new RewardFunction({ ...(rewardWeights ? { weights: rewardWeights } : {}), latencyRefMs, costRefUsd, qualityPrior });
  }

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    let best = 0;
    let bestDraw = Number.NEGATIVE_INFINITY;
    const scores: CandidateScore[] | undefined = context.explain ? new Array(candidates.length) : undefined;
    for (let i = 0; i < candidates.length; i++) {
      const stats = (candidates[i] as SelectionCandidate).stats;
      const n = stats?.trials ?? 0;
      // Rewards are fractional: clamp so late feedback rounding never makes a parameter non-positive.
      const s = Math.min(n, Math.max(0, stats?.rewardSum ?? 0));
      const draw = sampleBeta(this.#alpha + s, this.#beta + n - s, this.#random);
      if (draw > bestDraw) {
        best = i;
        bestDraw = draw;
      }
      if (scores) scores[i] = { score: draw, meanReward: n > 0 ? s / n : 0, trials: n, note: "sampled from the posterior" };
    }
    return scores ? { index: best, scores } : { index: best };
  }
}
