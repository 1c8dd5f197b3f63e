import { fileURLToPath, pathToFileURL } from "node:url";
import { type OpenAIServer, freePort, runScript, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A user's script whose only work is one registry call that has to retry: while the call waits
// for its backoff (or for capacity) nothing else keeps Node alive, so the wait itself must. And
// once the call has settled, the background timers (health checks, the deadline timer) must not
// keep the process from exiting.

const registryEntry = pathToFileURL(fileURLToPath(new URL("./index.ts", import.meta.url))).href;
const cwd = fileURLToPath(new URL("..", import.meta.url));

/** A registry with a started health monitor (5-minute interval), as an application sets it up. */
function prelude(backoffMs: number): string {
  return `
const { ModelRegistry } = await import(${JSON.stringify(registryEntry)});
const { ModelHealthMonitor } = await import("@orchestrator-ts/health");
const { OpenAIModel } = await import("@orchestrator-ts/provider-openai");
const healthMonitor = new ModelHealthMonitor({ checkIntervalMs: 300_000 });
const registry = new ModelRegistry({ healthMonitor, maxRetries: 2, maxFallbacks: 0, backoff: { initialMs: ${backoffMs}, jitter: "none" } });
registry.registerModel(new OpenAIModel({ name: "mini", model: "gpt-4o-mini", apiKey: "sk-loopback-test", baseURL: process.env.BASE_URL }));
healthMonitor.start();
const request = { messages: [{ role: "user", content: "hello" }], cache: false };
const report = (value) => console.log(JSON.stringify({ ...value, settledAt: Date.now() }));
`;
}

const GENERATE = `
const result = await registry.generate(request);
report({ text: result.text, attempts: result.attempts.map((a) => a.success) });
`;

const STREAM = `
let text = "";
const stream = registry.stream(request);
for await (const chunk of stream) if (chunk.type === "text") text += chunk.text;
report({ text, attempts: stream.attempts.map((a) => a.success) });
`;

const GENERATE_OR_FAIL = `
try {
  await registry.generate(request);
  report({ answered: true });
} catch (error) {
  report({ error: error.code, message: error.message });
  process.exitCode = 1;
}
`;

interface Report {
  text?: string;
  attempts?: boolean[];
  error?: string;
  message?: string;
  settledAt: number;
}

function lastReport(stdout: string): Report {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Report;
}

let server: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: "sk-loopback-test" });
});
afterAll(() => server.close());

async function runAgainst(baseURL: string, body: string, backoffMs = 300) {
  const run = await runScript(
    { script: prelude(backoffMs) + body },
    { cwd, env: { ...process.env, BASE_URL: baseURL }, timeoutMs: 60_000 },
  );
  return { run, exitedAt: Date.now() };
}

describe("a process whose one call retries", () => {
  it("generate: waits through two backoffs, prints the answer, exits 0 at once", { timeout: 90_000 }, async () => {
    server.enqueueFaults([
      { type: "status", status: 500 },
      { type: "status", status: 503 },
    ]);
    const { run, exitedAt } = await runAgainst(server.baseURL, GENERATE);
    expect(run.timedOut).toBe(false);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = lastReport(run.stdout);
    expect(report.text).toBe("Echo: hello");
    expect(report.attempts).toEqual([false, false, true]);
    // Backoffs of 300 and 600 ms really happened, then nothing kept the process alive.
    expect(run.durationMs).toBeGreaterThan(900);
    expect(exitedAt - report.settledAt).toBeLessThan(3_000);
  });

  it("stream: the same before the first chunk", { timeout: 90_000 }, async () => {
    server.enqueueFaults([{ type: "drop" }, { type: "status", status: 500 }]);
    const { run, exitedAt } = await runAgainst(server.baseURL, STREAM);
    expect(run.timedOut).toBe(false);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = lastReport(run.stdout);
    expect(report.text).toBe("Echo: hello");
    expect(report.attempts).toEqual([false, false, true]);
    expect(exitedAt - report.settledAt).toBeLessThan(3_000);
  });

  it("an unreachable provider: prints the error after the retries and exits 1", { timeout: 90_000 }, async () => {
    const { run, exitedAt } = await runAgainst(`http://127.0.0.1:${await freePort()}/v1`, GENERATE_OR_FAIL);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    const report = lastReport(run.stdout);
    expect(report.error).toBe("provider_error");
    expect(report.message).toMatch(/Connection/);
    expect(run.durationMs).toBeGreaterThan(900);
    expect(exitedAt - report.settledAt).toBeLessThan(3_000);
  });

  it("a wait for capacity: the second call waits for the first one's slot, then answers", {
    timeout: 90_000,
  }, async () => {
    const script = `
const { ModelRegistry } = await import(${JSON.stringify(registryEntry)});
const { FakeModel } = await import("@orchestrator-ts/testing");
const registry = new ModelRegistry({ waitForCapacityMs: 10_000 });
registry.registerModel(new FakeModel({ name: "one-at-a-time", latencyMs: 300, constraints: { maxConcurrentRequests: 1 } }));
const ask = (content) => registry.generate({ messages: [{ role: "user", content }], cache: false });
const first = ask("first");
// Once the first call holds the only slot, the registry sees the model saturated and waits for capacity.
await new Promise((resolve) => setTimeout(resolve, 50));
const [a, b] = await Promise.all([first, ask("second")]);
console.log(JSON.stringify({ texts: [a.text, b.text], settledAt: Date.now() }));
`;
    const run = await runScript({ script }, { cwd, timeoutMs: 60_000 });
    const exitedAt = Date.now();
    expect(run.timedOut).toBe(false);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout.trim()) as { texts: string[]; settledAt: number };
    expect(report.texts).toEqual(["one-at-a-time: first", "one-at-a-time: second"]);
    expect(exitedAt - report.settledAt).toBeLessThan(3_000);
  });
});
