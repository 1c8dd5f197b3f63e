import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CascadeRouteConfig, ConfigError, seededRandom } from "@orchestrator-ts/core";
import { type Asked, CascadeRoute, routesFromConfig, runCascade } from "@orchestrator-ts/registry";
import type { ReplayDataset } from "./dataset";
import type { Point } from "./metrics";
import { permutation } from "./simulate";

// Offline evaluation of a cascade policy on response-bearing data (RouterBench's
// `<model>|model_response`): the live route's own code (`CascadeRoute` built from the same config
// shape, its extractors, `runCascade`) decides, asking "models" whose answers are the recorded
// ones. Every model asked is paid its recorded cost; the answer returned scores the recorded
// quality of the model whose text it is. Kept in one file so it can move with the replay code.

export interface CascadeReplayRun {
  seed: number;
  accuracy: number;
  costPerPrompt: number;
  escalationRate: number;
}

export interface CascadeReplayResult {
  label: string;
  prompts: number;
  accuracy: number;
  costPerPrompt: number;
  accuracyMin: number;
  accuracyMax: number;
  costMax: number;
  escalationRate: number;
  /** Mean models asked per prompt. */
  modelsPerPrompt: number;
  runs: CascadeReplayRun[];
}

/** The policy file's route, checked (`type: "cascade"`, models of the data). */
export function cascadePolicyRoute(
  policy: unknown,
  data: ReplayDataset,
  overrides: { budgetPerRequest?: number | undefined } = {},
): CascadeRoute {
  const config = policy as CascadeRouteConfig;
  if (!config || typeof config !== "object" || config.type !== "cascade")
    throw new ConfigError(
      [
        {
          path: "type",
          message: `a cascade policy needs "type": "cascade", got ${JSON.stringify((config as { type?: unknown })?.type)}`,
        },
      ],
      { title: "Invalid cascade policy" },
    );
  const withBudget: CascadeRouteConfig = { ...config, name: config.name ?? "cascade" };
  if ("budgetPerRequest" in overrides) {
    if (overrides.budgetPerRequest === undefined) delete withBudget.budgetPerRequest;
    else withBudget.budgetPerRequest = overrides.budgetPerRequest;
  }
  const [route] = routesFromConfig([withBudget]);
  if (!(route instanceof CascadeRoute)) throw new ConfigError("not a cascade policy");
  const unknown = route.models.filter((m) => !data.models.includes(m));
  if (unknown.length > 0)
    throw new ConfigError(
      [
        {
          path: "stages",
          message: `models not in the data: ${unknown.join(", ")} (the data has ${data.models.join(", ")})`,
        },
      ],
      { title: "Invalid cascade policy" },
    );
  return route;
}

/**
 * Replays a cascade route over the rows in `seeds.length` random orders (a fresh route per order,
 * so budget pacing starts over). Needs recorded responses.
 */
export async function replayCascade(
  data: ReplayDataset,
  makeRoute: () => CascadeRoute,
  options: { seeds?: readonly number[]; rows?: readonly number[] } = {},
): Promise<CascadeReplayResult> {
  const seeds = options.seeds ?? [1];
  const indices = options.rows ?? data.rows.map((_, i) => i);
  if (data.rows.length > 0 && !data.rows[0]?.responses)
    throw new ConfigError(
      "the data has no `<model>|model_response` columns: a cascade cannot be replayed without the models' answers",
    );
  const index = new Map(data.models.map((m, k) => [m, k]));
  const runs: CascadeReplayRun[] = [];
  let asked = 0;
  let label = "cascade";
  for (const seed of seeds) {
    const route = makeRoute();
    label = route.name;
    const order = permutation(indices.length, seed);
    const random = seededRandom(seed * 7919 + 13);
    let correct = 0;
    let spent = 0;
    let escalated = 0;
    for (let i = 0; i < order.length; i++) {
      const row = data.rows[indices[order[i] as number] as number];
      if (!row) continue;
      const responses = row.responses ?? [];
      const host = {
        ask: async (model: string): Promise<Asked> => {
          const k = index.get(model) as number;
          return {
            text: responses[k] ?? "",
            costUsd: row.cost[k] as number,
            latencyMs: 0,
            selectionId: undefined,
            payload: k,
          };
        },
        random,
      };
      const outcome = await runCascade(
        route.name,
        route.planFor(row.task),
        { messages: [{ role: "user", content: row.prompt }], task: row.task },
        host,
      );
      const k = outcome.chosen?.payload as number;
      correct += row.quality[k] as number;
      spent += outcome.costUsd ?? 0;
      asked += outcome.asked.length;
      if (outcome.info.escalated) escalated++;
    }
    const n = Math.max(1, order.length);
    runs.push({ seed, accuracy: correct / n, costPerPrompt: spent / n, escalationRate: escalated / n });
  }
  const mean = (f: (r: CascadeReplayRun) => number) => runs.reduce((s, r) => s + f(r), 0) / Math.max(1, runs.length);
  return {
    label,
    prompts: indices.length,
    accuracy: mean((r) => r.accuracy),
    costPerPrompt: mean((r) => r.costPerPrompt),
    accuracyMin: Math.min(...runs.map((r) => r.accuracy)),
    accuracyMax: Math.max(...runs.map((r) => r.accuracy)),
    costMax: Math.max(...runs.map((r) => r.costPerPrompt)),
    escalationRate: mean((r) => r.escalationRate),
    modelsPerPrompt: asked / Math.max(1, runs.length * indices.length),
    runs,
  };
}

/** The cascade's quality-vs-cost curve: one point per budget (and the unpaced policy). */
export async function cascadeBudgetCurve(
  data: ReplayDataset,
  policy: unknown,
  budgets: readonly number[],
  seeds: readonly number[],
): Promise<Point[]> {
  const points: Point[] = [];
  for (const b of [undefined, ...budgets]) {
    const r = await replayCascade(data, () => cascadePolicyRoute(policy, data, { budgetPerRequest: b }), { seeds });
    points.push({
      cost: r.costPerPrompt,
      quality: r.accuracy,
      label: b === undefined ? "unpaced" : `budget ${b.toExponential(2)}`,
    });
  }
  return points;
}

export interface CascadeReplayFromFilesOptions {
  /** A RouterBench-style CSV file or folder with `<model>|model_response` columns. */
  data: string;
  /** Split to report on. Default "test". */
  split?: string;
  /** The cascade policy: a `routes:` entry in its TypeScript spelling (`type: "cascade"`). */
  policy: unknown;
  seeds?: readonly number[];
  /** Budgets (USD per prompt) of the quality-vs-cost curve. Default a log-spaced sweep. */
  budgets?: readonly number[];
  out?: string;
}

export const DEFAULT_CASCADE_BUDGETS: readonly number[] = [
  2e-4, 3e-4, 4e-4, 6e-4, 8e-4, 1e-3, 1.25e-3, 1.5e-3, 2e-3, 3e-3, 5e-3,
];

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");
const usd = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : "n/a");

/** `orchestrator replay --policy <cascade.json>`: the same table, JSON, AIQ and SVG curve as a selector policy's replay. */
export async function replayCascadeFromFiles(
  options: CascadeReplayFromFilesOptions,
): Promise<{ text: string; json: Record<string, unknown>; svg: string }> {
  const { loadReplayCsv } = await import("./dataset");
  const { aiq, nonDecreasingHull, oraclePoint, randomPoint, singleModelPoint } = await import("./metrics");
  const { renderSvg } = await import("./svg");
  const split = options.split ?? "test";
  const data = loadReplayCsv(options.data, { split });
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  const result = await replayCascade(data, () => cascadePolicyRoute(options.policy, data), { seeds });
  const curve = await cascadeBudgetCurve(
    data,
    options.policy,
    options.budgets ?? DEFAULT_CASCADE_BUDGETS,
    seeds.slice(0, 3),
  );
  const singles = data.models.map((_, k) => singleModelPoint(data, k));
  const minCost = Math.min(...singles.map((p) => p.cost));
  const maxCost = Math.max(...singles.map((p) => p.cost));
  // The cascade can always fall back to a single model: its AIQ is over the cascade's points and the single models'.
  const policyAiq = aiq([...curve, ...singles], minCost, maxCost);
  const singlesAiq = aiq(singles, minCost, maxCost);
  const oracle = oraclePoint(data);
  const random = randomPoint(data);
  const budget = (options.policy as { budgetPerRequest?: number }).budgetPerRequest;
  const best = singles.reduce((a, b) => (b.quality > a.quality ? b : a));
  const text = [
    `# Cascade replay: ${data.rows.length} prompts (${split}), ${data.models.length} models, ${seeds.length} random orders; every model asked is paid`,
    "",
    "| policy | accuracy | USD / prompt | escalated | models asked / prompt |",
    "|---|---|---|---|---|",
    `| **${result.label}**${budget !== undefined ? ` (budget ${usd(budget)})` : ""} | ${fmt(result.accuracy)} (${fmt(result.accuracyMin)}–${fmt(result.accuracyMax)}) | ${usd(result.costPerPrompt)} (max ${usd(result.costMax)}) | ${fmt(result.escalationRate)} | ${fmt(result.modelsPerPrompt, 2)} |`,
    `| best single: ${best.label} | ${fmt(best.quality)} | ${usd(best.cost)} | | |`,
    `| uniform random | ${fmt(random.quality)} | ${usd(random.cost)} | | |`,
    `| oracle | ${fmt(oracle.quality)} | ${usd(oracle.cost)} | | |`,
    "",
    `AIQ over [${usd(minCost)}, ${usd(maxCost)}] USD: cascade budget sweep ${fmt(policyAiq, 4)}, single models ${fmt(singlesAiq, 4)}.`,
    "",
  ].join("\n");
  const svg = renderSvg({
    title: `Quality vs cost (${split}), cascade`,
    points: [...singles, { ...oracle, label: "oracle" }, { ...random, label: "random" }],
    curves: [{ label: `${result.label} (budget sweep)`, points: curve, hull: false }],
  });
  const json = {
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
    hull: nonDecreasingHull([...curve, ...singles]),
  };
  if (options.out) {
    mkdirSync(options.out, { recursive: true });
    writeFileSync(join(options.out, "replay.json"), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(join(options.out, "replay.md"), `${text}\n`);
    writeFileSync(join(options.out, "replay.svg"), svg);
  }
  return { text: `${text}\n`, json, svg };
}
