import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Run a TypeScript fixture in its own Node process (through tsx); resolves with its stdout lines parsed as JSON. */
export function runFixture(name: string, args: string[], options: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<unknown[]> {
  const file = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
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
      if (code !== 0 && signal !== "SIGKILL") return reject(new Error(`fixture ${name} exited with ${code ?? signal}: ${err.slice(-2000)}`));
      try {
        resolve(lines.map((l) => JSON.parse(l) as unknown));
      } catch (error) {
        reject(error);
      }
    });
  });
}
