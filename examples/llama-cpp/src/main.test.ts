// Runs the example as a user does (its own Node process): real llama.cpp inference on a tiny GGUF
// model, the one the example writes itself when MODEL_PATH is not set.
import { fileURLToPath } from "node:url";
import { runScript } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const env = (vars: Record<string, string>) => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...vars });

describe("examples/llama-cpp", () => {
  it("writes a tiny model, answers, streams and returns JSON of a schema", { timeout: 120_000 }, async () => {
    const run = await runScript({ file: MAIN }, { env: env({ THREADS: "1" }), timeoutMs: 110_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^no MODEL_PATH: wrote a tiny random-weight model to .*tiny-q8_0\.gguf$/m);
    expect(run.stdout).toMatch(/tiny-q8_0\.gguf \(Q8_0, 1 thread\(s\)\)$/m);
    expect(run.stdout).toMatch(/^tokens: \d+ in, 32 out; \d+ tokens\/s$/m);
    expect(run.stdout).toMatch(/^stream: .+/m);
    expect(run.stdout).toMatch(/^json: \{ answer: '(yes|no)' \}$/m);
  });

  it("exits 1 with a ConfigError when MODEL_PATH does not exist", { timeout: 60_000 }, async () => {
    const run = await runScript({ file: MAIN }, { env: env({ MODEL_PATH: "/nonexistent/models" }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ConfigError: .*\/nonexistent\/models does not exist/m);
  });
});
