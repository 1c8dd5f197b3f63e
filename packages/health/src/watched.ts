import type { HealthStatus, ModelIdentity } from "@orchestrator-ts/core";
import type { Breaker, BreakerRules } from "./circuit";
import type { Availability } from "./options";

/** What the monitor watches: any model with a name, a provider and a `healthCheck()`. */
export type WatchedModel = ModelIdentity & { healthCheck(): Promise<boolean> };

export type Timer = ReturnType<typeof setTimeout>;

/** A watched model: its breaker, plus what the monitor schedules and shares around it. */
export interface Entry extends Breaker {
  readonly name: string;
  model: WatchedModel | undefined;
  lastCheckedAt: number | undefined;
  latencyMs: number | undefined;
  timer: Timer | undefined;
  inflight: Promise<void> | undefined;
  /** A check that timed out but has not settled: no second call is stacked on it. */
  hung: Promise<unknown> | undefined;
  probing: boolean;
  sharedSeen: HealthStatus | undefined;
  sharedAvail: Availability | undefined;
}

/** A model's entry before anything is known of it: a fresh breaker, nothing scheduled, nothing shared. */
export function newEntry(rules: BreakerRules, name: string): Entry {
  return Object.assign(rules.newBreaker(), {
    name,
    model: undefined,
    lastCheckedAt: undefined,
    latencyMs: undefined,
    timer: undefined,
    inflight: undefined,
    hung: undefined,
    probing: false,
    sharedSeen: undefined,
    sharedAvail: undefined,
  });
}
