import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { AbortError, type Lease, LocalRateLimiter, RateLimitError, type RateLimiter } from "@orchestrator-ts/core";
import { RedisConnection, type RedisConnectionOptions } from "./connection";
import { ServerClock } from "./server-clock";

export interface RedisRateLimiterOptions extends RedisConnectionOptions {
  /** Name of the limited resource, usually `model.name`: processes using the same key share the limits. */
  key: string;
  /** Calls started in any sliding 60 s window, across every process. */
  maxRequestsPerMinute?: number;
  /** Calls in flight at once, across every process. */
  maxConcurrentRequests?: number;
  /** A held slot is kept alive by a heartbeat; a crashed holder's slot is reclaimed this long after its last beat. Default 30 s. */
  leaseTtlMs?: number;
  /** Prefix of the Redis keys. Default `"orc:limit:"`. */
  keyPrefix?: string;
  /** Longest wait between retries while blocked on concurrency (released slots elsewhere are not signalled). Default 50 ms. */
  pollIntervalMs?: number;
  /**
   * While Redis is unreachable: `"local"` (default) enforces the same limits in this process only,
   * so calls keep flowing (the total across N processes may reach N × the limit for that time);
   * `"reject"` fails every acquire with `RateLimitError` (fail closed).
   */
  whenUnavailable?: "local" | "reject";
}

export interface RedisRateLimiterEvents {
  /** Redis could not be used for one acquire; the local limiter (or a rejection) answered instead. */
  fallback: [{ key: string; reason: string }];
}

// KEYS[1]: starts in the window (zset, score = start ms), KEYS[2]: leases (zset, score = expiry ms).
// Server time, so every process agrees on the window. ARGV[5] is the server time past which the
// client will have given up on this reservation: executed later (Redis was frozen, or ioredis
// resent it after a reconnect) it changes nothing, so no lease or start is left that nobody owns.
// Returns {granted, blockedBy (1 concurrency, 2 per minute, 3 too late), waitMs, count, now}.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > tonumber(ARGV[5]) then return {0, 3, 0, 0, now} end
local maxRpm = tonumber(ARGV[1])
local maxConc = tonumber(ARGV[2])
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if maxConc >= 0 then
  local held = redis.call('ZCARD', KEYS[2])
  if held >= maxConc then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, 1, tonumber(first[2]) - now, held, now}
  end
end
local starts = 0
if maxRpm >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
  starts = redis.call('ZCARD', KEYS[1])
  if starts >= maxRpm then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, 2, tonumber(first[2]) + 60000 - now, starts, now}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], 61000)
  starts = starts + 1
end
if maxConc >= 0 then
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl + 1000)
end
return {1, 0, 0, starts, now}
`;

// Undo a reservation the client gave up on, should it have been granted after all (its reply was
// late). Sent on the same connection, it runs after the reservation.
const CANCEL = `
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('ZREM', KEYS[2], ARGV[1])
`;

// Extend a live lease (heartbeat); a lease already reclaimed stays gone.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local updated = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl + 1000)
return updated
`;

type ReserveReply = [granted: number, blockedBy: number, waitMs: number, count: number, serverMs: number];

type ScriptClient = {
  orcLimitReserve(window: string, leases: string, maxRpm: number, maxConc: number, id: string, ttlMs: number, deadline: number): Promise<ReserveReply>;
  orcLimitCancel(window: string, leases: string, id: string): Promise<number>;
  orcLimitRenew(leases: string, id: string, ttlMs: number): Promise<number>;
};

interface Waiter {
  resolve: (lease: Lease) => void;
  reject: (error: unknown) => void;
  deadline: number;
  done: boolean;
  cleanup: () => void;
}

const UNAVAILABLE = Symbol("unavailable");
const TOO_LATE = 3;

/**
 * `maxRequestsPerMinute` and `maxConcurrentRequests` that hold across every process sharing the
 * Redis key. A reservation is one Lua script (atomic): it drops starts older than 60 s and
 * expired leases, checks both limits, and records the start and the lease. Releasing removes the
 * lease; a holder that crashed stops its heartbeat and its slot is reclaimed after `leaseTtlMs`.
 *
 * `model.setRateLimiter(new RedisRateLimiter({ url, key: model.name, maxRequestsPerMinute: 60 }))`
 */
/** How long a concurrency refusal keeps `isSaturated()` true without news from Redis. */
const SATURATION_MEMORY_MS = 500;

export class RedisRateLimiter extends EventEmitter<RedisRateLimiterEvents> implements RateLimiter {
  readonly key: string;
  readonly maxRequestsPerMinute: number;
  readonly maxConcurrentRequests: number;
  readonly leaseTtlMs: number;
  readonly connection: RedisConnection;
  readonly #windowKey: string;
  readonly #leasesKey: string;
  readonly #pollMs: number;
  readonly #whenUnavailable: "local" | "reject";
  readonly #local: LocalRateLimiter;
  readonly #queue: Waiter[] = [];
  readonly #prefix = randomUUID().slice(0, 8);
  readonly #clock = new ServerClock();
  /** Longest a reservation may take before this process gives up on it and falls back. */
  readonly #timeoutMs: number;
  /** The client has no command timeout of its own at or below `#timeoutMs`: bound reservations here. */
  readonly #ownTimer: boolean;
  #seq = 0;
  #inFlight = 0;
  #blockedUntil = 0;
  #pumping = false;
  #wake: (() => void) | undefined;

  constructor(options: RedisRateLimiterOptions) {
    super();
    if (!options || typeof options.key !== "string" || options.key.length === 0) throw new TypeError("RedisRateLimiter needs a non-empty `key` (usually the model's name).");
    this.key = options.key;
    this.maxRequestsPerMinute = options.maxRequestsPerMinute ?? Number.POSITIVE_INFINITY;
    this.maxConcurrentRequests = options.maxConcurrentRequests ?? Number.POSITIVE_INFINITY;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.#pollMs = options.pollIntervalMs ?? 50;
    this.#whenUnavailable = options.whenUnavailable ?? "local";
    const prefix = options.keyPrefix ?? "orc:limit:";
    // One hash tag, so both keys live in the same cluster slot.
    this.#windowKey = `${prefix}{${this.key}}:starts`;
    this.#leasesKey = `${prefix}{${this.key}}:leases`;
    this.connection = new RedisConnection(options, { operationTimeoutMs: 1_000 });
    const clientTimeout = this.connection.client.options?.commandTimeout;
    const hasClientTimeout = typeof clientTimeout === "number" && clientTimeout > 0;
    this.#timeoutMs = Math.min(options.operationTimeoutMs ?? 1_000, hasClientTimeout ? clientTimeout : Number.POSITIVE_INFINITY);
    this.#ownTimer = !(hasClientTimeout && clientTimeout <= this.#timeoutMs);
    this.connection.client.defineCommand("orcLimitReserve", { numberOfKeys: 2, lua: RESERVE });
    this.connection.client.defineCommand("orcLimitCancel", { numberOfKeys: 2, lua: CANCEL });
    this.connection.client.defineCommand("orcLimitRenew", { numberOfKeys: 1, lua: RENEW });
    this.#local = new LocalRateLimiter({ maxRequestsPerMinute: this.maxRequestsPerMinute, maxConcurrentRequests: this.maxConcurrentRequests });
  }

  /** Calls this process holds slots for now. */
  get inFlight(): number {
    return this.#inFlight + this.#local.inFlight;
  }

  /** From this process's view: waiters queued, a recent refusal not yet expired, or all slots held here. */
  isSaturated(): boolean {
    if (this.#queue.length > 0) return true;
    if (this.#inFlight >= this.maxConcurrentRequests) return true;
    return Date.now() < this.#blockedUntil;
  }

  acquire(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Lease> {
    const { signal, timeoutMs = 30_000 } = options;
    if (signal?.aborted) return Promise.reject(new AbortError());
    return new Promise<Lease>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        waiter.cleanup();
        reject(new AbortError());
      };
      const waiter: Waiter = {
        resolve,
        reject,
        deadline: Date.now() + timeoutMs,
        done: false,
        cleanup: () => {
          waiter.done = true;
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      timer = setTimeout(() => {
        waiter.cleanup();
        const retryAfterMs = Math.max(0, this.#blockedUntil - Date.now());
        reject(new RateLimitError(`No free slot for "${this.key}" within ${timeoutMs} ms (shared limits: ${this.#describe()}).`, retryAfterMs > 0 ? { retryAfterMs } : {}));
      }, timeoutMs);
      this.#queue.push(waiter);
      void this.#pump();
    });
  }

  /** Stop using Redis (held leases are released first when possible). */
  async close(): Promise<void> {
    for (const w of [...this.#queue]) {
      w.cleanup();
      w.reject(new AbortError("The rate limiter was closed."));
    }
    await this.connection.close();
  }

  #describe(): string {
    const parts: string[] = [];
    if (this.maxConcurrentRequests !== Number.POSITIVE_INFINITY) parts.push(`${this.maxConcurrentRequests} concurrent`);
    if (this.maxRequestsPerMinute !== Number.POSITIVE_INFINITY) parts.push(`${this.maxRequestsPerMinute} per minute`);
    return parts.join(", ") || "none";
  }

  // Serve the queue head first (FIFO within this process); one reservation in flight at a time.
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        // The slots this process holds (from Redis, or local ones taken while Redis was not
        // answering) already reach the shared limit: no point asking, wait for a release.
        if (this.inFlight >= this.maxConcurrentRequests) {
          await this.#sleep(this.#pollMs);
          continue;
        }
        const result = await this.#reserve();
        const head = this.#queue[0];
        if (result === UNAVAILABLE) {
          if (!head) break;
          await this.#fallback(head);
          continue;
        }
        if (result.granted) {
          if (head) {
            head.cleanup();
            head.resolve(result.lease);
          } else {
            result.lease.release();
          }
          continue;
        }
        await this.#sleep(result.waitMs);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #fallback(head: Waiter): Promise<void> {
    const reason = this.connection.lastError ?? `connection ${this.connection.client.status}`;
    if (this.listenerCount("fallback") > 0) this.emit("fallback", { key: this.key, reason });
    head.cleanup();
    if (this.#whenUnavailable === "reject") {
      head.reject(new RateLimitError(`Redis is unavailable, so no shared slot for "${this.key}" can be reserved: ${reason}`, { retryAfterMs: 1_000 }));
      return;
    }
    const timeoutMs = Math.max(0, head.deadline - Date.now());
    let local: Lease;
    try {
      local = await this.#local.acquire({ timeoutMs });
    } catch (error) {
      head.reject(error);
      return;
    }
    let released = false;
    head.resolve({
      release: () => {
        if (released) return;
        released = true;
        local.release();
        // A waiter held back by the per-process cap may go now.
        this.#wake?.();
      },
    });
  }

  #sleep(waitMs: number): Promise<void> {
    const ms = Math.max(5, Math.min(waitMs, this.#pollMs)) * (0.75 + Math.random() * 0.5);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).then(() => {
      this.#wake = undefined;
    });
  }

  async #reserve(): Promise<{ granted: true; lease: Lease } | { granted: false; waitMs: number } | typeof UNAVAILABLE> {
    if (!this.connection.available) return UNAVAILABLE;
    // Deadlines are in server time: learn where Redis' clock stands once (one extra round trip
    // per limiter); every reply refines it after that.
    if (!this.#clock.known && !(await this.#readServerClock())) return UNAVAILABLE;
    const limitRpm = this.maxRequestsPerMinute === Number.POSITIVE_INFINITY ? -1 : this.maxRequestsPerMinute;
    const limitConc = this.maxConcurrentRequests === Number.POSITIVE_INFINITY ? -1 : this.maxConcurrentRequests;
    const client = this.connection.client as unknown as ScriptClient;
    for (let attempt = 1; ; attempt++) {
      const id = `${this.#prefix}:${++this.#seq}`;
      const sentAt = performance.now();
      // Half the timeout: what Redis grants by then still reaches us before we give up on it
      // (with room for the clock estimate's error), and what it runs later grants nothing.
      const deadline = this.#clock.serverTimeAt(sentAt + this.#timeoutMs / 2);
      let reply: ReserveReply;
      try {
        reply = await this.#bounded(client.orcLimitReserve(this.#windowKey, this.#leasesKey, limitRpm, limitConc, id, this.leaseTtlMs, deadline));
      } catch {
        // Given up on. Should Redis still grant it in time (a late reply), take it back: queued
        // behind the reservation on this connection (or resent after it on the next one).
        if (this.connection.client.status !== "end") client.orcLimitCancel(this.#windowKey, this.#leasesKey, id).catch(() => undefined);
        this.connection.commandFailed();
        return UNAVAILABLE;
      }
      this.#clock.observe(reply[4], sentAt, performance.now());
      const [granted, blockedBy, waitMs] = reply;
      if (blockedBy === TOO_LATE) {
        // Redis ran it too late to count (it was sent just before Redis resumed, or Redis is
        // slow): once more at once, then fall back like a timeout.
        if (attempt < 2) continue;
        return UNAVAILABLE;
      }
      if (granted !== 1) {
        // Per-minute refusals know when the window frees up; concurrency ones do not (a release may come
        // any time, from any process). Selection keeps treating the model as saturated for a short
        // while after a refusal, so that it does not read "free" merely because a poll interval ran out.
        this.#blockedUntil = Date.now() + (blockedBy === 2 ? waitMs : Math.max(this.#pollMs, SATURATION_MEMORY_MS));
        return { granted: false, waitMs: blockedBy === 2 ? waitMs : this.#pollMs };
      }
      this.#blockedUntil = 0;
      return { granted: true, lease: this.#lease(id, limitConc >= 0) };
    }
  }

  async #readServerClock(): Promise<boolean> {
    const sentAt = performance.now();
    try {
      const [seconds, micros] = await this.#bounded(this.connection.client.time());
      this.#clock.observe(Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000), sentAt, performance.now());
      return true;
    } catch {
      this.connection.commandFailed();
      return false;
    }
  }

  /** A client without a command timeout of its own (one you passed) gets `operationTimeoutMs` here. */
  #bounded<T>(reply: Promise<T>): Promise<T> {
    if (!this.#ownTimer) return reply;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Command timed out")), this.#timeoutMs);
    });
    return Promise.race([reply, timeout]).finally(() => clearTimeout(timer));
  }

  #lease(id: string, holdsSlot: boolean): Lease {
    this.#inFlight++;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    if (holdsSlot) {
      heartbeat = setInterval(() => {
        if (!this.connection.available) return;
        (this.connection.client as unknown as ScriptClient).orcLimitRenew(this.#leasesKey, id, this.leaseTtlMs).catch(() => undefined);
      }, Math.max(10, Math.floor(this.leaseTtlMs / 3)));
      heartbeat.unref();
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight--;
        if (heartbeat) clearInterval(heartbeat);
        // Sent even while Redis is not answering (it runs when Redis resumes or the connection is
        // back); if it is lost after all, the slot expires after leaseTtlMs.
        if (holdsSlot && this.connection.client.status !== "end") this.connection.client.zrem(this.#leasesKey, id).catch(() => undefined);
        // A slot of ours just freed: the remembered concurrency refusal is out of date.
        if (holdsSlot) this.#blockedUntil = 0;
        this.#wake?.();
      },
    };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `RedisRateLimiter ${JSON.stringify({ key: this.key, limits: this.#describe(), inFlight: this.inFlight })}`;
  }
}
