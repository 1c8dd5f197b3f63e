import {
  AbortError,
  ContextLengthError,
  type HealthState,
  OrchestratorError,
  ProviderError,
} from "@orchestrator-ts/core";
import { formatClock } from "./format";
import type { Availability, CircuitState, ResolvedOptions } from "./options";
import { OutcomeWindow } from "./window";

// One model's circuit breaker as a pure state machine: outcomes in, circuit / status /
// availability out. Time comes in as an argument; no timers, no shared store, no listeners —
// the monitor (monitor.ts) schedules checks and shares state around it.

const DEGRADED_RATE = 1;
const DEGRADED_LATENCY = 2;

// Client-side mistakes say nothing about the model's health.
const REQUEST_FAULT_STATUS = new Set([400, 413, 422]);

/** Whether a failed call says something about the model (an abort or a bad request does not). */
export function countsAgainstModel(error: unknown): boolean {
  if (AbortError.isInstance(error) || ContextLengthError.isInstance(error)) return false;
  // A request a model's mapping refused before it was sent (a wire format's InvalidMessagesRequestError,
  // InvalidChatRequestError: bad `betas`, a malformed part) is the caller's mistake, whoever sent it.
  if (OrchestratorError.isInstance(error) && error.code === "invalid_request_error") return false;
  return !(ProviderError.isInstance(error) && error.status !== undefined && REQUEST_FAULT_STATUS.has(error.status));
}

export const UNKNOWN: Availability = Object.freeze({ available: true, status: "unknown" });

export const SEVERITY: Record<HealthState, number> = { unknown: 0, healthy: 0, degraded: 1, unhealthy: 2 };

export function freeze(available: boolean, status: HealthState, reason: string | undefined): Availability {
  return Object.freeze(reason === undefined ? { available, status } : { available, status, reason });
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export interface Breaker {
  circuit: CircuitState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Outcomes seen (checks and live calls); 0 means `unknown`. */
  observations: number;
  lastFailure: string | undefined;
  openReason: string;
  openedAt: number;
  cooldownUntil: number;
  halfOpenAt: number;
  rateLimitedUntil: number;
  readonly window: OutcomeWindow;
  degraded: number;
  status: HealthState;
  avail: Availability;
  /** When `avail` goes stale by the clock alone (cooldown or rate limit ends). */
  blockedUntil: number;
  /** Our circuit just closed after an outage: the one local event that may lift another process's block. */
  recovered: boolean;
  /** Half-open without a health check to probe with: live calls are the probe. */
  probesWithTraffic: boolean;
}

/** The options a breaker runs on, and its reason texts built once from them. */
export class BreakerRules {
  readonly options: Readonly<ResolvedOptions>;
  // Stable reasons (no live numbers) so availability objects are not rebuilt on every call.
  readonly #degradedText: readonly string[];

  constructor(options: Readonly<ResolvedOptions>) {
    this.options = options;
    const rate = `success rate below ${percent(options.degradedSuccessRate)}`;
    const latency = `p95 latency above ${options.degradedLatencyMs} ms`;
    this.#degradedText = ["", `degraded: ${rate}`, `degraded: ${latency}`, `degraded: ${rate}, ${latency}`];
  }

  newBreaker(): Breaker {
    return {
      circuit: "closed",
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      observations: 0,
      lastFailure: undefined,
      openReason: "",
      openedAt: 0,
      cooldownUntil: 0,
      halfOpenAt: 0,
      rateLimitedUntil: 0,
      window: new OutcomeWindow(this.options.windowSize),
      degraded: 0,
      status: "unknown",
      avail: UNKNOWN,
      blockedUntil: Number.POSITIVE_INFINITY,
      recovered: false,
      probesWithTraffic: true,
    };
  }

  /** A success (a live call when `live`, else a health check). Returns true when it closed the circuit. */
  success(b: Breaker, latencyMs: number | undefined, live: boolean): boolean {
    b.observations++;
    b.consecutiveFailures = 0;
    b.consecutiveSuccesses++;
    if (live) {
      b.window.record(true, latencyMs);
      this.#assess(b);
    }
    if (b.circuit !== "closed" && b.consecutiveSuccesses >= this.options.recoveryThreshold) {
      this.close(b);
      return true;
    }
    return false;
  }

  /** A failure with its one-line description. Returns true when it opened the circuit. */
  failure(b: Breaker, detail: string, live: boolean, now: number): boolean {
    b.observations++;
    b.consecutiveSuccesses = 0;
    b.consecutiveFailures++;
    b.lastFailure = detail;
    if (live) {
      b.window.record(false);
      this.#assess(b);
    }
    const { failureThreshold } = this.options;
    if (b.circuit === "half-open" || (b.circuit === "closed" && b.consecutiveFailures >= failureThreshold)) {
      b.circuit = "open";
      b.openedAt = now;
      b.cooldownUntil = now + this.options.cooldownMs;
      b.openReason = this.failureSummary(b);
      return true;
    }
    return false;
  }

  /** A 429: unavailable until `until`, without counting against the circuit. */
  rateLimited(b: Breaker, until: number): void {
    b.rateLimitedUntil = Math.max(b.rateLimitedUntil, until);
  }

  close(b: Breaker): void {
    b.circuit = "closed";
    b.consecutiveFailures = 0;
    b.lastFailure = undefined;
    // Calls from before the outage would keep it "degraded" long after it came back.
    b.window.reset();
    b.degraded = 0;
    b.recovered = true;
  }

  halfOpen(b: Breaker, now: number): void {
    b.circuit = "half-open";
    b.halfOpenAt = now;
  }

  #assess(b: Breaker): void {
    const { degradedSuccessRate, degradedLatencyMs, minSamples } = this.options;
    const w = b.window;
    let flags = 0;
    if (w.calls >= minSamples && (w.successRate() ?? 1) < degradedSuccessRate) flags |= DEGRADED_RATE;
    if (degradedLatencyMs !== undefined && w.latencySamples >= minSamples && (w.p95() ?? 0) > degradedLatencyMs)
      flags |= DEGRADED_LATENCY;
    b.degraded = flags;
  }

  failureSummary(b: Breaker): string {
    const n = b.consecutiveFailures;
    const last = b.lastFailure ?? "unknown failure";
    return n <= 1 ? last : `${n} consecutive failures: ${last}`;
  }

  /** Derive status and availability; the cached availability object is replaced only when it changes. */
  recompute(b: Breaker, now: number): void {
    let status: HealthState;
    if (b.circuit !== "closed") status = "unhealthy";
    else if (b.observations === 0) status = "unknown";
    else if (b.consecutiveFailures > 0 || b.degraded !== 0) status = "degraded";
    else status = "healthy";
    let available = true;
    let reason: string | undefined;
    let blockedUntil = Number.POSITIVE_INFINITY;
    if (b.circuit === "open") {
      available = false;
      reason = `circuit open until ${formatClock(b.cooldownUntil)} after ${b.openReason}`;
      blockedUntil = b.cooldownUntil;
    } else if (b.circuit === "half-open") {
      available = b.probesWithTraffic;
      reason = available
        ? "circuit half-open: letting trial calls through"
        : `circuit half-open: probing recovery (${b.consecutiveSuccesses} of ${this.options.recoveryThreshold} successes)`;
    } else if (b.rateLimitedUntil > now) {
      available = false;
      reason = `rate limited until ${formatClock(b.rateLimitedUntil)}`;
      blockedUntil = b.rateLimitedUntil;
    } else if (status === "degraded") {
      reason = b.degraded !== 0 ? this.#degradedText[b.degraded] : this.failureSummary(b);
    }
    b.status = status;
    b.blockedUntil = blockedUntil;
    const prev = b.avail;
    if (prev.available !== available || prev.status !== status || prev.reason !== reason)
      b.avail = freeze(available, status, reason);
  }

  /** What a health report says of this breaker alone: its issues and until when it blocks. */
  report(
    b: Breaker,
    now: number,
  ): {
    issues: string[];
    cooldownUntil: number | undefined;
    successRate: number | undefined;
    p95LatencyMs: number | undefined;
  } {
    const issues: string[] = [];
    let cooldownUntil: number | undefined;
    if (b.circuit === "open") {
      issues.push(
        `circuit open until ${formatClock(b.cooldownUntil)}`,
        b.consecutiveFailures > 0 ? this.failureSummary(b) : b.openReason,
      );
      cooldownUntil = b.cooldownUntil;
    } else if (b.circuit === "half-open") {
      issues.push(
        `circuit half-open: probing recovery (${b.consecutiveSuccesses} of ${this.options.recoveryThreshold} successes)`,
        b.openReason,
      );
      // A lease: other processes leave the probing to us for this long.
      cooldownUntil = b.halfOpenAt + this.options.cooldownMs;
    } else if (b.consecutiveFailures > 0) {
      issues.push(this.failureSummary(b));
    }
    if (b.rateLimitedUntil > now) {
      issues.push(`rate limited until ${formatClock(b.rateLimitedUntil)}`);
      cooldownUntil = Math.max(cooldownUntil ?? 0, b.rateLimitedUntil);
    }
    const w = b.window;
    const successRate = w.successRate();
    const p95LatencyMs = w.p95();
    if (b.degraded & DEGRADED_RATE && successRate !== undefined) {
      issues.push(
        `success rate ${percent(successRate)} over the last ${w.calls} calls is below ${percent(this.options.degradedSuccessRate)}`,
      );
    }
    if (b.degraded & DEGRADED_LATENCY && p95LatencyMs !== undefined) {
      issues.push(
        `p95 latency ${Math.round(p95LatencyMs)} ms over the last ${w.latencySamples} calls exceeds ${this.options.degradedLatencyMs} ms`,
      );
    }
    return { issues, cooldownUntil, successRate, p95LatencyMs };
  }
}
