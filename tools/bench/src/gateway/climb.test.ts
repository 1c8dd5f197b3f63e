import { describe, expect, it } from "vitest";
import { type RateRun, climbRates } from "./climb";

/** A scripted machine: each server's p99 at each rate, per try (the last one repeats). */
function machine(script: Record<string, Record<number, number[]>>, directP99Us = 2_000) {
  const calls: string[] = [];
  const tries = new Map<string, number>();
  return {
    calls,
    direct: async (rate: number): Promise<RateRun> => {
      calls.push(`direct@${rate}`);
      return { p99Us: directP99Us, errors: rate >= 10_000 ? 1 : 0 };
    },
    run: async (name: string, rate: number): Promise<RateRun> => {
      calls.push(`${name}@${rate}`);
      const key = `${name}@${rate}`;
      const n = tries.get(key) ?? 0;
      tries.set(key, n + 1);
      const p99s = script[name]?.[rate] ?? [directP99Us + 1_000];
      return { p99Us: p99s[Math.min(n, p99s.length - 1)] as number, errors: 0 };
    },
  };
}

describe("the sustained-rate climb", () => {
  it("measures every server's step beside a direct call made right before it, rate by rate", async () => {
    const m = machine({ proxy: { 300: [20_000] }, ours: { 200: [20_000] } });
    const { highest, steps } = await climbRates({
      rates: [100, 200, 300, 500],
      contenders: ["proxy", "ours"],
      nameOf: (c) => c,
      direct: m.direct,
      run: m.run,
      maxAddedP99Us: 5_000,
    });
    expect(m.calls).toEqual([
      "direct@100",
      "proxy@100",
      "ours@100",
      "direct@200",
      "proxy@200",
      "ours@200",
      "direct@200",
      "ours@200",
      "direct@300",
      "proxy@300",
      "direct@300",
      "proxy@300",
    ]);
    expect([highest.get("proxy"), highest.get("ours")]).toEqual([200, 100]);
    expect(steps.filter((s) => !s.ok).map((s) => [s.contender, s.rate, s.attempt, s.addedP99Us])).toEqual([
      ["ours", 200, 1, 18_000],
      ["ours", 200, 2, 18_000],
      ["proxy", 300, 1, 18_000],
      ["proxy", 300, 2, 18_000],
    ]);
  });

  it("a step failed once and held on its second try counts as held; the climb goes on", async () => {
    const m = machine({ ours: { 200: [90_000, 3_000] } });
    const { highest, steps } = await climbRates({
      rates: [100, 200, 300],
      contenders: ["ours"],
      nameOf: (c) => c,
      direct: m.direct,
      run: m.run,
      maxAddedP99Us: 5_000,
    });
    expect(highest.get("ours")).toBe(300);
    expect(steps.map((s) => [s.rate, s.attempt, s.ok])).toEqual([
      [100, 1, true],
      [200, 1, false],
      [200, 2, true],
      [300, 1, true],
    ]);
  });

  it("stops where the direct call itself fails, and tells of every server's highest rate", async () => {
    const m = machine({});
    const stops: [string, number | undefined][] = [];
    const { highest } = await climbRates({
      rates: [5_000, 10_000, 20_000],
      contenders: ["proxy", "ours"],
      nameOf: (c) => c,
      direct: m.direct,
      run: m.run,
      maxAddedP99Us: 5_000,
      onStop: (c, h) => stops.push([c, h]),
    });
    expect(m.calls.at(-1)).toBe("direct@10000");
    expect(highest.get("ours")).toBe(5_000);
    expect(stops).toEqual([
      ["proxy", 5_000],
      ["ours", 5_000],
    ]);
  });
});
