import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface RunScriptOptions {
  /** Working directory: where the script's bare imports resolve from. Default `process.cwd()`. */
  cwd?: string;
  /** The child's environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Arguments for Node before the script (default `["--import", "tsx"]` for an inline script or a `.ts`/`.mts`/`.cts` file: your project's tsx; none for a JavaScript file). */
  nodeArgs?: readonly string[];
  /** Arguments for the script: `process.argv.slice(2)` in it. */
  args?: readonly string[];
  /** Killed (SIGKILL) after this long; `timedOut` then says so. Default 30 s. */
  timeoutMs?: number;
}

/** How a script run ended: exit code, signal, output, duration, and whether it had to be killed. */
export interface ScriptRun {
  /** The exit code, or `null` when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  durationMs: number;
  /** Killed at `timeoutMs`: the process did not exit by itself (a script must end by itself). */
  timedOut: boolean;
}

/**
 * Runs Node on an inline ES module (`{ script }`, its bare imports resolved from `cwd`) or a file
 * (`{ file }`) in its own process and resolves with how it ended. Never rejects on a failing child: the exit code, the output and
 * whether it had to be killed are what process-level tests assert. Asynchronous, so servers in
 * the test's own process keep answering the child.
 */
export function runScript(
  source: { script: string } | { file: string },
  options: RunScriptOptions = {},
): Promise<ScriptRun> {
  const cwd = options.cwd ?? process.cwd();
  // An inline script is written to a file under cwd's node_modules/.cache, so its bare imports
  // resolve from cwd and it runs as a file: with -e (or stdin) the script or --input-type would
  // be in the child's execArgv, and a process it forks (node-llama-cpp tests its binary that way)
  // would inherit them instead of running its own module.
  let file: string;
  let temporary: string | undefined;
  if ("script" in source) {
    const dir = join(cwd, "node_modules", ".cache", "run-script");
    mkdirSync(dir, { recursive: true });
    file = temporary = join(dir, `${randomUUID()}.mjs`);
    writeFileSync(file, source.script);
  } else file = source.file;
  const nodeArgs = options.nodeArgs ?? ("script" in source || /\.[mc]?ts$/.test(file) ? ["--import", "tsx"] : []);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, file, ...(options.args ?? [])], {
      cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const removeTemporary = () => {
      if (temporary) rmSync(temporary, { force: true });
    };
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
      removeTemporary();
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      removeTemporary();
      resolve({ code, signal, stdout, stderr, durationMs: performance.now() - started, timedOut });
    });
  });
}
