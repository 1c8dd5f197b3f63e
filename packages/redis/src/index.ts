export { RedisConnection, RedisUnavailableError, type RedisConnectionOptions } from "./connection";
export { RedisCacheBackend, type RedisCacheBackendOptions } from "./cache-backend";
export { RedisStatsStore, type RedisStatsStoreOptions } from "./stats-store";
export { RedisRateLimiter, type RedisRateLimiterOptions, type RedisRateLimiterEvents } from "./rate-limiter";
export { RedisHealthStateStore, type RedisHealthStateStoreOptions } from "./health-state-store";
