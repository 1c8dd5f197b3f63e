import { EventEmitter } from "node:events";
import {
  AbortError,
  type Cache,
  type CacheBackend,
  ConfigError,
  type GenerateRequest,
  type GenerateResult,
  type ModelIdentity,
  type StreamChunk,
  type StreamReport,
} from "@orchestrator-ts/core";
import { type StoredEntry, entryFromResult, parseEntry, replayChunks, resultFromEntry } from "./entry";
import { cacheKey } from "./key";
import { MemoryCacheBackend } from "./memory-backend";
import { type ModuleImporter, defaultImporter, describe, isBackend, loadRedisBackend } from "./backend";
import { StreamRecorder } from "./stream-recorder";
import { CacheBackendError } from "./errors";
import { raceCaller, withTimeout } from "./waits";
import type { CacheBypassEvent, CacheErrorEvent, ModelCacheEvents, ModelCacheOptions, ModelCacheStats } from "./types";

const DEFAULT_TTL_MS = 3_600_000;
// Twice the longest answer a model gives today (128k tokens ≈ 512k characters, stored as text and chunks).
const DEFAULT_MAX_ENTRY_BYTES = 4 * 1024 * 1024;

/** One key's lookup and, on a miss, its provider call: identical requests arriving meanwhile join it. */
interface Flight {
  /** The leader's provider call (joiners count as coalesced). */
  promise: Promise<GenerateResult>;
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
    this.#loading ??= loadRedisBackend(this.#importer, this.#options.redis ?? {}).then(
      (backend) => {
        this.#backend = backend;
        return backend;
      },
      (error: unknown) => {
        // A failed load is not remembered: installing the package and calling again works.
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
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
    report?: StreamReport,
  ): AsyncIterable<StreamChunk> {
    return this.#stream(model, request, call, report);
  }

  async *#stream(
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => AsyncIterable<StreamChunk>,
    report: StreamReport | undefined,
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
        // The stored answer's warnings, before its first chunk as the original stream had them.
        if (found.w !== undefined && report !== undefined) for (const warning of found.w) report.warn(warning);
        for (const chunk of chunks) yield chunk;
        const finish: Extract<StreamChunk, { type: "finish" }> = {
          type: "finish",
          finishReason: found.f,
          usage: found.u ?? {},
          costUsd: 0,
          latencyMs,
          timeToFirstChunkMs: latencyMs,
          model: model.name,
          cached: true,
        };
        if (found.w !== undefined) finish.warnings = found.w;
        yield finish;
        return;
      }
      this.#miss(key, model);
    }
    // Record the stream as it passes, up to the entry bound (then just pass it through); store it
    // only once it has completed normally.
    const recorder = new StreamRecorder(this.maxEntryBytes);
    let finish: Extract<StreamChunk, { type: "finish" }> | undefined;
    for await (const chunk of call()) {
      if (chunk.type === "finish") finish = chunk;
      else if (recorder.add(chunk)) this.#oversized++;
      yield chunk;
    }
    const entry = recorder.entry(finish);
    if (entry) void this.#store(key, entry);
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

  /** A caller that found the key in flight: wait for it, racing its own signal and deadline. */
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
      result = await raceCaller(flight.promise, request, model, start);
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
