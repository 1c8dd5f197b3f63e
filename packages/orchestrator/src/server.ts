// The gateway, batteries included: `createServer({ config })` builds the orchestrator from a YAML
// file (as createOrchestrator does) and serves it; close() closes what it built.
import { Secret } from "@orchestrator-ts/core";
import type { ModelConfig, SkippedModel } from "@orchestrator-ts/core";
import { RedisKeyStore } from "@orchestrator-ts/redis";
import type { ModelRegistry } from "@orchestrator-ts/registry";
import {
  type AdmissionRequest,
  type CreateServerOptions as GatewayServerOptions,
  type DashboardOptions,
  KeyGate,
  type MetricsOptions,
  type OrchestratorServer,
  type ServedOrchestrator,
  reachableModels,
  createAdminHandler,
  createDashboard,
  createServer as createGatewayServer,
  createMetrics,
} from "@orchestrator-ts/server";
import { type CreateOrchestratorOptions, createOrchestrator, loadConfig } from "./orchestrator";
import { redisConnectionOptions, redisKeyPrefix } from "./shared-state";

/** The gateway's own options (`@orchestrator-ts/server`'s, but the orchestrator), the master key and metrics. */
type GatewayOptions = Omit<GatewayServerOptions, "orchestrator" | "ownsOrchestrator"> & {
  /**
   * Prometheus metrics on `GET /metrics` (`createMetrics` of `@orchestrator-ts/server`): on by
   * default; `false` turns them off; an object passes options (`path`, `processMetrics`…).
   */
  metrics?: boolean | Omit<MetricsOptions, "registry">;
  /**
   * The admin key (the admin API, `orchestrator keys`). Default `ORCHESTRATOR_MASTER_KEY`. With a
   * master key or `keys:` in the config, every request needs a key (unless `gatekeeper` is given).
   */
  masterKey?: string | Secret;
  /**
   * The dashboard at `/ui` (`createDashboard` of `@orchestrator-ts/server`), opened with the master
   * key: on when there is a master key; `false` turns it off; an object passes options (`path`…).
   */
  dashboard?: boolean | Omit<DashboardOptions, "registry" | "masterKey" | "spend">;
};

/**
 * The options of `createServer`: the gateway's (`@orchestrator-ts/server`), plus either an
 * `orchestrator` you built or what `createOrchestrator` takes to build one (`config`, `env`…), and
 * `redis` to share state through a Redis of your choice.
 */
export type CreateServerOptions = GatewayOptions &
  (
    | {
        /** An orchestrator you built (and close yourself). */
        orchestrator: ServedOrchestrator;
      }
    | (Omit<CreateOrchestratorOptions, "config"> & {
        /** A YAML file's path or a parsed config (default: ./models.yaml, else the embedded default). */
        config?: ModelConfig | string;
        /** A Redis URL that replaces the config's `redis:` connection (or adds one): state shared by every process on it. */
        redis?: string;
      })
  );

/**
 * The config with `redis` as its Redis connection: the URL replaces the section's connection
 * (url, cluster or sentinels), its switches (statistics, health, limits, key prefix) stay.
 */
export function withRedisUrl(config: ModelConfig, redis: string): ModelConfig {
  const { url: _url, cluster: _cluster, sentinels: _sentinels, name: _name, ...rest } = config.redis ?? {};
  // Mutated in place: the parsed config carries a non-enumerable builder a copy would lose.
  config.redis = { ...rest, url: redis.includes("@") ? new Secret(redis) : redis };
  return config;
}

/** The gateway, and the models its config left out (their key variable is not set, their provider's package is not installed). */
export interface ConfiguredServer extends OrchestratorServer {
  readonly skipped: readonly SkippedModel[];
}

/**
 * The OpenAI-compatible gateway (`@orchestrator-ts/server`) over an orchestrator: the one you
 * pass, or one built from `config` with `createOrchestrator` (closed by the server's `close()`).
 * Call `listen()` on the result.
 */
export async function createServer(options: CreateServerOptions = {}): Promise<ConfiguredServer> {
  if ("orchestrator" in options && options.orchestrator) {
    const { orchestrator, metrics, masterKey, dashboard, ...rest } = options;
    const skipped = (orchestrator as { skipped?: readonly SkippedModel[] }).skipped ?? [];
    const server = withDashboard(
      { ...rest, ...keyAccess(orchestrator.registry, orchestrator.config, masterKey, process.env, rest) },
      orchestrator,
      masterKey ?? process.env.ORCHESTRATOR_MASTER_KEY,
      dashboard,
      (gateway) => withMetrics(gateway, orchestrator, false, metrics),
    );
    return Object.assign(server, { skipped });
  }
  const {
    config,
    redis,
    env,
    lenient,
    providers,
    startHealthMonitor,
    registry,
    onPrepare,
    onPullProgress,
    telemetry,
    metrics,
    masterKey,
    dashboard,
    ...gateway
  } = options as Exclude<CreateServerOptions, { orchestrator: ServedOrchestrator }>;
  const orchestratorOptions: CreateOrchestratorOptions = {
    env,
    lenient,
    providers,
    startHealthMonitor,
    registry,
    onPrepare,
    onPullProgress,
    telemetry,
  };
  for (const key of Object.keys(orchestratorOptions) as (keyof CreateOrchestratorOptions)[])
    if (orchestratorOptions[key] === undefined) delete orchestratorOptions[key];
  let resolved = config;
  if (redis !== undefined) {
    const loaded = await loadConfig({ ...orchestratorOptions, ...(config === undefined ? {} : { config }) });
    resolved = withRedisUrl(loaded.config, redis);
  }
  const orchestrator = await createOrchestrator({
    ...orchestratorOptions,
    ...(resolved === undefined ? {} : { config: resolved }),
  });
  try {
    const server = withDashboard(
      { ...gateway, ...keyAccess(orchestrator.registry, orchestrator.config, masterKey, env ?? process.env, gateway) },
      orchestrator,
      masterKey ?? (env ?? process.env).ORCHESTRATOR_MASTER_KEY,
      dashboard,
      (options) => withMetrics(options, orchestrator, true, metrics),
    );
    return Object.assign(server, { skipped: orchestrator.skipped });
  } catch (error) {
    await orchestrator.close();
    throw error;
  }
}

/**
 * The gateway with the dashboard's observer and `/ui` routes when there is a master key to open it
 * with; close() ends its live streams first, so browsers see a clean end rather than a cut.
 */
function withDashboard(
  gateway: Omit<GatewayOptions, "metrics" | "dashboard" | "masterKey">,
  orchestrator: ServedOrchestrator,
  masterKey: string | Secret | undefined,
  option: GatewayOptions["dashboard"],
  build: (gateway: Omit<GatewayOptions, "metrics" | "dashboard" | "masterKey">) => OrchestratorServer,
): OrchestratorServer {
  const master = Secret.from(masterKey);
  if (option === false || !master) return build(gateway);
  const dashboard = createDashboard({
    ...(typeof option === "object" ? option : {}),
    registry: orchestrator.registry,
    masterKey: master,
    ...(gateway.gatekeeper instanceof KeyGate ? { spend: gateway.gatekeeper } : {}),
  });
  const server = build({
    ...gateway,
    observers: [...(gateway.observers ?? []), dashboard],
    extraRoutes: [...(gateway.extraRoutes ?? []), ...dashboard.routes],
  });
  const close = server.close.bind(server);
  server.close = async () => {
    dashboard.close();
    await close();
  };
  return server;
}

/** The gateway with its metrics observer and `GET /metrics` route; close() also stops the metrics' registry listeners. */
function withMetrics(
  gateway: Omit<GatewayOptions, "metrics" | "dashboard" | "masterKey">,
  orchestrator: ServedOrchestrator,
  owns: boolean,
  option: GatewayOptions["metrics"],
): OrchestratorServer {
  const metrics =
    option === false
      ? undefined
      : createMetrics({ ...(typeof option === "object" ? option : {}), registry: orchestrator.registry });
  const server = createGatewayServer({
    ...gateway,
    orchestrator,
    ...(owns ? { ownsOrchestrator: true } : {}),
    ...(metrics
      ? {
          observers: [metrics, ...(gateway.observers ?? [])],
          extraRoutes: [...(gateway.extraRoutes ?? []), metrics.route],
        }
      : {}),
  });
  if (!metrics) return server;
  const close = server.close.bind(server);
  server.close = async () => {
    await close();
    metrics.close();
  };
  return server;
}

/**
 * The key gate and the admin API when keys are configured (`keys:` in the config, or a master
 * key): the keys, counters and spend live in the config's Redis when it has a `redis:` section
 * (shared by every process on it), else in this process's memory.
 */
function keyAccess(
  registry: ModelRegistry,
  config: ModelConfig | undefined,
  masterKey: string | Secret | undefined,
  env: Record<string, string | undefined>,
  given: Pick<GatewayServerOptions, "gatekeeper" | "admin">,
): Pick<GatewayServerOptions, "gatekeeper" | "admin"> {
  if (given.gatekeeper) return {};
  const master = Secret.from(masterKey ?? env.ORCHESTRATOR_MASTER_KEY);
  const keys = config?.keys ?? [];
  if (!master && keys.length === 0) return {};
  const store = config?.redis
    ? new RedisKeyStore({ ...redisConnectionOptions(config.redis), keyPrefix: redisKeyPrefix(config.redis) })
    : undefined;
  const gate = new KeyGate({
    ...(store ? { store, ownsStore: true } : {}),
    ...(master ? { masterKey: master } : {}),
    keys,
    estimateCostUsd: (request) => worstCost(registry, request),
  });
  return { gatekeeper: gate, admin: given.admin ?? createAdminHandler(gate, { registry }) };
}

/**
 * The most a request may cost, for the budget hold: the highest, over the models that may answer it
 * (the named model and its fallbacks; for `auto` or a route, any model; only those the caller's
 * key may use when it names models), of its prompt at the model's input price plus its longest
 * answer at the output price — `max_tokens` when the client set it, else the model's output limit
 * (or what its context leaves after the prompt). Without `max_tokens` a hold of the prompt alone let
 * twenty concurrent calls of a key each pass and spend 16 times its budget.
 */
function worstCost(registry: ModelRegistry, request: AdmissionRequest): number | undefined {
  const prompt = request.promptTokens ?? request.estimatedTokens;
  if (prompt === undefined) return undefined;
  let worst = 0;
  for (const m of reachableModels(registry, request.model, request.allowed)) {
    const c = m.capabilities;
    const answer = request.maxOutputTokens ?? c.maxOutputTokens ?? Math.max(0, c.contextWindow - prompt);
    worst = Math.max(worst, prompt * c.inputCostPerToken + answer * c.outputCostPerToken);
  }
  return worst;
}
