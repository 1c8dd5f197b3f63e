import { EventEmitter } from "node:events";
import {
  AbortError,
  type Cache,
  type CacheBackend,
  ConfigError,
  type GenerateRequest,
  type GenerateResult,
  type ModelIdentity,
  OrchestratorError,
  type Secret,
  type StreamChunk,
  type ToolCall,
  redact,
} from "@orchestrator-ts/core";
import { type StoredEntry, entryFromResult, parseEntry, replayChunks, resultFromEntry } from "./entry";
import { cacheKey } from "./key";
import { MemoryCacheBackend } from "./memory-backend";

/** A Redis node: `"host:port"`, a `redis://` URL (or a `Secret` holding one), or `{ host, port }`. */
export type RedisNodeOption = string | Secret | { host: string; port: number };

/**
 * Where the Redis backend connects, in the shapes of `@orchestrator-ts/redis` (give one of `url`,
 * `cluster`, `sentinels` + `name`, `client`).
 */
export interface RedisBackendOptions {
  /** One server: `redis://[:password@]host:port[/db]`; default `REDIS_URL` or `redis://127.0.0.1:6379`. The password never appears in errors or logs. */
  url?: string | Secret;
  /** A Redis Cluster's seed nodes. */
  cluster?: readonly RedisNodeOption[];
  /** Sentinel: the Sentinels, with the master group's `name`. */
  sentinels?: readonly RedisNodeOption[];
  name?: string;
  username?: string;
  password?: string | Secret;
  sentinelPassword?: string | Secret;
  /** An ioredis client you own, a `Redis` or a `Cluster` (it is not closed by `close()`). */
  client?: unknown;
  /** Prefix of every Redis key. Default `"orc:cache:"`. */
  keyPrefix?: string;
  /** Longest a Redis command may take before the call goes to the provider. Default 250 ms. */
  operationTimeoutMs?: number;
}

export interface ModelCacheOptions {
  /** Where entries live. Default `"memory"`. `"redis"` loads `@orchestrator-ts/redis` on first use. */
  backend?: "memory" | "redis" | CacheBackend;
  /** Lifetime of an entry. Default 1 hour. */
  ttlMs?: number;
  /** Most entries in the memory backend. Default 10,000. */
  maxSize?: number;
  /** Optional byte bound of the memory backend (UTF-16 size of keys and values). */
  maxBytes?: number;
  /**
   * Largest entry stored (UTF-16 size of the stored JSON). A longer answer is returned but not
   * stored; a stream stops being recorded once past it and passes through, so an endless stream
   * costs no memory here. Entries read back larger than this are dropped. Default 4 MiB.
   */
  maxEntryBytes?: number;
  /** Prefix of every key, so several caches (or versions of an app) can share one Redis. Default `"orc"`. */
  namespace?: string;
  /** Options of the Redis backend when `backend: "redis"`. */
  redis?: RedisBackendOptions;
  /** Longest a lookup in a non-memory backend may take before the call goes to the provider. Default 500 ms. */
  lookupTimeoutMs?: number;
}

export interface ModelCacheStats {
  /** Answers served from the store. */
  hits: number;
  /** Lookups that found nothing (a provider call followed). */
  misses: number;
  /** Callers that shared another caller's in-flight provider call. */
  coalesced: number;
  /** Calls that went to the provider without the cache: `cache: false`, or the backend failed. */
  bypasses: number;
  /** Backend failures (lookups, writes, corrupt entries). */
  errors: number;
  /** Answers returned but not stored because they were larger than `maxEntryBytes`. */
  oversized: number;
  /** Entries held, when the backend can tell (memory); `undefined` otherwise. */
  size: number | undefined;
  /** Provider calls running now on behalf of waiting callers. */
  inFlight: number;
}

export interface CacheHitEvent {
  key: string;
  model: string;
  provider: string;
  latencyMs: number;
  /** True when the answer came from another caller's in-flight call rather than the store. */
  coalesced: boolean;
}
export interface CacheMissEvent {
  key: string;
  model: string;
  provider: string;
}
export interface CacheBypassEvent {
  key: string | undefined;
  model: string;
  provider: string;
  reason: "request" | "backend-error";
}
export interface CacheErrorEvent {
  operation: "get" | "set" | "delete" | "clear" | "parse" | "key";
  error: unknown;
}

export interface ModelCacheEvents {
  hit: [CacheHitEvent];
  miss: [CacheMissEvent];
  bypass: [CacheBypassEvent];
  error: [CacheErrorEvent];
}

const DEFAULT_TTL_MS = 3_600_000;
// Twice the longest answer a model gives today (128k tokens ≈ 512k characters, stored as text and chunks).
const DEFAULT_MAX_ENTRY_BYTES = 4 * 1024 * 1024;
// Characters an entry takes beside its text and chunks (finish reason, usage, cost, field names).
const ENTRY_OVERHEAD_CHARS = 256;
// Kept in a variable so bundlers and the type checker do not treat the optional peer as a dependency.
const REDIS_PACKAGE = "@orchestrator-ts/redis";

/** Loads a module by name; replaced in tests to simulate a missing package. */
export type ModuleImporter = (name: string) => Promise<unknown>;
const defaultImporter: ModuleImporter = (name) => import(name);

/** One key's lookup and, on a miss, its provider call: identical requests arriving meanwhile join it. */
interface Flight {
  /** The leader's provider call (joiners count as coalesced). */
  promise: Promise<GenerateResult>;
}

/** Reported for a failed backend operation (the call itself went to the provider). */
export class CacheBackendError extends OrchestratorError {
  static override readonly errorName: string = "CacheBackendError";
  override readonly code = "cache_backend_error";
}

/**
 * Answers identical requests once. Implements core's `Cache`: `model.enableCaching(cache)`.
 *
 * - Keys: a SHA-256 of provider, model, its `cacheIdentity` and the normalized request (see `cacheKey`).
 * - Entries read back are checked; a bad one is deleted and the call goes to the model.
 * - Errors and incomplete streams are never stored; a completed stream replays as a stream.
 * - Entries are bounded by `maxEntryBytes`: a longer answer is returned, not stored, and a stream
 *   stops being recorded once past it (it passes through; an endless one costs no memory here).
 * - Single-flight for `generate`: concurrent identical requests make one provider call. Streams
 *   are not coalesced (each miss streams from the provider); the first to complete is stored.
 * - A failing or slow backend never fails a call: it goes to the provider and a `bypass` event
 *   says so.
 */
export class ModelCache extends EventEmitter<ModelCacheEvents> implements Cache {
  readonly ttlMs: number;
  readonly namespace: string;
  /** Largest entry stored, in UTF-16 bytes (the memory backend's `maxBytes` when that is smaller). */
  readonly maxEntryBytes: number;
  readonly #lookupTimeoutMs: number;
  readonly #options: ModelCacheOptions;
  readonly #importer: ModuleImporter;
  readonly #flights = new Map<string, Flight>();
  #backend: CacheBackend | undefined;
  #memory: MemoryCacheBackend | undefined;
  #loading: Promise<CacheBackend> | undefined;
  #ownsBackend = false;
  #hits = 0;
  #misses = 0;
  #coalesced = 0;
  #bypasses = 0;
  #errors = 0;
  #oversized = 0;

  constructor(options: ModelCacheOptions = {}, internals: { importer?: ModuleImporter } = {}) {
    super();
    this.#options = options;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    if (!(this.ttlMs > 0))
      throw new ConfigError(`ttlMs must be a positive number of milliseconds (got ${options.ttlMs}).`);
    this.namespace = options.namespace ?? "orc";
    const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
    if (!(maxEntryBytes > 0))
      throw new ConfigError(`maxEntryBytes must be a positive number of bytes (got ${options.maxEntryBytes}).`);
    this.#lookupTimeoutMs = options.lookupTimeoutMs ?? 500;
    this.#importer = internals.importer ?? defaultImporter;
    const backend = options.backend ?? "memory";
    if (backend === "memory") {
      this.#memory = new MemoryCacheBackend({
        maxSize: options.maxSize ?? 10_000,
        ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      });
      this.#backend = this.#memory;
      this.#ownsBackend = true;
    } else if (backend === "redis") {
      this.#ownsBackend = true;
    } else if (isBackend(backend)) {
      this.#backend = backend;
      if (backend instanceof MemoryCacheBackend) this.#memory = backend;
    } else {
      throw new ConfigError(
        `backend must be "memory", "redis" or an object with get/set/delete/clear (got ${describe(backend)}).`,
      );
    }
    // An entry larger than the memory backend's whole budget would never be kept: do not record it either.
    this.maxEntryBytes = Math.min(maxEntryBytes, this.#memory?.maxBytes ?? Number.POSITIVE_INFINITY);
  }

  /** The backend, loading `@orchestrator-ts/redis` first when `backend: "redis"`. Rejects with `ConfigError` when it is not installed. */
  backend(): Promise<CacheBackend> {
    if (this.#backend) return Promise.resolve(this.#backend);
    this.#loading ??= this.#loadRedis();
    return this.#loading;
  }

  async #loadRedis(): Promise<CacheBackend> {
    let mod: unknown;
    try {
      mod = await this.#importer(REDIS_PACKAGE);
    } catch (error) {
      this.#loading = undefined;
      const code = (error as { code?: unknown } | null)?.code;
      if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
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
      this.#loading = undefined;
      throw new ConfigError(
        `backend "redis": ${REDIS_PACKAGE} does not export RedisCacheBackend; install a matching version.`,
      );
    }
    const redis = this.#options.redis ?? {};
    const backend = new (Backend as new (options: RedisBackendOptions) => CacheBackend)({
      keyPrefix: "orc:cache:",
      operationTimeoutMs: 250,
      ...redis,
    });
    this.#backend = backend;
    return backend;
  }

  /** Most entries the memory backend holds (`maxSize`); `undefined` for other backends. */
  get maxEntries(): number | undefined {
    return this.#memory?.maxSize;
  }

  /** The key a request is stored under. */
  key(model: ModelIdentity, request: GenerateRequest): string {
    return cacheKey(model, request, this.namespace);
  }

  stats(): ModelCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      coalesced: this.#coalesced,
      bypasses: this.#bypasses,
      errors: this.#errors,
      oversized: this.#oversized,
      size: this.#memory?.size,
      inFlight: this.#flights.size,
    };
  }

  // ---- Cache ------------------------------------------------------------------------------

  generate(
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => Promise<GenerateResult>,
  ): Promise<GenerateResult> {
    const start = performance.now();
    if (request.cache === false) {
      this.#bypass(undefined, model, "request");
      return call();
    }
    let key: string;
    try {
      key = this.key(model, request);
    } catch (error) {
      // An unhashable request (e.g. a cyclic providerOption) is answered, just not cached.
      this.#error("key", error);
      this.#bypass(undefined, model, "request");
      return call();
    }
    if (request.cache === "refresh") return this.#refresh(key, call);

    const joined = this.#flights.get(key);
    if (joined) return this.#join(joined, key, model, request, call, start);

    // Memory lookups are synchronous: a hit costs no flight, no promise chain, no timer.
    const memory = this.#memory;
    if (memory && this.#backend === memory) {
      const raw = memory.peek(key);
      if (raw !== undefined) {
        const entry = this.#parse(key, raw);
        if (entry) return Promise.resolve(this.#hit(entry, key, model, start, false));
      }
      return this.#missed(key, model, request, call, start, true);
    }
    return this.#lead(key, model, request, call, start);
  }

  stream(
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => AsyncIterable<StreamChunk>,
  ): AsyncIterable<StreamChunk> {
    return this.#stream(model, request, call);
  }

  async *#stream(
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => AsyncIterable<StreamChunk>,
  ): AsyncGenerator<StreamChunk> {
    const start = performance.now();
    let key: string | undefined;
    if (request.cache === false) {
      this.#bypass(undefined, model, "request");
    } else {
      try {
        key = this.key(model, request);
      } catch (error) {
        this.#error("key", error);
        this.#bypass(undefined, model, "request");
      }
    }
    if (key === undefined) {
      yield* call();
      return;
    }
    if (request.cache !== "refresh") {
      const found = await this.#lookup(key, model);
      if (found === "bypass") {
        yield* call();
        return;
      }
      if (found) {
        if (request.signal?.aborted) throw new AbortError(undefined, { provider: model.provider, model: model.name });
        this.#hits++;
        const latencyMs = performance.now() - start;
        if (this.listenerCount("hit") > 0)
          this.emit("hit", { key, model: model.name, provider: model.provider, latencyMs, coalesced: false });
        const chunks = replayChunks(found);
        for (const chunk of chunks) yield chunk;
        yield {
          type: "finish",
          finishReason: found.f,
          usage: found.u ?? {},
          costUsd: 0,
          latencyMs,
          timeToFirstChunkMs: latencyMs,
          model: model.name,
          cached: true,
        };
        return;
      }
      this.#miss(key, model);
    }
    // Record the stream as it passes, up to the entry bound (then just pass it through); store it
    // only once it has completed normally.
    let parts: (string | ToolCall)[] | undefined = [];
    let toolCalls: ToolCall[] = [];
    let text = "";
    // Characters the stored JSON will take at least: the text twice (`t` and `ch`), the tool calls twice.
    let chars = ENTRY_OVERHEAD_CHARS;
    const maxChars = this.maxEntryBytes / 2;
    let finish: Extract<StreamChunk, { type: "finish" }> | undefined;
    for await (const chunk of call()) {
      if (chunk.type === "finish") finish = chunk;
      else if (parts !== undefined) {
        if (chunk.type === "text") {
          chars += 2 * chunk.text.length + 3;
          parts.push(chunk.text);
          text += chunk.text;
        } else if (chunk.type === "tool-call") {
          chars += 2 * jsonLength(chunk.toolCall) + 1;
          parts.push(chunk.toolCall);
          toolCalls.push(chunk.toolCall);
        }
        if (chars > maxChars) {
          // Too large to store: let go of what was recorded, so only the consumer holds the chunks.
          parts = undefined;
          toolCalls = [];
          text = "";
          this.#oversized++;
        }
      }
      yield chunk;
    }
    if (parts === undefined || !finish || finish.finishReason?.unified === "error") return;
    const entry: StoredEntry = { t: text, f: finish.finishReason ?? { unified: "stop" }, ch: parts };
    if (toolCalls.length > 0) entry.tc = toolCalls;
    if (finish.usage && (finish.usage.inputTokens !== undefined || finish.usage.outputTokens !== undefined))
      entry.u = finish.usage;
    if (finish.costUsd !== undefined) entry.c = finish.costUsd;
    void this.#store(key, entry);
  }

  // ---- management -------------------------------------------------------------------------

  /** Forget one request's entry. */
  async delete(model: ModelIdentity, request: GenerateRequest): Promise<void> {
    const backend = await this.backend();
    await backend.delete(this.key(model, request));
  }

  /** Forget every entry of this cache's backend. */
  async clear(): Promise<void> {
    const backend = await this.backend();
    await backend.clear();
  }

  /** Close a backend this cache created (a Redis connection); a backend you passed in stays open. */
  async close(): Promise<void> {
    const backend = this.#backend ?? (this.#loading ? await this.#loading.catch(() => undefined) : undefined);
    if (this.#ownsBackend && backend?.close) await backend.close();
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * A lookup in an asynchronous backend. A hit is a single `then` on the backend's promise: no
   * flight, no timer. On a miss the first caller registers the flight (provider call, then the
   * write) synchronously, so identical requests whose lookups miss after it — they were sent
   * after it, and a connection answers in order — join it: one provider call for all of them.
   */
  #lead(
    key: string,
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => Promise<GenerateResult>,
    start: number,
  ): Promise<GenerateResult> {
    return this.#get(key).then(
      (raw) => {
        if (raw !== undefined && raw !== null) {
          const entry = this.#parse(key, raw);
          if (entry) return this.#hit(entry, key, model, start, false);
        }
        return this.#missed(key, model, request, call, start, true);
      },
      (error: unknown) => {
        if (ConfigError.isInstance(error)) throw error;
        this.#error("get", error);
        this.#bypass(key, model, "backend-error");
        return this.#missed(key, model, request, call, start, false);
      },
    );
  }

  /** After a miss (or a failed lookup): join the key's flight if there is one, else lead it. */
  #missed(
    key: string,
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => Promise<GenerateResult>,
    start: number,
    store: boolean,
  ): Promise<GenerateResult> {
    const joined = this.#flights.get(key);
    if (joined) return this.#join(joined, key, model, request, call, start);
    if (store) this.#miss(key, model);
    const flight: Flight = { promise: undefined as unknown as Promise<GenerateResult> };
    this.#flights.set(key, flight);
    flight.promise = this.#call(key, flight, call, store);
    return flight.promise;
  }

  /** The provider call of a flight; on success the entry is written (when `store`), then the flight lands. */
  async #call(
    key: string,
    flight: Flight,
    call: () => Promise<GenerateResult>,
    store: boolean,
  ): Promise<GenerateResult> {
    let storing: Promise<void> | undefined;
    try {
      const result = await call();
      if (store && result.finishReason.unified !== "error") storing = this.#store(key, entryFromResult(result));
      return result;
    } finally {
      // The flight stays joinable until the entry is written, so late arrivals do not miss.
      if (storing) void storing.finally(() => this.#land(key, flight));
      else this.#land(key, flight);
    }
  }

  #land(key: string, flight: Flight): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
  }

  /**
   * A lookup in an asynchronous backend, bounded by `lookupTimeoutMs`. A backend that bounds its
   * own operations within that (`operationTimeoutMs`) gets no extra timer: it settles in time.
   */
  #get(key: string): Promise<string | undefined> {
    const backend = this.#backend;
    if (!backend) return this.backend().then(() => this.#get(key));
    let pending: Promise<string | undefined>;
    try {
      pending = backend.get(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!(pending instanceof Promise)) pending = Promise.resolve(pending);
    const bound = backend.operationTimeoutMs;
    if (typeof bound === "number" && bound > 0 && bound <= this.#lookupTimeoutMs) return pending;
    return withTimeout(pending, this.#lookupTimeoutMs);
  }

  /** A caller that found the key in flight: wait for it, racing its own signal. */
  async #join(
    flight: Flight,
    key: string,
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => Promise<GenerateResult>,
    start: number,
  ): Promise<GenerateResult> {
    let result: GenerateResult;
    try {
      result = await raceSignal(flight.promise, request.signal, model);
    } catch (error) {
      // The leader's own abort is not ours: ask again (this caller may lead the next flight).
      if (AbortError.isInstance(error) && !request.signal?.aborted) return this.generate(model, request, call);
      throw error;
    }
    return this.#hit(entryFromResult(result), key, model, start, true);
  }

  async #refresh(key: string, call: () => Promise<GenerateResult>): Promise<GenerateResult> {
    const result = await call();
    if (result.finishReason.unified !== "error") await this.#store(key, entryFromResult(result));
    return result;
  }

  /** The stored entry, `undefined` on a miss, or `"bypass"` when the backend failed (reported). */
  async #lookup(key: string, model: ModelIdentity): Promise<StoredEntry | undefined | "bypass"> {
    let raw: string | undefined;
    try {
      const memory = this.#memory;
      if (memory && this.#backend === memory) raw = memory.peek(key);
      else raw = await this.#get(key);
    } catch (error) {
      if (ConfigError.isInstance(error)) throw error;
      this.#error("get", error);
      this.#bypass(key, model, "backend-error");
      return "bypass";
    }
    return raw === undefined || raw === null ? undefined : this.#parse(key, raw);
  }

  /**
   * The entry under `key`, checked: one that is too large, not JSON or not a valid entry is
   * reported, deleted (every later call would meet it again until its TTL) and treated as a miss.
   */
  #parse(key: string, raw: string): StoredEntry | undefined {
    let problem: string;
    if (typeof raw !== "string") problem = `a ${typeof raw}, not a string`;
    else if (raw.length * 2 > this.maxEntryBytes) problem = `larger than maxEntryBytes (${this.maxEntryBytes})`;
    else {
      try {
        const entry = parseEntry(raw);
        if (typeof entry !== "string") return entry;
        problem = entry;
      } catch {
        problem = "not JSON";
      }
    }
    this.#error(
      "parse",
      new CacheBackendError(`The entry under ${key} is not a valid cache entry (${problem}); it was deleted.`),
    );
    try {
      void this.#backend?.delete(key).catch(() => undefined);
    } catch {
      // A backend that fails to delete leaves the entry to its TTL; the call still goes to the model.
    }
    return undefined;
  }

  async #store(key: string, entry: StoredEntry): Promise<void> {
    // Cheap check first: the text alone may already be too large to serialise for nothing.
    if (entry.t.length * 2 > this.maxEntryBytes) {
      this.#oversized++;
      return;
    }
    try {
      const value = JSON.stringify(entry);
      if (value.length * 2 > this.maxEntryBytes) {
        this.#oversized++;
        return;
      }
      const backend = this.#backend ?? (await this.backend());
      await backend.set(key, value, this.ttlMs);
    } catch (error) {
      this.#error("set", error);
    }
  }

  #hit(entry: StoredEntry, key: string, model: ModelIdentity, start: number, coalesced: boolean): GenerateResult {
    if (coalesced) this.#coalesced++;
    else this.#hits++;
    const latencyMs = performance.now() - start;
    if (this.listenerCount("hit") > 0)
      this.emit("hit", { key, model: model.name, provider: model.provider, latencyMs, coalesced });
    return resultFromEntry(entry, model.name, model.provider, latencyMs);
  }

  #miss(key: string, model: ModelIdentity): void {
    this.#misses++;
    if (this.listenerCount("miss") > 0) this.emit("miss", { key, model: model.name, provider: model.provider });
  }

  #bypass(key: string | undefined, model: ModelIdentity, reason: CacheBypassEvent["reason"]): void {
    this.#bypasses++;
    if (this.listenerCount("bypass") > 0)
      this.emit("bypass", { key, model: model.name, provider: model.provider, reason });
  }

  #error(operation: CacheErrorEvent["operation"], error: unknown): void {
    this.#errors++;
    // An "error" event without a listener would throw: a cache problem must never fail a call.
    if (this.listenerCount("error") > 0) this.emit("error", { operation, error });
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `ModelCache ${JSON.stringify({ namespace: this.namespace, ttlMs: this.ttlMs, ...this.stats() })}`;
  }

  toJSON(): Record<string, unknown> {
    return { namespace: this.namespace, ttlMs: this.ttlMs, stats: this.stats() };
  }
}

/** Characters of a value's JSON (0 when it has none): the size a tool call adds to an entry. */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    // Not serialisable (a BigInt, a cycle): storing it would fail anyway; count it as too large.
    return Number.POSITIVE_INFINITY;
  }
}

function isBackend(value: unknown): value is CacheBackend {
  if (typeof value !== "object" || value === null) return false;
  const b = value as Record<string, unknown>;
  return (
    typeof b.get === "function" &&
    typeof b.set === "function" &&
    typeof b.delete === "function" &&
    typeof b.clear === "function"
  );
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value;
}

// A call waits on this lookup, so its timer keeps the process alive (a backend stuck without I/O of
// its own would otherwise end a script silently); it is cleared as soon as the lookup settles.
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheBackendError(`The cache backend did not answer within ${ms} ms.`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, model: ModelIdentity): Promise<T> {
  if (!signal) return promise;
  const context = { provider: model.provider, model: model.name };
  if (signal.aborted) return Promise.reject(new AbortError(undefined, context));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(undefined, context));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
