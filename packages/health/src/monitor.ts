import {
  type HealthStateStore,
  type HealthStatus,
  type HealthTracker,
  ModelNotFoundError,
  RateLimitError,
} from "@orchestrator-ts/core";
import { BreakerRules, UNKNOWN, countsAgainstModel } from "./circuit";
import { describeError } from "./format";
import {
  type Availability,
  type CircuitState,
  type HealthChangeListener,
  type ModelHealth,
  type ModelHealthMonitorOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options";
import { healthReport, sharedBlock } from "./report";
import { Slots } from "./slots";
import { type Entry, type Timer, type WatchedModel, newEntry } from "./watched";

const TIMED_OUT = Symbol("timed out");

/**
 * Watches models' health from two sides: active `healthCheck()` calls on an interval (with jitter,
 * a timeout, bounded concurrency, never two at once per model; its timers keep a process alive
 * only while a caller awaits a check), and passive
 * signals from live calls (`recordSuccess` / `recordFailure`) feeding a circuit breaker per model.
 * `availability()` is what selection asks; it is synchronous and allocation-free while nothing changes.
 */
export class ModelHealthMonitor implements HealthTracker {
  readonly options: Readonly<ResolvedOptions>;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<HealthChangeListener>();
  readonly #store: HealthStateStore | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #rules: BreakerRules;
  #started = false;
  #unsubscribe: (() => void) | undefined;
  readonly #slots: Slots;
  // Timeouts of the checks running now, and how many callers await a check (checkNow, getHealth).
  // While someone awaits, every check timer keeps the process alive (the awaited check may be
  // queued behind the others); a check nobody awaits never does.
  readonly #checkTimers = new Set<Timer>();
  #awaited = 0;

  constructor(options: ModelHealthMonitorOptions = {}) {
    this.options = Object.freeze(resolveOptions(options));
    this.#store = options.stateStore;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    if (options.onChange) this.#listeners.add(options.onChange);
    this.#rules = new BreakerRules(this.options);
    this.#slots = new Slots(this.options.concurrency);
  }

  /** Whether `start()` was called (and `stop()` not since). */
  get running(): boolean {
    return this.#started;
  }

  // ---- HealthTracker ----------------------------------------------------------------------

  watch(model: WatchedModel): void {
    if (!model || typeof model.name !== "string" || typeof model.healthCheck !== "function") {
      throw new TypeError("watch(model) needs an object with a name and a healthCheck() method.");
    }
    const entry = this.#entry(model.name);
    entry.model = model;
    // Half-open, a model with a health check is probed by it, not by live calls.
    entry.probesWithTraffic = false;
    if (this.#started) this.#schedule(entry, 0);
  }

  unwatch(name: string): void {
    const entry = this.#entries.get(name);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    this.#entries.delete(name);
  }

  availability(name: string): Availability {
    const entry = this.#entries.get(name);
    let result = UNKNOWN;
    if (entry !== undefined) {
      result = entry.avail;
      if (entry.blockedUntil !== Number.POSITIVE_INFINITY) {
        const now = this.#now();
        if (now >= entry.blockedUntil) {
          this.#expire(entry, now);
          result = entry.avail;
        }
      }
    }
    const store = this.#store;
    if (store === undefined || !result.available) return result;
    const shared = this.#sharedGet(name);
    if (shared === undefined || shared.cooldownUntil === undefined || shared.cooldownUntil <= this.#now())
      return result;
    return this.#sharedBlock(entry, result, shared);
  }

  async getHealth(name: string): Promise<ModelHealth> {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      const shared = this.#sharedGet(name);
      if (shared) return { ...shared, name, circuit: "closed", successRate: undefined, p95LatencyMs: undefined };
      throw new ModelNotFoundError(name, [...this.#entries.keys()]);
    }
    const now = this.#now();
    if (now >= entry.blockedUntil) this.#expire(entry, now);
    // A model nobody has checked or called yet gets one check, so the answer means something
    // (unless the shared state already has the answer).
    const shared = this.#sharedGet(name);
    const sharedBlock = shared?.cooldownUntil !== undefined && shared.cooldownUntil > now;
    if (entry.observations === 0 && entry.model && !sharedBlock) await this.#awaitCheck(entry);
    return this.#snapshot(entry, true);
  }

  recordSuccess(name: string, latencyMs: number): void {
    const entry = this.#entry(name);
    this.#success(entry, latencyMs, true);
    this.#update(entry, "traffic");
  }

  recordFailure(name: string, error: unknown): void {
    const entry = this.#entry(name);
    if (RateLimitError.isInstance(error)) {
      const now = this.#now();
      this.#rules.rateLimited(entry, now + (error.retryAfterMs ?? this.options.rateLimitCooldownMs));
      this.#update(entry, "traffic");
      return;
    }
    if (!countsAgainstModel(error)) return;
    this.#failure(entry, describeError(error), true);
    this.#update(entry, "traffic");
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#store?.subscribe)
      this.#unsubscribe = this.#store.subscribe((name, status) => this.#onShared(name, status));
    for (const entry of this.#entries.values()) this.#plan(entry, true);
  }

  stop(): void {
    this.#started = false;
    for (const entry of this.#entries.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  // ---- beyond the contract ----------------------------------------------------------------

  /** Run active checks now (one model, or every watched one) and resolve with the resulting health. */
  checkNow(name: string): Promise<ModelHealth>;
  checkNow(): Promise<ModelHealth[]>;
  async checkNow(name?: string): Promise<ModelHealth | ModelHealth[]> {
    if (name === undefined) {
      const entries = [...this.#entries.values()].filter((e) => e.model !== undefined);
      await Promise.all(entries.map((e) => this.#awaitCheck(e)));
      return entries.map((e) => this.#snapshot(e, true));
    }
    const entry = this.#entries.get(name);
    if (entry?.model === undefined) throw new ModelNotFoundError(name, [...this.#entries.keys()]);
    await this.#awaitCheck(entry);
    return this.#snapshot(entry, true);
  }

  /** The circuit state of `name` (`closed` for a model never seen). */
  circuit(name: string): CircuitState {
    return this.#entries.get(name)?.circuit ?? "closed";
  }

  /** Listen for status or availability changes. Returns a function that removes the listener. */
  on(event: "change", listener: HealthChangeListener): () => void {
    if (event !== "change") throw new TypeError(`Unknown event "${String(event)}"; the monitor emits "change".`);
    this.#listeners.add(listener);
    return () => this.off(event, listener);
  }

  off(_event: "change", listener: HealthChangeListener): void {
    this.#listeners.delete(listener);
  }

  // ---- state ------------------------------------------------------------------------------

  #entry(name: string): Entry {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = newEntry(this.#rules, name);
      this.#entries.set(name, entry);
    }
    return entry;
  }

  // The breaker decides; the monitor reschedules when the circuit moved.
  #success(entry: Entry, latencyMs: number | undefined, live: boolean): void {
    if (this.#rules.success(entry, latencyMs, live)) this.#plan(entry);
  }

  #failure(entry: Entry, detail: string, live: boolean): void {
    if (this.#rules.failure(entry, detail, live, this.#now())) this.#plan(entry);
  }

  #close(entry: Entry): void {
    this.#rules.close(entry);
    this.#plan(entry);
  }

  /**
   * Recompute, then tell listeners (status or availability changed) and the shared store (any
   * change, and every active check so other processes can skip theirs).
   */
  #update(entry: Entry, evidence: "check" | "traffic" | "time" | "shared"): void {
    const prev = entry.avail;
    const now = this.#now();
    this.#rules.recompute(entry, now);
    const next = entry.avail;
    if (this.#entries.get(entry.name) !== entry) return;
    const changed = next !== prev;
    if (this.#store && evidence !== "shared" && (changed || evidence === "check")) this.#publish(entry, now);
    entry.recovered = false;
    if (this.#listeners.size > 0 && (prev.status !== next.status || prev.available !== next.available)) {
      const snapshot = this.#snapshot(entry, false);
      for (const listener of this.#listeners) {
        try {
          listener(entry.name, snapshot);
        } catch {
          // A listener's bug must not break health tracking.
        }
      }
    }
  }

  #expire(entry: Entry, now: number): void {
    if (entry.circuit === "open" && now >= entry.cooldownUntil) this.#halfOpen(entry, now);
    else this.#update(entry, "time");
  }

  #halfOpen(entry: Entry, now: number): void {
    if (entry.circuit !== "open") return;
    // Another process reopened it later than we did: wait for its cooldown rather than probe too.
    const shared = this.#sharedGet(entry.name);
    if (shared?.cooldownUntil !== undefined && shared.cooldownUntil > now && shared.status === "unhealthy") {
      entry.cooldownUntil = shared.cooldownUntil;
      this.#update(entry, "shared");
      this.#plan(entry);
      return;
    }
    this.#rules.halfOpen(entry, now);
    this.#update(entry, "time");
    if (entry.model) void this.#probe(entry);
  }

  /** Half-open: active checks back to back until `recoveryThreshold` successes (closed) or a failure (open again). */
  async #probe(entry: Entry): Promise<void> {
    if (entry.probing) return;
    entry.probing = true;
    try {
      while (entry.circuit === "half-open" && entry.model && this.#entries.get(entry.name) === entry)
        await this.#check(entry);
    } finally {
      entry.probing = false;
    }
  }

  // ---- active checks ----------------------------------------------------------------------

  /** `#check` for a caller that waits on the answer: the check's timeout keeps the process alive meanwhile. */
  async #awaitCheck(entry: Entry): Promise<void> {
    if (this.#awaited++ === 0) for (const timer of this.#checkTimers) timer.ref?.();
    try {
      await this.#check(entry);
    } finally {
      if (--this.#awaited === 0) for (const timer of this.#checkTimers) timer.unref?.();
    }
  }

  /** Run one check of `entry`, or join the one already running (never two at once per model). */
  #check(entry: Entry): Promise<void> {
    if (entry.inflight) return entry.inflight;
    const run = this.#runCheck(entry).finally(() => {
      if (entry.inflight === run) entry.inflight = undefined;
    });
    entry.inflight = run;
    return run;
  }

  async #runCheck(entry: Entry): Promise<void> {
    const model = entry.model;
    if (model === undefined) return;
    const { timeoutMs } = this.options;
    if (entry.hung) {
      // The last check is still stuck; calling again would stack a second request on a dead provider.
      entry.lastCheckedAt = this.#now();
      this.#failure(entry, `health check still running (it timed out after ${timeoutMs} ms)`, false);
      this.#update(entry, "check");
      this.#plan(entry);
      return;
    }
    await this.#slots.acquire();
    let timer: Timer | undefined;
    let outcome: boolean | typeof TIMED_OUT | undefined;
    let thrown: unknown;
    let threw = false;
    const started = this.#now();
    const call = (async () => model.healthCheck())();
    try {
      const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
        if (this.#awaited === 0) timer.unref?.();
        this.#checkTimers.add(timer);
      });
      outcome = await Promise.race([call, timeout]);
    } catch (error) {
      threw = true;
      thrown = error;
    } finally {
      if (timer) {
        clearTimeout(timer);
        this.#checkTimers.delete(timer);
      }
      this.#slots.release();
    }
    if (this.#entries.get(entry.name) !== entry) return;
    const ended = this.#now();
    entry.lastCheckedAt = ended;
    entry.latencyMs = ended - started;
    if (outcome === TIMED_OUT) {
      entry.hung = call;
      const settle = () => {
        if (entry.hung === call) entry.hung = undefined;
      };
      call.then(settle, settle);
      this.#failure(entry, `health check timed out after ${timeoutMs} ms`, false);
    } else if (threw) {
      this.#failure(entry, `health check failed: ${describeError(thrown)}`, false);
    } else if (outcome !== true) {
      this.#failure(entry, "health check reported the model unavailable", false);
    } else {
      this.#success(entry, undefined, false);
    }
    this.#update(entry, "check");
    this.#plan(entry);
  }

  // ---- timers -----------------------------------------------------------------------------

  /** Set the one timer of `entry` for what comes next: a cooldown's end, or the next periodic check. */
  #plan(entry: Entry, first = false): void {
    if (!this.#started || entry.model === undefined || this.#entries.get(entry.name) !== entry) return;
    if (entry.circuit === "open") {
      this.#schedule(entry, Math.max(0, entry.cooldownUntil - this.#now()));
    } else if (entry.circuit === "closed") {
      const { checkIntervalMs, jitter } = this.options;
      this.#schedule(entry, first ? 0 : checkIntervalMs * (1 + jitter * (2 * this.#random() - 1)));
    } else if (entry.timer) {
      // Half-open: the probe loop owns the model until it settles.
      clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  #schedule(entry: Entry, delayMs: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    const timer = setTimeout(() => {
      if (entry.timer === timer) entry.timer = undefined;
      this.#tick(entry);
    }, delayMs);
    // A monitor never keeps a process alive on its own.
    timer.unref?.();
    entry.timer = timer;
  }

  #tick(entry: Entry): void {
    if (!this.#started || this.#entries.get(entry.name) !== entry) return;
    const now = this.#now();
    if (entry.circuit === "open") {
      if (now >= entry.cooldownUntil) this.#halfOpen(entry, now);
      else this.#plan(entry);
      return;
    }
    if (entry.circuit === "half-open") return;
    const shared = this.#sharedGet(entry.name);
    if (shared !== undefined) {
      // Known dead elsewhere: do not pile on; the process that found it probes it.
      const blocked = shared.status === "unhealthy" && shared.cooldownUntil !== undefined && shared.cooldownUntil > now;
      // Checked by another process within half an interval: its answer is fresh enough.
      const fresh =
        shared.lastCheckedAt !== undefined &&
        shared.lastCheckedAt > (entry.lastCheckedAt ?? Number.NEGATIVE_INFINITY) &&
        now - shared.lastCheckedAt < this.options.checkIntervalMs / 2;
      if (blocked || fresh) {
        if (fresh && !blocked) this.#adopt(entry, shared);
        this.#plan(entry);
        return;
      }
    }
    void this.#check(entry);
  }

  // ---- shared state -----------------------------------------------------------------------

  #publish(entry: Entry, now: number): void {
    const store = this.#store;
    if (store === undefined) return;
    const snapshot = this.#snapshot(entry, false);
    if (!entry.recovered && snapshot.cooldownUntil === undefined) {
      // Another process's block stands until it expires or a circuit closes after probing; a
      // passing check or a stray success here is weaker evidence than the failures that opened it.
      const shared = this.#sharedGet(entry.name);
      if (shared?.cooldownUntil !== undefined && shared.cooldownUntil > now) return;
    }
    try {
      store.set(entry.name, snapshot);
    } catch {
      // Shared state is best effort: local tracking goes on.
    }
  }

  #sharedGet(name: string): HealthStatus | undefined {
    if (this.#store === undefined) return undefined;
    try {
      return this.#store.get(name);
    } catch {
      // A broken shared store must not break selection: fall back to local knowledge.
      return undefined;
    }
  }

  /** Another process's fresh check result stands in for ours. */
  #adopt(entry: Entry, shared: HealthStatus): void {
    entry.lastCheckedAt = shared.lastCheckedAt;
    entry.latencyMs = shared.latencyMs;
    if (shared.status === "healthy" && entry.observations === 0) {
      entry.observations = 1;
      this.#update(entry, "shared");
    }
  }

  /** Another process saw it recover: close our circuit too rather than wait out our cooldown. */
  #onShared(name: string, shared: HealthStatus): void {
    const entry = this.#entries.get(name);
    if (entry === undefined || entry.circuit === "closed") return;
    if (shared.status !== "healthy" || shared.cooldownUntil !== undefined) return;
    if (shared.lastCheckedAt === undefined || shared.lastCheckedAt <= entry.openedAt) return;
    entry.consecutiveSuccesses = Math.max(entry.consecutiveSuccesses, shared.consecutiveSuccesses);
    this.#close(entry);
    this.#update(entry, "shared");
  }

  #sharedBlock(entry: Entry | undefined, local: Availability, shared: HealthStatus): Availability {
    // The same shared status gives the same frozen object: selection does not allocate per call.
    if (entry !== undefined && entry.sharedSeen === shared && entry.sharedAvail !== undefined) return entry.sharedAvail;
    const result = sharedBlock(local, shared);
    if (entry !== undefined) {
      entry.sharedSeen = shared;
      entry.sharedAvail = result;
    }
    return result;
  }

  #snapshot(entry: Entry, mergeShared: boolean): ModelHealth {
    return healthReport(
      entry.name,
      entry,
      this.#rules,
      entry,
      this.#now(),
      mergeShared ? this.#sharedGet(entry.name) : undefined,
    );
  }
}
