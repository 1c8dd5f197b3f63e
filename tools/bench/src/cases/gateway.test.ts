import { describe, expect, it } from "vitest";
import { type GatewayExtra, gatewayCase } from "./gateway";

// A smoke test, not a benchmark: the gateway case runs end to end in a tiny quick mode, every
// contender in its own process answers every call, the report has every number it promises,
// and no server process is left behind. No timing is asserted.

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("gateway benchmark case", () => {
  it("runs direct, minimal proxy, Portkey and our gateway (also through the Responses API) side by side and reports every measure", {
    timeout: 240_000,
  }, async () => {
    const pids: number[] = [];
    const { result, markdown } = await gatewayCase({
      iterations: 12,
      streamIterations: 6,
      warmup: 3,
      rounds: 2,
      rateSeconds: 0.3,
      rates: [40],
      rssRequests: 150,
      onServer: (s) => pids.push(s.pid),
    });
    const extra = result.extra as unknown as GatewayExtra;
    const contenders = [
      "openai SDK → upstream (direct)",
      "minimal proxy (node:http + undici)",
      "Portkey gateway 1.15.2",
      "orchestrator gateway",
      "orchestrator gateway without /metrics",
      "orchestrator gateway, Responses API",
    ];
    // 6 contenders × (plain, stream) × (concurrency 1, 64), every call answered.
    expect(extra.rows).toHaveLength(24);
    for (const row of extra.rows) {
      expect(contenders).toContain(row.contender);
      expect(row.errors).toBe(0);
      expect(row.medianUs).toBeGreaterThan(0);
      expect(row.p99Us).toBeGreaterThanOrEqual(row.medianUs);
      if (row.scenario === "stream") expect(row.ttftMedianUs).toBeGreaterThan(0);
      // Each server process reports its own CPU over IPC; the direct call has no server of its own.
      // The warm-up calls' CPU too, on its own: a fresh server's first calls cost more than the measured ones.
      if (row.contender === contenders[0]) {
        expect(row.serverCpuUsPerRequest).toBeUndefined();
        expect(row.warmupCpuUsPerRequest).toBeUndefined();
      } else {
        expect(row.serverCpuUsPerRequest).toBeGreaterThan(0);
        expect(row.warmupCpuUsPerRequest).toBeGreaterThan(0);
        // Where it went: GC is part of the CPU, and every answer was read from the upstream at least once.
        expect(row.serverGcUsPerRequest).toBeGreaterThanOrEqual(0);
        expect(row.serverGcUsPerRequest).toBeLessThan(row.serverCpuUsPerRequest as number);
        expect(row.upstreamReadsPerRequest).toBeGreaterThanOrEqual(1);
      }
      // Round by round, with what the shared processes (the bench's client, the upstream) spent in each.
      expect(row.rounds).toHaveLength(2);
      for (const round of row.rounds) {
        expect(round.medianUs).toBeGreaterThan(0);
        expect(round.clientCpuUsPerRequest).toBeGreaterThan(0);
        expect(round.serverCpuUsPerRequest === undefined).toBe(row.contender === contenders[0]);
        if (process.platform === "linux") expect(round.upstreamCpuUsPerRequest).toBeGreaterThanOrEqual(0);
      }
    }
    // The two rounds' CPU adds up to the row's (each round ran the same number of calls).
    const ours = extra.rows.find((r) => r.contender === "orchestrator gateway") as GatewayExtra["rows"][number];
    const sum = ours.rounds.reduce((a, r) => a + (r.serverCpuUsPerRequest as number), 0);
    expect(sum / 2).toBeCloseTo(ours.serverCpuUsPerRequest as number, 6);
    for (const name of contenders.slice(1, 4)) {
      expect(extra.rss[name]?.beforeMb).toBeGreaterThan(10);
      expect(extra.rss[name]?.afterMb).toBeGreaterThan(10);
      expect(extra.rssGrowth.byContender[name]?.errors).toBe(0);
      expect(Number.isFinite(extra.rssGrowth.byContender[name]?.growthMb)).toBe(true);
      const step = extra.rate.steps.find((s) => s.contender === name && s.rate === 40);
      // Each step is measured beside a direct call made right before it, and listed in the climb's table.
      expect(step?.directP99Us).toBeGreaterThan(0);
      expect(markdown).toContain(`| 40 | ${name} | ${step?.attempt} |`);
      expect(markdown).toContain(`| ${name} |`);
    }
    expect(extra.goals.filter((g) => g.contender === "orchestrator gateway").map((g) => g.goal)).toEqual(
      expect.arrayContaining([
        "sustained rate ≥ 0.8× proxy",
        "RSS growth over 150 requests ≤ 30 MB",
        "server CPU per request, plain c64 ≤ 1.3× proxy",
        "added median time to first text, c1 ≤ 1.2× proxy",
      ]),
    );
    // CPU goals are also read round by round; two rounds are too few to decide one.
    const cpuGoal = extra.goals.find(
      (g) => g.contender === "orchestrator gateway" && g.goal === "server CPU per request, stream c64 ≤ 1.3× proxy",
    );
    expect(cpuGoal?.rounds).toMatchObject({ rounds: 2, verdict: "undecided" });
    expect(cpuGoal?.rounds?.median).toBeGreaterThan(0);
    expect(
      extra.goals.find((g) => g.contender === "orchestrator gateway" && g.goal.startsWith("added median latency"))
        ?.rounds,
    ).toBeUndefined();
    expect(markdown).toContain(
      "| goal | contender | value | met | round by round: median [interval] | decided by this run |",
    );
    expect(markdown).toMatch(
      /\| server CPU per request, stream c64 ≤ 1\.3× proxy \| orchestrator gateway \| [\d.]+× \| (yes|\*\*no\*\*) \| [\d.]+× \(2 rounds: no interval\) \| undecided \|/,
    );
    expect(markdown).toContain(
      "| contender | scenario | conc. | warm-up CPU µs/req | vs proxy | measured CPU µs/req |",
    );
    expect(markdown).toContain("measured after 3 warm-up calls per contender");
    expect(markdown).toContain(
      "| contender | scenario | conc. | server CPU µs/req | GC µs/req | CPU less GC vs proxy | upstream reads/req |",
    );
    expect(markdown).toContain(
      "| scenario | conc. | direct median µs | direct max / min | upstream CPU µs/call | client CPU µs/call (direct) | proxy CPU µs/req | our CPU µs/req |",
    );
    expect(markdown).toMatch(/\| stream \| 64 \| [\d,]+ \/ [\d,]+ \/ [\d,]+ \| [\d.]+× \|/);
    // Five servers were started, and all of them are gone.
    expect(pids).toHaveLength(5);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
