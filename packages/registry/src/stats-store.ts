import { type ArmOutcome, type ArmStats, ConfigError, type StatsStore, emptyArmStats } from "@orchestrator-ts/core";
import { LruMap } from "@orchestrator-ts/core/internal";

/** Task tags whose statistics a store keeps by default. */
export const DEFAULT_MAX_TASKS = 1_000;

/** Options of `MemoryStatsStore`: its clock and how many task tags it keeps. */
export interface MemoryStatsStoreOptions {
  /** The clock, in ms (default `Date.now`; tests pass their own). */
  now?: () => number;
  /**
   * Distinct `task` tags whose per-task statistics are kept; past it the tag least recently
   * recorded is forgotten (its calls still count in the model's overall statistics). Tags are
   * meant to be a few categories; this bounds memory when they are not (a request id as task).
   * Default 1,000.
   */
  maxTasks?: number;
}

/**
 * The in-process `StatsStore`: one `ArmStats` per model overall and per (task, model). Reads do
 * not allocate (nested maps, no composite string keys), so selection can read it on every call.
 * `@orchestrator-ts/redis` implements the same interface to share what is learnt between processes.
 */
export class MemoryStatsStore implements StatsStore {
  readonly maxTasks: number;
  #version = 0;
  readonly #overall = new Map<string, ArmStats>();
  readonly #tasks: LruMap<string, Map<string, ArmStats>>;
  readonly #now: () => number;

  constructor(options: MemoryStatsStoreOptions = {}) {
    const maxTasks = options.maxTasks ?? DEFAULT_MAX_TASKS;
    if (!Number.isInteger(maxTasks) || maxTasks < 1) {
      throw new ConfigError(
        [{ path: "maxTasks", message: `must be a positive integer, got ${JSON.stringify(maxTasks)}` }],
        { title: "Invalid MemoryStatsStore options" },
      );
    }
    this.maxTasks = maxTasks;
    this.#tasks = new LruMap(maxTasks);
    this.#now = options.now ?? Date.now;
  }

  get version(): number {
    return this.#version;
  }

  get(model: string, scope?: string): Readonly<ArmStats> | undefined {
    if (scope === undefined) return this.#overall.get(model);
    // A read does not make a task recent: only recording does (selection reads every call).
    return this.#tasks.peek(scope)?.get(model);
  }

  #arm(model: string, scope: string | undefined): ArmStats {
    let map = this.#overall;
    if (scope !== undefined) {
      let scoped = this.#tasks.get(scope);
      if (!scoped) {
        scoped = new Map();
        this.#tasks.set(scope, scoped);
      }
      map = scoped;
    }
    let arm = map.get(model);
    if (!arm) {
      arm = emptyArmStats();
      map.set(model, arm);
    }
    return arm;
  }

  record(model: string, outcome: ArmOutcome, scope?: string): void {
    const arm = this.#arm(model, scope);
    arm.trials++;
    if (outcome.success) arm.successes++;
    else arm.failures++;
    // Only numbers are summed: one NaN would make every later mean NaN.
    const reward = Number.isFinite(outcome.reward) ? outcome.reward : 0;
    arm.rewardSum += reward;
    arm.rewardSqSum += reward * reward;
    if (Number.isFinite(outcome.latencyMs)) arm.latencyMsSum += outcome.latencyMs;
    if (outcome.costUsd !== undefined && Number.isFinite(outcome.costUsd)) arm.costUsdSum += outcome.costUsd;
    if (outcome.quality !== undefined && Number.isFinite(outcome.quality)) {
      arm.qualitySum += outcome.quality;
      arm.qualityCount++;
    }
    arm.updatedAt = this.#now();
    this.#version++;
  }

  adjust(model: string, delta: { reward: number; rewardSq: number; quality?: number }, scope?: string): void {
    const arm = this.#arm(model, scope);
    if (Number.isFinite(delta.reward) && Number.isFinite(delta.rewardSq)) {
      arm.rewardSum += delta.reward;
      arm.rewardSqSum += delta.rewardSq;
    }
    if (delta.quality !== undefined && Number.isFinite(delta.quality)) {
      arm.qualitySum += delta.quality;
      arm.qualityCount++;
    }
    arm.updatedAt = this.#now();
    this.#version++;
  }

  *entries(): Iterable<{ model: string; scope: string | undefined; stats: Readonly<ArmStats> }> {
    for (const [model, stats] of this.#overall) yield { model, scope: undefined, stats };
    for (const [scope, map] of this.#tasks.entries()) for (const [model, stats] of map) yield { model, scope, stats };
  }

  /** Forget one model's statistics (overall and every task), e.g. when it is unregistered. */
  deleteModel(model: string): void {
    this.#overall.delete(model);
    for (const [, map] of this.#tasks.entries()) map.delete(model);
    this.#version++;
  }

  reset(): void {
    this.#overall.clear();
    this.#tasks.clear();
    this.#states.clear();
    this.#version++;
  }

  readonly #states = new Map<string, Map<string, string>>();

  /** Shared learned state between selectors of this process (see `StatsStore.exchangeState`). */
  exchangeState(
    channel: string,
    participant: string,
    contribution: string | undefined,
  ): Promise<ReadonlyMap<string, string>> {
    let states = this.#states.get(channel);
    if (!states) {
      states = new Map();
      this.#states.set(channel, states);
    }
    if (contribution !== undefined) states.set(participant, contribution);
    return Promise.resolve(new Map(states));
  }
}
