export {
  ModelCache,
  CacheBackendError,
  type ModelCacheOptions,
  type ModelCacheStats,
  type ModelCacheEvents,
  type RedisBackendOptions,
  type RedisNodeOption,
  type CacheHitEvent,
  type CacheMissEvent,
  type CacheBypassEvent,
  type CacheErrorEvent,
  type ModuleImporter,
} from "./model-cache";
export { MemoryCacheBackend, type MemoryCacheBackendOptions } from "./memory-backend";
export { cacheKey, canonicalJson, normalizeRequest } from "./key";
export type { StoredEntry } from "./entry";
