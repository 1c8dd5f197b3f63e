export { FakeModel, chunkText, type FakeFailure, type FakeModelOptions, type FakeOutcome } from "./fake-model";
export { collectAll, rejectionOf } from "./helpers";
export { seededRandom } from "./internal/seeded-random";
export * from "./servers";
export * from "./gguf";
export { startRedisServer, type RedisServerHandle } from "./redis/redis-server";
export { runFixture, runScript, type RunFixtureOptions, type RunScriptOptions, type ScriptResult } from "./process/run-fixture";
