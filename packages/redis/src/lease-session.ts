import { randomUUID } from "node:crypto";
import { type RedisConnection, bounded } from "./connection";
import { STATUS_STALE, STATUS_TOO_LATE, TIME_SCRIPT } from "./lease-script";
import { ServerClock } from "./server-clock";
import { type Outgoing, SliceLedger } from "./slice-ledger";

/** An exchange could not be made (connection down or stalled, timed out, or run too late twice). */
export const UNAVAILABLE = Symbol("unavailable");

/** One attempt of an exchange, as the leasing part builds it. */
export interface LeaseRound<R> {
  /** It asks for something: it then carries a deadline, and is taken back if given up on. */
  asks: boolean;
  /** Runs the part's script with this deadline (server ms; -1 none). */
  send(deadline: number): Promise<R>;
  /** Given up on while Redis may still run it in time: take back what it may grant. */
  cancel(): void;
}

/** What every leasing script's reply starts with, read by the part: status, Redis' clock, the last applied sequence number. */
export type ReplyHead = [status: number, serverMs: number, lastSeq: number];

/**
 * A holder's conversation with Redis for one leasing part (`RedisRateLimiter`, `RedisBudget`):
 * its name, Redis' clock, the sequence numbers, the ledger of its slices, and exchanges made one
 * at a time (each states the holder's whole position), each a script stamped with a deadline in
 * Redis' own clock so that a copy run late takes nothing.
 */
export class LeaseSession {
  /** This holder's name in Redis. */
  readonly holder = randomUUID().replace(/-/g, "").slice(0, 16);
  readonly clock = new ServerClock();
  readonly ledger: SliceLedger;
  seq = 0;
  #syncing: Promise<unknown> | undefined;

  /**
   * `timeoutMs`: the longest an exchange may take before it is given up on; `clockKey`: a key of
   * the part (Redis' clock is read on its shard: a cluster's nodes may disagree on the time);
   * `onReturn`: an ended slice has something to give back.
   */
  constructor(
    readonly connection: RedisConnection,
    readonly timeoutMs: number,
    private readonly clockKey: string,
    onReturn: () => void,
  ) {
    this.ledger = new SliceLedger(onReturn);
    connection.client.defineCommand("orcLeaseTime", { numberOfKeys: 1, lua: TIME_SCRIPT });
  }

  /** Whether an exchange is in flight. */
  get busy(): boolean {
    return this.#syncing !== undefined;
  }

  /** Runs `exchange` after the one in flight, if any. */
  serial<T>(exchange: () => Promise<T>): Promise<T> {
    const previous = this.#syncing;
    const run = (previous ? previous.then(exchange) : exchange()).finally(() => {
      if (this.#syncing === run) this.#syncing = undefined;
    });
    this.#syncing = run;
    return run;
  }

  /** A new, never used slice id (or unreported take id). */
  nextId(tag = ""): string {
    return `${this.holder}:${tag}${++this.seq}`;
  }

  /**
   * One exchange: `prepare` builds an attempt from the moment, its sequence number and slice id,
   * and what the ledger sends. Redis ran it too late or out of order: once more at once (the
   * clock estimate is refined by then), then `UNAVAILABLE` like a timeout. On success what the
   * ledger sent is acknowledged.
   */
  async exchange<R>(
    prepare: (now: number, seq: number, sliceId: string, out: Outgoing) => LeaseRound<R>,
    head: (reply: R) => ReplyHead,
  ): Promise<{ reply: R; now: number; sliceId: string } | typeof UNAVAILABLE> {
    if (!this.connection.available) return UNAVAILABLE;
    if (!this.clock.known && !(await this.#readClock())) return UNAVAILABLE;
    for (let attempt = 1; ; attempt++) {
      const now = performance.now();
      const seq = ++this.seq;
      const sliceId = `${this.holder}:${seq}`;
      const out = this.ledger.outgoing(now);
      const round = prepare(now, seq, sliceId, out);
      // Half the timeout: what Redis grants by then still reaches us before we give up on it (with
      // room for the clock estimate's error), and what it runs later grants nothing.
      const deadline = round.asks ? this.clock.serverTimeAt(now + this.timeoutMs / 2) : -1;
      let reply: R;
      try {
        reply = await bounded(round.send(deadline), this.timeoutMs);
      } catch (error) {
        if (round.asks && this.connection.client.status !== "end") round.cancel();
        this.connection.commandFailed(error);
        return UNAVAILABLE;
      }
      const [status, serverMs, lastSeq] = head(reply);
      this.clock.observe(serverMs, now, performance.now());
      if (status === STATUS_TOO_LATE || status === STATUS_STALE) {
        if (status === STATUS_STALE) this.seq = Math.max(this.seq, lastSeq);
        if (attempt < 2) continue;
        return UNAVAILABLE;
      }
      this.ledger.acknowledge(out);
      return { reply, now, sliceId };
    }
  }

  async #readClock(): Promise<boolean> {
    const sentAt = performance.now();
    try {
      const client = this.connection.client as unknown as { orcLeaseTime(key: string): Promise<[string, string]> };
      const [seconds, micros] = await bounded(client.orcLeaseTime(this.clockKey), this.timeoutMs);
      this.clock.observe(Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000), sentAt, performance.now());
      return true;
    } catch (error) {
      this.connection.commandFailed(error);
      return false;
    }
  }
}
