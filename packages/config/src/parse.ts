import {
  type AnyProviderPlugin,
  BUILD_MODELS,
  CAPABILITY_NAMES,
  type CapabilityName,
  type CascadeRouteConfig,
  type CascadeSettingsConfig,
  type RouteConfig,
  type SelectionRequirements,
  type SelectorRouteConfig,
  type BuildModelsOptions,
  type CacheConfig,
  ConfigError,
  type ConfigIssue,
  type ExecutionConfig,
  type HealthConfig,
  ModelCapabilities,
  type ModelConfig,
  ModelConstraints,
  type ModelEntry,
  type SelectorConfig,
  type TelemetryConfig,
  formatPath,
} from "@orchestrator-ts/core";
import type { z } from "zod";
import type { Env } from "./env";
import { SECRET_ENV_NAME } from "./env";
import { type Locator, fromZodIssues, issueAt, sortIssues, suggest } from "./issues";
import { setEntryMeta } from "./meta";
import { camelToSnake, configKeyToCamel } from "./names";
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
  CAPABILITY_FIELDS,
  CONSTRAINT_FIELDS,
  ROUTE_TYPES,
  SECTIONS,
  SELECTOR_OPTIONS,
  cascadeRouteSchema,
  type cascadeTaskSchema,
  describe,
  selectorRouteSchema,
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
import { wrapSecrets } from "./secrets";
import type { ParseOptions } from "./types";
import { type PathKey, type TreeProblem, type YamlTree, readYaml, setOwn } from "./yaml-tree";
import { validateEntryConfig } from "./validate-config";

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
  }) as ModelConfig;
  attachBuilder(config);
  return { config, issues: [] };
}

const ROUTE_SCHEMAS = { cascade: cascadeRouteSchema, selector: selectorRouteSchema } as const;

/** `routes:`: each entry checked on its own (every entry's problems reported), model names checked against `models:`. */
function parseRoutes(
  value: unknown,
  issues: ConfigIssue[],
  locator: Locator,
  modelNames: ReadonlyMap<string, number>,
  clean: (list: ConfigIssue[]) => ConfigIssue[],
  selectorOf: (parsed: z.output<typeof selectorSchema>, written: object, at: PathKey[]) => SelectorConfig,
  checkModelName: (value: string, path: PathKey[], where: "key" | "value") => void,
): RouteConfig[] | undefined {
  if (value === undefined || value === null) return undefined;
  const listed = SECTIONS.routes.safeParse(value);
  if (!listed.success || !Array.isArray(value)) {
    issues.push(
      ...clean(fromZodIssues(listed.success ? [] : listed.error.issues, value, SECTIONS.routes, ["routes"], locator)),
    );
    if (!Array.isArray(value)) return undefined;
  }
  const routes: RouteConfig[] = [];
  const seen = new Map<string, number>();
  value.forEach((item: unknown, i: number) => {
    const at: PathKey[] = ["routes", i];
    const record =
      item && typeof item === "object" && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined;
    const name = record?.name;
    if (typeof name === "string" && name !== "") {
      const first = seen.get(name);
      if (first !== undefined) {
        const pos = locator.position(["routes", first, "name"]);
        issues.push(
          issueAt(
            locator,
            [...at, "name"],
            `duplicate route name "${name}" (first defined at ${locator.source}:${pos?.line}:${pos?.column}, routes[${first}])`,
          ),
        );
      } else seen.set(name, i);
      if (modelNames.has(name))
        issues.push(
          issueAt(
            locator,
            [...at, "name"],
            `"${name}" is also a model's name: a request for it could not tell the two apart`,
          ),
        );
      if (name === "auto")
        issues.push(issueAt(locator, [...at, "name"], `"auto" is reserved: it means the selector over every model`));
    }
    const type = record?.type;
    if (!record || typeof type !== "string" || !Object.hasOwn(ROUTE_SCHEMAS, type)) {
      const message = !record
        ? "expected a mapping with name, type and the route's settings"
        : `type must be one of ${ROUTE_TYPES.map((t) => `"${t}"`).join(", ")}, got ${describe(type)}${typeof type === "string" ? suggest(type, ROUTE_TYPES) : ""}`;
      issues.push(issueAt(locator, record && type !== undefined ? [...at, "type"] : at, message));
      return;
    }
    // Model names are checked as written, so a typo is reported even when another field is wrong too.
    const checkStages = (stages: unknown, path: PathKey[]) => {
      if (!Array.isArray(stages)) return;
      stages.forEach((stage, j) => {
        const models = stage && typeof stage === "object" ? (stage as { models?: unknown }).models : undefined;
        if (!Array.isArray(models)) return;
        models.forEach((m, k) => {
          if (typeof m === "string" && m !== "") checkModelName(m, [...path, "stages", j, "models", k], "value");
        });
      });
    };
    checkStages(record.stages, at);
    if (record.tasks && typeof record.tasks === "object")
      for (const [task, t] of Object.entries(record.tasks))
        checkStages((t as { stages?: unknown } | null)?.stages, [...at, "tasks", task]);
    const here = locator.position(at) ?? { line: 1, column: 1 };
    const location = { source: locator.source, line: here.line, column: here.column };
    if (type === "selector") {
      const parsed = selectorRouteSchema.safeParse(item);
      if (!parsed.success) {
        issues.push(...clean(fromZodIssues(parsed.error.issues, item, selectorRouteSchema, at, locator)));
        return;
      }
      const d = parsed.data;
      const req = d.requirements;
      let requirements: SelectionRequirements | undefined;
      if (req) {
        (req.capabilities ?? []).forEach((c, j) => {
          const camel = configKeyToCamel(c);
          if (!CAPABILITY_NAMES.includes(camel as CapabilityName))
            issues.push(
              issueAt(
                locator,
                [...at, "requirements", "capabilities", j],
                `unknown capability "${c}"${suggest(c, CAPABILITY_NAMES.map(camelToSnake))}`,
              ),
            );
        });
        requirements = compact({
          capabilities: req.capabilities?.map((c) => configKeyToCamel(c) as CapabilityName),
          maxCost: req.max_cost,
          minSpeed: req.min_speed,
          minContextWindow: req.min_context_window,
          tasks: req.tasks,
          languages: req.languages,
          providers: req.providers,
          excludeProviders: req.exclude_providers,
          maxLatencyMs: req.max_latency,
          localOnly: req.local_only,
        });
      }
      const route: SelectorRouteConfig = compact({
        type: "selector" as const,
        name: d.name,
        requirements,
        selector: d.selector ? selectorOf(d.selector, record.selector as object, [...at, "selector"]) : undefined,
        location,
      });
      routes.push(route);
      return;
    }
    const parsed = cascadeRouteSchema.safeParse(item);
    if (!parsed.success) {
      issues.push(...clean(fromZodIssues(parsed.error.issues, item, cascadeRouteSchema, at, locator)));
      return;
    }
    const d = parsed.data;
    const settingsOf = (s: z.output<typeof cascadeTaskSchema>): CascadeSettingsConfig => {
      return compact({
        stages: s.stages?.map((st) => compact({ models: st.models, parallel: st.parallel })),
        extract: s.extract,
        accept:
          s.accept === undefined
            ? undefined
            : s.accept === "unanimous"
              ? ("unanimous" as const)
              : { atLeast: s.accept.at_least },
        prefer: s.prefer,
        budgetPerRequest: s.budget_per_request,
        pacingRate: s.pacing_rate,
      });
    };
    const own = settingsOf(d);
    let tasks: Record<string, CascadeSettingsConfig> | undefined;
    if (d.tasks) {
      tasks = {};
      for (const [task, settings] of Object.entries(d.tasks)) setOwn(tasks, task, settingsOf(settings));
    }
    routes.push(
      compact({
        ...own,
        type: "cascade" as const,
        name: d.name,
        stages: own.stages ?? [],
        extract: d.extract,
        tasks,
        location,
      }) as CascadeRouteConfig,
    );
  });
  return routes;
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

function buildEntry(
  data: z.output<typeof modelSchema>,
  raw: Record<string, unknown>,
  index: number,
  tree: YamlTree,
  locator: Locator,
  plugin: AnyProviderPlugin | undefined,
  missing: string[] | undefined,
): { entry?: ModelEntry; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const prefix: PathKey[] = ["models", index];
  const here = locator.position(prefix) ?? { line: 1, column: 1 };

  // config: secrets wrapped while keys are still as written (env provenance is keyed by YAML path).
  const envSecret = (path: readonly PathKey[]) =>
    (tree.envVariables.get(formatPath([...prefix, "config", ...path])) ?? []).some((v) => SECRET_ENV_NAME.test(v));
  const wrapped = wrapSecrets(data.config ?? {}, plugin?.secretKeys ?? [], envSecret) as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  const yamlKeys = new Map<string, string>();
  for (const [key, value] of Object.entries(wrapped)) {
    if (value === undefined) continue; // a variable lenient mode forgave
    const camel = configKeyToCamel(key);
    const earlier = yamlKeys.get(camel);
    if (earlier !== undefined) {
      issues.push(
        issueAt(
          locator,
          [...prefix, "config", key],
          `"${key}" and "${earlier}" are the same setting (${camel}); keep one`,
          "key",
        ),
      );
      continue;
    }
    yamlKeys.set(camel, key);
    setOwn(config, camel, value);
  }

  // capabilities: the seed's `constraints.cost_per_token` prices both directions unless the
  // capabilities give their own input/output prices.
  const capsRaw = (raw.capabilities ?? {}) as Record<string, unknown>;
  const capsInput: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data.capabilities ?? {})) {
    if (Object.hasOwn(capsRaw, key)) capsInput[CAPABILITY_FIELDS.get(key) ?? key] = value;
  }
  const costPerToken = data.constraints?.cost_per_token;
  if (costPerToken !== undefined) {
    if (!Object.hasOwn(capsRaw, "input_cost_per_token")) capsInput.inputCostPerToken = costPerToken;
    if (!Object.hasOwn(capsRaw, "output_cost_per_token")) capsInput.outputCostPerToken = costPerToken;
  }
  const consRaw = (raw.constraints ?? {}) as Record<string, unknown>;
  const consInput: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data.constraints ?? {})) {
    if (key !== "cost_per_token" && Object.hasOwn(consRaw, key) && value !== undefined)
      consInput[CONSTRAINT_FIELDS.get(key) ?? key] = value;
  }
  let capabilities: ModelCapabilities;
  let constraints: ModelConstraints;
  try {
    capabilities = new ModelCapabilities(capsInput);
    constraints = new ModelConstraints(consInput);
  } catch (error) {
    // Validated above; a core rule the derived schema does not carry would still land here.
    const issue = ConfigError.isInstance(error) ? error.issues.map((i) => i.message).join("; ") : String(error);
    issues.push(issueAt(locator, prefix, issue));
    return { issues };
  }

  const entry: ModelEntry = {
    name: data.name,
    provider: data.provider,
    config,
    capabilities,
    constraints,
    capabilitiesDeclared: data.capabilities !== undefined && data.capabilities !== null,
    location: { source: locator.source, line: here.line, column: here.column },
  };
  if (missing && missing.length > 0) {
    const unique = [...new Set(missing)];
    const list = unique.length === 1 ? unique[0] : `${unique.slice(0, -1).join(", ")} and ${unique[unique.length - 1]}`;
    entry.unavailable = `${list} ${unique.length === 1 ? "is" : "are"} not set`;
  }
  setEntryMeta(entry, { index, locator, yamlKeys });
  return { entry, issues };
}
