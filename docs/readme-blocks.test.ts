// Every code block of the READMEs (and of CONTRIBUTING.md and docs/*.md) is a file in docs/readme/
// (tools/scripts/readme-blocks.mjs writes them; `npm run docs:blocks`). This test:
//  - fails when a block and its file differ, so they cannot drift;
//  - runs every TypeScript block as its own Node process against loopback servers, the tiny GGUF
//    models and a real redis-server, and checks what it prints and that it ends by itself
//    (`tsc` type-checks the same files: the docs package's typecheck target);
//  - loads every YAML block with the config loader, strictly, as `orchestrator validate` does;
//  - checks every shell command (our commands run; packages named by `npm install` exist);
//  - reproduces every sample of output (text blocks).
// Blocks named `// x.test.ts` are vitest files and run as part of this package's tests.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadModelConfig } from "@orchestrator-ts/config";
import { builtinProviders } from "orchestrator-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Block, check, outDir, root } from "../tools/scripts/readme-blocks.mjs";
import { runScript } from "@orchestrator-ts/testing";
import { type BlockWorld, KEYS, startWorld, workdir } from "./readme-env";
import { OUTPUT_SAMPLES, SHELL, TS_BLOCKS } from "./readme-expectations";

const { blocks, problems } = check();
const of = (lang: Block["lang"]) => blocks.filter((b) => b.lang === lang && !b.file.endsWith(".test.ts"));
const CLI = join(root, "packages/orchestrator/dist/cli/cli.js");

it("every Markdown code block has a language and matches its file in docs/readme/ (npm run docs:blocks rewrites them)", () => {
  expect(problems).toEqual([]);
  expect(blocks.length).toBeGreaterThan(40);
});

it("every TypeScript block, shell block and output sample has its expectations, and no expectation is stale", () => {
  const files = (lang: Block["lang"]) =>
    of(lang)
      .map((b) => b.file)
      .sort();
  expect(Object.keys(TS_BLOCKS).sort()).toEqual(files("ts"));
  expect(Object.keys(OUTPUT_SAMPLES).sort()).toEqual(files("text"));
});

let world: BlockWorld;
beforeAll(async () => {
  world = await startWorld();
}, 60_000);
afterAll(() => world?.close());

describe("TypeScript blocks run, print what they say and exit by themselves", () => {
  for (const block of of("ts")) {
    const spec = TS_BLOCKS[block.file];
    it(`${block.source}:${block.line} (${block.file})`, { timeout: (spec?.timeoutMs ?? 30_000) + 10_000 }, async () => {
      if (!spec) throw new Error(`no expectations for ${block.file} in docs/readme-expectations.ts`);
      if (spec.program) {
        expect(block.code, `${block.file} must be ${spec.program} verbatim`).toBe(
          readFileSync(join(root, spec.program), "utf8"),
        );
        return;
      }
      const cwd = workdir(spec.files?.(world) ?? {});
      const result = await runScript(
        { file: join(outDir, block.file) },
        { cwd, env: { ...world.env, ...spec.env }, timeoutMs: spec.timeoutMs ?? 30_000 },
      ).finally(() => rmSync(cwd, { recursive: true, force: true }));
      const context = `exit ${result.code ?? result.signal} after ${Math.round(result.durationMs)} ms\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`;
      expect(result.timedOut, `killed: the example did not end by itself\n${context}`).toBe(false);
      expect(result.code, context).toBe(0);
      for (const pattern of spec.stdout ?? []) expect(result.stdout, context).toMatch(pattern);
      for (const pattern of spec.stderr ?? []) expect(result.stderr, context).toMatch(pattern);
      // No secret of the environment ever shows in what an example prints.
      for (const key of Object.values(KEYS)) expect(result.stdout + result.stderr).not.toContain(key);
    });
  }
});

describe("YAML blocks load with the config loader, strictly (what `orchestrator validate` runs)", () => {
  for (const block of of("yaml")) {
    it(`${block.source}:${block.line} (${block.file})`, async () => {
      const config = await loadModelConfig(join(outDir, block.file), { env: world.env, providers: builtinProviders });
      expect(config.models.length).toBeGreaterThan(0);
    });
  }
});

describe("shell blocks name real packages, scripts and commands; ours run", () => {
  const publishable = new Set(
    readdirSync(join(root, "packages"))
      .map((d) => join(root, "packages", d, "package.json"))
      .filter((p) => existsSync(p))
      .map((p) => JSON.parse(readFileSync(p, "utf8")) as { name: string; private?: boolean })
      .filter((p) => !p.private)
      .map((p) => p.name),
  );
  const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;
  for (const block of of("sh")) {
    it(`${block.source}:${block.line} (${block.file})`, { timeout: 120_000 }, async () => {
      const commands = block.code
        .split("\n")
        .map((l) => l.replace(/\s+#.*$/, "").trim())
        .filter((l) => l && !l.startsWith("#"));
      expect(commands.length).toBeGreaterThan(0);
      for (const command of commands) {
        const outcome = await SHELL({ command, publishable, scripts, world, cli: CLI });
        expect(outcome, `${block.file}: ${command}`).toEqual("ok");
      }
    });
  }
});

describe("samples of output are what the code prints", () => {
  for (const block of of("text")) {
    it(`${block.source}:${block.line} (${block.file})`, { timeout: 60_000 }, async () => {
      const produce = OUTPUT_SAMPLES[block.file];
      if (!produce) throw new Error(`no producer for ${block.file} in docs/readme-expectations.ts`);
      const output = await produce(world);
      for (const line of block.code.split("\n").filter((l) => l.trim())) expect(output).toContain(line.trim());
    });
  }
});

it("the testing README documents every export of @orchestrator-ts/testing", async () => {
  const text = readFileSync(join(root, "packages/testing/README.md"), "utf8");
  const exported = [...Object.keys(await import("@orchestrator-ts/testing")), "describeModelConformance"];
  expect(exported.filter((name) => !text.includes(`\`${name}`))).toEqual([]);
});

it("every repository path the guides name exists", () => {
  const missing: string[] = [];
  for (const guide of ["CONTRIBUTING.md", "docs/troubleshooting.md", "docs/releasing.md", "README.md"]) {
    const text = readFileSync(join(root, guide), "utf8");
    for (const [, path] of text.matchAll(/`((?:packages|examples|docs|tools|\.changeset|\.ci)\/[^`\s<>…*]*)`/g)) {
      if (path && !existsSync(join(root, path))) missing.push(`${guide}: ${path}`);
    }
  }
  expect(missing).toEqual([]);
});
