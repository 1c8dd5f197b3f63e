import { OrchestratorError, Secret, redact } from "@orchestrator-ts/core";
import { Redis, type RedisOptions } from "ioredis";

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` (or a `Secret` holding it). Default: `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  url?: string | Secret;
  /** A client you own; it is used as is and not closed by `close()`. */
  client?: Redis;
  /** Longest one Redis command may take. Past it the operation fails over (bypass, local view, local limits). */
  operationTimeoutMs?: number;
  /** Extra ioredis options for a client created from `url`. */
  redisOptions?: RedisOptions;
}

/** Redis could not be reached in time; the caller fell back (it is reported, never thrown to a model call). */
export class RedisUnavailableError extends OrchestratorError {
  static override readonly errorName: string = "RedisUnavailableError";
  override readonly code = "redis_unavailable";
  override readonly retryable = true;
}

/**
 * One Redis client with the failure behaviour every part of this package wants: commands time
 * out instead of queueing for ever, reconnection happens in the background, and while the server
 * is known to be down operations fail at once rather than waiting for their timeout.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly owned: boolean;
  readonly #url: Secret | undefined;
  #everReady = false;
  #stalled = false;
  readonly #recoveryListeners = new Set<() => void>();
  lastError: string | undefined;

  constructor(options: RedisConnectionOptions, defaults: { operationTimeoutMs: number }) {
    if (options.client) {
      this.client = options.client;
      this.owned = false;
    } else {
      this.#url = Secret.from(options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
      const url = this.#url?.reveal() ?? "redis://127.0.0.1:6379";
      registerUrlSecrets(url);
      const timeoutMs = options.operationTimeoutMs ?? defaults.operationTimeoutMs;
      this.client = new Redis(url, {
        // A dead server must not stall calls: fail fast, retry the connection in the background.
        maxRetriesPerRequest: 1,
        commandTimeout: timeoutMs,
        connectTimeout: Math.max(1_000, timeoutMs),
        retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
        ...options.redisOptions,
      });
      this.owned = true;
    }
    if (this.client.status === "ready") this.#everReady = true;
    this.client.on("ready", () => {
      const again = this.#everReady;
      this.#everReady = true;
      // The server answered the ready check on a fresh connection.
      this.#stalled = false;
      if (again) this.#recovered();
    });
    // Without a listener an ioredis "error" event would crash the process.
    this.client.on("error", (error: Error) => {
      this.lastError = redact(error.message);
    });
  }

  /**
   * Whether sending a command makes sense now: connected, or still making the first connection
   * (commands then wait in ioredis' queue, bounded by the command timeout). After an outage
   * begins, operations fail at once until the connection is back.
   */
  get available(): boolean {
    const s = this.client.status;
    if (s === "ready") return !this.#stalled;
    return !this.#everReady && (s === "wait" || s === "connecting" || s === "connect");
  }

  /** A command failed on a connection that looked fine, and no PING has been answered since. */
  get stalled(): boolean {
    return this.#stalled;
  }

  /**
   * Report a command that failed (typically timed out) while the connection was up: a frozen or
   * overloaded server keeps its connections open, so nothing else would tell. Until a PING sent
   * now is answered, `available` is false and operations fall back at once instead of each
   * waiting out its own timeout.
   */
  commandFailed(): void {
    if (this.#stalled || this.client.status !== "ready") return;
    this.#stalled = true;
    void this.#probe();
  }

  /** `listener` runs each time Redis answers again after an outage or a stall (not on the first connection). */
  onRecovered(listener: () => void): void {
    this.#recoveryListeners.add(listener);
  }

  #recovered(): void {
    for (const listener of this.#recoveryListeners) {
      try {
        listener();
      } catch {
        // One listener's bug must not keep the others from catching up.
      }
    }
  }

  async #probe(): Promise<void> {
    while (this.#stalled && this.client.status !== "end") {
      try {
        await this.client.ping();
        if (!this.#stalled) return;
        this.#stalled = false;
        this.#recovered();
      } catch {
        // Timed out (still frozen) or the connection broke: ask again shortly.
        await new Promise((resolve) => setTimeout(resolve, 100).unref());
      }
    }
  }

  unavailable(what: string, cause?: unknown): RedisUnavailableError {
    const reason = cause instanceof Error ? redact(cause.message) : this.lastError ?? `connection ${this.client.status}`;
    return new RedisUnavailableError(`Redis is unavailable for ${what}: ${reason}`);
  }

  async close(): Promise<void> {
    if (!this.owned || this.client.status === "end") return;
    try {
      if (this.client.status === "ready") {
        await Promise.race([this.client.quit(), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
      }
    } catch {
      // Closing a broken connection may fail; disconnect below regardless.
    }
    this.client.disconnect();
  }
}

// The ioredis client holds the password in its options: never print it.
Object.defineProperty(RedisConnection.prototype, Symbol.for("nodejs.util.inspect.custom"), {
  value(this: RedisConnection): string {
    return `RedisConnection ${JSON.stringify({ status: this.client.status, owned: this.owned })}`;
  },
});
Object.defineProperty(RedisConnection.prototype, "toJSON", {
  value(this: RedisConnection): Record<string, unknown> {
    return { status: this.client.status, owned: this.owned };
  },
});

function registerUrlSecrets(url: string): void {
  try {
    const parsed = new URL(url);
    if (parsed.password) new Secret(decodeURIComponent(parsed.password));
  } catch {
    // ioredis reports a malformed URL itself.
  }
}
