import { fileURLToPath, pathToFileURL } from "node:url";
import { runScript } from "@orchestrator-ts/testing";
import { expect, it } from "vitest";

const entry = pathToFileURL(fileURLToPath(new URL("./index.ts", import.meta.url))).href;

// A real process whose only work is one cached call, with a backend whose lookup never settles
// and holds no I/O of its own: the lookup's deadline must keep Node alive, then the call goes to
// the model and the process prints the answer and exits.
const script = `
const { ModelCache } = await import(${JSON.stringify(entry)});
const { FakeModel } = await import("@orchestrator-ts/testing");
const stuck = { get: () => new Promise(() => {}), set: async () => {}, delete: async () => {}, clear: async () => {} };
const model = new FakeModel({ name: "m", response: "the answer" });
model.enableCaching(new ModelCache({ backend: stuck, lookupTimeoutMs: 300 }));
const result = await model.generate({ messages: [{ role: "user", content: "hi" }] });
console.log(JSON.stringify({ text: result.text, cached: result.cached, settledAt: Date.now() }));
`;

it("a stuck cache lookup times out and the call answers from the model; the process then exits", {
  timeout: 60_000,
}, async () => {
  const run = await runScript({ script }, { cwd: fileURLToPath(new URL("..", import.meta.url)), timeoutMs: 30_000 });
  const exitedAt = Date.now();
  expect(run.timedOut).toBe(false);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout.trim()) as { text: string; cached: boolean; settledAt: number };
  expect(report).toMatchObject({ text: "the answer", cached: false });
  expect(exitedAt - report.settledAt).toBeLessThan(3_000);
});
