import {
  AbortError,
  type HealthState,
  type HealthStatus,
  type HealthTracker,
  type MetricsSnapshot,
  ModelNotFoundError,
  type ModelIdentity,
} from "@orchestrator-ts/core";

/** What `PassiveHealth` watches: a model with a health check and, for a `Model`, its live metrics. */
export type PassivelyWatchedModel = ModelIdentity & {
  healthCheck(): Promise<boolean>;
  readonly metrics?: Pick<MetricsSnapshot, "successRate" | "requests" | "lastError" | "latencyP50Ms">;
};

interface Watched {
  readonly model: PassivelyWatchedModel;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

// One frozen answer per state: availability() allocates nothing.
const AVAILABLE: Readonly<Record<HealthState, { available: boolean; status: HealthState }>> = {
  healthy: Object.freeze({ available: true, status: "healthy" as const }),
  degraded: Object.freeze({ available: true, status: "degraded" as const }),
  unhealthy: Object.freeze({ available: true, status: "unhealthy" as const }),
  unknown: Object.freeze({ available: true, status: "unknown" as const }),
};

/** Consecutive failed calls that make a model `unhealthy` (reported, never excluded). */
const UNHEALTHY_AFTER = 3;
/** A success rate below this makes a model `degraded`. */
const DEGRADED_BELOW = 0.9;

/**
 * The registry's health when it has no monitor: derived from the live calls it makes, never from
 * probes. It reports (`getHealth`, the registry's `health` events) and never excludes a model or
 * ends its retries: every model stays available. Status: `unhealthy` after 3 consecutive failed
 * calls, `degraded` after any failure or below a 90% success rate, `unknown` before any call.
 * Pass a `ModelHealthMonitor` (`@orchestrator-ts/health`) for circuit breaking and active checks.
 */
export class PassiveHealth implements HealthTracker {
  /** Every model stays available: selection need not ask. */
  readonly reportsOnly = true;
  readonly #watched = new Map<string, Watched>();

  watch(model: PassivelyWatchedModel): void {
    this.#watched.set(model.name, { model, consecutiveFailures: 0, consecutiveSuccesses: 0 });
  }

  unwatch(name: string): void {
    this.#watched.delete(name);
  }

  availability(name: string): { available: boolean; status: HealthState; reason?: string } {
    const w = this.#watched.get(name);
    return AVAILABLE[w === undefined ? "unknown" : statusOf(w)];
  }

  async getHealth(name: string): Promise<HealthStatus> {
    const w = this.#watched.get(name);
    if (w === undefined) throw new ModelNotFoundError(name, [...this.#watched.keys()]);
    const status = statusOf(w);
    const issues: string[] = [];
    const metrics = w.model.metrics;
    if (w.consecutiveFailures > 0) issues.push(`${w.consecutiveFailures} consecutive failed calls`);
    if (metrics?.successRate !== undefined && metrics.successRate < DEGRADED_BELOW)
      issues.push(`success rate ${(metrics.successRate * 100).toFixed(0)}% over ${metrics.requests} calls`);
    if (metrics?.lastError && status !== "healthy")
      issues.push(`last error: ${metrics.lastError.code}: ${metrics.lastError.message}`);
    return {
      isHealthy: status !== "unhealthy",
      status,
      issues,
      consecutiveFailures: w.consecutiveFailures,
      consecutiveSuccesses: w.consecutiveSuccesses,
      lastCheckedAt: undefined,
      latencyMs: metrics?.latencyP50Ms,
    };
  }

  recordSuccess(name: string): void {
    const w = this.#watched.get(name);
    if (w === undefined) return;
    w.consecutiveFailures = 0;
    w.consecutiveSuccesses++;
  }

  recordFailure(name: string, error: unknown): void {
    // The caller's own abort is not the model's failure.
    if (AbortError.isInstance(error)) return;
    const w = this.#watched.get(name);
    if (w === undefined) return;
    w.consecutiveSuccesses = 0;
    w.consecutiveFailures++;
  }

  /** Forget the counters (`registry.resetStatistics()`); the models' own metrics stay. */
  reset(): void {
    for (const w of this.#watched.values()) {
      w.consecutiveFailures = 0;
      w.consecutiveSuccesses = 0;
    }
  }

  // Nothing runs in the background.
  start(): void {}
  stop(): void {}
}

function statusOf(w: Watched): HealthState {
  if (w.consecutiveFailures >= UNHEALTHY_AFTER) return "unhealthy";
  const rate = w.model.metrics?.successRate;
  if (rate === undefined) return "unknown";
  if (w.consecutiveFailures > 0 || rate < DEGRADED_BELOW) return "degraded";
  return "healthy";
}
