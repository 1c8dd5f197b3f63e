import { ConfigError } from "@orchestrator-ts/core";
import { cascadePolicyRoute, replayCascade } from "./cascade-replay";
import type { ReplayDataset, ReplayRow } from "./dataset";
import { nonDecreasingHull, type Point } from "./metrics";
import { permutation } from "./simulate";

// k-fold cross-validation of a cascade policy's gain on a split it was chosen on (RouterBench
// train): on each held-out fold the cascade runs paced at its budget, against the best per-task
// mixture of single models at the same budget fitted on the other folds — the mixture a
// contextual router on the task tag converges to, so the gain is what the models' answers add
// beyond the task tag. The standard error is over folds.

/** Per task, the probability of each model (at most two adjacent points of the task's hull). */
export type TaskMixture = ReadonlyMap<string, readonly { model: number; weight: number }[]>;

function byTask(rows: readonly ReplayRow[]): Map<string, ReplayRow[]> {
  const out = new Map<string, ReplayRow[]>();
  for (const row of rows) {
    let list = out.get(row.task);
    if (!list) out.set(row.task, (list = []));
    list.push(row);
  }
  return out;
}

function taskPoints(data: ReplayDataset, rows: readonly ReplayRow[]): (Point & { model: number })[] {
  return data.models.map((label, k) => {
    let q = 0;
    let c = 0;
    for (const row of rows) {
      q += row.quality[k] as number;
      c += row.cost[k] as number;
    }
    return { model: k, label, quality: q / rows.length, cost: c / rows.length };
  });
}

/**
 * The best per-task mixture of single models whose mean cost on `data` is at most `budget`: each
 * task starts at its cheapest model and, while budget remains, moves along its quality-vs-cost
 * hull, the steepest segment of any task first (the linear program's greedy solution).
 */
export function bestTaskMixture(data: ReplayDataset, budget: number): TaskMixture {
  const tasks = byTask(data.rows);
  const n = data.rows.length;
  const hulls = new Map<string, (Point & { model: number })[]>();
  const at = new Map<string, { i: number; f: number }>();
  let spent = 0;
  const segments: { task: string; i: number; slope: number; extra: number }[] = [];
  for (const [task, rows] of tasks) {
    const hull = nonDecreasingHull(taskPoints(data, rows)) as (Point & { model: number })[];
    hulls.set(task, hull);
    at.set(task, { i: 0, f: 0 });
    const share = rows.length / n;
    spent += share * (hull[0] as Point).cost;
    for (let i = 0; i + 1 < hull.length; i++) {
      const a = hull[i] as Point;
      const b = hull[i + 1] as Point;
      segments.push({ task, i, slope: (b.quality - a.quality) / (b.cost - a.cost), extra: share * (b.cost - a.cost) });
    }
  }
  // Concave hulls: a task's segments come in order of falling slope, so the greedy order keeps them in sequence.
  segments.sort((a, b) => b.slope - a.slope);
  for (const s of segments) {
    if (spent >= budget) break;
    const f = Math.min(1, (budget - spent) / s.extra);
    spent += f * s.extra;
    at.set(s.task, f >= 1 ? { i: s.i + 1, f: 0 } : { i: s.i, f });
  }
  const out = new Map<string, { model: number; weight: number }[]>();
  for (const [task, hull] of hulls) {
    const { i, f } = at.get(task) as { i: number; f: number };
    const mix = [{ model: (hull[i] as { model: number }).model, weight: 1 - f }];
    if (f > 0) mix.push({ model: (hull[i + 1] as { model: number }).model, weight: f });
    out.set(task, mix);
  }
  return out;
}

/** A mixture's expected accuracy and cost per prompt on `rows`; a task it has never seen gets its cheapest model. */
export function mixturePoint(data: ReplayDataset, mixture: TaskMixture, rows: readonly ReplayRow[]): Point {
  let q = 0;
  let c = 0;
  for (const [task, list] of byTask(rows)) {
    const points = taskPoints(data, list);
    const mix = mixture.get(task) ?? [{ model: points.reduce((a, b) => (b.cost < a.cost ? b : a)).model, weight: 1 }];
    for (const { model, weight } of mix) {
      q += weight * (points[model] as Point).quality * list.length;
      c += weight * (points[model] as Point).cost * list.length;
    }
  }
  return { quality: q / Math.max(1, rows.length), cost: c / Math.max(1, rows.length), label: "per-task mixture" };
}

/** One held-out fold: the cascade's figures (means over random orders) and the baseline's. */
export interface CascadeCvFold {
  fold: number;
  prompts: number;
  accuracy: number;
  costPerPrompt: number;
  /** The highest cost per prompt of any order. */
  costMax: number;
  escalationRate: number;
  /** The best per-task mixture of single models at the budget, fitted on the other folds, on this fold. */
  baselineAccuracy: number;
  baselineCost: number;
  /** `accuracy − baselineAccuracy`. */
  gain: number;
}

/** What `crossValidateCascade` found: every fold, and the means over folds. */
export interface CascadeCvResult {
  label: string;
  budgetPerRequest: number;
  folds: CascadeCvFold[];
  /** Means over folds, and their standard errors (standard deviation over folds / √k). */
  accuracy: number;
  costPerPrompt: number;
  costMax: number;
  baselineAccuracy: number;
  gain: number;
  gainSe: number;
}

/** How `crossValidateCascade` splits and replays. */
export interface CascadeCvOptions {
  /** Folds. Default 5. */
  folds?: number;
  /** Random orders the cascade is replayed in on each held-out fold. Default [1, 2, 3, 4, 5]. */
  seeds?: readonly number[];
  /** Seed of the split into folds. Default 1. */
  foldSeed?: number;
}

/** k-fold cross-validated gain of a paced cascade policy over the best per-task mixture of single models at its budget. */
export async function crossValidateCascade(
  data: ReplayDataset,
  policy: unknown,
  options: CascadeCvOptions = {},
): Promise<CascadeCvResult> {
  const k = options.folds ?? 5;
  if (!Number.isInteger(k) || k < 2 || k > data.rows.length)
    throw new ConfigError(
      [
        {
          path: "folds",
          message: `must be an integer from 2 to the number of prompts (${data.rows.length}), got ${k}`,
        },
      ],
      { title: "Invalid cross-validation" },
    );
  const budget = (policy as { budgetPerRequest?: unknown })?.budgetPerRequest;
  if (!(typeof budget === "number" && Number.isFinite(budget) && budget > 0))
    throw new ConfigError(
      [
        {
          path: "budgetPerRequest",
          message: `cross-validation compares at the policy's budget: set a positive budgetPerRequest (or --budget), got ${JSON.stringify(budget)}`,
        },
      ],
      { title: "Invalid cascade policy" },
    );
  const label = cascadePolicyRoute(policy, data).name;
  const order = permutation(data.rows.length, options.foldSeed ?? 1);
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  const folds: CascadeCvFold[] = [];
  for (let f = 0; f < k; f++) {
    const held: number[] = [];
    const rest: ReplayRow[] = [];
    order.forEach((r, i) => {
      if (i % k === f) held.push(r);
      else rest.push(data.rows[r] as ReplayRow);
    });
    const heldRows = held.map((r) => data.rows[r] as ReplayRow);
    const cascade = await replayCascade(data, () => cascadePolicyRoute(policy, data), { seeds, rows: held });
    const mixture = bestTaskMixture({ ...data, rows: rest }, budget);
    const base = mixturePoint(data, mixture, heldRows);
    folds.push({
      fold: f + 1,
      prompts: held.length,
      accuracy: cascade.accuracy,
      costPerPrompt: cascade.costPerPrompt,
      costMax: cascade.costMax,
      escalationRate: cascade.escalationRate,
      baselineAccuracy: base.quality,
      baselineCost: base.cost,
      gain: cascade.accuracy - base.quality,
    });
  }
  const mean = (g: (x: CascadeCvFold) => number) => folds.reduce((s, x) => s + g(x), 0) / folds.length;
  const gain = mean((x) => x.gain);
  const sd = Math.sqrt(folds.reduce((s, x) => s + (x.gain - gain) ** 2, 0) / (folds.length - 1));
  return {
    label,
    budgetPerRequest: budget,
    folds,
    accuracy: mean((x) => x.accuracy),
    costPerPrompt: mean((x) => x.costPerPrompt),
    costMax: Math.max(...folds.map((x) => x.costMax)),
    baselineAccuracy: mean((x) => x.baselineAccuracy),
    gain,
    gainSe: sd / Math.sqrt(folds.length),
  };
}

const f3 = (x: number) => x.toFixed(3);
const usd = (x: number) => x.toExponential(2);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)}`;

/** The cross-validation as a Markdown table. */
export function cascadeCvMarkdown(cv: CascadeCvResult, split: string): string {
  return [
    `# Cascade cross-validation: ${cv.label}, ${cv.folds.length} folds of the ${split} split, budget ${usd(cv.budgetPerRequest)} USD/prompt`,
    "",
    "Each held-out fold: the cascade paced at its budget (mean over random orders) against the best per-task mixture of single models at the same budget, fitted on the other folds.",
    "",
    "| fold | prompts | cascade accuracy | USD / prompt (max) | escalated | per-task mixture | its USD / prompt | gain |",
    "|---|---|---|---|---|---|---|---|",
    ...cv.folds.map(
      (x) =>
        `| ${x.fold} | ${x.prompts} | ${f3(x.accuracy)} | ${usd(x.costPerPrompt)} (${usd(x.costMax)}) | ${f3(x.escalationRate)} | ${f3(x.baselineAccuracy)} | ${usd(x.baselineCost)} | ${signed(x.gain)} |`,
    ),
    `| **mean** | | **${f3(cv.accuracy)}** | ${usd(cv.costPerPrompt)} (${usd(cv.costMax)}) | | ${f3(cv.baselineAccuracy)} | | **${signed(cv.gain)} ± ${cv.gainSe.toFixed(3)}** |`,
    "",
    `Cross-validated gain: ${signed(cv.gain)} ± ${cv.gainSe.toFixed(3)} accuracy (± one standard error over ${cv.folds.length} folds).`,
    "",
  ].join("\n");
}
