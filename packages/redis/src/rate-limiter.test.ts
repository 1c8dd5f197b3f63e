import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { AbortError, type Lease, RateLimitError } from "@orchestrator-ts/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { runFixture } from "../test/spawn";
import { RedisRateLimiter } from "./rate-limiter";

let redis: RedisServerHandle;
const open: RedisRateLimiter[] = [];
let n = 0;

function limiter(options: Omit<ConstructorParameters<typeof RedisRateLimiter>[0], "url">): RedisRateLimiter {
  const l = new RedisRateLimiter({ url: redis.url, ...options });
  open.push(l);
  return l;
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(open.map((l) => l.close()));
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Hit {
  pid: number;
  start: number;
  end: number;
}

interface WorkerSummary {
  pid: number;
  granted: number;
  failures: Record<string, number>;
  untyped: string[];
  maxSettleMs: number;
  fallbacks: number;
  inFlight: number;
}

/** Waits (at most 3 s) until every limiter's connection has had a PING answered since Redis stopped answering. */
async function backOnRedis(limiters: RedisRateLimiter[]): Promise<void> {
  const deadline = performance.now() + 3_000;
  while (limiters.some((l) => !l.connection.available) && performance.now() < deadline) await sleep(5);
}

/** The most calls the upstream had in flight at once among calls that started in [from, to), optionally of one process. */
function peak(hits: Hit[], from: number, to: number, pid?: number): number {
  let most = 0;
  const mine = pid === undefined ? hits : hits.filter((h) => h.pid === pid);
  for (const h of mine) {
    if (h.start < from || h.start >= to) continue;
    let overlapping = 0;
    for (const o of mine) if (o.start <= h.start && h.start < o.end) overlapping++;
    most = Math.max(most, overlapping);
  }
  return most;
}

/**
 * Several real processes share one limiter (`maxConcurrentRequests`) on one redis-server and
 * call a real HTTP upstream while holding a slot; once every process has made a call, Redis is
 * frozen (SIGSTOP) for `freezeMs`, then runs `afterMs` more. The upstream records every call.
 */
async function runFleet(options: {
  mode: "local" | "reject";
  maxConcurrent: number;
  processes: number;
  freezeMs: number;
  afterMs: number;
  acquireTimeoutMs: number;
}) {
  const key = `fleet${++n}`;
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
      res.end("ok");
    }, 100);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const file = fileURLToPath(new URL("../test/fixtures/fleet-worker.ts", import.meta.url));
  const children: ChildProcessWithoutNullStreams[] = [];
  const outputs: string[] = [];
  const exits: Promise<number | null>[] = [];
  let paused = false;
  try {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < options.processes; i++) {
      const child = spawn(process.execPath, [
        "--import",
        "tsx",
        file,
        redis.url,
        key,
        upstreamUrl,
        options.mode,
        String(options.maxConcurrent),
        "4",
        String(options.acquireTimeoutMs),
      ]);
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
            () => reject(new Error(`worker ${i} made no call within 20 s: ${err.slice(-500)}`)),
            20_000,
          );
          child.once("exit", (code) => reject(new Error(`worker ${i} exited early (${code}): ${err.slice(-500)}`)));
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
    await sleep(1_500);
    const pausedAt = performance.now();
    redis.pause();
    paused = true;
    await sleep(options.freezeMs);
    redis.resume();
    paused = false;
    const resumedAt = performance.now();
    await sleep(options.afterMs);
    const endAt = performance.now();
    for (const child of children) child.stdin.end();
    const codes = await Promise.race([Promise.all(exits), sleep(15_000).then(() => undefined)]);
    const summaries = outputs.map(
      (out) =>
        out
          .split("\n")
          .filter((l) => l.startsWith("{") && !l.includes('"ready"'))
          .map((l) => JSON.parse(l) as WorkerSummary)[0],
    );
    return { hits, codes, summaries, pausedAt, resumedAt, endAt };
  } finally {
    if (paused) redis.resume();
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await new Promise((resolve) => upstream.close(resolve));
  }
}

/** What every fleet run must show, whatever the mode: processes that ran to the end, no hung call, typed failures, prompt service after the resume. */
function expectHealthyFleet(run: Awaited<ReturnType<typeof runFleet>>, acquireTimeoutMs: number): void {
  const { hits, codes, summaries, resumedAt, endAt } = run;
  expect(codes).toEqual(summaries.map(() => 0));
  for (const s of summaries) {
    expect(s).toBeDefined();
    expect(s?.untyped).toEqual([]);
    expect(Object.keys(s?.failures ?? {}).filter((code) => code !== "rate_limit_error")).toEqual([]);
    // Every acquire settled (granted or refused) within its timeout, plus timer and scheduling slack.
    expect(s?.maxSettleMs).toBeLessThan(acquireTimeoutMs + 1_000);
    expect(s?.inFlight).toBe(0);
  }
  // Calls flow again right after Redis resumes, not leaseTtlMs (30 s) later: the first within
  // 1.5 s, then no gap longer than 1 s between two starts.
  const after = hits.filter((h) => h.start >= resumedAt).map((h) => h.start);
  expect(after.length).toBeGreaterThan(0);
  expect((after[0] as number) - resumedAt).toBeLessThan(1_500);
  let longestGap = 0;
  for (let i = 1; i < after.length; i++)
    longestGap = Math.max(longestGap, (after[i] as number) - (after[i - 1] as number));
  longestGap = Math.max(longestGap, endAt - 200 - (after[after.length - 1] as number));
  expect(longestGap).toBeLessThan(1_000);
}

describe("RedisRateLimiter", () => {
  it("holds maxConcurrentRequests across two limiters (two processes' worth) and hands freed slots on", async () => {
    const key = `c${++n}`;
    const a = limiter({ key, maxConcurrentRequests: 2, pollIntervalMs: 10 });
    const b = limiter({ key, maxConcurrentRequests: 2, pollIntervalMs: 10 });
    const held: Lease[] = [await a.acquire(), await b.acquire()];
    expect(a.inFlight + b.inFlight).toBe(2);
    await expect(b.acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(RateLimitError);
    expect(b.isSaturated()).toBe(true);
    const waiting = b.acquire({ timeoutMs: 2_000 });
    held[0]?.release();
    const third = await waiting;
    expect(b.inFlight).toBe(2);
    third.release();
    held[1]?.release();
    expect(a.inFlight + b.inFlight).toBe(0);
  });

  it("holds maxRequestsPerMinute and says when to retry", async () => {
    const l = limiter({ key: `r${++n}`, maxRequestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) (await l.acquire()).release();
    const error = await l.acquire({ timeoutMs: 100 }).catch((e: unknown) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBeGreaterThan(50_000);
    expect(l.isSaturated()).toBe(true);
  });

  it("honours abort while waiting", async () => {
    const l = limiter({ key: `a${++n}`, maxConcurrentRequests: 1 });
    const lease = await l.acquire();
    const controller = new AbortController();
    const waiting = l.acquire({ signal: controller.signal, timeoutMs: 5_000 });
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toSatisfy((e) => AbortError.isInstance(e));
    lease.release();
    (await l.acquire({ timeoutMs: 500 })).release();
  });

  it("three processes under one shared limit of 30 per minute never exceed it in total", async () => {
    const key = `p${++n}`;
    // Acquires wait up to 5 s: on a loaded machine a slice's reply may come later than a short timeout.
    const runs = await Promise.all(
      [1, 2, 3].map(() => runFixture("rate-worker", [redis.url, key, "rpm", "20", "5000"])),
    );
    const counts = runs.map((lines) => lines[0] as { granted: number; rejected: number });
    const granted = counts.reduce((s, c) => s + c.granted, 0);
    const rejected = counts.reduce((s, c) => s + c.rejected, 0);
    console.log(
      `3 processes × 20 attempts, shared limit 30/min: granted ${counts.map((c) => c.granted).join(" + ")} = ${granted}, rejected ${rejected}`,
    );
    expect(granted).toBe(30);
    expect(rejected).toBe(30);
  }, 40_000);

  it("reclaims the slot of a holder that crashed (SIGKILL) after leaseTtlMs", async () => {
    const key = `k${++n}`;
    const file = fileURLToPath(new URL("../test/fixtures/rate-worker.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", file, redis.url, key, "hold"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the holder never reported its slot")), 10_000);
      child.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("holding")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const l = limiter({ key, maxConcurrentRequests: 1, leaseTtlMs: 600, pollIntervalMs: 20 });
    // Alive, the holder's heartbeat keeps the slot past its TTL.
    await expect(l.acquire({ timeoutMs: 900 })).rejects.toBeInstanceOf(RateLimitError);
    child.kill("SIGKILL");
    const killedAt = performance.now();
    const lease = await l.acquire({ timeoutMs: 3_000 });
    const waitedMs = performance.now() - killedAt;
    console.log(`slot of the killed holder reclaimed after ${Math.round(waitedMs)} ms (leaseTtlMs 600)`);
    expect(waitedMs).toBeLessThan(1_500);
    lease.release();
  }, 20_000);

  it("falls back to local limits while Redis is down, or fails closed when asked; never hangs", async () => {
    const local = limiter({ key: `f${++n}`, maxConcurrentRequests: 1, whenUnavailable: "local" });
    const closed = limiter({ key: `f${++n}`, maxConcurrentRequests: 1, whenUnavailable: "reject" });
    (await local.acquire()).release();
    // The one shared slot of the fail-closed limiter is leased to it and in use.
    const closedHeld = await closed.acquire();
    const fallbacks: string[] = [];
    local.on("fallback", (e) => fallbacks.push(e.key));
    // The local limiter's freed slot goes back to Redis after idleReturnMs (50 ms): its next acquire needs Redis.
    await sleep(200);
    await redis.kill();
    try {
      const start = performance.now();
      const lease = await local.acquire({ timeoutMs: 1_000 });
      await expect(local.acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(RateLimitError);
      lease.release();
      // Fail closed: no slot beyond what it leased while Redis answered, so it retries until its timeout.
      const refused = await closed.acquire({ timeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(RateLimitError.isInstance(refused)).toBe(true);
      expect((refused as Error).message).toMatch(/Redis is unavailable .* whenUnavailable is "reject"/);
      expect(performance.now() - start).toBeLessThan(1_500);
      expect(fallbacks.length).toBeGreaterThan(0);
    } finally {
      closedHeld.release();
      await redis.restart();
    }
    // Back on Redis once it reconnects.
    await new Promise((r) => setTimeout(r, 1_200));
    (await closed.acquire({ timeoutMs: 1_000 })).release();
    const other = limiter({ key: `f${n}`, maxConcurrentRequests: 1, whenUnavailable: "reject" });
    (await other.acquire({ timeoutMs: 1_000 })).release();
  }, 20_000);

  it("a reservation Redis runs after the client gave up on it (Redis frozen) leaves no lease: the next acquire is granted at once", async () => {
    const key = `z${++n}`;
    // Each process keeps to the whole limit on its own while Redis is frozen (two slots for a).
    const a = limiter({ key, maxConcurrentRequests: 2, pollIntervalMs: 20, whenUnavailable: "local" });
    const b = limiter({ key, maxConcurrentRequests: 2, pollIntervalMs: 20, whenUnavailable: "local" });
    // A process that sent nothing during the freeze: it sees only what Redis holds.
    const c = limiter({ key, maxConcurrentRequests: 2, pollIntervalMs: 20 });
    for (const l of [a, b, c]) (await l.acquire()).release();
    // Their freed slots go back to Redis after idleReturnMs (50 ms), before the freeze.
    await sleep(200);
    redis.pause();
    try {
      // Each gives up on Redis after operationTimeoutMs (1 s) and is served by the local limits.
      const leases = await Promise.all([
        a.acquire({ timeoutMs: 5_000 }),
        a.acquire({ timeoutMs: 5_000 }),
        b.acquire({ timeoutMs: 5_000 }),
      ]);
      for (const lease of leases) lease.release();
    } finally {
      redis.resume();
    }
    const resumedAt = performance.now();
    expect(a.inFlight + b.inFlight).toBe(0);
    // Nothing is held anywhere: both slots must be free now, not in leaseTtlMs (30 s).
    const held = [await c.acquire({ timeoutMs: 2_000 }), await c.acquire({ timeoutMs: 2_000 })];
    const waitedMs = performance.now() - resumedAt;
    // The processes that gave up go back to Redis as soon as it answers again, and find it full.
    await backOnRedis([a, b]);
    const backMs = performance.now() - resumedAt;
    console.log(
      `after the freeze: both slots granted in ${Math.round(waitedMs)} ms; the others back on Redis after ${Math.round(backMs)} ms`,
    );
    expect(waitedMs).toBeLessThan(500);
    expect(backMs).toBeLessThan(1_500);
    await expect(a.acquire({ timeoutMs: 200 })).rejects.toBeInstanceOf(RateLimitError);
    await expect(b.acquire({ timeoutMs: 200 })).rejects.toBeInstanceOf(RateLimitError);
    for (const lease of held) lease.release();
    (await a.acquire({ timeoutMs: 1_000 })).release();
  }, 20_000);

  it("a start Redis records after the client gave up on it counts nothing against maxRequestsPerMinute", async () => {
    const key = `w${++n}`;
    const l = limiter({ key, maxRequestsPerMinute: 3, whenUnavailable: "reject" });
    (await l.acquire()).release();
    redis.pause();
    try {
      // Fail closed: each is refused once Redis did not answer within operationTimeoutMs; no call was made.
      const results = await Promise.allSettled([l.acquire({ timeoutMs: 5_000 }), l.acquire({ timeoutMs: 5_000 })]);
      for (const r of results) expect(r.status === "rejected" && RateLimitError.isInstance(r.reason)).toBe(true);
    } finally {
      redis.resume();
    }
    await backOnRedis([l]);
    // One call started this minute, so two more fit; then the window is full (Redis says for how long).
    const leases = [await l.acquire({ timeoutMs: 1_000 }), await l.acquire({ timeoutMs: 1_000 })];
    for (const lease of leases) lease.release();
    const error = await l.acquire({ timeoutMs: 100 }).catch((e: unknown) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBeGreaterThan(50_000);
  }, 20_000);

  it("a process killed while its reservation waits in a frozen Redis leaves no slot behind (Redis checks the deadline itself)", async () => {
    const key = `d${++n}`;
    const file = fileURLToPath(new URL("../test/fixtures/rate-worker.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", file, redis.url, key, "ask-on-input"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const said = (what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the worker never said ${what}`)), 10_000);
        const onData = (d: Buffer) => {
          if (!d.toString().includes(what)) return;
          clearTimeout(timer);
          child.stdout.off("data", onData);
          resolve();
        };
        child.stdout.on("data", onData);
      });
    const checker = limiter({ key, maxConcurrentRequests: 1, pollIntervalMs: 20 });
    try {
      await said("warm");
      (await checker.acquire({ timeoutMs: 1_000 })).release();
      redis.pause();
      try {
        const asked = said("asked");
        child.stdin.write("go\n");
        await asked;
        // Killed before it gives up on the reservation, so no cancellation follows it.
        await sleep(150);
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));
        await sleep(1_000);
      } finally {
        redis.resume();
      }
      // Redis now runs the dead process's reservation, 1 s past its deadline: it must grant nothing.
      await backOnRedis([checker]);
      const start = performance.now();
      const lease = await checker.acquire({ timeoutMs: 2_000 });
      expect(performance.now() - start).toBeLessThan(500);
      lease.release();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 20_000);

  it("a reservation granted in time whose reply comes after the client gave up is taken back", async () => {
    const key = `q${++n}`;
    const a = limiter({ key, maxConcurrentRequests: 1 });
    const checker = limiter({ key, maxConcurrentRequests: 1, pollIntervalMs: 20 });
    for (const l of [a, checker]) (await l.acquire()).release();
    const other = new Redis(redis.url);
    try {
      await other.ping();
      redis.pause();
      let busy: Promise<unknown>;
      let waiting: Promise<Lease>;
      try {
        waiting = a.acquire({ timeoutMs: 5_000 });
        await sleep(50);
        // Another client's 1.5 s script, read after our reservation: Redis runs ours in time, then
        // this one, and only then writes the replies; by then `a` has given up (1 s) on its grant.
        busy = other.eval(
          "local s = redis.call('TIME') repeat local t = redis.call('TIME') until (t[1] - s[1]) * 1000000 + (t[2] - s[2]) > 1500000 return 1",
          0,
        );
        await sleep(50);
      } finally {
        redis.resume();
      }
      (await waiting).release();
      await busy;
      await backOnRedis([a]);
      const start = performance.now();
      const lease = await checker.acquire({ timeoutMs: 2_000 });
      expect(performance.now() - start).toBeLessThan(500);
      lease.release();
    } finally {
      other.disconnect();
    }
  }, 20_000);

  it("fleet: 3 processes share 3 slots and Redis freezes for 5 s mid-run (whenUnavailable: local, each process keeps to the whole limit)", async () => {
    const acquireTimeoutMs = 3_000;
    const run = await runFleet({
      mode: "local",
      maxConcurrent: 3,
      processes: 3,
      freezeMs: 5_000,
      afterMs: 4_000,
      acquireTimeoutMs,
    });
    const { hits, summaries, pausedAt, resumedAt, endAt } = run;
    const fleetBefore = peak(hits, 0, pausedAt);
    const fleetDuring = peak(hits, pausedAt, resumedAt + 1_500);
    const fleetAfter = peak(hits, resumedAt + 1_500, endAt);
    const startsAfter = hits.filter((h) => h.start >= resumedAt).length;
    console.log(
      `fleet (local fallback): ${hits.length} upstream calls, peak in flight ${fleetBefore} before / ${fleetDuring} during / ${fleetAfter} after the freeze; ${startsAfter} started in the ${Math.round(endAt - resumedAt)} ms after it; ` +
        `per process ${JSON.stringify(summaries.map((s) => ({ granted: s?.granted, failures: s?.failures, fallbacks: s?.fallbacks, maxSettleMs: s?.maxSettleMs })))}`,
    );
    expectHealthyFleet(run, acquireTimeoutMs);
    // The shared limit holds whenever Redis answers; while it is frozen each process keeps to it on its own.
    expect(fleetBefore).toBeLessThanOrEqual(3);
    expect(fleetAfter).toBeLessThanOrEqual(3);
    expect(fleetDuring).toBeLessThanOrEqual(3 * 3);
    for (const s of summaries) expect(peak(hits, 0, endAt, s?.pid)).toBeLessThanOrEqual(3);
  }, 60_000);

  it("fleet: fail closed (whenUnavailable: reject), the shared limit is never exceeded through a 5 s freeze", async () => {
    const acquireTimeoutMs = 3_000;
    const run = await runFleet({
      mode: "reject",
      maxConcurrent: 3,
      processes: 3,
      freezeMs: 5_000,
      afterMs: 4_000,
      acquireTimeoutMs,
    });
    const { hits, summaries, resumedAt, endAt } = run;
    const startsAfter = hits.filter((h) => h.start >= resumedAt).length;
    console.log(
      `fleet (fail closed): ${hits.length} upstream calls, peak in flight ${peak(hits, 0, endAt)}; ${startsAfter} started in the ${Math.round(endAt - resumedAt)} ms after the freeze; ` +
        `per process ${JSON.stringify(summaries.map((s) => ({ granted: s?.granted, failures: s?.failures, maxSettleMs: s?.maxSettleMs })))}`,
    );
    expectHealthyFleet(run, acquireTimeoutMs);
    expect(peak(hits, 0, endAt)).toBeLessThanOrEqual(3);
  }, 60_000);
});
