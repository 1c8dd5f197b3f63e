// What the config's `redis:` section turns into: the parts several processes share through Redis
// (one server, a Cluster or Sentinel).
import { type Model, redact } from "@orchestrator-ts/core";
import type { RedisConfig, RedisConnectionConfig } from "@orchestrator-ts/core";
import {
  type RedisConnectionOptions,
  RedisDecisionStream,
  RedisHealthStateStore,
  RedisRateLimiter,
  RedisStatsStore,
} from "@orchestrator-ts/redis";

/** The connection options of `@orchestrator-ts/redis` from a config's connection (the key prefix aside). */
export function redisConnectionOptions(config: RedisConnectionConfig): RedisConnectionOptions {
  const { keyPrefix: _prefix, ...connection } = config;
  // The config may carry the statistics/health/limits switches too: only connection keys go on.
  const { url, cluster, sentinels, name, username, password, sentinelPassword, operationTimeoutMs } =
    connection as RedisConnectionConfig;
  return Object.fromEntries(
    Object.entries({ url, cluster, sentinels, name, username, password, sentinelPassword, operationTimeoutMs }).filter(
      ([, v]) => v !== undefined,
    ),
  );
}

/** The key prefix of every part (`orc:` by default): `<prefix>stats`, `<prefix>health`, `<prefix>limit:…`, `<prefix>cache:…`. */
export function redisKeyPrefix(config: RedisConnectionConfig | undefined): string {
  return config?.keyPrefix ?? "orc:";
}

/** The stream of decision records: `<prefix>{decisions}` (one key, hash-tagged: fine on a Cluster). */
export function decisionsKey(config: RedisConnectionConfig | undefined): string {
  return `${redisKeyPrefix(config)}{decisions}`;
}

export interface SharedState {
  statsStore: RedisStatsStore | undefined;
  healthStore: RedisHealthStateStore | undefined;
  /** Where this process publishes its decisions for `orchestrator dashboard` (unless `decisions: false`). */
  decisions: RedisDecisionStream | undefined;
  /** Replace each model's in-process limiter by one shared through Redis (models with limits only). */
  shareLimits(models: readonly Model[]): void;
  /** Why the shared state cannot be used now ("Redis is unreachable: …"); empty when Redis answers (or is not used). */
  readiness(): Promise<string[]>;
  close(): Promise<void>;
}

/** How long a readiness probe waits for Redis. */
const READINESS_TIMEOUT_MS = 1_000;

/** The shared parts the `redis:` section asks for (statistics, health and limits unless switched off). */
export function sharedState(
  config: RedisConfig | undefined,
  options: { health: boolean; decisions: boolean },
): SharedState {
  const parts: { close(): Promise<void> }[] = [];
  if (!config)
    return {
      statsStore: undefined,
      healthStore: undefined,
      decisions: undefined,
      shareLimits() {},
      readiness: async () => [],
      close: async () => {},
    };
  const connection = redisConnectionOptions(config);
  const prefix = redisKeyPrefix(config);
  const statsStore =
    config.statistics === false ? undefined : new RedisStatsStore({ ...connection, key: `${prefix}stats` });
  const healthStore =
    config.health === false || !options.health
      ? undefined
      : new RedisHealthStateStore({ ...connection, key: `${prefix}health` });
  const decisions =
    config.decisions === false || !options.decisions
      ? undefined
      : new RedisDecisionStream({ ...connection, key: decisionsKey(config) });
  if (statsStore) parts.push(statsStore);
  if (healthStore) parts.push(healthStore);
  if (decisions) parts.push(decisions);
  return {
    statsStore,
    healthStore,
    decisions,
    shareLimits(models) {
      if (config.limits === false) return;
      for (const model of models) {
        const { maxRequestsPerMinute, maxConcurrentRequests } = model.constraints;
        if (maxRequestsPerMinute === undefined && maxConcurrentRequests === undefined) continue;
        const limiter = new RedisRateLimiter({
          ...connection,
          key: model.name,
          keyPrefix: `${prefix}limit:`,
          ...(maxRequestsPerMinute === undefined ? {} : { maxRequestsPerMinute }),
          ...(maxConcurrentRequests === undefined ? {} : { maxConcurrentRequests }),
          ...(config.whenUnavailable === undefined ? {} : { whenUnavailable: config.whenUnavailable }),
        });
        model.setRateLimiter(limiter);
        parts.push(limiter);
      }
    },
    async readiness() {
      // The stores' own connections: a PING on one proves the server (or cluster node) answers.
      const connection = statsStore?.connection ?? healthStore?.connection;
      if (!connection) return [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          connection.client.ping(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)),
              READINESS_TIMEOUT_MS,
            );
          }),
        ]);
        return [];
      } catch (error) {
        return [`Redis is unreachable: ${redact(error instanceof Error ? error.message : String(error))}`];
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.all(parts.map((p) => p.close().catch(() => undefined)));
    },
  };
}
