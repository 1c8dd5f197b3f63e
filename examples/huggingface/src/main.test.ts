// Runs the example as a user does (its own Node process), against a loopback text-generation-
// inference server, the way it runs against your own endpoint (HF_ENDPOINT_URL).
import { fileURLToPath } from "node:url";
import { type HuggingFaceServer, runScript, startHuggingFaceServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const TOKEN = "hf_example_0123456789";
let server: HuggingFaceServer;
beforeAll(async () => {
  server = await startHuggingFaceServer({ apiKey: TOKEN });
});
afterAll(() => server.close());
const env = (vars: Record<string, string>) => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...vars });

describe("examples/huggingface", () => {
  it("checks health, answers and streams through the endpoint in HF_ENDPOINT_URL with the token from HF_TOKEN", {
    timeout: 60_000,
  }, async () => {
    const run = await runScript({ file: MAIN }, { env: env({ HF_TOKEN: TOKEN, HF_ENDPOINT_URL: server.endpointUrl }) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("healthy: true\n");
    expect(run.stdout).toContain("my-endpoint: Echo: What is a qubit?\n");
    expect(run.stdout).toMatch(/^tokens: \d+ in, \d+ out; price: local$/m);
    expect(run.stdout).toContain("stream: Echo: Write a haiku about the sea.\n");
    const chats = server.requests.filter((r) => r.path.endsWith("/chat/completions"));
    expect(chats.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it("exits 1 with an AuthenticationError when the endpoint refuses the token", { timeout: 60_000 }, async () => {
    const run = await runScript(
      { file: MAIN },
      { env: env({ HF_TOKEN: "hf_wrong_000000000000", HF_ENDPOINT_URL: server.endpointUrl }) },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^AuthenticationError: /m);
    expect(run.stdout + run.stderr).not.toContain("hf_wrong_000000000000");
  });
});
