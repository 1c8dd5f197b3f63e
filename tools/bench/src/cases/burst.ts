// Concurrent bursts: how selectors spread calls that are all in flight at once, and whether a
// learnt preference survives the burst.
import type { ModelSelector } from "@orchestrator-ts/core";
import {
  ModelRegistry,
  RoundRobinSelector,
  ThompsonSamplingSelector,
  UCBModelSelector,
} from "@orchestrator-ts/registry";
import { FakeModel } from "@orchestrator-ts/testing";
import type { CaseResult } from "../harness";

const SELECTORS: Record<string, () => ModelSelector> = {
  "default UCBModelSelector()": () => new UCBModelSelector(),
  "Thompson sampling": () => new ThompsonSamplingSelector({ seed: 1 }),
  "round-robin": () => new RoundRobinSelector(),
};

async function burst(registry: ModelRegistry, calls: number, label: string): Promise<Record<string, number>> {
  const results = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) =>
      registry.generate({ messages: [{ role: "user", content: `${label} ${i}` }] }),
    ),
  );
  const counts: Record<string, number> = {};
  for (const r of results) if (r.status === "fulfilled") counts[r.value.model] = (counts[r.value.model] ?? 0) + 1;
  return counts;
}

export interface BurstRow {
  selector: string;
  scenario: string;
  counts: Record<string, number>;
}

/** `calls` concurrent registry.generate over 3 models: identical ones cold and warm, then one clearly better after learning. */
export async function burstCase(options: { calls: number }): Promise<{ result: CaseResult; markdown: string }> {
  const rows: BurstRow[] = [];
  for (const [name, make] of Object.entries(SELECTORS)) {
    const identical = new ModelRegistry({ modelSelector: make(), maxRetries: 0, maxFallbacks: 0 });
    for (const [i, m] of ["a", "b", "c"].entries())
      identical.registerModel(new FakeModel({ name: m, latencyMs: 2, seed: i + 1 }));
    rows.push({ selector: name, scenario: "identical, cold", counts: await burst(identical, options.calls, "cold") });
    for (let i = 0; i < 90; i++) await identical.generate({ messages: [{ role: "user", content: `warm ${i}` }] });
    rows.push({
      selector: name,
      scenario: "identical, warm (30 trials each)",
      counts: await burst(identical, options.calls, "warm"),
    });

    const learnt = new ModelRegistry({ modelSelector: make(), maxRetries: 0, maxFallbacks: 0 });
    learnt.registerModel(new FakeModel({ name: "a", latencyMs: 2, seed: 1 }));
    learnt.registerModel(new FakeModel({ name: "b", latencyMs: 2, seed: 2, successRate: 0.5 }));
    learnt.registerModel(new FakeModel({ name: "c", latencyMs: 2, seed: 3, successRate: 0.4 }));
    for (let i = 0; i < 300; i++)
      await learnt.generate({ messages: [{ role: "user", content: `learn ${i}` }] }).catch(() => undefined);
    rows.push({
      selector: name,
      scenario: "a best (b, c fail 50%/60%), after 300 calls",
      counts: await burst(learnt, options.calls, "learnt"),
    });
  }
  const cell = (row: BurstRow) => ["a", "b", "c"].map((m) => row.counts[m] ?? 0).join(" / ");
  const markdown = [
    "### burst",
    "",
    `${options.calls} concurrent registry.generate calls over 3 models (FakeModel, 2 ms); calls per model a / b / c. The default UCB counts calls in flight as pending trials: a burst spreads over models that look alike and still goes to the one it has learnt is best.`,
    "",
    "| selector | scenario | a / b / c |",
    "|---|---|---:|",
    ...rows.map((r) => `| ${r.selector} | ${r.scenario} | ${cell(r)} |`),
    "",
  ].join("\n");
  return {
    result: {
      case: "burst",
      date: new Date().toISOString(),
      node: process.version,
      results: [],
      extra: { calls: options.calls, rows },
    },
    markdown,
  };
}
