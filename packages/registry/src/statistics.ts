import { type ArmStats, type StatsStore, emptyArmStats } from "@orchestrator-ts/core";
import type { Entry } from "./eligibility";
import type { ArmSummary, ModelStatistics, RegistryStatistics } from "./types";

// `registry.getStatistics()`: what the stats store learnt, per model and per task, in words a report can use.

function summarize(s: Readonly<ArmStats>): ArmSummary {
  return {
    trials: s.trials,
    successes: s.successes,
    failures: s.failures,
    successRate: s.trials > 0 ? s.successes / s.trials : undefined,
    meanReward: s.trials > 0 ? s.rewardSum / s.trials : undefined,
    meanLatencyMs: s.trials > 0 ? s.latencyMsSum / s.trials : undefined,
    totalCostUsd: s.costUsdSum,
    meanQuality: s.qualityCount > 0 ? s.qualitySum / s.qualityCount : undefined,
  };
}

export function statisticsOf(entries: readonly Entry[], store: StatsStore, selector: string): RegistryStatistics {
  const models: ModelStatistics[] = [];
  // Maps, then fromEntries: a task named "__proto__" is reported as an own key like any other.
  const tasks = new Map<string, Map<string, ArmSummary>>();
  for (const { model, scope, stats } of store.entries()) {
    if (scope === undefined) continue;
    let byTask = tasks.get(model);
    if (!byTask) tasks.set(model, (byTask = new Map()));
    byTask.set(scope, summarize(stats));
  }
  for (const e of entries) {
    const name = e.model.name;
    const base = summarize(store.get(name) ?? emptyArmStats());
    const byTask = tasks.get(name);
    models.push({
      model: name,
      provider: e.model.provider,
      ...base,
      tasks: byTask ? Object.fromEntries(byTask) : {},
      metrics: e.model.metrics.snapshot(),
    });
  }
  return { selector, models };
}
