import { describe, expect, it, vi } from "vitest";
import { Deadlines, sdkBackstopTimeoutMs } from "./deadlines";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Deadlines", () => {
  it("fires due deadlines in order, never a removed one, and re-arms for an earlier one added later", async () => {
    const deadlines = new Deadlines();
    const fired: string[] = [];
    deadlines.add(60, () => fired.push("60"));
    const removed = deadlines.add(30, () => fired.push("removed"));
    deadlines.add(10, () => fired.push("10"));
    deadlines.add(40, () => fired.push("40"));
    deadlines.remove(removed);
    deadlines.remove(removed);
    await sleep(25);
    expect(fired).toEqual(["10"]);
    await sleep(60);
    expect(fired).toEqual(["10", "40", "60"]);
  });

  it("fires before a setTimeout of the same length set just after it, also when the loop's clock is stale", async () => {
    // A provider's SDK arms its own timeout for the call's deadline right after the call's scope does:
    // the scope's must fire first, so the error is ours (TimeoutError with timeoutMs), not the SDK's.
    for (const busyMs of [0, 30]) {
      const deadlines = new Deadlines();
      const fired: string[] = [];
      await sleep(1);
      // Work in the same loop turn leaves Node's cached timer clock behind performance.now().
      const until = performance.now() + busyMs;
      while (performance.now() < until);
      deadlines.add(50, () => fired.push("deadline"));
      setTimeout(() => fired.push("other timer"), 50);
      await sleep(120);
      expect(fired, `after ${busyMs} ms of work in the turn`).toEqual(["deadline", "other timer"]);
    }
  });

  it("a deadline beyond the longest timer delay (~24.8 days) fires at its time, not when the first timer does", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const deadlines = new Deadlines();
      const fired: string[] = [];
      const DAY = 86_400_000;
      deadlines.add(30 * DAY, () => fired.push("30 days"));
      vi.advanceTimersByTime(25 * DAY);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(5 * DAY);
      expect(fired).toEqual(["30 days"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps firing the others when one handler throws; an infinite deadline never fires", async () => {
    const deadlines = new Deadlines();
    const fired: string[] = [];
    deadlines.add(Number.POSITIVE_INFINITY, () => fired.push("never"));
    deadlines.add(5, () => {
      throw new Error("boom");
    });
    deadlines.add(5, () => fired.push("second"));
    await sleep(30);
    expect(fired).toEqual(["second"]);
  });

  it("holds the process open only while a deadline is pending", () => {
    const deadlines = new Deadlines();
    const handles = () =>
      (process as unknown as { getActiveResourcesInfo(): string[] })
        .getActiveResourcesInfo()
        .filter((r) => r === "Timeout").length;
    const before = handles();
    const a = deadlines.add(60_000, () => undefined);
    const b = deadlines.add(60_000, () => undefined);
    expect(handles()).toBe(before + 1);
    deadlines.remove(a);
    expect(handles()).toBe(before + 1);
    deadlines.remove(b);
    expect(handles()).toBe(before);
    const c = deadlines.add(60_000, () => undefined);
    expect(handles()).toBe(before + 1);
    deadlines.remove(c);
    expect(handles()).toBe(before);
  });
});

describe("sdkBackstopTimeoutMs", () => {
  it("the deadline in whole ms plus the grace (a second unless said), clamped to what a timer holds", () => {
    expect(sdkBackstopTimeoutMs(1_500.2)).toBe(2_501);
    expect(sdkBackstopTimeoutMs(1_500.2, 5)).toBe(1_506);
    expect(sdkBackstopTimeoutMs(Number.POSITIVE_INFINITY)).toBe(2_147_483_647);
    expect(sdkBackstopTimeoutMs(2_147_483_000, 5)).toBe(2_147_483_005);
    expect(sdkBackstopTimeoutMs(2_147_483_647)).toBe(2_147_483_647);
  });
});
