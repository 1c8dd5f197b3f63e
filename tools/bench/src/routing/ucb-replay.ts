/**
 * Replays RouterBench prompts through a ModelRegistry, feeding each answer's correctness back
 * with `recordFeedback`, and reports how much of the best fixed model's reward each selector
 * reaches. Tune on the train split only; report the chosen default on the test split.
 *
 *   npx tsx tools/bench/src/routing/ucb-replay.ts --split train [--seeds 10] [--prompts 1000] [--cost-weight 0]
 *
 * Data: /work/shared/data/routerbench (or --data DIR). Not a test: the numbers go in the README.
 */
import { resolve } from "node:path";
import { type GenerateRequest, Model, type ModelOutput, type ModelSelector } from "@orchestrator-ts/core";
import {
  ModelRegistry,
  ThompsonSamplingSelector,
  UCBModelSelector,
  type UCBSelectorOptions,
} from "@orchestrator-ts/registry";
import { loadReplayCsv, permutation } from "@orchestrator-ts/replay";

export interface Prompt {
  id: string;
  correct: Record<string, number>;
  cost: Record<string, number>;
}

/** The split through the shared loader (`src/replay`), as per-model records for the registry's replay models. */
export function loadSplit(
  dir: string,
  split: "train" | "test",
): { models: string[]; prompts: Prompt[]; skipped: number } {
  const data = loadReplayCsv(dir, { split });
  // 28 ARC rows have a blank score for some model: the loader leaves them out (`skipped`).
  const prompts = data.rows.map((row) => {
    const correct: Record<string, number> = {};
    const cost: Record<string, number> = {};
    data.models.forEach((m, k) => {
      correct[m] = row.quality[k] as number;
      cost[m] = row.cost[k] as number;
    });
    return { id: row.id, correct, cost };
  });
  return { models: data.models, prompts, skipped: data.skipped.length };
}

/** Answers from the recorded row: the "model" is whatever RouterBench recorded for it, at the recorded cost. */
export class ReplayModel extends Model {
  readonly #cost: () => number;
  constructor(name: string, cost: () => number) {
    super({ name, provider: name.split("/")[0] ?? "replay" });
    this.#cost = cost;
  }
  protected async doGenerate(_request: GenerateRequest): Promise<ModelOutput> {
    return { text: "", costUsd: this.#cost() };
  }
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  return Array.from(permutation(items.length, seed), (i) => items[i] as T);
}

export interface ReplayResult {
  /** Cumulative reward / best fixed model's cumulative reward over the same prompts. */
  fraction: number;
  accuracy: number;
  costPerPrompt: number;
  bestFixed: string;
}

/** One run: `prompts` in order through a fresh registry; reward = correctness − λ·cost through the weights. */
export async function replay(
  models: readonly string[],
  prompts: readonly Prompt[],
  selector: ModelSelector,
  costWeight: number,
): Promise<ReplayResult> {
  const current: { prompt: Prompt | undefined } = { prompt: undefined };
  const registry = new ModelRegistry({ modelSelector: selector });
  for (const m of models) registry.registerModel(new ReplayModel(m, () => current.prompt?.cost[m] ?? 0));
  const reward = selector.reward;
  let total = 0;
  let correct = 0;
  let cost = 0;
  const fixed = new Map<string, number>(models.map((m) => [m, 0]));
  const value = (p: Prompt, m: string) => {
    const c = p.correct[m] ?? 0;
    // The same reward the selector is taught: quality plus the weighted cost score.
    return reward ? reward.of({ success: true, latencyMs: 0, costUsd: p.cost[m] ?? 0, quality: c }) : c;
  };
  for (const p of prompts) {
    current.prompt = p;
    const result = await registry.generate({ messages: [{ role: "user", content: p.id }] });
    const c = p.correct[result.model] ?? 0;
    registry.recordFeedback(result.selectionId, { quality: c });
    total += value(p, result.model);
    correct += c;
    cost += p.cost[result.model] ?? 0;
    for (const m of models) fixed.set(m, (fixed.get(m) ?? 0) + value(p, m));
  }
  let bestFixed = "";
  let best = Number.NEGATIVE_INFINITY;
  for (const [m, v] of fixed) if (v > best) [bestFixed, best] = [m, v];
  // With a cost weight the reward has a constant floor; measure against it so 0 means "as bad as the worst model".
  void costWeight;
  return {
    fraction: total / best,
    accuracy: correct / prompts.length,
    costPerPrompt: cost / prompts.length,
    bestFixed,
  };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

interface Config {
  label: string;
  make: (weights: UCBSelectorOptions["rewardWeights"], seed: number) => ModelSelector;
}

export const CONFIGS: Config[] = [
  ...[2, 1, 0.5, 0.25, 0.1].map((c) => ({
    label: `UCB1 c=${c}`,
    make: (w: UCBSelectorOptions["rewardWeights"]) =>
      new UCBModelSelector({ variant: "ucb1", explorationFactor: c, rewardWeights: w }),
  })),
  ...[2, 1, 0.5, 0.25].map((c) => ({
    label: `UCB1-Tuned c=${c}`,
    make: (w: UCBSelectorOptions["rewardWeights"]) =>
      new UCBModelSelector({ variant: "ucb1-tuned", explorationFactor: c, rewardWeights: w }),
  })),
  { label: "default UCBModelSelector()", make: (w) => new UCBModelSelector({ rewardWeights: w }) },
  { label: "Thompson sampling", make: (w, seed) => new ThompsonSamplingSelector({ rewardWeights: w, seed }) },
];

const DEFAULT_DATA = resolve(import.meta.dirname, "../../../../../shared/data/routerbench");

/** The bench case: the test split, 20 orders, the default UCB against the seed's c = 2 and Thompson. */
export async function ucbReplayCase(
  options: { seeds?: number; dir?: string } = {},
): Promise<{ markdown: string; rows: Record<string, unknown>[] }> {
  const { models, prompts, skipped } = loadSplit(options.dir ?? DEFAULT_DATA, "test");
  const seeds = options.seeds ?? 20;
  const weights = { success: 0, latency: 0, cost: 0, quality: 1 };
  const rows: Record<string, unknown>[] = [];
  for (const config of CONFIGS.filter((c) =>
    ["default UCBModelSelector()", "UCB1 c=2", "Thompson sampling"].includes(c.label),
  )) {
    const fractions: number[] = [];
    for (let s = 1; s <= seeds; s++)
      fractions.push((await replay(models, shuffled(prompts, s).slice(0, 1000), config.make(weights, s), 0)).fraction);
    rows.push({
      selector: config.label,
      meanFraction: fractions.reduce((a, b) => a + b, 0) / seeds,
      minFraction: Math.min(...fractions),
      maxFraction: Math.max(...fractions),
    });
  }
  const pct = (x: unknown) => `${((x as number) * 100).toFixed(1)}%`;
  const markdown = [
    "### routing-ucb",
    "",
    `Online UCB through registry.generate + recordFeedback (quality = recorded correctness) on the RouterBench test split: ${prompts.length} prompts (${skipped} skipped), ${models.length} models, ${seeds} random orders, first 1,000 prompts each. Fraction of the best fixed model's cumulative reward; goal ≥ 95% for the default.`,
    "",
    "| selector | mean | min | max |",
    "|---|---:|---:|---:|",
    ...rows.map(
      (r) => `| ${String(r.selector)} | ${pct(r.meanFraction)} | ${pct(r.minFraction)} | ${pct(r.maxFraction)} |`,
    ),
    "",
  ].join("\n");
  return { markdown, rows };
}

async function main(): Promise<void> {
  const split = arg("split", "train") as "train" | "test";
  const dir = arg("data", DEFAULT_DATA);
  const seeds = Number(arg("seeds", "10"));
  const horizon = Number(arg("prompts", "1000"));
  const costWeight = Number(arg("cost-weight", "0"));
  const only = arg("only", "");
  const { models, prompts, skipped } = loadSplit(dir, split);
  const weights =
    costWeight > 0
      ? { success: 0, latency: 0, cost: costWeight, quality: 1 }
      : { success: 0, latency: 0, cost: 0, quality: 1 };
  console.log(
    `RouterBench ${split}: ${prompts.length} prompts (${skipped} skipped: blank score), ${models.length} models, ${seeds} seeds, first ${horizon} prompts of each shuffled order, reward weights ${JSON.stringify(weights)}`,
  );
  console.log("| selector | fraction of best fixed (mean) | min | max | accuracy | USD/prompt |");
  console.log("|---|---|---|---|---|---|");
  for (const config of CONFIGS) {
    if (only && !config.label.includes(only)) continue;
    const fractions: number[] = [];
    let acc = 0;
    let usd = 0;
    for (let s = 1; s <= seeds; s++) {
      const order = shuffled(prompts, s).slice(0, horizon);
      const r = await replay(models, order, config.make(weights, s), costWeight);
      fractions.push(r.fraction);
      acc += r.accuracy;
      usd += r.costPerPrompt;
    }
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(
      `| ${config.label} | ${pct(mean)} | ${pct(Math.min(...fractions))} | ${pct(Math.max(...fractions))} | ${(acc / seeds).toFixed(3)} | ${(usd / seeds).toExponential(2)} |`,
    );
  }
}

if (process.argv[1]?.endsWith("ucb-replay.ts")) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
