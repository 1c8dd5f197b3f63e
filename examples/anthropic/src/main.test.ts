// Runs the example as a user does (its own Node process), against a loopback server that speaks
// Anthropic's Messages protocol, with the key in ANTHROPIC_API_KEY.
import { fileURLToPath } from "node:url";
import { type AnthropicServer, runScript, startAnthropicServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const KEY = "sk-ant-example-0123456789";
let server: AnthropicServer;
beforeAll(async () => {
  // Claude calls the tool when one is offered.
  server = await startAnthropicServer({
    apiKey: KEY,
    reply: (r) => (r.tools.length > 0 ? { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] } : {}),
  });
});
afterAll(() => server.close());
const env = (vars: Record<string, string>) => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...vars });

describe("examples/anthropic", () => {
  it("answers with a system prompt, streams and makes a tool call with the key from ANTHROPIC_API_KEY", {
    timeout: 60_000,
  }, async () => {
    const run = await runScript(
      { file: MAIN },
      { env: env({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.baseURL }) },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("claude-3-5-haiku: Echo: What is a qubit?\n");
    expect(run.stdout).toMatch(/^tokens: \d+ in, \d+ out; cost: \$0\.\d{6}$/m);
    expect(run.stdout).toContain("stream: Echo: Write a haiku about the sea.\n");
    expect(run.stdout).toContain('tool call: get_weather({"city":"Paris"})\nfinish: tool-calls\n');
    const first = server.requests.find((r) => r.path === "/v1/messages");
    expect(first?.body).toMatchObject({ model: "claude-3-5-haiku-20241022", system: "Answer in one short sentence." });
  });

  it("exits 1 with an AuthenticationError naming ANTHROPIC_API_KEY when it is not set", {
    timeout: 60_000,
  }, async () => {
    const run = await runScript({ file: MAIN }, { env: env({ ANTHROPIC_BASE_URL: server.baseURL }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^AuthenticationError: .*ANTHROPIC_API_KEY/m);
  });
});
