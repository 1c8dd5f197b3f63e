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
import { RewardFunction, type RewardOptions, type RewardWeights } from "./reward";

export type UCBVariant = "ucb1" | "ucb1-tuned";

export interface UCBSelectorOptions extends Omit<RewardOptions, "weights"> {
  /**
   * Multiplies the exploration bonus. Default 1 with the default `"ucb1-tuned"` variant; the
   * seed's 2.0 is accepted but explores too much (see the README, "Why this default").
   */
  explorationFactor?: number;
  /**
   * `"ucb1"`: bonus = c·√(ln N / n). `"ucb1-tuned"` (default): bonus = c·√(ln N / n · min(¼, V)),
   * V = variance of the arm's rewards + √(2 ln N / n): arms whose rewards vary little explore little.
   */
  variant?: UCBVariant;
  /** Every model is tried this many times before scores decide. Default 5. */
  minTrials?: number;
  /** Weights of the reward parts (success, latency, cost, quality). */
  rewardWeights?: RewardWeights;
  /** Weigh an outcome `discount^age` (age in outcomes), for providers that change over time. In (0, 1). */
  discount?: number;
  /** Alternatively, count only the last `window` outcomes. */
  window?: number;
}

const DEFAULT_EXPLORATION = 0.5;

/**
 * Upper Confidence Bound over a reward in [0, 1]: picks the model with the highest
 * `mean reward + exploration bonus`, after trying each model `minTrials` times.
 *
 * Calls in flight (`candidate.pending`) count as pending trials, as batched bandits do: each
 * adds to the arm's trial count in the bonus (its reward is assumed to be the arm's mean until
 * it is known), so concurrent selections spread over models that look alike instead of all
 * taking the one that led before the burst. With nothing in flight the scores are exactly UCB's.
 */
export class UCBModelSelector implements ModelSelector {
  readonly name = "ucb";
  readonly explorationFactor: number;
  readonly variant: UCBVariant;
  readonly minTrials: number;
  readonly reward: RewardFunction;
  readonly #decayed: DecayedArms | undefined;
  // Scratch per candidate, reused between selections.
  #n = new Float64Array(16);
  // Trials plus calls in flight: the count the bonus and the ties use.
  #nEff = new Float64Array(16);
  #mean = new Float64Array(16);
  #var = new Float64Array(16);
  readonly #view: ArmView = { n: 0, s: 0, s2: 0 };

  constructor(options: UCBSelectorOptions = {}) {
    const issues: ConfigIssue[] = [];
    const c = options.explorationFactor ?? DEFAULT_EXPLORATION;
    if (typeof c !== "number" || !Number.isFinite(c) || c < 0)
      issues.push({ path: "explorationFactor", message: `must be a non-negative number, got ${String(c)}` });
    const minTrials = options.minTrials ?? 5;
    if (!Number.isInteger(minTrials) || minTrials < 0)
      issues.push({ path: "minTrials", message: `must be a non-negative integer, got ${String(minTrials)}` });
    const variant = options.variant ?? "ucb1-tuned";
    if (variant !== "ucb1" && variant !== "ucb1-tuned")
      issues.push({ path: "variant", message: `must be "ucb1" or "ucb1-tuned", got ${JSON.stringify(variant)}` });
    if (options.discount !== undefined && options.window !== undefined)
      issues.push({ path: "discount", message: "give either `discount` or `window`, not both" });
    if (options.discount !== undefined && !(options.discount > 0 && options.discount < 1))
      issues.push({ path: "discount", message: `must be in (0, 1), got ${options.discount}` });
    if (options.window !== undefined && !(Number.isInteger(options.window) && options.window > 0))
      issues.push({ path: "window", message: `must be a positive integer (outcomes), got ${options.window}` });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid UCBModelSelector options" });
    this.explorationFactor = c;
    this.variant = variant;
    this.minTrials = minTrials;
    const { rewardWeights, ...rest } = options;
    this.reward = new RewardFunction({
      ...(rewardWeights ? { weights: rewardWeights } : {}),
      latencyRefMs: rest.latencyRefMs,
      costRefUsd: rest.costRefUsd,
      qualityPrior: rest.qualityPrior,
    });
    this.#decayed = DecayedArms.forOptions(options);
  }

  /** The score parts of one arm, as `select` computes them (exposed for tests and custom selectors). */
  static score(
    variant: UCBVariant,
    c: number,
    mean: number,
    variance: number,
    n: number,
    totalTrials: number,
  ): { score: number; bonus: number } {
    if (n <= 0) return { score: Number.POSITIVE_INFINITY, bonus: Number.POSITIVE_INFINITY };
    const lnN = Math.log(Math.max(totalTrials, 1));
    const bonus =
      variant === "ucb1"
        ? c * Math.sqrt(lnN / n)
        : c * Math.sqrt((lnN / n) * Math.min(0.25, variance + Math.sqrt((2 * lnN) / n)));
    return { score: mean + bonus, bonus };
  }

  #grow(size: number): void {
    if (this.#n.length >= size) return;
    const len = Math.max(size, this.#n.length * 2);
    this.#n = new Float64Array(len);
    this.#nEff = new Float64Array(len);
    this.#mean = new Float64Array(len);
    this.#var = new Float64Array(len);
  }

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    const count = candidates.length;
    this.#grow(count);
    const n = this.#n;
    const nEff = this.#nEff;
    const mean = this.#mean;
    const variance = this.#var;
    const view = this.#view;
    // Models below minTrials (calls in flight included) go first, fewest first, then registration order.
    let explore = -1;
    let exploreTrials = 0;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const cand = candidates[i] as SelectionCandidate;
      const stats = cand.stats;
      const pending = cand.pending ?? 0;
      const trials = (stats?.trials ?? 0) + pending;
      if (trials < this.minTrials && (explore < 0 || trials < exploreTrials)) {
        explore = i;
        exploreTrials = trials;
      }
      if (this.#decayed) this.#decayed.read(cand.model.name, cand.statsScope, view);
      else if (stats) {
        view.n = stats.trials;
        view.s = stats.rewardSum;
        view.s2 = stats.rewardSqSum;
      } else view.n = view.s = view.s2 = 0;
      n[i] = view.n;
      const m = view.n > 0 ? view.s / view.n : 0;
      mean[i] = m;
      variance[i] = view.n > 0 ? Math.max(0, view.s2 / view.n - m * m) : 0;
      nEff[i] = view.n + pending;
      total += view.n + pending;
    }
    let best = explore;
    if (best < 0) {
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < count; i++) {
        const s = this.#scoreOf(i, total);
        if (best < 0 || s > bestScore || (s === bestScore && this.#beats(candidates, i, best))) {
          best = i;
          bestScore = s;
        }
      }
    }
    if (!context.explain) return { index: best };
    const scores: CandidateScore[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const cand = candidates[i] as SelectionCandidate;
      const trials = cand.stats?.trials ?? 0;
      const pending = cand.pending ?? 0;
      const ni = n[i] as number;
      const { score, bonus } =
        ni <= 0
          ? UCBModelSelector.score(this.variant, 0, 0, 0, 0, 0)
          : UCBModelSelector.score(
              this.variant,
              this.explorationFactor,
              mean[i] as number,
              variance[i] as number,
              nEff[i] as number,
              total,
            );
      const entry: CandidateScore = { score, meanReward: mean[i] as number, bonus, trials: ni };
      const inFlight = pending > 0 ? ` (+${pending} in flight)` : "";
      if (trials + pending < this.minTrials) {
        entry.score = Number.POSITIVE_INFINITY;
        entry.note = `exploring: ${trials} of ${this.minTrials} trials${inFlight}${cand.statsScope !== undefined ? ` for task "${cand.statsScope}"` : ""}`;
      } else if (ni <= 0) entry.note = `${this.#decayed ? "no recent trials: re-exploring" : "no trials"}${inFlight}`;
      else if (pending > 0)
        entry.note = `${pending} in flight counted as pending trials${cand.statsScope !== undefined ? `; task "${cand.statsScope}" statistics` : ""}`;
      else if (cand.statsScope !== undefined) entry.note = `task "${cand.statsScope}" statistics`;
      scores[i] = entry;
    }
    return { index: best, scores };
  }

  #scoreOf(i: number, total: number): number {
    // No outcome yet (only calls in flight, if any): unexplored, ties broken by the count in flight.
    if ((this.#n[i] as number) <= 0) return Number.POSITIVE_INFINITY;
    const ni = this.#nEff[i] as number;
    const lnN = Math.log(Math.max(total, 1));
    const m = this.#mean[i] as number;
    const c = this.explorationFactor;
    if (this.variant === "ucb1") return m + c * Math.sqrt(lnN / ni);
    return m + c * Math.sqrt((lnN / ni) * Math.min(0.25, (this.#var[i] as number) + Math.sqrt((2 * lnN) / ni)));
  }

  // Ties: fewer trials (calls in flight included) first, then registration order.
  #beats(candidates: readonly SelectionCandidate[], i: number, best: number): boolean {
    const ni = this.#nEff[i] as number;
    const nb = this.#nEff[best] as number;
    if (ni !== nb) return ni < nb;
    return (candidates[i] as SelectionCandidate).order < (candidates[best] as SelectionCandidate).order;
  }

  update(event: SelectorEvent): void {
    this.#decayed?.apply(event);
  }

  reset(): void {
    this.#decayed?.reset();
  }
}
