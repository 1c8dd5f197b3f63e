// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text; ${VAR} in them is the subject under test.
// One hostile input, run in its own process by src/hostile-input.test.ts (which caps its heap and
// wall-clock time). Prints one JSON line: what was thrown, how long it took, how much heap it used.
//   node --max-old-space-size=128 --import tsx test/hostile-case.ts <case> [dir]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "@orchestrator-ts/core";
import { loadModelConfig, parseModelConfig } from "../src/index";

const [name = "", dir = ""] = process.argv.slice(2);

/** `n` models, each with `extra` lines under it. */
function models(n: number, extra: (i: number) => string): string {
  const lines = ["models:"];
  for (let i = 0; i < n; i++) lines.push(`  - name: m${i}`, "    provider: fake", extra(i));
  return `${lines.join("\n")}\n`;
}

/** `levels` levels of anchors, each a list of ten aliases of the one before: 10^levels values. */
function aliasBomb(levels: number): string {
  let text = 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n';
  for (let i = 1; i <= levels; i++)
    text += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(",")}]\n`;
  return `${text}models: []\n`;
}

const V = "v".repeat(10_000);

const cases: Record<string, () => { text?: string; file?: string; env?: Record<string, string> }> = {
  // < 1 KB: took 3.9 s and 267 MB at 5 levels, was killed at 6.
  "alias-bomb-5": () => ({ text: aliasBomb(5) }),
  "alias-bomb-9": () => ({ text: aliasBomb(9) }),
  // 60,000 aliases: the library's resolve() walked the whole document per alias (quadratic).
  "alias-flood": () => ({
    text: models(1, () => `    config:\n      base: &a v\n      x: [${Array(60_000).fill("*a").join(",")}]`),
  }),
  // Untyped "RangeError: Maximum call stack size exceeded".
  "nested-defaults": () => ({
    text: models(1, () => `    config:\n      x: "${"${A:-".repeat(10_000)}z${"}".repeat(10_000)}"`),
  }),
  // 2,000 levels need 2 MB of indentation (refused for size now); 600 fit under the size limit.
  "block-nesting-2000": () => ({
    text: `models: []\nselector:\n${Array.from({ length: 2_000 }, (_, i) => `${" ".repeat(2 + i)}k${i}:`).join("\n")}\n`,
  }),
  "block-nesting": () => ({
    text: `models: []\nselector:\n${Array.from({ length: 600 }, (_, i) => `${" ".repeat(2 + i)}k${i}:`).join("\n")}\n`,
  }),
  // Compact nested lists: 5,000 levels in 10 KB.
  "compact-nesting": () => ({ text: `models:\n  ${"- ".repeat(5_000)}x\n` }),
  "flow-nesting": () => ({ text: `models: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n` }),
  // Untyped "Invalid string length" (a million references to a long variable).
  "million-references": () => ({
    text: models(1, () => `    config:\n      x: "${"${V}".repeat(1_000_000)}"`),
    env: { V },
  }),
  "long-expansion": () => ({ text: models(1, () => `    config:\n      x: "${"${V}".repeat(200)}"`), env: { V } }),
  "total-expansion": () => ({
    text: models(
      1,
      () => `    config:\n${Array.from({ length: 20 }, (_, i) => `      x${i}: "${"${V}".repeat(100)}"`).join("\n")}`,
    ),
    env: { V },
  }),
  // One typo repeated: 31,000 of them printed 4.2 MB of errors.
  "repeated-typo": () => ({ text: models(3_000, () => "    capabilities:\n      max_token: 5") }),
  "duplicate-keys": () => ({
    text: `models: []\nselector:\n${Array.from({ length: 20_000 }, (_, i) => `  a: ${i}`).join("\n")}\n`,
  }),
  // 8,000 distinct keys took 47 s and 700 MB (each registration rebuilt one regex of all secrets).
  "many-secrets": () => ({ text: models(2_500, (i) => `    config:\n      api_key: sk-distinct-${i}-abcdefgh`) }),
  "too-large-file": () => {
    const file = join(dir, "huge.yaml");
    writeFileSync(
      file,
      models(1, () => `    config:\n      blob: "${"x".repeat(2_000_000)}"`),
    );
    return { file };
  },
  // A device that never ends: readFile would read it until memory ran out.
  "endless-device": () => ({ file: "/dev/zero" }),
};

const build = cases[name];
if (!build) {
  process.stderr.write(`unknown case ${name}\n`);
  process.exit(2);
}
const input = build();
const started = performance.now();
let outcome: Record<string, unknown>;
try {
  if (input.file !== undefined) await loadModelConfig(input.file, { env: input.env ?? {} });
  else parseModelConfig(input.text ?? "", { env: input.env ?? {} });
  outcome = { thrown: "nothing" };
} catch (error) {
  outcome = ConfigError.isInstance(error)
    ? { thrown: "ConfigError", totalIssues: error.totalIssues, issues: error.issues.length, message: error.message }
    : {
        thrown: error instanceof Error ? error.name : typeof error,
        message: error instanceof Error ? error.message.slice(0, 500) : String(error),
      };
}
const ms = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ case: name, ms, heapMB: process.memoryUsage().heapUsed / 1e6, ...outcome })}\n`,
);
