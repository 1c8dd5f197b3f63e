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
export class DiagonalLogisticPredictor {
  readonly mean: Float64Array;
  readonly precision: Float64Array;
  /** Examples seen (their total weight). */
  count = 0;

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

  /** Learn from one example: quality `y` in [0, 1], importance `weight`. */
  update(x: SparseFeatures, y: number, weight = 1): void {
    if (!(weight > 0) || x.size === 0) return;
    const idx = x.indices;
    const val = x.values;
    const m = this.mean;
    const q = this.precision;
    let z0 = 0;
    let v = 0;
    for (let k = 0; k < x.size; k++) {
      const i = idx[k] as number;
      const xi = val[k] as number;
      z0 += (m[i] as number) * xi;
      v += (xi * xi) / (q[i] as number);
    }
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
      m[i] = (m[i] as number) + (s * xi) / qi;
      q[i] = qi + curvature * xi * xi;
    }
    this.count += weight;
  }

  reset(): void {
    this.mean.fill(0);
    this.precision.fill(this.ridge);
    this.count = 0;
  }
}
