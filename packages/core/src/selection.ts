import type { CapabilityName } from "./capabilities";
import type { ArmStats, StatsStore } from "./interfaces";
import type { Model } from "./model";
import type { GenerateRequest } from "./types";

// The selector contract: what a registry asks of a selector and what it tells it. Here rather than
// in the registry so that any package can implement a selector against the contract alone.

/** The seed's snake_case spelling of a capability name: `"text_generation"`. */
type Snake<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}`
  : S;

/** A capability name in camelCase (`"textGeneration"`) or the seed's snake_case (`"text_generation"`). */
export type CapabilityRequirement = CapabilityName | Snake<CapabilityName>;

/** The requirement fields in their TypeScript spelling (see `SelectionRequirements`). */
export interface RequirementFields {
  /** Boolean capabilities the model must have. */
  capabilities?: readonly CapabilityRequirement[];
  /**
   * Highest acceptable USD for this request, estimated from its prompt tokens and `maxTokens`
   * (500 completion tokens when unset). Without a request: for the reference request of 1,000
   * prompt + 500 completion tokens (`REFERENCE_REQUEST`).
   */
  maxCost?: number;
  /** Lowest acceptable generation speed in tokens/s: the observed median once known, else the declared `tokensPerSecond`. A model with neither is not excluded. */
  minSpeed?: number;
  /** Smallest acceptable `contextWindow` in tokens. */
  minContextWindow?: number;
  /** Task tags the model must declare (all of them). */
  tasks?: readonly string[];
  /** Languages the model must declare (all of them; `"en"` matches `"en-US"`). */
  languages?: readonly string[];
  /**
   * Only these registered models may answer, whatever the selector, route or fallbacks would pick
   * (a virtual key's allow-list). Names that are not registered match nothing.
   */
  models?: readonly string[];
  /** Only these providers. */
  providers?: readonly string[];
  /** Never these providers. */
  excludeProviders?: readonly string[];
  /** Highest acceptable observed p95 latency. A model with no observed calls is not excluded. */
  maxLatencyMs?: number;
  /** Only models that run on this machine. */
  localOnly?: boolean;
}

/**
 * The seed's snake_case spelling of every requirement field (`max_cost`, `min_speed`,
 * `min_context_window`, `exclude_providers`, `max_latency_ms`, `local_only`), as the seed writes
 * `select_model(capabilities=[...], max_cost=0.01, min_speed=100)`.
 */
export type SnakeCaseRequirementFields = { [K in keyof RequirementFields as Snake<K>]: RequirementFields[K] };

/**
 * What a model must satisfy to be considered. Every field is optional; all given fields must
 * hold. Each field may be written in camelCase (`maxCost`) or the seed's snake_case (`max_cost`),
 * not both.
 */
export interface SelectionRequirements extends RequirementFields, SnakeCaseRequirementFields {}

/** Requirements after validation: camelCase fields only, capability names resolved to camelCase. */
export interface NormalizedRequirements extends RequirementFields {
  capabilities?: readonly CapabilityName[];
}

/**
 * One eligible model as a selector sees it. The registry reuses these objects between
 * selections (selection allocates little): read them during `select`, do not keep them.
 */
export interface SelectionCandidate {
  readonly model: Model;
  /** Position in registration order: a stable tie-breaker. */
  readonly order: number;
  /** USD this request is expected to cost on this model (the reference request when there is none). */
  readonly estimatedCostUsd: number;
  /**
   * The statistics a bandit should use: the request's task's once that task has enough trials
   * on this model (`taskMinTrials`), else the model's overall statistics. `undefined` before any call.
   */
  readonly stats: Readonly<ArmStats> | undefined;
  /** The task whose statistics `stats` are, or `undefined` for overall statistics. */
  readonly statsScope: string | undefined;
  /** The model's overall statistics. */
  readonly overall: Readonly<ArmStats> | undefined;
  /**
   * Calls through the registry running on this model now (selected, outcome not recorded yet).
   * A deterministic selector should count them, or a burst of concurrent calls all goes to the
   * model that looked best before the burst. The registry always sets it; `undefined` means 0.
   */
  readonly pending?: number;
}

export interface SelectionContext {
  readonly request: GenerateRequest | undefined;
  /** `request.task`, when set. */
  readonly task: string | undefined;
  readonly requirements: NormalizedRequirements;
  /** Trials a (task, model) arm needs before its own statistics replace the model's overall ones. */
  readonly taskMinTrials: number;
  /** When false (plain `selectModel`), selectors may leave out `scores` to save allocations. */
  readonly explain: boolean;
  readonly statsStore: StatsStore;
  /**
   * The id of the call this selection is for (`generate`/`stream`), so a selector can match its
   * decision with the later `outcome`/`feedback` events. `undefined` for plain `selectModel`.
   */
  readonly selectionId?: string | undefined;
}

/** A candidate's score and, for bandits, its parts. */
export interface CandidateScore {
  score: number;
  /** Mean reward in [0, 1] over the trials the score used. */
  meanReward?: number;
  /** The exploration bonus added to the mean. */
  bonus?: number;
  /** Trials the score used (discounted or windowed ones when the selector forgets). */
  trials?: number;
  /** Why the score is what it is, when not plain arithmetic (`"exploring: 2 of 5 trials"`). */
  note?: string;
}

export interface SelectorChoice {
  /** Index into `candidates` of the chosen model. */
  index: number;
  /** One score per candidate, same order; required when `context.explain` is true. */
  scores?: readonly CandidateScore[];
}

/** What the registry tells a selector after each call (`outcome`) and each late quality signal (`feedback`). */
export type SelectorEvent =
  | {
      type: "outcome";
      selectionId: string;
      model: string;
      task: string | undefined;
      success: boolean;
      reward: number;
      latencyMs: number;
      costUsd: number | undefined;
    }
  | {
      type: "feedback";
      selectionId: string;
      model: string;
      task: string | undefined;
      /** The call's reward before and after the feedback. */
      previousReward: number;
      reward: number;
      quality: number;
    };

/** What one call contributes to its reward. */
export interface RewardInput {
  success: boolean;
  latencyMs: number;
  /** USD actually charged (or, when the provider reports nothing, estimated before the call). */
  costUsd: number;
  /** The caller's quality score in [0, 1], or the assumed one until feedback arrives. */
  quality: number;
}

/** How a call's outcome becomes a reward in [0, 1] (`RewardFunction` in `@orchestrator-ts/registry`). */
export interface RewardScorer {
  /** Quality assumed for a call until its feedback arrives, while the model has no rated calls. */
  readonly qualityPrior: number;
  of(input: RewardInput): number;
}

/**
 * How the registry picks among eligible models. `select` is synchronous and should be cheap:
 * it runs on every request. Statistics live in the registry's `StatsStore` (shared between
 * processes when that store is Redis); `update` is for selectors that keep a view of their own
 * (a discounted or windowed one).
 */
export interface ModelSelector {
  readonly name: string;
  /** How a call's outcome becomes a reward in [0, 1]. The registry's default when absent. */
  readonly reward?: RewardScorer;
  /** Exclude a candidate with a reason (shown in explanations and `NoEligibleModelError`), or return `undefined` to keep it. */
  exclude?(candidate: SelectionCandidate, context: SelectionContext): string | undefined;
  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice;
  update?(event: SelectorEvent): void;
  /** Forget any state of its own (`registry.resetStatistics()` calls it). */
  reset?(): void;
}

/** Type helper for writing a selector as an object literal. */
export function defineSelector<T extends ModelSelector>(selector: T): T {
  return selector;
}

/** Index of the highest score; ties go to the candidate with fewer trials, then to registration order. */
export function argmax(
  candidates: readonly SelectionCandidate[],
  score: (c: SelectionCandidate, i: number) => number,
  trials?: (i: number) => number,
): number {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestTrials = 0;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i] as SelectionCandidate;
    const s = score(c, i);
    if (best < 0 || s > bestScore) {
      best = i;
      bestScore = s;
      bestTrials = trials ? trials(i) : 0;
      continue;
    }
    if (s === bestScore) {
      const t = trials ? trials(i) : 0;
      const b = candidates[best] as SelectionCandidate;
      if (t < bestTrials || (t === bestTrials && c.order < b.order)) {
        best = i;
        bestTrials = t;
      }
    }
  }
  return best;
}
