import {
  ConfigError,
  type GenerateRequest,
  type Model,
  NoEligibleModelError,
  OrchestratorError,
  formatConfigIssue,
} from "@orchestrator-ts/core";
import { loadModelConfig, locateProviders, parseModelConfig } from "@orchestrator-ts/config";
import type { RegistryResult } from "@orchestrator-ts/registry";
import { EMBEDDED_CONFIG, LOCAL_MODELS, defaultModelDir } from "../default-config";
import { type Orchestrator, createOrchestrator, resolveConfigPath } from "../orchestrator";
import { builtinProviders } from "../providers";
import { REQUEST, REQUIREMENTS, UsageError, number, parse, requirementsFrom } from "./args";
import { ms, num, progress, score, table, usd } from "./output";

export const EXIT = { ok: 0, failure: 1, usage: 2, config: 3, noModel: 4 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

async function open(config: string | undefined, io: Io, json: boolean): Promise<Orchestrator> {
  const bar = json ? undefined : progress("Preparing local models");
  const pulls = new Map<string, ReturnType<typeof progress>>();
  const orchestrator = await createOrchestrator({
    ...(config ? { config } : {}),
    onPrepare: (done, total, name) => bar?.update(done, total, name),
    // Ollama downloads a missing model on first use: one bar per model, per layer.
    onPullProgress: (model, p) => {
      if (json) return;
      let pull = pulls.get(model);
      if (!pull) pulls.set(model, (pull = progress(`Pulling ${model}`)));
      if (p.status === "success") {
        pull.done(`Pulled ${model}`);
        pulls.delete(model);
      } else pull.update(Math.round(p.percent ?? 0), 100, p.status);
    },
  });
  bar?.done();
  if (!json) {
    io.err(`config: ${orchestrator.configSource}`);
    for (const s of orchestrator.skipped) io.err(`unavailable: ${s.name} (${s.provider}): ${s.reason}`);
  }
  return orchestrator;
}

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

function requestFrom(prompt: string, values: Record<string, unknown>): GenerateRequest {
  const request: GenerateRequest = { messages: [] };
  if (typeof values.system === "string") request.messages.push({ role: "system", content: values.system });
  request.messages.push({ role: "user", content: prompt });
  const maxTokens = number(values["max-tokens"], "max-tokens");
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = number(values.temperature, "temperature");
  if (temperature !== undefined) request.temperature = temperature;
  const seed = number(values.seed, "seed");
  if (seed !== undefined) request.seed = seed;
  if (typeof values.task === "string") request.task = values.task;
  if (values["no-cache"]) request.cache = false;
  return request;
}

function chosenScore(result: RegistryResult): number | undefined {
  return result.explanation.candidates.find((c) => c.model === result.model)?.score;
}

// ---------------------------------------------------------------------------------------------

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

export const HELP: Record<string, string> = {
  main: `orchestrator — pick, call and learn across AI models from one config

Usage: orchestrator <command> [options]

Commands:
  demo        run the embedded default (local llama.cpp models, no API keys) on a small workload
  generate    answer one prompt through the registry
  stream      stream one answer through the registry
  select      show which model the registry would pick, and why
  models      list the configured models (and the ones that are unavailable)
  health      check every model now and print its health
  validate    check a config file strictly, with line-precise errors
  replay      replay routing data (RouterBench CSV) through a selector policy
  serve       serve the models over HTTP, OpenAI-compatible (a gateway any language can call)
  keys        create, list and revoke a running gateway's virtual keys; its spend
  dashboard   the /ui dashboard for applications that use the library (state shared through Redis)

Common options:
  -c, --config <file>   the YAML config (default ./models.yaml, else the embedded default)
      --json            machine-readable output
  -h, --help            help for a command

Exit codes: 0 ok, 1 failure, 2 usage error, 3 config error, 4 no eligible model.`,
  demo: `orchestrator demo [--config <file>] [--prompts <n>] [--max-tokens <n>] [--json]

Runs a small workload through the orchestrator: registry with the UCB selector, memory cache,
health monitor. With no config it writes three tiny local GGUF models (random weights) to
${defaultModelDir()} and uses them; cloud models join when their key variable is set.`,
  generate: `orchestrator generate <prompt> [options]

Options:
  -m, --model <name>        call this model instead of selecting one
      --max-tokens <n> --temperature <t> --seed <n> --system <text> --task <tag> --no-cache
  Requirements: --capability <name> (repeatable) --max-cost <usd> --min-speed <tok/s>
      --min-context <tokens> --max-latency <ms> --provider <name> --exclude-provider <name>
      --require-task <tag> --local-only`,
  stream: `orchestrator stream <prompt> [options]   (same options as generate)`,
  select: `orchestrator select [--prompt <text>] [requirements] [--json]

Prints the decision the registry would make: every candidate's score (mean reward, bonus,
trials) and every excluded model with its reason. Requirements as for generate.`,
  models: `orchestrator models [--config <file>] [--json]`,
  health: `orchestrator health [--config <file>] [--json]

Runs every model's health check now (free endpoints: model lists, tags; a loaded local model).
Exit code 1 when a configured model is not healthy (degraded or unhealthy); models left out for a
missing key are listed as unavailable and do not change the exit code.`,
  validate: `orchestrator validate [--config <file>] [--load-plugins] [--json]

Parses the config strictly: a missing environment variable is an error with its line, as is
every unknown key, bad value and unknown provider. Exit code 3 when the file is invalid. With no
file (no --config, no ./models.yaml) it checks the embedded default, whose cloud models are
optional: one whose key variable is not set is listed as unavailable, as the demo does.
A provider named by file or package is only located, never run: --load-plugins imports it
(running its code) to check that it is a plugin and to check its config block.`,
  replay: `orchestrator replay --data <csv|dir|log.jsonl> [--split test] [--policy <json|file>] [--budget <usd>] [--seeds <n>] [--cv <folds>] [--out <dir>] [--json]

Replays full-information routing data (RouterBench-style CSVs: every model's recorded quality and
cost per prompt) through a selector policy, in random orders, and prints accuracy, cost per prompt,
regret against the best fixed model, the baselines and AIQ; --out writes JSON and an SVG
quality-vs-cost curve. Given a decision log (.jsonl), estimates the policy off-policy (SNIPS).
Default policy: contextual selector on the task tag (LinUCB α=0.3) warm-started on --split train.
A cascade policy ("type": "cascade") is replayed on the models' recorded answers; with --cv <k>
it is cross-validated on k folds of --split (default train, the split it is chosen on): on each
held-out fold, paced at its budget, against the best per-task mixture of single models at that
budget fitted on the other folds; prints the gain with its standard error.`,
};

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

export async function generateOrStream(argv: string[], io: Io, mode: "generate" | "stream"): Promise<number> {
  const { values, positionals } = parse(argv, { ...REQUIREMENTS, ...REQUEST });
  if (values.help) {
    io.out(HELP[mode] ?? "");
    return EXIT.ok;
  }
  const prompt = positionals.join(" ").trim();
  if (!prompt) throw new UsageError(`${mode} needs a prompt: orchestrator ${mode} "Explain quantum computing"`);
  const json = values.json === true;
  const request = requestFrom(prompt, values);
  const requirements = requirementsFrom(values);
  const o = await open(values.config, io, json);
  try {
    if (mode === "generate") {
      const result =
        typeof values.model === "string"
          ? await o.registry.getModel(values.model).generate(request)
          : await o.generate(request, requirements);
      if (json) io.out(JSON.stringify(result, null, 2));
      else {
        io.out(result.text);
        io.err(
          `\n[${result.model}] ${ms(result.latencyMs)} ms, ${result.usage.inputTokens ?? "?"}+${result.usage.outputTokens ?? "?"} tokens, ${usd(result.costUsd) ?? "?"} USD${result.cached ? ", from cache" : ""}`,
        );
      }
    } else {
      const stream =
        typeof values.model === "string"
          ? o.registry.getModel(values.model).stream(request)
          : o.stream(request, requirements);
      const chunks: unknown[] = [];
      for await (const chunk of stream) {
        if (json) chunks.push(chunk);
        else if (chunk.type === "text") process.stdout.write(chunk.text);
        else if (chunk.type === "finish")
          io.err(
            `\n[${chunk.model ?? "?"}] ${ms(chunk.latencyMs)} ms, first chunk after ${ms(chunk.timeToFirstChunkMs)} ms${chunk.cached ? ", from cache" : ""}`,
          );
      }
      if (json) io.out(JSON.stringify(chunks, null, 2));
    }
    return EXIT.ok;
  } finally {
    await o.close();
  }
}

export async function select(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { ...REQUIREMENTS, prompt: { type: "string" }, "max-tokens": { type: "string" } });
  if (values.help) {
    io.out(HELP.select ?? "");
    return EXIT.ok;
  }
  const json = values.json === true;
  // Flags first: a typo is a usage error before any model is prepared.
  const requirements = requirementsFrom(values);
  const request = typeof values.prompt === "string" ? requestFrom(values.prompt, values) : undefined;
  const o = await open(values.config, io, json);
  try {
    const explanation = o.registry.explainSelection(requirements, request ? { request } : {});
    if (json) io.out(JSON.stringify(explanation, null, 2));
    else {
      if (explanation.model === undefined)
        io.out(`selected: none: no model meets the requirements (selector ${explanation.selector})\n`);
      else {
        io.out(`selected: ${explanation.model.name} (selector ${explanation.selector})\n`);
        io.out(
          table(
            ["candidate", "score", "details"],
            explanation.candidates.map((c) => [
              `${c.chosen ? "* " : "  "}${c.model}`,
              score(c.score, 4),
              [
                c.meanReward === undefined ? undefined : `mean ${score(c.meanReward, 3)}`,
                c.bonus === undefined ? undefined : `bonus ${score(c.bonus, 3)}`,
                c.trials === undefined ? undefined : `${c.trials} trials`,
                c.note,
              ]
                .filter(Boolean)
                .join(", "),
            ]),
          ),
        );
      }
      if (explanation.excluded.length > 0)
        io.out(
          `${explanation.model === undefined ? "" : "\n"}${table(
            ["excluded", "why"],
            explanation.excluded.map((e) => [e.model, e.reason]),
          )}`,
        );
    }
    if (explanation.model === undefined) {
      if (!json)
        io.err(
          `error: no model meets the requirements${explanation.excluded.length > 0 ? ` (${explanation.excluded.map((e) => `${e.model}: ${e.reason}`).join("; ")})` : ": no models are configured"}`,
        );
      return EXIT.noModel;
    }
    return EXIT.ok;
  } finally {
    await o.close();
  }
}

export async function models(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {});
  if (values.help) {
    io.out(HELP.models ?? "");
    return EXIT.ok;
  }
  const json = values.json === true;
  const o = await open(values.config, io, true);
  try {
    const list = o.registry.listModels().map((m: Model) => ({
      name: m.name,
      provider: m.provider,
      local: m.isLocal,
      available: true,
      contextWindow: m.capabilities.contextWindow,
      inputCostPerToken: m.capabilities.inputCostPerToken,
      outputCostPerToken: m.capabilities.outputCostPerToken,
      streaming: m.capabilities.supportsStreaming,
    }));
    const unavailable = o.skipped.map((s) => ({
      name: s.name,
      provider: s.provider,
      available: false,
      reason: s.reason,
    }));
    if (json) io.out(JSON.stringify({ config: o.configSource, models: [...list, ...unavailable] }, null, 2));
    else {
      io.out(`config: ${o.configSource}\n`);
      io.out(
        table(
          ["model", "provider", "status", "context", "USD/1M in", "USD/1M out"],
          [
            ...list.map((m) => [
              m.name,
              m.provider,
              m.local ? "available (local)" : "available",
              m.contextWindow,
              num(m.inputCostPerToken * 1e6),
              num(m.outputCostPerToken * 1e6),
            ]),
            ...unavailable.map((m) => [
              m.name,
              m.provider,
              `unavailable: ${m.reason}`,
              undefined,
              undefined,
              undefined,
            ]),
          ],
        ),
      );
    }
    return EXIT.ok;
  } finally {
    await o.close();
  }
}

export async function health(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {});
  if (values.help) {
    io.out(HELP.health ?? "");
    return EXIT.ok;
  }
  const json = values.json === true;
  const o = await open(values.config, io, json);
  try {
    const names = o.registry.listModels().map((m) => m.name);
    const bar = json ? undefined : progress("Checking models");
    const statuses = [];
    for (const [i, name] of names.entries()) {
      bar?.update(i, names.length, name);
      await o.healthMonitor?.checkNow(name);
      statuses.push({ model: name, ...(await o.registry.getModelHealth(name)) });
    }
    bar?.done();
    const unavailable = o.skipped.map((s) => ({
      model: s.name,
      status: "unavailable",
      isHealthy: false,
      issues: [s.reason],
    }));
    if (json) io.out(JSON.stringify([...statuses, ...unavailable], null, 2));
    else
      io.out(
        table(
          ["model", "status", "healthy", "check ms", "issues"],
          [
            ...statuses.map((s) => [
              s.model,
              s.status,
              s.isHealthy ? "yes" : "no",
              ms(s.latencyMs),
              s.issues.join("; "),
            ]),
            ...unavailable.map((s) => [s.model, s.status, "no", undefined, s.issues.join("; ")]),
          ],
        ),
      );
    // Degraded counts: a failed check makes a model "degraded" until failureThreshold failures open its circuit.
    return statuses.every((s) => s.isHealthy) ? EXIT.ok : EXIT.failure;
  } finally {
    await o.close();
  }
}

export async function validate(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { "load-plugins": { type: "boolean" } });
  if (values.help) {
    io.out(HELP.validate ?? "");
    return EXIT.ok;
  }
  // Checking a config must not run the code it names: providers by file or package are located, not imported, unless asked.
  const loadPlugins = values["load-plugins"] === true;
  const path = resolveConfigPath(values.config);
  // A file is checked strictly. The embedded default is checked as the demo runs it: its cloud
  // models are optional, and one whose key variable is not set is reported as unavailable.
  const config = path
    ? await loadModelConfig(path, { providers: builtinProviders, lenient: false, loadPlugins })
    : parseModelConfig(EMBEDDED_CONFIG, {
        env: { ...process.env, ORCHESTRATOR_MODEL_DIR: defaultModelDir() },
        source: "embedded default",
        providers: builtinProviders,
        lenient: true,
      });
  const plugins = [...(await locateProviders(config, { providers: builtinProviders }))].flatMap(([provider, at]) =>
    at.kind === "given" ? [] : [{ provider, kind: at.kind, file: at.file, loaded: loadPlugins }],
  );
  const models = config.models.map((m) => ({
    name: m.name,
    provider: m.provider,
    ...(m.unavailable ? { unavailable: m.unavailable } : {}),
  }));
  const summary = { valid: true, source: config.source, models, plugins };
  if (values.json) io.out(JSON.stringify(summary, null, 2));
  else {
    io.out(
      `${config.source}: valid, ${models.length} model(s): ${models.map((m) => (m.unavailable ? `${m.name} (unavailable: ${m.unavailable})` : m.name)).join(", ")}`,
    );
    for (const p of plugins) {
      io.out(
        `  provider "${p.provider}" resolves to ${p.file}: ${p.loaded ? "loaded, a provider plugin, its config blocks checked" : "not loaded (its code was not run; --load-plugins imports and checks it)"}`,
      );
    }
  }
  return EXIT.ok;
}

/** Print a failure the way a person can act on it, and pick the exit code. */
export function report(error: unknown, io: Io, json: boolean): number {
  if (error instanceof UsageError) {
    io.err(`usage error: ${error.message}\nRun "orchestrator --help".`);
    return EXIT.usage;
  }
  const code = ConfigError.isInstance(error)
    ? EXIT.config
    : NoEligibleModelError.isInstance(error)
      ? EXIT.noModel
      : EXIT.failure;
  if (json) {
    io.out(
      JSON.stringify(
        { error: OrchestratorError.isInstance(error) ? error.toJSON() : { message: String(error) } },
        null,
        2,
      ),
    );
  } else if (ConfigError.isInstance(error)) {
    const total = error.totalIssues ?? error.issues.length;
    io.err(`${total === 1 ? "Config error" : `${total} config errors`}:`);
    for (const issue of error.issues) io.err(`  ${formatConfigIssue(issue)}`);
    // The error keeps the first few; a file with one typo repeated 31,000 times printed 4.2 MB.
    if (total > error.issues.length) io.err(`  … and ${total - error.issues.length} more`);
  } else {
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
  }
  return code;
}
