export { FakeModel, chunkText, type FakeFailure, type FakeModelOptions, type FakeOutcome } from "./fake-model";
export { collectAll, rejectionOf } from "./helpers";
export * from "./servers";
export { freePort, startRedisServer, type RedisServerHandle } from "./redis/redis-server";
export {
  startRedisCluster,
  type RedisClusterHandle,
  type RedisClusterNode,
  type RedisClusterOptions,
} from "./redis/redis-cluster";
export {
  commandStatsDelta,
  countRedisCommands,
  redisCommandStats,
  type RedisCommandCounter,
} from "./redis/command-count";
export { startRedisSentinel, type RedisSentinelHandle, type RedisSentinelOptions } from "./redis/redis-sentinel";
export { runFixture, type RunFixtureOptions } from "./process/run-fixture";
export { runScript, type RunScriptOptions, type ScriptRun } from "./process/run-script";
