import {
  ContextualSelector,
  type ContextualSelectorOptions,
  HashedNgramExtractor,
  type HashedNgramOptions,
  SparseFeatures,
} from "@orchestrator-ts/registry";
import { seededRandom } from "@orchestrator-ts/registry/internal";
import type { ReplayDataset, ReplayRow } from "./dataset";
import type { Point } from "./metrics";

/** A routing policy replayed over full-information rows: it picks a model index, then sees that model's outcome. */
export interface ReplayPolicy {
  readonly label?: string;
  choose(row: ReplayRow): number;
  /** Bandit feedback: only the chosen model's quality and cost. */
  observe?(row: ReplayRow, model: number, quality: number, costUsd: number): void;
}

export interface ReplayOptions {
  /** Seeds of the random orders (one run per seed). Default [1]. */
  seeds?: readonly number[];
  /** `"random"` (default): a seeded permutation per run; `"given"`: the dataset's order. */
  order?: "random" | "given";
  /** Price of cost in the regret's reward `quality − lambda·costUsd`, quality per USD. Default 0. */
  lambda?: number;
  /** Prompts per run (the first `horizon` of each order). Default all. */
  horizon?: number;
  /** Points of the running curve per run. Default 20. */
  curvePoints?: number;
}

export interface ReplayRunResult {
  seed: number;
  accuracy: number;
  costPerPrompt: number;
  /** Cumulative `(best fixed model's reward) − (policy's reward)`, reward = quality − λ·cost. */
  regret: number;
  /** After each checkpoint: prompts seen, running accuracy and cost per prompt, cumulative regret. */
  curve: { prompts: number; accuracy: number; costPerPrompt: number; regret: number }[];
}

export interface ReplayResult {
  label: string;
  prompts: number;
  seeds: number;
  accuracy: number;
  costPerPrompt: number;
  regret: number;
  /** Spread over seeds. */
  accuracyMin: number;
  accuracyMax: number;
  costMax: number;
  /** The best fixed model in hindsight under reward quality − λ·cost (the regret's reference). */
  bestFixed: { model: string; accuracy: number; costPerPrompt: number };
  runs: ReplayRunResult[];
}

/** A seeded Fisher–Yates permutation of 0…n−1. */
export function permutation(n: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}

/**
 * Replays full-information data (every model's recorded outcome per prompt) through fresh
 * policies, one per seed, each over its own random order of the prompts. The policy sees only
 * the chosen model's outcome (bandit feedback). Reports accuracy, cost per prompt and the
 * cumulative regret against the best fixed model in hindsight, averaged over seeds.
 */
export function replayFullInformation(
  data: ReplayDataset,
  policyFactory: (seed: number) => ReplayPolicy,
  options: ReplayOptions = {},
): ReplayResult {
  const seeds = options.seeds ?? [1];
  const lambda = options.lambda ?? 0;
  const rows = data.rows;
  const horizon = Math.min(options.horizon ?? rows.length, rows.length);
  const points = Math.max(1, options.curvePoints ?? 20);
  const K = data.models.length;
  const runs: ReplayRunResult[] = [];
  let label = "";
  let bestFixed = { model: "", accuracy: 0, costPerPrompt: 0 };
  for (const seed of seeds) {
    const order =
      options.order === "given" ? permutation(rows.length, 0).map((_, i) => i) : permutation(rows.length, seed);
    const policy = policyFactory(seed);
    label = policy.label ?? "policy";
    const fixedReward = new Float64Array(K);
    const fixedQuality = new Float64Array(K);
    const fixedCost = new Float64Array(K);
    let q = 0;
    let c = 0;
    let reward = 0;
    const curve: ReplayRunResult["curve"] = [];
    const every = Math.max(1, Math.floor(horizon / points));
    for (let t = 0; t < horizon; t++) {
      const row = rows[order[t] as number] as ReplayRow;
      const k = policy.choose(row);
      const qk = row.quality[k] as number;
      const ck = row.cost[k] as number;
      policy.observe?.(row, k, qk, ck);
      q += qk;
      c += ck;
      reward += qk - lambda * ck;
      for (let m = 0; m < K; m++) {
        fixedQuality[m] = (fixedQuality[m] as number) + (row.quality[m] as number);
        fixedCost[m] = (fixedCost[m] as number) + (row.cost[m] as number);
        fixedReward[m] = (fixedReward[m] as number) + (row.quality[m] as number) - lambda * (row.cost[m] as number);
      }
      if ((t + 1) % every === 0 || t + 1 === horizon) {
        let best = Number.NEGATIVE_INFINITY;
        for (let m = 0; m < K; m++) best = Math.max(best, fixedReward[m] as number);
        curve.push({ prompts: t + 1, accuracy: q / (t + 1), costPerPrompt: c / (t + 1), regret: best - reward });
      }
    }
    let best = 0;
    for (let m = 1; m < K; m++) if ((fixedReward[m] as number) > (fixedReward[best] as number)) best = m;
    bestFixed = {
      model: data.models[best] as string,
      accuracy: (fixedQuality[best] as number) / horizon,
      costPerPrompt: (fixedCost[best] as number) / horizon,
    };
    runs.push({
      seed,
      accuracy: q / horizon,
      costPerPrompt: c / horizon,
      regret: (fixedReward[best] as number) - reward,
      curve,
    });
  }
  const mean = (f: (r: ReplayRunResult) => number) => runs.reduce((s, r) => s + f(r), 0) / Math.max(1, runs.length);
  return {
    label,
    prompts: horizon,
    seeds: runs.length,
    accuracy: mean((r) => r.accuracy),
    costPerPrompt: mean((r) => r.costPerPrompt),
    regret: mean((r) => r.regret),
    accuracyMin: Math.min(...runs.map((r) => r.accuracy)),
    accuracyMax: Math.max(...runs.map((r) => r.accuracy)),
    costMax: Math.max(...runs.map((r) => r.costPerPrompt)),
    bestFixed,
    runs,
  };
}

// Policies ---------------------------------------------------------------------------------

export function fixedPolicy(k: number, label?: string): ReplayPolicy {
  return { label: label ?? `fixed #${k}`, choose: () => k };
}

export function randomPolicy(models: number, seed: number): ReplayPolicy {
  const random = seededRandom(seed);
  return { label: "uniform random", choose: () => Math.floor(random() * models) };
}

/** The cheapest correct model per prompt (the cheapest overall when none is correct). */
export function oraclePolicy(): ReplayPolicy {
  return {
    label: "oracle",
    choose(row) {
      let best = -1;
      let cheapest = 0;
      for (let k = 0; k < row.quality.length; k++) {
        if ((row.cost[k] as number) < (row.cost[cheapest] as number)) cheapest = k;
        if ((row.quality[k] as number) >= 1 && (best < 0 || (row.cost[k] as number) < (row.cost[best] as number)))
          best = k;
      }
      return best < 0 ? cheapest : best;
    },
  };
}

// Features are deterministic per (row, extractor): cache them across seeds and λ sweeps.
const featureCache = new WeakMap<object, WeakMap<ReplayRow, SparseFeatures>>();

/** The row's features under `selector.extractor`, cached. */
export function rowFeatures(selector: ContextualSelector, row: ReplayRow): SparseFeatures {
  let byRow = featureCache.get(selector.extractor);
  if (!byRow) {
    byRow = new WeakMap();
    featureCache.set(selector.extractor, byRow);
  }
  let x = byRow.get(row);
  if (!x) {
    x = selector.extractor.extract({ text: row.prompt, task: row.task }, new SparseFeatures(256)).clone();
    byRow.set(row, x);
  }
  return x;
}

/** Full-information warm start: every row trains every model's predictor with its recorded quality and cost. */
export function fitOnDataset(
  selector: ContextualSelector,
  data: ReplayDataset,
  options: { epochs?: number; seed?: number; calibrate?: boolean } = {},
): ContextualSelector {
  const order = options.seed !== undefined ? permutation(data.rows.length, options.seed) : undefined;
  const rows = order ? Array.from(order, (i) => data.rows[i] as ReplayRow) : data.rows;
  selector.fit(
    rows.map((row) => ({
      features: rowFeatures(selector, row),
      task: row.task,
      outcomes: data.models.map((model, k) => ({
        model,
        quality: row.quality[k] as number,
        costUsd: row.cost[k] as number,
      })),
    })),
    {
      ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
      ...(options.calibrate !== undefined ? { calibrate: options.calibrate } : {}),
    },
  );
  return selector;
}

/**
 * A `ContextualSelector` as a replay policy: it reads the row's prompt and task, chooses among
 * all models, and (unless `learn: false`) learns the chosen model's outcome.
 */
export function contextualPolicy(
  selector: ContextualSelector,
  models: readonly string[],
  options: { learn?: boolean; label?: string } = {},
): ReplayPolicy {
  const learn = options.learn ?? true;
  return {
    label: options.label ?? `contextual (${selector.exploration})`,
    choose(row) {
      return selector.choose(rowFeatures(selector, row), models, { task: row.task, probability: false }).index;
    },
    observe(row, k, quality, costUsd) {
      if (learn) selector.learn(rowFeatures(selector, row), models[k] as string, quality, costUsd, { task: row.task });
    },
  };
}

/** What `replayFromFiles` and the CLI accept as `--policy`: the selector's options plus a warm start. */
export interface SelectorConfigLike extends Omit<ContextualSelectorOptions, "extractor" | "log"> {
  type?: "contextual";
  extractor?: HashedNgramOptions;
  /** Fit on this split of the same data first (full information), e.g. "train". Default none (cold start). */
  warmStart?: string | false;
  /** Passes over the warm-start data. Default 1. */
  epochs?: number;
  /** Keep learning from bandit feedback during the replay. Default true. */
  learnOnline?: boolean;
}

/** Builds a fresh selector from a config (the extractor is shared so replay feature caches hit). */
export function contextualSelectorFromConfig(
  config: SelectorConfigLike,
  seed: number,
  extractor?: HashedNgramExtractor,
): ContextualSelector {
  const {
    type: _type,
    extractor: extractorOptions,
    warmStart: _warm,
    epochs: _epochs,
    learnOnline: _online,
    ...options
  } = config;
  return new ContextualSelector({
    ...options,
    seed: options.seed ?? seed,
    extractor: extractor ?? new HashedNgramExtractor(extractorOptions ?? {}),
  });
}

/**
 * The quality-vs-cost curve of a policy family: one replay per λ (averaged over seeds), as points
 * labelled with λ. Feed them to `aiq` and `renderSvg`.
 */
export function qualityCostCurve(
  data: ReplayDataset,
  policyAt: (lambda: number, seed: number) => ReplayPolicy,
  lambdas: readonly number[],
  options: Omit<ReplayOptions, "lambda"> = {},
): (Point & { lambda: number })[] {
  return lambdas.map((lambda) => {
    const r = replayFullInformation(data, (seed) => policyAt(lambda, seed), { ...options, lambda });
    return { cost: r.costPerPrompt, quality: r.accuracy, lambda, label: `λ=${lambda}` };
  });
}
