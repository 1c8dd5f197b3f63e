import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it } from "vitest";

const entry = pathToFileURL(fileURLToPath(new URL("./index.ts", import.meta.url))).href;

// A real process: with a started monitor, a hung health check and an open circuit's cooldown
// pending, it must still exit once its own work is done.
const script = `
const { ModelHealthMonitor } = await import(${JSON.stringify(entry)});
const monitor = new ModelHealthMonitor({ checkIntervalMs: 20, timeoutMs: 600000, cooldownMs: 600000 });
let checks = 0;
monitor.watch({ name: "ok", provider: "t", healthCheck: async () => { checks++; return true; } });
monitor.watch({ name: "hung", provider: "t", healthCheck: () => new Promise(() => {}) });
monitor.watch({ name: "down", provider: "t", healthCheck: async () => true });
for (let i = 0; i < 3; i++) monitor.recordFailure("down", new Error("500"));
monitor.start();
setTimeout(() => console.log(JSON.stringify({ checks, down: monitor.availability("down").available })), 200);
`;

it("a process with a started monitor exits by itself", () => {
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
    timeout: 20_000,
  });
  expect(result.error).toBeUndefined();
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const report = JSON.parse(result.stdout) as { checks: number; down: boolean };
  expect(report.checks).toBeGreaterThan(1); // the interval really ran
  expect(report.down).toBe(false);
  expect(Date.now() - started).toBeLessThan(20_000);
}, 30_000);

// A real process whose only work is awaiting a check that hangs: the check's timeout must keep
// Node alive until it answers "timed out", and nothing may keep it alive after.
const awaitedScript = `
const { ModelHealthMonitor } = await import(${JSON.stringify(entry)});
const monitor = new ModelHealthMonitor({ checkIntervalMs: 300000, timeoutMs: 300 });
monitor.watch({ name: "hung", provider: "t", healthCheck: () => new Promise(() => {}) });
monitor.watch({ name: "fresh", provider: "t", healthCheck: () => new Promise(() => {}) });
monitor.start();
const checked = await monitor.checkNow("hung");
const asked = await monitor.getHealth("fresh");
console.log(JSON.stringify({ checked: checked.issues, asked: asked.issues, settledAt: Date.now() }));
`;

it("a process awaiting a hung check gets its timeout as the answer, then exits", async () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", awaitedScript], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
    timeout: 20_000,
  });
  const exitedAt = Date.now();
  expect(result.error).toBeUndefined();
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const report = JSON.parse(result.stdout) as { checked: string[]; asked: string[]; settledAt: number };
  expect(report.checked.join("; ")).toMatch(/health check timed out after 300 ms/);
  expect(report.asked.join("; ")).toMatch(/health check timed out after 300 ms/);
  expect(exitedAt - report.settledAt).toBeLessThan(3_000);
}, 30_000);
