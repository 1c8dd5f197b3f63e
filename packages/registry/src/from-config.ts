import { ConfigError, type ConfigIssue, type Model, type ProviderPlugin } from "@orchestrator-ts/core";
import { CostBasedSelector, PerformanceSelector } from "./cost-performance-selectors";
import type { BackoffOptions, ModelRegistryOptions } from "./registry";
import type { ModelSelector } from "./selector";
import { RoundRobinSelector, WeightedRandomSelector } from "./simple-selectors";
import { ThompsonSamplingSelector } from "./thompson-selector";
import { UCBModelSelector } from "./ucb-selector";
import { ContextualSelector, type ContextualSelectorOptions, DecisionLog, HashedNgramExtractor } from "./contextual";

/**
 * The key under which `@orchestrator-ts/config` attaches a model builder to every parsed config.
 * The registry may not depend on the config package, so it reaches the builder through this
 * `Symbol.for` key (shared by every loaded copy of both packages).
 */
export const BUILD_MODELS: unique symbol = Symbol.for("@orchestrator-ts/config/build-models");

export type RegistrySelectorType = "ucb" | "thompson" | "cost" | "performance" | "weighted-random" | "round-robin" | "contextual";

/** The `ContextualSelector` options a config file can set (see `ContextualSelectorOptions`). */
type ContextualConfig = Pick<ContextualSelectorOptions, "exploration" | "alpha" | "ridge" | "lambda" | "budgetPerRequest" | "pacingRate" | "epsilon" | "learnFrom" | "seed">;

/** The `selector:` section of a config file, in its TypeScript spelling (`@orchestrator-ts/config`'s `SelectorConfig`). */
export interface RegistrySelectorConfig extends ContextualConfig {
  type: RegistrySelectorType;
  /** ucb */
  explorationFactor?: number;
  /** ucb, thompson */
  minTrials?: number;
  /** ucb, thompson */
  discount?: number;
  /** ucb, thompson */
  window?: number;
  /** cost */
  maxCostPerRequest?: number;
  /** cost */
  preferLocalModels?: boolean;
  /** performance */
  minTokensPerSecond?: number;
  /** performance */
  maxResponseTimeMs?: number;
  /** performance */
  preferStreaming?: boolean;
  /** weighted-random: model name → relative weight (unlisted models weigh 1). */
  weights?: Readonly<Record<string, number>>;
  /** contextual: hashed n-gram feature dimensions (default 1,024) */
  dimensions?: number;
  /** contextual: JSONL decision log file */
  decisionLog?: string;
}

/** The `execution:` section of a config file (`@orchestrator-ts/config`'s `ExecutionConfig`). */
export interface RegistryExecutionConfig {
  maxRetries?: number;
  maxFallbacks?: number;
  /** Deadline of each model call → the registry's `timeoutMs`. */
  timeoutMs?: number;
  /** `jitter: true` is full jitter, `false` none. */
  backoff?: { initialMs?: number; maxMs?: number; multiplier?: number; jitter?: boolean };
  /** Model name → the models to try, in order, when it fails. */
  fallbacks?: Readonly<Record<string, readonly string[]>>;
}

/** A configured model the builder left out, and why (`"OPENAI_API_KEY is not set"`). */
export interface SkippedConfigModel {
  name: string;
  provider: string;
  reason: string;
  /** Where the model is written in the config file. */
  location?: { source: string; line: number; column: number };
}

/** Provider plugins by the name used in `provider:`, or an array keyed by each plugin's `name`. */
// Methods of ProviderPlugin are bivariant, so plugins of any config type fit.
export type ConfigProviders = Readonly<Record<string, ProviderPlugin<unknown>>> | readonly ProviderPlugin<unknown>[];

/** What the config's builder takes: where to find provider plugins. */
export interface BuildModelsOptions {
  providers?: ConfigProviders;
  /** Extra folders holding provider packages (like `NODE_PATH`). */
  modulePaths?: readonly string[];
  /** Working directory for resolving provider packages. Default `process.cwd()`. */
  cwd?: string;
}

export type BuildModelsFunction = (options: BuildModelsOptions) => Promise<{ models: Model[]; skipped: SkippedConfigModel[] }>;

/**
 * What `ModelRegistry.fromConfig` reads of a parsed config: a `ModelConfig` from
 * `@orchestrator-ts/config`'s `loadModelConfig` / `parseModelConfig` fits. Its `cache:` and `health:`
 * sections are built by the caller (or the `orchestrator` meta-package) and passed as the `cache`
 * and `healthMonitor` options.
 */
export interface RegistryConfig {
  models: readonly unknown[];
  selector?: RegistrySelectorConfig;
  execution?: RegistryExecutionConfig;
  /** The file it came from, shown in errors. */
  source?: string;
  /** Attached (non-enumerable) by `@orchestrator-ts/config`. */
  readonly [BUILD_MODELS]?: BuildModelsFunction;
}

/** `fromConfig` options: where provider plugins are found, and any registry option (these win over the file). */
export interface FromConfigOptions extends ModelRegistryOptions, BuildModelsOptions {}

const SELECTOR_KEYS: Record<RegistrySelectorType, readonly string[]> = {
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
export function createSelector(config: RegistrySelectorConfig | undefined): ModelSelector {
  if (config === undefined) return new UCBModelSelector();
  const issues: ConfigIssue[] = [];
  const type = config.type ?? "ucb";
  const allowed = Object.hasOwn(SELECTOR_KEYS, type) ? SELECTOR_KEYS[type] : undefined;
  if (allowed === undefined) {
    issues.push({ path: "selector.type", message: `must be one of ${Object.keys(SELECTOR_KEYS).join(", ")}, got ${JSON.stringify(type)}` });
  } else {
    for (const [key, value] of Object.entries(config)) {
      if (key === "type" || value === undefined || allowed.includes(key)) continue;
      const owners = (Object.keys(SELECTOR_KEYS) as RegistrySelectorType[]).filter((t) => SELECTOR_KEYS[t].includes(key));
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
