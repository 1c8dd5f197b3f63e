import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import {
  runScript,
  startAnthropicServer,
  startHuggingFaceServer,
  startOllamaServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { describe, expect, it, vi } from "vitest";

const PACKAGE = resolve(__dirname, "..");

/** Writes a module-resolution hook (`resolve`'s body) and the file that registers it: `node --import <returned path>`. */
function resolveHook(dir: string, name: string, imports: string, body: string): string {
  const hook = join(dir, `${name}.mjs`);
  writeFileSync(
    hook,
    `${imports}export async function resolve(specifier, context, next) {\n${body}\n  return next(specifier, context);\n}\n`,
  );
  const register = join(dir, `register-${name}.mjs`);
  writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(`file://${hook}`)});\n`);
  return register;
}

/** A resolve hook under which `name` is not installed: Node's own error for a package that cannot be found. */
function hidePackage(dir: string, name: string): string {
  return resolveHook(
    dir,
    `no-${name}`,
    "",
    `  if (specifier === ${JSON.stringify(name)}) throw Object.assign(new Error("Cannot find package '${name}' imported from " + context.parentURL), { code: "ERR_MODULE_NOT_FOUND" });`,
  );
}

const OPENAI_MODEL =
  '  - name: gpt\n    provider: openai\n    config: { api_key: "sk-test", base_url: "http://127.0.0.1:9/v1" }';

/** One model of each provider whose SDK is loaded on demand. */
function providerModels(ollamaUrl: string): string[] {
  return [
    OPENAI_MODEL,
    '  - name: claude\n    provider: anthropic\n    config: { api_key: "sk-ant-test", base_url: "http://127.0.0.1:9" }',
    '  - name: hf\n    provider: huggingface\n    config: { api_key: "hf_test", model: "org/model" }',
    `  - name: llama\n    provider: ollama\n    config: { host: "${ollamaUrl}", model_path: "llama3.2:1b" }`,
  ];
}

function modelsYaml(dir: string, models: string[]): string {
  const file = join(dir, `models-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `models:\n${models.join("\n")}\n`);
  return file;
}

/** A resolve hook that appends every ES-module import of a provider SDK (or ioredis) to `seen`. */
function noteSdkImports(dir: string, seen: string): string {
  return resolveHook(
    dir,
    "note",
    `import { appendFileSync } from "node:fs";\n`,
    `  if (/^(@anthropic-ai\\/sdk|@huggingface\\/inference|ioredis|ollama|openai)($|\\/)/.test(specifier)) appendFileSync(${JSON.stringify(seen)}, specifier + "\\n");`,
  );
}

describe("what orchestrator-ts needs at run time", () => {
  it("not the test kit: @orchestrator-ts/testing is a devDependency only", () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain("@orchestrator-ts/testing");
    expect(pkg.dependencies["@orchestrator-ts/gguf"]).toBeDefined();
  });

  it("writes the demo's model files and builds the orchestrator in a process where @orchestrator-ts/testing cannot be loaded", {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-runtime-"));
    try {
      // A resolve hook that refuses the test kit: any import of it, direct or through a dependency, fails the run.
      const register = resolveHook(
        dir,
        "no-testing",
        "",
        `  if (specifier === "@orchestrator-ts/testing" || specifier.startsWith("@orchestrator-ts/testing/")) throw new Error("@orchestrator-ts/testing was loaded at run time by " + context.parentURL);`,
      );
      const models = join(dir, "models");
      // The demo's path: the embedded default writes the local models, then the registry is built from it.
      const script = `
import { createOrchestrator } from "orchestrator-ts";
const orchestrator = await createOrchestrator({ env: { ORCHESTRATOR_HOME: ${JSON.stringify(dir)} }, startHealthMonitor: false });
console.log("models", orchestrator.registry.listModels().map((m) => m.name).join(","));
await orchestrator.close();
`;
      const run = await runScript({ script }, { cwd: PACKAGE, nodeArgs: ["--import", register], timeoutMs: 50_000 });
      expect(run.timedOut).toBe(false);
      expect(run.stderr).not.toMatch(/@orchestrator-ts\/testing was loaded/);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^models tiny-q4,tiny-q8,tiny-f16/m);
      for (const m of ["tiny-q4_0.gguf", "tiny-q8_0.gguf", "tiny-f16.gguf"])
        expect(existsSync(join(models, m))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loads the SDKs of the providers a config uses when it builds their models (so a missing one fails at start-up), none on import and no other provider's (openai, Anthropic, Hugging Face, Ollama); ioredis not at all without Redis", {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-lazy-"));
    // An Ollama model's initialisation asks its server for the installed models.
    const ollama = await startOllamaServer({ models: ["llama3.2:1b"] });
    try {
      // ESM imports go through a resolve hook that notes them; CommonJS requires land in require.cache.
      const seen = join(dir, "seen.txt");
      const register = noteSdkImports(dir, seen);
      const openaiOnly = modelsYaml(dir, [OPENAI_MODEL]);
      const all = modelsYaml(dir, providerModels(ollama.url));
      const script = `
import { createRequire } from "node:module";
import { readFileSync, existsSync } from "node:fs";
const { createOrchestrator } = await import("orchestrator-ts");
const loaded = () => {
  const esm = existsSync(${JSON.stringify(seen)}) ? readFileSync(${JSON.stringify(seen)}, "utf8").trim().split("\\n") : [];
  const cjs = Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules\\/ioredis\\//.test(f)).map(() => "ioredis");
  return [...new Set([...esm, ...cjs])].sort().join(",") || "none";
};
console.log("imported:", loaded());
const one = await createOrchestrator({ config: ${JSON.stringify(openaiOnly)}, startHealthMonitor: false });
console.log("openai only:", loaded());
for (const model of one.registry.listModels()) await model.initialize();
console.log("openai initialised:", loaded());
await one.close();
const many = await createOrchestrator({ config: ${JSON.stringify(all)}, startHealthMonitor: false });
console.log("built:", loaded());
for (const model of many.registry.listModels()) await model.initialize();
console.log("initialised:", loaded());
await many.close();
`;
      const run = await runScript({ script }, { cwd: PACKAGE, nodeArgs: ["--import", register], timeoutMs: 50_000 });
      expect(run.timedOut).toBe(false);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^imported: none$/m);
      // Building checks that each provider the config uses can run: its SDK is loaded then, and only its.
      expect(run.stdout).toMatch(/^openai only: openai$/m);
      expect(run.stdout).toMatch(/^openai initialised: openai$/m);
      expect(run.stdout).toMatch(/^built: @anthropic-ai\/sdk,@huggingface\/inference,ollama,openai$/m);
      expect(run.stdout).toMatch(/^initialised: @anthropic-ai\/sdk,@huggingface\/inference,ollama,openai$/m);
    } finally {
      await ollama.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("in a CommonJS application, requires the SDKs' CommonJS builds (the copy the application has), importing none of their ES module builds", {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-cjs-"));
    const ollama = await startOllamaServer({ models: ["llama3.2:1b"] });
    try {
      const seen = join(dir, "seen.txt");
      const register = noteSdkImports(dir, seen);
      const all = modelsYaml(dir, providerModels(ollama.url));
      // Under the package, so that its bare requires resolve as an application's would.
      const cache = join(PACKAGE, "node_modules", ".cache");
      mkdirSync(cache, { recursive: true });
      const file = join(cache, `commonjs-app-${process.pid}.cjs`);
      writeFileSync(
        file,
        `
const { existsSync, readFileSync } = require("node:fs");
const { createOrchestrator } = require("orchestrator-ts");
const SDK = /node_modules\\/((?:@anthropic-ai\\/sdk)|(?:@huggingface\\/inference)|ollama|openai)\\//;
const required = () => [...new Set(Object.keys(require.cache).map((f) => SDK.exec(f)?.[1]).filter(Boolean))].sort().join(",") || "none";
(async () => {
  // Telemetry on: @orchestrator-ts/otel is loaded on demand too, by require in a CommonJS build.
  const many = await createOrchestrator({ config: ${JSON.stringify(all)}, startHealthMonitor: false, telemetry: {} });
  console.log("built, required:", required());
  // Strings, not booleans: console.log colours a boolean when FORCE_COLOR is set (as in CI).
  console.log("otel required: " + Object.keys(require.cache).some((f) => /otel[\\/]dist[\\/]index\\.cjs$/.test(f)));
  for (const model of many.registry.listModels()) await model.initialize();
  console.log("initialised, required:", required());
  console.log("imported:", existsSync(${JSON.stringify(seen)}) ? readFileSync(${JSON.stringify(seen)}, "utf8").trim().split("\\n").sort().join(",") : "none");
  // The application's require gives the very module the provider loaded: one copy of each SDK.
  const entries = ["openai", "@anthropic-ai/sdk", "@huggingface/inference", "ollama"].map((name) => require.resolve(name));
  console.log("entries cached: " + entries.every((entry) => require.cache[entry] !== undefined));
  await many.close();
})();
`,
      );
      const run = await runScript({ file }, { cwd: PACKAGE, nodeArgs: ["--import", register], timeoutMs: 50_000 });
      rmSync(file, { force: true });
      expect(run.timedOut).toBe(false);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^built, required: @anthropic-ai\/sdk,@huggingface\/inference,ollama,openai$/m);
      expect(run.stdout).toMatch(/^initialised, required: @anthropic-ai\/sdk,@huggingface\/inference,ollama,openai$/m);
      expect(run.stdout).toMatch(/^imported: none$/m);
      expect(run.stdout).toMatch(/^entries cached: true$/m);
      expect(run.stdout).toMatch(/^otel required: true$/m);
    } finally {
      await ollama.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("the CLI imports a command's packages when that command runs: --help, keys and replay load no provider, server or Redis package", {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-cli-imports-"));
    try {
      const seen = join(dir, "seen.txt");
      const register = resolveHook(
        dir,
        "packages",
        `import { appendFileSync } from "node:fs";\n`,
        `  if (specifier.startsWith("@orchestrator-ts/")) appendFileSync(${JSON.stringify(seen)}, specifier + "\\n");`,
      );
      const loaded = async (...args: string[]) => {
        rmSync(seen, { force: true });
        const run = await runScript(
          { file: join(PACKAGE, "bin/orchestrator.js") },
          { args, cwd: PACKAGE, nodeArgs: ["--import", register], timeoutMs: 30_000 },
        );
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toMatch(/^orchestrator/); // the help text: the command ran to its end
        return existsSync(seen) ? [...new Set(readFileSync(seen, "utf8").trim().split("\n"))].sort() : [];
      };
      expect(await loaded("--help")).toEqual(["@orchestrator-ts/core", "@orchestrator-ts/gguf"]);
      expect(await loaded("keys", "--help")).not.toContainEqual(expect.stringMatching(/provider-|server|redis|replay/));
      const replay = await loaded("replay", "--help");
      expect(replay).toContain("@orchestrator-ts/replay");
      expect(replay).not.toContainEqual(expect.stringMatching(/provider-|server|redis/));
      // A command that builds the orchestrator brings the providers, as before.
      expect(await loaded("serve", "--help")).toContain("@orchestrator-ts/server");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a CommonJS application bundled (and minified) with esbuild carries the provider SDKs and calls OpenAI, Anthropic, Hugging Face and Ollama models from a folder with no node_modules; SDK errors are still recognised", {
    timeout: 90_000,
  }, async () => {
    const { build } = await import("esbuild");
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-bundle-"));
    const servers = await Promise.all([
      startOpenAIServer({ apiKey: "sk-test" }),
      startAnthropicServer({ apiKey: "sk-ant-test" }),
      startHuggingFaceServer({ apiKey: "hf_test" }),
      startOllamaServer({ models: ["llama3.2:1b"] }),
    ]);
    const [openai, anthropic, hf, ollama] = servers;
    try {
      // The application, written under the package so that bundling resolves our packages as an installed app would.
      const cache = join(PACKAGE, "node_modules", ".cache");
      mkdirSync(cache, { recursive: true });
      const entry = join(cache, `bundled-app-${process.pid}.cjs`);
      writeFileSync(
        entry,
        `
const { OpenAIModel } = require("@orchestrator-ts/provider-openai");
const { AnthropicModel } = require("@orchestrator-ts/provider-anthropic");
const { HuggingFaceModel } = require("@orchestrator-ts/provider-huggingface");
const { OllamaModel } = require("@orchestrator-ts/provider-ollama");
const env = JSON.parse(process.env.SERVERS);
const models = [
  new OpenAIModel({ name: "gpt", model: "gpt-4o-mini", apiKey: "sk-test", baseURL: env.openai }),
  new AnthropicModel({ name: "claude", apiKey: "sk-ant-test", baseURL: env.anthropic }),
  new HuggingFaceModel({ name: "hf", model: "meta-llama/Llama-3.1-8B-Instruct", accessToken: "hf_test", endpointUrl: env.hf }),
  new OllamaModel({ name: "llama", modelPath: "llama3.2:1b", host: env.ollama }),
  // Nothing listens on port 9: the SDK's connection error, recognised in a minified bundle too.
  new OpenAIModel({ name: "gpt-refused", model: "gpt-4o-mini", apiKey: "sk-test", baseURL: "http://127.0.0.1:9/v1" }),
];
(async () => {
  for (const model of models) {
    const result = await model.generate({ messages: [{ role: "user", content: "say hello" }] }).then(
      (r) => "answered " + (r.text.length > 0),
      (e) => "failed: " + e.message,
    );
    console.log(model.name, result);
    await model.cleanup();
  }
})();
`,
      );
      const bundle = join(dir, "app.cjs");
      const built = await build({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        outfile: bundle,
        // Minified, as bundles often ship: class names are mangled.
        minify: true,
        logLevel: "silent",
      });
      rmSync(entry, { force: true });
      // A require the bundler could not follow would be a warning here, and a missing module at run time.
      expect(built.warnings.map((w) => w.text)).toEqual([]);
      const run = await runScript(
        { file: bundle },
        {
          cwd: dir,
          env: {
            ...process.env,
            SERVERS: JSON.stringify({
              openai: `${openai.url}/v1`,
              anthropic: anthropic.baseURL,
              hf: hf.endpointUrl,
              ollama: ollama.url,
            }),
          },
          timeoutMs: 60_000,
        },
      );
      expect(run.timedOut).toBe(false);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trim().split("\n");
      expect(lines.slice(0, 4).sort()).toEqual([
        "claude answered true",
        "gpt answered true",
        "hf answered true",
        "llama answered true",
      ]);
      expect(lines[4]).toMatch(/^gpt-refused failed: Connection to http:\/\/127\.0\.0\.1:9\/v1 failed/);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("an ES module application bundled into one CommonJS file (as for AWS Lambda) builds OpenAI and llama.cpp models from a config and calls OpenAI: undici and node-llama-cpp are found through the bundle's require, not the empty import.meta", {
    timeout: 90_000,
  }, async () => {
    const { build } = await import("esbuild");
    const openai = await startOpenAIServer({ apiKey: "sk-test" });
    // Beside the package, so that what the bundle leaves out (undici, node-llama-cpp) resolves from its node_modules.
    const cache = join(PACKAGE, "node_modules", ".cache");
    mkdirSync(cache, { recursive: true });
    const entry = join(cache, `esm-app-${process.pid}.mjs`);
    const bundle = join(cache, `esm-app-${process.pid}.cjs`);
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-esm-bundle-"));
    try {
      // Only built, never loaded (creating the model reads its header).
      await writeTinyGguf(join(dir, "tiny.gguf"));
      writeFileSync(
        entry,
        `
import { buildModels, parseModelConfig } from "@orchestrator-ts/config";
import { openaiProvider } from "@orchestrator-ts/provider-openai";
import { llamaCppProvider } from "@orchestrator-ts/provider-llama-cpp";
const providers = { openai: openaiProvider, "llama-cpp": llamaCppProvider };
const text = [
  "models:",
  "  - name: gpt",
  "    provider: openai",
  '    config: { api_key: sk-test, base_url: "' + process.env.OPENAI_URL + '" }',
  "  - name: tiny",
  "    provider: llama-cpp",
  "    config: { model_path: " + process.env.MODEL_PATH + " }",
].join("\\n");
(async () => {
  const { models } = await buildModels(parseModelConfig(text, { providers }), { providers });
  console.log("built " + models.map((m) => m.name).join(","));
  const answer = await models[0].generate({ messages: [{ role: "user", content: "say hello" }] });
  console.log("answered " + (answer.text.length > 0));
  await Promise.all(models.map((m) => m.cleanup()));
})().catch((error) => { console.log("failed: " + error.message); process.exitCode = 1; });
`,
      );
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        outfile: bundle,
        // A native package is installed beside a bundle, not bundled.
        external: ["node-llama-cpp"],
        logLevel: "silent",
      });
      const run = await runScript(
        { file: bundle },
        {
          cwd: cache,
          env: { ...process.env, OPENAI_URL: `${openai.url}/v1`, MODEL_PATH: join(dir, "tiny.gguf") },
          timeoutMs: 60_000,
        },
      );
      expect(run.timedOut).toBe(false);
      expect(run.stdout + run.stderr).toContain("built gpt,tiny");
      expect(run.stdout + run.stderr).toContain("answered true");
      expect(run.code, run.stderr).toBe(0);
    } finally {
      await openai.close();
      rmSync(entry, { force: true });
      rmSync(bundle, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a model whose provider SDK is not installed: validate fails at the model's line with the package to install (exit 3); models, generate and serve leave it out and say why, as for a missing key", {
    timeout: 90_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-missing-sdk-"));
    try {
      const register = hidePackage(dir, "openai");
      const config = modelsYaml(dir, [OPENAI_MODEL]);
      const reason =
        'The OpenAI provider needs the npm package "openai", which is not installed here: npm install openai';
      const cli = (args: string[]) =>
        runScript(
          { file: join(PACKAGE, "bin/orchestrator.js") },
          { args, cwd: dir, nodeArgs: ["--import", register], timeoutMs: 30_000 },
        );
      const [validate, models, generate] = await Promise.all([
        cli(["validate", "--config", config]),
        cli(["models", "--config", config]),
        cli(["generate", "hello", "--config", config]),
      ]);
      expect(validate.stderr).toContain(`${config}:3:15: models[0].provider: model "gpt" cannot run: ${reason}`);
      expect(validate.code, validate.stderr).toBe(3);
      expect(models.stdout).toContain(`unavailable: ${reason}`);
      expect(models.code, models.stderr).toBe(0);
      expect(generate.stderr).toContain(`unavailable: gpt (openai): ${reason}`);
      expect(generate.code, generate.stderr).toBe(4);
      // serve starts (a fleet's config may name models some hosts cannot run), says which model it left out and why, and is not ready.
      const serve = spawn(
        process.execPath,
        ["--import", register, join(PACKAGE, "bin/orchestrator.js"), "serve", "--config", config, "--port", "0"],
        { cwd: dir },
      );
      let out = "";
      serve.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      serve.stderr.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      const exited = new Promise<number | null>((done) => serve.once("exit", (code) => done(code)));
      try {
        await vi.waitFor(() => expect(out).toMatch(/unavailable: gpt \(openai\): The OpenAI provider needs/), {
          timeout: 20_000,
          interval: 50,
        });
        const url = /serving on (http:\/\/\S+)/.exec(out)?.[1];
        const ready = await fetch(`${url}/readyz`);
        expect(ready.status).toBe(503);
      } finally {
        serve.kill("SIGTERM");
      }
      expect(await exited).toBe(0);
      // llama.cpp's package is located, not imported (that takes ~0.5 s), and a missing one is reported the same way.
      const noLlama = hidePackage(dir, "node-llama-cpp");
      await writeTinyGguf(join(dir, "tiny.gguf")); // validate creates the model: its file must exist
      const llamaConfig = modelsYaml(dir, [
        "  - name: tiny\n    provider: llama-cpp\n    config: { model_path: ./tiny.gguf }",
      ]);
      const llama = await runScript(
        { file: join(PACKAGE, "bin/orchestrator.js") },
        { args: ["validate", "--config", llamaConfig], cwd: dir, nodeArgs: ["--import", noLlama], timeoutMs: 30_000 },
      );
      expect(llama.stderr).toContain(
        `${llamaConfig}:3:15: models[0].provider: model "tiny" cannot run: The llama.cpp provider needs the npm package "node-llama-cpp", which is not installed here: npm install node-llama-cpp`,
      );
      expect(llama.code, llama.stderr).toBe(3);
      // And when it is installed, validate only locates it: a load hook (imports load, resolving does not) sees no node-llama-cpp module.
      const loads = join(dir, "loads.txt");
      const hook = join(dir, "note-loads.mjs");
      writeFileSync(
        hook,
        `import { appendFileSync } from "node:fs";\nexport async function load(url, context, next) {\n  if (url.includes("/node-llama-cpp/")) appendFileSync(${JSON.stringify(loads)}, url + "\\n");\n  return next(url, context);\n}\n`,
      );
      const noteLoads = join(dir, "register-note-loads.mjs");
      writeFileSync(
        noteLoads,
        `import { register } from "node:module";\nregister(${JSON.stringify(`file://${hook}`)});\n`,
      );
      const located = await runScript(
        { file: join(PACKAGE, "bin/orchestrator.js") },
        { args: ["validate", "--config", llamaConfig], cwd: dir, nodeArgs: ["--import", noteLoads], timeoutMs: 30_000 },
      );
      expect(located.stdout).toContain("valid, 1 model(s): tiny");
      expect(located.code, located.stderr).toBe(0);
      expect(existsSync(loads) ? readFileSync(loads, "utf8") : "").toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a command left waiting on something that can never complete (a provider plugin whose module never finishes loading) says so and exits 1, not silently with 0", {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-never-settles-"));
    try {
      // (A provider's loadDependencies has a time limit of its own; importing a plugin module has none.)
      writeFileSync(join(dir, "stuck-provider.mjs"), "await new Promise(() => {});\nexport default {};\n");
      const config = modelsYaml(dir, ["  - name: stuck\n    provider: ./stuck-provider.mjs"]);
      const run = await runScript(
        { file: join(PACKAGE, "bin/orchestrator.js") },
        { args: ["validate", "--config", config, "--load-plugins"], cwd: dir, timeoutMs: 30_000 },
      );
      expect(run.timedOut).toBe(false);
      expect(run.stdout).not.toContain("valid");
      expect(run.stderr).toContain("orchestrator validate: stopped before finishing");
      expect(run.code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
