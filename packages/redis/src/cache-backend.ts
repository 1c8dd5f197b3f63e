import type { CacheBackend } from "@orchestrator-ts/core";
import type { Cluster, Redis } from "ioredis";
import { RedisConnection, type RedisConnectionOptions, commandTimeoutOf } from "./connection";
import { CommandWatchdog } from "./watchdog";

const DEFAULT_TIMEOUT_MS = 250;

export interface RedisCacheBackendOptions extends RedisConnectionOptions {
  /** Prefix of every key this backend writes. Default `"orc:cache:"`. */
  keyPrefix?: string;
}

/**
 * `CacheBackend` in Redis (one server, Cluster or Sentinel): one string per entry, expiry with
 * `SET … PX`; every operation is one single-key command, so entries spread over a cluster's
 * shards and no command crosses slots. Every operation either
 * completes within `operationTimeoutMs` (default 250 ms) or rejects with `RedisUnavailableError`
 * at once; `ModelCache` then sends the call to the provider and reports a bypass. The client
 * reconnects by itself.
 */
export class RedisCacheBackend implements CacheBackend {
  readonly keyPrefix: string;
  readonly connection: RedisConnection;
  /** Bounds the lookups of a client this backend created (one timer, not one per command). */
  readonly #watchdog: CommandWatchdog | undefined;

  constructor(options: RedisCacheBackendOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? "orc:cache:";
    if (options.client) {
      this.connection = new RedisConnection(options, { operationTimeoutMs: DEFAULT_TIMEOUT_MS });
    } else {
      // Every command of this backend is bounded by the watchdog instead of a timer per command
      // (on a cluster, also while ioredis retries it through a failover, which no client timer covers).
      const timeoutMs = options.operationTimeoutMs ?? DEFAULT_TIMEOUT_MS;
      this.#watchdog = new CommandWatchdog(timeoutMs);
      this.connection = new RedisConnection(options, { operationTimeoutMs: timeoutMs, commandTimeoutMs: null });
    }
  }

  /**
   * How long a lookup can take at most, when this backend knows (its own client, or a client
   * with `commandTimeout`): every lookup settles within it, so `ModelCache` arms no timer of its own.
   */
  get operationTimeoutMs(): number | undefined {
    const timeout = commandTimeoutOf(this.connection.client);
    // A cluster retries a command through a failover without the node timeout: only the watchdog bounds that.
    if (timeout !== undefined && this.connection.topology !== "cluster")
      return this.#watchdog ? Math.min(timeout, this.#watchdog.boundMs) : timeout;
    return this.#watchdog?.boundMs;
  }

  // A cache hit is on the hot path: one `then` on the client's promise, no async-function frame.
  get(key: string): Promise<string | undefined> {
    if (!this.connection.available) return Promise.reject(this.connection.unavailable("a cache lookup"));
    try {
      const reply = this.#watchdog
        ? (this.#watchdog.send(this.connection.client, "get", [this.keyPrefix + key]) as Promise<string | null>)
        : this.connection.client.get(this.keyPrefix + key);
      return reply.then(orUndefined, this.#lookupFailed);
    } catch (error) {
      return Promise.reject(this.connection.unavailable("a cache lookup", error));
    }
  }

  readonly #lookupFailed = (error: unknown): never => {
    this.connection.commandFailed();
    throw this.connection.unavailable("a cache lookup", error);
  };

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (!this.connection.available) throw this.connection.unavailable("a cache write");
    const args: (string | number)[] = [this.keyPrefix + key, value];
    if (ttlMs !== undefined && Number.isFinite(ttlMs)) args.push("PX", Math.max(1, Math.round(ttlMs)));
    try {
      await this.#send("set", args);
    } catch (error) {
      this.connection.commandFailed();
      throw this.connection.unavailable("a cache write", error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#send("del", [this.keyPrefix + key]);
    } catch (error) {
      throw this.connection.unavailable("a cache delete", error);
    }
  }

  /** Delete every key under `keyPrefix` (SCAN + UNLINK in batches, never KEYS; on a cluster, on every primary). */
  async clear(): Promise<void> {
    const pattern = `${escapeGlob(this.keyPrefix)}*`;
    const client = this.connection.client;
    const cluster = this.connection.topology === "cluster";
    const nodes: (Redis | Cluster)[] = cluster ? (client as Cluster).nodes("master") : [client];
    try {
      for (const node of nodes) {
        let cursor = "0";
        do {
          const [next, keys] = (await this.#send("scan", [cursor, "MATCH", pattern, "COUNT", 500], node)) as [
            string,
            string[],
          ];
          cursor = next;
          if (keys.length === 0) continue;
          // A cluster refuses one UNLINK of keys in different slots (CROSSSLOT): one per key there, in one round trip.
          if (cluster) await Promise.all(keys.map((key) => this.#send("unlink", [key], node)));
          else await this.#send("unlink", keys, node);
        } while (cursor !== "0");
      }
    } catch (error) {
      throw this.connection.unavailable("clearing the cache", error);
    }
  }

  /** A command, bounded by the watchdog when this backend made the client (else by the client's own timeout). */
  #send(name: string, args: (string | number)[], client: Redis | Cluster = this.connection.client): Promise<unknown> {
    return this.#watchdog ? this.#watchdog.send(client, name, args) : client.call(name, ...args);
  }

  async close(): Promise<void> {
    await this.connection.close();
    this.#watchdog?.stop();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `RedisCacheBackend ${JSON.stringify(this.toJSON())}`;
  }

  toJSON(): Record<string, unknown> {
    return { keyPrefix: this.keyPrefix, topology: this.connection.topology, status: this.connection.client.status };
  }
}

function orUndefined(value: string | null): string | undefined {
  return value ?? undefined;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
