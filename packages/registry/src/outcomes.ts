import {
  AbortError,
  ConfigError,
  type GenerateRequest,
  type HealthTracker,
  type ModelSelector,
  type OrchestratorError,
  type RewardScorer,
  type StatsStore,
} from "@orchestrator-ts/core";
import { LruMap, countOrUndefined } from "@orchestrator-ts/core/internal";
import type { Entry } from "./eligibility";
import type { Emitter, RegistryEvents } from "./events";
import { DEFAULT_REWARD } from "./reward";
import type { Selection } from "./selection";

// What every call teaches: its outcome recorded once, for the stats store, the selector, the
// health tracker and the listeners; and the caller's late quality signal.

/** Which call an outcome belongs to (a `CallState` is one). */
export interface AttemptOf {
  readonly selectionId: string;
  readonly selector: ModelSelector;
  readonly request: GenerateRequest;
  /** Attempt number within the call, from 1. */
  readonly attempt: number;
}

interface FeedbackEntry {
  model: string;
  task: string | undefined;
  latencyMs: number;
  costUsd: number;
  reward: number;
  rewardFn: RewardScorer;
  /** The selector that chose the model (a route may have its own). */
  selector: ModelSelector;
  rated: boolean;
}

export interface OutcomesOptions {
  readonly selection: Selection;
  readonly statsStore: StatsStore;
  readonly health: HealthTracker;
  readonly events: Emitter<RegistryEvents>;
  readonly feedbackCapacity: number;
}

export class Outcomes {
  readonly #selection: Selection;
  readonly #store: StatsStore;
  readonly #health: HealthTracker;
  readonly #events: Emitter<RegistryEvents>;
  /** Recent successful selections, for `recordFeedback`. */
  readonly #feedback: LruMap<string, FeedbackEntry>;

  constructor(options: OutcomesOptions) {
    this.#selection = options.selection;
    this.#store = options.statsStore;
    this.#health = options.health;
    this.#events = options.events;
    this.#feedback = new LruMap(options.feedbackCapacity);
  }

  /** A call answered. A cache hit says nothing about the provider: it teaches nothing. */
  success(entry: Entry, call: AttemptOf, latencyMs: number, costUsd: number | undefined, cached: boolean): void {
    if (cached) return;
    const name = entry.model.name;
    const { selectionId, selector } = call;
    const task = call.request.task;
    const rewardFn = selector.reward ?? DEFAULT_REWARD;
    const overall = this.#store.get(name);
    const assumedQuality =
      overall && overall.qualityCount > 0 ? overall.qualitySum / overall.qualityCount : rewardFn.qualityPrior;
    const reported = countOrUndefined(costUsd);
    const cost = reported ?? entry.estimatedCostUsd;
    // A reward function of the user's may still give NaN: the statistics take a number or nothing.
    const scored = rewardFn.of({ success: true, latencyMs, costUsd: cost, quality: assumedQuality });
    const reward = Number.isFinite(scored) ? scored : 0;
    const outcome = { success: true, reward, latencyMs, costUsd: cost };
    this.#store.record(name, outcome);
    if (task !== undefined) this.#store.record(name, outcome, task);
    selector.update?.({
      type: "outcome",
      selectionId,
      model: name,
      task,
      success: true,
      reward,
      latencyMs,
      costUsd: reported,
    });
    this.#health.recordSuccess(name, latencyMs);
    this.#feedback.set(selectionId, {
      model: name,
      task,
      latencyMs,
      costUsd: cost,
      reward,
      rewardFn,
      selector,
      rated: false,
    });
    this.#selection.observeHealth(entry);
    if (this.#events.has("outcome"))
      this.#events.emit("outcome", {
        selectionId,
        model: name,
        task,
        success: true,
        reward,
        latencyMs,
        costUsd: reported,
        error: undefined,
        attempt: call.attempt,
      });
  }

  /** An attempt failed. The caller's own abort is not the model's failure: nothing is recorded. */
  failure(entry: Entry, call: AttemptOf, latencyMs: number, error: OrchestratorError): void {
    if (AbortError.isInstance(error)) return;
    const name = entry.model.name;
    const { selectionId, selector } = call;
    const task = call.request.task;
    const outcome = { success: false, reward: 0, latencyMs };
    this.#store.record(name, outcome);
    if (task !== undefined) this.#store.record(name, outcome, task);
    // Failed attempts get their own id so a forgetting selector never confuses them with the answer.
    if (selector.update)
      selector.update({
        type: "outcome",
        selectionId: `${selectionId}#${call.attempt}`,
        model: name,
        task,
        success: false,
        reward: 0,
        latencyMs,
        costUsd: undefined,
      });
    this.#health.recordFailure(name, error);
    this.#selection.observeHealth(entry);
    if (this.#events.has("outcome"))
      this.#events.emit("outcome", {
        selectionId,
        model: name,
        task,
        success: false,
        reward: 0,
        latencyMs,
        costUsd: undefined,
        error,
        attempt: call.attempt,
      });
  }

  /** `registry.recordFeedback`: see there. */
  feedback(selectionId: string, quality: unknown): boolean {
    if (typeof quality !== "number" || !(quality >= 0 && quality <= 1)) {
      throw new ConfigError(
        [{ path: "quality", message: `must be a number in [0, 1], got ${JSON.stringify(quality)}` }],
        { title: "Invalid feedback" },
      );
    }
    const entry = this.#feedback.get(selectionId);
    if (!entry || entry.rated) return false;
    entry.rated = true;
    const reward = entry.rewardFn.of({ success: true, latencyMs: entry.latencyMs, costUsd: entry.costUsd, quality });
    const delta = { reward: reward - entry.reward, rewardSq: reward * reward - entry.reward * entry.reward, quality };
    this.#store.adjust(entry.model, delta);
    if (entry.task !== undefined) this.#store.adjust(entry.model, delta, entry.task);
    entry.selector.update?.({
      type: "feedback",
      selectionId,
      model: entry.model,
      task: entry.task,
      previousReward: entry.reward,
      reward,
      quality,
    });
    if (this.#events.has("feedback"))
      this.#events.emit("feedback", {
        selectionId,
        model: entry.model,
        task: entry.task,
        quality,
        previousReward: entry.reward,
        reward,
      });
    return true;
  }

  /** Forget the selections waiting for feedback. */
  reset(): void {
    this.#feedback.clear();
  }

  /**
   * Feedback on a cascade's answer credits its stage models: every model whose extracted answer
   * agreed with the returned one gets `quality`; when the returned answer is rated fully right
   * (1), a model that answered otherwise (or unreadably) was wrong and gets 0. Judge calls are
   * not rated. Each stage model can still be rated alone with its own `answers[i].selectionId`.
   */
  cascadeFeedback(id: string, stages: { agreed: string[]; differed: string[] }, quality: unknown): boolean {
    if (typeof quality !== "number" || !(quality >= 0 && quality <= 1)) return this.feedback(id, quality);
    let any = false;
    for (const sel of stages.agreed) any = this.feedback(sel, quality) || any;
    if (quality === 1) for (const sel of stages.differed) any = this.feedback(sel, 0) || any;
    return any;
  }
}
