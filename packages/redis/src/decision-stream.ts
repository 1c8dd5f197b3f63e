import { RedisConnection, type RedisConnectionOptions } from "./connection";

export interface RedisDecisionStreamOptions extends RedisConnectionOptions {
  /** The stream's key. Default `"orc:{decisions}"` (one key: it works on a Cluster as on one server). */
  key?: string;
  /** Batches kept in the stream (trimmed approximately, `MAXLEN ~`). Default 1,000. */
  maxLen?: number;
  /** How often buffered decisions are written. Default 250 ms. */
  flushIntervalMs?: number;
  /** Decisions held between writes; past it new ones are dropped (Redis down, a burst). Default 5,000. */
  maxPending?: number;
}

/** One batch read from the stream: its id and the decisions in it. */
export interface DecisionBatch {
  id: string;
  decisions: unknown[];
}

/** Decisions per stream entry: a bounded entry, still far fewer commands than calls. */
const PER_ENTRY = 500;
/** The longest entry a reader takes (a hostile writer cannot make it parse megabytes). */
const MAX_ENTRY_BYTES = 4 * 1024 * 1024;

/**
 * Decision records of library processes, shared through a capped Redis Stream so that
 * `orchestrator dashboard` can show them live. Writing is batched: `publish` only appends to a
 * buffer, and every `flushIntervalMs` one pipelined `XADD` (one entry of up to 500 decisions, as a
 * JSON array) writes what came — far under one Redis command per call. Reading tails the stream
 * with `XREAD BLOCK` on its own connection. Redis being unreachable drops decisions (bounded),
 * never fails or slows a call.
 */
export class RedisDecisionStream {
  readonly key: string;
  readonly connection: RedisConnection;
  readonly #maxLen: number;
  readonly #flushIntervalMs: number;
  readonly #maxPending: number;
  readonly #options: RedisConnectionOptions;
  #pending: unknown[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> | undefined;
  #reader: RedisConnection | undefined;
  #closed = false;
  /** Decisions dropped because the buffer was full. */
  dropped = 0;

  constructor(options: RedisDecisionStreamOptions = {}) {
    const { key, maxLen, flushIntervalMs, maxPending, ...connection } = options;
    this.key = key ?? "orc:{decisions}";
    this.#maxLen = maxLen ?? 1_000;
    this.#flushIntervalMs = flushIntervalMs ?? 250;
    this.#maxPending = maxPending ?? 5_000;
    this.#options = connection;
    this.connection = new RedisConnection(connection, { operationTimeoutMs: 1_000, probeKey: this.key });
  }

  /**
   * Buffer one decision (any JSON value, or an object with `toJSON`); serialised with the others at
   * the next flush, off the caller's path.
   */
  publish(decision: unknown): void {
    if (this.#closed) return;
    // Full (Redis slow or away, a burst): the newest is dropped — O(1), and what is held keeps its order.
    if (this.#pending.length >= this.#maxPending) {
      this.dropped++;
      return;
    }
    this.#pending.push(decision);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#flushIntervalMs);
      // Nothing waits on this timer: it must not keep a finished process alive (close() flushes).
      this.#timer.unref();
    }
  }

  /** Write what is buffered now: one pipeline of `XADD`s (one per 500 decisions). */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush());
    if (this.#pending.length === 0) return Promise.resolve();
    const batch = this.#pending;
    this.#pending = [];
    if (!this.connection.available) {
      this.dropped += batch.length;
      return Promise.resolve();
    }
    const pipeline = this.connection.client.pipeline();
    for (let i = 0; i < batch.length; i += PER_ENTRY) {
      const parts: string[] = [];
      for (const decision of batch.slice(i, i + PER_ENTRY)) {
        try {
          const json = JSON.stringify(decision);
          if (json !== undefined) parts.push(json);
        } catch {
          this.dropped++;
        }
      }
      pipeline.xadd(this.key, "MAXLEN", "~", this.#maxLen, "*", "d", `[${parts.join(",")}]`);
    }
    this.#flushing = pipeline.exec().then(
      (results) => {
        this.#flushing = undefined;
        if (results) for (const [error] of results) if (error) this.dropped += PER_ENTRY;
      },
      () => {
        this.#flushing = undefined;
        this.dropped += batch.length;
      },
    );
    return this.#flushing;
  }

  /** The last `count` batches, oldest first (what a dashboard shows when it opens). */
  async recent(count = 20): Promise<DecisionBatch[]> {
    const entries = (await this.connection.client.xrevrange(this.key, "+", "-", "COUNT", count)) as [
      string,
      string[],
    ][];
    return entries.map(parseEntry).reverse();
  }

  /**
   * Calls `onBatch` with each batch written after `from` (an entry id; `"$"`: from now), until
   * `signal` aborts or `close()`. Reads with `XREAD BLOCK` on a connection of its own.
   */
  async tail(onBatch: (batch: DecisionBatch) => void, options: { from?: string; signal?: AbortSignal } = {}) {
    const blockMs = 1_000;
    // A blocked read holds its connection: a second one, whose command timeout allows the block.
    const reader = new RedisConnection(this.#options, {
      operationTimeoutMs: 1_000,
      commandTimeoutMs: blockMs + 2_000,
      probeKey: this.key,
    });
    this.#reader = reader;
    let from = options.from ?? "$";
    try {
      while (!this.#closed && !options.signal?.aborted) {
        let answer: [string, [string, string[]][]][] | null;
        try {
          answer = (await reader.client.xread(
            "COUNT",
            100,
            "BLOCK",
            blockMs,
            "STREAMS",
            this.key,
            from,
          )) as typeof answer;
        } catch {
          if (this.#closed || options.signal?.aborted) break;
          // Redis away: try again in a moment rather than spin.
          await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        for (const [, entries] of answer ?? [])
          for (const entry of entries) {
            from = entry[0];
            onBatch(parseEntry(entry));
          }
      }
    } finally {
      if (this.#reader === reader) this.#reader = undefined;
      await reader.close();
    }
  }

  /** Writes what is buffered, stops a tail, closes the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush().catch(() => undefined);
    this.#closed = true;
    this.#reader?.client.disconnect();
    await this.connection.close();
  }
}

function parseEntry([id, fields]: [string, string[]]): DecisionBatch {
  const decisions: unknown[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    if (fields[i] !== "d" || value.length > MAX_ENTRY_BYTES) continue;
    try {
      const parsed = JSON.parse(value) as unknown;
      if (Array.isArray(parsed)) decisions.push(...parsed);
    } catch {
      // Not ours: skipped.
    }
  }
  return { id, decisions };
}
