import { randomUUID } from "node:crypto";
import { AbortError, ConfigError, type ConfigIssue, OrchestratorError } from "@orchestrator-ts/core";
import { RedisConnection, type RedisConnectionOptions, bounded, validateRedisConnectionOptions } from "./connection";
import { BUDGET_SCRIPT, type BudgetReply } from "./budget-script";
import { TIME_SCRIPT } from "./lease-script";
import { ServerClock } from "./server-clock";
import { SliceLedger } from "./slice-ledger";
import { type Waiter, WaiterQueue } from "./waiter-queue";

/** A charge the budget cannot cover (now, or within the charge's timeout). */
export class BudgetExceededError extends OrchestratorError {
  static override readonly errorName: string = "BudgetExceededError";
  override readonly code = "budget_exceeded";
  override readonly retryable = false;
  /** When the window will have room again, if it will. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { retryAfterMs?: number } = {}) {
    super(message);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export interface RedisBudgetOptions extends RedisConnectionOptions {
  /** Name of the budget: processes using the same key share it. */
  key: string;
  /** Units (e.g. USD) that may be charged in all — within any `windowMs`, when given. */
  limit: number;
  /** A sliding window (e.g. a day); without it the budget holds until `reset()`. */
  windowMs?: number;
  /** Prefix of the Redis keys. Default `"orc:budget:"`. */
  keyPrefix?: string;
  /** How long a leased slice may be used before its unused part goes back. Default 1,000 ms. */
  sliceMs?: number;
  /**
   * While Redis does not answer: `"reject"` (default: money spent cannot be taken back) charges
   * only what this process leased and retries Redis until the charge's timeout; `"share"` lets
   * each process also charge up to its share (limit ÷ live processes) on its own.
   */
  whenUnavailable?: "reject" | "share";
  /** Between two asks while the budget is exhausted. Default 100 ms. */
  pollIntervalMs?: number;
}

type ScriptClient = {
  orcBudget(slices: string, state: string, seen: string, ...args: (string | number)[]): Promise<BudgetReply>;
  orcBudgetTime(key: string): Promise<[string, string]>;
};

interface ChargeWaiter extends Waiter<void> {
  amount: number;
}

const UNAVAILABLE = Symbol("unavailable");

/**
 * An amount (dollars, tokens, calls) shared by every process using the key, never exceeded in
 * total (within any `windowMs`), at a fraction of a Redis command per charge: each process leases
 * slices of what is left, sized to its recent spending, charges them locally and gives the unused
 * part back when the slice ends (`sliceMs`). The same mechanism as `RedisRateLimiter`'s per-minute
 * limit: a slice counts from its grant until `windowMs` after its end, so no window holds more
 * than `limit`; one Lua script per exchange, with a deadline in Redis' own clock.
 *
 * `await budget.charge(costUsd)` resolves once charged, or rejects with `BudgetExceededError`.
 */
export class RedisBudget {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number | undefined;
  readonly sliceMs: number;
  readonly whenUnavailable: "reject" | "share";
  readonly connection: RedisConnection;
  readonly #keys: [slices: string, state: string, seen: string];
  readonly #holder = randomUUID().replace(/-/g, "").slice(0, 16);
  readonly #clock = new ServerClock();
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #queue = new WaiterQueue<void, ChargeWaiter>();
  /** Leased slices; an ended one's unused part goes back in an exchange of its own, at once. */
  readonly #ledger = new SliceLedger(() => setTimeout(() => void this.#sync(0, 0), 0).unref());
  /** This process's charges in the window (performance.now, amount), for its share. */
  #own: [number, number][] = [];
  #seq = 0;
  #live = 1;
  #spentRecently = 0;
  #prevSpent = 0;
  #windowStart = 0;
  #pumping = false;
  #syncing: Promise<unknown> | undefined;
  #closed = false;
  #unavailableReason: string | undefined;
  /** Total counted in Redis at its last answer. */
  #lastTotal = 0;
  /**
   * Floating-point sums of amounts: a charge that fits up to this is taken as fitting. Relative to
   * the limit (thousands of ulps of it), so it holds at any scale; Redis grants what is left when
   * it is within half of it of what a charge needs.
   */
  readonly #epsilon: number;

  constructor(options: RedisBudgetOptions) {
    checkOptions(options);
    validateRedisConnectionOptions(options);
    this.key = options.key;
    this.limit = options.limit;
    this.#epsilon = options.limit * 1e-12;
    this.windowMs = options.windowMs;
    this.sliceMs = options.sliceMs ?? 1_000;
    this.whenUnavailable = options.whenUnavailable ?? "reject";
    this.#pollMs = options.pollIntervalMs ?? 100;
    const base = `${options.keyPrefix ?? "orc:budget:"}{${this.key}}`;
    this.#keys = [`${base}:slices`, `${base}:state`, `${base}:seen`];
    this.#timeoutMs = options.operationTimeoutMs ?? 1_000;
    this.connection = new RedisConnection(options, { operationTimeoutMs: this.#timeoutMs, probeKey: this.#keys[1] });
    this.connection.client.defineCommand("orcBudget", { numberOfKeys: 3, lua: BUDGET_SCRIPT });
    this.connection.client.defineCommand("orcBudgetTime", { numberOfKeys: 1, lua: TIME_SCRIPT });
    this.connection.onRecovered(() => {
      if (this.#queue.length > 0) void this.#pump();
      else void this.#sync(0, 0);
    });
  }

  /** The total counted in Redis (every process's slices, used or not yet given back) at its last answer. */
  get spent(): number {
    return this.#lastTotal;
  }

  /**
   * Charge `amount`. Resolves once charged; rejects with `BudgetExceededError` when the budget
   * cannot cover it within `timeoutMs` (default 0: at once, after one exchange with Redis).
   */
  charge(amount: number, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (!(typeof amount === "number" && Number.isFinite(amount) && amount >= 0)) {
      return Promise.reject(
        new ConfigError([{ path: "amount", message: `must be a finite number ≥ 0, got ${JSON.stringify(amount)}` }], {
          title: "Invalid budget charge",
        }),
      );
    }
    if (amount > this.limit)
      return Promise.reject(
        new BudgetExceededError(`A charge of ${amount} is more than the whole budget "${this.key}" (${this.limit}).`),
      );
    if (this.#closed) return Promise.reject(new AbortError("The budget was closed."));
    const { signal, timeoutMs = 0 } = options;
    if (signal?.aborted) return Promise.reject(new AbortError());
    this.#noteSpending(amount);
    if (this.#queue.length === 0 && this.#take(amount)) return Promise.resolve();
    const waiting = this.#queue.wait(
      { amount },
      { signal, timeoutMs: timeoutMs > 0 ? timeoutMs : undefined, onTimeout: () => this.#exceeded(amount, undefined) },
    );
    void this.#pump();
    return waiting;
  }

  #exceeded(amount: number, waitMs: number | undefined): BudgetExceededError {
    const why =
      this.#unavailableReason !== undefined
        ? `Redis is unavailable (${this.#unavailableReason}) and whenUnavailable is "${this.whenUnavailable}"`
        : `limit ${this.limit}${this.windowMs ? ` per ${this.windowMs} ms` : ""}`;
    return new BudgetExceededError(
      `The budget "${this.key}" cannot cover a charge of ${amount} (${why}).`,
      waitMs !== undefined && waitMs >= 0 ? { retryAfterMs: waitMs } : {},
    );
  }

  /** Forget every charge, for every process sharing the key. */
  async reset(): Promise<void> {
    this.#ledger.clear();
    this.#own = [];
    await bounded(this.connection.client.del(...this.#keys), this.#timeoutMs);
  }

  /** Give back unused slices (best effort) and close a connection this budget made. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.rejectAll(() => new AbortError("The budget was closed."));
    this.#ledger.returnAll();
    // What this process leased and did not use goes back before it leaves (bounded like any command).
    // An exchange still in flight may yet grant a slice (then given back by this one, queued after it).
    if (this.#ledger.returns.size > 0 || this.#ledger.unreportedCount > 0 || this.#syncing)
      await bounded(this.#sync(0, 0), this.#timeoutMs).catch(() => undefined);
    await this.connection.close();
  }

  #noteSpending(amount: number): void {
    const now = performance.now();
    if (now - this.#windowStart >= this.sliceMs) {
      this.#prevSpent = now - this.#windowStart >= 2 * this.sliceMs ? 0 : this.#spentRecently;
      this.#spentRecently = 0;
      this.#windowStart = now;
    }
    this.#spentRecently += amount;
  }

  #remaining(now: number): number {
    let left = 0;
    for (const s of this.#ledger.live(now)) left += s.granted - s.used;
    return left;
  }

  /** Charges `amount` from leased slices if they hold it (it may span several). */
  #take(amount: number): boolean {
    const now = performance.now();
    if (this.#remaining(now) + this.#epsilon < amount) return false;
    let left = amount;
    for (const s of this.#ledger.slices) {
      const part = Math.min(left, s.granted - s.used);
      s.used += part;
      left -= part;
      if (left <= this.#epsilon) break;
    }
    this.#recordOwn(now, amount);
    return true;
  }

  #recordOwn(now: number, amount: number): void {
    if (this.whenUnavailable !== "share") return;
    this.#own.push([now, amount]);
    const horizon = this.windowMs;
    if (horizon !== undefined && this.#own.length > 64 && (this.#own[0] as [number, number])[0] <= now - horizon)
      this.#own = this.#own.filter(([t]) => t > now - horizon);
  }

  /** "share": what this process may charge on its own while Redis does not answer. */
  #takeShare(amount: number): boolean {
    if (this.#take(amount)) return true;
    if (this.whenUnavailable !== "share") return false;
    const now = performance.now();
    let mine = 0;
    for (const [t, a] of this.#own) if (this.windowMs === undefined || t > now - this.windowMs) mine += a;
    if (mine + amount > this.limit / Math.max(1, this.#live) + this.#epsilon) return false;
    const serverLast = this.#clock.known ? this.#clock.serverTimeAt(now) : Date.now();
    this.#ledger.noteUnreported(() => `${this.#holder}:u${++this.#seq}`, amount, serverLast, false);
    this.#recordOwn(now, amount);
    return true;
  }

  #serve(share: boolean): void {
    this.#queue.serve((head) =>
      (share ? this.#takeShare(head.amount) : this.#take(head.amount)) ? { value: undefined } : undefined,
    );
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        this.#serve(false);
        if (this.#queue.length === 0) break;
        const head = this.#queue.head as ChargeWaiter;
        const now = performance.now();
        const have = this.#remaining(now);
        let needed = -have;
        for (const w of this.#queue.items) needed += w.amount;
        const result = await this.#sync(
          Math.min(this.limit, Math.max(needed, this.#prevSpent, this.#spentRecently)),
          // Exactly what the head needs: Redis allows for rounding (a grant short of it by the
          // tolerance would leave a remainder neither side could use).
          Math.max(head.amount - have, this.#epsilon),
        );
        this.#serve(false);
        if (this.#queue.length === 0) break;
        let refuse = false;
        let waitMs: number | undefined;
        if (result === UNAVAILABLE) {
          this.#unavailableReason = this.connection.lastError ?? `connection ${this.connection.client.status}`;
          this.#serve(true);
          refuse = true;
        } else if (result.granted === 0 && this.#queue.head === head) {
          refuse = true;
          waitMs = result.waitMs;
        }
        if (refuse) {
          // A charge without a timeout fails now; one with a timeout waits for room (slices given
          // back, the window moving on, Redis answering again) and asks again.
          for (const w of this.#queue.items.filter((q) => !q.hasTimeout)) {
            w.cleanup();
            w.reject(this.#exceeded(w.amount, waitMs));
          }
        }
        if (this.#queue.length === 0) break;
        await this.#queue.nap(this.#pollMs);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #sync(wanted: number, least: number): Promise<{ granted: number; waitMs: number } | typeof UNAVAILABLE> {
    const previous = this.#syncing;
    const run = (previous ? previous.then(() => this.#exchange(wanted, least)) : this.#exchange(wanted, least)).finally(
      () => {
        if (this.#syncing === run) this.#syncing = undefined;
      },
    );
    this.#syncing = run;
    return run;
  }

  async #exchange(wanted: number, least: number): Promise<{ granted: number; waitMs: number } | typeof UNAVAILABLE> {
    if (!this.connection.available) return UNAVAILABLE;
    const client = this.connection.client as unknown as ScriptClient;
    if (!this.#clock.known) {
      const sentAt = performance.now();
      try {
        const [seconds, micros] = await bounded(client.orcBudgetTime(this.#keys[1]), this.#timeoutMs);
        this.#clock.observe(Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000), sentAt, performance.now());
      } catch (error) {
        this.connection.commandFailed(error);
        return UNAVAILABLE;
      }
    }
    for (let attempt = 1; ; attempt++) {
      const now = performance.now();
      const seq = ++this.#seq;
      const sliceId = `${this.#holder}:${seq}`;
      const out = this.#ledger.outgoing(now);
      const asks = wanted > 0;
      const deadline = asks ? this.#clock.serverTimeAt(now + this.#timeoutMs / 2) : -1;
      const args = [
        deadline,
        this.limit,
        this.windowMs ?? -1,
        this.#holder,
        seq,
        wanted,
        least,
        sliceId,
        this.sliceMs,
        out.returns.length,
        ...out.returns.flat(),
        out.restate.length / 3,
        ...out.restate,
      ];
      let reply: BudgetReply;
      try {
        reply = await bounded(client.orcBudget(...this.#keys, ...args), this.#timeoutMs);
      } catch (error) {
        // Should Redis still run it in time, empty the slice it granted (numbered after it, so
        // that it also stops it should it run later still).
        if (asks && this.connection.client.status !== "end") {
          // And again with every later exchange until one succeeds: a cancel lost with the
          // connection would otherwise leave the slice counted for good (emptying it is idempotent).
          this.#ledger.returns.set(sliceId, 0);
          const cancelSeq = ++this.#seq;
          client
            .orcBudget(
              ...this.#keys,
              -1,
              this.limit,
              this.windowMs ?? -1,
              this.#holder,
              cancelSeq,
              0,
              0,
              `${this.#holder}:${cancelSeq}`,
              this.sliceMs,
              1,
              sliceId,
              0,
              0,
            )
            .catch(() => undefined);
        }
        this.connection.commandFailed(error);
        return UNAVAILABLE;
      }
      this.#clock.observe(Number(reply[3]), now, performance.now());
      const status = Number(reply[0]);
      if (status === 3 || status === 4) {
        if (status === 4) this.#seq = Math.max(this.#seq, Number(reply[5]));
        if (attempt < 2) continue;
        return UNAVAILABLE;
      }
      this.#unavailableReason = undefined;
      this.#ledger.acknowledge(out);
      this.#live = Math.max(1, Number(reply[4]));
      this.#lastTotal = Number(reply[6]);
      const granted = Number(reply[1]);
      if (granted > 0 && this.#closed) {
        // Granted while close() was giving back what it held: goes back with it.
        this.#ledger.returns.set(sliceId, 0);
      } else if (granted > 0) {
        this.#ledger.grant(sliceId, granted, now, Number(reply[3]), this.sliceMs);
      }
      return { granted, waitMs: Number(reply[2]) };
    }
  }
}

function checkOptions(options: RedisBudgetOptions): void {
  const issues: ConfigIssue[] = [];
  if (!options || typeof options.key !== "string" || options.key === "")
    issues.push({ path: "key", message: "must be a non-empty string (the budget's name)" });
  if (!(typeof options?.limit === "number" && Number.isFinite(options.limit) && options.limit > 0))
    issues.push({ path: "limit", message: `must be a positive number, got ${JSON.stringify(options?.limit)}` });
  const positive = (name: "windowMs" | "sliceMs" | "pollIntervalMs") => {
    const v = options?.[name];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v > 0))
      issues.push({ path: name, message: `must be a positive number of ms, got ${JSON.stringify(v)}` });
  };
  positive("windowMs");
  positive("sliceMs");
  positive("pollIntervalMs");
  if (options?.whenUnavailable !== undefined && !["reject", "share"].includes(options.whenUnavailable)) {
    issues.push({
      path: "whenUnavailable",
      message: `must be "reject" or "share", got ${JSON.stringify(options.whenUnavailable)}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid RedisBudget options" });
}
