import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const HERE = import.meta.dirname;
const PRELOAD = join(HERE, "stats-preload.mjs");

export interface ProcessStats {
  cpuUs: number;
  rssBytes: number;
  /** Time spent in garbage collection since the process started, µs. */
  gcUs: number;
  /** Reads taken from the process's client sockets (its upstream's answers) since it started. */
  reads: number;
}

/** A server in a process of its own that reports its port, CPU time, RSS, GC time and upstream reads over IPC. */
export interface ServerChild {
  name: string;
  url: string;
  port: number;
  pid: number;
  stats(options?: { gc?: boolean }): Promise<ProcessStats>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** How long to wait for the process to listen. */
  startTimeoutMs?: number;
}

/**
 * Runs `node --expose-gc --import stats-preload.mjs <script> …args` and resolves once it listens.
 * Its output is kept (not shown) so a failure can say what the process printed.
 */
export function spawnServer(
  name: string,
  script: string,
  args: string[] = [],
  options: SpawnOptions = {},
): Promise<ServerChild> {
  const child: ChildProcess = spawn(process.execPath, ["--expose-gc", "--import", PRELOAD, script, ...args], {
    cwd: options.cwd ?? HERE,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (data: Buffer) => {
    output = (output + data.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let nextId = 0;
  const pending = new Map<number, (stats: ProcessStats) => void>();
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => {
    exited = true;
  });
  return new Promise<ServerChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not listen within ${options.startTimeoutMs ?? 20_000} ms; it printed:\n${output}`));
    }, options.startTimeoutMs ?? 20_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening; it printed:\n${output}`));
    });
    child.on("message", (message: { type: string; port?: number; id?: number } & Partial<ProcessStats>) => {
      if (message.type === "stats" && message.id !== undefined) {
        pending.get(message.id)?.({
          cpuUs: message.cpuUs ?? Number.NaN,
          rssBytes: message.rssBytes ?? Number.NaN,
          gcUs: message.gcUs ?? Number.NaN,
          reads: message.reads ?? Number.NaN,
        });
        pending.delete(message.id);
        return;
      }
      if (message.type !== "listening" || message.port === undefined) return;
      // The exit listener above rejects a promise already resolved: a no-op from here on.
      clearTimeout(timer);
      const port = message.port;
      resolve({
        name,
        port,
        pid: child.pid as number,
        url: `http://127.0.0.1:${port}`,
        stats: ({ gc = false } = {}) =>
          new Promise<ProcessStats>((done, fail) => {
            if (exited) {
              fail(new Error(`${name} is not running; it printed:\n${output}`));
              return;
            }
            const id = ++nextId;
            pending.set(id, done);
            child.send({ type: "stats", id, gc });
          }),
        stop: async () => {
          if (exited) return;
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exitedPromise;
          clearTimeout(killer);
        },
      });
    });
  });
}
