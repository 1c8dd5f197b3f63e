import * as crypto from "node:crypto";
import type { Cache, GenerateRequest, ModelIdentity } from "@orchestrator-ts/core";
import { LruMap } from "@orchestrator-ts/core/internal";

/** Most requests remembered, whatever the cache holds. */
const MAX_REMEMBERED = 10_000;
// Keys up to this length are kept as they are (a cache key is ~47 characters); longer ones are hashed.
const MAX_PLAIN_KEY = 64;
// The cache's key of a request without a model: the same request identity the cache uses, for any model.
const ANY_MODEL: ModelIdentity = Object.freeze({ name: "", provider: "" });

// One-shot hashing (Node ≥ 20.12) skips the Hash object.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "base64url") => string }).hash;
const sha256 = oneShot
  ? (text: string) => oneShot("sha256", text, "base64url")
  : (text: string) => crypto.createHash("sha256").update(text).digest("base64url");

interface Remembered {
  model: string;
  /** `performance.now()` after which the cache no longer has the answer. */
  expiresAt: number;
}

/**
 * Which model answered a cacheable request, so that the same request goes back to it and its
 * cache answers, whichever model the selector would try now. Keyed by the cache's own key (a
 * hash), never the request text, and bounded by the cache's bounds: no more requests than it
 * holds entries (at most 10,000), none for longer than its entries live.
 */
export class CacheAffinity {
  readonly capacity: number;
  readonly ttlMs: number;
  readonly #cache: Cache;
  readonly #remembered: LruMap<string, Remembered>;

  constructor(cache: Cache) {
    this.#cache = cache;
    const maxEntries = cache.maxEntries;
    this.capacity =
      typeof maxEntries === "number" && maxEntries >= 1
        ? Math.min(MAX_REMEMBERED, Math.floor(maxEntries))
        : MAX_REMEMBERED;
    const ttlMs = cache.ttlMs;
    this.ttlMs = typeof ttlMs === "number" && ttlMs > 0 ? ttlMs : Number.POSITIVE_INFINITY;
    this.#remembered = new LruMap(this.capacity);
  }

  /** The key of a cacheable request under these requirements; `undefined` when it bypasses the cache or cannot be keyed. */
  key(request: GenerateRequest, requirements: unknown): string | undefined {
    if (request.cache === false || request.cache === "refresh") return undefined;
    try {
      let key: string;
      if (typeof this.#cache.key === "function") key = this.#cache.key(ANY_MODEL, request);
      else {
        const { signal: _signal, timeoutMs: _timeout, cache: _cache, ...rest } = request;
        key = JSON.stringify(rest);
      }
      // Requirements are part of the decision: the same prompt under others is decided anew.
      if (requirements !== undefined) key = `${key}\u0000${JSON.stringify(requirements)}`;
      return key.length <= MAX_PLAIN_KEY ? key : sha256(key);
    } catch {
      return undefined; // not serialisable (e.g. a cyclic providerOption): no affinity
    }
  }

  /** The model that answered this key, while the cache can still hold its answer. */
  get(key: string): string | undefined {
    const remembered = this.#remembered.get(key);
    if (remembered === undefined) return undefined;
    if (performance.now() >= remembered.expiresAt) {
      this.#remembered.delete(key);
      return undefined;
    }
    return remembered.model;
  }

  set(key: string, model: string): void {
    this.#remembered.set(key, { model, expiresAt: performance.now() + this.ttlMs });
  }

  get size(): number {
    return this.#remembered.size;
  }
}
