// Runs several real processes of one fixture against a real HTTP upstream that records every
// call (when it started and ended, from which process), does something to Redis mid-run, and
// collects each process's summary.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export interface Hit {
  pid: number;
  start: number;
  end: number;
}

export interface FleetRun<S> {
  hits: Hit[];
  /** Exit codes (undefined: some process did not exit within 20 s of being told to stop). */
  codes: (number | null)[] | undefined;
  summaries: (S | undefined)[];
  /** `performance.now()` when the fault began and ended, and when the run ended. */
  faultAt: number;
  recoveredAt: number;
  endAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `processes` × `test/fixtures/<fixture>.ts` with `args(upstreamUrl)`, waits until each
 * made a call, lets them run `warmMs`, runs `fault()` (resolving when the fault is over), lets
 * them run `afterMs` more, then closes their stdin and collects one JSON summary line each.
 */
export async function runFleet<S>(options: {
  fixture: string;
  processes: number;
  args: (upstream: string) => string[];
  upstreamLatencyMs?: number;
  warmMs?: number;
  fault: () => Promise<void>;
  afterMs: number;
}): Promise<FleetRun<S>> {
  const hits: Hit[] = [];
  const upstream = createServer((req, res) => {
    const hit: Hit = {
      pid: Number(new URL(req.url ?? "/", "http://upstream").searchParams.get("pid")),
      start: performance.now(),
      end: Number.POSITIVE_INFINITY,
    };
    hits.push(hit);
    setTimeout(() => {
      hit.end = performance.now();
      res.end(`answer ${hits.length}`);
    }, options.upstreamLatencyMs ?? 50);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const file = fileURLToPath(new URL(`./fixtures/${options.fixture}.ts`, import.meta.url));
  const children: ChildProcessWithoutNullStreams[] = [];
  const outputs: string[] = [];
  const exits: Promise<number | null>[] = [];
  try {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < options.processes; i++) {
      const child = spawn(process.execPath, ["--import", "tsx", file, ...options.args(upstreamUrl)]);
      children.push(child);
      outputs.push("");
      let err = "";
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      exits.push(new Promise((resolve) => child.once("exit", (code) => resolve(code))));
      ready.push(
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`worker ${i} made no call within 30 s: ${err.slice(-500)}`)),
            30_000,
          );
          child.once("exit", (code) => reject(new Error(`worker ${i} exited early (${code}): ${err.slice(-800)}`)));
          child.stdout.on("data", (d: Buffer) => {
            outputs[i] += d.toString();
            if (outputs[i]?.includes('"ready"')) {
              clearTimeout(timer);
              resolve();
            }
          });
        }),
      );
    }
    await Promise.all(ready);
    await sleep(options.warmMs ?? 1_500);
    const faultAt = performance.now();
    await options.fault();
    const recoveredAt = performance.now();
    await sleep(options.afterMs);
    const endAt = performance.now();
    for (const child of children) child.stdin.end();
    const codes = await Promise.race([Promise.all(exits), sleep(20_000).then(() => undefined)]);
    const summaries = outputs.map(
      (out) =>
        out
          .split("\n")
          .filter((l) => l.startsWith("{") && !l.includes('"ready"'))
          .map((l) => JSON.parse(l) as S)[0],
    );
    return { hits, codes, summaries, faultAt, recoveredAt, endAt };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await new Promise((resolve) => upstream.close(resolve));
  }
}

/** The most calls the upstream had in flight at once among calls that started in [from, to). */
export function peak(hits: Hit[], from = 0, to = Number.POSITIVE_INFINITY): number {
  let most = 0;
  for (const h of hits) {
    if (h.start < from || h.start >= to) continue;
    let overlapping = 0;
    for (const o of hits) if (o.start <= h.start && h.start < o.end) overlapping++;
    most = Math.max(most, overlapping);
  }
  return most;
}
