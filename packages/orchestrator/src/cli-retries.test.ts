import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type OpenAIServer, freePort, runScript, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The CLI as a user runs it, against a provider that fails: each command's only work is a call
// that retries, so the process must stay alive through the backoff and end with the answer or
// the error and the right exit code, never silently with 0.

const CLI = resolve(__dirname, "../dist/cli/cli.js");
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-cli-retries-"));
const ENV: Record<string, string> = { PATH: process.env.PATH ?? "", HOME, ORCHESTRATOR_HOME: HOME };

function config(baseURL: string): string {
  const path = join(mkdtempSync(join(HOME, "config-")), "models.yaml");
  writeFileSync(
    path,
    `models:
  - name: mini
    provider: openai
    config: { api_key: sk-loopback-test, base_url: "${baseURL}", model: gpt-4o-mini }
execution: { max_retries: 2, max_fallbacks: 0, backoff: { initial: 1000ms, jitter: false } }
`,
  );
  return path;
}

function cli(args: string[]) {
  return runScript({ file: CLI }, { args, env: ENV, cwd: HOME, timeoutMs: 60_000 });
}

let server: OpenAIServer;
let down: string;
let downPort: number;
beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: "sk-loopback-test" });
  downPort = await freePort();
  down = config(`http://127.0.0.1:${downPort}/v1`);
});
afterAll(() => server.close());

describe("CLI commands whose call has to retry", () => {
  for (const command of [
    ["generate", "hello"],
    ["stream", "hello"],
    ["demo", "--prompts", "2"],
  ]) {
    it(`${command[0]}: an unreachable provider ends with the error and exit code 1 after the retries`, {
      timeout: 90_000,
    }, async () => {
      const run = await cli([...command, "--config", down]);
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(1);
      // Where it tried and why it failed, not just "Connection error. (fetch failed)".
      expect(run.stderr).toContain(
        `error: Connection to http://127.0.0.1:${downPort}/v1 failed: Connection error. (connect ECONNREFUSED 127.0.0.1:${downPort})`,
      );
      // The backoff before the second attempt (1 s) was waited through, not skipped by an early exit.
      // (Two refused connections open the model's circuit, so there is no third attempt: a bound on
      // the whole run that counted start-up time could not tell a waited backoff from a slow start.)
      expect(run.durationMs).toBeGreaterThan(1_000);
    });
  }

  it("generate: two failures, then the answer, exit code 0", { timeout: 90_000 }, async () => {
    server.enqueueFaults([{ type: "status", status: 500 }, { type: "drop" }]);
    const run = await cli(["generate", "hello", "--config", config(server.baseURL)]);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe("Echo: hello");
    expect(run.stderr).toMatch(/\[mini\] /);
  });

  it("stream: two failures before the first chunk, then the answer, exit code 0", { timeout: 90_000 }, async () => {
    server.enqueueFaults([
      { type: "status", status: 503 },
      { type: "status", status: 500 },
    ]);
    const run = await cli(["stream", "hello", "--config", config(server.baseURL)]);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Echo: hello");
    expect(run.stderr).toMatch(/\[mini\] .* first chunk after/);
  });

  it("demo: a first prompt that fails twice still gets its answer; every prompt is reported", {
    timeout: 90_000,
  }, async () => {
    server.enqueueFaults([
      { type: "status", status: 500 },
      { type: "status", status: 500 },
    ]);
    const run = await cli(["demo", "--prompts", "2", "--json", "--config", config(server.baseURL)]);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { decisions: { model: string; text: string }[] };
    expect(out.decisions.map((d) => d.model)).toEqual(["mini", "mini"]);
  });
});
