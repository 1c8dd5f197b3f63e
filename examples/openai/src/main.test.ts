// Runs the example as a user does (its own Node process), against a loopback server that speaks
// OpenAI's wire protocol, with the key in OPENAI_API_KEY.
import { fileURLToPath } from "node:url";
import { type OpenAIServer, runScript, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const KEY = "sk-example-openai-0123456789";
let server: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({
    apiKey: KEY,
    reply: (r) => (r.jsonMode ? { text: JSON.stringify({ city: "Oslo", country: "Norway" }) } : {}),
  });
});
afterAll(() => server.close());
const env = (vars: Record<string, string>) => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...vars });

describe("examples/openai", () => {
  it("answers, streams and returns JSON of a schema with the key from OPENAI_API_KEY", {
    timeout: 60_000,
  }, async () => {
    const run = await runScript({ file: MAIN }, { env: env({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.baseURL }) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("gpt-4o-mini: Echo: Say hello in five words.\n");
    expect(run.stdout).toMatch(/^tokens: 5 in, 6 out; cost: \$0\.\d{6}$/m);
    expect(run.stdout).toContain("stream: Echo: Count from one to five.\n");
    expect(run.stdout).toContain("json: { city: 'Oslo', country: 'Norway' }");
    const chats = server.requests.filter((r) => r.path.endsWith("/chat/completions"));
    expect(chats).toHaveLength(3);
    expect(chats.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
  });

  it("exits 1 with a typed error, and without showing the key, when the key is wrong", {
    timeout: 60_000,
  }, async () => {
    const run = await runScript(
      { file: MAIN },
      { env: env({ OPENAI_API_KEY: "sk-wrong-key-000000000000", OPENAI_BASE_URL: server.baseURL }) },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^AuthenticationError: /m);
    expect(run.stdout + run.stderr).not.toContain("sk-wrong-key-000000000000");
  });
});
