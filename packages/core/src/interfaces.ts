import type { GenerateRequest, GenerateResult, StreamChunk } from "./types";
import type { StreamReport } from "./call-scope";

/** Who is being asked: part of every cache key. */
export interface ModelIdentity {
  name: string;
  provider: string;
  /**
   * What identifies the model that answers beyond its registry name: API model id, endpoint,
   * deployment, weights, options that change answers (`Model` fills it once, see `cacheIdentityOf`).
   * Two models with one name but different backends then never share cached answers. No secrets.
   */
  readonly cacheIdentity?: string;
}

/**
 * A response cache as the `Model` base class uses it (`model.enableCaching(cache)`). It derives
 * the key, answers hits, shares one provider call among identical concurrent requests and stores
 * completed results. `ModelCache` in `@orchestrator-ts/cache` is the implementation.
 */
export interface Cache {
  generate(
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => Promise<GenerateResult>,
  ): Promise<GenerateResult>;
  /**
   * `report`, when given, is told a hit's stored warnings before its first chunk (what the model
   * left out when the answer was made): a streamed hit then reads as the original did.
   */
  stream(
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => AsyncIterable<StreamChunk>,
    report?: StreamReport,
  ): AsyncIterable<StreamChunk>;
  /**
   * Optional: the key a request is stored under (a hash). A registry with this cache remembers
   * which model answered a request by it, so its memory holds hashes, never whole requests.
   */
  key?(model: ModelIdentity, request: GenerateRequest): string;
  /** Optional: most entries the cache holds; the registry remembers no more requests than this. */
  readonly maxEntries?: number | undefined;
  /** Optional: lifetime of an entry; the registry forgets which model answered a request after it. */
  readonly ttlMs?: number | undefined;
}

/** Raw storage behind a `Cache`: memory, Redis, or a user's own. Values are opaque strings. */
export interface CacheBackend {
  /**
   * Set when the backend itself settles every operation (resolves or rejects) within this many
   * milliseconds, e.g. a Redis client with a command timeout. A cache whose own lookup deadline
   * is at least this long then arms no timer of its own per lookup.
   */
  readonly operationTimeoutMs?: number;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  clear(): Promise<void>;
  close?(): Promise<void>;
}

/** Aggregates of one arm of the bandit: a model, overall or within one task. */
export interface ArmStats {
  trials: number;
  successes: number;
  failures: number;
  /** Sum of rewards in [0, 1], and of their squares (for variance-aware bonuses). */
  rewardSum: number;
  rewardSqSum: number;
  latencyMsSum: number;
  costUsdSum: number;
  qualitySum: number;
  qualityCount: number;
  updatedAt: number;
}

/** One call's outcome as the registry records it. */
export interface ArmOutcome {
  success: boolean;
  reward: number;
  latencyMs: number;
  costUsd?: number;
  quality?: number;
}

/**
 * Where the registry keeps what it learns. Reads are synchronous (selection reads a local
 * snapshot); writes apply locally at once and may be shared asynchronously (Redis).
 * `scope` is a task tag, or `undefined` for a model's overall statistics.
 */
export interface StatsStore {
  /** Increments on every change, so readers can cache derived values. */
  readonly version: number;
  get(model: string, scope?: string): Readonly<ArmStats> | undefined;
  record(model: string, outcome: ArmOutcome, scope?: string): void;
  /** A late signal for an earlier call (e.g. the caller's quality rating): adjusts reward sums without adding a trial. */
  adjust(model: string, delta: { reward: number; rewardSq: number; quality?: number }, scope?: string): void;
  entries(): Iterable<{ model: string; scope: string | undefined; stats: Readonly<ArmStats> }>;
  reset(): void;
  close?(): Promise<void>;
  /**
   * Optional: learned state that is not a scalar arm statistic (e.g. a `ContextualSelector`'s
   * weights) shared between processes. Stores `contribution` (opaque text) as `participant`'s
   * latest on `channel` — `undefined` only reads — and answers every participant's latest,
   * its own included, or `undefined` when the shared store cannot be reached (keep what you
   * have). Never rejects.
   */
  exchangeState?(
    channel: string,
    participant: string,
    contribution: string | undefined,
  ): Promise<ReadonlyMap<string, string> | undefined>;
}

export function emptyArmStats(): ArmStats {
  return {
    trials: 0,
    successes: 0,
    failures: 0,
    rewardSum: 0,
    rewardSqSum: 0,
    latencyMsSum: 0,
    costUsdSum: 0,
    qualitySum: 0,
    qualityCount: 0,
    updatedAt: 0,
  };
}

export type HealthState = "healthy" | "degraded" | "unhealthy" | "unknown";

/** A model's health as the seed shows it: `(await registry.getModelHealth("gpt-4")).isHealthy`. */
export interface HealthStatus {
  isHealthy: boolean;
  status: HealthState;
  issues: string[];
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Epoch ms of the last active check, if any. */
  lastCheckedAt: number | undefined;
  /** Duration of the last active check. */
  latencyMs: number | undefined;
  /** Epoch ms until which the model rests (rate limited or circuit open); selection skips it until then. */
  cooldownUntil?: number | undefined;
}

/**
 * What the registry needs from a health monitor (`ModelHealthMonitor` in `@orchestrator-ts/health`):
 * a synchronous availability answer for selection, and the outcomes of live calls as passive
 * signals.
 */
export interface HealthTracker {
  /**
   * Set by a tracker that only reports health and never makes a model unavailable (the registry's
   * default `PassiveHealth`): selection then does not ask `availability()` for every candidate.
   */
  readonly reportsOnly?: boolean;
  watch(model: ModelIdentity & { healthCheck(): Promise<boolean> }): void;
  unwatch(name: string): void;
  /** Synchronous and cheap: may `name` be selected now? When not, `reason` says why. */
  availability(name: string): { available: boolean; status: HealthState; reason?: string };
  getHealth(name: string): Promise<HealthStatus>;
  recordSuccess(name: string, latencyMs: number): void;
  /** A failed live call; a `RateLimitError` rests the model for its `retryAfterMs` without marking it unhealthy. */
  recordFailure(name: string, error: unknown): void;
  start(): void;
  stop(): void;
}

/** Health state shared between processes (`@orchestrator-ts/redis`), so they do not each probe a dead provider. */
export interface HealthStateStore {
  /** Synchronous: the last known shared state of `name`. */
  get(name: string): HealthStatus | undefined;
  /** Publish local state; applies locally at once, shared asynchronously. */
  set(name: string, status: HealthStatus): void;
  subscribe?(listener: (name: string, status: HealthStatus) => void): () => void;
  close?(): Promise<void>;
}
