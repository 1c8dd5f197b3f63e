// npm run bench [-- case… --quick --rate-seconds=N --rss-requests=N]: every case side by side in one process run; results in bench/results/.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CaseResult, RESULTS_DIR, markdownTable, writeResult } from "./harness";

const QUICK = process.argv.includes("--quick");
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const want = (name: string) => wanted.length === 0 || wanted.includes(name);
const scale = QUICK ? 0.2 : 1;
// `--name=value` flags (e.g. the gateway case's `--rate-seconds=60 --rss-requests=200000`).
const flag = (name: string): number | undefined => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? Number.NaN : Number(arg.slice(name.length + 3));
  return Number.isFinite(value) && value > 0 ? value : undefined;
};

function summaryOf(result: CaseResult): string {
  if (result.results.length > 0) return markdownTable(result);
  return [
    `### ${result.case}`,
    "",
    ...(result.notes ? [result.notes, ""] : []),
    "```json",
    JSON.stringify(result.extra, null, 2),
    "```",
    "",
  ].join("\n");
}

const sections: string[] = [];
// Cases that render their own Markdown.
const summaries = new Map<string, string>();
async function run(name: string, fn: () => Promise<CaseResult | CaseResult[]>): Promise<void> {
  if (!want(name)) return;
  const t0 = performance.now();
  process.stderr.write(`bench: ${name}…\n`);
  const result = await fn();
  const md = summaries.get(name) ?? (Array.isArray(result) ? result : [result]).map(summaryOf).join("\n");
  writeResult(name, result, md);
  sections.push(md);
  process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

await run("select-model", async () =>
  (await import("./cases/select-model")).selectModelCase({ iterations: Math.round(20_000 * scale) }),
);
await run("cascade", async () =>
  (await import("./cases/cascade")).cascadeCase({ iterations: Math.round(5_000 * scale) }),
);
await run("openai-path", async () =>
  (await import("./cases/openai-path")).openaiPath({
    iterations: Math.round(2_000 * scale),
    streamIterations: Math.round(600 * scale),
  }),
);
await run("ai-sdk-model", async () =>
  (await import("./cases/ai-sdk-model")).aiSdkModelCase({
    iterations: Math.round(8_000 * scale),
    streamIterations: Math.round(2_000 * scale),
  }),
);
await run("ai-sdk-provider", async () =>
  (await import("./cases/ai-sdk-provider")).aiSdkProviderCase({
    iterations: Math.round(2_000 * scale),
    streamIterations: Math.round(600 * scale),
  }),
);
await run("otel", async () =>
  (await import("./cases/otel")).otelCase({
    iterations: Math.round(2_000 * scale),
    streamIterations: Math.round(600 * scale),
  }),
);
await run("cache", async () => (await import("./cases/cache")).cacheCases({ iterations: Math.round(4_000 * scale) }));
await run("cache-cluster", async () =>
  (await import("./cases/cache-cluster")).cacheClusterCase({ iterations: Math.round(4_000 * scale) }),
);
await run("rate-limiter", async () =>
  (await import("./cases/rate-limiter")).rateLimiterCase({ iterations: Math.round(4_000 * scale) }),
);
await run("llama-cpp", async () =>
  (await import("./cases/llama-cpp")).llamaCppCase({ iterations: Math.round(40 * scale) || 10 }),
);
await run("load", async () => (await import("./cases/load")).loadCase({ calls: Math.round(100_000 * scale) }));
await run("burst", async () => {
  const { burstCase } = await import("./cases/burst");
  const { result, markdown } = await burstCase({ calls: 600 });
  summaries.set("burst", markdown);
  return result;
});
await run("gateway", async () => {
  const { gatewayCase } = await import("./cases/gateway");
  const { result, markdown } = await gatewayCase({
    iterations: Math.round(2_000 * scale),
    streamIterations: Math.round(600 * scale),
    rateSeconds: flag("rate-seconds") ?? (QUICK ? 3 : 60),
    rssRequests: flag("rss-requests") ?? (QUICK ? 10_000 : 200_000),
  });
  summaries.set("gateway", markdown);
  return result;
});
await run("routing-ucb", async () => {
  const { ucbReplayCase } = await import("./routing/ucb-replay");
  const { markdown, rows } = await ucbReplayCase({ seeds: QUICK ? 5 : 20 });
  const result: CaseResult = {
    case: "routing-ucb",
    date: new Date().toISOString(),
    node: process.version,
    results: [],
    extra: { rows },
  };
  summaries.set("routing-ucb", markdown);
  return result;
});
await run("routing-cascade", async () => {
  const { cascadePolicyCase } = await import("./routing/cascade-policy");
  const { result, markdown } = await cascadePolicyCase({ seeds: QUICK ? 5 : 20, outDir: RESULTS_DIR });
  summaries.set("routing-cascade", markdown);
  return result;
});
await run("routing", async () => {
  const routing = await import("./routing/index").catch(() => undefined);
  if (!routing || typeof routing.routingCase !== "function") throw new Error("routing benchmark not available");
  return routing.routingCase({ quick: QUICK }) as Promise<CaseResult>;
});

if (wanted.length === 0)
  writeFileSync(
    join(RESULTS_DIR, "summary.md"),
    `# Benchmarks\n\nMachine: ${process.platform} ${process.arch}, Node ${process.version}, 2 shared cores. Generated by \`npm run bench\`.\n\n${sections.join("\n")}`,
  );
process.stderr.write(`bench: results in ${RESULTS_DIR}\n`);
