import type { ModelCapabilities, ModelConstraints } from "./capabilities";
import type { Model } from "./model";
import type { ProviderPlugin } from "./plugin";
import type { Secret } from "./redact";
import type { SelectionRequirements } from "./selection";
import type { VirtualKeyLimits } from "./virtual-keys";

// The shape of a parsed config file, shared by the package that parses it (`@orchestrator-ts/config`)
// and the ones that build from it (the registry's `registryFromConfig`, the meta-package), which
// may not depend on each other.

/**
 * The key under which `@orchestrator-ts/config` attaches a model builder to every parsed config:
 * a non-enumerable function, so it stays out of JSON and inspection. A `Symbol.for` key, shared
 * by every loaded copy of every package.
 */
export const BUILD_MODELS: unique symbol = Symbol.for("@orchestrator-ts/config/build-models");

/** Where something was written: file (or `<inline>`), 1-based line and column. */
export interface SourceLocation {
  source: string;
  line: number;
  column: number;
}

/** One entry of `models:`, validated and in the TypeScript spelling. */
export interface ModelEntry {
  name: string;
  /** A built-in provider name (`openai`), a package name (`@acme/orchestrator-provider-foo`) or a file (`./provider.mjs`). */
  provider: string;
  /**
   * The entry's `config:` block with its top-level keys in camelCase (`api_key` → `apiKey`,
   * `base_url` → `baseURL`). Secrets are `Secret` instances; call `.reveal()` where the value is needed.
   */
  config: Record<string, unknown>;
  capabilities: ModelCapabilities;
  constraints: ModelConstraints;
  /** True when the entry had a `capabilities:` block, so the provider keeps them over its defaults. */
  capabilitiesDeclared: boolean;
  location: SourceLocation;
  /** Lenient mode only: why the model cannot be built (`"OPENAI_API_KEY is not set"`). The builder skips it. */
  unavailable?: string;
}

export type SelectorType =
  | "ucb"
  | "thompson"
  | "cost"
  | "performance"
  | "weighted-random"
  | "round-robin"
  | "contextual";

/** The `selector:` section, in its TypeScript spelling. Which options belong to which type is checked when the selector is built. */
export interface SelectorConfig {
  type: SelectorType;
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
  /** contextual (see `ContextualSelector`): `linucb`, `thompson` or `greedy`. */
  exploration?: "linucb" | "thompson" | "greedy";
  /** contextual */
  alpha?: number;
  /** contextual */
  ridge?: number;
  /** contextual: quality per USD. */
  lambda?: number;
  /** contextual: average USD per request, paced online. */
  budgetPerRequest?: number;
  /** contextual */
  pacingRate?: number;
  /** contextual */
  epsilon?: number;
  /** contextual */
  learnFrom?: "feedback" | "reward";
  /** contextual: hashed n-gram feature dimensions (default 1,024). */
  dimensions?: number;
  /** contextual: JSONL decision log path (relative paths: to the working directory). */
  decisionLog?: string;
  /** contextual */
  seed?: number;
}

/** A Redis node: `"host:port"`, a `redis://` URL (a `Secret` when it holds credentials), or `{ host, port }`. */
export type RedisNodeConfig = string | Secret | { host: string; port: number };

/**
 * Where Redis is — one of `url`, `cluster`, `sentinels` + `name` (none: `REDIS_URL`, else
 * localhost) — in the shape `@orchestrator-ts/redis` takes (`RedisConnectionOptions`). A URL
 * holding credentials, or read from a variable named like a secret, and every password, is a `Secret`.
 */
export interface RedisConnectionConfig {
  url?: string | Secret;
  cluster?: RedisNodeConfig[];
  sentinels?: RedisNodeConfig[];
  /** The master group name the Sentinels monitor. */
  name?: string;
  username?: string;
  password?: Secret;
  sentinelPassword?: Secret;
  operationTimeoutMs?: number;
  keyPrefix?: string;
}

/** The top-level `redis:` section. */
export interface RedisConfig extends RedisConnectionConfig {
  /** Share the bandit's statistics through Redis (default true). */
  statistics?: boolean;
  /** Share health state through Redis (default true). */
  health?: boolean;
  /** Hold models' `max_requests_per_minute`/`max_concurrent_requests` across every process (default true). */
  limits?: boolean;
  /** Publish each call's decision record to a capped Redis Stream, for `orchestrator dashboard` (default true). */
  decisions?: boolean;
  /** What the shared limits do while Redis does not answer (`RedisRateLimiter`'s `whenUnavailable`). */
  whenUnavailable?: "share" | "local" | "reject";
}

/** OpenTelemetry tracing and metrics of every registry call (`@orchestrator-ts/otel`). */
export interface TelemetryConfig {
  enabled: boolean;
  /** Record prompts and answers on spans (the GenAI conventions' opt-in attributes). Default false. */
  captureContent?: boolean;
}

export interface CacheConfig {
  enabled: boolean;
  backend: "memory" | "redis";
  ttlMs?: number;
  maxSize?: number;
  namespace?: string;
  /** The Redis backend's connection; without it, the top-level `redis:` section's. */
  redis?: RedisConnectionConfig;
}

export interface HealthConfig {
  enabled: boolean;
  checkIntervalMs?: number;
  failureThreshold?: number;
  recoveryThreshold?: number;
  timeoutMs?: number;
  concurrency?: number;
}

export interface BackoffConfig {
  initialMs?: number;
  maxMs?: number;
  multiplier?: number;
  /** `true` is full jitter, `false` none. */
  jitter?: boolean;
}

/** The `execution:` section. */
export interface ExecutionConfig {
  maxRetries?: number;
  maxFallbacks?: number;
  /** Deadline of each model call (the registry's `timeoutMs`). */
  timeoutMs?: number;
  backoff?: BackoffConfig;
  /** Model name → the models to try, in order, when it fails. */
  fallbacks?: Readonly<Record<string, readonly string[]>>;
}

/** One stage of a cascade route: its models, asked one after another or all at once. */
export interface CascadeStageConfig {
  models: readonly string[];
  parallel?: boolean;
}

/** The settings of a cascade that a task may replace (`tasks:`). */
export interface CascadeSettingsConfig {
  stages?: readonly CascadeStageConfig[];
  /** A built-in extractor by name: `choice` (A–D), `choice:AB`, `number`, `first-number`, `json:<field.path>`, `text`. */
  extract?: string;
  accept?: "unanimous" | { atLeast: number };
  prefer?: "first" | "fastest" | "cheapest";
  budgetPerRequest?: number;
  pacingRate?: number;
}

/** A `routes:` entry of `type: cascade`. */
export interface CascadeRouteConfig extends CascadeSettingsConfig {
  type: "cascade";
  name: string;
  stages: readonly CascadeStageConfig[];
  extract: string;
  tasks?: Readonly<Record<string, CascadeSettingsConfig>>;
  location?: SourceLocation;
}

/** A `routes:` entry of `type: selector`: requirements and, optionally, its own selector. */
export interface SelectorRouteConfig {
  type: "selector";
  name: string;
  requirements?: SelectionRequirements;
  selector?: SelectorConfig;
  location?: SourceLocation;
}

/** One entry of `keys:`: a virtual key declared in the config (its value usually `${ENV}`). */
export interface StaticKeyConfig extends VirtualKeyLimits {
  name: string;
  /** The raw key clients send; only its hash is kept once loaded. */
  key: Secret;
  location?: SourceLocation;
}

/** One entry of `routes:`. */
export type RouteConfig = CascadeRouteConfig | SelectorRouteConfig;

/** A plugin of any config type (`create` takes the plugin's own config type; methods are bivariant). */
export type AnyProviderPlugin = ProviderPlugin<unknown>;

/** Provider plugins by the name used in `provider:`; an array is keyed by each plugin's `name`. */
export type ProvidersInput = Readonly<Record<string, AnyProviderPlugin>> | readonly AnyProviderPlugin[];

/** Where the plugins behind `provider:` come from. */
export interface BuildModelsOptions {
  providers?: ProvidersInput;
  /**
   * Extra folders that hold packages directly (like `NODE_PATH`), searched after the
   * `node_modules` folders above the config file and before those above `cwd`.
   */
  modulePaths?: readonly string[];
  /** Working directory for the last resolution step. Default `process.cwd()`. */
  cwd?: string;
}

/** A configured model the builder left out, and why (`"OPENAI_API_KEY is not set"`). */
export interface SkippedModel {
  name: string;
  provider: string;
  reason: string;
  /** Where the model is written in the config file. */
  location?: SourceLocation;
}

export type BuildModelsFunction = (
  options: BuildModelsOptions,
) => Promise<{ models: Model[]; skipped: SkippedModel[] }>;

/**
 * A parsed, validated config file. Only what the file says is set: defaults belong to the
 * packages that use each section.
 */
export interface ModelConfig {
  models: ModelEntry[];
  selector?: SelectorConfig;
  cache?: CacheConfig;
  health?: HealthConfig;
  execution?: ExecutionConfig;
  redis?: RedisConfig;
  telemetry?: TelemetryConfig;
  /** Named routes a request can ask for (`route: "<name>"`, the server's `model`). */
  routes?: RouteConfig[];
  /** Virtual keys of the gateway (`orchestrator serve`), declared statically. */
  keys?: StaticKeyConfig[];
  /** The file it came from, or `<inline>`. */
  source: string;
  /**
   * Parsed leniently: a model that cannot run here (its key variable is not set, its provider's
   * package is not installed) is left out and listed in `skipped`, rather than failing the build.
   */
  lenient?: boolean;
  /** Attached (non-enumerable) by `@orchestrator-ts/config`: creates the models through their plugins. */
  readonly [BUILD_MODELS]?: BuildModelsFunction;
}
