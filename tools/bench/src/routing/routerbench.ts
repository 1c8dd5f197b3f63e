/**
 * RouterBench routing benchmark (issue #10's routing part, issue #11's goals).
 *
 *   npx tsx src/routing/routerbench.ts [--data /work/shared/data/routerbench] [--seeds 20] [--quick]
 *
 * - Hyperparameters are chosen on the train split only (3-fold cross-validation of the λ-sweep
 *   AIQ); the chosen selector is fitted on all of train and reported on test.
 * - Prompts go through `ContextualSelector.choose` / `learn` directly for the sweeps (the same
 *   code path as the selector's `select`/`update` minus the registry's bookkeeping, so 20 seeds ×
 *   23 λ values fit in a minute); the two reported selectors are also run through
 *   `registry.generate` + `recordFeedback` (fewer orders) to show the registry path routes the same.
 * - Writes bench/results/routing.json, routing.md, routing.svg.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  ContextualSelector,
  type ContextualSelectorOptions,
  type ContextualSelectorState,
  HashedNgramExtractor,
  type HashedNgramOptions,
  ModelRegistry,
  SparseFeatures,
} from "@orchestrator-ts/registry";
import {
  aiq,
  contextualPolicy,
  DEFAULT_LAMBDAS,
  fitOnDataset,
  fixedPolicy,
  loadReplayCsv,
  nonDecreasingHull,
  oraclePolicy,
  permutation,
  type Point,
  qualityCostCurve,
  randomPolicy,
  renderSvg,
  type ReplayDataset,
  replayFullInformation,
  type ReplayResult,
  type ReplayRow,
  rowFeatures,
  singleModelPoint,
} from "@orchestrator-ts/replay";
import { ReplayModel } from "./ucb-replay";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const BUDGET = 1.25e-3;
const OUT = resolve(import.meta.dirname, "../../../../bench/results");

interface Candidate {
  name: string;
  extractor: HashedNgramOptions;
  selector: Omit<ContextualSelectorOptions, "extractor">;
  epochs?: number;
}

const GRID: Candidate[] = [
  {
    name: "task tag only",
    extractor: { wordNgrams: [], charNgrams: [], lengthWeight: 0 },
    selector: { exploration: "greedy" },
  },
  {
    name: "task tag + length bucket",
    extractor: { wordNgrams: [], charNgrams: [] },
    selector: { exploration: "greedy" },
  },
  {
    name: "task tag only, LinUCB α=0.3",
    extractor: { wordNgrams: [], charNgrams: [], lengthWeight: 0 },
    selector: { exploration: "linucb", alpha: 0.3 },
  },
  { name: "hashed n-grams (default extractor)", extractor: {}, selector: { exploration: "greedy" } },
  {
    name: "hashed n-grams, last 400 chars, weight 0.1",
    extractor: { tailChars: 400, ngramWeight: 0.1, lengthWeight: 0 },
    selector: { exploration: "greedy" },
  },
  {
    name: "hashed n-grams, last 400 chars, ridge 10, 5 epochs",
    extractor: { tailChars: 400, lengthWeight: 0 },
    selector: { exploration: "greedy", ridge: 10 },
    epochs: 5,
  },
];

// Cold start: no warm start, bandit feedback only. Tuned on a bandit pass over train (accuracy
// over its second half, where each task has seen ~1,000 prompts), reported on test.
const COLD_GRID: Candidate[] = [
  {
    name: "per-task bandit, LinUCB α=0.3",
    extractor: { wordNgrams: [], charNgrams: [], lengthWeight: 0 },
    selector: { exploration: "linucb", alpha: 0.3 },
  },
  {
    name: "per-task bandit, LinUCB α=1",
    extractor: { wordNgrams: [], charNgrams: [], lengthWeight: 0 },
    selector: { exploration: "linucb", alpha: 1 },
  },
  {
    name: "per-task bandit, Thompson α=0.5",
    extractor: { wordNgrams: [], charNgrams: [], lengthWeight: 0 },
    selector: { exploration: "thompson", alpha: 0.5 },
  },
  {
    name: "per-task bandit, Thompson α=1",
    extractor: { wordNgrams: [], charNgrams: [], lengthWeight: 0 },
    selector: { exploration: "thompson", alpha: 1 },
  },
];

/** A bandit-feedback pass over `data` in a random order; accuracy and mean cost over the rows from `from` on. */
function banditPass(
  s: ContextualSelector,
  data: ReplayDataset,
  seed: number,
  from = 0,
): { accuracy: number; cost: number } {
  const policy = contextualPolicy(s, data.models);
  let q = 0;
  let c = 0;
  let n = 0;
  permutation(data.rows.length, seed).forEach((i, j) => {
    const row = data.rows[i] as ReplayRow;
    const k = policy.choose(row);
    policy.observe?.(row, k, row.quality[k] as number, row.cost[k] as number);
    if (j >= from) {
      q += row.quality[k] as number;
      c += row.cost[k] as number;
      n++;
    }
  });
  return { accuracy: q / n, cost: c / n };
}

/**
 * The same selector through the registry: every row is a `registry.generate` of its prompt with
 * its task tag against 11 replay models (cost = the recorded cost), then `recordFeedback` with
 * the recorded correctness. `warmup` rows go through first (bandit feedback, not counted).
 */
async function throughRegistry(
  make: (seed: number) => ContextualSelector,
  data: ReplayDataset,
  seeds: number[],
  warmup?: ReplayDataset,
): Promise<{ accuracy: number; costPerPrompt: number; accuracyMin: number; accuracyMax: number; usPerCall: number }> {
  const accuracies: number[] = [];
  let cost = 0;
  let calls = 0;
  let time = 0;
  for (const seed of seeds) {
    const selector = make(seed);
    let row: ReplayRow | undefined;
    const registry = new ModelRegistry({ modelSelector: selector });
    data.models.forEach((m, k) => {
      registry.registerModel(new ReplayModel(m, () => (row?.cost[k] as number) ?? 0));
    });
    const index = new Map(data.models.map((m, k) => [m, k]));
    const run = async (rows: readonly ReplayRow[], order: Iterable<number>, count: boolean) => {
      let q = 0;
      for (const i of order) {
        row = rows[i] as ReplayRow;
        const t = performance.now();
        const r = await registry.generate({ messages: [{ role: "user", content: row.prompt }], task: row.task });
        const k = index.get(r.model) as number;
        registry.recordFeedback(r.selectionId, { quality: row.quality[k] as number });
        time += performance.now() - t;
        calls++;
        if (count) {
          q += row.quality[k] as number;
          cost += row.cost[k] as number;
        }
      }
      return q / rows.length;
    };
    if (warmup) await run(warmup.rows, permutation(warmup.rows.length, seed + 1000), false);
    accuracies.push(await run(data.rows, permutation(data.rows.length, seed), true));
  }
  return {
    accuracy: accuracies.reduce((a, b) => a + b, 0) / accuracies.length,
    accuracyMin: Math.min(...accuracies),
    accuracyMax: Math.max(...accuracies),
    costPerPrompt: cost / (seeds.length * data.rows.length),
    usPerCall: (time * 1000) / calls,
  };
}

function subset(data: ReplayDataset, rows: ReplayRow[]): ReplayDataset {
  return { ...data, rows };
}

function folds(data: ReplayDataset, k: number): [ReplayDataset, ReplayDataset][] {
  const order = permutation(data.rows.length, 99);
  return Array.from({ length: k }, (_, f) => {
    const fit: ReplayRow[] = [];
    const held: ReplayRow[] = [];
    order.forEach((i, j) => {
      (j % k === f ? held : fit).push(data.rows[i] as ReplayRow);
    });
    return [subset(data, fit), subset(data, held)];
  });
}

// The full-information fit does not depend on the seed or λ: fit once per (config, data), restore after.
const fitted = new Map<string, WeakMap<ReplayDataset, ContextualSelectorState>>();

function makeSelector(
  c: Candidate,
  extractor: HashedNgramExtractor,
  seed: number,
  extra: Partial<ContextualSelectorOptions>,
  train: ReplayDataset | undefined,
): ContextualSelector {
  const s = new ContextualSelector({ ...c.selector, ...extra, seed, extractor });
  if (!train) return s;
  let byData = fitted.get(c.name);
  if (!byData) {
    byData = new WeakMap();
    fitted.set(c.name, byData);
  }
  let state = byData.get(train);
  if (!state) {
    state = fitOnDataset(new ContextualSelector({ ...c.selector, extractor }), train, {
      ...(c.epochs !== undefined ? { epochs: c.epochs } : {}),
      calibrate: false,
    }).save();
    byData.set(train, state);
  }
  s.restore(state);
  if (extra.lambda !== undefined) s.lambda = extra.lambda;
  // With a budget, start from the λ that meets it on the training data.
  if (s.pacer) s.lambda = s.calibrateLambda(calibrationSet(s, train), s.pacer.budgetPerRequest);
  return s;
}

function calibrationSet(
  s: ContextualSelector,
  data: ReplayDataset,
): { x: SparseFeatures; task: string | undefined; outcomes: { model: string; quality: number }[] }[] {
  return data.rows.map((row) => ({
    x: rowFeatures(s, row),
    task: row.task,
    outcomes: data.models.map((model, k) => ({ model, quality: row.quality[k] as number })),
  }));
}

function range(data: ReplayDataset): { min: number; max: number; singles: Point[] } {
  const singles = data.models.map((_, k) => singleModelPoint(data, k));
  return { min: Math.min(...singles.map((p) => p.cost)), max: Math.max(...singles.map((p) => p.cost)), singles };
}

/** Quality at a cost on the hull of `points` (linear between hull points, flat past the last). */
function qualityAt(points: Point[], cost: number): number {
  const hull = nonDecreasingHull(points);
  let q = Number.NaN;
  for (let i = 0; i < hull.length; i++) {
    const p = hull[i] as Point;
    if (p.cost <= cost) q = p.quality;
    const n = hull[i + 1];
    if (n && p.cost <= cost && n.cost >= cost)
      q = p.quality + ((n.quality - p.quality) * (cost - p.cost)) / (n.cost - p.cost);
  }
  return q;
}

const f3 = (x: number) => x.toFixed(3);
const usd = (x: number) => x.toExponential(2);

export interface RoutingOptions {
  data?: string;
  /** Random orders on test. Default 20. */
  seeds?: number;
  /** A coarser λ grid (faster). */
  quick?: boolean;
}

/** Runs the whole benchmark and writes bench/results/routing.{json,md,svg}. */
export async function runRouting(
  options: RoutingOptions = {},
): Promise<{ result: Record<string, unknown>; md: string; svg: string }> {
  const DATA = options.data ?? "/work/shared/data/routerbench";
  const SEEDS = Array.from({ length: options.seeds ?? 20 }, (_, i) => i + 1);
  const QUICK = options.quick ?? false;
  const t0 = performance.now();
  const train = loadReplayCsv(DATA, { split: "train" });
  const test = loadReplayCsv(DATA, { split: "test" });
  const lambdas = QUICK ? [0, 10, 20, 30, 40, 70, 150, 500, 2000] : DEFAULT_LAMBDAS;

  // 1. Tune on train: 3-fold CV of the λ-sweep AIQ.
  const cv = folds(train, 3);
  const trainRange = range(train);
  const tuning: { name: string; aiq: number; accuracyAtBudget: number }[] = [];
  for (const c of GRID) {
    const extractor = new HashedNgramExtractor(c.extractor);
    const points: Point[] = lambdas.map((lambda) => {
      let q = 0;
      let cost = 0;
      for (const [fit, held] of cv) {
        const r = replayFullInformation(
          held,
          (seed) => contextualPolicy(makeSelector(c, extractor, seed, { lambda }, fit), train.models),
          { seeds: [1, 2] },
        );
        q += r.accuracy;
        cost += r.costPerPrompt;
      }
      return { quality: q / cv.length, cost: cost / cv.length };
    });
    tuning.push({
      name: c.name,
      aiq: aiq(points, trainRange.min, trainRange.max),
      accuracyAtBudget: qualityAt(points, BUDGET),
    });
    console.error(`tune ${c.name}: AIQ ${tuning.at(-1)?.aiq.toFixed(4)}`);
  }
  const bestIndex = tuning.reduce((b, t, i) => (t.aiq > (tuning[b] as (typeof tuning)[number]).aiq ? i : b), 0);
  const chosen = GRID[bestIndex] as Candidate;
  const chosenExtractor = new HashedNgramExtractor(chosen.extractor);
  const defaultCandidate = GRID[3] as Candidate;
  const defaultExtractor = new HashedNgramExtractor(defaultCandidate.extractor);

  // 2. Report on test: warm start on all of train, online bandit feedback on test, 20 random orders.
  const testRange = range(test);
  const opts = { seeds: SEEDS };
  const paced = replayFullInformation(
    test,
    (seed) =>
      contextualPolicy(makeSelector(chosen, chosenExtractor, seed, { budgetPerRequest: BUDGET }, train), test.models, {
        label: `${chosen.name}, budget ${BUDGET}`,
      }),
    opts,
  );
  const pacedDefault = replayFullInformation(
    test,
    (seed) =>
      contextualPolicy(
        makeSelector(defaultCandidate, defaultExtractor, seed, { budgetPerRequest: BUDGET }, train),
        test.models,
        { label: `${defaultCandidate.name}, budget ${BUDGET}` },
      ),
    opts,
  );
  const curve = qualityCostCurve(
    test,
    (lambda, seed) => contextualPolicy(makeSelector(chosen, chosenExtractor, seed, { lambda }, train), test.models),
    lambdas,
    opts,
  );
  const curveDefault = qualityCostCurve(
    test,
    (lambda, seed) =>
      contextualPolicy(makeSelector(defaultCandidate, defaultExtractor, seed, { lambda }, train), test.models),
    lambdas,
    opts,
  );
  // Cold start, per-task bandit (task tag only), no warm start, budget 30% of GPT-4's cost.
  // Tuned on train: a bandit pass over train, accuracy over its second half (5 orders).
  const gpt4 = test.models.indexOf("gpt-4-1106-preview");
  const gpt4Cost = (testRange.singles[gpt4] as Point).cost;
  const coldBudget = 0.3 * gpt4Cost;
  const trainColdBudget = 0.3 * (trainRange.singles[gpt4] as Point).cost;
  const coldTuning = COLD_GRID.map((c) => {
    const ex = new HashedNgramExtractor(c.extractor);
    const runs = [1, 2, 3, 4, 5].map((seed) =>
      banditPass(
        makeSelector(c, ex, seed, { budgetPerRequest: trainColdBudget }, undefined),
        train,
        seed,
        train.rows.length >> 1,
      ),
    );
    const r = {
      name: c.name,
      accuracy: runs.reduce((a, x) => a + x.accuracy, 0) / runs.length,
      cost: runs.reduce((a, x) => a + x.cost, 0) / runs.length,
    };
    console.error(
      `tune cold ${c.name}: second-half accuracy ${r.accuracy.toFixed(3)} at ${usd(r.cost)} (budget ${usd(trainColdBudget)})`,
    );
    return r;
  });
  const coldBest = coldTuning.reduce(
    (b, t, i) =>
      t.cost <= trainColdBudget * 1.05 && t.accuracy > (coldTuning[b] as (typeof coldTuning)[number]).accuracy ? i : b,
    0,
  );
  const coldChosen = COLD_GRID[coldBest] as Candidate;
  const taskOnly: Candidate = { ...coldChosen, name: `${coldChosen.name} (cold start)` };
  const taskExtractor = new HashedNgramExtractor(taskOnly.extractor);
  const cold = replayFullInformation(
    test,
    (seed) =>
      contextualPolicy(
        makeSelector(taskOnly, taskExtractor, seed, { budgetPerRequest: coldBudget }, undefined),
        test.models,
        { label: taskOnly.name },
      ),
    opts,
  );
  const coldAfterTrain = replayFullInformation(
    test,
    (seed) => {
      const s = makeSelector(taskOnly, taskExtractor, seed, { budgetPerRequest: coldBudget }, undefined);
      // Bandit feedback only (no full information) over the train prompts in a random order.
      const policy = contextualPolicy(s, train.models);
      for (const i of permutation(train.rows.length, seed + 1000)) {
        const row = train.rows[i] as ReplayRow;
        const k = policy.choose(row);
        policy.observe?.(row, k, row.quality[k] as number, row.cost[k] as number);
      }
      return { ...policy, label: `${taskOnly.name} after ${train.rows.length} train prompts of bandit feedback` };
    },
    opts,
  );
  // The two reported selectors through registry.generate + recordFeedback (5 orders each).
  const registrySeeds = SEEDS.slice(0, 5);
  const viaRegistry = {
    paced: await throughRegistry(
      (seed) => makeSelector(chosen, chosenExtractor, seed, { budgetPerRequest: BUDGET }, train),
      test,
      registrySeeds,
    ),
    coldAfterTrain: await throughRegistry(
      (seed) => makeSelector(taskOnly, taskExtractor, seed, { budgetPerRequest: coldBudget }, undefined),
      test,
      registrySeeds,
      train,
    ),
  };
  const baselines: ReplayResult[] = [
    replayFullInformation(test, () => fixedPolicy(gpt4, "best single model (gpt-4-1106-preview)"), { seeds: [1] }),
    replayFullInformation(
      test,
      () =>
        fixedPolicy(
          testRange.singles.findIndex((p) => p.cost === testRange.min),
          "cheapest (mistral-7b-chat)",
        ),
      { seeds: [1] },
    ),
    replayFullInformation(test, (seed) => randomPolicy(test.models.length, seed), opts),
    replayFullInformation(test, () => oraclePolicy(), { seeds: [1] }),
  ];
  const aiqChosen = aiq(curve, testRange.min, testRange.max);
  const aiqDefault = aiq(curveDefault, testRange.min, testRange.max);
  const aiqSingles = aiq(testRange.singles, testRange.min, testRange.max);
  const singlesAtBudget = qualityAt(testRange.singles, BUDGET);
  const chosenAtBudget = qualityAt(curve, BUDGET);

  // 3. Selection time: 11 models × 1,024-dimensional features, fitted on train.
  const timingSelector = makeSelector(
    defaultCandidate,
    new HashedNgramExtractor({ dimensions: 1024 }),
    1,
    { lambda: 30 },
    train,
  );
  const xs = test.rows.map((row) =>
    timingSelector.extractor.extract({ text: row.prompt, task: row.task }, new SparseFeatures(256)).clone(),
  );
  const time = (label: string, fn: (i: number) => void, n = 20_000) => {
    for (let i = 0; i < 2_000; i++) fn(i);
    const samples = new Float64Array(n);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      fn(i);
      samples[i] = (performance.now() - s) * 1000;
    }
    const cpu = process.cpuUsage(cpu0);
    samples.sort();
    return {
      label,
      medianUs: samples[n >> 1] as number,
      p99Us: samples[Math.floor(n * 0.99)] as number,
      cpuUsPerCall: (cpu.user + cpu.system) / n,
    };
  };
  const models = test.models;
  const nnz = xs.reduce((s, x) => s + x.size, 0) / xs.length;
  const timings = (["greedy", "linucb", "thompson"] as const).map((exploration) => {
    const s = new ContextualSelector({ exploration, extractor: timingSelector.extractor, lambda: 30 }).restore(
      timingSelector.save(),
    );
    return time(`choose(), ${exploration}`, (i) => s.choose(xs[i % xs.length] as SparseFeatures, models));
  });
  const out = new SparseFeatures(2048);
  timings.push(
    time(
      "HashedNgramExtractor.extract (whole RouterBench prompt, ~1.5–2.7k chars)",
      (i) =>
        timingSelector.extractor.extract(
          { text: (test.rows[i % test.rows.length] as ReplayRow).prompt, task: "t" },
          out,
        ),
      5_000,
    ),
  );

  // 4. Write results.
  const rows = [paced, pacedDefault, cold, coldAfterTrain, ...baselines];
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    data: {
      train: train.rows.length,
      test: test.rows.length,
      skipped: { train: train.skipped.length, test: test.skipped.length },
      models: test.models,
    },
    method:
      "ContextualSelector.choose/learn directly (no registry), bandit feedback on test, warm start = full-information fit on train",
    seeds: SEEDS.length,
    tuning: { folds: 3, criterion: "AIQ of the λ sweep on held-out train folds", grid: tuning, chosen: chosen.name },
    results: rows.map((r) => ({
      label: r.label,
      accuracy: r.accuracy,
      accuracyMin: r.accuracyMin,
      accuracyMax: r.accuracyMax,
      costPerPrompt: r.costPerPrompt,
      costMax: r.costMax,
      regret: r.regret,
      bestFixed: r.bestFixed.model,
    })),
    curve,
    curveDefault,
    aiq: {
      chosen: aiqChosen,
      defaultExtractor: aiqDefault,
      singles: aiqSingles,
      range: [testRange.min, testRange.max],
    },
    atBudget: {
      budget: BUDGET,
      singlesHull: singlesAtBudget,
      chosenCurveHull: chosenAtBudget,
      paced: paced.accuracy,
      pacedCost: paced.costPerPrompt,
    },
    coldStart: {
      budget: coldBudget,
      gpt4Cost,
      tuning: {
        criterion:
          "bandit pass over train, accuracy over its second half, 5 orders, within 5% of 30% of GPT-4's train cost",
        trainBudget: trainColdBudget,
        grid: coldTuning,
        chosen: coldChosen.name,
      },
    },
    registry: { seeds: registrySeeds.length, ...viaRegistry },
    timing: { models: models.length, dimensions: 1024, meanNonZeros: nnz, results: timings },
    seconds: (performance.now() - t0) / 1000,
  };
  const md = [
    "# Routing on RouterBench (test split; everything tuned on train)",
    "",
    `${test.rows.length} test prompts (${test.skipped.length} with a blank score left out), ${test.models.length} models, ${SEEDS.length} random orders. ${result.method}.`,
    "",
    `Tuning (3-fold CV on train, AIQ of the λ sweep): ${tuning.map((t) => `${t.name} ${t.aiq.toFixed(4)}`).join("; ")}. Chosen: **${chosen.name}**.`,
    "",
    "| policy | accuracy (min–max) | USD / prompt (max) | regret vs best fixed (reward = correctness) |",
    "|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${f3(r.accuracy)} (${f3(r.accuracyMin)}–${f3(r.accuracyMax)}) | ${usd(r.costPerPrompt)} (${usd(r.costMax)}) | ${r.regret.toFixed(1)} |`,
    ),
    "",
    "| goal | target | reached |",
    "|---|---|---|",
    `| accuracy at ≤ ${BUDGET} USD/prompt (budget pacing, chosen selector) | ≥ 0.855 | ${f3(paced.accuracy)} at ${usd(paced.costPerPrompt)} (max over seeds ${usd(paced.costMax)}) |`,
    `| same, on the hull of the λ sweep | ≥ 0.855 | ${f3(chosenAtBudget)} |`,
    `| best mix of single models at ${BUDGET} | (reference 0.799) | ${f3(singlesAtBudget)} |`,
    `| AIQ (λ sweep, cost range of the single models) | ≥ 0.86 | ${aiqChosen.toFixed(4)} (default n-gram extractor ${aiqDefault.toFixed(4)}; single models ${aiqSingles.toFixed(4)}) |`,
    `| per-task bandit cold start at ≤ 30% of GPT-4's cost (${usd(coldBudget)}), once each task has seen ~1,000 prompts | ≥ 0.80 | after the train stream ${f3(coldAfterTrain.accuracy)} (min ${f3(coldAfterTrain.accuracyMin)}) at ${usd(coldAfterTrain.costPerPrompt)} (max ${usd(coldAfterTrain.costMax)}); test stream alone ${f3(cold.accuracy)} at ${usd(cold.costPerPrompt)} |`,
    "",
    `Cold-start tuning (bandit pass over train, accuracy over its second half, 5 orders, budget ${usd(trainColdBudget)}): ${coldTuning.map((t) => `${t.name} ${f3(t.accuracy)} at ${usd(t.cost)}`).join("; ")}. Chosen: **${coldChosen.name}**.`,
    "",
    `Through \`registry.generate\` + \`recordFeedback\` (${registrySeeds.length} orders, 11 replay models, prompt text and task tag in the request):`,
    "",
    "| policy | accuracy (min–max) | USD / prompt | µs per registry call (select + call + record + feedback) |",
    "|---|---|---|---|",
    `| ${chosen.name}, budget ${BUDGET} | ${f3(viaRegistry.paced.accuracy)} (${f3(viaRegistry.paced.accuracyMin)}–${f3(viaRegistry.paced.accuracyMax)}) | ${usd(viaRegistry.paced.costPerPrompt)} | ${viaRegistry.paced.usPerCall.toFixed(0)} |`,
    `| ${taskOnly.name} after the train stream | ${f3(viaRegistry.coldAfterTrain.accuracy)} (${f3(viaRegistry.coldAfterTrain.accuracyMin)}–${f3(viaRegistry.coldAfterTrain.accuracyMax)}) | ${usd(viaRegistry.coldAfterTrain.costPerPrompt)} | ${viaRegistry.coldAfterTrain.usPerCall.toFixed(0)} |`,
    "",
    `Selection time, ${models.length} models × 1,024 dimensions (mean ${nnz.toFixed(0)} non-zeros per prompt), ${timings[0]?.medianUs !== undefined ? "" : ""}goal ≤ 50 µs median:`,
    "",
    "| operation | median µs | p99 µs | CPU µs/call |",
    "|---|---|---|---|",
    ...timings.map(
      (t) => `| ${t.label} | ${t.medianUs.toFixed(1)} | ${t.p99Us.toFixed(1)} | ${t.cpuUsPerCall.toFixed(1)} |`,
    ),
    "",
    "λ sweep (chosen selector, test):",
    "",
    "| λ (quality per USD) | accuracy | USD / prompt |",
    "|---|---|---|",
    ...curve.map((p) => `| ${p.lambda} | ${f3(p.quality)} | ${usd(p.cost)} |`),
    "",
  ].join("\n");
  const svg = renderSvg({
    title: "RouterBench test: quality vs cost",
    points: [
      ...testRange.singles,
      {
        ...(baselines[3] as ReplayResult),
        cost: (baselines[3] as ReplayResult).costPerPrompt,
        quality: (baselines[3] as ReplayResult).accuracy,
        label: "oracle",
      },
    ].map((p) => ({ cost: p.cost, quality: p.quality, label: p.label ?? "" })),
    curves: [
      { label: `${chosen.name} (λ sweep)`, points: curve },
      { label: "hashed n-grams (λ sweep)", points: curveDefault },
      { label: "budget-paced", points: [{ cost: paced.costPerPrompt, quality: paced.accuracy }] },
    ],
    markers: [{ cost: BUDGET, label: `budget ${BUDGET}` }],
  });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "routing.json"), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(OUT, "routing.md"), md);
  writeFileSync(join(OUT, "routing.svg"), svg);
  return { result, md, svg };
}

if (process.argv[1]?.endsWith("routerbench.ts")) {
  const { md } = await runRouting({
    data: arg("data", "/work/shared/data/routerbench"),
    seeds: Number(arg("seeds", "20")),
    quick: process.argv.includes("--quick"),
  });
  console.log(md);
}
