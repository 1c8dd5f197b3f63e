import { describe, expect, it } from "vitest";
import { medianInterval, pairedRatio } from "./paired";

describe("a goal's ratio read round by round", () => {
  it("gives the median and the order statistics that cover the true median with ≥ 90%", () => {
    // n = 10: x(2)..x(9) covers with 1 − 2·11/1024 ≈ 97.9%; x(3)..x(8) only 89.1%.
    const r = medianInterval([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
    expect(r.median).toBe(5.5);
    expect([r.low, r.high]).toEqual([2, 9]);
    expect(r.coverage).toBeCloseTo(1 - 22 / 1024, 10);
    // An 80% interval may come in a step: x(3)..x(8).
    const r80 = medianInterval([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 0.8);
    expect([r80.low, r80.high]).toEqual([3, 8]);
    expect(r80.coverage).toBeCloseTo(1 - 112 / 1024, 10);
    // Odd count: the middle value.
    expect(medianInterval([3, 1, 2]).median).toBe(2);
  });

  it("gives no interval when even min..max cannot cover with that probability", () => {
    // n = 4: min..max covers 1 − 2/16 = 87.5% < 90%.
    const r = medianInterval([1, 2, 3, 4]);
    expect(r.median).toBe(2.5);
    expect(r.low).toBeUndefined();
    expect(r.high).toBeUndefined();
    // n = 5: 1 − 2/32 = 93.75%.
    expect(medianInterval([1, 2, 3, 4, 5])).toMatchObject({ low: 1, high: 5, coverage: 0.9375 });
  });

  it("pairs round i with round i, skips rounds without a figure, and decides only when the interval is on one side", () => {
    const floor = [100, 100, 100, 100, 100, 100, 100, 100, 100, 100].map((cpu) => ({ cpu }));
    const over = [150, 160, 140, 170, 155, 145, 165, 150, 135, 158].map((cpu) => ({ cpu }));
    const r = pairedRatio(over, floor, (x) => x.cpu, 1.3);
    expect(r).toMatchObject({ rounds: 10, verdict: "not met", low: 1.4, high: 1.65 });
    expect(r?.median).toBeCloseTo(1.525, 10);

    const under = over.map((x) => ({ cpu: x.cpu - 40 }));
    expect(pairedRatio(under, floor, (x) => x.cpu, 1.3)?.verdict).toBe("met");

    // One round far over and one far under do not decide; the pooled ratio would call it either way.
    const straddle = [80, 90, 100, 110, 120, 130, 140, 150, 160, 170].map((cpu) => ({ cpu }));
    expect(pairedRatio(straddle, floor, (x) => x.cpu, 1.3)?.verdict).toBe("undecided");

    // A round the floor did not measure (or measured as zero) is not a pair.
    const gaps = floor.map((x, i) => (i < 3 ? { cpu: i === 0 ? 0 : undefined } : x));
    expect(pairedRatio(over, gaps as { cpu?: number }[], (x) => x.cpu, 1.3)?.rounds).toBe(7);
    // Too few pairs for a 90% interval: never decided.
    expect(pairedRatio(over.slice(0, 3), floor, (x) => x.cpu, 1.3)?.verdict).toBe("undecided");
    expect(pairedRatio([], floor, (x) => x.cpu, 1.3)).toBeUndefined();
  });
});
