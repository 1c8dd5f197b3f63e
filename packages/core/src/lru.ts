interface Node<K, V> {
  key: K;
  value: V;
  // Recency list: `older` towards the eviction end.
  older: Node<K, V> | undefined;
  newer: Node<K, V> | undefined;
}

/**
 * A bounded map that forgets its least recently used entries (the registry's memory of recent
 * selections, the memory cache's entries). A `Map` finds the entries; a doubly
 * linked recency list through them makes a read's move to the front and an eviction O(1).
 * (Not the Map's own insertion order: re-inserting on every read makes V8 rebuild the table, and
 * finding the oldest key then walks every deleted slot, or, with one iterator kept for it, keeps
 * every old table alive until the next eviction: a read-only phase grew without bound.)
 *
 * Values should not be `undefined`: `get`, `set` and `removeOldest` return `undefined` for
 * "nothing there / nothing evicted".
 */
export class LruMap<K, V> {
  readonly capacity: number;
  readonly #map = new Map<K, Node<K, V>>();
  #newest: Node<K, V> | undefined;
  #oldest: Node<K, V> | undefined;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`LruMap capacity must be a positive integer, got ${capacity}.`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const node = this.#map.get(key);
    if (node === undefined) return undefined;
    if (node !== this.#newest) {
      this.#unlink(node);
      this.#pushNewest(node);
    }
    return node.value;
  }

  /** The value without making it most recent. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Set and make most recent; past the capacity the least recent entry goes: its value is returned. */
  set(key: K, value: V): V | undefined {
    const node = this.#map.get(key);
    if (node !== undefined) {
      node.value = value;
      if (node !== this.#newest) {
        this.#unlink(node);
        this.#pushNewest(node);
      }
      return undefined;
    }
    const added: Node<K, V> = { key, value, older: undefined, newer: undefined };
    this.#map.set(key, added);
    this.#pushNewest(added);
    return this.#map.size > this.capacity ? this.removeOldest() : undefined;
  }

  /** Remove the least recently used entry; its value, or `undefined` when empty. */
  removeOldest(): V | undefined {
    const oldest = this.#oldest;
    if (oldest === undefined) return undefined;
    this.#remove(oldest);
    return oldest.value;
  }

  delete(key: K): boolean {
    const node = this.#map.get(key);
    if (node === undefined) return false;
    this.#remove(node);
    return true;
  }

  /** Every entry, least recently used first; iterating does not change the order (do not modify the map meanwhile). */
  *entries(): IterableIterator<[K, V]> {
    for (let node = this.#oldest; node !== undefined; node = node.newer) yield [node.key, node.value];
  }

  clear(): void {
    this.#map.clear();
    this.#newest = undefined;
    this.#oldest = undefined;
  }

  #pushNewest(node: Node<K, V>): void {
    node.older = this.#newest;
    node.newer = undefined;
    if (this.#newest) this.#newest.newer = node;
    else this.#oldest = node;
    this.#newest = node;
  }

  #unlink(node: Node<K, V>): void {
    if (node.older) node.older.newer = node.newer;
    else this.#oldest = node.newer;
    if (node.newer) node.newer.older = node.older;
    else this.#newest = node.older;
    node.older = undefined;
    node.newer = undefined;
  }

  #remove(node: Node<K, V>): void {
    this.#map.delete(node.key);
    this.#unlink(node);
  }
}
