import { EventEmitter } from "node:events";
import { AbortError, type Lease, RateLimitError, type RateLimiter } from "@orchestrator-ts/core";
import { RedisConnection, bounded, validateRedisConnectionOptions } from "./connection";
import { LeaseSession, UNAVAILABLE } from "./lease-session";
import { DemandMeter, OwnTakes } from "./local-demand";
import { LEASE_SCRIPT, type LeaseReply } from "./rate-limiter-script";
import {
  type RedisRateLimiterEvents,
  type RedisRateLimiterOptions,
  type WhenRedisUnavailable,
  checkOptions,
} from "./rate-limiter-options";
import type { Outgoing, Slice } from "./slice-ledger";
import { type Waiter, WaiterQueue } from "./waiter-queue";

export type { RedisRateLimiterEvents, RedisRateLimiterOptions, WhenRedisUnavailable };

interface LeaseWaiter extends Waiter<Lease> {
  fellBack: boolean;
}

/** KEYS starts, leases, state, seen, wait; then ARGV (see rate-limiter-script.ts). */
type ScriptClient = { orcLimitLease(...keysAndArgs: (string | number)[]): Promise<LeaseReply> };

type SyncResult = { waitMs: number } | typeof UNAVAILABLE;

/** How long a concurrency refusal keeps `isSaturated()` true without news from Redis. */
const SATURATION_MEMORY_MS = 500;

/**
 * `maxRequestsPerMinute` and `maxConcurrentRequests` that hold across every process sharing the
 * key, at a fraction of a Redis command per call: each process leases slices of the limits from
 * Redis and hands them out locally.
 *
 * - Concurrency: a process holds some of the slots (as many as its calls need) and reuses a freed
 *   one for its next call; it gives slots back after `idleReturnMs` without use, at once when
 *   other processes are waiting, and never holds more than its fair share while they wait.
 * - Per minute: a process leases a slice of starts sized to its recent demand, usable for
 *   `sliceMs`; Redis counts every start of a slice from its grant until 60 s after the slice's
 *   end, so no sliding minute ever holds more than the limit. Unused starts go back.
 *
 * Every exchange is one Lua script (atomic), stamped with a deadline in Redis' own clock so a
 * copy run late (a frozen Redis, a resend after a reconnect) takes nothing. A crashed process's
 * slots return after `leaseTtlMs`.
 *
 * `model.setRateLimiter(new RedisRateLimiter({ url, key: model.name, maxRequestsPerMinute: 60 }))`
 */
export class RedisRateLimiter extends EventEmitter<RedisRateLimiterEvents> implements RateLimiter {
  readonly key: string;
  readonly maxRequestsPerMinute: number;
  readonly maxConcurrentRequests: number;
  readonly leaseTtlMs: number;
  readonly sliceMs: number;
  readonly whenUnavailable: WhenRedisUnavailable;
  readonly connection: RedisConnection;
  readonly #keys: [starts: string, leases: string, state: string, seen: string, wait: string];
  readonly #pollMs: number;
  readonly #idleReturnMs: number;
  readonly #limitsConc: boolean;
  readonly #limitsRpm: boolean;
  /** This limiter's exchanges with Redis, and its slices of per-minute starts (ended ones with starts left go back). */
  readonly #session: LeaseSession;
  readonly #queue = new WaiterQueue<Lease, LeaseWaiter>();
  /** Concurrency slots this process may use (leased from Redis; as far as it knows, never more than Redis counts for it). */
  #held = 0;
  /** Slots Redis counts for this process: more than `#held` while calls started without Redis run. */
  #recorded = 0;
  /** Calls running now (on held slots, or on the fallback policy's). */
  #inUse = 0;
  /** Start times (performance.now) of this process's calls in the last minute (for the shares). */
  readonly #ownStarts = new OwnTakes(60_000);
  /** Processes that used this key in the last minute (from Redis' last answer; 1 before). */
  #live = 1;
  #othersWaiting = 0;
  /** Freed slots go back to Redis instead of to this process's waiters (others wait for them). */
  #giveBack = false;
  /** Spare slots to give back in the next exchange (idle for `idleReturnMs`). */
  #returnable = 0;
  /** The fewest spare slots seen since the idle watch began: those were not needed. */
  #lowWater = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #blockedUntil = 0;
  #unavailableReason: string | undefined;
  #pumping = false;
  #pumpScheduled = false;
  #returnTimer: ReturnType<typeof setTimeout> | undefined;
  #renewTimer: ReturnType<typeof setInterval> | undefined;
  /** Acquires per `sliceMs`, to size the next slice of starts. */
  readonly #arrivals: DemandMeter;
  #closed = false;

  constructor(options: RedisRateLimiterOptions) {
    super();
    if (!options || typeof options.key !== "string" || options.key.length === 0)
      throw new TypeError("RedisRateLimiter needs a non-empty `key` (usually the model's name).");
    checkOptions(options);
    validateRedisConnectionOptions(options);
    this.key = options.key;
    this.maxRequestsPerMinute = options.maxRequestsPerMinute ?? Number.POSITIVE_INFINITY;
    this.maxConcurrentRequests = options.maxConcurrentRequests ?? Number.POSITIVE_INFINITY;
    this.#limitsConc = Number.isFinite(this.maxConcurrentRequests);
    this.#limitsRpm = Number.isFinite(this.maxRequestsPerMinute);
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.sliceMs = options.sliceMs ?? 1_000;
    this.#arrivals = new DemandMeter(this.sliceMs);
    this.#pollMs = options.pollIntervalMs ?? 50;
    this.#idleReturnMs = options.idleReturnMs ?? 50;
    this.whenUnavailable = options.whenUnavailable ?? "share";
    const prefix = options.keyPrefix ?? "orc:limit:";
    // One hash tag: every key of this limit lives in the same cluster slot, so one script may use them all.
    const base = `${prefix}{${this.key}}`;
    this.#keys = [`${base}:starts`, `${base}:leases`, `${base}:state`, `${base}:seen`, `${base}:wait`];
    const timeoutMs = options.operationTimeoutMs ?? 1_000;
    this.connection = new RedisConnection(options, { operationTimeoutMs: timeoutMs, probeKey: this.#keys[2] });
    this.connection.client.defineCommand("orcLimitLease", { numberOfKeys: 5, lua: LEASE_SCRIPT });
    this.#session = new LeaseSession(this.connection, timeoutMs, this.#keys[2], () => this.#scheduleReturn(0));
    this.connection.onRecovered(() => {
      // Back: count what was started meanwhile, give back what is idle, serve who waits.
      if (this.#queue.length > 0) this.#schedulePump();
      else void this.#sync(false);
    });
  }

  /** Calls this process holds slots for now. */
  get inFlight(): number {
    return this.#inUse;
  }

  /** From this process's view: waiters queued, a recent refusal not yet expired, or all slots in use here. */
  isSaturated(): boolean {
    if (this.#queue.length > 0) return true;
    if (this.#limitsConc && this.#inUse >= this.maxConcurrentRequests) return true;
    return Date.now() < this.#blockedUntil;
  }

  /** Whether a call would wait if `starting` more calls chosen for this model came first (as far as this process knows). */
  isSaturatedWith(starting: number): boolean {
    if (this.isSaturated()) return true;
    if (starting <= 0) return false;
    if (this.#limitsConc && this.#inUse + starting >= this.maxConcurrentRequests) return true;
    return this.#limitsRpm && this.#ownStarts.total(performance.now()) + starting >= this.maxRequestsPerMinute;
  }

  acquire(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Lease> {
    const { signal, timeoutMs = 30_000 } = options;
    if (signal?.aborted) return Promise.reject(new AbortError());
    if (this.#closed) return Promise.reject(new AbortError("The rate limiter was closed."));
    this.#arrivals.note(1);
    // Most calls under load: a slot and a start this process already leased, no Redis command.
    if (this.#queue.length === 0) {
      const lease = this.#take();
      if (lease) return Promise.resolve(lease);
    }
    const waiting = this.#queue.wait(
      { fellBack: false },
      {
        signal,
        timeoutMs,
        onTimeout: () => {
          const retryAfterMs = Math.max(0, this.#blockedUntil - Date.now());
          const why =
            this.#unavailableReason !== undefined
              ? `Redis is unavailable (${this.#unavailableReason}) and whenUnavailable is "${this.whenUnavailable}"`
              : `shared limits: ${this.#describe()}`;
          // Slots asked for it go back if nobody uses them.
          if (this.#queue.length === 0) this.#watchIdle();
          return new RateLimitError(
            `No free slot for "${this.key}" within ${timeoutMs} ms (${why}).`,
            retryAfterMs > 0 ? { retryAfterMs } : this.#unavailableReason !== undefined ? { retryAfterMs: 1_000 } : {},
          );
        },
      },
    );
    this.#schedulePump();
    return waiting;
  }

  /** Stop using Redis: waiters are rejected, idle slots and unused starts go back (best effort). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.rejectAll(() => new AbortError("The rate limiter was closed."));
    this.#clearTimers();
    this.#session.ledger.returnAll();
    this.#returnable = Math.max(0, this.#held - this.#inUse);
    if (Math.max(this.#held, this.#recorded) > this.#inUse || this.#session.ledger.returns.size > 0)
      await bounded(this.#sync(false), 200).catch(() => undefined);
    this.#clearTimers();
    await this.connection.close();
  }

  #clearTimers(): void {
    if (this.#returnTimer) clearTimeout(this.#returnTimer);
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#returnTimer = undefined;
    this.#renewTimer = undefined;
  }

  #describe(): string {
    const parts: string[] = [];
    if (this.#limitsConc) parts.push(`${this.maxConcurrentRequests} concurrent`);
    if (this.#limitsRpm) parts.push(`${this.maxRequestsPerMinute} per minute`);
    return parts.join(", ") || "none";
  }

  /** The first slice with a start left; slices that ended are dropped (their unused starts go back). */
  #liveSlice(now: number): Slice | undefined {
    // A used-up slice stays listed until it ends: it is re-stated to Redis while it may be in use.
    for (const slice of this.#session.ledger.live(now)) if (slice.used < slice.granted) return slice;
    return undefined;
  }

  /** A slot and a start leased from Redis, if this process has both. */
  #take(): Lease | undefined {
    if (this.#limitsConc && (this.#inUse >= this.#held || this.#giveBack)) return undefined;
    const now = performance.now();
    if (this.#limitsRpm) {
      const slice = this.#liveSlice(now);
      if (!slice) return undefined;
      slice.used++;
      this.#ownStarts.record(now, 1);
    }
    const lease = this.#lease();
    if (this.#held - this.#inUse < this.#lowWater) this.#lowWater = this.#held - this.#inUse;
    return lease;
  }

  /** While Redis does not answer: leased slots and starts first, then the policy's allowance. */
  #takeFallback(): Lease | undefined {
    const leased = this.#take();
    if (leased) return leased;
    if (this.whenUnavailable === "reject") return undefined;
    const divisor = this.whenUnavailable === "local" ? 1 : Math.max(1, this.#live);
    const now = performance.now();
    if (this.#limitsConc && this.#inUse >= this.#held && this.#inUse >= Math.ceil(this.maxConcurrentRequests / divisor))
      return undefined;
    let slice: Slice | undefined;
    if (this.#limitsRpm) {
      slice = this.#liveSlice(now);
      if (!slice) {
        const share = Math.ceil(this.maxRequestsPerMinute / divisor);
        if (this.#ownStarts.total(now) >= share) return undefined;
      }
    }
    if (slice) slice.used++;
    else if (this.#limitsRpm) {
      const { clock, ledger } = this.#session;
      const serverLast = clock.known ? clock.serverTimeAt(now) : Date.now();
      ledger.noteUnreported(() => this.#session.nextId("u"), 1, serverLast, true);
    }
    if (this.#limitsRpm) this.#ownStarts.record(now, 1);
    return this.#lease();
  }

  #lease(): Lease {
    this.#inUse++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#inUse--;
        this.#afterRelease();
      },
    };
  }

  #afterRelease(): void {
    if (this.#closed) return;
    const spare = this.#limitsConc && Math.max(this.#held, this.#recorded) > this.#inUse;
    if (spare && this.#othersWaiting > 0) {
      // Other processes wait for slots: this one goes back now rather than to a local waiter.
      this.#giveBack = true;
      this.#scheduleReturn(0);
      return;
    }
    if (this.#queue.length > 0) {
      this.#queue.wake();
      this.#schedulePump();
      return;
    }
    if (!spare) return;
    // Counted beyond what it may use (calls started without Redis): stated at once. Else kept
    // for this process's next calls, and given back once unused for idleReturnMs.
    if (this.#recorded > this.#held) this.#scheduleReturn(0);
    else this.#watchIdle();
  }

  /** Gives back, every `idleReturnMs`, the spare slots none of that time's calls needed. */
  #watchIdle(): void {
    if (this.#idleTimer || this.#closed || !this.#limitsConc) return;
    this.#lowWater = this.#held - this.#inUse;
    if (this.#lowWater <= 0) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      const spare = this.#held - this.#inUse;
      const unused = Math.min(this.#lowWater, spare);
      if (unused > 0 && this.#queue.length === 0) {
        this.#returnable = unused;
        void this.#sync(false);
      }
      if (spare > Math.max(0, unused)) this.#watchIdle();
    }, this.#idleReturnMs);
    this.#idleTimer.unref();
  }

  /** An exchange with nothing to ask for, `delayMs` from now: gives back idle slots and unused starts. */
  #scheduleReturn(delayMs: number): void {
    if (this.#returnTimer || this.#closed) return;
    this.#returnTimer = setTimeout(() => {
      this.#returnTimer = undefined;
      if (this.#queue.length > 0 && !this.#giveBack) return;
      void this.#sync(false);
    }, delayMs);
    this.#returnTimer.unref();
  }

  #schedulePump(): void {
    if (this.#pumping || this.#pumpScheduled) {
      this.#queue.wake();
      return;
    }
    this.#pumpScheduled = true;
    // After the current synchronous code: acquires made together are asked for in one exchange.
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      void this.#pump();
    });
  }

  #serve(fallback: boolean): void {
    this.#queue.serve(() => {
      const lease = fallback ? this.#takeFallback() : this.#take();
      return lease && { value: lease };
    });
  }

  // Serves the queue in order: from what is leased, else by asking Redis, else by the policy.
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        this.#serve(false);
        if (this.#queue.length === 0) break;
        const result = await this.#sync(true);
        this.#serve(false);
        if (this.#queue.length === 0) break;
        if (result === UNAVAILABLE) {
          this.#fallback();
          if (this.#queue.length === 0) break;
          // Fail closed, or the share is in use: ask again soon (a failover is seconds, not an outage).
          await this.#queue.nap(this.#pollMs, 5);
          continue;
        }
        await this.#queue.nap(result.waitMs, 5);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #fallback(): void {
    const reason = this.connection.lastError ?? `connection ${this.connection.client.status}`;
    this.#unavailableReason = reason;
    for (const waiter of this.#queue.items) {
      if (waiter.fellBack) continue;
      waiter.fellBack = true;
      if (this.listenerCount("fallback") > 0) this.emit("fallback", { key: this.key, reason });
    }
    if (this.whenUnavailable !== "reject") this.#serve(true);
  }

  /** One exchange at a time: each states this process's whole position. */
  #sync(forWaiters: boolean): Promise<SyncResult> {
    return this.#session.serial(() => this.#exchange(forWaiters));
  }

  async #exchange(forWaiters: boolean): Promise<SyncResult> {
    let concWanted = 0;
    let startsWanted = 0;
    const done = await this.#session.exchange<LeaseReply>(
      (now, seq, sliceId, out) => {
        const live = this.#limitsRpm ? this.#liveSlice(now) : undefined;
        const waiting = this.#queue.length;
        const need = this.#inUse + waiting;
        const C = this.maxConcurrentRequests;
        // Growing: what is needed and a quarter more, so that demand that comes and goes costs no
        // exchange each time; giving back: the slots unused for idleReturnMs (or every spare one
        // when others wait). Never fewer than those in use.
        concWanted = !this.#limitsConc
          ? 0
          : this.#giveBack
            ? Math.min(C, need)
            : waiting > 0
              ? Math.min(C, Math.max(this.#held, need + Math.floor(need / 4)))
              : Math.max(this.#inUse, this.#held - this.#returnable);
        this.#returnable = 0;
        startsWanted =
          this.#limitsRpm && waiting > 0 && !live
            ? Math.min(this.maxRequestsPerMinute, Math.max(waiting, this.#arrivals.recent))
            : 0;
        const asks = concWanted > this.#held || startsWanted > 0;
        // Slots given back are given back now: not used again whatever the reply.
        if (this.#limitsConc && concWanted < this.#held) this.#held = concWanted;
        this.#giveBack = false;
        const position = [concWanted, this.#inUse, startsWanted, sliceId, this.sliceMs, this.leaseTtlMs];
        const tail = [forWaiters && waiting > 0 ? 1 : 0, Math.max(1_000, 4 * this.#pollMs)];
        const restate = [out.restate.length / 3, ...out.restate];
        return {
          asks,
          send: (deadline) =>
            this.#script(deadline, seq, ...position, ...tail, out.returns.length, ...out.returns.flat(), ...restate),
          // Should Redis still run it in time (a late reply), take back what it granted: queued behind
          // it on this connection (or resent after it on the next one), and numbered after it, so
          // that it also stops it should it run later still.
          cancel: () => this.#cancel(sliceId, out),
        };
      },
      (reply) => [Number(reply[0]), Number(reply[4]), Number(reply[7])],
    );
    if (done === UNAVAILABLE) return UNAVAILABLE;
    const { reply, now, sliceId } = done;
    const [, granted, entitled, waitMs, serverMs, liveCount, othersWaiting, , recorded] = reply.map(
      Number,
    ) as LeaseReply;
    this.#unavailableReason = undefined;
    this.#live = Math.max(1, liveCount);
    this.#othersWaiting = othersWaiting;
    if (this.#limitsConc) {
      this.#held = entitled;
      this.#recorded = recorded;
      this.#lowWater = Math.min(this.#lowWater, Math.max(0, entitled - this.#inUse));
      // Calls started meanwhile on slots the reply no longer covers: state them at once.
      if (this.#inUse > recorded) this.#scheduleReturn(0);
      this.#keepAlive();
    }
    // Unused starts go back when the slice ends.
    if (granted > 0) this.#session.ledger.grant(sliceId, granted, now, serverMs, this.sliceMs);
    const refusedConc = this.#limitsConc && concWanted > entitled;
    const refusedRpm = startsWanted > 0 && granted === 0;
    if (refusedConc || refusedRpm) {
      // Per-minute refusals know when the window frees up; concurrency ones do not (a release
      // may come any time, from any process). Selection keeps treating the model as saturated
      // for a short while after a refusal, so that it does not read "free" merely because a
      // poll interval ran out.
      this.#blockedUntil = Date.now() + (refusedRpm ? waitMs : Math.max(this.#pollMs, SATURATION_MEMORY_MS));
      // Starts come back when slices end elsewhere (within sliceMs) or leave the window.
      return { waitMs: refusedRpm && !refusedConc ? Math.min(waitMs, this.sliceMs) : this.#pollMs };
    }
    this.#blockedUntil = 0;
    return { waitMs: 0 };
  }

  /** The lease script: ARGV 1 deadline, 2–3 limits, 4 holder, 5 seq, then `rest` (see rate-limiter-script.ts). */
  #script(deadline: number, seq: number, ...rest: (string | number)[]): Promise<LeaseReply> {
    const limits = [
      this.#limitsRpm ? this.maxRequestsPerMinute : -1,
      this.#limitsConc ? this.maxConcurrentRequests : -1,
    ];
    const client = this.connection.client as unknown as ScriptClient;
    return client.orcLimitLease(...this.#keys, deadline, ...limits, this.#session.holder, seq, ...rest);
  }

  /** Undo a given-up exchange: this process's position as it stands, with the new slice emptied. */
  #cancel(sliceId: string, out: Outgoing): void {
    const seq = ++this.#session.seq;
    const position = [this.#limitsConc ? this.#held : 0, this.#inUse, 0, `${this.#session.holder}:${seq}`];
    const returns = [out.returns.length + 1, ...out.returns.flat(), sliceId, 0, 0];
    // 2: restores this process's position, no fair-share trimming below what it counts on.
    this.#script(-1, seq, ...position, this.sliceMs, this.leaseTtlMs, 2, 1_000, ...returns).catch(() => undefined);
  }

  /** While slots are held: confirm them (a heartbeat, so a crashed process's slots return) and let waiting processes in. */
  #keepAlive(): void {
    if (this.#recorded > 0 && !this.#renewTimer && !this.#closed) {
      this.#renewTimer = setInterval(
        () => {
          if (this.#recorded === 0) {
            if (this.#renewTimer) clearInterval(this.#renewTimer);
            this.#renewTimer = undefined;
            return;
          }
          if (this.connection.available && !this.#session.busy) void this.#sync(this.#queue.length > 0);
        },
        Math.max(10, Math.min(this.sliceMs, Math.floor(this.leaseTtlMs / 3))),
      );
      this.#renewTimer.unref();
    } else if (this.#recorded === 0 && this.#renewTimer) {
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
    }
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `RedisRateLimiter ${JSON.stringify({ key: this.key, limits: this.#describe(), inFlight: this.inFlight, held: this.#held })}`;
  }
}
