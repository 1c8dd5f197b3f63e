// Starts real redis-server processes for tests: a free loopback port, no persistence, stop/kill/restart.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { connect, createServer } from "node:net";

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Stop gracefully and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: no goodbye to clients. */
  kill(): Promise<void>;
  /** Start again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** The running server's process id (a new one after `restart()`). */
  readonly pid: number;
  /**
   * Freeze the server (SIGSTOP): connections stay open and commands are accepted by the kernel
   * but not executed, as in a long GC-like stall, a VM pause or a swapped-out host, until `resume()`.
   */
  pause(): void;
  /** SIGCONT: the server runs again and executes everything it was sent meanwhile. */
  resume(): void;
}

/** A free loopback port: bind port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let checked = false;
function assertInstalled(): void {
  if (checked) return;
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      "redis-server is not installed: these tests need a real Redis (apt-get install -y redis-server; .ci/run installs it).",
    );
  }
  checked = true;
}

async function waitForPing(
  port: number,
  child: ChildProcess,
  password: string | undefined,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`redis-server exited with code ${child.exitCode} before answering PING`);
    if (await pingOnce(port, password)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

/** One RESP PING over a raw socket (AUTH first when a password is set): no client library needed. */
function pingOnce(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(200, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write(`${password ? `AUTH ${password}\r\n` : ""}PING\r\n`));
    socket.on("data", (data) => {
      reply += data.toString();
      if (reply.includes("+PONG")) done(true);
      else if (reply.startsWith("-")) done(false);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Start a throwaway `redis-server` on a free loopback port; fails loudly when it is not installed. */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServerHandle> {
  const port = await freePort();
  const args = ["--save", "", "--appendonly", "no"];
  if (options.password) args.push("--requirepass", options.password);
  return startRedisProcess({ port, args, ...(options.password ? { password: options.password } : {}) });
}

/**
 * One `redis-server` process on `port` with `args` (after the port and loopback binding), as a
 * handle that can stop, kill, restart (same arguments) and freeze it. `config` is a file to start
 * from (Sentinel needs one it can rewrite). Shared by the single server, the cluster and Sentinel.
 * @internal
 */
export async function startRedisProcess(options: {
  port: number;
  args: readonly string[];
  password?: string;
  config?: string;
}): Promise<RedisServerHandle> {
  assertInstalled();
  const { port, password } = options;
  let child: ChildProcess | undefined;
  const launch = async () => {
    const args = [
      ...(options.config ? [options.config] : []),
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--protected-mode",
      "no",
      ...options.args,
    ];
    const started = spawn("redis-server", args, { stdio: "ignore" });
    child = started;
    try {
      await waitForPing(port, started, password);
    } catch (error) {
      started.kill("SIGKILL");
      throw error;
    }
  };
  await launch();
  const current = (): ChildProcess => {
    if (!child) throw new Error("redis-server was not started");
    return child;
  };
  const auth = password ? `:${encodeURIComponent(password)}@` : "";
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    get pid() {
      const pid = current().pid;
      if (pid === undefined) throw new Error("redis-server has no pid");
      return pid;
    },
    pause() {
      current().kill("SIGSTOP");
    },
    resume() {
      current().kill("SIGCONT");
    },
    async stop() {
      const c = current();
      if (c.exitCode !== null || c.signalCode !== null) return;
      // A paused server would not act on SIGTERM until it runs again.
      c.kill("SIGCONT");
      c.kill("SIGTERM");
      await exited(c);
    },
    async kill() {
      const c = current();
      c.kill("SIGKILL");
      await exited(c);
    },
    async restart() {
      await launch();
    },
  };
}
