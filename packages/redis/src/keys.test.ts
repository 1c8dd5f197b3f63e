import { describe, expect, it } from "vitest";
import { keyBeside } from "./keys";

// What Redis Cluster hashes (its specification): the part between the first "{" and the first
// "}" after it, when that is not empty; else the whole key.
function hashed(key: string): string {
  const open = key.indexOf("{");
  if (open < 0) return key;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

describe("keyBeside", () => {
  it("puts the companion key in the same cluster slot as the key, tagged or not", () => {
    for (const key of ["orc:stats", "{app}:stats", "app:{tenant}:stats", "{a}{b}"]) {
      const companion = keyBeside(key, ":writer:1");
      expect(hashed(companion)).toBe(hashed(key));
      expect(companion.endsWith(":writer:1")).toBe(true);
    }
  });
});
