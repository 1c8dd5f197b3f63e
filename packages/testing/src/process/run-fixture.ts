import { spawn } from "node:child_process";

export interface RunFixtureOptions {
  /** Killed (SIGKILL) after this long. Default 20 s. */
  timeoutMs?: number;
  /** Called with the child's pid once it is spawned (e.g. to kill it mid-run). */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs a TypeScript file in its own Node process (through tsx) and resolves with the lines of its
 * stdout that are JSON objects, parsed. Rejects with the end of its stderr when it exits non-zero
 * (a child killed by the timeout resolves with what it printed).
 */
export function runFixture(file: string, args: readonly string[], options: RunFixtureOptions = {}): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const lines = out.split("\n").filter((l) => l.trim().startsWith("{"));
      if (code !== 0 && signal !== "SIGKILL")
        return reject(new Error(`${file} exited with ${code ?? signal}: ${err.slice(-2000)}`));
      try {
        resolve(lines.map((l) => JSON.parse(l) as unknown));
      } catch (error) {
        reject(error);
      }
    });
  });
}
