// The shipped cascade policy (examples/routing/routerbench-cascade.json) on RouterBench, issue 21's
// goals: its 5-fold cross-validated gain on the train split it was chosen on, beside its test
// figures over 20 random orders (paced at its budget, and unpaced) and the AIQ of its budget sweep.
//   npm run bench -- routing-cascade      (writes bench/results/routing-cascade.{json,md,svg})
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  bestTaskMixture,
  cascadeCvMarkdown,
  crossValidateCascade,
  loadReplayCsv,
  mixturePoint,
  replayCascadeFromFiles,
  type CascadeReplayResult,
} from "@orchestrator-ts/replay";
import type { CaseResult } from "../harness";

const ROOT = resolve(import.meta.dirname, "../../../..");
export const CASCADE_POLICY_FILE = join(ROOT, "examples/routing/routerbench-cascade.json");

const f3 = (x: number) => x.toFixed(3);
const usd = (x: number) => x.toExponential(2);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)}`;

export async function cascadePolicyCase(
  options: { data?: string; seeds?: number; folds?: number; outDir?: string } = {},
): Promise<{ result: CaseResult; markdown: string; svg: string }> {
  const data = options.data ?? "/work/shared/data/routerbench";
  const seeds = Array.from({ length: options.seeds ?? 20 }, (_, i) => i + 1);
  const policy = JSON.parse(readFileSync(CASCADE_POLICY_FILE, "utf8")) as { budgetPerRequest: number; name: string };
  const budget = policy.budgetPerRequest;
  const train = loadReplayCsv(data, { split: "train" });
  const testData = loadReplayCsv(data, { split: "test" });
  const cv = await crossValidateCascade(train, policy, {
    folds: options.folds ?? 5,
    seeds,
  });
  const test = await replayCascadeFromFiles({ data, split: "test", policy, seeds });
  const { budgetPerRequest: _, ...unpacedPolicy } = policy;
  const unpaced = (await replayCascadeFromFiles({ data, split: "test", policy: unpacedPolicy, seeds: [1] })).json
    .result as CascadeReplayResult;
  const paced = test.json.result as CascadeReplayResult;
  const aiq = test.json.aiq as number;
  const held = paced.runs.filter((r) => r.costPerPrompt <= budget).length;
  // The same baseline as the cross-validation's: the per-task mixture at the budget, fitted on all of train.
  const mixture = mixturePoint(testData, bestTaskMixture(train, budget), testData.rows);
  const markdown = [
    "### routing-cascade",
    "",
    `# Cascade on RouterBench: \`examples/routing/routerbench-cascade.json\` (chosen on train), budget ${usd(budget)} USD/prompt`,
    "",
    `Test split (${paced.prompts} prompts, ${seeds.length} random orders, every model asked is paid); train: ${cv.folds.length}-fold cross-validation (± one standard error over folds).`,
    "",
    "| goal | target | reached |",
    "|---|---|---|",
    `| test accuracy at ≤ ${usd(budget)} USD/prompt, budget holding in every order | ≥ 0.855 (stretch 0.86) | ${f3(paced.accuracy)} (${f3(paced.accuracyMin)}–${f3(paced.accuracyMax)}) at ${usd(paced.costPerPrompt)} (max ${usd(paced.costMax)}; held in ${held} of ${paced.runs.length} orders) |`,
    `| train ${cv.folds.length}-fold CV gain over the best per-task mixture of single models at the same budget | (issue: +0.010 ± 0.004) | ${signed(cv.gain)} ± ${cv.gainSe.toFixed(3)} (cascade ${f3(cv.accuracy)} vs ${f3(cv.baselineAccuracy)}) |`,
    `| test gain over the best per-task mixture of single models at the budget (fitted on train) | | ${signed(paced.accuracy - mixture.quality)} (mixture ${f3(mixture.quality)} at ${usd(mixture.cost)}) |`,
    `| AIQ over the budget sweep (single models' cost range) | ≥ 0.86 | ${aiq.toFixed(4)} (single models ${(test.json.singlesAiq as number).toFixed(4)}) |`,
    `| the same cascade unpaced (test) | (reference) | ${f3(unpaced.accuracy)} at ${usd(unpaced.costPerPrompt)} |`,
    "",
    test.text.trim(),
    "",
    cascadeCvMarkdown(cv, "train").trim(),
    "",
  ].join("\n");
  const result: CaseResult = {
    case: "routing-cascade",
    date: new Date().toISOString(),
    node: process.version,
    notes: markdown,
    results: [],
    extra: { policy, cv, test: test.json, unpaced, testMixture: mixture },
  };
  if (options.outDir) writeFileSync(join(options.outDir, "routing-cascade.svg"), test.svg);
  return { result, markdown, svg: test.svg };
}
