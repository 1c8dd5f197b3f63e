import type { CacheBackend } from "@orchestrator/core";
import { RedisConnection, type RedisConnectionOptions } from "./connection";

export interface RedisCacheBackendOptions extends RedisConnectionOptions {
  /** Prefix of every key this backend writes. Default `"orc:cache:"`. */
  keyPrefix?: string;
}

/**
 * `CacheBackend` in Redis: one string per entry, expiry with `SET … PX`. Every operation either
 * completes within `operationTimeoutMs` (default 250 ms) or rejects with `RedisUnavailableError`
 * at once; `ModelCache` then sends the call to the provider and reports a bypass. The client
 * reconnects by itself.
 */
export class RedisCacheBackend implements CacheBackend {
  readonly keyPrefix: string;
  readonly connection: RedisConnection;

  constructor(options: RedisCacheBackendOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? "orc:cache:";
    this.connection = new RedisConnection(options, { operationTimeoutMs: 250 });
  }

  /**
   * The client's command timeout, when it has one (it has unless you passed a client without
   * `commandTimeout`): every operation settles within it, so `ModelCache` arms no timer of its own.
   */
  get operationTimeoutMs(): number | undefined {
    const timeout = this.connection.client.options?.commandTimeout;
    return typeof timeout === "number" && timeout > 0 ? timeout : undefined;
  }

  // A cache hit is on the hot path: one `then` on the client's promise, no async-function frame.
  get(key: string): Promise<string | undefined> {
    if (!this.connection.available) return Promise.reject(this.connection.unavailable("a cache lookup"));
    try {
      return this.connection.client.get(this.keyPrefix + key).then(orUndefined, this.#lookupFailed);
    } catch (error) {
      return Promise.reject(this.connection.unavailable("a cache lookup", error));
    }
  }

  readonly #lookupFailed = (error: unknown): never => {
    throw this.connection.unavailable("a cache lookup", error);
  };

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (!this.connection.available) throw this.connection.unavailable("a cache write");
    try {
      if (ttlMs !== undefined && Number.isFinite(ttlMs)) await this.connection.client.set(this.keyPrefix + key, value, "PX", Math.max(1, Math.round(ttlMs)));
      else await this.connection.client.set(this.keyPrefix + key, value);
    } catch (error) {
      throw this.connection.unavailable("a cache write", error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.connection.client.del(this.keyPrefix + key);
    } catch (error) {
      throw this.connection.unavailable("a cache delete", error);
    }
  }

  /** Delete every key under `keyPrefix` (SCAN + UNLINK in batches, never KEYS). */
  async clear(): Promise<void> {
    const client = this.connection.client;
    const pattern = `${escapeGlob(this.keyPrefix)}*`;
    let cursor = "0";
    try {
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await client.unlink(...keys);
      } while (cursor !== "0");
    } catch (error) {
      throw this.connection.unavailable("clearing the cache", error);
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `RedisCacheBackend ${JSON.stringify(this.toJSON())}`;
  }

  toJSON(): Record<string, unknown> {
    return { keyPrefix: this.keyPrefix, status: this.connection.client.status };
  }
}

function orUndefined(value: string | null): string | undefined {
  return value ?? undefined;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
