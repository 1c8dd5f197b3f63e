// The CPU a cascade decision adds beyond the model calls it makes: the same requests through a
// cascade route and as the equivalent plain calls (each model asked by name), interleaved, with
// in-process models whose calls cost next to nothing. Goal: ≤ 20 µs per request.
import { Model, type ModelOutput } from "@orchestrator-ts/core";
import { CascadePlan, CascadeRoute, ModelRegistry, extractors, runCascade } from "@orchestrator-ts/registry";
import type { CaseResult } from "../harness";

class Letter extends Model {
  answer = "A";
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: `The answer is ${this.answer}.`, usage: { inputTokens: 20, outputTokens: 5 } };
  }
}

const ask = (content: string, route?: string) => ({
  messages: [{ role: "user" as const, content }],
  ...(route ? { route } : {}),
});

function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

export async function cascadeCase(options: { iterations: number }): Promise<CaseResult> {
  const registry = new ModelRegistry();
  const yi = registry.registerModel(
    new Letter({ name: "yi", provider: "bench", capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 } }),
  );
  const mixtral = registry.registerModel(
    new Letter({
      name: "mixtral",
      provider: "bench",
      capabilities: { inputCostPerToken: 2e-7, outputCostPerToken: 2e-7 },
    }),
  );
  registry.registerModel(
    new Letter({
      name: "gpt-4",
      provider: "bench",
      capabilities: { inputCostPerToken: 3e-5, outputCostPerToken: 3e-5 },
    }),
  );
  registry.addRoute(
    new CascadeRoute({
      name: "mcq",
      stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
      extract: extractors.choiceLetter,
    }),
  );
  const rows: CaseResult["results"] = [];
  const extra: Record<string, unknown> = {};
  for (const escalate of [false, true]) {
    mixtral.answer = escalate ? "B" : "A";
    const plain = escalate ? ["yi", "mixtral", "gpt-4"] : ["yi", "mixtral"];
    const runCascadeOnce = () => registry.generate(ask("q", "mcq"));
    const runPlainOnce = async () => {
      // What the cascade does without its decision: the same models, by name, stage 1 in parallel.
      await Promise.all([registry.generate(ask("q", "yi")), registry.generate(ask("q", "mixtral"))]);
      if (plain.length === 3) await registry.generate(ask("q", "gpt-4"));
    };
    for (let i = 0; i < 2_000; i++) {
      await runCascadeOnce();
      await runPlainOnce();
    }
    // Rounds of interleaved blocks; the median of the per-round differences resists the noise of a shared machine.
    const n = options.iterations;
    // Blocks long enough (tens of ms) that the CPU clock's granularity does not matter.
    const block = 500;
    const rounds = Math.max(5, Math.round(n / block));
    const diffs: number[] = [];
    const cascades: number[] = [];
    const plains: number[] = [];
    for (let r = 0; r < rounds; r++) {
      (globalThis as { gc?: () => void }).gc?.();
      let t = cpuUs();
      for (let i = 0; i < block; i++) await runCascadeOnce();
      const c = (cpuUs() - t) / block;
      (globalThis as { gc?: () => void }).gc?.();
      t = cpuUs();
      for (let i = 0; i < block; i++) await runPlainOnce();
      const p = (cpuUs() - t) / block;
      cascades.push(c);
      plains.push(p);
      diffs.push(c - p);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const perCascade = median(cascades);
    const perPlain = median(plains);
    const name = escalate ? "escalated (3 calls)" : "agreed (2 calls)";
    rows.push({
      name: `cascade, ${name}: added ${median(diffs).toFixed(1)} µs`,
      iterations: n,
      medianUs: Number.NaN,
      p99Us: Number.NaN,
      meanUs: Number.NaN,
      cpuUsPerCall: perCascade,
      medianRatio: Number.NaN,
      cpuRatio: perCascade / perPlain,
    });
    rows.push({
      name: `same calls by name, ${name}`,
      iterations: n,
      medianUs: Number.NaN,
      p99Us: Number.NaN,
      meanUs: Number.NaN,
      cpuUsPerCall: perPlain,
      medianRatio: Number.NaN,
      cpuRatio: 1,
    });
    extra[escalate ? "escalated" : "agreed"] = {
      cascadeCpuUs: perCascade,
      plainCpuUs: perPlain,
      addedCpuUsMedian: median(diffs),
      rounds,
    };
  }
  // The decision alone (no registry, answers already in hand): runCascade over a host that answers at once.
  const plan = new CascadePlan({
    stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
    extract: extractors.choiceLetter,
  });
  const answers: Record<string, string> = { yi: "The answer is A.", mixtral: "A) yes", "gpt-4": "B" };
  const host = {
    ask: async (m: string) => ({ text: answers[m], costUsd: 1e-6, latencyMs: 1, selectionId: undefined }),
    random: Math.random,
  };
  const request = ask("q");
  for (let i = 0; i < 5_000; i++) await runCascade("mcq", plan, request, host);
  const n = options.iterations * 4;
  const t = cpuUs();
  for (let i = 0; i < n; i++) await runCascade("mcq", plan, request, host);
  const decisionUs = (cpuUs() - t) / n;
  rows.push({
    name: "runCascade alone (decision, agreed)",
    iterations: n,
    medianUs: Number.NaN,
    p99Us: Number.NaN,
    meanUs: Number.NaN,
    cpuUsPerCall: decisionUs,
    medianRatio: Number.NaN,
    cpuRatio: Number.NaN,
  });
  extra.decisionOnlyCpuUs = decisionUs;
  await registry.cleanup();
  void yi;
  return {
    case: "cascade",
    date: new Date().toISOString(),
    node: process.version,
    notes:
      "CPU per request of a cascade route vs the same model calls made by name (in-process models, interleaved blocks); the difference is what the cascade's decision adds. Goal: ≤ 20 µs.",
    results: rows,
    extra,
  };
}
