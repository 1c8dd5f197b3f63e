import { describe, expect, it } from "vitest";
import { ServerClock } from "./server-clock";

describe("ServerClock", () => {
  it("never places a deadline later than meant, and no earlier than the best round trip", () => {
    const offset = 1_700_000_000_000 - 5_000; // the server's clock minus ours
    const clock = new ServerClock();
    expect(clock.known).toBe(false);
    // Replies whose server stamp was read anywhere within their round trip.
    const samples = [
      { sent: 5_000, rtt: 40, at: 0.9 },
      { sent: 5_100, rtt: 3, at: 0.1 },
      { sent: 5_200, rtt: 200, at: 0.5 },
    ];
    for (const { sent, rtt, at } of samples) {
      clock.observe(Math.floor(offset + sent + rtt * at), sent, sent + rtt);
      const local = sent + rtt + 500;
      expect(clock.serverTimeAt(local)).toBeLessThanOrEqual(offset + local);
    }
    expect(clock.known).toBe(true);
    // The 3 ms round trip bounds the error; the slower reply after it does not loosen it.
    expect(offset + 6_000 - clock.serverTimeAt(6_000)).toBeLessThanOrEqual(4);
  });

  it("follows a server clock that stepped back once its tighter bound is a few seconds old", () => {
    const clock = new ServerClock();
    clock.observe(1_000_000, 0, 2);
    // The server's clock went back 10 s: at first the older, higher bound stands...
    clock.observe(1_000_000 - 10_000 + 1_000, 1_000, 1_002);
    expect(clock.serverTimeAt(1_002)).toBe(1_000_000 + 1_000);
    // ...then the new one is taken.
    clock.observe(1_000_000 - 10_000 + 7_000, 7_000, 7_002);
    expect(clock.serverTimeAt(7_002)).toBe(1_000_000 - 10_000 + 7_000);
  });
});
