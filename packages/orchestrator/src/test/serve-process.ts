// Shared by the process-level tests of `orchestrator serve`: the committed bin in a real process.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { expect } from "vitest";

const BIN = resolve(__dirname, "../../bin/orchestrator.js");

/**
 * Runs `orchestrator serve --config <config> --port 0 …args` in `home` with only `env` (plus PATH
 * and HOME), waits for the URL it prints, runs `body`, then sends SIGTERM and expects exit code 0.
 * A process that exits before printing its URL fails with its output.
 */
export async function withServe(
  options: {
    config: string;
    home: string;
    args?: readonly string[];
    env?: Record<string, string>;
    /** Open an IPC channel to the child, as a process manager such as PM2 (fork mode) does. */
    ipc?: boolean;
  },
  body: (url: string) => Promise<void>,
): Promise<void> {
  const { config, home } = options;
  const child = spawn(process.execPath, [BIN, "serve", "--config", config, "--port", "0", ...(options.args ?? [])], {
    cwd: home,
    env: { PATH: process.env.PATH ?? "", HOME: home, ORCHESTRATOR_HOME: home, ...(options.env ?? {}) },
    stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exit = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  try {
    const url = await new Promise<string>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`serve printed no URL in 30 s\nstdout: ${stdout}\nstderr: ${stderr}`)),
        30_000,
      );
      child.stdout?.on("data", () => {
        const match = /serving on (http:\/\/\S+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          done(match[1] as string);
        }
      });
      void exit.then((code) =>
        fail(new Error(`serve exited early (code ${code})\nstdout: ${stdout}\nstderr: ${stderr}`)),
      );
    });
    await body(url);
    child.kill("SIGTERM");
    // Bounded: a server that drained but never exits must fail here, not at the test's timeout.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((done) => {
      timer = setTimeout(() => done("still running 15 s after SIGTERM"), 15_000);
    });
    expect(await Promise.race([exit, late])).toBe(0);
    clearTimeout(timer);
  } finally {
    child.kill("SIGKILL");
  }
}
