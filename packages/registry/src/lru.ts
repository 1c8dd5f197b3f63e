/**
 * A bounded map that forgets its least recently used entries: the registry remembers recent
 * selections for late feedback without growing forever. Map insertion order is the recency order.
 */
export class LruMap<K, V> {
  readonly capacity: number;
  readonly #map = new Map<K, V>();
  #oldest: Iterator<K> | undefined;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruMap capacity must be a positive integer, got ${capacity}.`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.#map.has(key)) this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) {
      // One iterator for every eviction: evicted entries stay behind it as deleted slots until the
      // map compacts, and a fresh keys() would walk over all of them each time (~µs at 10,000).
      // Everything live is ahead of it: new and touched entries go to the end.
      let oldest = (this.#oldest ??= this.#map.keys()).next();
      if (oldest.done) oldest = (this.#oldest = this.#map.keys()).next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
    this.#oldest = undefined;
  }
}
