/**
 * A goal's ratio read round by round. Contenders take turns inside each round, so a round's two
 * readings were taken seconds apart and share whatever the machine was doing then; the pooled
 * ratio of a phase mixes stretches of fast and slow machine. The median of the per-round ratios,
 * with a distribution-free interval around it, says whether one run decides the goal.
 */

/** The per-round ratio's median, and an interval holding the true median with at least `coverage`. */
export interface PairedRatio {
  rounds: number;
  median: number;
  /** Undefined when there are too few rounds for an interval of that coverage. */
  low?: number;
  high?: number;
  /** The interval's actual coverage (order statistics give it in steps). */
  coverage?: number;
  /** `met` / `not met` when the whole interval is on one side of the goal's line, else `undecided`. */
  verdict: "met" | "not met" | "undecided";
}

/** P(Binomial(n, 1/2) ≤ k). */
function binomialHalfCdf(n: number, k: number): number {
  let term = 0.5 ** n; // P(X = 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * The median of `values` and the widest-reaching order statistics x(k) ≤ median ≤ x(n−k+1) (1-based,
 * sorted) that cover the population median with probability ≥ `coverage` for any continuous
 * distribution: 1 − 2·P(Bin(n, ½) ≤ k − 1). Undefined bounds when even the sample's min and max do not.
 */
export function medianInterval(
  values: readonly number[],
  coverage = 0.9,
): { median: number; low?: number; high?: number; coverage?: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN };
  const median =
    n % 2 === 1 ? (sorted[(n - 1) / 2] as number) : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
  let best: number | undefined;
  for (let k = 1; 2 * k <= n; k++) {
    if (1 - 2 * binomialHalfCdf(n, k - 1) >= coverage) best = k;
    else break;
  }
  if (best === undefined) return { median };
  return {
    median,
    low: sorted[best - 1] as number,
    high: sorted[n - best] as number,
    coverage: 1 - 2 * binomialHalfCdf(n, best - 1),
  };
}

/**
 * Round i of `mine` over round i of `floor` (`pick` reads the figure; rounds where either is missing
 * or the floor's is not positive are left out), against a goal of at most `max`.
 */
export function pairedRatio<R>(
  mine: readonly R[],
  floor: readonly R[],
  pick: (round: R) => number | undefined,
  max: number,
  coverage = 0.9,
): PairedRatio | undefined {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(mine.length, floor.length); i++) {
    const a = pick(mine[i] as R);
    const b = pick(floor[i] as R);
    if (a === undefined || b === undefined || !Number.isFinite(a) || !(b > 0)) continue;
    ratios.push(a / b);
  }
  if (ratios.length === 0) return undefined;
  const { median, low, high, coverage: covered } = medianInterval(ratios, coverage);
  const verdict =
    low === undefined || high === undefined ? "undecided" : high <= max ? "met" : low > max ? "not met" : "undecided";
  return {
    rounds: ratios.length,
    median,
    ...(low === undefined ? {} : { low, high, coverage: covered }),
    verdict,
  };
}
