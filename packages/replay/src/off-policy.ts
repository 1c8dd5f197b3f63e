import { type ContextualSelector, type DecisionRecord, SparseFeatures } from "@orchestrator-ts/registry";

/** A target policy for off-policy evaluation: the probability that it picks `record.model` for this record's request. */
export type TargetPolicy = (record: DecisionRecord) => number;

export interface OffPolicyEstimate {
  /** Records used (with a logged probability and an observed quality). */
  n: number;
  /** Records left out, and why (no probability, no quality). */
  skipped: number;
  /** Inverse propensity scoring: mean of w·y with w = π(a|x)/μ(a|x). Unbiased; high variance. */
  ips: { quality: number; costUsd: number };
  /** Self-normalised IPS: Σ w·y / Σ w. Slightly biased, much lower variance; the one to read. */
  snips: { quality: number; costUsd: number };
  /** (Σw)² / Σw²: how many logged records the estimate is effectively worth. */
  effectiveSampleSize: number;
  /** Records where the target policy would have taken the logged action with non-zero probability. */
  matched: number;
}

/**
 * Estimates how `target` would have done from a decision log collected by another (logging)
 * policy μ, by inverse propensity weighting: each record counts with weight π(a|x)/μ(a|x).
 * It needs the logged probability of each choice: a deterministic logger (greedy or UCB with
 * ε = 0, probability 1) supports only targets that agree with it, so log with `epsilon > 0` or
 * Thompson sampling when you want to evaluate other policies.
 */
export function offPolicyEstimate(records: Iterable<DecisionRecord>, target: TargetPolicy): OffPolicyEstimate {
  let n = 0;
  let skipped = 0;
  let matched = 0;
  let sw = 0;
  let sw2 = 0;
  let swq = 0;
  let swc = 0;
  for (const r of records) {
    if (r.probability === undefined || !(r.probability > 0) || r.quality === undefined) {
      skipped++;
      continue;
    }
    n++;
    const pi = target(r);
    if (!(pi > 0)) continue;
    matched++;
    const w = pi / r.probability;
    sw += w;
    sw2 += w * w;
    swq += w * r.quality;
    swc += w * (r.costUsd ?? 0);
  }
  return {
    n,
    skipped,
    matched,
    ips: { quality: n > 0 ? swq / n : Number.NaN, costUsd: n > 0 ? swc / n : Number.NaN },
    snips: { quality: sw > 0 ? swq / sw : Number.NaN, costUsd: sw > 0 ? swc / sw : Number.NaN },
    effectiveSampleSize: sw2 > 0 ? (sw * sw) / sw2 : 0,
  };
}

/**
 * A selector as a deterministic target policy: its greedy choice (posterior mean quality −
 * λ·predicted cost, no exploration) among the record's candidates, from the record's logged
 * features (records without features use only the task). Probability 1 for that model, else 0.
 */
export function selectorPolicy(selector: ContextualSelector, options: { lambda?: number } = {}): TargetPolicy {
  const x = new SparseFeatures(256);
  return (r) => {
    const features = r.features
      ? SparseFeatures.fromJSON(r.features)
      : selector.extractor.extract({ text: "", task: r.task }, x);
    const lambda = options.lambda ?? selector.lambda;
    let best = "";
    let top = Number.NEGATIVE_INFINITY;
    for (const m of r.candidates) {
      const s = selector.predictQuality(features, m) - lambda * selector.predictedCost(m, r.task);
      if (s > top) {
        top = s;
        best = m;
      }
    }
    return best === r.model ? 1 : 0;
  };
}
