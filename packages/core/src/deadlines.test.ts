import { describe, expect, it } from "vitest";
import { Deadlines } from "./deadlines";

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
