// The example as a user runs it: a real `node` process on the built script, against loopback.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { startOpenAIServer } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { runExample } from "./app";

const MAIN = resolve(__dirname, "../dist/main.js");

function start(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [MAIN],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("examples/ai-sdk", () => {
  it("npm start: runs to the end against its loopback server and prints every step", { timeout: 60_000 }, async () => {
    const run = await start({});
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^\(no OPENAI_API_KEY: using a loopback server at http:\/\/127\.0\.0\.1:\d+\/v1\)$/);
    expect(lines[1]).toMatch(
      /^generate \[gpt-4o-mini via openai\.chat\]: Echo: Explain quantum computing \(\d+\+\d+ tokens, \$0\.\d{8}\)$/,
    );
    expect(lines[2]).toBe("stream: Echo: Write a haiku about caches");
    expect(lines[3]).toBe('tool call: weather({"city":"Oslo"})');
    expect(lines[4]).toBe("yaml [gpt-from-yaml]: Echo: Hello from YAML");
    expect(lines[5]).toBe("ai sdk generateText [gpt-4o-mini]: Echo: Explain caching (feedback recorded: true)");
    expect(lines[6]).toBe("ai sdk streamText: Echo: Write a limerick");
    // The last step ran: the process did not exit early.
    expect(lines[7]).toBe("wrong key: authentication_error");
    expect(lines).toHaveLength(8);
  });

  it("runExample against a given endpoint returns what it printed", async () => {
    const server = await startOpenAIServer({ apiKey: "sk-test-example-000000000000" });
    try {
      const lines: string[] = [];
      const result = await runExample({
        apiKey: "sk-test-example-000000000000",
        baseURL: server.baseURL,
        log: (line) => lines.push(line),
      });
      expect(result.generated).toBe("Echo: Explain quantum computing");
      expect(result.fromYaml).toBe("Echo: Hello from YAML");
      expect(result.costUsd).toBeGreaterThan(0);
      // This server answers tools with text: no call.
      expect(result.toolCall).toBeUndefined();
      expect(result.viaProvider).toEqual({
        text: "Echo: Explain caching",
        model: "gpt-4o-mini",
        feedbackRecorded: true,
      });
      expect(lines).toHaveLength(7);
    } finally {
      await server.close();
    }
  });
});
