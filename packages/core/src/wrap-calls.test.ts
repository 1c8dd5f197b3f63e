import { describe, expect, it } from "vitest";
import { replaceMethods, rewrapStream } from "./wrap-calls";

class Registry {
  generate(): string {
    return "registry";
  }
}

describe("replaceMethods", () => {
  it("puts the wrappers on the instance and takes them off again, last on first off", () => {
    const registry = new Registry();
    const first = registry.generate;
    const offA = replaceMethods(registry, { generate: () => `a(${first.call(registry)})` });
    const second = registry.generate;
    const offB = replaceMethods(registry, { generate: () => `b(${second.call(registry)})` });
    expect(registry.generate()).toBe("b(a(registry))");
    offB();
    expect(registry.generate()).toBe("a(registry)");
    offA();
    expect(registry.generate()).toBe("registry");
    expect(Object.hasOwn(registry, "generate")).toBe(false);
  });

  it("leaves a wrapper put on after it in place", () => {
    const registry = new Registry();
    const offA = replaceMethods(registry, { generate: () => "a" });
    replaceMethods(registry, { generate: () => "b" });
    offA();
    expect(registry.generate()).toBe("b");
  });

  it("puts back an own method that was there before", () => {
    const registry = new Registry();
    const own = () => "own";
    (registry as { generate: () => string }).generate = own;
    const off = replaceMethods(registry, { generate: () => "wrapped" });
    expect(registry.generate()).toBe("wrapped");
    off();
    expect(registry.generate).toBe(own);
  });
});

describe("rewrapStream", () => {
  it("reads the inner stream's facts live, takes its chunks from iterate(), and is iterable once", async () => {
    const inner = {
      selectionId: undefined as string | undefined,
      explanation: undefined,
      attempts: [] as unknown[],
      cascade: undefined as unknown,
      async *[Symbol.asyncIterator]() {
        yield 1;
      },
    };
    const outer = rewrapStream(inner, async function* () {
      for await (const n of inner) yield n * 10;
    });
    inner.selectionId = "sel-1";
    inner.cascade = { stages: 2 };
    expect(outer.selectionId).toBe("sel-1");
    expect(outer.cascade).toEqual({ stages: 2 });
    const seen: number[] = [];
    for await (const n of outer) seen.push(n);
    expect(seen).toEqual([10]);
    expect(() => outer[Symbol.asyncIterator]()).toThrow("iterated only once");
  });

  it("reads the facts and iterates through a Proxy of the stream, as a caller's wrapper does", async () => {
    const inner = {
      selectionId: "sel-2",
      explanation: { note: "n" },
      attempts: [] as unknown[],
      async *[Symbol.asyncIterator]() {
        yield 1;
      },
    };
    const outer = rewrapStream(inner, () => inner[Symbol.asyncIterator]());
    const wrapped = new Proxy(outer, {});
    expect(wrapped.selectionId).toBe("sel-2");
    expect(wrapped.explanation).toEqual({ note: "n" });
    expect(Object.create(outer).selectionId).toBe("sel-2");
    const seen: number[] = [];
    for await (const n of wrapped) seen.push(n);
    expect(seen).toEqual([1]);
    expect(() => outer[Symbol.asyncIterator]()).toThrow("iterated only once");
  });
});
