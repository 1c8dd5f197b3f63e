import { ConfigError, type GenerateRequest, type Model } from "@orchestrator-ts/core";
import {
  checkDependencies,
  checkModelCreation,
  loadModelConfig,
  locateProviders,
  parseModelConfig,
  resolveProviders,
} from "@orchestrator-ts/config";
import { createSelector } from "@orchestrator-ts/registry";
import { EMBEDDED_CONFIG, defaultModelDir } from "../default-config";
import { type Orchestrator, createOrchestrator, resolveConfigPath } from "../orchestrator";
import { builtinProviders } from "../providers";
import { REQUEST, REQUIREMENTS, UsageError, number, parse, requirementsFrom } from "./args";
import { ms, num, progress, score, table, usd } from "./output";
import { HELP } from "./help";
import { EXIT, type Io } from "./report";

export async function open(config: string | undefined, io: Io, json: boolean): Promise<Orchestrator> {
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

// ---------------------------------------------------------------------------------------------

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
  // A provider whose package (its SDK) is not installed here would fail every call: an error now, with the
  // model's line; in the lenient embedded default, the model is unavailable, as for a missing key.
  // Plugins by file or package are checked only when loaded (--load-plugins).
  const given = loadPlugins
    ? await resolveProviders(config, { providers: builtinProviders })
    : new Map(Object.entries(builtinProviders));
  const cannotRun = await checkDependencies(config, given);
  if (cannotRun.length > 0 && path)
    throw new ConfigError(
      cannotRun.map((p) => p.issue),
      { title: "The configured models cannot run here" },
    );
  // Creating the models checks what parsing cannot (a llama.cpp model_path that does not exist, a GGUF file of
  // another quantization); no request is sent, no weights load. Only the built-in providers': a plugin's create is its code.
  if (path) await checkModelCreation(config, new Map(Object.entries(builtinProviders)));
  // The selectors too, as building the registry would (options of two kinds at once, of another type…).
  if (path)
    for (const selector of [
      config.selector,
      ...(config.routes ?? []).map((r) => ("selector" in r ? r.selector : undefined)),
    ])
      if (selector !== undefined) createSelector(selector);
  const reasons = new Map(cannotRun.map((p) => [p.index, p.reason]));
  const plugins = [...(await locateProviders(config, { providers: builtinProviders }))].flatMap(([provider, at]) =>
    at.kind === "given" ? [] : [{ provider, kind: at.kind, file: at.file, loaded: loadPlugins }],
  );
  const models = config.models.map((m, i) => {
    const unavailable = m.unavailable ?? reasons.get(i);
    return { name: m.name, provider: m.provider, ...(unavailable ? { unavailable } : {}) };
  });
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
