import { spawn } from "node:child_process";

export interface RunScriptOptions {
  /** Working directory: where the script's bare imports resolve from. Default `process.cwd()`. */
  cwd?: string;
  /** The child's environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Arguments for Node before the script (default `["--import", "tsx"]` for an inline script, none for a file). */
  nodeArgs?: readonly string[];
  /** Arguments after the script file. */
  args?: readonly string[];
  /** Killed (SIGKILL) after this long; `killed` then says so. Default 30 s. */
  timeoutMs?: number;
}

export interface ScriptRun {
  /** The exit code, or `null` when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  durationMs: number;
  /** Killed by `timeoutMs`: the process did not exit by itself. */
  killed: boolean;
}

/**
 * Runs Node on an inline ES module (`{ script }`) or a file (`{ file }`) in its own process and
 * resolves with how it ended. Never rejects on a failing child: the exit code, the output and
 * whether it had to be killed are what process-level tests assert. Asynchronous, so servers in
 * the test's own process keep answering the child.
 */
export function runScript(source: { script: string } | { file: string }, options: RunScriptOptions = {}): Promise<ScriptRun> {
  const argv =
    "script" in source
      ? [...(options.nodeArgs ?? ["--import", "tsx"]), "--input-type=module", "-e", source.script]
      : [...(options.nodeArgs ?? []), source.file];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...argv, ...(options.args ?? [])], {
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? process.env,
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
    }, options.timeoutMs ?? 30_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, durationMs: performance.now() - started, killed });
    });
  });
}
