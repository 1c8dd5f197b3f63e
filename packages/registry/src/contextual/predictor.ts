import type { SparseFeatures } from "./features";

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * Online Bayesian logistic regression with a diagonal Gaussian posterior over the weights
 * (Chapelle & Li 2011, "An Empirical Evaluation of Thompson Sampling", Algorithm 3, applied one
 * example at a time). It predicts a quality in [0, 1] (soft labels are fine) from sparse features.
 *
 * Weight `i` has mean `mean[i]` and precision `precision[i]`; the prior is N(0, 1/ridge). For an
 * example (x, y, weight w) the update is a Laplace step:
 *
 * 1. the posterior mode `m' = argmin ½·Σ qᵢ(wᵢ − mᵢ)² + w·logloss(y, σ(w·x))` lies on the line
 *    `m + s·x/q`, so a scalar Newton solve in `s` finds it exactly (no matrix);
 * 2. `qᵢ += w·p(1 − p)·xᵢ²` with `p = σ(m'·x)` (the diagonal of the Hessian).
 *
 * Prediction and update cost O(non-zeros of x). The predictive logit is Gaussian with mean
 * `m·x` and variance `Σ xᵢ²/qᵢ`: UCB adds a multiple of its standard deviation, Thompson samples it.
 */
/** A change in a diagonal Gaussian posterior, in natural parameters: Δ(precision·mean), Δprecision. */
export interface NaturalDelta {
  readonly eta: Float64Array;
  readonly q: Float64Array;
  count: number;
}

export class DiagonalLogisticPredictor {
  readonly mean: Float64Array;
  readonly precision: Float64Array;
  /** Examples seen (their total weight). */
  count = 0;
  readonly #moments = new Float64Array(2);

  constructor(
    readonly dimensions: number,
    readonly ridge: number,
  ) {
    this.mean = new Float64Array(dimensions);
    this.precision = new Float64Array(dimensions).fill(ridge);
  }

  /** Logit mean `m·x`. */
  logit(x: SparseFeatures): number {
    const idx = x.indices;
    const val = x.values;
    const m = this.mean;
    let z = 0;
    for (let k = 0; k < x.size; k++) z += (m[idx[k] as number] as number) * (val[k] as number);
    return z;
  }

  /** Logit variance `Σ xᵢ²/qᵢ`. */
  variance(x: SparseFeatures): number {
    const idx = x.indices;
    const val = x.values;
    const q = this.precision;
    let v = 0;
    for (let k = 0; k < x.size; k++) {
      const xi = val[k] as number;
      v += (xi * xi) / (q[idx[k] as number] as number);
    }
    return v;
  }

  /** Writes the logit mean and variance into `out[0]`, `out[1]` in one pass. */
  moments(x: SparseFeatures, out: Float64Array): void {
    const idx = x.indices;
    const val = x.values;
    const m = this.mean;
    const q = this.precision;
    let z = 0;
    let v = 0;
    for (let k = 0; k < x.size; k++) {
      const i = idx[k] as number;
      const xi = val[k] as number;
      z += (m[i] as number) * xi;
      v += (xi * xi) / (q[i] as number);
    }
    out[0] = z;
    out[1] = v;
  }

  /**
   * Learn from one example: quality `y` in [0, 1], importance `weight`. With `track`, the change
   * in natural parameters (precision·mean and precision) is added to it: the additive form in
   * which processes share what they learnt (see `ContextualSelector.share`).
   */
  update(x: SparseFeatures, y: number, weight = 1, track?: NaturalDelta): void {
    if (!(weight > 0) || x.size === 0) return;
    const idx = x.indices;
    const val = x.values;
    const m = this.mean;
    const q = this.precision;
    const moments = this.#moments;
    this.moments(x, moments);
    const z0 = moments[0] as number;
    const v = moments[1] as number;
    // Solve s + w·(σ(z0 + s·v) − y) = 0 (monotone in s: Newton from 0 converges fast).
    let s = 0;
    for (let iter = 0; iter < 8; iter++) {
      const p = sigmoid(z0 + s * v);
      const g = s + weight * (p - y);
      const h = 1 + weight * v * p * (1 - p);
      const step = g / h;
      s -= step;
      if (Math.abs(step) < 1e-9) break;
    }
    const p = sigmoid(z0 + s * v);
    const curvature = weight * p * (1 - p);
    for (let k = 0; k < x.size; k++) {
      const i = idx[k] as number;
      const xi = val[k] as number;
      const qi = q[i] as number;
      const mi = m[i] as number;
      const m2 = mi + (s * xi) / qi;
      const q2 = qi + curvature * xi * xi;
      m[i] = m2;
      q[i] = q2;
      if (track) {
        track.eta[i] = (track.eta[i] as number) + q2 * m2 - qi * mi;
        track.q[i] = (track.q[i] as number) + q2 - qi;
      }
    }
    this.count += weight;
    if (track) track.count += weight;
  }

  /** Adds a change in natural parameters (another process's learning) to the posterior. */
  apply(delta: NaturalDelta, sign: 1 | -1 = 1): void {
    const m = this.mean;
    const q = this.precision;
    for (let i = 0; i < this.dimensions; i++) {
      const dq = (delta.q[i] as number) * sign;
      const de = (delta.eta[i] as number) * sign;
      if (dq === 0 && de === 0) continue;
      const qi = q[i] as number;
      const q2 = Math.max(qi + dq, this.ridge);
      m[i] = (qi * (m[i] as number) + de) / q2;
      q[i] = q2;
    }
    this.count += delta.count * sign;
  }

  reset(): void {
    this.mean.fill(0);
    this.precision.fill(this.ridge);
    this.count = 0;
  }
}
