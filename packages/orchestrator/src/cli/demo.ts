import type { RegistryResult } from "@orchestrator-ts/registry";
import { LOCAL_MODELS, defaultModelDir } from "../default-config";
import type { Orchestrator } from "../orchestrator";
import { number, parse } from "./args";
import { ms, num, progress, table, usd } from "./output";
import { open } from "./commands";
import { EXIT, type Io } from "./report";
import { HELP } from "./help";

/** Load every model now, with a progress bar, so the first answer is not mistaken for slowness. */
async function warmUp(o: Orchestrator, json: boolean): Promise<void> {
  const models = o.registry.listModels();
  const bar = json ? undefined : progress("Loading models");
  let done = 0;
  for (const model of models) {
    bar?.update(done, models.length, model.name);
    // A model that fails to load is reported by health and routed around; do not stop here.
    await model.initialize().catch(() => undefined);
    bar?.update(++done, models.length, model.name);
  }
  bar?.done();
}

function chosenScore(result: RegistryResult): number | undefined {
  return result.explanation.candidates.find((c) => c.model === result.model)?.score;
}

const DEMO_PROMPTS: { prompt: string; task: string }[] = [
  { prompt: "Explain quantum computing in one sentence.", task: "chat" },
  { prompt: "Write a haiku about caching.", task: "creative" },
  { prompt: "Summarise: the registry picks one model per request and learns from the outcome.", task: "summarise" },
  { prompt: "What is a multi-armed bandit?", task: "chat" },
  { prompt: "Explain quantum computing in one sentence.", task: "chat" },
  { prompt: "Give three tips for writing tests.", task: "chat" },
  { prompt: "Write a limerick about a slow model.", task: "creative" },
  { prompt: "Summarise: caches answer identical requests without paying twice.", task: "summarise" },
  { prompt: "What is a multi-armed bandit?", task: "chat" },
  { prompt: "Describe a circuit breaker in two sentences.", task: "chat" },
  { prompt: "Write a haiku about caching.", task: "creative" },
  { prompt: "Explain exploration versus exploitation.", task: "chat" },
];

export async function demo(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { prompts: { type: "string" }, "max-tokens": { type: "string" } });
  if (values.help) {
    io.out(HELP.demo ?? "");
    return EXIT.ok;
  }
  const json = values.json === true;
  // Twice the prompt list: past the bandit's exploration (5 trials per model), with repeats the cache answers.
  const count = number(values.prompts, "prompts") ?? DEMO_PROMPTS.length * 2;
  const maxTokens = number(values["max-tokens"], "max-tokens") ?? 24;
  const o = await open(values.config, io, json);
  try {
    await warmUp(o, json);
    const decisions: Record<string, unknown>[] = [];
    if (!json)
      io.out(
        `Running ${count} prompts through ${o.registry.listModels().length} models (selector: ${o.registry.getStatistics().selector}).\n`,
      );
    const rows: (string | number | undefined)[][] = [];
    for (let i = 0; i < count; i++) {
      const item = DEMO_PROMPTS[i % DEMO_PROMPTS.length] ?? { prompt: "Hello", task: "chat" };
      const result = await o.generate({
        messages: [{ role: "user", content: item.prompt }],
        maxTokens,
        temperature: 0.8,
        seed: 7 + Math.floor(i / DEMO_PROMPTS.length),
        task: item.task,
      });
      const tokensPerSecond =
        result.usage.outputTokens && result.latencyMs > 0 && !result.cached
          ? (result.usage.outputTokens * 1000) / result.latencyMs
          : undefined;
      const decision = {
        prompt: item.prompt,
        task: item.task,
        model: result.model,
        score: chosenScore(result),
        latencyMs: result.latencyMs,
        tokensPerSecond,
        costUsd: result.costUsd,
        cached: result.cached,
        text: result.text,
      };
      decisions.push(decision);
      // An infinite UCB score means "not tried minTrials times yet": the model is being explored.
      const shownScore = result.cached
        ? "cached"
        : decision.score === undefined || Number.isFinite(decision.score)
          ? num(decision.score, 3)
          : "explore";
      rows.push([
        i + 1,
        item.task,
        result.model,
        shownScore,
        ms(result.latencyMs),
        num(tokensPerSecond, 0),
        usd(result.costUsd),
        result.cached ? "hit" : "miss",
      ]);
    }
    const stats = o.registry.getStatistics();
    const cacheStats = o.cache?.stats();
    const health = await Promise.all(
      o.registry.listModels().map(async (m) => ({ model: m.name, ...(await o.registry.getModelHealth(m.name)) })),
    );
    if (json) {
      io.out(
        JSON.stringify(
          {
            config: o.configSource,
            skipped: o.skipped.map(({ name, provider, reason }) => ({ name, provider, reason })),
            decisions,
            statistics: stats,
            cache: cacheStats,
            health,
          },
          null,
          2,
        ),
      );
    } else {
      io.out(table(["#", "task", "model", "score", "latency ms", "tok/s", "cost USD", "cache"], rows));
      io.out(`\nLast answer (${String(decisions.at(-1)?.model)}): ${String(decisions.at(-1)?.text).slice(0, 160)}\n`);
      io.out(
        table(
          ["model", "calls", "success", "mean reward", "mean latency ms", "tok/s (p50)", "cost USD", "health"],
          stats.models.map((m) => [
            m.model,
            m.trials,
            num(m.successRate),
            num(m.meanReward, 3),
            ms(m.meanLatencyMs),
            num(m.metrics.tokensPerSecond, 0),
            usd(m.totalCostUsd),
            health.find((h) => h.model === m.model)?.status,
          ]),
        ),
      );
      if (cacheStats)
        io.out(
          `\ncache: ${cacheStats.hits} hits, ${cacheStats.misses} misses, ${cacheStats.coalesced} shared in flight`,
        );
      if (o.configSource === "embedded default") {
        io.out(`
Note: the local models (${LOCAL_MODELS.map((m) => m.name).join(", ")}) are tiny GGUF files with RANDOM weights that this
demo wrote to ${defaultModelDir()}. Their answers are gibberish on purpose: they exist so that routing, caching,
streaming and health run on real llama.cpp inference with no download and no key. To use real models:
  - point a model at a real GGUF file:   provider: llama-cpp, config: { model_path: /models/llama-3.2-1b.Q8_0.gguf }
  - use an Ollama server:                 export OLLAMA_HOST=http://127.0.0.1:11434   (model: llama3.2:1b)
  - use a cloud model:                    export OPENAI_API_KEY=…  or  ANTHROPIC_API_KEY=…
  - or write ./models.yaml (see the README's config reference) and run: orchestrator demo --config models.yaml`);
      }
    }
    return EXIT.ok;
  } finally {
    await o.close();
  }
}
