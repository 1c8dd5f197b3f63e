import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
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

  it("a full map that is only read keeps its memory flat", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const lru = new LruMap<string, string>(1_000);
    for (let i = 0; i <= 1_000; i++) lru.set(`k${i}`, "v".repeat(100)); // one eviction has happened
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) lru.get(`k${1 + ((i * 7) % 1_000)}`);
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
    // Still in use after the measurement, so the collector cannot drop it first.
    expect(lru.get("k1")).toBe("v".repeat(100));
    // A Map-order LRU that kept one iterator for evictions held every rebuilt table (~+78 MB).
    expect(grownMb).toBeLessThan(10);
  });

  it("set returns what it evicted; peek reads without refreshing; removeOldest takes the least recent", () => {
    const lru = new LruMap<string, number>(2);
    expect(lru.removeOldest()).toBeUndefined();
    expect(lru.set("a", 1)).toBeUndefined();
    expect(lru.set("b", 2)).toBeUndefined();
    // Replacing an existing key evicts nothing and makes it the most recent.
    expect(lru.set("a", 10)).toBeUndefined();
    expect(lru.set("c", 3)).toBe(2);
    // peek does not refresh: "a" stays the least recent.
    expect(lru.peek("a")).toBe(10);
    expect(lru.set("d", 4)).toBe(10);
    expect([lru.peek("a"), lru.peek("c"), lru.peek("d")]).toEqual([undefined, 3, 4]);
    expect(lru.removeOldest()).toBe(3);
    expect(lru.removeOldest()).toBe(4);
    expect(lru.removeOldest()).toBeUndefined();
    expect(lru.size).toBe(0);
    const one = new LruMap<string, number>(1);
    one.set("x", 1);
    expect(one.set("y", 2)).toBe(1);
    expect([one.get("x"), one.get("y")]).toEqual([undefined, 2]);
  });
});
