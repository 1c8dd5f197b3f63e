import { describe, expect, it } from "vitest";
import { type RateRun, climbRates } from "./climb";

/**
 * A scripted machine: each server's p99 at each rate, per try (the last one repeats); the direct
 * call's likewise under the name "direct" (default 2 ms, and errors from 10,000/s).
 */
function machine(script: Record<string, Record<number, number[]>>, directP99Us = 2_000) {
  const calls: string[] = [];
  const tries = new Map<string, number>();
  const next = (name: string, rate: number, fallback: number) => {
    const key = `${name}@${rate}`;
    const n = tries.get(key) ?? 0;
    tries.set(key, n + 1);
    const p99s = script[name]?.[rate] ?? [fallback];
    return p99s[Math.min(n, p99s.length - 1)] as number;
  };
  return {
    calls,
    direct: async (rate: number): Promise<RateRun> => {
      calls.push(`direct@${rate}`);
      return { p99Us: next("direct", rate, directP99Us), errors: rate >= 10_000 ? 1 : 0 };
    },
    run: async (name: string, rate: number): Promise<RateRun> => {
      calls.push(`${name}@${rate}`);
      return { p99Us: next(name, rate, directP99Us + 1_000), errors: 0 };
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

describe("the machine's own ceiling", () => {
  it("ends the climb where the direct call itself cannot hold the rate: no server is judged against a failing baseline", async () => {
    // At 750/s the direct call's p99 is 23 ms, then 276 ms (its unloaded p99 is 2 ms): past what the machine sustains alone.
    const m = machine({ direct: { 750: [23_000, 276_000] }, ours: { 600: [9_000, 3_000] } });
    const { highest, ceiling, steps } = await climbRates({
      rates: [500, 600, 750, 900],
      contenders: ["proxy", "ours"],
      nameOf: (c) => c,
      direct: m.direct,
      run: m.run,
      maxAddedP99Us: 5_000,
    });
    expect(ceiling).toBe(750);
    expect([highest.get("proxy"), highest.get("ours")]).toEqual([600, 600]);
    expect(m.calls.slice(-2)).toEqual(["direct@750", "direct@750"]);
    expect(steps.every((s) => s.rate <= 600)).toBe(true);
  });

  it("a direct call that fails a rate once and holds it on its second try lets the climb go on", async () => {
    const m = machine({ direct: { 600: [40_000, 2_500] } });
    const { highest, ceiling } = await climbRates({
      rates: [500, 600, 750],
      contenders: ["ours"],
      nameOf: (c) => c,
      direct: m.direct,
      run: m.run,
      maxAddedP99Us: 5_000,
    });
    expect(ceiling).toBeUndefined();
    expect(highest.get("ours")).toBe(750);
  });

  it("when the fresh direct call before a server's second try fails, that step decides nothing and the climb ends", async () => {
    const m = machine({ direct: { 600: [2_000, 30_000, 31_000] }, ours: { 600: [20_000] } });
    const { highest, ceiling, steps } = await climbRates({
      rates: [500, 600, 750],
      contenders: ["ours"],
      nameOf: (c) => c,
      direct: m.direct,
      run: m.run,
      maxAddedP99Us: 5_000,
    });
    expect(ceiling).toBe(600);
    expect(highest.get("ours")).toBe(500);
    expect(steps.filter((s) => s.rate === 600).map((s) => [s.attempt, s.ok, s.undecided])).toEqual([[1, false, true]]);
  });

  it("a ceiling found at one server's second try takes the rate back from a server that held it before", async () => {
    // proxy holds 600 first; ours fails it once; the fresh direct call then fails twice: 600 decides nothing.
    const m = machine({ direct: { 600: [2_000, 30_000, 31_000] }, ours: { 600: [20_000] } });
    const { highest, ceiling, steps } = await climbRates({
      rates: [500, 600, 750],
      contenders: ["proxy", "ours"],
      nameOf: (c) => c,
      direct: m.direct,
      run: m.run,
      maxAddedP99Us: 5_000,
    });
    expect(ceiling).toBe(600);
    expect([highest.get("proxy"), highest.get("ours")]).toEqual([500, 500]);
    expect(steps.filter((s) => s.rate === 600).every((s) => s.undecided)).toBe(true);
  });
});
