// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text; ${VAR} in them is the subject under test.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { BUILD_MODELS, ConfigError, type Model, defineProvider, formatConfigIssue } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fake, providers } from "../test/plugins";
import {
  buildModels,
  checkDependencies,
  loadModelConfig,
  locateProviders,
  parseModelConfig,
  resolveProviders,
} from "./index";

const fixtures = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
// Fixture packages live in test/fixtures/packages (node_modules/ is git-ignored); `modulePaths` adds that folder.
const modulePaths = [join(fixtures, "packages")];
const env = { ACME_TOKEN: "acme-token-0123456789" };

async function failure(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    return error.issues.map((i) => formatConfigIssue(i));
  }
  throw new Error("expected a ConfigError");
}

describe("a third-party provider named by package", () => {
  it("is imported by name, validates its config block, and builds a working model", async () => {
    const path = join(fixtures, "third-party.yaml");
    const config = await loadModelConfig(path, { env, modulePaths, providers: [fake] });
    const { models, skipped } = await buildModels(config, { modulePaths, providers: [fake] });
    expect(skipped).toEqual([]);
    expect(models.map((m) => [m.name, m.provider])).toEqual([
      ["echo", "@acme/orchestrator-provider-fake"],
      ["local", "fake"],
    ]);
    const echo = models[0] as Model & { tokenLength(): number };
    expect(await echo.generateResponse("hello")).toBe(">> hello");
    expect(echo.capabilities.maxTokens).toBe(2048);
    // The plugin got the token as a Secret (its secretKeys) and can reveal it; nothing shows it.
    expect(echo.tokenLength()).toBe(env.ACME_TOKEN.length);
    expect(inspect(config, { depth: 10 }) + JSON.stringify(config)).not.toContain(env.ACME_TOKEN);
  });

  it("resolves from node_modules above the config file first", async () => {
    const root = mkdtempSync(join(fixtures, "..", "tmp-"));
    try {
      cpSync(
        join(fixtures, "packages/@acme/orchestrator-provider-fake"),
        join(root, "node_modules/@acme/orchestrator-provider-fake"),
        { recursive: true },
      );
      mkdirSync(join(root, "app/config"), { recursive: true });
      const path = join(root, "app/config/models.yaml");
      writeFileSync(
        path,
        'models:\n  - name: echo\n    provider: "@acme/orchestrator-provider-fake"\n    config:\n      access_token: t0ken-abcdef\n',
      );
      const config = await loadModelConfig(path, { env: {} });
      const { models } = await buildModels(config);
      expect(await models[0]?.generateResponse("hi")).toBe("echo: hi");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reports a package that is missing, one that is not a plugin, one that fails to load, and a bad config block — all at once", async () => {
    const path = join(fixtures, "broken-packages.yaml");
    const problems = await failure(loadModelConfig(path, { env: {}, modulePaths }));
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe(
      `${path}:3:15: models[0].provider: provider package "@acme/not-installed" is not installed: npm install @acme/not-installed`,
    );
    expect(problems[1]).toBe(
      `${path}:5:15: models[1].provider: package "@acme/not-a-plugin" is not a provider plugin: it exports VERSION (string), createClient (function); export a plugin made with defineProvider() as its default export or as "provider"`,
    );
    expect(problems[2]).toMatch(
      new RegExp(
        `^${path}:7:15: models\\[2\\]\\.provider: provider package "@acme/broken-provider" failed to load: .*@acme/dependency-that-is-not-installed`,
      ),
    );
    expect(problems[3]).toBe(`${path}:11:7: models[3].config.prefx: unknown key "prefx" — did you mean "prefix"?`);
  });

  it("gives buildModels the same errors for a hand-made config", async () => {
    const config = parseModelConfig('models:\n  - name: x\n    provider: "@acme/nope"\n', { source: "inline.yaml" });
    expect(await failure(buildModels(config))).toEqual([
      'inline.yaml:3:15: models[0].provider: provider package "@acme/nope" is not installed: npm install @acme/nope',
    ]);
  });

  it("a model whose provider cannot run here (loadDependencies rejects): a strict config fails at the model's line before creating any model; a lenient one leaves it out, in skipped, and builds the rest", async () => {
    const created: string[] = [];
    const checked: string[] = [];
    const sdkMissing = defineProvider({
      name: "needs-sdk",
      configSchema: z.object({ package: z.string() }).strict(),
      async loadDependencies(config) {
        checked.push(config.package);
        throw new ConfigError(
          `The Example provider needs the npm package "${config.package}": npm install ${config.package}`,
        );
      },
      create: (spec) => {
        created.push(spec.name);
        return new FakeModel({ name: spec.name });
      },
    });
    const broken = defineProvider({
      name: "broken-native",
      configSchema: z.object({}),
      loadDependencies: () => Promise.reject(new Error("the native binding failed to load")),
      create: (spec) => {
        created.push(spec.name);
        return new FakeModel({ name: spec.name });
      },
    });
    const lines = [
      "models:",
      "  - name: fine",
      "    provider: fake",
      "  - name: a",
      "    provider: needs-sdk",
      "    config: { package: example-sdk }",
      "  - name: b",
      "    provider: broken-native",
    ];
    const providers = [fake, sdkMissing, broken];
    const strict = parseModelConfig(lines.join("\n"), { source: "inline.yaml", providers });
    expect(await failure(buildModels(strict, { providers }))).toEqual([
      'inline.yaml:5:15: models[1].provider: model "a" cannot run: The Example provider needs the npm package "example-sdk": npm install example-sdk',
      'inline.yaml:8:15: models[2].provider: model "b" cannot run: the native binding failed to load',
    ]);
    expect(created).toEqual([]);

    // A model the config already left out (its variable is not set) is not checked.
    checked.length = 0;
    const withUnset = [
      ...lines,
      "  - name: later",
      "    provider: needs-sdk",
      '    config: { package: "${NOT_SET_HERE}" }',
    ];
    const lenient = parseModelConfig(withUnset.join("\n"), {
      source: "inline.yaml",
      providers,
      lenient: true,
      env: {},
    });
    const { models, skipped } = await buildModels(lenient, { providers });
    expect(models.map((m) => m.name)).toEqual(["fine"]);
    expect(skipped.map((s) => [s.name, s.reason, s.location?.line])).toEqual([
      ["a", 'The Example provider needs the npm package "example-sdk": npm install example-sdk', 4],
      ["b", "the native binding failed to load", 7],
      ["later", "NOT_SET_HERE is not set", 9],
    ]);
    expect(checked).toEqual(["example-sdk"]);
    // Neither model that cannot run was created.
    expect(created).toEqual([]);
  });

  it("a loadDependencies that never settles is a problem of that model after the timeout, not a hung start-up", async () => {
    const stuck = defineProvider({
      name: "stuck",
      configSchema: z.object({}),
      loadDependencies: () => new Promise<void>(() => {}),
      create: (spec) => new FakeModel({ name: spec.name }),
    });
    const config = parseModelConfig("models:\n  - name: s\n    provider: stuck\n", {
      source: "inline.yaml",
      providers: [stuck],
    });
    const problems = await checkDependencies(config, new Map([["stuck", stuck]]), { timeoutMs: 50 });
    expect(problems.map((p) => formatConfigIssue(p.issue))).toEqual([
      'inline.yaml:3:15: models[0].provider: model "s" cannot run: the stuck provider did not finish loading what it needs within 0.05 s',
    ]);
  });

  it("loads a provider from a file path relative to the config file", async () => {
    const root = mkdtempSync(join(fixtures, "..", "tmp-"));
    try {
      writeFileSync(
        join(root, "provider.mjs"),
        'import { defineProvider } from "@orchestrator-ts/core";\nimport { z } from "zod";\nexport const provider = defineProvider({ name: "local-file", configSchema: z.object({}), create: () => { throw new Error("not needed"); } });\n',
      );
      writeFileSync(join(root, "models.yaml"), "models:\n  - name: x\n    provider: ./provider.mjs\n");
      const config = await loadModelConfig(join(root, "models.yaml"), { env: {} });
      const plugins = await resolveProviders(config);
      expect(plugins.get("./provider.mjs")?.name).toBe("local-file");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("checking a config without running the code it names", () => {
  it("loadPlugins: false locates providers by package and file without importing them; the default imports (runs) them", async () => {
    const root = mkdtempSync(join(fixtures, "..", "tmp-"));
    try {
      const marker = join(root, "imported.marker");
      writeFileSync(
        join(root, "provider.mjs"),
        `import { writeFileSync } from "node:fs";\nimport { defineProvider } from "@orchestrator-ts/core";\nimport { z } from "zod";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default defineProvider({ name: "marked", configSchema: z.object({ size: z.number() }).strict(), create: () => { throw new Error("not needed"); } });\n`,
      );
      const path = join(root, "models.yaml");
      writeFileSync(
        path,
        'models:\n  - name: x\n    provider: ./provider.mjs\n    config: { size: "big" }\n  - name: y\n    provider: "@acme/orchestrator-provider-fake"\n    config: { access_token: t0ken-abcdef }\n',
      );
      const config = await loadModelConfig(path, { env: {}, modulePaths, loadPlugins: false });
      expect(existsSync(marker)).toBe(false);
      expect(await locateProviders(config, { modulePaths })).toEqual(
        new Map([
          ["./provider.mjs", { kind: "file", file: join(root, "provider.mjs"), loaded: false }],
          [
            "@acme/orchestrator-provider-fake",
            {
              kind: "package",
              file: join(fixtures, "packages/@acme/orchestrator-provider-fake/index.mjs"),
              loaded: false,
            },
          ],
        ]),
      );
      expect(existsSync(marker)).toBe(false);
      // A missing file is still an error, found without importing anything.
      writeFileSync(join(root, "missing.yaml"), "models:\n  - name: x\n    provider: ./gone.mjs\n");
      expect(await failure(loadModelConfig(join(root, "missing.yaml"), { env: {}, loadPlugins: false }))).toEqual([
        `${join(root, "missing.yaml")}:3:15: models[0].provider: provider file "./gone.mjs" was not found (looked for ${join(root, "gone.mjs")})`,
      ]);
      // By default the file is imported, which runs it, and its config block is checked.
      expect(await failure(loadModelConfig(path, { env: {}, modulePaths }))).toEqual([
        `${path}:4:21: models[0].config.size: expected a number, got "big"`,
      ]);
      expect(readFileSync(marker, "utf8")).toBe("ran");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("buildModels", () => {
  it("builds every model through its plugin, with the entry's capabilities", async () => {
    const text =
      "models:\n  - name: a\n    provider: fake\n    config: {response: pong}\n    capabilities: {code_generation: true, max_tokens: 1000}\n  - name: b\n    provider: ollama\n    config: {model_path: 'llama2:7b'}\n";
    const { models } = await buildModels(parseModelConfig(text, { providers }), { providers });
    expect(models.map((m) => m.name)).toEqual(["a", "b"]);
    expect(await models[0]?.generateResponse("ping")).toBe("pong");
    expect(models[0]?.capabilities).toMatchObject({ codeGeneration: true, maxTokens: 1000 });
    // Undeclared capabilities: the plugin used its own. Plugin defaults fill the config.
    expect(models[1]?.capabilities.maxTokens).toBe(2048);
    expect(await models[1]?.generateResponse("x")).toBe("localhost:11434/llama2:7b");
  });

  it("skips models that lenient parsing marked unavailable, and says why", async () => {
    const text =
      'models:\n  - name: gpt-4\n    provider: openai\n    config:\n      api_key: "${OPENAI_API_KEY}"\n  - name: local\n    provider: fake\n';
    const config = parseModelConfig(text, { env: {}, lenient: true, providers, source: "m.yaml" });
    const { models, skipped } = await buildModels(config, { providers });
    expect(models.map((m) => m.name)).toEqual(["local"]);
    expect(skipped).toEqual([
      {
        name: "gpt-4",
        provider: "openai",
        reason: "OPENAI_API_KEY is not set",
        location: { source: "m.yaml", line: 2, column: 5 },
      },
    ]);
  });

  it("lists the known providers for an unknown one", async () => {
    const config = parseModelConfig("models:\n  - name: a\n    provider: antropic\n", { source: "m.yaml" });
    expect(await failure(buildModels(config, { providers }))).toEqual([
      'm.yaml:3:15: models[0].provider: unknown provider "antropic" — did you mean "anthropic"?; known providers: openai, anthropic, ollama, fake, huggingface, llama-cpp, ai-sdk (or name an installed plugin package)',
    ]);
  });

  it("reports a plugin whose create fails, at the model's line", async () => {
    const failing = defineProvider({
      name: "failing",
      configSchema: z.object({}).passthrough(),
      create: () => {
        throw new Error("endpoint unreachable");
      },
    });
    const config = parseModelConfig(
      "models:\n  - name: ok\n    provider: fake\n  - name: bad\n    provider: failing\n",
      { source: "m.yaml" },
    );
    expect(await failure(buildModels(config, { providers: [fake, failing] }))).toEqual([
      'm.yaml:4:5: models[1]: provider "failing" could not create model "bad": endpoint unreachable',
    ]);
  });

  it("accepts plugins as an array or a record (the record's key is the name used in YAML)", async () => {
    const config = parseModelConfig("models:\n  - name: a\n    provider: my-fake\n");
    const { models } = await buildModels(config, { providers: { "my-fake": fake } });
    expect(models[0]).toBeInstanceOf(FakeModel);
  });
});

describe("built-in short names", () => {
  it("loads provider: openai from @orchestrator-ts/provider-openai when no plugin is given", async () => {
    const config = parseModelConfig(
      "models:\n  - name: gpt-4o-mini\n    provider: openai\n    config:\n      api_key: sk-test-0000000000000000\n",
      { source: "short.yaml" },
    );
    const { models } = await buildModels(config);
    expect(models[0]?.provider).toBe("openai");
    expect(models[0]?.constructor.name).toBe("OpenAIModel");
    // The same through the symbol registryFromConfig uses, which stays out of JSON.
    const built = await (config as unknown as Record<symbol, (o: object) => Promise<{ models: unknown[] }>>)[
      BUILD_MODELS
    ]?.({});
    expect(built?.models).toHaveLength(1);
    expect(Object.keys(JSON.parse(JSON.stringify(config)))).toEqual(["models", "source"]);
  });

  it("says which package to install for a built-in name that is not installed", async () => {
    const config = parseModelConfig("models:\n  - name: local\n    provider: llama.cpp\n", { source: "short.yaml" });
    await expect(buildModels(config, { cwd: "/", modulePaths: [] })).rejects.toThrow(
      /provider "llama.cpp" comes from @orchestrator-ts\/provider-llama-cpp|provider package "@orchestrator-ts\/provider-llama-cpp" failed to load/,
    );
  });

  it("provider: ai-sdk comes from @orchestrator-ts/ai-sdk, and says so when it is not installed", async () => {
    const config = parseModelConfig(
      'models:\n  - name: gemini\n    provider: ai-sdk\n    config: { package: "@ai-sdk/google", model: gemini-2.5-flash }\n',
      { source: "short.yaml" },
    );
    await expect(buildModels(config, { cwd: "/", modulePaths: [] })).rejects.toThrow(
      /provider "ai-sdk" comes from @orchestrator-ts\/ai-sdk, which is not installed: npm install @orchestrator-ts\/ai-sdk/,
    );
  });
});
