import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const INDEX = fileURLToPath(new URL("./index.ts", import.meta.url));

/** What a bundler keeps of this package for `code` (tree-shaken as any `sideEffects: false` package is). */
async function bundle(code: string): Promise<string> {
  const out = await build({
    stdin: { contents: code, resolveDir: fileURLToPath(new URL(".", import.meta.url)), loader: "ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    treeShaking: true,
    external: ["@orchestrator-ts/core"],
    logLevel: "silent",
  });
  return out.outputFiles[0]?.text ?? "";
}

describe("what a plain ModelRegistry pulls in", () => {
  it("only the default selector: no other selector, no contextual router, no replay, no file system", async () => {
    const text = await bundle(
      `import { ModelRegistry } from ${JSON.stringify(INDEX)};\nexport const registry = new ModelRegistry();`,
    );
    expect(text).toMatch(/\bModelRegistry = class|class ModelRegistry\b/);
    expect(text).toContain("UCBModelSelector"); // the default
    for (const name of [
      "ThompsonSamplingSelector",
      "CostBasedSelector",
      "WeightedRandomSelector",
      "ContextualSelector",
      "HashedNgramExtractor",
      "createSelector",
      "appendFileSync",
      "readFileSync",
    ]) {
      expect(text, `${name} is bundled with a plain ModelRegistry`).not.toContain(name);
    }
    expect(text).not.toMatch(/from\s*["'](node:)?fs["']/);
  });

  it("registryFromConfig brings the selectors a config can name", async () => {
    const text = await bundle(
      `import { registryFromConfig } from ${JSON.stringify(INDEX)};\nexport const build = registryFromConfig;`,
    );
    for (const name of ["ThompsonSamplingSelector", "CostBasedSelector", "ContextualSelector"])
      expect(text).toContain(name);
  });
});
