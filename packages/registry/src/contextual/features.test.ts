import { describe, expect, it } from "vitest";
import { HashedNgramExtractor, SparseFeatures, requestText } from "./features";

describe("HashedNgramExtractor", () => {
  it("gives fixed-size, L2-normalised, de-duplicated sparse features plus bias, length and task", () => {
    const ex = new HashedNgramExtractor({ dimensions: 256, lengthWeight: 0, taskWeight: 0 });
    const x = ex.extract({ text: "Write a function to sort a list. Write a function!" }, new SparseFeatures());
    const seen = new Set<number>();
    let norm = 0;
    for (let k = 0; k < x.size; k++) {
      const i = x.indices[k] as number;
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(256);
      expect(seen.has(i)).toBe(false);
      seen.add(i);
      if (i !== 0) norm += (x.values[k] as number) ** 2;
    }
    expect(x.indices[0]).toBe(0); // bias first
    expect(x.values[0]).toBe(1);
    expect(norm).toBeCloseTo(1, 9);
  });

  it("is deterministic, case-insensitive, and tells tasks and texts apart", () => {
    const ex = new HashedNgramExtractor();
    const a = ex.extract({ text: "Hello World", task: "chat" }, new SparseFeatures()).toJSON();
    const b = ex.extract({ text: "hello   world", task: "chat" }, new SparseFeatures()).toJSON();
    const c = ex.extract({ text: "hello world", task: "code" }, new SparseFeatures()).toJSON();
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(ex.extract({ text: "goodbye moon", task: "chat" }, new SparseFeatures()).toJSON()).not.toEqual(a);
  });

  it("reuses the output buffers and reads only the tail when asked", () => {
    const ex = new HashedNgramExtractor({ tailChars: 20 });
    const out = new SparseFeatures(4096);
    const buffer = out.indices;
    const long = `${"shared few-shot template ".repeat(40)}the actual question`;
    ex.extract({ text: long }, out);
    expect(out.indices).toBe(buffer);
    const tailOnly = ex.extract({ text: "the actual question".padStart(20, " ") }, new SparseFeatures()).toJSON();
    expect(out.toJSON().i.length).toBeLessThanOrEqual(tailOnly.i.length + 2);
  });

  it("rejects bad options with a ConfigError that names them", () => {
    expect(() => new HashedNgramExtractor({ dimensions: 3, charNgrams: [0] })).toThrow(/dimensions[\s\S]*charNgrams/);
  });

  it("reads the user messages of a request", () => {
    expect(
      requestText({
        messages: [
          { role: "system", content: "sys" },
          { role: "user", content: "hi" },
        ],
      }),
    ).toBe("hi");
    expect(
      requestText({
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "b" },
          { role: "user", content: [{ type: "text", text: "c" }] },
        ],
      }),
    ).toBe("a\nc");
    expect(requestText(undefined)).toBe("");
  });
});
