export { ModelCache } from "./model-cache";
export type {
  ModelCacheOptions,
  ModelCacheStats,
  ModelCacheEvents,
  RedisBackendOptions,
  RedisNodeOption,
  CacheHitEvent,
  CacheMissEvent,
  CacheBypassEvent,
  CacheErrorEvent,
} from "./types";
export { CacheBackendError } from "./errors";
export type { ModuleImporter } from "./backend";
export { MemoryCacheBackend, type MemoryCacheBackendOptions } from "./memory-backend";
export { cacheKey, canonicalJson, normalizeRequest } from "./key";
export type { StoredEntry } from "./entry";
