import type { CacheBackend } from "@orchestrator-ts/core";
import { LruMap } from "@orchestrator-ts/core/internal";

export interface MemoryCacheBackendOptions {
  /** Most entries kept; the least recently used goes first. Default 10,000. */
  maxSize?: number;
  /** Optional bound on stored characters × 2 (UTF-16 bytes) of keys and values. */
  maxBytes?: number;
  /** Expiry used when `set` is given none. Default: never. */
  ttlMs?: number;
  now?: () => number;
}

interface Entry {
  value: string;
  expiresAt: number;
  bytes: number;
}

/**
 * In-process LRU with per-entry TTL, on core's `LruMap` (a hit moves its entry to the front, an
 * eviction takes the back, both O(1)); entries past `maxSize` or `maxBytes` go oldest first.
 */
export class MemoryCacheBackend implements CacheBackend {
  readonly maxSize: number;
  readonly maxBytes: number;
  readonly #ttlMs: number | undefined;
  readonly #now: () => number;
  readonly #entries: LruMap<string, Entry>;
  #bytes = 0;

  constructor(options: MemoryCacheBackendOptions = {}) {
    this.maxSize = options.maxSize ?? 10_000;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.maxSize >= 1)) throw new RangeError(`maxSize must be at least 1 (got ${options.maxSize}).`);
    if (!(this.maxBytes > 0)) throw new RangeError(`maxBytes must be positive (got ${options.maxBytes}).`);
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#entries = new LruMap(Number.isFinite(this.maxSize) ? Math.floor(this.maxSize) : Number.MAX_SAFE_INTEGER);
  }

  /** Entries held now (expired ones are dropped lazily, on access or eviction). */
  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Synchronous lookup; `get` wraps it. */
  peek(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
      return undefined;
    }
    return entry.value;
  }

  put(key: string, value: string, ttlMs: number | undefined = this.#ttlMs): void {
    const bytes = (key.length + value.length) * 2;
    const old = this.#entries.peek(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
    // An entry larger than the whole budget would evict everything and still not fit.
    if (bytes > this.maxBytes) return;
    const expiresAt =
      ttlMs === undefined || ttlMs === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.#now() + ttlMs;
    const evicted = this.#entries.set(key, { value, expiresAt, bytes });
    this.#bytes += bytes;
    if (evicted) this.#bytes -= evicted.bytes;
    while (this.#bytes > this.maxBytes) {
      const oldest = this.#entries.removeOldest();
      if (oldest === undefined) break;
      this.#bytes -= oldest.bytes;
    }
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.peek(key));
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.put(key, value, ttlMs);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    const entry = this.#entries.peek(key);
    if (entry) {
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
    return Promise.resolve();
  }

  clear(): Promise<void> {
    this.#entries.clear();
    this.#bytes = 0;
    return Promise.resolve();
  }
}
