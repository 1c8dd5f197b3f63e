import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runScript } from "@orchestrator-ts/testing";
import { expect, it } from "vitest";

const ROOT = resolve(__dirname, "../../..");

/** The root README's `createOrchestrator` snippet, exactly as a reader copies it. */
function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .find((code) => code.includes("createOrchestrator"));
  if (!block) throw new Error("README.md has no ```ts block with createOrchestrator");
  return block;
}

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

it("the README's createOrchestrator flow on the seed's YAML with no Ollama running ends with the error, exit code 1", {
  timeout: 90_000,
}, async () => {
  // The seed's file names Ollama at localhost:11434; this test is about it being unreachable.
  expect(await listening(11434), "something listens on 127.0.0.1:11434; this test needs that port closed").toBe(false);
  const dir = mkdtempSync(join(tmpdir(), "orchestrator-readme-"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  mkdirSync(join(dir, "config"));
  writeFileSync(join(dir, "config/models.yaml"), readFileSync(join(ROOT, "docs/seed/config/models.yaml")));
  writeFileSync(join(dir, "readme.mjs"), `${readmeSnippet()}console.log(answer.text);\n`);
  // No keys: the OpenAI and Anthropic models are left out, the Ollama one is the only candidate.
  const env = { PATH: process.env.PATH ?? "", HOME: dir };
  const run = await runScript({ file: join(dir, "readme.mjs") }, { cwd: dir, env, timeoutMs: 60_000 });
  expect(run.timedOut).toBe(false);
  // Not 13 (a top-level await left unsettled) and not a silent 0: the error, as Node reports it.
  expect(run.code).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(/ProviderError: Ollama is not reachable at http:\/\/localhost:11434/);
});
