import {
  type CandidateScore,
  ConfigError,
  type ConfigIssue,
  type ModelSelector,
  type SelectionCandidate,
  type SelectionContext,
  type SelectorChoice,
} from "@orchestrator-ts/core";

export interface CostBasedSelectorOptions {
  /** Highest acceptable USD for one request (estimated before the call). */
  maxCostPerRequest?: number;
  /** Local models (no per-token bill) go before any remote one. */
  preferLocalModels?: boolean;
}

function successRate(c: SelectionCandidate): number {
  const s = c.overall;
  return s && s.trials > 0 ? s.successes / s.trials : 1;
}

function usd(value: number): string {
  return `$${value < 0.01 ? value.toPrecision(3) : value.toFixed(4)}`;
}

/**
 * The cheapest eligible model for this request (estimated from its tokens and `maxTokens`),
 * local models first when asked. Ties go to the model with the better observed success rate.
 */
export class CostBasedSelector implements ModelSelector {
  readonly name = "cost";
  readonly maxCostPerRequest: number | undefined;
  readonly preferLocalModels: boolean;

  constructor(options: CostBasedSelectorOptions = {}) {
    if (options.maxCostPerRequest !== undefined && !(options.maxCostPerRequest >= 0)) {
      throw new ConfigError(
        [{ path: "maxCostPerRequest", message: `must be a non-negative USD amount, got ${options.maxCostPerRequest}` }],
        { title: "Invalid CostBasedSelector options" },
      );
    }
    this.maxCostPerRequest = options.maxCostPerRequest;
    this.preferLocalModels = options.preferLocalModels ?? false;
  }

  exclude(candidate: SelectionCandidate): string | undefined {
    const max = this.maxCostPerRequest;
    if (max === undefined || candidate.estimatedCostUsd <= max) return undefined;
    return `estimated cost ${usd(candidate.estimatedCostUsd)} exceeds maxCostPerRequest ${usd(max)}`;
  }

  #better(a: SelectionCandidate, b: SelectionCandidate): boolean {
    if (this.preferLocalModels && a.model.isLocal !== b.model.isLocal) return a.model.isLocal;
    if (a.estimatedCostUsd !== b.estimatedCostUsd) return a.estimatedCostUsd < b.estimatedCostUsd;
    const ra = successRate(a);
    const rb = successRate(b);
    if (ra !== rb) return ra > rb;
    return a.order < b.order;
  }

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    let best = 0;
    for (let i = 1; i < candidates.length; i++)
      if (this.#better(candidates[i] as SelectionCandidate, candidates[best] as SelectionCandidate)) best = i;
    if (!context.explain) return { index: best };
    const scores: CandidateScore[] = candidates.map((c) => ({
      // Higher is better: local bonus (when preferred) dominates the cost score in (0, 1].
      score: (this.preferLocalModels && c.model.isLocal ? 1 : 0) + 1 / (1 + c.estimatedCostUsd / 0.002),
      note: `estimated ${usd(c.estimatedCostUsd)}${c.model.isLocal ? ", local" : ""}`,
    }));
    return { index: best, scores };
  }
}

export interface PerformanceSelectorOptions {
  /** Exclude models slower than this (observed median tokens/s, else declared). */
  minTokensPerSecond?: number;
  /** Exclude models whose observed p95 latency exceeds this many seconds (the seed's unit). */
  maxResponseTime?: number;
  /** The same limit in milliseconds; wins over `maxResponseTime`. */
  maxResponseTimeMs?: number;
  /** Favour models that stream natively. */
  preferStreaming?: boolean;
}

/**
 * The fastest eligible model: score = success rate × (speed score + latency score), plus a
 * bonus for native streaming when preferred. Speed score = tps / (tps + 50); latency score =
 * 1 / (1 + p50 / 1 s). A model with no observations yet scores 0.5 on each, so it gets tried.
 */
export class PerformanceSelector implements ModelSelector {
  readonly name = "performance";
  readonly minTokensPerSecond: number | undefined;
  readonly maxResponseTimeMs: number | undefined;
  readonly preferStreaming: boolean;

  constructor(options: PerformanceSelectorOptions = {}) {
    const issues: ConfigIssue[] = [];
    for (const key of ["minTokensPerSecond", "maxResponseTime", "maxResponseTimeMs"] as const) {
      const v = options[key];
      if (v !== undefined && !(typeof v === "number" && v >= 0))
        issues.push({ path: key, message: `must be a non-negative number, got ${String(v)}` });
    }
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid PerformanceSelector options" });
    this.minTokensPerSecond = options.minTokensPerSecond;
    this.maxResponseTimeMs =
      options.maxResponseTimeMs ?? (options.maxResponseTime === undefined ? undefined : options.maxResponseTime * 1000);
    this.preferStreaming = options.preferStreaming ?? false;
  }

  exclude(candidate: SelectionCandidate): string | undefined {
    const model = candidate.model;
    if (this.minTokensPerSecond !== undefined) {
      const tps = model.metrics.tokensPerSecond ?? model.capabilities.tokensPerSecond;
      if (tps !== undefined && tps < this.minTokensPerSecond)
        return `speed ${tps.toFixed(1)} tokens/s is below minTokensPerSecond ${this.minTokensPerSecond}`;
    }
    if (this.maxResponseTimeMs !== undefined) {
      const p95 = model.metrics.latencyP95Ms;
      if (p95 !== undefined && p95 > this.maxResponseTimeMs)
        return `observed p95 latency ${Math.round(p95)} ms exceeds maxResponseTime ${this.maxResponseTimeMs} ms`;
    }
    return undefined;
  }

  score(candidate: SelectionCandidate): number {
    const model = candidate.model;
    const tps = model.metrics.tokensPerSecond ?? model.capabilities.tokensPerSecond;
    const p50 = model.metrics.latencyP50Ms;
    const speed = tps === undefined ? 0.5 : tps / (tps + 50);
    const latency = p50 === undefined ? 0.5 : 1 / (1 + p50 / 1000);
    const streaming = this.preferStreaming && model.capabilities.supportsStreaming ? 0.25 : 0;
    return successRate(candidate) * (speed + latency) + streaming;
  }

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < candidates.length; i++) {
      const s = this.score(candidates[i] as SelectionCandidate);
      if (s > bestScore) {
        best = i;
        bestScore = s;
      }
    }
    if (!context.explain) return { index: best };
    return { index: best, scores: candidates.map((c) => ({ score: this.score(c), trials: c.overall?.trials ?? 0 })) };
  }
}
