import type { CacheBackend, Secret } from "@orchestrator-ts/core";

/** A Redis node: `"host:port"`, a `redis://` URL (or a `Secret` holding one), or `{ host, port }`. */
export type RedisNodeOption = string | Secret | { host: string; port: number };

/**
 * Where the Redis backend connects, in the shapes of `@orchestrator-ts/redis` (give one of `url`,
 * `cluster`, `sentinels` + `name`, `client`).
 */
export interface RedisBackendOptions {
  /** One server: `redis://[:password@]host:port[/db]`; default `REDIS_URL` or `redis://127.0.0.1:6379`. The password never appears in errors or logs. */
  url?: string | Secret;
  /** A Redis Cluster's seed nodes. */
  cluster?: readonly RedisNodeOption[];
  /** Sentinel: the Sentinels, with the master group's `name`. */
  sentinels?: readonly RedisNodeOption[];
  name?: string;
  username?: string;
  password?: string | Secret;
  sentinelPassword?: string | Secret;
  /** An ioredis client you own, a `Redis` or a `Cluster` (it is not closed by `close()`). */
  client?: unknown;
  /** Prefix of every Redis key. Default `"orc:cache:"`. */
  keyPrefix?: string;
  /** Longest a Redis command may take before the call goes to the provider. Default 250 ms. */
  operationTimeoutMs?: number;
}

export interface ModelCacheOptions {
  /** Where entries live. Default `"memory"`. `"redis"` loads `@orchestrator-ts/redis` on first use. */
  backend?: "memory" | "redis" | CacheBackend;
  /** Lifetime of an entry. Default 1 hour. */
  ttlMs?: number;
  /** Most entries in the memory backend. Default 10,000. */
  maxSize?: number;
  /** Optional byte bound of the memory backend (UTF-16 size of keys and values). */
  maxBytes?: number;
  /**
   * Largest entry stored (UTF-16 size of the stored JSON). A longer answer is returned but not
   * stored; a stream stops being recorded once past it and passes through, so an endless stream
   * costs no memory here. Entries read back larger than this are dropped. Default 4 MiB.
   */
  maxEntryBytes?: number;
  /** Prefix of every key, so several caches (or versions of an app) can share one Redis. Default `"orc"`. */
  namespace?: string;
  /** Options of the Redis backend when `backend: "redis"`. */
  redis?: RedisBackendOptions;
  /** Longest a lookup in a non-memory backend may take before the call goes to the provider. Default 500 ms. */
  lookupTimeoutMs?: number;
}

export interface ModelCacheStats {
  /** Answers served from the store. */
  hits: number;
  /** Lookups that found nothing (a provider call followed). */
  misses: number;
  /** Callers that shared another caller's in-flight provider call. */
  coalesced: number;
  /** Calls that went to the provider without the cache: `cache: false`, or the backend failed. */
  bypasses: number;
  /** Backend failures (lookups, writes, corrupt entries). */
  errors: number;
  /** Answers returned but not stored because they were larger than `maxEntryBytes`. */
  oversized: number;
  /** Entries held, when the backend can tell (memory); `undefined` otherwise. */
  size: number | undefined;
  /** Provider calls running now on behalf of waiting callers. */
  inFlight: number;
}

export interface CacheHitEvent {
  key: string;
  model: string;
  provider: string;
  latencyMs: number;
  /** True when the answer came from another caller's in-flight call rather than the store. */
  coalesced: boolean;
}
export interface CacheMissEvent {
  key: string;
  model: string;
  provider: string;
}
export interface CacheBypassEvent {
  key: string | undefined;
  model: string;
  provider: string;
  reason: "request" | "backend-error";
}
export interface CacheErrorEvent {
  operation: "get" | "set" | "delete" | "clear" | "parse" | "key";
  error: unknown;
}

export interface ModelCacheEvents {
  hit: [CacheHitEvent];
  miss: [CacheMissEvent];
  bypass: [CacheBypassEvent];
  error: [CacheErrorEvent];
}
