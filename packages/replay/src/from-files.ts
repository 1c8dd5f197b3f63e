import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "@orchestrator-ts/core";
import { type DecisionRecord, HashedNgramExtractor } from "@orchestrator-ts/registry";
import { readDecisionLog } from "./decision-log";
import { offPolicyEstimate, selectorPolicy } from "./off-policy";
import { loadReplayCsv } from "./dataset";
import { type Point, aiq, nonDecreasingHull, oraclePoint, randomPoint, singleModelPoint } from "./metrics";
import {
  type SelectorConfigLike,
  contextualPolicy,
  fitOnDataset,
  qualityCostCurve,
  replayFullInformation,
  contextualSelectorFromConfig,
} from "./simulate";
import { renderSvg } from "./svg";

export interface ReplayFromFilesOptions {
  /** A RouterBench-style CSV file or folder (full information), or a `.jsonl` decision log (off-policy). */
  data: string;
  /** CSV split to report on (`*_<split>.csv`). Default "test". */
  split?: string;
  /** The selector to evaluate. `warmStart: "train"` fits it on that split first. */
  policy: SelectorConfigLike;
  /** Seeds of the random orders. Default 1…5. */
  seeds?: readonly number[];
  /** λ values (quality per USD) for the quality-vs-cost curve. Default a log-spaced sweep. */
  lambdas?: readonly number[];
  /** Folder to write replay.json, replay.md and replay.svg into. */
  out?: string;
}

export interface ReplayReport {
  /** Human-readable summary (Markdown). */
  text: string;
  json: Record<string, unknown>;
  /** Quality-vs-cost plot; empty for a decision log. */
  svg: string;
}

export const DEFAULT_LAMBDAS: readonly number[] = [
  0, 5, 10, 15, 20, 25, 30, 35, 40, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000, 1e4,
];

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");
const usd = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : "n/a");

/**
 * What `orchestrator replay --data <csv|jsonl> --policy <config>` runs. On full-information CSVs:
 * replays the policy over random orders, reports accuracy, cost, regret against the best fixed
 * model, the baselines, the λ-sweep quality-vs-cost curve (SVG) and its AIQ. On a decision log:
 * an off-policy (IPS/SNIPS) estimate of the policy, cross-fitted (fit on one half of the log,
 * estimate on the other, both ways).
 */
export function replayFromFiles(options: ReplayFromFilesOptions): ReplayReport {
  const report = options.data.endsWith(".jsonl") ? fromLog(options) : fromCsv(options);
  if (options.out) {
    mkdirSync(options.out, { recursive: true });
    writeFileSync(join(options.out, "replay.json"), `${JSON.stringify(report.json, null, 2)}\n`);
    writeFileSync(join(options.out, "replay.md"), report.text);
    if (report.svg) writeFileSync(join(options.out, "replay.svg"), report.svg);
  }
  return report;
}

function fromCsv(options: ReplayFromFilesOptions): ReplayReport {
  const split = options.split ?? "test";
  const data = loadReplayCsv(options.data, { split });
  const train = options.policy.warmStart ? loadReplayCsv(options.data, { split: options.policy.warmStart }) : undefined;
  if (train && train.models.join() !== data.models.join())
    throw new ConfigError([{ path: "warmStart", message: "the warm-start split has different models" }]);
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  const extractor = new HashedNgramExtractor(options.policy.extractor ?? {});
  const make = (lambda: number | undefined, seed: number) => {
    const config = lambda === undefined ? options.policy : { ...options.policy, lambda, budgetPerRequest: undefined };
    const selector = contextualSelectorFromConfig(config, seed, extractor);
    if (train)
      fitOnDataset(selector, train, {
        ...(options.policy.epochs !== undefined ? { epochs: options.policy.epochs } : {}),
      });
    return contextualPolicy(selector, data.models, { learn: options.policy.learnOnline ?? true });
  };
  const lambda = options.policy.lambda ?? 0;
  const result = replayFullInformation(data, (seed) => make(undefined, seed), { seeds, lambda });
  const singles = data.models.map((_, k) => singleModelPoint(data, k));
  const minCost = Math.min(...singles.map((p) => p.cost));
  const maxCost = Math.max(...singles.map((p) => p.cost));
  const curve = qualityCostCurve(data, (l, seed) => make(l, seed), options.lambdas ?? DEFAULT_LAMBDAS, { seeds });
  const policyAiq = aiq(curve, minCost, maxCost);
  const singlesAiq = aiq(singles, minCost, maxCost);
  const oracle = oraclePoint(data);
  const random = randomPoint(data);
  const lines = [
    `# Replay: ${data.rows.length} prompts (${split}), ${data.models.length} models, ${seeds.length} random orders${train ? `, warm start on ${train.rows.length} ${options.policy.warmStart} prompts` : ", cold start"}`,
    "",
    "| policy | accuracy | USD / prompt | regret (vs best fixed) |",
    "|---|---|---|---|",
    `| **${result.label}**${options.policy.budgetPerRequest !== undefined ? ` (budget ${usd(options.policy.budgetPerRequest)})` : ` (λ ${lambda})`} | ${fmt(result.accuracy)} (${fmt(result.accuracyMin)}–${fmt(result.accuracyMax)}) | ${usd(result.costPerPrompt)} | ${fmt(result.regret, 1)} |`,
    `| best fixed: ${result.bestFixed.model} | ${fmt(result.bestFixed.accuracy)} | ${usd(result.bestFixed.costPerPrompt)} | 0 |`,
    `| cheapest: ${singles.reduce((a, b) => (b.cost < a.cost ? b : a)).label} | ${fmt(Math.min(...singles.filter((p) => p.cost === minCost).map((p) => p.quality)))} | ${usd(minCost)} | |`,
    `| uniform random | ${fmt(random.quality)} | ${usd(random.cost)} | |`,
    `| oracle | ${fmt(oracle.quality)} | ${usd(oracle.cost)} | |`,
    "",
    `AIQ over [${usd(minCost)}, ${usd(maxCost)}] USD: policy λ sweep ${fmt(policyAiq, 4)}, single models ${fmt(singlesAiq, 4)}.`,
    "",
  ];
  const svg = renderSvg({
    title: `Quality vs cost (${split})`,
    points: [...singles, { ...oracle, label: "oracle" }, { ...random, label: "random" }],
    curves: [{ label: `${result.label} (λ sweep)`, points: curve, hull: false }],
  });
  return {
    text: `${lines.join("\n")}\n`,
    json: {
      split,
      prompts: data.rows.length,
      models: data.models,
      policy: options.policy,
      result,
      curve,
      aiq: policyAiq,
      singlesAiq,
      singles,
      oracle,
      random,
      hull: nonDecreasingHull(curve as Point[]),
    },
    svg,
  };
}

function fromLog(options: ReplayFromFilesOptions): ReplayReport {
  const { records, problems } = readDecisionLog(options.data);
  const halves: [DecisionRecord[], DecisionRecord[]] = [[], []];
  records.forEach((r, i) => {
    (i % 2 === 0 ? halves[0] : halves[1]).push(r);
  });
  let quality = 0;
  let cost = 0;
  let ess = 0;
  let n = 0;
  for (const [fitOn, evalOn] of [
    [halves[0], halves[1]],
    [halves[1], halves[0]],
  ] as const) {
    const selector = contextualSelectorFromConfig({ ...options.policy, budgetPerRequest: undefined }, 1);
    selector.fit(fitOn.map((r) => ({ ...r, weight: undefined })));
    const estimate = offPolicyEstimate(evalOn, selectorPolicy(selector));
    quality += estimate.snips.quality * estimate.n;
    cost += estimate.snips.costUsd * estimate.n;
    ess += estimate.effectiveSampleSize;
    n += estimate.n;
  }
  const logged = records.filter((r) => r.quality !== undefined);
  const loggedQuality = logged.reduce((s, r) => s + (r.quality ?? 0), 0) / Math.max(1, logged.length);
  const loggedCost = logged.reduce((s, r) => s + (r.costUsd ?? 0), 0) / Math.max(1, logged.length);
  const text = [
    `# Off-policy estimate from ${options.data}: ${records.length} records${
      problems.length > 0
        ? `, ${problems.length} corrupt lines skipped (${problems
            .slice(0, 5)
            .map((p) => `line ${p.line}: ${p.message}`)
            .join("; ")})`
        : ""
    }`,
    "",
    "| policy | quality | USD / request |",
    "|---|---|---|",
    `| logged policy | ${fmt(loggedQuality)} | ${usd(loggedCost)} |`,
    `| target (SNIPS, cross-fitted) | ${fmt(n > 0 ? quality / n : Number.NaN)} | ${usd(n > 0 ? cost / n : Number.NaN)} |`,
    "",
    `Effective sample size ${fmt(ess, 0)} of ${n}.`,
    "",
  ].join("\n");
  return {
    text,
    json: {
      records: records.length,
      problems,
      loggedQuality,
      loggedCost,
      targetQuality: quality / Math.max(1, n),
      targetCostUsd: cost / Math.max(1, n),
      effectiveSampleSize: ess,
    },
    svg: "",
  };
}
