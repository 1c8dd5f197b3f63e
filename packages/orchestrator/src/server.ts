// The gateway, batteries included: `createServer({ config })` builds the orchestrator from a YAML
// file (as createOrchestrator does) and serves it; close() closes what it built.
import { Secret } from "@orchestrator-ts/core";
import type { ModelConfig } from "@orchestrator-ts/core";
import { type CreateServerOptions as GatewayServerOptions, type OrchestratorServer, type ServedOrchestrator, createServer as createGatewayServer } from "@orchestrator-ts/server";
import { type CreateOrchestratorOptions, createOrchestrator, loadConfig } from "./orchestrator";

type GatewayOptions = Omit<GatewayServerOptions, "orchestrator" | "ownsOrchestrator">;

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

/**
 * The OpenAI-compatible gateway (`@orchestrator-ts/server`) over an orchestrator: the one you
 * pass, or one built from `config` with `createOrchestrator` (closed by the server's `close()`).
 * Call `listen()` on the result.
 */
export async function createServer(options: CreateServerOptions = {}): Promise<OrchestratorServer> {
  if ("orchestrator" in options && options.orchestrator) {
    const { orchestrator, ...rest } = options;
    return createGatewayServer({ ...rest, orchestrator });
  }
  const { config, redis, env, lenient, providers, startHealthMonitor, registry, onPrepare, onPullProgress, telemetry, ...gateway } = options as Exclude<CreateServerOptions, { orchestrator: ServedOrchestrator }>;
  const orchestratorOptions: CreateOrchestratorOptions = { env, lenient, providers, startHealthMonitor, registry, onPrepare, onPullProgress, telemetry };
  for (const key of Object.keys(orchestratorOptions) as (keyof CreateOrchestratorOptions)[]) if (orchestratorOptions[key] === undefined) delete orchestratorOptions[key];
  let resolved = config;
  if (redis !== undefined) {
    const loaded = await loadConfig({ ...orchestratorOptions, ...(config === undefined ? {} : { config }) });
    resolved = withRedisUrl(loaded.config, redis);
  }
  const orchestrator = await createOrchestrator({ ...orchestratorOptions, ...(resolved === undefined ? {} : { config: resolved }) });
  try {
    return createGatewayServer({ ...gateway, orchestrator, ownsOrchestrator: true });
  } catch (error) {
    await orchestrator.close();
    throw error;
  }
}
