import { readFileSync } from "node:fs";
import {
  type SelectorConfigLike,
  cascadeCvMarkdown,
  crossValidateCascade,
  loadReplayCsv,
  replayCascadeFromFiles,
  replayFromFiles,
} from "@orchestrator-ts/replay";
import { UsageError, number, parse } from "./args";
import { EXIT, type Io } from "./report";
import { HELP } from "./help";

/**
 * The default policy: the contextual selector on the task tag with LinUCB (α = 0.3), warm-started
 * on the train split. Chosen by cross-validation on RouterBench's train split (tools/bench routing).
 */
export const DEFAULT_POLICY: SelectorConfigLike = {
  type: "contextual",
  extractor: { wordNgrams: [], charNgrams: [], lengthWeight: 0 },
  exploration: "linucb",
  alpha: 0.3,
  warmStart: "train",
};

function policyFrom(value: unknown): SelectorConfigLike {
  if (value === undefined) return DEFAULT_POLICY;
  const text = String(value);
  const source = text.trim().startsWith("{") ? text : readFileSync(text, "utf8");
  try {
    return { ...DEFAULT_POLICY, ...(JSON.parse(source) as SelectorConfigLike) };
  } catch (error) {
    throw new UsageError(
      `--policy must be JSON or a JSON file: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export async function replay(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    data: { type: "string" },
    split: { type: "string" },
    policy: { type: "string" },
    seeds: { type: "string" },
    out: { type: "string" },
    budget: { type: "string" },
    cv: { type: "string" },
  });
  if (values.help) {
    io.out(HELP.replay ?? "");
    return EXIT.ok;
  }
  if (typeof values.data !== "string")
    throw new UsageError("replay needs --data <csv file, folder of CSVs, or decision log .jsonl>");
  const seeds = number(values.seeds, "seeds") ?? 5;
  const budget = number(values.budget, "budget");
  const policy = policyFrom(values.policy);
  const folds = number(values.cv, "cv");
  if (folds !== undefined && (policy as { type?: unknown }).type !== "cascade")
    throw new UsageError('--cv cross-validates a cascade policy: give --policy <file> with "type": "cascade"');
  if ((policy as { type?: unknown }).type === "cascade") {
    // A cascade policy (a `routes:` entry, e.g. examples/routing/routerbench-cascade.json): the live route's code on the recorded answers.
    const {
      warmStart: _w,
      extractor: _e,
      exploration: _x,
      alpha: _a,
      ...cascade
    } = policy as SelectorConfigLike & Record<string, unknown>;
    const paced = budget === undefined ? cascade : { ...cascade, budgetPerRequest: budget };
    if (folds !== undefined) {
      const split = typeof values.split === "string" ? values.split : "train";
      const cv = await crossValidateCascade(loadReplayCsv(values.data, { split }), paced, {
        folds,
        seeds: Array.from({ length: seeds }, (_, i) => i + 1),
      });
      io.out(values.json ? JSON.stringify({ split, ...cv }, null, 2) : cascadeCvMarkdown(cv, split));
      return EXIT.ok;
    }
    const report = await replayCascadeFromFiles({
      data: values.data,
      split: typeof values.split === "string" ? values.split : "test",
      policy: paced,
      seeds: Array.from({ length: seeds }, (_, i) => i + 1),
      ...(typeof values.out === "string" ? { out: values.out } : {}),
    });
    io.out(values.json ? JSON.stringify(report.json, null, 2) : report.text);
    return EXIT.ok;
  }
  const report = replayFromFiles({
    data: values.data,
    ...(typeof values.split === "string" ? { split: values.split } : { split: "test" }),
    policy: budget === undefined ? policy : { ...policy, budgetPerRequest: budget },
    seeds: Array.from({ length: seeds }, (_, i) => i + 1),
    ...(typeof values.out === "string" ? { out: values.out } : {}),
  });
  io.out(values.json ? JSON.stringify(report.json, null, 2) : report.text);
  return EXIT.ok;
}
