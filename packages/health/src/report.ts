import type { HealthStatus } from "@orchestrator-ts/core";
import { type Breaker, type BreakerRules, SEVERITY, freeze } from "./circuit";
import { formatClock } from "./format";
import type { Availability, ModelHealth } from "./options";

// What the monitor reports, from a breaker and (when another process shares its health state)
// that process's view. Pure: the monitor reads the store and passes what it found.

/** A model blocked by another process: the worse of the two statuses, and that process's reasons. */
export function sharedBlock(local: Availability, shared: HealthStatus): Availability {
  const status = SEVERITY[shared.status] > SEVERITY[local.status] ? shared.status : local.status;
  const what =
    shared.issues.length > 0
      ? shared.issues.join("; ")
      : `${shared.status} until ${formatClock(shared.cooldownUntil ?? 0)}`;
  return freeze(false, status, `${what} (shared health state)`);
}

/** A model's health: its breaker's issues, merged with a shared block that outlasts ours when `shared` is given. */
export function healthReport(
  name: string,
  breaker: Breaker,
  rules: BreakerRules,
  check: { lastCheckedAt: number | undefined; latencyMs: number | undefined },
  now: number,
  shared: HealthStatus | undefined,
): ModelHealth {
  const { issues, successRate, p95LatencyMs, ...rest } = rules.report(breaker, now);
  let { cooldownUntil } = rest;
  let status = breaker.status;
  if (shared?.cooldownUntil !== undefined && shared.cooldownUntil > now && shared.cooldownUntil !== cooldownUntil) {
    for (const issue of shared.issues) issues.push(`${issue} (shared health state)`);
    if (SEVERITY[shared.status] > SEVERITY[status]) status = shared.status;
    cooldownUntil = Math.max(cooldownUntil ?? 0, shared.cooldownUntil);
  }
  return {
    name,
    // Degraded is not healthy (it has issues worth reading) but stays selectable; see availability().
    isHealthy: status === "healthy" || status === "unknown",
    status,
    issues,
    consecutiveFailures: breaker.consecutiveFailures,
    consecutiveSuccesses: breaker.consecutiveSuccesses,
    lastCheckedAt: check.lastCheckedAt,
    latencyMs: check.latencyMs,
    cooldownUntil,
    circuit: breaker.circuit,
    successRate,
    p95LatencyMs,
  };
}
