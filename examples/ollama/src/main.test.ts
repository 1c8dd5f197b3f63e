// Runs the example as a user does (its own Node process), against a loopback server that speaks
// Ollama's API (NDJSON streams, /api/pull, /api/show), found through OLLAMA_HOST.
import { fileURLToPath } from "node:url";
import { type OllamaServer, runScript, startOllamaServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
let server: OllamaServer;
beforeAll(async () => {
  server = await startOllamaServer({ models: [] }); // nothing installed: the example pulls its model
});
afterAll(() => server.close());
const env = (vars: Record<string, string>) => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...vars });

describe("examples/ollama", () => {
  it("pulls the model with progress, reads its capabilities, answers and streams", { timeout: 60_000 }, async () => {
    const run = await runScript({ file: MAIN }, { env: env({ OLLAMA_HOST: server.url }) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^pull: pulling manifest$/m);
    expect(run.stdout).toMatch(/^pull: pulling \w+ 100%$/m);
    expect(run.stdout).toContain("llama3.2:1b: context window 131072, tools: true\n");
    expect(run.stdout).toContain("local: Echo: What is a qubit?\n");
    expect(run.stdout).toContain("stream: Echo: Write a haiku about the sea.\n");
    expect(server.models).toContain("llama3.2:1b");
  });

  it("exits 1 saying Ollama is not reachable when nothing listens at OLLAMA_HOST", { timeout: 60_000 }, async () => {
    const gone = await startOllamaServer();
    await gone.close(); // its port now refuses connections
    const run = await runScript({ file: MAIN }, { env: env({ OLLAMA_HOST: gone.url }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `ProviderError: Ollama is not reachable at ${gone.url}: fetch failed (connect ECONNREFUSED ${new URL(gone.url).host}). Is \`ollama serve\` running?`,
    );
  });
});
