import { describe, expect, it } from "vitest";
import { OwnTakes } from "./local-demand";

describe("OwnTakes (a process's own takes within a horizon)", () => {
  it("totals what was taken within the horizon; what left it no longer counts; no horizon keeps everything", () => {
    const minute = new OwnTakes(60_000);
    minute.record(0, 1);
    minute.record(10_000, 2.5);
    minute.record(30_000, 1);
    expect(minute.total(30_000)).toBe(4.5);
    expect(minute.total(60_000)).toBe(3.5); // the take at 0 left at 60 s
    expect(minute.total(70_000)).toBe(1);
    expect(minute.total(90_000)).toBe(0);
    minute.record(90_000, 2);
    expect(minute.total(90_001)).toBe(2);
    minute.clear();
    expect(minute.total(90_001)).toBe(0);
    const ever = new OwnTakes(undefined);
    for (let i = 0; i < 100; i++) ever.record(i * 1e6, 1);
    expect(ever.total(1e12)).toBe(100);
  });

  it("stays cheap at a full minute of 100k takes a minute: each take no longer copies the window", () => {
    const takes = new OwnTakes(60_000);
    const perMs = 100_000 / 60_000;
    const started = performance.now();
    // Three minutes of takes at 100k a minute, a total read every take (as a burst's selection does).
    let t = 0;
    let last = 0;
    for (let i = 0; i < 300_000; i++) {
      t = i / perMs;
      takes.record(t, 1);
      last = takes.total(t);
    }
    const elapsed = performance.now() - started;
    expect(last).toBeGreaterThan(99_000);
    expect(last).toBeLessThanOrEqual(100_001);
    // Copying the window per take (as before) took minutes here; the queue takes tens of ms.
    expect(elapsed).toBeLessThan(2_000);
  });
});
