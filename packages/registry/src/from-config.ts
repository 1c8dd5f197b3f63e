import {
  BUILD_MODELS,
  type BuildModelsOptions,
  type CascadeSettingsConfig,
  ConfigError,
  type ConfigIssue,
  type ModelConfig,
  type ModelSelector,
  type RouteConfig,
  type SelectorConfig,
  type SelectorType,
} from "@orchestrator-ts/core";
import { CascadeRoute, type CascadeSettings } from "./routes/cascade-route";
import { EXTRACTOR_NAMES, extractorByName } from "./routes/extractors";
import { type Route, SelectorRoute } from "./routes/route";
import { CostBasedSelector, PerformanceSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import { setSkippedModels } from "./skipped-models";
import type { BackoffOptions, ModelRegistryOptions } from "./types";
import { RoundRobinSelector, WeightedRandomSelector } from "./simple-selectors";
import { ThompsonSamplingSelector } from "./thompson-selector";
import { UCBModelSelector } from "./ucb-selector";
import { ContextualSelector, DecisionLog, HashedNgramExtractor } from "./contextual";

/** The part of a parsed config `registryFromConfig` reads: a `ModelConfig` from `@orchestrator-ts/config` fits. */
export type RegistryConfig = Pick<ModelConfig, "selector" | "execution" | "routes" | typeof BUILD_MODELS> & {
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
  contextual: [
    "exploration",
    "alpha",
    "ridge",
    "lambda",
    "budgetPerRequest",
    "pacingRate",
    "epsilon",
    "learnFrom",
    "dimensions",
    "decisionLog",
    "seed",
  ],
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
    issues.push({
      path: "selector.type",
      message: `must be one of ${Object.keys(SELECTOR_KEYS).join(", ")}, got ${JSON.stringify(type)}`,
    });
  } else {
    for (const [key, value] of Object.entries(config)) {
      if (key === "type" || value === undefined || allowed.includes(key)) continue;
      const owners = (Object.keys(SELECTOR_KEYS) as SelectorType[]).filter((t) => SELECTOR_KEYS[t].includes(key));
      issues.push({
        path: `selector.${key}`,
        message:
          owners.length > 0
            ? `is an option of the ${owners.join(" / ")} selector, not "${type}"`
            : "is not a selector option",
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid selector configuration" });
  switch (type) {
    case "thompson":
      return new ThompsonSamplingSelector({
        minTrials: config.minTrials,
        discount: config.discount,
        window: config.window,
      });
    case "cost":
      return new CostBasedSelector({
        maxCostPerRequest: config.maxCostPerRequest,
        preferLocalModels: config.preferLocalModels,
      });
    case "performance":
      return new PerformanceSelector({
        minTokensPerSecond: config.minTokensPerSecond,
        maxResponseTimeMs: config.maxResponseTimeMs,
        preferStreaming: config.preferStreaming,
      });
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
      return new UCBModelSelector({
        explorationFactor: config.explorationFactor,
        minTrials: config.minTrials,
        discount: config.discount,
        window: config.window,
      });
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
export function registryOptionsFromConfig(
  config: Pick<RegistryConfig, "selector" | "execution">,
  explicit: ModelRegistryOptions = {},
): ModelRegistryOptions {
  const execution = config.execution ?? {};
  const fileBackoff = execution.backoff;
  const backoff: BackoffOptions = {
    ...defined({
      initialMs: fileBackoff?.initialMs,
      maxMs: fileBackoff?.maxMs,
      multiplier: fileBackoff?.multiplier,
      jitter:
        fileBackoff?.jitter === undefined ? undefined : fileBackoff.jitter ? ("full" as const) : ("none" as const),
    }),
    ...defined(explicit.backoff ?? {}),
  };
  const fallbacks =
    execution.fallbacks || explicit.fallbacks ? { ...execution.fallbacks, ...explicit.fallbacks } : undefined;
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
export async function registryFromConfig(
  config: RegistryConfig,
  options: FromConfigOptions = {},
): Promise<ModelRegistry> {
  const build = config?.[BUILD_MODELS];
  if (typeof build !== "function") {
    throw new ConfigError(
      [
        {
          path: "config",
          message:
            "is not a parsed model config: load it with loadModelConfig() or parseModelConfig() from @orchestrator-ts/config",
        },
      ],
      {
        title: "Cannot build a registry from this config",
      },
    );
  }
  const { providers, modulePaths, cwd, ...explicit } = options;
  // Options first: a bad option fails before any model is created.
  const registry = new ModelRegistry(registryOptionsFromConfig(config, explicit));
  const built = await build.call(config, {
    ...(providers !== undefined ? { providers } : {}),
    ...(modulePaths !== undefined ? { modulePaths } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
  });
  try {
    for (const model of built.models) registry.registerModel(model);
  } catch (error) {
    await Promise.allSettled(built.models.map((m) => m.cleanup()));
    throw error;
  }
  setSkippedModels(registry, built.skipped);
  if (config.routes && config.routes.length > 0) {
    const skipped = new Set(built.skipped.map((m) => m.name));
    try {
      for (const route of routesFromConfig(config.routes)) {
        // A stage model the config left out (lenient: its key is not set) fails at call time, as a failed model.
        const missing = route instanceof CascadeRoute ? route.models.filter((m) => !registry.hasModel(m)) : [];
        registry.addRoute(route, { allowUnregistered: missing.length > 0 && missing.every((m) => skipped.has(m)) });
      }
    } catch (error) {
      await Promise.allSettled(built.models.map((m) => m.cleanup()));
      throw error;
    }
  }
  return registry;
}

/**
 * Routes from a config's `routes:` entries: a `CascadeRoute` per `type: cascade` (extractors by
 * name, see `extractorByName`), a `SelectorRoute` per `type: selector` (its selector built like
 * the top-level one). Problems are one `ConfigError` pointing at each entry's place in the file.
 */
export function routesFromConfig(entries: readonly RouteConfig[]): Route[] {
  const issues: ConfigIssue[] = [];
  const out: Route[] = [];
  entries.forEach((entry, i) => {
    const where = entry.location
      ? { source: entry.location.source, line: entry.location.line, column: entry.location.column }
      : {};
    try {
      if (entry.type === "selector") {
        out.push(
          new SelectorRoute({
            name: entry.name,
            ...(entry.requirements ? { requirements: entry.requirements } : {}),
            ...(entry.selector ? { selector: createSelector(entry.selector) } : {}),
          }),
        );
        return;
      }
      const settings = (s: CascadeSettingsConfig, path: string): Partial<CascadeSettings> => {
        const out: Partial<CascadeSettings> = {};
        if (s.stages) out.stages = s.stages;
        if (s.extract !== undefined) {
          const extract = extractorByName(s.extract);
          if (!extract)
            issues.push({
              path: `${path}.extract`,
              message: `unknown extractor ${JSON.stringify(s.extract)}: use ${EXTRACTOR_NAMES}`,
              ...where,
            });
          else out.extract = extract;
        }
        if (s.accept !== undefined) out.accept = s.accept;
        if (s.prefer !== undefined) out.prefer = s.prefer;
        if (s.budgetPerRequest !== undefined) out.budgetPerRequest = s.budgetPerRequest;
        if (s.pacingRate !== undefined) out.pacingRate = s.pacingRate;
        return out;
      };
      const own = settings(entry, `routes[${i}]`);
      const tasks: Record<string, Partial<CascadeSettings>> = {};
      for (const [task, s] of Object.entries(entry.tasks ?? {}))
        tasks[task] = settings(s, `routes[${i}].tasks.${task}`);
      if (!own.extract) return;
      out.push(
        new CascadeRoute({
          ...(own as CascadeSettings),
          name: entry.name,
          stages: entry.stages,
          ...(entry.tasks ? { tasks } : {}),
        }),
      );
    } catch (error) {
      if (!ConfigError.isInstance(error)) throw error;
      for (const issue of error.issues)
        issues.push({ ...issue, path: issue.path ? `routes[${i}].${issue.path}` : `routes[${i}]`, ...where });
    }
  });
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid routes" });
  return out;
}
