// Which backend a ModelCache uses: an object of the right shape, or `@orchestrator-ts/redis` loaded on first use.
import { type CacheBackend, ConfigError, redact } from "@orchestrator-ts/core";
import { isModuleNotFound } from "@orchestrator-ts/core/internal";
import type { RedisBackendOptions } from "./types";

// Kept in a variable so bundlers and the type checker do not treat the optional peer as a dependency.
const REDIS_PACKAGE = "@orchestrator-ts/redis";

/** Loads a module by name; replaced in tests to simulate a missing package. */
export type ModuleImporter = (name: string) => Promise<unknown>;
export const defaultImporter: ModuleImporter = (name) => import(name);

/** The Redis backend, from `@orchestrator-ts/redis`; a `ConfigError` when that package is missing or too old. */
export async function loadRedisBackend(importer: ModuleImporter, redis: RedisBackendOptions): Promise<CacheBackend> {
  let mod: unknown;
  try {
    mod = await importer(REDIS_PACKAGE);
  } catch (error) {
    if (isModuleNotFound(error)) {
      throw new ConfigError(
        `backend "redis" needs the package ${REDIS_PACKAGE}: npm install ${REDIS_PACKAGE} ioredis`,
        { cause: error },
      );
    }
    throw new ConfigError(
      `backend "redis": loading ${REDIS_PACKAGE} failed: ${redact(String((error as Error)?.message ?? error))}`,
      { cause: error },
    );
  }
  const Backend = (mod as { RedisCacheBackend?: unknown } | null)?.RedisCacheBackend;
  if (typeof Backend !== "function") {
    throw new ConfigError(
      `backend "redis": ${REDIS_PACKAGE} does not export RedisCacheBackend; install a matching version.`,
    );
  }
  return new (Backend as new (options: RedisBackendOptions) => CacheBackend)({
    keyPrefix: "orc:cache:",
    operationTimeoutMs: 250,
    ...redis,
  });
}

export function isBackend(value: unknown): value is CacheBackend {
  if (typeof value !== "object" || value === null) return false;
  const b = value as Record<string, unknown>;
  return (
    typeof b.get === "function" &&
    typeof b.set === "function" &&
    typeof b.delete === "function" &&
    typeof b.clear === "function"
  );
}

export function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value;
}
