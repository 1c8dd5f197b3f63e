export {
  RedisConnection,
  RedisUnavailableError,
  createRedisClient,
  validateRedisConnectionOptions,
  type RedisConnectionOptions,
  type RedisNodeAddress,
  type RedisTopology,
} from "./connection";
export { RedisCacheBackend, type RedisCacheBackendOptions } from "./cache-backend";
export { RedisStatsStore, type RedisStatsStoreOptions } from "./stats-store";
export {
  RedisRateLimiter,
  type RedisRateLimiterOptions,
  type RedisRateLimiterEvents,
  type WhenRedisUnavailable,
} from "./rate-limiter";
export { RedisHealthStateStore, type RedisHealthStateStoreOptions } from "./health-state-store";
export { BudgetExceededError, RedisBudget, type RedisBudgetOptions } from "./budget";
export { RedisKeyStore, type RedisKeyStoreOptions } from "./key-store";
export { type DecisionBatch, RedisDecisionStream, type RedisDecisionStreamOptions } from "./decision-stream";
