// selectModel cost for every selector with 10, 100 and 1,000 registered models, warm statistics.
import { Model, type ModelOutput, type ModelSelector } from "@orchestrator-ts/core";
import {
  CostBasedSelector,
  ModelRegistry,
  PerformanceSelector,
  RoundRobinSelector,
  ThompsonSamplingSelector,
  UCBModelSelector,
  WeightedRandomSelector,
} from "@orchestrator-ts/registry";
import type { CaseResult } from "../harness";

class Stub extends Model {
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "ok", usage: { inputTokens: 1, outputTokens: 1 } };
  }
}

const SELECTORS: Record<string, () => ModelSelector> = {
  ucb: () => new UCBModelSelector(),
  "ucb (seed: c=2, UCB1)": () => new UCBModelSelector({ explorationFactor: 2, variant: "ucb1" }),
  "ucb discounted": () => new UCBModelSelector({ discount: 0.99 }),
  thompson: () => new ThompsonSamplingSelector(),
  cost: () => new CostBasedSelector({ maxCostPerRequest: 0.1, preferLocalModels: true }),
  performance: () => new PerformanceSelector({ minTokensPerSecond: 10, maxResponseTime: 5, preferStreaming: true }),
  "weighted-random": () => new WeightedRandomSelector(),
  "round-robin": () => new RoundRobinSelector(),
};

export async function selectModelCase(options: { iterations: number }): Promise<CaseResult> {
  const rows: CaseResult["results"] = [];
  const extra: Record<string, unknown> = {};
  for (const [name, make] of Object.entries(SELECTORS)) {
    for (const n of [10, 100, 1000]) {
      const registry = new ModelRegistry({ modelSelector: make() });
      for (let i = 0; i < n; i++) {
        registry.registerModel(
          new Stub({
            name: `m${i}`,
            provider: `p${i % 7}`,
            isLocal: i % 5 === 0,
            capabilities: {
              codeGeneration: i % 2 === 0,
              inputCostPerToken: (i % 13) * 1e-7,
              outputCostPerToken: (i % 11) * 2e-7,
              tokensPerSecond: 20 + (i % 50) * 5,
            },
          }),
        );
      }
      // Warm statistics: every model has been tried, so scores are computed rather than "explore first".
      for (let i = 0; i < n * 6; i++) {
        const r = await registry.generate({ messages: [{ role: "user", content: "x" }] });
        if (i % 3 === 0) registry.recordFeedback(r.selectionId, { quality: (i % 7) / 7 });
      }
      const requirements = { capabilities: ["textGeneration" as const], maxCost: 0.01 };
      const iterations = Math.max(2_000, Math.min(options.iterations, n >= 1000 ? 5_000 : options.iterations));
      for (let i = 0; i < 500; i++) registry.selectModel(requirements);
      const samples = new Float64Array(iterations);
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        registry.selectModel(requirements);
        samples[i] = (performance.now() - t0) * 1000;
      }
      const cpu = process.cpuUsage(cpu0);
      samples.sort();
      const medianUs = samples[Math.floor(iterations / 2)] ?? Number.NaN;
      const p99Us = samples[Math.floor(iterations * 0.99)] ?? Number.NaN;
      const meanUs = samples.reduce((s, v) => s + v, 0) / iterations;
      rows.push({
        name: `${name} × ${n} models`,
        iterations,
        medianUs,
        p99Us,
        meanUs,
        cpuUsPerCall: (cpu.user + cpu.system) / iterations,
        medianRatio: Number.NaN,
        cpuRatio: Number.NaN,
      });
      extra[`${name}/${n}`] = { medianUs, p99Us };
      await registry.cleanup();
    }
  }
  return {
    case: "select-model",
    date: new Date().toISOString(),
    node: process.version,
    notes:
      "registry.selectModel({ capabilities: [textGeneration], maxCost: 0.01 }) with warm statistics; goal ≤ 20 µs median at 100 models.",
    results: rows,
    extra,
  };
}
