export { FakeModel, chunkText, type FakeFailure, type FakeModelOptions, type FakeOutcome } from "./fake-model";
export { collectAll, rejectionOf } from "./helpers";
export { seededRandom } from "./internal/seeded-random";
export * from "./servers";
export * from "./gguf";
export { freePort, startRedisServer, type RedisServerHandle } from "./redis/redis-server";
export { startRedisCluster, type RedisClusterHandle, type RedisClusterNode, type RedisClusterOptions } from "./redis/redis-cluster";
export { startRedisSentinel, type RedisSentinelHandle, type RedisSentinelOptions } from "./redis/redis-sentinel";
export { runFixture, type RunFixtureOptions } from "./process/run-fixture";
