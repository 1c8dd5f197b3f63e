import { describe, expect, it } from "vitest";
import { ConfigError } from "./errors";
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

  it("a failed import rejects the loads that share it, and the next load tries again", async () => {
    let attempts = 0;
    const lazy = lazyModule(async () => {
      attempts++;
      if (attempts === 1) throw Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
      return { answer: 42 };
    });
    const first = [lazy.load(), lazy.load()];
    for (const p of first) await expect(p).rejects.toThrow("EMFILE");
    expect(attempts).toBe(1);
    expect(lazy.loaded()).toBeUndefined();
    await expect(lazy.load()).resolves.toEqual({ answer: 42 });
    expect(attempts).toBe(2);
  });

  it("a loader that throws at once (CommonJS require) rejects instead of throwing", async () => {
    const lazy = lazyModule<never>(() => {
      throw new Error("boom");
    });
    let load: Promise<never> | undefined;
    expect(() => {
      load = lazy.load();
    }).not.toThrow();
    await expect(load).rejects.toThrow("boom");
  });

  it("a package that is not installed is a ConfigError that says what to install and who needs it (ESM and CommonJS wording)", async () => {
    const options = { package: "openai", neededBy: "The OpenAI provider" };
    for (const notFound of [
      Object.assign(new Error("Cannot find package 'openai' imported from /app/dist/index.js"), {
        code: "ERR_MODULE_NOT_FOUND",
      }),
      Object.assign(new Error("Cannot find module 'openai'\nRequire stack:\n- /app/dist/index.cjs"), {
        code: "MODULE_NOT_FOUND",
      }),
    ]) {
      const error = await lazyModule(() => Promise.reject(notFound), options)
        .load()
        .catch((e: unknown) => e);
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toBe(
        'Missing package: The OpenAI provider needs the npm package "openai", which is not installed here: npm install openai',
      );
      expect((error as Error).cause).toMatchObject({ message: notFound.message });
    }
    // A file missing inside the package (a broken install) is not "install the package": the original error stays.
    const inside = Object.assign(new Error("Cannot find module './core/error.js'"), { code: "MODULE_NOT_FOUND" });
    await expect(lazyModule(() => Promise.reject(inside), options).load()).rejects.toBe(inside);
  });
});
