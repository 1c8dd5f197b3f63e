import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ModelCache } from "@orchestrator-ts/cache";
import {
  ConfigError,
  type GenerateRequest,
  type ModelConfig,
  type ProviderPlugin,
  type ProvidersInput,
  type SelectionRequirements,
  type SkippedModel,
} from "@orchestrator-ts/core";
import { loadModelConfig, parseModelConfig } from "@orchestrator-ts/config";
import { ModelHealthMonitor } from "@orchestrator-ts/health";
import {
  type ModelRegistry,
  type ModelRegistryOptions,
  type RegistryResult,
  type RegistryStream,
  registryFromConfig,
} from "@orchestrator-ts/registry";
import { EMBEDDED_CONFIG, defaultModelDir, prepareLocalModels } from "./default-config";
import type { OllamaPullProgress } from "@orchestrator-ts/provider-ollama";
import { builtinProviders, builtinProvidersWith } from "./providers";
import { publishDecisions } from "./decision-feed";
import { redisConnectionOptions, redisKeyPrefix, sharedState } from "./shared-state";

export interface CreateOrchestratorOptions {
  /**
   * A parsed config, a YAML file's path, or nothing: then `./models.yaml` when it exists, else
   * the embedded default (local models, no keys).
   */
  config?: ModelConfig | string;
  /** Variables for `${…}` (default `process.env`). */
  env?: Record<string, string | undefined>;
  /**
   * A model whose key variable is missing is left out and reported in `skipped` (default true).
   * `false` makes it an error, as `orchestrator validate` does.
   */
  lenient?: boolean;
  /** More providers, or replacements for the built-in ones. */
  providers?: Record<string, ProviderPlugin<unknown>>;
  /** Start the health monitor's periodic checks (default true; its timers never keep a process alive). */
  startHealthMonitor?: boolean;
  /** Anything else for the registry; wins over the file. */
  registry?: Partial<ModelRegistryOptions>;
  /** Called while local model files are written for the embedded default. */
  onPrepare?: (done: number, total: number, name: string) => void;
  /** Called while an Ollama model is pulled (on its first use). */
  onPullProgress?: (model: string, progress: OllamaPullProgress) => void;
  /**
   * OpenTelemetry (`@orchestrator-ts/otel`, which needs `@opentelemetry/api` installed): on when the
   * file's `telemetry:` section is enabled or this is given; `false` turns it off whatever the file
   * says. Providers default to the global ones.
   */
  telemetry?: false | OrchestratorTelemetryOptions;
  /**
   * Publish a record of each call to the Redis stream `orchestrator dashboard` shows (default true
   * when the config's `redis:` section has `decisions` on). `false` opens no connection for it.
   */
  publishDecisions?: boolean;
}

/** Options of `instrument` (`@orchestrator-ts/otel`), typed loosely so this package's types never need `@opentelemetry/api`. */
export interface OrchestratorTelemetryOptions {
  /** An OpenTelemetry `TracerProvider`. */
  tracerProvider?: unknown;
  /** An OpenTelemetry `MeterProvider`. */
  meterProvider?: unknown;
  /** Record prompts and answers on spans; wins over the file's `capture_content`. */
  captureContent?: boolean;
}

export interface Orchestrator {
  registry: ModelRegistry;
  config: ModelConfig;
  /** Where the config came from: a path, or "embedded default". */
  configSource: string;
  cache: ModelCache | undefined;
  healthMonitor: ModelHealthMonitor | undefined;
  /** Models of the file that were left out, and why ("OPENAI_API_KEY is not set"). */
  skipped: SkippedModel[];
  generate(request: GenerateRequest, requirements?: SelectionRequirements): Promise<RegistryResult>;
  stream(request: GenerateRequest, requirements?: SelectionRequirements): RegistryStream;
  /**
   * What keeps it from serving now beyond the models' health: "Redis is unreachable: …" when the
   * config shares state through Redis and Redis does not answer. Empty when ready.
   */
  readiness(): Promise<string[]>;
  /** Stop the monitor, release every model, close the cache. */
  close(): Promise<void>;
}

/** Which config `createOrchestrator` and the CLI use when none is named. */
export function resolveConfigPath(config: string | undefined, cwd = process.cwd()): string | undefined {
  if (config) return resolve(cwd, config);
  const local = resolve(cwd, "models.yaml");
  return existsSync(local) ? local : undefined;
}

/** Parse the config `createOrchestrator` would use (without building models). */
export async function loadConfig(
  options: Pick<CreateOrchestratorOptions, "config" | "env" | "lenient" | "providers" | "onPrepare"> = {},
): Promise<{ config: ModelConfig; source: string }> {
  const providers: ProvidersInput = { ...builtinProviders, ...(options.providers ?? {}) };
  const lenient = options.lenient ?? true;
  if (options.config && typeof options.config === "object")
    return { config: options.config, source: options.config.source };
  const path = resolveConfigPath(options.config);
  if (path)
    return {
      config: await loadModelConfig(path, { env: options.env ?? process.env, providers, lenient }),
      source: path,
    };
  const env = options.env ?? process.env;
  const dir = defaultModelDir(env);
  await prepareLocalModels(dir, options.onPrepare);
  const config = parseModelConfig(EMBEDDED_CONFIG, {
    env: { ...env, ORCHESTRATOR_MODEL_DIR: dir },
    source: "embedded default",
    providers,
    lenient,
  });
  return { config, source: "embedded default" };
}

/**
 * Registry, selector, cache and health monitor from one config, in one call: the
 * batteries-included way in.
 */
export async function createOrchestrator(options: CreateOrchestratorOptions = {}): Promise<Orchestrator> {
  const { config, source } = await loadConfig(options);
  const providers = {
    ...builtinProvidersWith(options.onPullProgress ? { onPullProgress: options.onPullProgress } : {}),
    ...(options.providers ?? {}),
  };

  const cacheConfig = config.cache;
  // The cache's own Redis connection, else the top-level redis: section's.
  const cacheRedis = cacheConfig?.redis ?? config.redis;
  const cache =
    cacheConfig && cacheConfig.enabled !== false
      ? new ModelCache({
          backend: cacheConfig.backend,
          ...(cacheConfig.ttlMs === undefined ? {} : { ttlMs: cacheConfig.ttlMs }),
          ...(cacheConfig.maxSize === undefined ? {} : { maxSize: cacheConfig.maxSize }),
          ...(cacheConfig.namespace === undefined ? {} : { namespace: cacheConfig.namespace }),
          ...(cacheConfig.backend === "redis" && cacheRedis
            ? {
                redis: {
                  ...redisConnectionOptions(cacheRedis),
                  keyPrefix: cacheConfig.redis?.keyPrefix ?? `${redisKeyPrefix(config.redis)}cache:`,
                },
              }
            : {}),
        })
      : undefined;
  const healthConfig = config.health;
  // Statistics, health state and limits shared through Redis when the config has a redis: section.
  const shared = sharedState(config.redis, {
    health: healthConfig?.enabled !== false,
    decisions: options.publishDecisions !== false,
  });
  const healthMonitor =
    healthConfig?.enabled === false
      ? undefined
      : new ModelHealthMonitor({
          ...(shared.healthStore ? { stateStore: shared.healthStore } : {}),
          ...(healthConfig?.checkIntervalMs === undefined ? {} : { checkIntervalMs: healthConfig.checkIntervalMs }),
          ...(healthConfig?.failureThreshold === undefined ? {} : { failureThreshold: healthConfig.failureThreshold }),
          ...(healthConfig?.recoveryThreshold === undefined
            ? {}
            : { recoveryThreshold: healthConfig.recoveryThreshold }),
          ...(healthConfig?.timeoutMs === undefined ? {} : { timeoutMs: healthConfig.timeoutMs }),
          ...(healthConfig?.concurrency === undefined ? {} : { concurrency: healthConfig.concurrency }),
        });

  let registry: ModelRegistry;
  try {
    registry = await registryFromConfig(config, {
      providers,
      ...(cache ? { cache } : {}),
      ...(healthMonitor ? { healthMonitor } : {}),
      ...(shared.statsStore ? { statsStore: shared.statsStore } : {}),
      ...(options.registry ?? {}),
    });
  } catch (error) {
    // Connections opened for a registry that was not built must not keep the process alive.
    await Promise.all([shared.close(), cache?.close()]);
    throw error;
  }
  shared.shareLimits(registry.listModels());
  const unpublish = shared.decisions ? publishDecisions(registry, shared.decisions) : undefined;
  let uninstrument: (() => void) | undefined;
  try {
    uninstrument = await instrumentFromConfig(registry, config, options.telemetry);
  } catch (error) {
    await registry.cleanup();
    await Promise.all([shared.close(), cache?.close()]);
    throw error;
  }
  if (healthMonitor && (options.startHealthMonitor ?? true)) healthMonitor.start();

  let closed: Promise<void> | undefined;
  return {
    registry,
    config,
    configSource: source,
    cache,
    healthMonitor,
    skipped: [...registry.skippedModels],
    generate: (request, requirements) => registry.generate(request, requirements),
    stream: (request, requirements) => registry.stream(request, requirements),
    readiness: () => shared.readiness(),
    close() {
      closed ??= (async () => {
        healthMonitor?.stop();
        uninstrument?.();
        unpublish?.();
        await registry.cleanup();
        await cache?.close();
        await shared.close();
      })();
      return closed;
    },
  };
}

/**
 * Tracing only when asked: `@orchestrator-ts/otel` (and `@opentelemetry/api`, its optional peer) is
 * imported then and only then, so an application without telemetry never needs OpenTelemetry.
 */
async function instrumentFromConfig(
  registry: ModelRegistry,
  config: ModelConfig,
  telemetry: CreateOrchestratorOptions["telemetry"],
): Promise<(() => void) | undefined> {
  if (telemetry === false) return undefined;
  const fromFile = config.telemetry;
  if (telemetry === undefined && fromFile?.enabled !== true) return undefined;
  let otel: typeof import("@orchestrator-ts/otel");
  try {
    // The CommonJS build requires it (an import() there fails under Jest's CommonJS runtime).
    otel =
      typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
        ? (require("@orchestrator-ts/otel") as typeof import("@orchestrator-ts/otel"))
        : await import("@orchestrator-ts/otel");
  } catch (error) {
    throw new ConfigError(
      [
        {
          path: "telemetry",
          message: `telemetry is enabled but OpenTelemetry could not be loaded (${(error as Error)?.message ?? String(error)}); install it with \`npm install @opentelemetry/api\` and register an SDK`,
        },
      ],
      { title: "Telemetry unavailable" },
    );
  }
  const options = telemetry ?? {};
  return otel.instrument(registry, {
    ...(options.tracerProvider ? { tracerProvider: options.tracerProvider as never } : {}),
    ...(options.meterProvider ? { meterProvider: options.meterProvider as never } : {}),
    captureContent: options.captureContent ?? fromFile?.captureContent === true,
  });
}
