import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import { freePort, startOllamaServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";

const CLI = resolve(__dirname, "../dist/cli/cli.js");
const FIXTURES = resolve(__dirname, "../test/fixtures");
// One model folder for the whole file: the first command writes the tiny GGUF files, later ones reuse them.
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-cli-"));
// No cloud keys: the demo must work offline and report those models as unavailable.
const ENV: Record<string, string> = { PATH: process.env.PATH ?? "", HOME, ORCHESTRATOR_HOME: HOME };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = ENV, cwd = HOME): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe("orchestrator CLI (the built bin, as a user runs it)", () => {
  it("prints help with every command and exits 0; an unknown command exits 2", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["demo", "generate", "stream", "select", "models", "health", "validate", "replay"])
      expect(help.stdout).toContain(command);
    const sub = await run(["validate", "--help"]);
    expect(sub.stdout).toContain("strictly");
    const unknown = await run(["fly"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "fly"');
    const badFlag = await run(["models", "--colour"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/usage error: .*--colour/);
  });

  it("runs the demo on the embedded default with no keys: decisions, a cache hit, statistics", {
    timeout: 180_000,
  }, async () => {
    const result = await run(["demo", "--prompts", "6", "--max-tokens", "8", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      config: string;
      skipped: { name: string; reason: string }[];
      decisions: { model: string; cached: boolean; latencyMs: number; text: string }[];
      statistics: { models: { model: string; trials: number }[] };
      health: { model: string; status: string }[];
    };
    expect(out.config).toBe("embedded default");
    expect(out.skipped.find((s) => s.name === "gpt-4o-mini")?.reason).toMatch(/OPENAI_API_KEY is not set/);
    expect(out.decisions).toHaveLength(6);
    expect(out.decisions.every((d) => ["tiny-q4", "tiny-q8", "tiny-f16"].includes(d.model))).toBe(true);
    // Prompt 5 repeats prompt 1 (same request): answered from the cache.
    expect(out.decisions[4]?.cached).toBe(true);
    expect(out.decisions[4]?.text).toBe(out.decisions[0]?.text);
    expect(out.statistics.models.reduce((n, m) => n + m.trials, 0)).toBeGreaterThanOrEqual(5);
    expect(out.health.map((h) => h.model).sort()).toEqual(["tiny-f16", "tiny-q4", "tiny-q8"]);
  });

  it("explains the demo's models to a person and says the weights are random", { timeout: 180_000 }, async () => {
    const result = await run(["demo", "--prompts", "3", "--max-tokens", "6"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/model\s+calls\s+success/);
    expect(result.stdout).toContain("RANDOM weights");
    expect(result.stdout).toContain("OPENAI_API_KEY");
    expect(result.stderr).toContain("unavailable: gpt-4o-mini (openai): OPENAI_API_KEY is not set");
  });

  it("lists models with the unavailable ones and why", { timeout: 60_000 }, async () => {
    const result = await run(["models", "--json"]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { models: { name: string; available: boolean; reason?: string }[] };
    expect(out.models.filter((m) => m.available).map((m) => m.name)).toEqual(["tiny-q4", "tiny-q8", "tiny-f16"]);
    expect(out.models.find((m) => m.name === "claude-haiku-4-5")).toMatchObject({
      available: false,
      reason: expect.stringMatching(/ANTHROPIC_API_KEY is not set/),
    });
  });

  it("generates and streams one prompt", { timeout: 60_000 }, async () => {
    const generated = await run([
      "generate",
      "Explain quantum computing",
      "--max-tokens",
      "6",
      "--seed",
      "3",
      "--json",
    ]);
    expect(generated.code).toBe(0);
    const result = JSON.parse(generated.stdout) as { text: string; model: string; usage: { outputTokens: number } };
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeLessThanOrEqual(6);
    const streamed = await run(["stream", "Explain quantum computing", "--model", "tiny-q4", "--max-tokens", "6"]);
    expect(streamed.code).toBe(0);
    expect(streamed.stdout.length).toBeGreaterThan(0);
    expect(streamed.stderr).toMatch(/\[tiny-q4\] .* ms, first chunk after/);
    const noPrompt = await run(["generate"]);
    expect(noPrompt.code).toBe(2);
  });

  it("explains a selection, and exits 4 when nothing is eligible", { timeout: 60_000 }, async () => {
    const result = await run(["select", "--capability", "text_generation", "--json"]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { candidates: { model: string; score: number }[] };
    expect(out.candidates).toHaveLength(3);
    const none = await run(["select", "--capability", "vision"]);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/tiny-q4: .*vision/);
    // The explanation explains the empty result too.
    expect(none.stdout).toMatch(/selected: none/);
    expect(none.stdout).toMatch(/tiny-f16\s+lacks capability "vision"/);
    const noneJson = await run(["select", "--capability", "vision", "--json"]);
    expect(noneJson.code).toBe(4);
    expect(JSON.parse(noneJson.stdout)).toMatchObject({
      candidates: [],
      excluded: [{ model: "tiny-q4", code: "capability" }, { model: "tiny-q8" }, { model: "tiny-f16" }],
    });
    // Unexplored models: an infinite score and bonus, shown as such (not "undefined").
    const text = await run(["select"]);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain("undefined");
    expect(text.stdout).toMatch(/\* tiny-q4\s+∞\s+mean 0\.000, bonus ∞, 0 trials/);
    // A typo in a flag is a usage error (2), with one suggestion.
    const typo = await run(["select", "--capability", "visoin"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      'usage error: --capability: unknown capability "visoin". Did you mean "vision"? Known:',
    );
    expect(typo.stderr).not.toContain("Preparing local models");
  });

  it("checks health now", { timeout: 60_000 }, async () => {
    const result = await run(["health", "--json"]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { model: string; status: string; isHealthy: boolean }[];
    expect(
      out
        .filter((s) => s.isHealthy)
        .map((s) => s.model)
        .sort(),
    ).toEqual(["tiny-f16", "tiny-q4", "tiny-q8"]);
    expect(out.find((s) => s.model === "gpt-4o-mini")?.status).toBe("unavailable");
  });

  it("checks health now: a model whose check fails makes the exit code 1", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "health-cli-"));
    const config = join(dir, "models.yaml");
    writeFileSync(
      config,
      `models:\n  - name: down\n    provider: openai\n    config: { api_key: sk-test-000000000000, base_url: "http://127.0.0.1:${await freePort()}/v1" }\n`,
    );
    const result = await run(["health", "--config", config, "--json"]);
    expect(result.code).toBe(1);
    const out = JSON.parse(result.stdout) as { model: string; isHealthy: boolean; status: string }[];
    expect(out).toMatchObject([{ model: "down", isHealthy: false }]);
  });

  it("validates the embedded default with no --config: its cloud models are optional", async () => {
    const result = await run(["validate"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "embedded default: valid, 6 model(s): tiny-q4, tiny-q8, tiny-f16, gpt-4o-mini (unavailable: OPENAI_API_KEY is not set)",
    );
    const json = await run(["validate", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: true,
      source: "embedded default",
      models: expect.arrayContaining([
        { name: "claude-haiku-4-5", provider: "anthropic", unavailable: "ANTHROPIC_API_KEY is not set" },
      ]),
    });
  });

  it("validates strictly: every problem with its line, exit code 3", async () => {
    const broken = await run(["validate", "--config", join(FIXTURES, "broken.yaml")]);
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain(
      'broken.yaml:5:7: models[0].capabilities.max_token: unknown key "max_token" — did you mean "max_tokens"?',
    );
    expect(broken.stderr).toMatch(
      /broken\.yaml:7:15: models\[1\]\.provider: unknown provider "opnai" — did you mean "openai"\?/,
    );
    // The seed's file: strict mode names the missing variable and its line.
    const seed = await run(["validate", "--config", join(FIXTURES, "seed-models.yaml")]);
    expect(seed.code).toBe(3);
    expect(seed.stderr).toMatch(
      /seed-models\.yaml:\d+:\d+: models\[0\]\.config\.api_key: environment variable OPENAI_API_KEY is not set/,
    );
    const ok = await run(["validate", "--config", join(FIXTURES, "seed-models.yaml"), "--json"], {
      ...ENV,
      OPENAI_API_KEY: "sk-test-000000000000",
      OPENAI_ORG_ID: "org-1",
      ANTHROPIC_API_KEY: "sk-ant-0000000000000",
    });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      valid: true,
      models: [{ name: "gpt-4" }, { name: "claude-3-opus" }, { name: "local-llama" }],
    });
    expect(ok.stdout).not.toContain("sk-test-000000000000");
  });

  it("validate creates the models as serve would: a llama.cpp model_path that does not exist, or a GGUF of another quantization, is an error at the model's line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-validate-llama-"));
    await writeTinyGguf(join(dir, "tiny.gguf")); // Q8_0
    const entries = [
      "  - name: tiny\n    provider: llama-cpp\n    config: { model_path: ./tiny.gguf }",
      "  - name: gone\n    provider: llama-cpp\n    config: { model_path: ./weights/gone.gguf }",
      "  - name: squeezed\n    provider: llama-cpp\n    config: { model_path: ./tiny.gguf, quantization: int4 }",
    ];
    const config = join(dir, "models.yaml");
    writeFileSync(config, `models:\n${entries.join("\n")}\n`);
    const broken = await run(["validate", "--config", config], ENV, dir); // a relative model_path is from the working directory
    expect(broken.code).toBe(3);
    expect(broken.stdout).not.toContain("valid");
    expect(broken.stderr).toContain(
      `models.yaml:5:5: models[1]: provider "llama-cpp" could not create model "gone": Cannot load the model: modelPath: ./weights/gone.gguf does not exist (looked for ${join(dir, "weights/gone.gguf")})`,
    );
    expect(broken.stderr).toMatch(
      /models\.yaml:8:5: models\[2\]: provider "llama-cpp" could not create model "squeezed": Quantization mismatch: quantization: int4 .*requested, but \.\/tiny\.gguf is int8 \(Q8_0\)/,
    );
    expect(broken.stderr).not.toContain('model "tiny"');
    writeFileSync(config, `models:\n${entries[0]}\n`);
    const ok = await run(["validate", "--config", config], ENV, dir);
    expect(ok.stdout).toContain("valid, 1 model(s): tiny");
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("validate refuses what building the orchestrator would: selector options that cannot go together, a duration too large to count", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-validate-options-"));
    const config = join(dir, "models.yaml");
    const model = "models:\n  - name: gpt\n    provider: openai\n    config: { api_key: sk-unused }\n";
    writeFileSync(config, `${model}selector: { type: ucb, discount: 0.9, window: 10 }\n`);
    const selector = await run(["validate", "--config", config]);
    expect(selector.code).toBe(3);
    expect(selector.stderr).toMatch(/give either `discount` or `window`, not both/);
    writeFileSync(config, `${model}execution: { timeout: 1e308 }\n`);
    const duration = await run(["validate", "--config", config]);
    expect(duration.code).toBe(3);
    expect(duration.stderr).toContain("models.yaml:5:23: execution.timeout: invalid duration 1e+308");
  });

  it("validate never runs a provider named by file: it reports where it resolves; --load-plugins imports it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-validate-"));
    const plugin = join(dir, "plugin.mjs");
    const marker = join(dir, "imported.marker");
    // Importing this file leaves a marker: the proof that checking the config ran it.
    writeFileSync(
      plugin,
      [
        'import { writeFileSync } from "node:fs";',
        `writeFileSync(${JSON.stringify(marker)}, "the provider file ran");`,
        'export default { [Symbol.for("@orchestrator-ts/core/provider-plugin")]: true, name: "marker", configSchema: { safeParse: (data) => ({ success: true, data }) }, create() { throw new Error("not called by validate"); } };',
      ].join("\n"),
    );
    const config = join(dir, "models.yaml");
    // Relative, climbing out and back in (../<dir>/), and absolute: every spelling of a file provider.
    writeFileSync(
      config,
      [
        "models:",
        "  - name: relative",
        "    provider: ./plugin.mjs",
        "    config: { anything: 1 }",
        "  - name: climbing",
        `    provider: ../${basename(dir)}/plugin.mjs`,
        "  - name: absolute",
        `    provider: ${JSON.stringify(plugin)}`,
      ].join("\n"),
    );

    const checked = await run(["validate", "--config", config]);
    expect(checked.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(checked.stdout).toContain(
      `provider "./plugin.mjs" resolves to ${plugin}: not loaded (its code was not run; --load-plugins imports and checks it)`,
    );
    const json = await run(["validate", "--config", config, "--json"]);
    expect(JSON.parse(json.stdout).plugins).toEqual([
      { provider: "./plugin.mjs", kind: "file", file: plugin, loaded: false },
      { provider: `../${basename(dir)}/plugin.mjs`, kind: "file", file: plugin, loaded: false },
      { provider: plugin, kind: "file", file: plugin, loaded: false },
    ]);
    expect(existsSync(marker)).toBe(false);

    // A provider that does not resolve is still an error at its line, still without running anything.
    writeFileSync(join(dir, "missing.yaml"), "models:\n  - name: gone\n    provider: ./nowhere.mjs\n");
    const missing = await run(["validate", "--config", join(dir, "missing.yaml")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(
      `missing.yaml:3:15: models[0].provider: provider file "./nowhere.mjs" was not found (looked for ${join(dir, "nowhere.mjs")})`,
    );

    const loaded = await run(["validate", "--config", config, "--load-plugins"]);
    expect(loaded.code).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("the provider file ran");
    expect(loaded.stdout).toContain(
      `provider "./plugin.mjs" resolves to ${plugin}: loaded, a provider plugin, its config blocks checked`,
    );
  });
});

/** A small full-information dataset: on task "a" only model "cheap" is right, on "b" only "big" is. */
function writeToyData(dir: string): void {
  const header =
    "sample_id,prompt,eval_name,big,cheap,mid,big|total_cost,cheap|total_cost,mid|total_cost,oracle_model_to_route_to";
  for (const split of ["train", "test"]) {
    const rows = Array.from({ length: 120 }, (_, i) => {
      const task = i % 2 === 0 ? "a" : "b";
      const quality = task === "a" ? [0, 1, 0] : [1, 0, 0];
      return `${split}.${i},"['question ${i}, about ${task}']",${task},${quality.join(",")},0.01,0.0001,0.001,${task === "a" ? "cheap" : "big"}`;
    });
    writeFileSync(join(dir, `toy_${split}.csv`), `${header}\n${rows.join("\n")}\n`);
  }
}

describe("orchestrator replay", () => {
  it("replays full-information data and writes the report, the JSON and the SVG curve", {
    timeout: 120_000,
  }, async () => {
    const data = mkdtempSync(join(tmpdir(), "replay-data-"));
    writeToyData(data);
    const out = mkdtempSync(join(tmpdir(), "replay-"));
    const result = await run(["replay", "--data", data, "--seeds", "2", "--out", out, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(JSON.stringify(report)).toContain("oracle");
    expect(readFileSync(join(out, "replay.svg"), "utf8")).toMatch(/<svg/);
    const text = await run(["replay", "--data", data, "--seeds", "2"]);
    expect(text.stdout).toMatch(/\| policy \| accuracy \| USD \/ prompt \|/);
    expect(text.stdout).toMatch(/AIQ over/);
    const missing = await run(["replay"]);
    expect(missing.code).toBe(2);
  });
});

function writeToyResponses(dir: string): void {
  // c1 is wrong when i % 3 = 0, c2 when i % 4 = 0 (each with another letter); big is always right.
  const header =
    "sample_id,prompt,eval_name,big,c1,c2,big|total_cost,c1|total_cost,c2|total_cost,big|model_response,c1|model_response,c2|model_response";
  for (const split of ["train", "test"]) {
    const rows = Array.from({ length: 240 }, (_, i) => {
      const right = "ABCD"[i % 4] as string;
      const c1 = i % 3 === 0 ? "ABCD"[(i + 1) % 4] : right;
      const c2 = i % 4 === 0 ? "ABCD"[(i + 2) % 4] : right;
      return `${split}.${i},"['question ${i}']",mcq,1,${c1 === right ? 1 : 0},${c2 === right ? 1 : 0},0.01,0.0001,0.0002,"The answer is ${right}.",${c1}),(${c2})`;
    });
    writeFileSync(join(dir, `toy_${split}.csv`), `${header}\n${rows.join("\n")}\n`);
  }
}

describe("orchestrator replay --policy <cascade.json>", () => {
  it("replays a cascade on recorded answers, paying for every model asked", { timeout: 120_000 }, async () => {
    const data = mkdtempSync(join(tmpdir(), "replay-cascade-"));
    writeToyResponses(data);
    const policy = join(data, "cascade.json");
    writeFileSync(
      policy,
      JSON.stringify({
        type: "cascade",
        name: "toy",
        stages: [{ models: ["c1", "c2"], parallel: true }, { models: ["big"] }],
        extract: "choice",
        accept: "unanimous",
      }),
    );
    const result = await run(["replay", "--data", data, "--policy", policy, "--seeds", "2", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      result: { accuracy: number; costPerPrompt: number; escalationRate: number };
      aiq: number;
    };
    // Escalates when i % 3 = 0 or i % 4 = 0: half the prompts; agreeing cheap answers are right.
    expect(report.result.escalationRate).toBeCloseTo(0.5, 12);
    expect(report.result.accuracy).toBe(1);
    expect(report.result.costPerPrompt).toBeCloseTo(0.0003 + 0.5 * 0.01, 12);
    const text = await run(["replay", "--data", data, "--policy", policy, "--seeds", "2"]);
    expect(text.stdout).toMatch(/\| \*\*toy\*\* \| 1\.000 \(1\.000–1\.000\) \| 5\.30e-3/);
    expect(text.stdout).toMatch(/AIQ over/);
    // --cv: k-fold cross-validation on the train split, the gain with its standard error.
    const cv = await run([
      "replay",
      "--data",
      data,
      "--policy",
      policy,
      "--budget",
      "0.002",
      "--cv",
      "3",
      "--seeds",
      "1",
    ]);
    expect(cv.stderr).toBe("");
    expect(cv.code).toBe(0);
    expect(cv.stdout).toMatch(/3 folds of the train split, budget 2\.00e-3/);
    expect(cv.stdout).toMatch(/Cross-validated gain: [+−]\d\.\d{3} ± \d\.\d{3} accuracy/);
    const json = await run([
      "replay",
      "--data",
      data,
      "--policy",
      policy,
      "--budget",
      "0.002",
      "--cv",
      "3",
      "--seeds",
      "1",
      "--json",
    ]);
    const cvReport = JSON.parse(json.stdout) as { split: string; folds: { prompts: number }[]; gainSe: number };
    expect(cvReport.split).toBe("train");
    expect(cvReport.folds.map((f) => f.prompts)).toEqual([80, 80, 80]);
    const notCascade = await run(["replay", "--data", data, "--cv", "3"]);
    expect(notCascade.code).toBe(2);
    expect(notCascade.stderr).toMatch(/--cv cross-validates a cascade policy/);
  });
});

describe("orchestrator with an Ollama server", () => {
  it("pulls a missing model on first use with progress, then answers", { timeout: 60_000 }, async () => {
    const server = await startOllamaServer({ models: [] });
    try {
      const dir = mkdtempSync(join(tmpdir(), "ollama-cli-"));
      const config = join(dir, "models.yaml");
      writeFileSync(
        config,
        `models:\n  - name: llama\n    provider: ollama\n    config:\n      host: "${server.url}"\n      model_path: "llama3.2:1b"\n`,
      );
      const result = await run(["generate", "Hello there", "--config", config]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe("Echo: Hello there");
      expect(result.stderr).toContain("Pulling llama");
      expect(result.stderr).toContain("Pulled llama");
      expect(server.requests.some((r) => r.path === "/api/pull")).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe("orchestrator with an AI SDK provider package (provider: ai-sdk)", () => {
  it("imports @ai-sdk/openai named in the config, wraps its model and answers, generate and stream", {
    timeout: 60_000,
  }, async () => {
    const key = "sk-cli-aisdk-0123456789abcdef";
    const server = await startOpenAIServer({ apiKey: key });
    try {
      const dir = mkdtempSync(join(tmpdir(), "aisdk-cli-"));
      const config = join(dir, "models.yaml");
      writeFileSync(
        config,
        `models:\n  - name: gpt-via-ai-sdk\n    provider: ai-sdk\n    config:\n      package: "@ai-sdk/openai"\n      model: gpt-4o-mini\n      method: chat\n      api_key: \${LOOPBACK_KEY}\n      base_url: "${server.baseURL}"\n`,
      );
      const env = { ...ENV, LOOPBACK_KEY: key };
      const generated = await run(["generate", "Hello there", "--config", config, "--json"], env);
      expect(generated.stderr).toBe("");
      expect(generated.code).toBe(0);
      expect(JSON.parse(generated.stdout)).toMatchObject({
        text: "Echo: Hello there",
        model: "gpt-via-ai-sdk",
        provider: "openai.chat",
      });
      const streamed = await run(["stream", "Stream this", "--config", config], env);
      expect(streamed.code).toBe(0);
      expect(streamed.stdout.trim()).toBe("Echo: Stream this");
      expect(
        server.requests.filter((r) => r.path === "/v1/chat/completions").map((r) => r.headers.authorization),
      ).toEqual([`Bearer ${key}`, `Bearer ${key}`]);
    } finally {
      await server.close();
    }
  });
});
