import { ConfigError, type ConfigIssue } from "@orchestrator-ts/core";
import type { RedisConnectionOptions } from "./connection";

/**
 * What a limiter does while Redis does not answer:
 * - `"share"` (default): this process keeps to its share of each limit (the limit divided by the
 *   processes that used it in the last minute, rounded up), on top of the slots it already holds;
 * - `"local"`: this process keeps to the whole limits on its own (N processes may reach N × them);
 * - `"reject"`: fail closed — only slots and starts already leased from Redis are used; other
 *   acquires keep retrying Redis until their `timeoutMs`, then fail with `RateLimitError`.
 */
export type WhenRedisUnavailable = "share" | "local" | "reject";

export interface RedisRateLimiterOptions extends RedisConnectionOptions {
  /** Name of the limited resource, usually `model.name`: processes using the same key share the limits. */
  key: string;
  /** Calls started in any sliding 60 s window, across every process. */
  maxRequestsPerMinute?: number;
  /** Calls in flight at once, across every process. */
  maxConcurrentRequests?: number;
  /** Held slots are kept alive by a heartbeat; a crashed holder's slots are reclaimed this long after its last beat. Default 30 s. */
  leaseTtlMs?: number;
  /** Prefix of the Redis keys. Default `"orc:limit:"`. */
  keyPrefix?: string;
  /** Longest wait between two asks while slots are held elsewhere (their release is not signalled). Default 50 ms. */
  pollIntervalMs?: number;
  /** See `WhenRedisUnavailable`. Default `"share"`. */
  whenUnavailable?: WhenRedisUnavailable;
  /**
   * How long a leased slice of per-minute starts may be used (its unused starts then go back),
   * and how often held concurrency slots are confirmed. Default 1,000 ms.
   */
  sliceMs?: number;
  /** How long a freed concurrency slot stays with this process, for its next call, before it goes back. Default 50 ms. */
  idleReturnMs?: number;
}

export interface RedisRateLimiterEvents {
  /** Redis could not be used for an acquire; the `whenUnavailable` policy answered instead. */
  fallback: [{ key: string; reason: string }];
}

/** Throws a `ConfigError` naming every option that is wrong. */
export function checkOptions(options: RedisRateLimiterOptions): void {
  const issues: ConfigIssue[] = [];
  const positiveInt = (name: keyof RedisRateLimiterOptions) => {
    const v = options[name];
    if (v !== undefined && !(typeof v === "number" && Number.isInteger(v) && v > 0))
      issues.push({ path: name, message: `must be a positive integer, got ${JSON.stringify(v)}` });
  };
  const positiveMs = (name: keyof RedisRateLimiterOptions, min = 1) => {
    const v = options[name];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= min))
      issues.push({ path: name, message: `must be at least ${min} ms, got ${JSON.stringify(v)}` });
  };
  positiveInt("maxRequestsPerMinute");
  positiveInt("maxConcurrentRequests");
  positiveMs("leaseTtlMs", 30);
  positiveMs("pollIntervalMs");
  positiveMs("sliceMs", 10);
  if (options.idleReturnMs !== undefined && !(typeof options.idleReturnMs === "number" && options.idleReturnMs >= 0)) {
    issues.push({
      path: "idleReturnMs",
      message: `must be a number of ms ≥ 0, got ${JSON.stringify(options.idleReturnMs)}`,
    });
  }
  if (options.whenUnavailable !== undefined && !["share", "local", "reject"].includes(options.whenUnavailable)) {
    issues.push({
      path: "whenUnavailable",
      message: `must be "share", "local" or "reject", got ${JSON.stringify(options.whenUnavailable)}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid RedisRateLimiter options" });
}
