import { AbortError, ConfigError, type ConfigIssue, OrchestratorError } from "@orchestrator-ts/core";
import { RedisConnection, type RedisConnectionOptions, bounded, validateRedisConnectionOptions } from "./connection";
import { BUDGET_SCRIPT, type BudgetReply } from "./budget-script";
import { LeaseSession, UNAVAILABLE } from "./lease-session";
import { DemandMeter, OwnTakes } from "./local-demand";
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
};

interface ChargeWaiter extends Waiter<void> {
  amount: number;
}

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
  /** This budget's exchanges with Redis and its leased slices (an ended one's unused part goes back at once). */
  readonly #session: LeaseSession;
  readonly #pollMs: number;
  readonly #queue = new WaiterQueue<void, ChargeWaiter>();
  /** This process's charges in the window (performance.now, amount), for its share. */
  readonly #own: OwnTakes;
  #live = 1;
  /** Charges per `sliceMs`, to size the next slice. */
  readonly #spending: DemandMeter;
  #pumping = false;
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
    this.#spending = new DemandMeter(this.sliceMs);
    this.#own = new OwnTakes(this.windowMs);
    this.whenUnavailable = options.whenUnavailable ?? "reject";
    this.#pollMs = options.pollIntervalMs ?? 100;
    const base = `${options.keyPrefix ?? "orc:budget:"}{${this.key}}`;
    this.#keys = [`${base}:slices`, `${base}:state`, `${base}:seen`];
    const timeoutMs = options.operationTimeoutMs ?? 1_000;
    this.connection = new RedisConnection(options, { operationTimeoutMs: timeoutMs, probeKey: this.#keys[1] });
    this.connection.client.defineCommand("orcBudget", { numberOfKeys: 3, lua: BUDGET_SCRIPT });
    this.#session = new LeaseSession(this.connection, timeoutMs, this.#keys[1], () =>
      setTimeout(() => void this.#sync(0, 0), 0).unref(),
    );
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
    this.#spending.note(amount);
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
    this.#session.ledger.clear();
    this.#own.clear();
    await bounded(this.connection.client.del(...this.#keys), this.#session.timeoutMs);
  }

  /** Give back unused slices (best effort) and close a connection this budget made. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.rejectAll(() => new AbortError("The budget was closed."));
    this.#session.ledger.returnAll();
    // What this process leased and did not use goes back before it leaves (bounded like any command).
    // An exchange still in flight may yet grant a slice (then given back by this one, queued after it).
    if (this.#session.ledger.returns.size > 0 || this.#session.ledger.unreportedCount > 0 || this.#session.busy)
      await bounded(this.#sync(0, 0), this.#session.timeoutMs).catch(() => undefined);
    await this.connection.close();
  }

  #remaining(now: number): number {
    let left = 0;
    for (const s of this.#session.ledger.live(now)) left += s.granted - s.used;
    return left;
  }

  /** Charges `amount` from leased slices if they hold it (it may span several). */
  #take(amount: number): boolean {
    const now = performance.now();
    if (this.#remaining(now) + this.#epsilon < amount) return false;
    let left = amount;
    for (const s of this.#session.ledger.slices) {
      const part = Math.min(left, s.granted - s.used);
      s.used += part;
      left -= part;
      if (left <= this.#epsilon) break;
    }
    this.#recordOwn(now, amount);
    return true;
  }

  #recordOwn(now: number, amount: number): void {
    if (this.whenUnavailable === "share") this.#own.record(now, amount);
  }

  /** "share": what this process may charge on its own while Redis does not answer. */
  #takeShare(amount: number): boolean {
    if (this.#take(amount)) return true;
    if (this.whenUnavailable !== "share") return false;
    const now = performance.now();
    if (this.#own.total(now) + amount > this.limit / Math.max(1, this.#live) + this.#epsilon) return false;
    const { clock, ledger } = this.#session;
    const serverLast = clock.known ? clock.serverTimeAt(now) : Date.now();
    ledger.noteUnreported(() => this.#session.nextId("u"), amount, serverLast, false);
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
          Math.min(this.limit, Math.max(needed, this.#spending.recent)),
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

  /** One exchange at a time: each states this process's whole position. */
  #sync(wanted: number, least: number): Promise<{ granted: number; waitMs: number } | typeof UNAVAILABLE> {
    return this.#session.serial(() => this.#exchange(wanted, least));
  }

  async #exchange(wanted: number, least: number): Promise<{ granted: number; waitMs: number } | typeof UNAVAILABLE> {
    const done = await this.#session.exchange<BudgetReply>(
      (_now, seq, sliceId, out) => ({
        asks: wanted > 0,
        send: (deadline) =>
          this.#script(
            deadline,
            seq,
            wanted,
            least,
            sliceId,
            out.returns.length,
            ...out.returns.flat(),
            out.restate.length / 3,
            ...out.restate,
          ),
        cancel: () => {
          // Should Redis still run it in time, empty the slice it granted (numbered after it, so
          // that it also stops it should it run later still); and again with every later exchange
          // until one succeeds: a cancel lost with the connection would otherwise leave the slice
          // counted for good (emptying it is idempotent).
          this.#session.ledger.returns.set(sliceId, 0);
          const seq = ++this.#session.seq;
          const id = `${this.#session.holder}:${seq}`;
          this.#script(-1, seq, 0, 0, id, 1, sliceId, 0, 0).catch(() => undefined);
        },
      }),
      (reply) => [Number(reply[0]), Number(reply[3]), Number(reply[5])],
    );
    if (done === UNAVAILABLE) return UNAVAILABLE;
    const { reply, now, sliceId } = done;
    this.#unavailableReason = undefined;
    this.#live = Math.max(1, Number(reply[4]));
    this.#lastTotal = Number(reply[6]);
    const granted = Number(reply[1]);
    // Granted while close() was giving back what it held: goes back with it.
    if (granted > 0 && this.#closed) this.#session.ledger.returns.set(sliceId, 0);
    else if (granted > 0) this.#session.ledger.grant(sliceId, granted, now, Number(reply[3]), this.sliceMs);
    return { granted, waitMs: Number(reply[2]) };
  }

  /** The budget script: ARGV 1 deadline, 2 limit, 3 window, 4 holder, 5 seq, then `rest` (see budget-script.ts). */
  #script(deadline: number, seq: number, ...rest: (string | number)[]): Promise<BudgetReply> {
    const client = this.connection.client as unknown as ScriptClient;
    const head = [deadline, this.limit, this.windowMs ?? -1, this.#session.holder, seq, ...rest.slice(0, 3)];
    return client.orcBudget(...this.#keys, ...head, this.sliceMs, ...rest.slice(3));
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
