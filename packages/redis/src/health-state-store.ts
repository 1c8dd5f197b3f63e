import { randomUUID } from "node:crypto";
import type { HealthStateStore, HealthStatus } from "@orchestrator-ts/core";
import type { Cluster, Redis } from "ioredis";
import { RedisConnection, type RedisConnectionOptions } from "./connection";

export interface RedisHealthStateStoreOptions extends RedisConnectionOptions {
  /** The hash holding one JSON status per model. Default `"orc:health"`; its channel is `<key>:events`. */
  key?: string;
  /** Full reload interval, in case a published change was missed (e.g. during a reconnect). Default 5000 ms. */
  refreshIntervalMs?: number;
}

type Listener = (name: string, status: HealthStatus) => void;

/**
 * Health state shared by every process: one hash per deployment, one JSON status per model, and a
 * pub/sub channel so a change made by one process reaches the others at once. `get` is
 * synchronous (the local copy); `set` applies locally at once and is shared asynchronously.
 * Redis being unreachable only makes the state local until it is back.
 */
export class RedisHealthStateStore implements HealthStateStore {
  readonly key: string;
  readonly channel: string;
  readonly connection: RedisConnection;
  readonly #subscriber: Redis | Cluster;
  readonly #origin = randomUUID();
  readonly #states = new Map<string, HealthStatus>();
  readonly #listeners = new Set<Listener>();
  /** Models whose local status Redis may not have: set while Redis was not answering, or the write failed. */
  readonly #unpublished = new Set<string>();
  /** Numbers the local `set`s, so a reload does not undo a `set` made after it was sent. */
  #writes = 0;
  readonly #writtenAt = new Map<string, number>();
  readonly #interval: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(options: RedisHealthStateStoreOptions = {}) {
    this.key = options.key ?? "orc:health";
    this.channel = `${this.key}:events`;
    this.connection = new RedisConnection(options, { operationTimeoutMs: 1_000, probeKey: this.key });
    // A subscribed connection can do nothing else, so it is a second one.
    this.#subscriber = this.connection.client.duplicate();
    this.#subscriber.on("error", () => undefined);
    this.#subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.channel) this.#onMessage(message);
    });
    this.#subscriber.subscribe(this.channel).catch(() => undefined);
    // After a reconnect, messages sent meanwhile are lost: reload everything.
    this.#subscriber.on("ready", () => void this.refresh());
    // Back after an outage or a stall: share what was set meanwhile, then reload.
    this.connection.onRecovered(() => void this.refresh());
    this.#interval = setInterval(() => void this.refresh(), options.refreshIntervalMs ?? 5_000);
    this.#interval.unref();
    void this.refresh();
  }

  get(name: string): HealthStatus | undefined {
    return this.#states.get(name);
  }

  set(name: string, status: HealthStatus): void {
    this.#states.set(name, status);
    this.#writtenAt.set(name, ++this.#writes);
    if (!this.connection.available) {
      // Shared once Redis answers again (see refresh), rather than lost.
      this.#unpublished.add(name);
      return;
    }
    this.#publish(name, status);
  }

  #publish(name: string, status: HealthStatus): void {
    this.connection.client
      .multi()
      .hset(this.key, name, JSON.stringify(status))
      .publish(this.channel, JSON.stringify({ o: this.#origin, n: name, s: status }))
      .exec()
      .then(
        (results) => {
          if (!results || results.some(([error]) => error)) this.#unpublished.add(name);
        },
        () => {
          // Timed out (it may still run when a frozen Redis resumes: the same status again is harmless).
          this.#unpublished.add(name);
          this.connection.commandFailed();
        },
      );
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Share what Redis may be missing, then reload every model's state from Redis. Never rejects. */
  async refresh(): Promise<void> {
    if (this.#closed || !this.connection.available) return;
    if (this.#unpublished.size > 0) {
      const names = [...this.#unpublished];
      this.#unpublished.clear();
      for (const name of names) {
        const status = this.#states.get(name);
        if (status) this.#publish(name, status);
      }
    }
    // Sent after those writes on the same connection, so the reply includes them.
    const asOf = this.#writes;
    let all: Record<string, string>;
    try {
      all = await this.connection.client.hgetall(this.key);
    } catch {
      this.connection.commandFailed();
      return;
    }
    for (const [name, json] of Object.entries(all)) {
      // A status set here after the reload was sent is newer than what the reply says.
      if ((this.#writtenAt.get(name) ?? 0) > asOf || this.#unpublished.has(name)) continue;
      const status = parseStatus(json);
      if (status && !sameStatus(this.#states.get(name), status)) this.#update(name, status);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#interval);
    this.#subscriber.disconnect();
    await this.connection.close();
  }

  #onMessage(message: string): void {
    let parsed: { o?: unknown; n?: unknown; s?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.o === this.#origin || typeof parsed.n !== "string") return;
    const json = JSON.stringify(parsed.s);
    const status = parseStatus(json);
    // The same status again (a write re-sent after a timeout that had run after all) is no news.
    if (status && !sameStatus(this.#states.get(parsed.n), status)) this.#update(parsed.n, status);
  }

  #update(name: string, status: HealthStatus): void {
    this.#states.set(name, status);
    for (const listener of this.#listeners) {
      try {
        listener(name, status);
      } catch {
        // A listener's bug must not stop the others.
      }
    }
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `RedisHealthStateStore ${JSON.stringify({ key: this.key, models: this.#states.size })}`;
  }
}

/**
 * Whether two statuses say the same, whatever their key order or missing defaults: a reload that
 * returns what a message already delivered (they race, on a loaded host or a cluster) is no news.
 */
function sameStatus(a: HealthStatus | undefined, b: HealthStatus): boolean {
  if (a === undefined) return false;
  return canonical(parseStatus(JSON.stringify(a))) === canonical(b);
}

function canonical(status: HealthStatus | undefined): string {
  if (status === undefined) return "";
  const record = status as unknown as Record<string, unknown>;
  return JSON.stringify(
    Object.keys(record)
      .sort()
      .map((k) => [k, record[k]]),
  );
}

function parseStatus(json: string | undefined): HealthStatus | undefined {
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as Partial<HealthStatus> | null;
    if (!value || typeof value.isHealthy !== "boolean" || typeof value.status !== "string") return undefined;
    return {
      issues: [],
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      lastCheckedAt: undefined,
      latencyMs: undefined,
      ...value,
    } as HealthStatus;
  } catch {
    return undefined;
  }
}
