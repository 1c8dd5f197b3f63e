import type { ModelCapabilities, ModelConstraints, ProviderPlugin, Secret } from "@orchestrator-ts/core";
import type { Env } from "./env";

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
  /** Lenient mode only: why the model cannot be built (`"OPENAI_API_KEY is not set"`). `buildModels` skips it. */
  unavailable?: string;
}

export type SelectorType = "ucb" | "thompson" | "cost" | "performance" | "weighted-random" | "round-robin" | "contextual";

export interface SelectorConfig {
  type: SelectorType;
  explorationFactor?: number;
  minTrials?: number;
  discount?: number;
  window?: number;
  maxCostPerRequest?: number;
  preferLocalModels?: boolean;
  minTokensPerSecond?: number;
  maxResponseTimeMs?: number;
  preferStreaming?: boolean;
  /** `weighted-random`: model name → relative weight. */
  weights?: Record<string, number>;
  /** `contextual` (see `ContextualSelector`): `linucb`, `thompson` or `greedy`. */
  exploration?: "linucb" | "thompson" | "greedy";
  alpha?: number;
  ridge?: number;
  /** Quality per USD. */
  lambda?: number;
  /** Average USD per request, paced online. */
  budgetPerRequest?: number;
  pacingRate?: number;
  epsilon?: number;
  learnFrom?: "feedback" | "reward";
  /** Hashed n-gram feature dimensions. */
  dimensions?: number;
  /** JSONL decision log path (relative paths: to the working directory). */
  decisionLog?: string;
  seed?: number;
}

export interface CacheConfig {
  enabled: boolean;
  backend: "memory" | "redis";
  ttlMs?: number;
  maxSize?: number;
  namespace?: string;
  /** A URL holding credentials, or read from a variable named like a secret, is a `Secret`. */
  redis?: { url?: string | Secret; keyPrefix?: string };
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
  jitter?: boolean;
}

export interface ExecutionConfig {
  maxRetries?: number;
  maxFallbacks?: number;
  timeoutMs?: number;
  backoff?: BackoffConfig;
  /** Model name → the models to try, in order, when it fails. */
  fallbacks?: Record<string, string[]>;
}

/** OpenTelemetry tracing and metrics of every registry call (`@orchestrator-ts/otel`). */
export interface TelemetryConfig {
  enabled: boolean;
  /** Record prompts and answers on spans (the GenAI conventions' opt-in attributes). Default false. */
  captureContent?: boolean;
}

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
  telemetry?: TelemetryConfig;
  /** The file it came from, or `<inline>`. */
  source: string;
}

/** A plugin of any config type (`create` takes the plugin's own config type; methods are bivariant). */
export type AnyProviderPlugin = ProviderPlugin<unknown>;

/** Provider plugins by the name used in `provider:`; an array is keyed by each plugin's `name`. */
export type ProvidersInput = Readonly<Record<string, AnyProviderPlugin>> | readonly AnyProviderPlugin[];

export interface ResolveOptions {
  providers?: ProvidersInput;
  /**
   * Extra folders that hold packages directly (like `NODE_PATH`), searched after the
   * `node_modules` folders above the config file and before those above `cwd`.
   */
  modulePaths?: readonly string[];
  /** Working directory for the last resolution step. Default `process.cwd()`. */
  cwd?: string;
}

export interface ParseOptions extends ResolveOptions {
  /** Variables for `${…}`. Default `process.env`. */
  env?: Env;
  /** Name shown in errors and stored as `config.source`. Default `<inline>`. */
  source?: string;
  /**
   * A variable missing from a model's `config:` block marks that model `unavailable` instead of
   * failing the whole file. Everything else is still an error.
   */
  lenient?: boolean;
  /**
   * The largest config accepted, in bytes (default 256 KiB, `MAX_CONFIG_BYTES`). A larger one is a
   * `ConfigError` before it is parsed (a file is not even read).
   */
  maxBytes?: number;
}
