import { BUILD_MODELS, type BuildModelsOptions, ConfigError, type ConfigIssue, type ModelConfig, type ModelSelector, type SelectorConfig, type SelectorType } from "@orchestrator-ts/core";
import { CostBasedSelector, PerformanceSelector } from "./cost-performance-selectors";
import { ModelRegistry, setSkippedModels } from "./registry";
import type { BackoffOptions, ModelRegistryOptions } from "./types";
import { RoundRobinSelector, WeightedRandomSelector } from "./simple-selectors";
import { ThompsonSamplingSelector } from "./thompson-selector";
import { UCBModelSelector } from "./ucb-selector";
import { ContextualSelector, DecisionLog, HashedNgramExtractor } from "./contextual";

/** The part of a parsed config `registryFromConfig` reads: a `ModelConfig` from `@orchestrator-ts/config` fits. */
export type RegistryConfig = Pick<ModelConfig, "selector" | "execution" | typeof BUILD_MODELS> & {
  models: readonly unknown[];
  /** The file it came from, shown in errors. */
  source?: string;
};

/** `registryFromConfig` options: where provider plugins are found, and any registry option (these win over the file). */
export interface FromConfigOptions extends ModelRegistryOptions, BuildModelsOptions {}

const SELECTOR_KEYS: Record<SelectorType, readonly string[]> = {
  ucb: ["explorationFactor", "minTrials", "discount", "window"],
  thompson: ["minTrials", "discount", "window"],
  cost: ["maxCostPerRequest", "preferLocalModels"],
  performance: ["minTokensPerSecond", "maxResponseTimeMs", "preferStreaming"],
  "weighted-random": ["weights"],
  "round-robin": [],
  contextual: ["exploration", "alpha", "ridge", "lambda", "budgetPerRequest", "pacingRate", "epsilon", "learnFrom", "dimensions", "decisionLog", "seed"],
};

/**
 * The selector a config's `selector:` section describes (`UCBModelSelector` when there is none).
 * An unknown type, or an option of another selector type, is a `ConfigError`.
 */
export function createSelector(config: SelectorConfig | undefined): ModelSelector {
  if (config === undefined) return new UCBModelSelector();
  const issues: ConfigIssue[] = [];
  const type = config.type ?? "ucb";
  const allowed = Object.hasOwn(SELECTOR_KEYS, type) ? SELECTOR_KEYS[type] : undefined;
  if (allowed === undefined) {
    issues.push({ path: "selector.type", message: `must be one of ${Object.keys(SELECTOR_KEYS).join(", ")}, got ${JSON.stringify(type)}` });
  } else {
    for (const [key, value] of Object.entries(config)) {
      if (key === "type" || value === undefined || allowed.includes(key)) continue;
      const owners = (Object.keys(SELECTOR_KEYS) as SelectorType[]).filter((t) => SELECTOR_KEYS[t].includes(key));
      issues.push({ path: `selector.${key}`, message: owners.length > 0 ? `is an option of the ${owners.join(" / ")} selector, not "${type}"` : "is not a selector option" });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid selector configuration" });
  switch (type) {
    case "thompson":
      return new ThompsonSamplingSelector({ minTrials: config.minTrials, discount: config.discount, window: config.window });
    case "cost":
      return new CostBasedSelector({ maxCostPerRequest: config.maxCostPerRequest, preferLocalModels: config.preferLocalModels });
    case "performance":
      return new PerformanceSelector({ minTokensPerSecond: config.minTokensPerSecond, maxResponseTimeMs: config.maxResponseTimeMs, preferStreaming: config.preferStreaming });
    case "weighted-random":
      return new WeightedRandomSelector(config.weights ? { weights: config.weights } : {});
    case "round-robin":
      return new RoundRobinSelector();
    case "contextual": {
      const { type: _type, dimensions, decisionLog, ...options } = config;
      return new ContextualSelector({
        ...defined(options),
        ...(dimensions !== undefined ? { extractor: new HashedNgramExtractor({ dimensions }) } : {}),
        ...(decisionLog !== undefined ? { log: new DecisionLog(decisionLog) } : {}),
      });
    }
    default:
      return new UCBModelSelector({ explorationFactor: config.explorationFactor, minTrials: config.minTrials, discount: config.discount, window: config.window });
  }
}

function defined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

/**
 * Registry options from a config's `selector:` and `execution:` sections, with `explicit` options
 * winning field by field (`backoff` fields and `fallbacks` entries too).
 */
export function registryOptionsFromConfig(config: Pick<RegistryConfig, "selector" | "execution">, explicit: ModelRegistryOptions = {}): ModelRegistryOptions {
  const execution = config.execution ?? {};
  const fileBackoff = execution.backoff;
  const backoff: BackoffOptions = {
    ...defined({
      initialMs: fileBackoff?.initialMs,
      maxMs: fileBackoff?.maxMs,
      multiplier: fileBackoff?.multiplier,
      jitter: fileBackoff?.jitter === undefined ? undefined : fileBackoff.jitter ? ("full" as const) : ("none" as const),
    }),
    ...defined(explicit.backoff ?? {}),
  };
  const fallbacks = execution.fallbacks || explicit.fallbacks ? { ...execution.fallbacks, ...explicit.fallbacks } : undefined;
  const fromFile = defined({
    maxRetries: execution.maxRetries,
    maxFallbacks: execution.maxFallbacks,
    timeoutMs: execution.timeoutMs,
  });
  const options: ModelRegistryOptions = {
    ...fromFile,
    ...defined(explicit),
    modelSelector: explicit.modelSelector ?? createSelector(config.selector),
  };
  if (Object.keys(backoff).length > 0) options.backoff = backoff;
  if (fallbacks) options.fallbacks = fallbacks;
  return options;
}

/**
 * A registry built from a parsed config file (the seed's `ModelRegistry.from_config`):
 * `await registryFromConfig(await loadModelConfig("config/models.yaml"))`. The selector comes
 * from `selector:`, retries, backoff, deadline and fallback chains from `execution:`, and the
 * models from `models:`, created through their provider plugins. Explicit `options` win over
 * the file. Models the config left out (lenient loading: a variable is not set) are listed in
 * `registry.skippedModels`. `cache:` and `health:` are not built here: pass `cache` /
 * `healthMonitor` (or use `createOrchestrator` from `orchestrator-ts`, which builds them).
 *
 * A function rather than a static method of `ModelRegistry`, so that importing the registry
 * alone does not load every selector and the contextual router this needs.
 */
export async function registryFromConfig(config: RegistryConfig, options: FromConfigOptions = {}): Promise<ModelRegistry> {
  const build = config?.[BUILD_MODELS];
  if (typeof build !== "function") {
    throw new ConfigError([{ path: "config", message: "is not a parsed model config: load it with loadModelConfig() or parseModelConfig() from @orchestrator-ts/config" }], {
      title: "Cannot build a registry from this config",
    });
  }
  const { providers, modulePaths, cwd, ...explicit } = options;
  // Options first: a bad option fails before any model is created.
  const registry = new ModelRegistry(registryOptionsFromConfig(config, explicit));
  const built = await build.call(config, { ...(providers !== undefined ? { providers } : {}), ...(modulePaths !== undefined ? { modulePaths } : {}), ...(cwd !== undefined ? { cwd } : {}) });
  try {
    for (const model of built.models) registry.registerModel(model);
  } catch (error) {
    await Promise.allSettled(built.models.map((m) => m.cleanup()));
    throw error;
  }
  setSkippedModels(registry, built.skipped);
  return registry;
}
