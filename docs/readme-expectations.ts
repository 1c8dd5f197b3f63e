// What each README block must do when run (docs/readme-blocks.test.ts): the files it needs in its
// working directory, the environment it runs with, and what it must print. Every TypeScript block
// and every output sample needs an entry here; the test fails on a block without one.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadModelConfig } from "@orchestrator-ts/config";
import { runScript } from "@orchestrator-ts/testing";
import { builtinProviders } from "orchestrator-ts";
import { outDir, root } from "../tools/scripts/readme-blocks.mjs";
import { type BlockWorld, workdir } from "./readme-env";

export interface TsBlockSpec {
  /**
   * The block is this program verbatim (a path from the repository root), run by its own
   * package's test against the loopback server of its provider; the block is only compared.
   */
  program?: string;
  /** Files of the working directory (relative path → content). */
  files?: (world: BlockWorld) => Record<string, string>;
  /** Changes to the environment of docs/readme-env.ts (`undefined` removes a variable). */
  env?: Record<string, string | undefined>;
  /** Patterns stdout must match. */
  stdout?: RegExp[];
  stderr?: RegExp[];
  timeoutMs?: number;
}

const block = (file: string): string => readFileSync(join(outDir, file), "utf8");
/** The root README's Configuration block, as the config file other examples load. */
const rootConfig = () => ({ "config/models.yaml": block("root/06-configuration.yaml") });
/** The seed's config/models.yaml, unchanged. */
const seedConfig = () => ({ "config/models.yaml": readFileSync(join(root, "docs/seed/config/models.yaml"), "utf8") });

export const TS_BLOCKS: Record<string, TsBlockSpec> = {
  "root/02-a-short-tour.ts": {
    stdout: [
      /^gpt-4o-mini Echo: Explain quantum computing$/m,
      // The second call goes to the model with the fewest trials first; every candidate is explained.
      /^gpt-4o-mini [\d.e-]+ \[ 'gpt-4o-mini: Infinity', 'local: Infinity', 'custom-gpt: Infinity' \]$/m,
      // The stream runs on the lazy llama.cpp model, loaded from MODEL_DIR on this first use.
      /\(local, 24 tokens\)$/m,
    ],
    timeoutMs: 60_000,
  },
  "root/03-a-short-tour.ts": { files: rootConfig, stdout: [/^gpt-4 Echo: Hello$/m] },
  // The gateway over the Configuration block's models (OpenAI's and Anthropic's loopback servers).
  "root/05-run-it-as-a-server.ts": {
    files: rootConfig,
    stdout: [/^(gpt-4|claude-3-opus) Echo: Explain quantum computing miss$/m, /^Echo: Stream it$/m],
  },
  "packages/server/02-orchestrator-ts-server.ts": { stdout: [/^200 gpt-4o-mini Echo: Hello gpt-4o-mini$/m] },
  "packages/server/03-anthropic-s-messages-api.ts": { stdout: [/^gpt-4o-mini Echo: Hello end_turn$/m] },
  "packages/cache/02-orchestrator-ts-cache.ts": { stdout: [/^true true \{/m, /hits: 2,/, /misses: 1,/] },
  "packages/cache/03-orchestrator-ts-cache.ts": { stdout: [/^true 1$/m] },
  "packages/config/02-orchestrator-ts-config.ts": {
    // The file the block's comment shows.
    files: () => ({
      "config/models.yaml": [
        "models:",
        '  - name: "demo"',
        '    provider: "fake"',
        "    config:",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the YAML's own ${VAR:-default}, not a template
        '      response: "${GREETING:-hi there}"',
        "    capabilities:",
        "      text_generation: true",
        "      max_tokens: 4096",
        "",
      ].join("\n"),
    }),
    stdout: [/^hi there \[\]$/m],
  },
  "packages/core/02-write-a-model.ts": {
    stdout: [/^Echo: Explain quantum computing$/m, /requests: 1,/, /totalCost: 0\.000011,/],
  },
  "packages/health/02-example.ts": { stdout: [/^\{ available: true, status: 'healthy' \}$/m] },
  "packages/orchestrator/02-in-code.ts": {
    files: rootConfig,
    stdout: [/^gpt-4 Echo: Explain quantum computing [\d.]+ false$/m],
  },
  "packages/gguf/02-example.ts": { stdout: [/^\d+ 2 \d+ 64$/m, /^llama 256 21$/m, /^Q4_0 Q4_0$/m] },
  "packages/anthropic-format/02-example.ts": {
    stdout: [
      /^claude-sonnet-4-6 false u-42 2 \{ anthropic: \{ metadata: \{ user_id: 'u-42' \} \} \}$/m,
      /^\{"model":"claude-sonnet-4-6","max_tokens":50,"messages":\[\{"role":"user","content":\[\{"type":"text","text":"Hi!"\}\]\}\],"system":"Be brief\.","metadata":\{"user_id":"u-42"\}\}$/m,
      /^tool_use \[\{"type":"tool_use","id":"toolu_1","name":"get_weather","input":\{"city":"Oslo"\}\}\]$/m,
      /^event: message_start$/m,
      /type: 'finish',\s+usage: \{ inputTokens: 9, outputTokens: 2 \},\s+finishReason: \{ unified: 'stop', raw: 'end_turn' \}/,
      /^\{"type":"error","error":\{"type":"rate_limit_error","message":"Slow down\."\}\}$/m,
    ],
  },
  "packages/openai-format/02-example.ts": {
    stdout: [
      /^gpt-4o-mini false 50 \{ openai: \{ user: 'u-42' \} \}$/m,
      /^\{"model":"gpt-4o-mini","messages":\[.*\],"max_tokens":50,"user":"u-42"\}$/m,
      /^Hello! \{ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 \}$/m,
      /type: 'finish',\s+finishReason: \{ unified: 'stop', raw: 'stop' \},\s+usage: \{ inputTokens: 9, outputTokens: 2 \}/,
    ],
  },
  "packages/provider-anthropic/02-example.ts": {
    stdout: [
      /^Echo: Explain quantum computing$/m,
      /Echo: Write a haiku about the sea/,
      /name: 'get_weather'/,
      /unified: 'tool-calls', raw: 'tool_use'/,
    ],
  },
  "packages/provider-huggingface/02-example.ts": {
    stdout: [
      /device "cpu" is ignored/,
      /^meta-llama\/Llama-3\.3-70B-Instruct table$/m,
      /^Echo: Explain quantum computing$/m,
      /Echo: Write a haiku/,
    ],
  },
  "packages/provider-llama-cpp/02-example.ts": {
    stdout: [
      /tiny-q8_0\.gguf \{ family: 'int8', type: 'Q8_0' \} 512 0\.\d+$/m,
      /\{ answer: '(yes|no)' \} \{ inputTokens: \d+, outputTokens: \d+ \}/,
    ],
    timeoutMs: 60_000,
  },
  "packages/provider-ollama/02-example.ts": {
    stdout: [
      /^pulling manifest/m,
      /^success/m,
      /^131072 \{/m,
      /^Echo: Explain quantum computing$/m,
      /Echo: Write a haiku about the sea/,
    ],
  },
  "packages/provider-openai/02-example.ts": {
    stdout: [/^Echo: Explain quantum computing$/m, /\{ city: 'Oslo', celsius: 4 \}/, /^true local$/m],
  },
  "packages/server/05-keys-budgets-and-the-admin-api.ts": {
    env: { ORCHESTRATOR_MASTER_KEY: "sk-admin-readme-0123456789" },
    stdout: [
      /^created key_[\w-]+$/m,
      /^call 1: ok$/m,
      /^429 budget_exceeded: 429 The key "team-a" has used its daily budget \(UTC day \d{4}-\d\d-\d\d\) of \$0\.00005: \$0\.0000\d+ spent: \$0\.0000\d+ is left, less than this request may cost \(\$0\.0000\d+\)\. It resets at \d{4}-\d\d-\d\dT00:00:00\.000Z\.$/m,
      /name: 'key_[\w-]+',\s+costUsd: 0\.0000\d+,\s+requests: \d+/,
    ],
  },
  "packages/redis/02-orchestrator-ts-redis.ts": {
    stdout: [/^gpt-4o: What is AI\?$/m, /trials: 1,/, /rewardSum: 0\.8,/],
  },
  "packages/replay/02-example.ts": { stdout: [/^0\.5 1 true$/m, /^# Replay: 40 prompts \(test\), 2 models/m] },
  "packages/ai-sdk/02-the-orchestrator-as-an-ai-sdk-provider.ts": {
    stdout: [/^gpt-4o-mini Echo: Explain quantum computing \d+$/m, /^Echo: Write a haiku$/m],
  },
  "packages/ai-sdk/04-example.ts": {
    stdout: [/^Echo: Explain quantum computing \{ inputTokens: \d+, outputTokens: \d+ \} [\d.e-]+$/m],
  },
  "packages/provider-openai/03-openai-compatible-services-by-name-prese.ts": {
    stdout: [/^llama-70b groq 131072$/m, /^qwen vllm /m, /^gpt-4o azure /m],
  },
  "examples/ai-sdk/02-acme-orchestrator-ai-sdk-example-example.ts": {
    stdout: [
      /^gpt-4o-mini Echo: Explain quantum computing$/m,
      /^gpt-4o-mini Echo: Explain caching true$/m,
      /^Echo: Write a limerick$/m,
    ],
  },
  "packages/otel/02-example.ts": {
    stdout: [/^chat gpt-4o-mini first openai true\nchat gpt-4o-mini call openai true$/m],
  },
  "packages/registry/02-example.ts": {
    stdout: [/^fast fast: Explain quantum computing$/m, /^fast: 2 \+ 2\? fast \[/m, /smart: Hi$/m],
  },
  "packages/registry/03-from-a-config-file.ts": {
    // The seed's file with OPENAI_API_KEY unset: gpt-4 is skipped and reported, the rest load.
    files: seedConfig,
    env: { OPENAI_API_KEY: undefined },
    stdout: [],
    stderr: [/^gpt-4: OPENAI_API_KEY is not set$/m],
  },
  "packages/registry/04-routes-and-cascades.ts": {
    stdout: [/^B false 0\.0005$/m, /^C true yi=B mixtral=C gpt-4=C$/m, /^route model auto$/m],
  },
  "packages/registry/06-selectors.ts": { stdout: [/^cheap \[ 'pricey: -0\.0105', 'cheap: -0\.0003' \]$/m] },
  "packages/testing/03-fakemodel.ts": {
    stdout: [/^backup from the backup \[ 'primary:authentication_error→fallback', 'backup:ok→done' \]$/m],
  },
  "packages/testing/05-processes.ts": { stdout: [/^2 false hello world$/m] },
  "docs/troubleshooting/07-llama-cpp-is-slow-or-will-not-load.ts": { stdout: [/^1$/m] },
  "examples/custom-model/01-acme-orchestrator-provider-custom-exampl.ts": {
    stdout: [/^Echo: Explain quantum computing$/m],
  },
  ...Object.fromEntries(
    ["openai", "anthropic", "huggingface", "ollama", "llama-cpp"].map((p) => [
      `examples/${p}/02-the-program.ts`,
      { program: `examples/${p}/src/main.ts` },
    ]),
  ),
};

/** Producers of the output samples (text blocks): each line of the sample must appear in what they return. */
export const OUTPUT_SAMPLES: Record<string, (world: BlockWorld) => Promise<string>> = {
  // Config errors as the config README shows them.
  // The seed's config/models.yaml with a typo on line 11 and OPENAI_ORG_ID unset.
  "packages/config/03-api.txt": async (world) => {
    const seed = readFileSync(join(root, "docs/seed/config/models.yaml"), "utf8").split("\n");
    seed[10] = (seed[10] ?? "").replace("max_tokens", "max_token");
    return messageOf(() =>
      loadIn({ "config/models.yaml": seed.join("\n") }, "config/models.yaml", {
        ...world.env,
        OPENAI_ORG_ID: undefined,
      }),
    );
  },
  // A provider package that is not installed, and one that is not a plugin.
  "packages/config/05-providers-by-package.txt": async (world) => {
    const yaml = [
      "models:",
      '  - name: "gpt-4"',
      '    provider: "openai"',
      '  - name: "util"',
      '    provider: "@acme/util"',
      "    capabilities:",
      "      text_generation: true",
      "      code_generation: true",
      "      max_tokens: 4096",
      "    constraints:",
      "      max_requests_per_minute: 100",
      "      max_concurrent_requests: 4",
      '  - name: "x"',
      '    provider: "@acme/x"',
      "",
    ].join("\n");
    const files = {
      "models.yaml": yaml,
      "node_modules/@acme/util/package.json": JSON.stringify({
        name: "@acme/util",
        version: "1.0.0",
        type: "module",
        exports: "./index.js",
      }),
      "node_modules/@acme/util/index.js": 'export const VERSION = "1.0.0";\nexport function createClient() {}\n',
    };
    return messageOf(() => loadIn(files, "models.yaml", world.env));
  },
  // The same check from the config README: a built-in provider whose SDK is not installed.
  "packages/config/06-providers-by-package.txt": () => sample("missing-sdk"),
  "docs/troubleshooting/01-no-api-key.txt": () => sample("no-api-key"),
  "docs/troubleshooting/02-no-api-key.txt": () => sample("wrong-key"),
  "docs/troubleshooting/03-the-host-is-unreachable.txt": () => sample("unreachable"),
  "docs/troubleshooting/04-redis-is-missing-or-down.txt": () => sample("redis-down"),
  // A PATH without redis-server (node itself runs by its absolute path).
  "docs/troubleshooting/05-redis-is-missing-or-down.txt": () => sample("no-redis-server", { PATH: "/nonexistent" }),
  "docs/troubleshooting/09-llama-cpp-is-slow-or-will-not-load.txt": () => sample("llama-errors"),
  "docs/troubleshooting/10-no-model-fits.txt": () => sample("no-eligible-model"),
  "docs/troubleshooting/11-a-config-file-does-not-load.txt": () => sample("missing-model-file"),
  "docs/troubleshooting/12-a-provider-s-package-is-not-installed.txt": () => sample("missing-sdk"),
};

/**
 * Runs one of docs/samples/ as its own process, with only the environment given (no key of the
 * developer's shell leaks in), and returns what it printed.
 */
async function sample(name: string, env: Record<string, string> = {}): Promise<string> {
  const dir = workdir();
  try {
    const run = await runScript(
      { file: join(root, "docs/samples", `${name}.ts`) },
      { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, ...env }, timeoutMs: 60_000 },
    );
    return run.stdout + run.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function loadIn(
  files: Record<string, string>,
  config: string,
  env: Record<string, string | undefined>,
): Promise<unknown> {
  const dir = workdir(files);
  const cwd = process.cwd();
  try {
    // Paths in messages are the path as given, relative to the working directory, as for a user.
    process.chdir(dir);
    return await loadModelConfig(config, { env: env as Record<string, string>, providers: builtinProviders });
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function messageOf(load: () => Promise<unknown>): Promise<string> {
  try {
    await load();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the config to fail to load");
}

// ---- shell blocks ------------------------------------------------------------------------

export interface ShellContext {
  command: string;
  publishable: ReadonlySet<string>;
  scripts: Readonly<Record<string, string>>;
  world: BlockWorld;
  cli: string;
}

/**
 * `orchestrator serve …` as written, on a free port (the one written may be taken): it must print
 * its URL, answer /readyz with 200, and on SIGTERM exit 0 by itself.
 */
async function serveCheck(args: string[], world: BlockWorld, cli: string): Promise<string> {
  const port = args.indexOf("--port");
  const argv = port >= 0 ? [...args.slice(0, port + 1), "0", ...args.slice(port + 2)] : [...args, "--port", "0"];
  const dir = workdir(rootConfig());
  const child = spawn(process.execPath, [cli, ...argv], { cwd: dir, env: world.env });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  try {
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline && child.exitCode === null) {
      url = /serving on (http:\/\/\S+)/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    if (!url) return `orchestrator ${argv.join(" ")} printed no URL: ${out.slice(-500)}`;
    const ready = await fetch(`${url}/readyz`);
    if (ready.status !== 200) return `orchestrator serve: /readyz answered ${ready.status}: ${await ready.text()}`;
    child.kill("SIGTERM");
    const code = await exited;
    return code === 0 ? "ok" : `orchestrator serve exited ${code} after SIGTERM: ${out.slice(-500)}`;
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Checks one shell command of a README: our commands run (the cheap ones as written, `demo` as
 * `demo --help`: it runs a whole workload and has its own test in packages/orchestrator);
 * `npm install` names packages that exist; `npm run` names scripts that exist; `npx <tool>` names
 * an installed tool. Returns "ok" or what is wrong.
 */
export async function SHELL({ command, publishable, scripts, world, cli }: ShellContext): Promise<string> {
  const words = command.split(/\s+/).filter((w) => !/^[A-Z_]+=/.test(w));
  const [tool, sub, ...rest] = words;
  if (tool === "npm" && (sub === "install" || sub === "i")) {
    // A version or range after the name (`ai@6`, `@ai-sdk/openai@3`) is npm's business: the name must be installed here.
    const names = rest
      .filter((w) => !w.startsWith("-") && !w.startsWith("#"))
      .map((w) => w.replace(/(.)@[^/@]*$/, "$1"));
    if (names.length === 0) return "ok"; // the workspace itself (npm install --package-lock-only)
    const missing = names.filter((n) =>
      n.startsWith("@orchestrator-ts/") || n === "orchestrator-ts"
        ? !publishable.has(n)
        : !existsSync(join(root, "node_modules", n, "package.json")),
    );
    return missing.length === 0 ? "ok" : `npm install names packages that do not exist here: ${missing.join(", ")}`;
  }
  if (tool === "npm" && sub && ["start", "test", "run", "ci"].includes(sub)) {
    if (sub === "ci") return "ok";
    const script = sub === "run" ? rest.find((w) => !w.startsWith("-")) : sub;
    // `-w <folder>`: the script of that workspace; otherwise the root's.
    const w = rest.indexOf("-w");
    const where = w >= 0 ? rest[w + 1] : undefined;
    const available = where
      ? ((JSON.parse(readFileSync(join(root, where, "package.json"), "utf8")) as { scripts?: Record<string, string> })
          .scripts ?? {})
      : scripts;
    return script && available[script] ? "ok" : `no script "${script}" in ${where ?? "the root"}'s package.json`;
  }
  if (tool === "npx" && sub === "orchestrator" && rest[0] === "serve") return serveCheck(rest, world, cli);
  if (tool === "npx" && sub === "orchestrator") {
    const args = rest[0] === "demo" ? ["demo", "--help"] : rest;
    // Run where a user would: a project whose config/models.yaml is the root README's example.
    const dir = workdir(rootConfig());
    try {
      const result = await runScript({ file: cli }, { args, cwd: dir, env: world.env, timeoutMs: 60_000 });
      return result.code === 0
        ? "ok"
        : `orchestrator ${args.join(" ")} exited ${result.code}: ${result.stderr.slice(-500)}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (tool === "npx" && sub)
    return existsSync(join(root, "node_modules/.bin", sub)) ? "ok" : `npx ${sub}: not installed in this workspace`;
  // A replay over data this checkout may not hold (../shared/data): the policy file exists and every flag is one the CLI documents.
  if ((tool === "orchestrator" || (tool === "npx" && sub === "orchestrator")) && words.includes("replay")) {
    const args = words.slice(words.indexOf("replay") + 1);
    const policy = args[args.indexOf("--policy") + 1];
    if (args.includes("--policy") && (!policy || !existsSync(join(root, policy))))
      return `replay --policy ${policy}: no such file`;
    const help = await runScript(
      { file: cli },
      { args: ["replay", "--help"], cwd: root, env: world.env, timeoutMs: 60_000 },
    );
    const unknown = args.filter((a) => a.startsWith("--") && !help.stdout.includes(a));
    return help.code === 0 && unknown.length === 0
      ? "ok"
      : `orchestrator replay: flags not in its --help: ${unknown.join(", ")} (exit ${help.code})`;
  }
  if (tool === "node" && sub) return existsSync(join(root, sub)) ? "ok" : `node ${sub}: no such file`;
  // Not ours and not run here: the repository, the shell, the user's own Ollama server.
  if (tool === "git" || tool === "cd" || tool === "ollama" || tool === "sudo" || tool === "apt-get") return "ok";
  return `unknown command (teach docs/readme-expectations.ts how to check it): ${command}`;
}
