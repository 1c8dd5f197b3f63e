import {
  BUILD_MODELS,
  type BuildModelsOptions,
  type CacheConfig,
  ConfigError,
  type ConfigIssue,
  type ExecutionConfig,
  type HealthConfig,
  type ModelConfig,
  type ModelEntry,
  type SelectorConfig,
  type TelemetryConfig,
} from "@orchestrator-ts/core";
import { formatPath } from "@orchestrator-ts/core/internal";
import type { z } from "zod";
import type { Env } from "./env";
import { type Locator, fromZodIssues, issueAt, sortIssues, suggest } from "./issues";
import { buildModels } from "./build";
import {
  BUILT_IN_NAMES,
  baseDirOf,
  builtInPackage,
  findPackage,
  isModuleSpecifier,
  providerMap,
  unknownProviderMessage,
} from "./providers";
import {
  SECTIONS,
  SELECTOR_OPTIONS,
  type cacheSchema,
  type executionSchema,
  type telemetrySchema,
  type healthSchema,
  modelSchema,
  type redisSchema,
  type selectorSchema,
} from "./schema";
import { checkRedisConnection, mapRedis, mapRedisConnection } from "./redis-section";
import { compact } from "./compact";
import { parseKeys } from "./keys-section";
import type { ParseOptions } from "./types";
import { type PathKey, type TreeProblem, type YamlTree, readYaml } from "./yaml-tree";
import { validateEntryConfig } from "./validate-config";
import { buildEntry } from "./model-entry";
import { parseRoutes } from "./routes-section";

const TITLE = "Invalid model configuration";

/**
 * The largest config accepted by default (`maxBytes`). A real one is a few kilobytes; 256 KiB holds
 * about a thousand models. The YAML parser needs ~1 KB of memory and tens of microseconds per value,
 * so this also bounds what any file can cost (measured: 1 MiB of `[1,1,…]` took 700 MB and 20 s).
 */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** The problem reported for a config larger than `maxBytes` (`size` when known). */
export function sizeMessage(size: number | undefined, maxBytes: number): string {
  const limit = `${maxBytes.toLocaleString("en-US")} bytes`;
  const what = size === undefined ? `more than ${limit}` : `${size.toLocaleString("en-US")} bytes, more than ${limit}`;
  return `the config is ${what} (the limit, option maxBytes): refused unparsed; a model config is a few kilobytes`;
}

export interface Analysis {
  config: ModelConfig | undefined;
  issues: ConfigIssue[];
}

/**
 * Parse and validate the text of a model config file. Throws one `ConfigError` listing every
 * problem, each with its YAML path and `source:line:column`.
 *
 * With `providers`, each `provider:` must name one of them (or look like a package or file,
 * which `loadModelConfig`/`buildModels` import), and each `config:` block is checked by its
 * plugin's `configSchema`.
 */
export function parseModelConfig(text: string, options: ParseOptions = {}): ModelConfig {
  const { config, issues } = analyzeModelConfig(text, options);
  if (issues.length > 0 || config === undefined) throw new ConfigError(sortIssues(issues), { title: TITLE });
  return config;
}

function makeLocator(tree: YamlTree, source: string): Locator {
  return {
    source,
    position(path, where = "value") {
      let current = where === "parent" ? path.slice(0, -1) : [...path];
      for (;;) {
        const info = tree.positions.get(formatPath(current));
        // A missing key is shown at its parent's own key (`config:`), where the user would add it.
        if (info)
          return (where === "key" && current.length === path.length) || where === "parent"
            ? (info.key ?? info.value)
            : info.value;
        if (current.length === 0) return undefined;
        current = current.slice(0, -1);
      }
    },
  };
}

/** Does `path` lie at or under `parent`? */
function within(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}

/**
 * `registryFromConfig` (in @orchestrator-ts/registry, which may not depend on this package)
 * builds the models through this: a non-enumerable function under `BUILD_MODELS`, a well-known
 * symbol, so it stays out of JSON and inspection and works across duplicated package copies.
 */
function attachBuilder(config: ModelConfig): void {
  Object.defineProperty(config, BUILD_MODELS, {
    value: (options: BuildModelsOptions = {}) => buildModels(config, options),
    enumerable: false,
  });
}

export function analyzeModelConfig(text: string, options: ParseOptions = {}): Analysis {
  const source = options.source ?? "<inline>";
  const env: Env = options.env ?? process.env;
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  // Length first: a string's UTF-8 size is never below its length, and counting bytes walks it.
  if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes)) {
    return {
      config: undefined,
      issues: [{ path: "", message: sizeMessage(Buffer.byteLength(text), maxBytes), source }],
    };
  }
  const tree = readYaml(text, env);
  const locator = makeLocator(tree, source);
  const toIssue = (p: TreeProblem): ConfigIssue => ({
    path: p.path,
    message: p.message,
    source,
    line: p.position.line,
    column: p.position.column,
  });
  if (tree.syntaxError) return { config: undefined, issues: tree.problems.map(toIssue) };

  const issues: ConfigIssue[] = [];
  // Env problems come first; schema issues on the same values would only repeat them.
  let envProblems = tree.problems;
  const modelIndex = (path: string): number | undefined => {
    const m = /^models\[(\d+)\]\.config(\.|\[|$)/.exec(path);
    return m ? Number(m[1]) : undefined;
  };
  const forgiven = new Map<number, string[]>();
  if (options.lenient) {
    envProblems = envProblems.filter((p) => {
      const i = modelIndex(p.path);
      if (i === undefined || !p.missingVariables) return true;
      forgiven.set(i, [...(forgiven.get(i) ?? []), ...p.missingVariables]);
      return false;
    });
  }
  issues.push(...envProblems.map(toIssue));
  const problemPaths = tree.problems.map((p) => p.path);
  const clean = (list: ConfigIssue[]) => list.filter((i) => !problemPaths.some((p) => within(i.path, p)));

  const root = tree.value;
  if (root === null || root === undefined) {
    issues.push({
      path: "",
      message: 'the file is empty: expected a mapping with a "models" list',
      source,
      line: 1,
      column: 1,
    });
    return { config: undefined, issues };
  }
  if (typeof root !== "object" || Array.isArray(root)) {
    issues.push(
      issueAt(
        locator,
        [],
        `expected a mapping with a "models" list at the top of the file, got ${Array.isArray(root) ? "a list" : "a single value"}`,
      ),
    );
    return { config: undefined, issues };
  }
  const raw = root as Record<string, unknown>;
  const sectionNames = Object.keys(SECTIONS);
  for (const key of Object.keys(raw)) {
    // Own keys only: `constructor:` or `__proto__:` at the top are unknown keys, not Object.prototype's.
    if (!Object.hasOwn(SECTIONS, key))
      issues.push(issueAt(locator, [key], `unknown key "${key}"${suggest(key, sectionNames)}`, "key"));
  }

  // ---- models --------------------------------------------------------------------------------
  const models: ModelEntry[] = [];
  const modelsResult = SECTIONS.models.safeParse(raw.models);
  if (!modelsResult.success) {
    issues.push(...clean(fromZodIssues(modelsResult.error.issues, raw.models, SECTIONS.models, ["models"], locator)));
  }
  const items = Array.isArray(raw.models) ? raw.models : [];
  const names = new Map<string, number>();
  const given = providerMap(options.providers);
  const cwd = options.cwd ?? process.cwd();
  const baseDir = baseDirOf(source, cwd);
  items.forEach((item, i) => {
    const result = modelSchema.safeParse(item);
    const itemRecord = item && typeof item === "object" ? (item as Record<string, unknown>) : undefined;
    const name = itemRecord?.name;
    if (typeof name === "string" && name !== "") {
      const first = names.get(name);
      if (first === undefined) names.set(name, i);
      else {
        const at = locator.position(["models", first, "name"]);
        issues.push(
          issueAt(
            locator,
            ["models", i, "name"],
            `duplicate model name "${name}" (first defined at ${source}:${at?.line}:${at?.column}, models[${first}])`,
          ),
        );
      }
    }
    const provider = itemRecord?.provider;
    const plugin = typeof provider === "string" ? given.get(provider) : undefined;
    if (
      options.providers &&
      typeof provider === "string" &&
      provider !== "" &&
      !plugin &&
      !builtInPackage(provider) &&
      !isModuleSpecifier(provider) &&
      !findPackage(provider, baseDir, options)
    ) {
      issues.push(
        issueAt(
          locator,
          ["models", i, "provider"],
          unknownProviderMessage(provider, [...new Set([...given.keys(), ...BUILT_IN_NAMES])]),
        ),
      );
    }
    if (!result.success) {
      issues.push(...clean(fromZodIssues(result.error.issues, item, modelSchema, ["models", i], locator)));
      return;
    }
    const built = buildEntry(result.data, itemRecord ?? {}, i, tree, locator, plugin, forgiven.get(i));
    issues.push(...built.issues);
    if (built.entry) {
      models.push(built.entry);
      if (plugin && !built.entry.unavailable) issues.push(...clean(validateEntryConfig(plugin, built.entry, i).issues));
    }
  });

  // ---- other sections ------------------------------------------------------------------------
  const modelNames = [...names.keys()];
  const checkModelName = (value: string, path: PathKey[], where: "key" | "value") => {
    if (!names.has(value))
      issues.push(issueAt(locator, path, `unknown model "${value}"${suggest(value, modelNames)}`, where));
  };
  const section = <S extends z.ZodType>(key: keyof typeof SECTIONS, schema: S): z.output<S> | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    issues.push(...clean(fromZodIssues(result.error.issues, value, schema, [key], locator)));
    return undefined;
  };
  const selectorRaw = section("selector", SECTIONS.selector) as z.output<typeof selectorSchema> | undefined;
  const cacheRaw = section("cache", SECTIONS.cache) as z.output<typeof cacheSchema> | undefined;
  const healthRaw = section("health", SECTIONS.health) as z.output<typeof healthSchema> | undefined;
  const executionRaw = section("execution", SECTIONS.execution) as z.output<typeof executionSchema> | undefined;
  const redisRaw = section("redis", SECTIONS.redis) as z.output<typeof redisSchema> | undefined;
  const telemetryRaw = section("telemetry", SECTIONS.telemetry) as z.output<typeof telemetrySchema> | undefined;

  /** A `selector:` mapping (the top-level one or a route's) in its TypeScript spelling; options of another type are reported at `at`. */
  const selectorOf = (parsed: z.output<typeof selectorSchema>, written: object, at: PathKey[]): SelectorConfig => {
    for (const key of Object.keys(written)) {
      const types = Object.hasOwn(SELECTOR_OPTIONS, key) ? SELECTOR_OPTIONS[key] : undefined;
      if (types && !types.includes(parsed.type)) {
        issues.push(
          issueAt(
            locator,
            [...at, key],
            `"${key}" is an option of the ${types.map((t) => `"${t}"`).join(" and ")} selector, not of "${parsed.type}"`,
            "key",
          ),
        );
      }
    }
    for (const model of Object.keys(parsed.weights ?? {})) checkModelName(model, [...at, "weights", model], "key");
    return compact({
      type: parsed.type,
      explorationFactor: parsed.exploration_factor,
      minTrials: parsed.min_trials,
      discount: parsed.discount,
      window: parsed.window,
      maxCostPerRequest: parsed.max_cost_per_request,
      preferLocalModels: parsed.prefer_local_models,
      minTokensPerSecond: parsed.min_tokens_per_second,
      maxResponseTimeMs: parsed.max_response_time,
      preferStreaming: parsed.prefer_streaming,
      weights: parsed.weights,
      exploration: parsed.exploration,
      alpha: parsed.alpha,
      ridge: parsed.ridge,
      lambda: parsed.lambda,
      budgetPerRequest: parsed.budget_per_request,
      pacingRate: parsed.pacing_rate,
      epsilon: parsed.epsilon,
      learnFrom: parsed.learn_from,
      dimensions: parsed.dimensions,
      decisionLog: parsed.decision_log,
      seed: parsed.seed,
    });
  };
  const selector: SelectorConfig | undefined = selectorRaw
    ? selectorOf(selectorRaw, raw.selector as object, ["selector"])
    : undefined;

  let cache: CacheConfig | undefined;
  if (cacheRaw) {
    if (cacheRaw.redis && cacheRaw.backend !== "redis") {
      issues.push(
        issueAt(
          locator,
          ["cache", "redis"],
          `redis settings are given but backend is "${cacheRaw.backend}" (set backend: redis)`,
          "key",
        ),
      );
    }
    let redis: CacheConfig["redis"];
    if (cacheRaw.redis) {
      issues.push(...checkRedisConnection(cacheRaw.redis, ["cache", "redis"], locator));
      redis = mapRedisConnection(cacheRaw.redis, ["cache", "redis"], tree);
    }
    cache = compact({
      enabled: cacheRaw.enabled,
      backend: cacheRaw.backend,
      ttlMs: cacheRaw.ttl,
      maxSize: cacheRaw.max_size,
      namespace: cacheRaw.namespace,
      redis,
    });
  }

  const health: HealthConfig | undefined = healthRaw
    ? compact({
        enabled: healthRaw.enabled,
        checkIntervalMs: healthRaw.check_interval,
        failureThreshold: healthRaw.failure_threshold,
        recoveryThreshold: healthRaw.recovery_threshold,
        timeoutMs: healthRaw.timeout,
        concurrency: healthRaw.concurrency,
      })
    : undefined;

  let execution: ExecutionConfig | undefined;
  if (executionRaw) {
    const backoff = executionRaw.backoff;
    if (backoff?.initial !== undefined && backoff.max !== undefined && backoff.initial > backoff.max) {
      issues.push(
        issueAt(
          locator,
          ["execution", "backoff", "initial"],
          `initial backoff (${backoff.initial} ms) is longer than max (${backoff.max} ms)`,
        ),
      );
    }
    for (const [model, chain] of Object.entries(executionRaw.fallbacks ?? {})) {
      checkModelName(model, ["execution", "fallbacks", model], "key");
      chain.forEach((fallback, j) => {
        checkModelName(fallback, ["execution", "fallbacks", model, j], "value");
        if (fallback === model)
          issues.push(
            issueAt(locator, ["execution", "fallbacks", model, j], `model "${model}" cannot be its own fallback`),
          );
      });
    }
    execution = compact({
      maxRetries: executionRaw.max_retries,
      maxFallbacks: executionRaw.max_fallbacks,
      timeoutMs: executionRaw.timeout,
      backoff: backoff
        ? compact({
            initialMs: backoff.initial,
            maxMs: backoff.max,
            multiplier: backoff.multiplier,
            jitter: backoff.jitter,
          })
        : undefined,
      fallbacks: executionRaw.fallbacks,
    });
  }

  let redis: ModelConfig["redis"];
  if (redisRaw) {
    issues.push(...checkRedisConnection(redisRaw, ["redis"], locator));
    redis = mapRedis(redisRaw, tree);
  }

  const routes = parseRoutes(raw.routes, issues, locator, names, clean, selectorOf, checkModelName);

  const keys = parseKeys(raw.keys, issues, locator, clean, [
    ...names.keys(),
    ...(routes ?? []).map((r) => r.name),
    "auto",
  ]);

  const telemetry: TelemetryConfig | undefined = telemetryRaw
    ? compact({ enabled: telemetryRaw.enabled, captureContent: telemetryRaw.capture_content })
    : undefined;

  if (issues.length > 0) return { config: undefined, issues: dedupe(issues) };
  const config = compact({
    models,
    routes,
    selector,
    cache,
    health,
    execution,
    redis,
    telemetry,
    keys,
    source,
    ...(options.lenient ? { lenient: true } : {}),
  }) as ModelConfig;
  attachBuilder(config);
  return { config, issues: [] };
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.column}:${i.path}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
