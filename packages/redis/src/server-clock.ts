/**
 * Where Redis' clock (`TIME`, epoch ms) stands relative to this process's monotonic clock
 * (`performance.now()`), erring early: lets a client stamp a command with a deadline in server
 * time that the server itself checks, so a command executed after the client gave up on it
 * (a frozen server, a resend after a reconnect) can refuse to take effect.
 *
 * A reply stamped `serverMs` to a command sent at `sentAt` and answered at `receivedAt` says the
 * server read its clock between the two, so `serverMs − receivedAt` is a lower bound of the
 * offset. The estimate is the highest recent lower bound: a deadline computed from it is never
 * later than meant (only earlier, by at most the best round trip's length).
 */
export class ServerClock {
  /** Lower bound of `serverMs − performance.now()`. */
  #offset: number | undefined;
  #observedAt = 0;

  /** Whether a reply has been observed yet. */
  get known(): boolean {
    return this.#offset !== undefined;
  }

  observe(serverMs: number, sentAt: number, receivedAt: number): void {
    if (!Number.isFinite(serverMs) || receivedAt < sentAt) return;
    const offset = serverMs - receivedAt;
    // A tighter bound wins at once; a looser one only once the current is a few seconds old, so
    // that a server clock stepped back (NTP, a failover to another host) is followed soon.
    if (this.#offset === undefined || offset >= this.#offset || receivedAt - this.#observedAt > 5_000) {
      this.#offset = offset;
      this.#observedAt = receivedAt;
    }
  }

  /** Server time (epoch ms) no later than the moment `localMs` (a `performance.now()` value) arrives. */
  serverTimeAt(localMs: number): number {
    if (this.#offset === undefined) throw new Error("ServerClock: no reply observed yet");
    return Math.floor(localMs + this.#offset);
  }
}
