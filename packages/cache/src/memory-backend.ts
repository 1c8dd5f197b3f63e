import type { CacheBackend } from "@orchestrator/core";

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
 * In-process LRU with per-entry TTL. A `Map` keeps insertion order, so "move to most recent" is a
 * delete + set and eviction takes the first live key: every operation is O(1).
 */
export class MemoryCacheBackend implements CacheBackend {
  readonly maxSize: number;
  readonly maxBytes: number;
  readonly #ttlMs: number | undefined;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  // One iterator for every eviction: removed entries stay behind it as deleted slots until the map
  // compacts, and a fresh keys() would walk over all of them each time (20x slower at 50,000).
  // Everything live is ahead of it: new and touched entries go to the end.
  #oldest: Iterator<string> | undefined;
  #bytes = 0;

  constructor(options: MemoryCacheBackendOptions = {}) {
    this.maxSize = options.maxSize ?? 10_000;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.maxSize >= 1)) throw new RangeError(`maxSize must be at least 1 (got ${options.maxSize}).`);
    if (!(this.maxBytes > 0)) throw new RangeError(`maxBytes must be positive (got ${options.maxBytes}).`);
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
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
      this.#remove(key, entry);
      return undefined;
    }
    // Most recently used moves to the end.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  put(key: string, value: string, ttlMs: number | undefined = this.#ttlMs): void {
    const bytes = (key.length + value.length) * 2;
    const old = this.#entries.get(key);
    if (old) this.#remove(key, old);
    // An entry larger than the whole budget would evict everything and still not fit.
    if (bytes > this.maxBytes) return;
    const expiresAt = ttlMs === undefined || ttlMs === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.#now() + ttlMs;
    this.#entries.set(key, { value, expiresAt, bytes });
    this.#bytes += bytes;
    while (this.#entries.size > this.maxSize || this.#bytes > this.maxBytes) {
      let oldest = (this.#oldest ??= this.#entries.keys()).next();
      if (oldest.done) oldest = (this.#oldest = this.#entries.keys()).next();
      if (oldest.done) break;
      this.#remove(oldest.value, this.#entries.get(oldest.value) as Entry);
    }
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.peek(key));
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.put(key, value, ttlMs);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry) this.#remove(key, entry);
    return Promise.resolve();
  }

  clear(): Promise<void> {
    this.#entries.clear();
    this.#oldest = undefined;
    this.#bytes = 0;
    return Promise.resolve();
  }
}
