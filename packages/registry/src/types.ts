import type {
  Cache,
  GenerateRequest,
  GenerateResult,
  HealthTracker,
  MetricsSnapshot,
  ModelSelector,
  StatsStore,
  StreamChunk,
} from "@orchestrator-ts/core";
import type { SelectionExplanation } from "./explanation";

// The registry's public types: its options, and what its calls return.

export interface BackoffOptions {
  /** First retry delay. Default 200 ms. */
  initialMs?: number;
  /** Largest delay; a `retryAfterMs` above it falls back to another model instead of waiting. Default 5,000 ms. */
  maxMs?: number;
  /** Growth per retry. Default 2. */
  multiplier?: number;
  /** `"full"` (default): uniform in [0, delay]; `"equal"`: uniform in [delay/2, delay]; `"none"`. */
  jitter?: "full" | "equal" | "none";
}

export interface ModelRegistryOptions {
  /** How to pick among eligible models. Default `new UCBModelSelector()`. */
  modelSelector?: ModelSelector;
  /**
   * Health monitor (`ModelHealthMonitor` from `@orchestrator-ts/health`): unavailable models are
   * skipped. Without one the registry keeps a `PassiveHealth` of its own (health derived from its
   * live calls, never excluding a model).
   */
  healthMonitor?: HealthTracker;
  /** Where outcomes are recorded. Default a `MemoryStatsStore`; a Redis store shares them between processes. */
  statsStore?: StatsStore;
  /** Enabled on every registered model that has no cache of its own. */
  cache?: Cache;
  /** Retries of a retryable failure on the same model. Default 2. */
  maxRetries?: number;
  /** Other models tried after a model fails. Default 2. */
  maxFallbacks?: number;
  backoff?: BackoffOptions;
  /** How long `generate`/`stream` wait when every eligible model is at its limits. Default 10,000 ms. */
  waitForCapacityMs?: number;
  /** When every eligible model is unhealthy: `"exclude"` (default) rejects; `"least-bad"` uses the degraded ones, then the unhealthy ones. */
  unhealthyPolicy?: "exclude" | "least-bad";
  /** Trials a (task, model) pair needs before its own statistics replace the model's overall ones. Default 10. */
  taskMinTrials?: number;
  /** Recent selections remembered for `recordFeedback`. Default 10,000. */
  feedbackCapacity?: number;
  /** Source of jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * Explicit fallback chains: model name → the models to try, in order, when it fails (after its
   * retries), before the selector picks the next-best eligible model. A listed model must still
   * meet the call's requirements and be healthy; unregistered names are skipped. `maxFallbacks`
   * still bounds how many other models one call tries.
   */
  fallbacks?: Readonly<Record<string, readonly string[]>>;
  /** Deadline of each model call the registry makes, unless the request sets `timeoutMs`. Default: each model's own `timeoutMs`. */
  timeoutMs?: number;
}

export interface RegisterOptions {
  /** Replace a registered model of the same name instead of failing. */
  replace?: boolean;
}

export interface SelectOptions {
  /** The request to be sent: its size prices `maxCost` and its `task` picks task statistics. */
  request?: GenerateRequest;
}

/** One try within a registry call. */
export interface AttemptRecord {
  model: string;
  success: boolean;
  latencyMs: number;
  /** The failure's stable code (`rate_limit_error`…), when it failed. */
  errorCode?: string;
  /** What the registry did next: `retry` the same model, `fallback` to another, or `throw`. */
  next?: "retry" | "fallback" | "throw";
}

/**
 * A request to the registry: a model request, plus optionally where to send it. `route` is a
 * route's name (`registry.addRoute`), a registered model's name (that model, with its configured
 * fallbacks), or `"auto"` (the default: the registry's selector over every model).
 */
export interface RegistryRequest extends GenerateRequest {
  route?: string;
}

/** What `registry.generate` resolves to: the model's result plus how it was chosen. */
export interface RegistryResult extends GenerateResult {
  /** Pass to `recordFeedback` to rate this answer later. */
  selectionId: string;
  /** Why the model that answered was chosen. */
  explanation: SelectionExplanation;
  attempts: AttemptRecord[];
  /**
   * Set when a cascade route answered: the stages that ran, every model's extracted answer and
   * whether it escalated. `costUsd` is then the sum over every model asked, `usage` too.
   */
  cascade?: CascadeInfo;
}

/** The finish chunk of a registry stream also says which selection produced it. */
export type RegistryStreamChunk =
  | StreamChunk
  | (Extract<StreamChunk, { type: "finish" }> & {
      selectionId: string;
      attempts: AttemptRecord[];
      cascade?: CascadeInfo;
    });

/** What `registry.stream` returns: iterate it once; `selectionId` and `explanation` are set once a model is chosen. */
export interface RegistryStream extends AsyncIterable<RegistryStreamChunk> {
  readonly selectionId: string | undefined;
  readonly explanation: SelectionExplanation | undefined;
  readonly attempts: readonly AttemptRecord[];
  /** A cascade route's record, once it is known (at the finish chunk). */
  readonly cascade: CascadeInfo | undefined;
  /**
   * The warnings of the model whose answer this is (`RegistryResult.warnings` of a stream):
   * settings it could not honour. Those of its request are known by the first chunk (in time for
   * an AI SDK `stream-start`); complete at the finish chunk, which carries them too. An attempt
   * that failed and was retried or fell back leaves none here. Empty when there are none.
   */
  readonly warnings: readonly string[];
}

export interface ArmSummary {
  trials: number;
  successes: number;
  failures: number;
  successRate: number | undefined;
  meanReward: number | undefined;
  meanLatencyMs: number | undefined;
  totalCostUsd: number;
  meanQuality: number | undefined;
}

export interface ModelStatistics extends ArmSummary {
  model: string;
  provider: string;
  /** Per task tag. */
  tasks: Record<string, ArmSummary>;
  /** The model's own counters (all calls, also those made outside the registry). */
  metrics: MetricsSnapshot;
}

export interface RegistryStatistics {
  selector: string;
  models: ModelStatistics[];
}

/** One model's answer within a cascade, as the result reports it. */
export interface CascadeAnswer {
  stage: number;
  model: string;
  /** The extracted answer; `undefined` when the model failed or its answer could not be read. */
  answer: unknown;
  ok: boolean;
  costUsd: number | undefined;
  latencyMs: number;
  /** The call's own selection id: `recordFeedback` on it rates this model's answer alone. */
  selectionId: string | undefined;
  /** The failure's code when the model failed (it then counts as disagreement). */
  errorCode?: string;
  /** A call the judge made, not a stage model's answer. */
  judge?: boolean;
}

/** What a result's `cascade` field says. */
export interface CascadeInfo {
  route: string;
  /** Indices of the stages that ran, in order. */
  stages: number[];
  answers: CascadeAnswer[];
  /** A stage after the first ran. */
  escalated: boolean;
  /** The acceptance rule accepted the returned answer (false when it is the final stage's answer, or the budget stopped an escalation). */
  accepted: boolean;
  /** The budget pacer decided not to escalate a disagreement. */
  paced: boolean;
  /** The extracted answer returned. */
  answer: unknown;
  /** The final stage failed (before its first streamed chunk, when streaming): the answer is the best of the stages before it. */
  fallback?: true;
}
