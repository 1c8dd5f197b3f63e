import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

// Real processes whose only work is one call that waits inside the base class: for a slot under
// the model's limits, or for its deadline. The wait must keep Node alive until the call settles,
// and nothing may keep it alive after.

const entry = pathToFileURL(fileURLToPath(new URL("./index.ts", import.meta.url))).href;
const cwd = fileURLToPath(new URL("..", import.meta.url));

function run(
  body: string,
): Promise<{ code: number | null; stdout: string; stderr: string; exitedAt: number; killed: boolean }> {
  const script = `const { Model, LocalRateLimiter, contentText } = await import(${JSON.stringify(entry)});\n${body}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitedAt: Date.now(), killed });
    });
  });
}

describe("a process whose one call waits in the base class", () => {
  it("waits for a per-minute slot (with a queue timeout past setTimeout's range), answers, exits", {
    timeout: 60_000,
  }, async () => {
    const result = await run(`
class Echo extends Model {
  async doGenerate(request) { return { text: "echo " + contentText(request.messages.at(-1).content) }; }
}
const model = new Echo({ name: "echo", provider: "custom", constraints: { maxRequestsPerMinute: 1, queueTimeoutMs: 3_000_000_000 } });
let skew = 0;
model.setRateLimiter(new LocalRateLimiter({ maxRequestsPerMinute: 1, now: () => Date.now() + skew }));
const ask = (content) => model.generate({ messages: [{ role: "user", content }] });
const first = await ask("one");
// The minute of the first call ends 300 ms from now: the second call waits for it.
skew = 59_700;
const started = Date.now();
const second = await ask("two");
console.log(JSON.stringify({ texts: [first.text, second.text], waitedMs: Date.now() - started, settledAt: Date.now() }));
`);
    expect(result.killed).toBe(false);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.trim()) as { texts: string[]; waitedMs: number; settledAt: number };
    expect(report.texts).toEqual(["echo one", "echo two"]);
    expect(report.waitedMs).toBeGreaterThanOrEqual(250);
    expect(result.exitedAt - report.settledAt).toBeLessThan(3_000);
  });

  it("a provider that never answers: its deadline rejects the call and the process exits 1", {
    timeout: 60_000,
  }, async () => {
    const result = await run(`
class Hanging extends Model {
  doGenerate() { return new Promise(() => {}); }
}
const model = new Hanging({ name: "hang", provider: "custom" });
try {
  await model.generate({ messages: [{ role: "user", content: "hi" }], timeoutMs: 300 });
} catch (error) {
  console.log(JSON.stringify({ code: error.code, settledAt: Date.now() }));
  process.exitCode = 1;
}
`);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout.trim()) as { code: string; settledAt: number };
    expect(report.code).toBe("timeout_error");
    expect(result.exitedAt - report.settledAt).toBeLessThan(3_000);
  });
});
