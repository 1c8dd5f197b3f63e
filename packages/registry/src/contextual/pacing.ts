import { ConfigError, type ConfigIssue } from "@orchestrator-ts/core";

export interface BudgetPacerOptions {
  /** Average USD per request to stay at or under. */
  budgetPerRequest: number;
  /** Starting price of cost, in quality per USD. Default `0.05 / budgetPerRequest`. */
  initialLambda?: number;
  /** Step of the multiplicative update. Default 0.05. */
  rate?: number;
  /** One request's cost counts at most this many budgets (one expensive outlier cannot swing λ). Default 10. */
  maxCostRatio?: number;
}

/**
 * Online pacing of an average budget by a Lagrange multiplier (the "price" of a dollar).
 *
 * The router maximises `quality − λ·cost` per request. Maximising total quality subject to
 * `mean cost ≤ B` has the Lagrangian dual `min over λ ≥ 0`, whose (sub)gradient in λ is
 * `B − cost`. After each request of cost c the pacer takes a multiplicative (exponentiated-
 * gradient) step on the dimensionless price `μ = λ·B`:
 *
 *     μ ← clip(μ · exp(rate · (min(c/B, maxCostRatio) − 1)), μmin, μmax)
 *
 * Spending above budget raises the price, spending below lowers it. Because the steps multiply,
 * `ln(μ_T / μ_0) = rate · Σ (c_t/B − 1)` when no clipping happens: the cumulative overspend, in
 * budgets, equals `ln(μ_T/μ_0)/rate`, so the running mean stays within
 * `B · (1 + ln(μ_T/μ_0) / (rate · T))` — about 2% after 1,000 requests at the default rate when
 * the price ends within a factor e of where it started. A warm start (`ContextualSelector.fit`)
 * sets μ_0 to the price that meets the budget on the training data, so the pacer only corrects.
 *
 * The price alone lets the running mean drift by that `ln(μ_T/μ_0)/rate` budgets while it finds
 * its level, which is a few percent over a thousand requests from a cold start. A caller that can
 * decline a cost it has not yet paid (a cascade's escalation) also keeps the account:
 * `headroomUsd` is the budget this request may still spend with the running mean at or under
 * the target — the unspent budget of earlier requests, at most `1/rate` budgets of it (the
 * price's own memory), plus this request's.
 */
export class BudgetPacer {
  readonly budgetPerRequest: number;
  readonly rate: number;
  readonly maxCostRatio: number;
  #mu: number;
  /** Unspent budget carried over (negative after an overspend), capped at `#maxCredit`. */
  #credit = 0;
  readonly #maxCredit: number;
  /** Requests and USD observed (for `meanCostUsd`). */
  requests = 0;
  spentUsd = 0;
  static readonly MIN_PRICE = 1e-6;
  static readonly MAX_PRICE = 1e3;

  constructor(options: BudgetPacerOptions) {
    const issues: ConfigIssue[] = [];
    const b = options.budgetPerRequest;
    if (!(typeof b === "number" && Number.isFinite(b) && b > 0))
      issues.push({ path: "budgetPerRequest", message: `must be a positive USD amount, got ${String(b)}` });
    const rate = options.rate ?? 0.05;
    if (!(Number.isFinite(rate) && rate > 0 && rate <= 1))
      issues.push({ path: "pacingRate", message: `must be in (0, 1], got ${String(rate)}` });
    const maxCostRatio = options.maxCostRatio ?? 10;
    if (!(maxCostRatio > 1)) issues.push({ path: "maxCostRatio", message: `must be > 1, got ${String(maxCostRatio)}` });
    if (options.initialLambda !== undefined && !(options.initialLambda >= 0))
      issues.push({ path: "lambda", message: `must be ≥ 0, got ${String(options.initialLambda)}` });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid budget pacing options" });
    this.budgetPerRequest = b;
    this.rate = rate;
    this.maxCostRatio = maxCostRatio;
    this.#maxCredit = (b * maxCostRatio) / rate;
    this.#mu = BudgetPacer.#clip(options.initialLambda !== undefined ? options.initialLambda * b : 0.05);
  }

  static #clip(mu: number): number {
    return Math.min(BudgetPacer.MAX_PRICE, Math.max(BudgetPacer.MIN_PRICE, mu));
  }

  /** The current price of cost, in quality per USD. */
  get lambda(): number {
    return this.#mu / this.budgetPerRequest;
  }

  set lambda(value: number) {
    this.#mu = BudgetPacer.#clip(value * this.budgetPerRequest);
  }

  get meanCostUsd(): number {
    return this.requests > 0 ? this.spentUsd / this.requests : 0;
  }

  /** USD the request in flight may spend in all with the running mean held: this request's budget plus the carried-over credit. */
  get headroomUsd(): number {
    return this.budgetPerRequest + this.#credit;
  }

  /** One request's actual cost. */
  observe(costUsd: number): void {
    if (!Number.isFinite(costUsd) || costUsd < 0) return;
    this.requests++;
    this.spentUsd += costUsd;
    this.#credit = Math.min(this.#maxCredit, this.#credit + this.budgetPerRequest - costUsd);
    const ratio = Math.min(costUsd / this.budgetPerRequest, this.maxCostRatio);
    this.#mu = BudgetPacer.#clip(this.#mu * Math.exp(this.rate * (ratio - 1)));
  }

  save(): { lambda: number; requests: number; spentUsd: number } {
    return { lambda: this.lambda, requests: this.requests, spentUsd: this.spentUsd };
  }

  restore(state: { lambda: number; requests?: number; spentUsd?: number }): void {
    this.lambda = state.lambda;
    this.requests = state.requests ?? 0;
    this.spentUsd = state.spentUsd ?? 0;
  }
}
