import { describe, expect, it } from "vitest";
import { lazyModule } from "./lazy-module";

describe("lazyModule", () => {
  it("imports on the first load only, and says nothing is loaded before that", async () => {
    let imports = 0;
    const lazy = lazyModule(async () => {
      imports++;
      return { answer: 42 };
    });
    expect(imports).toBe(0);
    expect(lazy.loaded()).toBeUndefined();
    const [a, b] = await Promise.all([lazy.load(), lazy.load()]);
    expect(a).toBe(b);
    expect(lazy.loaded()).toBe(a);
    await lazy.load();
    expect(imports).toBe(1);
  });

  it("a failed import rejects every load that shares it", async () => {
    const lazy = lazyModule(() => Promise.reject(new Error("Cannot find package 'x'")));
    await expect(lazy.load()).rejects.toThrow("Cannot find package 'x'");
    await expect(lazy.load()).rejects.toThrow("Cannot find package 'x'");
    expect(lazy.loaded()).toBeUndefined();
  });
});
