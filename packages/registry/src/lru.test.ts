import { describe, expect, it } from "vitest";
import { LruMap } from "./lru";
import { seededRandom } from "./random";

describe("LruMap eviction order", () => {
  it("matches a reference LRU under random sets, reads, deletes and clears", () => {
    const random = seededRandom(7);
    const reference = new Map<number, number>();
    const lru = new LruMap<number, number>(50);
    for (let i = 0; i < 50_000; i++) {
      const key = Math.floor(random() * 120);
      const op = random();
      if (op < 0.45) {
        const value = reference.get(key);
        if (value !== undefined) {
          reference.delete(key);
          reference.set(key, value);
        }
        expect(lru.get(key)).toBe(value);
      } else if (op < 0.5) {
        expect(lru.delete(key)).toBe(reference.delete(key));
      } else if (op < 0.501) {
        reference.clear();
        lru.clear();
      } else {
        reference.delete(key);
        reference.set(key, i);
        if (reference.size > 50) reference.delete(reference.keys().next().value as number);
        lru.set(key, i);
      }
      expect(lru.size).toBe(reference.size);
    }
  });

  it("keeps exactly the most recent `capacity` keys of a long run of new ones", () => {
    const lru = new LruMap<string, number>(1_000);
    for (let i = 0; i < 25_000; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(1_000);
    expect(lru.get("k23999")).toBeUndefined();
    expect(lru.get("k24000")).toBe(24_000);
    lru.set("k25000", 25_000);
    // k24000 was just read: k24001 is now the least recently used.
    expect(lru.get("k24001")).toBeUndefined();
    expect(lru.get("k24000")).toBe(24_000);
    expect(lru.size).toBe(1_000);
  });
});
