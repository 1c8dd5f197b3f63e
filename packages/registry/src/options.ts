import {
  type Cache,
  ConfigError,
  type ConfigIssue,
  type HealthTracker,
  type ModelSelector,
  type StatsStore,
} from "@orchestrator-ts/core";
import { MemoryStatsStore } from "./stats-store";
import type { BackoffOptions, ModelRegistryOptions } from "./types";
import { UCBModelSelector } from "./ucb-selector";

/** `ModelRegistryOptions` checked, with every default filled in. */
export interface ResolvedOptions {
  readonly selector: ModelSelector;
  readonly statsStore: StatsStore;
  readonly healthMonitor: HealthTracker | undefined;
  readonly cache: Cache | undefined;
  readonly maxRetries: number;
  readonly maxFallbacks: number;
  readonly waitForCapacityMs: number;
  readonly unhealthyPolicy: "exclude" | "least-bad";
  readonly taskMinTrials: number;
  readonly feedbackCapacity: number;
  readonly timeoutMs: number | undefined;
  /** Model name → the models tried after it fails, itself left out. */
  readonly fallbacks: ReadonlyMap<string, readonly string[]>;
  readonly backoff: Readonly<Required<BackoffOptions>>;
  readonly random: () => number;
}

function checkFallbacks(issues: ConfigIssue[], value: unknown): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  if (value === undefined) return out;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    issues.push({
      path: "fallbacks",
      message: `must map model names to lists of model names, got ${JSON.stringify(value)}`,
    });
    return out;
  }
  for (const [name, list] of Object.entries(value)) {
    if (!Array.isArray(list) || !list.every((n) => typeof n === "string")) {
      issues.push({ path: `fallbacks.${name}`, message: `must be a list of model names, got ${JSON.stringify(list)}` });
      continue;
    }
    // The model itself never follows its own failure in the same call.
    out.set(name, Object.freeze([...new Set(list as string[])].filter((n) => n !== name)));
  }
  return out;
}

function checkCount(issues: ConfigIssue[], path: string, value: unknown, positive = false): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (positive && value === 0))
    issues.push({
      path,
      message: `must be a ${positive ? "positive" : "non-negative"} number, got ${JSON.stringify(value)}`,
    });
}

/** Check every option (one `ConfigError` listing all problems) and fill in the defaults. */
export function resolveOptions(options: ModelRegistryOptions): ResolvedOptions {
  const issues: ConfigIssue[] = [];
  checkCount(issues, "maxRetries", options.maxRetries);
  checkCount(issues, "maxFallbacks", options.maxFallbacks);
  checkCount(issues, "waitForCapacityMs", options.waitForCapacityMs);
  checkCount(issues, "taskMinTrials", options.taskMinTrials);
  checkCount(issues, "feedbackCapacity", options.feedbackCapacity, true);
  checkCount(issues, "backoff.initialMs", options.backoff?.initialMs);
  checkCount(issues, "backoff.maxMs", options.backoff?.maxMs);
  checkCount(issues, "backoff.multiplier", options.backoff?.multiplier);
  checkCount(issues, "timeoutMs", options.timeoutMs, true);
  const fallbacks = checkFallbacks(issues, options.fallbacks);
  const jitter = options.backoff?.jitter ?? "full";
  if (jitter !== "full" && jitter !== "equal" && jitter !== "none")
    issues.push({
      path: "backoff.jitter",
      message: `must be "full", "equal" or "none", got ${JSON.stringify(jitter)}`,
    });
  const policy = options.unhealthyPolicy ?? "exclude";
  if (policy !== "exclude" && policy !== "least-bad")
    issues.push({
      path: "unhealthyPolicy",
      message: `must be "exclude" or "least-bad", got ${JSON.stringify(policy)}`,
    });
  if (options.modelSelector !== undefined && typeof options.modelSelector?.select !== "function")
    issues.push({ path: "modelSelector", message: "must have a select(candidates, context) method" });
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid ModelRegistry options" });
  return {
    selector: options.modelSelector ?? new UCBModelSelector(),
    statsStore: options.statsStore ?? new MemoryStatsStore(),
    healthMonitor: options.healthMonitor,
    cache: options.cache,
    maxRetries: Math.floor(options.maxRetries ?? 2),
    maxFallbacks: Math.floor(options.maxFallbacks ?? 2),
    waitForCapacityMs: options.waitForCapacityMs ?? 10_000,
    unhealthyPolicy: policy,
    taskMinTrials: options.taskMinTrials ?? 10,
    feedbackCapacity: options.feedbackCapacity ?? 10_000,
    timeoutMs: options.timeoutMs,
    fallbacks,
    backoff: {
      initialMs: options.backoff?.initialMs ?? 200,
      maxMs: options.backoff?.maxMs ?? 5_000,
      multiplier: options.backoff?.multiplier ?? 2,
      jitter,
    },
    random: options.random ?? Math.random,
  };
}
