import { type ChildProcess, spawn } from "node:child_process";

export interface ServerProcess {
  url: string;
  port: number;
  /** The child process's id (the gateway bench reads its CPU time from /proc). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a loopback provider server from `@orchestrator-ts/testing` in a child process, so that the
 * CPU this process spends per call is the client's alone.
 */
export function startServerProcess(
  factory: "startOpenAIServer" | "startAnthropicServer",
  options: Record<string, unknown> = {},
): Promise<ServerProcess> {
  const script = `import(${JSON.stringify("@orchestrator-ts/testing")}).then(async (m) => {
    const s = await m[${JSON.stringify(factory)}](${JSON.stringify(options)});
    process.stdout.write(JSON.stringify({ port: s.port, url: s.url }) + "\\n");
    process.on("SIGTERM", () => s.close().then(() => process.exit(0)));
    // The parent holds this pipe: when it dies, however it dies, stdin ends and so does this process.
    process.stdin.on("end", () => process.exit(0)).resume();
  });`;
  const child: ChildProcess = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server process exited with ${code}`)));
    child.stdout?.on("data", (data: Buffer) => {
      buffered += data.toString();
      const line = buffered.split("\n")[0];
      if (!buffered.includes("\n") || !line) return;
      const { port, url } = JSON.parse(line) as { port: number; url: string };
      child.removeAllListeners("exit");
      resolve({
        port,
        url,
        pid: child.pid as number,
        stop: () =>
          new Promise<void>((done) => {
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}
