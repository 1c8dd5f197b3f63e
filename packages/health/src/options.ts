import {
  type ConfigIssue,
  ConfigError,
  type HealthState,
  type HealthStateStore,
  type HealthStatus,
} from "@orchestrator-ts/core";

/** Where a model's circuit breaker stands. */
export type CircuitState = "closed" | "open" | "half-open";

/** `HealthStatus` plus what the monitor knows beyond the core contract. */
export interface ModelHealth extends HealthStatus {
  name: string;
  circuit: CircuitState;
  /** Share of successful live calls in the recent window; `undefined` before any. */
  successRate: number | undefined;
  /** 95th percentile latency of recent successful live calls; `undefined` before any. */
  p95LatencyMs: number | undefined;
}

/** What `availability()` answers. The same frozen object comes back until the state changes. */
export interface Availability {
  readonly available: boolean;
  readonly status: HealthState;
  readonly reason?: string;
}

export type HealthChangeListener = (name: string, health: ModelHealth) => void;

export interface ModelHealthMonitorOptions {
  /** Interval between active checks of each model, once `start()`ed. Default 300 000 (the seed's 5 minutes). */
  checkIntervalMs?: number;
  /** Consecutive failures (live calls or checks) that open the circuit. Default 3. */
  failureThreshold?: number;
  /** Consecutive successes that close an open circuit again. Default 2. */
  recoveryThreshold?: number;
  /** A health check that takes longer fails with "health check timed out". Default 10 000. */
  timeoutMs?: number;
  /** Health checks running at once, across all models. Default 4. */
  concurrency?: number;
  /** Each interval is stretched or shrunk by up to this fraction, so checks do not come in lockstep. Default 0.1. */
  jitter?: number;
  /** How long an open circuit rests before half-open probing. Default 30 000. */
  cooldownMs?: number;
  /** Rest after a 429 that did not say how long (`retryAfterMs` undefined). Default 5 000. */
  rateLimitCooldownMs?: number;
  /** p95 latency of recent successful live calls above this marks the model `degraded`. Default: off. */
  degradedLatencyMs?: number;
  /** Success rate of recent live calls below this marks the model `degraded`. Default 0.8; 0 turns it off. */
  degradedSuccessRate?: number;
  /** Live calls the success rate and p95 are computed over. Default 20. */
  windowSize?: number;
  /** Calls in the window before success rate or latency can mark a model degraded. Default 5. */
  minSamples?: number;
  /** Health state shared between processes (e.g. `@orchestrator-ts/redis`). */
  stateStore?: HealthStateStore;
  /** Called when a model's status or availability changes (same as `on("change", …)`). */
  onChange?: HealthChangeListener;
  /** Clock (epoch ms), for tests. Default `Date.now`. */
  now?: () => number;
  /** Random numbers in [0, 1) for jitter, for tests. Default `Math.random`. */
  random?: () => number;
}

export interface ResolvedOptions {
  checkIntervalMs: number;
  failureThreshold: number;
  recoveryThreshold: number;
  timeoutMs: number;
  concurrency: number;
  jitter: number;
  cooldownMs: number;
  rateLimitCooldownMs: number;
  degradedLatencyMs: number | undefined;
  degradedSuccessRate: number;
  windowSize: number;
  minSamples: number;
}

type Rule = "positive" | "positiveInt" | "fraction";

const RULES: Record<keyof ResolvedOptions, Rule> = {
  checkIntervalMs: "positive",
  failureThreshold: "positiveInt",
  recoveryThreshold: "positiveInt",
  timeoutMs: "positive",
  concurrency: "positiveInt",
  jitter: "fraction",
  cooldownMs: "positive",
  rateLimitCooldownMs: "positive",
  degradedLatencyMs: "positive",
  degradedSuccessRate: "fraction",
  windowSize: "positiveInt",
  minSamples: "positiveInt",
};

const RULE_TEXT: Record<Rule, string> = {
  positive: "must be a finite number greater than 0",
  positiveInt: "must be an integer of at least 1",
  fraction: "must be a number from 0 to 1",
};

function valid(rule: Rule, value: number): boolean {
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (rule === "fraction") return value >= 0 && value <= 1;
  if (rule === "positiveInt") return Number.isInteger(value) && value >= 1;
  return value > 0;
}

/** Defaults applied and every number checked, so a typo fails at construction with a `ConfigError`. */
export function resolveOptions(options: ModelHealthMonitorOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    checkIntervalMs: options.checkIntervalMs ?? 300_000,
    failureThreshold: options.failureThreshold ?? 3,
    recoveryThreshold: options.recoveryThreshold ?? 2,
    timeoutMs: options.timeoutMs ?? 10_000,
    concurrency: options.concurrency ?? 4,
    jitter: options.jitter ?? 0.1,
    cooldownMs: options.cooldownMs ?? 30_000,
    rateLimitCooldownMs: options.rateLimitCooldownMs ?? 5_000,
    degradedLatencyMs: options.degradedLatencyMs,
    degradedSuccessRate: options.degradedSuccessRate ?? 0.8,
    windowSize: options.windowSize ?? 20,
    minSamples: options.minSamples ?? 5,
  };
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(RULES) as (keyof ResolvedOptions)[]) {
    const value = resolved[key];
    const rule = RULES[key];
    if (value !== undefined && !valid(rule, value))
      issues.push({ path: key, message: `${RULE_TEXT[rule]} (got ${String(value)})` });
  }
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid ModelHealthMonitor options" });
  return resolved;
}
