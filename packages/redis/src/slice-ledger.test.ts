import { describe, expect, it } from "vitest";
import { SliceLedger } from "./slice-ledger";

describe("SliceLedger", () => {
  it("gives an ended slice's unused part back even when its timer fires early, with no further charge", async () => {
    let returned = 0;
    const ledger = new SliceLedger(() => returned++);
    // A Node timer can fire a fraction of a ms before its time (whole-ms clocks; seen here at up to
    // 0.23 ms past the +1 ms the ledger adds, about once in a hundred grants). Made certain here:
    // the grant's timer fires 5 ms early. The holder then stops charging, so nothing else looks at
    // the slice: before, its unused part stayed counted in Redis for good.
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms?: number) =>
      realSetTimeout(fn, Math.max(0, (ms ?? 0) - 5))) as unknown as typeof setTimeout;
    try {
      ledger.grant("a:1", 6, performance.now(), 0, 40);
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    (ledger.slices[0] as { used: number }).used = 5;
    const deadline = performance.now() + 1_000;
    while (returned === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(returned).toBe(1);
    expect([...ledger.returns]).toEqual([["a:1", 5]]);
    expect(ledger.slices).toEqual([]);
  });

  it("keeps a slice while it is live and gives its rest back at its end unasked; clear() forgets it", async () => {
    const returns: number[] = [];
    const ledger = new SliceLedger(() => returns.push(ledger.returns.size));
    ledger.grant("a:1", 6, performance.now(), 0, 30);
    expect(ledger.live(performance.now())).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(returns).toEqual([1]);
    expect([...ledger.returns]).toEqual([["a:1", 0]]);
    ledger.grant("a:2", 6, performance.now(), 0, 30);
    ledger.clear();
    await new Promise((r) => setTimeout(r, 80));
    expect(returns).toEqual([1]);
    expect(ledger.returns.size).toBe(0);
  });
});
