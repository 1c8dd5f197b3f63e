export { FakeModel, chunkText, type FakeFailure, type FakeModelOptions, type FakeOutcome } from "./fake-model";
export { collectAll, rejectionOf } from "./helpers";
export * from "./servers";
export { freePort, startRedisServer, type RedisServerHandle } from "./redis/redis-server";
export { runFixture, type RunFixtureOptions } from "./process/run-fixture";
export { runScript, type RunScriptOptions, type ScriptRun } from "./process/run-script";
