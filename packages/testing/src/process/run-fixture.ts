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
      if (code !== 0 && signal !== "SIGKILL") return reject(new Error(`${file} exited with ${code ?? signal}: ${err.slice(-2000)}`));
      try {
        resolve(lines.map((l) => JSON.parse(l) as unknown));
      } catch (error) {
        reject(error);
      }
    });
  });
}

export interface RunScriptOptions {
  /** Working directory of the child. Default: this process's. */
  cwd?: string;
  /** The child's whole environment (nothing else is inherited). Default: this process's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Killed (SIGKILL) after this long, and reported as `timedOut`. Default 30 s. */
  timeoutMs?: number;
}

export interface ScriptResult {
  /** Exit code, or `null` when the child was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the child was still running at `timeoutMs` and was killed: a script must end by itself. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs a script in its own Node process (a `.ts`/`.mts`/`.cts` file through tsx, which the
 * caller's project provides) and resolves when it exits, however it exits: for tests of what a
 * program prints, its exit code, and that it did not exit early or hang.
 */
export function runScript(file: string, args: readonly string[] = [], options: RunScriptOptions = {}): Promise<ScriptResult> {
  const started = performance.now();
  const env = options.env ? Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined)) : process.env;
  const loader = /\.[mc]?ts$/.test(file) ? ["--import", "tsx"] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loader, file, ...args], { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 30_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr, durationMs: performance.now() - started });
    });
  });
}
