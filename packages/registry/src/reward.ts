import { ConfigError, type RewardInput, type RewardScorer } from "@orchestrator-ts/core";

/** Relative importance of each part of the reward. Any non-negative numbers; they are sum-normalised. */
export interface RewardWeights {
  success?: number;
  latency?: number;
  cost?: number;
  quality?: number;
}

export interface RewardOptions {
  weights?: RewardWeights;
  /** Latency that scores 0.5: `latencyScore = 1 / (1 + latencyMs / latencyRefMs)`. Default 2,000 ms. */
  latencyRefMs?: number;
  /** Cost that scores 0.5: `costScore = 1 / (1 + costUsd / costRefUsd)`. Default $0.002. */
  costRefUsd?: number;
  /** Quality assumed for a call until its feedback arrives, while the arm has no rated calls. Default 0.5. */
  qualityPrior?: number;
}

export const DEFAULT_REWARD_WEIGHTS: Readonly<Required<RewardWeights>> = Object.freeze({
  success: 0.4,
  latency: 0.2,
  cost: 0.2,
  quality: 0.2,
});
export const DEFAULT_LATENCY_REF_MS = 2_000;
export const DEFAULT_COST_REF_USD = 0.002;

/**
 * The reward of one call, in [0, 1]:
 *
 * - a failed call scores 0;
 * - a successful one scores `(ws·1 + wl·latencyScore + wc·costScore + wq·quality) / (ws + wl + wc + wq)`
 *   with `latencyScore = 1 / (1 + latencyMs / latencyRefMs)` and `costScore = 1 / (1 + costUsd / costRefUsd)`.
 *
 * For small costs `costScore ≈ 1 − costUsd / costRefUsd`, so weights `{ quality: 1, cost: w }` give
 * the "quality minus λ·cost" reward used for routing benchmarks, with `λ ≈ w / ((1 + w) · costRefUsd)`.
 */
export class RewardFunction implements RewardScorer {
  readonly weights: Readonly<Required<RewardWeights>>;
  readonly latencyRefMs: number;
  readonly costRefUsd: number;
  readonly qualityPrior: number;

  constructor(options: RewardOptions = {}) {
    const w = { ...DEFAULT_REWARD_WEIGHTS, ...(options.weights ?? {}) };
    const issues: { path: string; message: string }[] = [];
    for (const key of ["success", "latency", "cost", "quality"] as const) {
      const v = w[key];
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
        issues.push({ path: `rewardWeights.${key}`, message: `must be a non-negative number, got ${String(v)}` });
    }
    for (const key of Object.keys(options.weights ?? {})) {
      if (!(key in DEFAULT_REWARD_WEIGHTS))
        issues.push({
          path: `rewardWeights.${key}`,
          message: "is not a reward part (success, latency, cost, quality)",
        });
    }
    const total = w.success + w.latency + w.cost + w.quality;
    if (issues.length === 0 && !(total > 0))
      issues.push({ path: "rewardWeights", message: "at least one weight must be positive" });
    const latencyRefMs = options.latencyRefMs ?? DEFAULT_LATENCY_REF_MS;
    const costRefUsd = options.costRefUsd ?? DEFAULT_COST_REF_USD;
    const qualityPrior = options.qualityPrior ?? 0.5;
    if (!(latencyRefMs > 0))
      issues.push({ path: "latencyRefMs", message: `must be a positive number of ms, got ${latencyRefMs}` });
    if (!(costRefUsd > 0))
      issues.push({ path: "costRefUsd", message: `must be a positive USD amount, got ${costRefUsd}` });
    if (!(qualityPrior >= 0 && qualityPrior <= 1))
      issues.push({ path: "qualityPrior", message: `must be in [0, 1], got ${qualityPrior}` });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid reward options" });
    this.weights = Object.freeze({
      success: w.success / total,
      latency: w.latency / total,
      cost: w.cost / total,
      quality: w.quality / total,
    });
    this.latencyRefMs = latencyRefMs;
    this.costRefUsd = costRefUsd;
    this.qualityPrior = qualityPrior;
  }

  latencyScore(latencyMs: number): number {
    return 1 / (1 + Math.max(0, latencyMs) / this.latencyRefMs);
  }

  costScore(costUsd: number): number {
    return 1 / (1 + Math.max(0, costUsd) / this.costRefUsd);
  }

  /** The reward of one call, in [0, 1]. */
  of(input: RewardInput): number {
    if (!input.success) return 0;
    const w = this.weights;
    return (
      w.success +
      w.latency * this.latencyScore(input.latencyMs) +
      w.cost * this.costScore(input.costUsd) +
      w.quality * input.quality
    );
  }
}

export const DEFAULT_REWARD = new RewardFunction();
