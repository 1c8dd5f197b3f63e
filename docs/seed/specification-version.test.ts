// A third-party model package carries the version of the contracts it was built for; one built
// against another @orchestrator-ts/core is refused with a typed error where it is named.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { customProvider } from "@acme/orchestrator-provider-custom";
import { loadModelConfig } from "@orchestrator-ts/config";
import { ConfigError, type Model, SPECIFICATION_VERSION, SpecificationVersionError } from "@orchestrator-ts/core";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PACKAGE = "@acme/orchestrator-provider-next";
let dir: string;

// A plugin package as it is installed when built against another release of core: it brings its
// own copy of @orchestrator-ts/core (the real build, whose contract version is "v2" there).
beforeAll(() => {
  // Inside the workspace, so that the copy of core finds its own dependency (zod) as installed.
  dir = mkdtempSync(join(import.meta.dirname, ".spec-version-"));
  const pkg = join(dir, "node_modules", PACKAGE);
  const core = join(pkg, "node_modules/@orchestrator-ts/core");
  const realCore = dirname(createRequire(import.meta.url).resolve("@orchestrator-ts/core/package.json"));
  mkdirSync(join(core, "dist"), { recursive: true });
  cpSync(join(realCore, "package.json"), join(core, "package.json"));
  // The whole build (its entries share chunks), with the version changed wherever it is defined.
  const defined = `SPECIFICATION_VERSION = "${SPECIFICATION_VERSION}"`;
  const changed: string[] = [];
  for (const file of readdirSync(join(realCore, "dist"))) {
    if (!/\.(c?js)$/.test(file)) continue;
    const text = readFileSync(join(realCore, "dist", file), "utf8");
    if (text.includes(defined)) changed.push(file.endsWith(".cjs") ? "cjs" : "esm");
    writeFileSync(join(core, "dist", file), text.replace(defined, 'SPECIFICATION_VERSION = "v2"'));
  }
  expect([...new Set(changed)].sort()).toEqual(["cjs", "esm"]);
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({
      name: PACKAGE,
      version: "2.0.0",
      type: "module",
      exports: "./index.js",
      dependencies: { "@orchestrator-ts/core": "2.0.0" },
    }),
  );
  writeFileSync(
    join(pkg, "index.js"),
    `import { Model, defineProvider } from "@orchestrator-ts/core";
export class NextModel extends Model {
  async doGenerate() { return { text: "from the future" }; }
}
export default defineProvider({
  name: ${JSON.stringify(PACKAGE)},
  configSchema: { parse: (v) => v, safeParse: (v) => ({ success: true, data: v }) },
  create: ({ name }) => new NextModel({ name, provider: "next" }),
});
`,
  );
  writeFileSync(
    join(dir, "models.yaml"),
    `models:
  - name: next-model
    provider: "${PACKAGE}"
    capabilities:
      text_generation: true
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("specificationVersion", () => {
  it("a plugin and its models carry the version of the core they were built with", async () => {
    expect(SPECIFICATION_VERSION).toBe("v1");
    expect(customProvider.specificationVersion).toBe(SPECIFICATION_VERSION);
    const registry = new ModelRegistry();
    const model = registry.registerModel(
      await customProvider.create({
        name: "acme",
        config: { apiKey: "sk-acme-000000000000", endpoint: "http://127.0.0.1:9" },
        capabilities: undefined as never,
        constraints: undefined as never,
        capabilitiesDeclared: false,
      }),
    );
    expect(model.specificationVersion).toBe(SPECIFICATION_VERSION);
  });

  it("loadModelConfig refuses a plugin package built for another version, at its provider line", async () => {
    const error = await loadModelConfig(join(dir, "models.yaml")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(SpecificationVersionError.isInstance(error)).toBe(true);
    // Still a configuration problem for whoever handles those (the CLI's exit code, for one).
    expect(ConfigError.isInstance(error)).toBe(true);
    const e = error as SpecificationVersionError;
    expect(e.code).toBe("specification_version_error");
    expect(e.expected).toBe("v1");
    expect(e.issues).toEqual([expect.objectContaining({ path: "models[0].provider", line: 3 })]);
    expect(e.message).toContain(`models.yaml:3`);
    expect(e.message).toContain(
      `provider package "${PACKAGE}" was built for specification "v2", but this @orchestrator-ts/core implements v1`,
    );
  });

  it("registerModel refuses a model built against another core", async () => {
    const mod = (await import(pathToFileURL(join(dir, "node_modules", PACKAGE, "index.js")).href)) as {
      NextModel: new (o: { name: string; provider: string }) => Model;
    };
    const model = new mod.NextModel({ name: "next-model", provider: "next" });
    expect(model.specificationVersion).toBe("v2");
    const registry = new ModelRegistry();
    expect(() => registry.registerModel(model)).toThrow(SpecificationVersionError);
    try {
      registry.registerModel(model);
    } catch (error) {
      expect(SpecificationVersionError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /model "next-model" \(NextModel\) was built for specification "v2", but this @orchestrator-ts\/core implements v1/,
      );
    }
    expect(registry.listModels()).toEqual([]);
  });
});
