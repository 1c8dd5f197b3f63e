import {
  type CandidateScore,
  ConfigError,
  type ConfigIssue,
  type ModelSelector,
  type SelectionCandidate,
  type SelectionContext,
  type SelectorChoice,
  type SelectorEvent,
} from "@orchestrator-ts/core";
import { type ArmView, DecayedArms } from "./decayed-arms";
import { seededRandom, sampleBeta } from "./random";
import { RewardFunction, type RewardOptions, type RewardWeights } from "./reward";

export interface ThompsonSelectorOptions extends Omit<RewardOptions, "weights"> {
  rewardWeights?: RewardWeights;
  /** Beta prior of every arm. Default 1, 1 (uniform). */
  priorAlpha?: number;
  priorBeta?: number;
  /** Every model is tried this many times before sampling decides (fewest trials first). Default 0. */
  minTrials?: number;
  /** Weigh an outcome `discount^age` (age in outcomes), for providers that change over time. In (0, 1). */
  discount?: number;
  /** Alternatively, count only the last `window` outcomes. */
  window?: number;
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
  readonly minTrials: number;
  readonly #alpha: number;
  readonly #beta: number;
  readonly #random: () => number;
  readonly #decayed: DecayedArms | undefined;
  readonly #view: ArmView = { n: 0, s: 0, s2: 0 };

  constructor(options: ThompsonSelectorOptions = {}) {
    const issues: ConfigIssue[] = [];
    const alpha = options.priorAlpha ?? 1;
    const beta = options.priorBeta ?? 1;
    if (!(alpha > 0)) issues.push({ path: "priorAlpha", message: `must be a positive number, got ${String(alpha)}` });
    if (!(beta > 0)) issues.push({ path: "priorBeta", message: `must be a positive number, got ${String(beta)}` });
    const minTrials = options.minTrials ?? 0;
    if (!Number.isInteger(minTrials) || minTrials < 0)
      issues.push({ path: "minTrials", message: `must be a non-negative integer, got ${String(minTrials)}` });
    if (options.discount !== undefined && options.window !== undefined)
      issues.push({ path: "discount", message: "give either `discount` or `window`, not both" });
    if (options.discount !== undefined && !(options.discount > 0 && options.discount < 1))
      issues.push({ path: "discount", message: `must be in (0, 1), got ${options.discount}` });
    if (options.window !== undefined && !(Number.isInteger(options.window) && options.window > 0))
      issues.push({ path: "window", message: `must be a positive integer (outcomes), got ${options.window}` });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid ThompsonSamplingSelector options" });
    this.#alpha = alpha;
    this.#beta = beta;
    this.minTrials = minTrials;
    this.#random = options.random ?? seededRandom(options.seed ?? Date.now());
    const { rewardWeights, latencyRefMs, costRefUsd, qualityPrior } = options;
    this.reward = new RewardFunction({
      ...(rewardWeights ? { weights: rewardWeights } : {}),
      latencyRefMs,
      costRefUsd,
      qualityPrior,
    });
    this.#decayed = DecayedArms.forOptions(options);
  }

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    // Models below minTrials go first, fewest trials first, then registration order.
    let explore = -1;
    let exploreTrials = 0;
    if (this.minTrials > 0) {
      for (let i = 0; i < candidates.length; i++) {
        const trials = (candidates[i] as SelectionCandidate).stats?.trials ?? 0;
        if (trials < this.minTrials && (explore < 0 || trials < exploreTrials)) {
          explore = i;
          exploreTrials = trials;
        }
      }
      if (explore >= 0 && !context.explain) return { index: explore };
    }
    let best = 0;
    let bestDraw = Number.NEGATIVE_INFINITY;
    const scores: CandidateScore[] | undefined = context.explain ? new Array(candidates.length) : undefined;
    const view = this.#view;
    for (let i = 0; i < candidates.length; i++) {
      const cand = candidates[i] as SelectionCandidate;
      const stats = cand.stats;
      if (this.#decayed) this.#decayed.read(cand.model.name, cand.statsScope, view);
      else {
        view.n = stats?.trials ?? 0;
        view.s = stats?.rewardSum ?? 0;
      }
      const n = view.n;
      // Rewards are fractional: clamp so late feedback rounding never makes a parameter non-positive.
      const s = Math.min(n, Math.max(0, view.s));
      const draw = sampleBeta(this.#alpha + s, this.#beta + n - s, this.#random);
      if (draw > bestDraw) {
        best = i;
        bestDraw = draw;
      }
      if (scores) {
        const trials = stats?.trials ?? 0;
        const exploring = this.minTrials > 0 && trials < this.minTrials;
        scores[i] = exploring
          ? {
              score: Number.POSITIVE_INFINITY,
              meanReward: n > 0 ? s / n : 0,
              trials: n,
              note: `exploring: ${trials} of ${this.minTrials} trials`,
            }
          : { score: draw, meanReward: n > 0 ? s / n : 0, trials: n, note: "sampled from the posterior" };
      }
    }
    if (explore >= 0) best = explore;
    return scores ? { index: best, scores } : { index: best };
  }

  update(event: SelectorEvent): void {
    this.#decayed?.apply(event);
  }

  reset(): void {
    this.#decayed?.reset();
  }
}
