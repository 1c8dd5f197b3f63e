import { randomUUID } from "node:crypto";
import { type ArmOutcome, type ArmStats, ConfigError, type StatsStore, emptyArmStats } from "@orchestrator-ts/core";
import { LruMap } from "@orchestrator-ts/core/internal";
import { RedisConnection, type RedisConnectionOptions } from "./connection";
import { keyBeside } from "./keys";

export interface RedisStatsStoreOptions extends RedisConnectionOptions {
  /** The Redis hash holding every arm's totals. Default `"orc:stats"`; processes that share it learn together. */
  key?: string;
  /** How often the shared totals are pulled into the local snapshot. Default 1000 ms. */
  refreshIntervalMs?: number;
  /**
   * How long local outcomes gather before they are sent in one atomic update. Default 100 ms: a
   * process sends at most 10 updates a second however many calls it makes, and the others learn
   * of its outcomes that much later (model calls take seconds).
   */
  flushDelayMs?: number;
  /**
   * Distinct `task` tags whose per-task statistics are kept, here and in Redis; past it the tags
   * least recently updated are deleted (their calls still count in the overall statistics).
   * Tags are meant to be a few categories; this bounds memory when they are not. Default 1,000.
   */
  maxTasks?: number;
}

const DEFAULT_MAX_TASKS = 1_000;

const FIELDS = [
  "trials",
  "successes",
  "failures",
  "rewardSum",
  "rewardSqSum",
  "latencyMsSum",
  "costUsdSum",
  "qualitySum",
  "qualityCount",
] as const;
type SumField = (typeof FIELDS)[number];
const SEP = "\u001f";

// Apply the increments, raise updatedAt to the newest, and answer the totals, all atomically: the
// reply is exactly the shared state including this batch, so the local view never counts twice.
// KEYS[2] holds the number of this writer's last applied batch (ARGV[1]; 0 = nothing to apply):
// a batch that arrives again — re-sent after its reply timed out, while Redis had run it or was
// about to (a frozen server), or resent by ioredis after a reconnect — is not applied twice.
// Past maxTasks task tags, the ones least recently updated are deleted (in the same script, so
// no process ever sees half an arm) and left out of the reply.
const SYNC_SCRIPT = `
local seq = tonumber(ARGV[1])
local n = tonumber(ARGV[3])
local m = tonumber(ARGV[4 + 2 * n])
if seq > 0 and seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  for i = 0, n - 1 do
    redis.call('HINCRBYFLOAT', KEYS[1], ARGV[4 + 2 * i], ARGV[5 + 2 * i])
  end
  for i = 0, m - 1 do
    local f = ARGV[5 + 2 * n + 2 * i]
    local v = ARGV[6 + 2 * n + 2 * i]
    local cur = tonumber(redis.call('HGET', KEYS[1], f) or '0')
    if tonumber(v) > cur then redis.call('HSET', KEYS[1], f, v) end
  end
  redis.call('SET', KEYS[2], seq, 'PX', ARGV[2])
end
local all = redis.call('HGETALL', KEYS[1])
local maxTasks = tonumber(ARGV[5 + 2 * n + 2 * m] or '0') or 0
local sep = ARGV[6 + 2 * n + 2 * m]
if maxTasks <= 0 or not sep then return all end
local newest = {}
local scopeAt = {}
local count = 0
for i = 1, #all, 2 do
  local f = all[i]
  local first = string.find(f, sep, 1, true)
  if first then
    local last = first
    while true do
      local nxt = string.find(f, sep, last + 1, true)
      if not nxt then break end
      last = nxt
    end
    if last > first then
      local scope = string.sub(f, first + 1, last - 1)
      scopeAt[i] = scope
      if newest[scope] == nil then
        newest[scope] = 0
        count = count + 1
      end
      if string.sub(f, last + 1) == 'updatedAt' then
        local t = tonumber(all[i + 1]) or 0
        if t > newest[scope] then newest[scope] = t end
      end
    end
  end
end
if count <= maxTasks then return all end
local order = {}
for scope, t in pairs(newest) do order[#order + 1] = { scope, t } end
table.sort(order, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[1] < b[1]
end)
local drop = {}
for k = 1, count - maxTasks do drop[order[k][1]] = true end
local kept = {}
local gone = {}
for i = 1, #all, 2 do
  local scope = scopeAt[i]
  if scope ~= nil and drop[scope] then
    gone[#gone + 1] = all[i]
  else
    kept[#kept + 1] = all[i]
    kept[#kept + 1] = all[i + 1]
  end
end
for k = 1, #gone, 1000 do
  redis.call('HDEL', KEYS[1], unpack(gone, k, math.min(k + 999, #gone)))
end
return kept
`;

/** How long Redis remembers a writer's last batch number after its last batch (a day: far past any re-send). */
const WRITER_TTL_MS = 24 * 60 * 60 * 1_000;

interface Arm {
  model: string;
  scope: string | undefined;
  stats: ArmStats;
}

const STATE_SCRIPT = `
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return redis.call('HGETALL', KEYS[1])
`;

type StateClient = {
  orcStateExchange(key: string, participant: string, write: 0 | 1, value: string): Promise<string[]>;
};

type SyncClient = { orcStatsSync(key: string, writerKey: string, ...args: (string | number)[]): Promise<string[]> };

function armId(model: string, scope: string | undefined): string {
  return scope === undefined ? model : `${model}${SEP}${scope}`;
}

/** A sum's part: a finite number, else 0. */
function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}

function add(target: ArmStats, delta: ArmStats): void {
  for (const f of FIELDS) target[f] += delta[f];
  if (delta.updatedAt > target.updatedAt) target.updatedAt = delta.updatedAt;
}

/**
 * Bandit statistics shared by every process through one Redis hash. Reads are synchronous from a
 * local snapshot (selection stays cheap); `record`/`adjust` apply to the snapshot at once and are
 * sent in batches by one Lua script that increments the shared totals (HINCRBYFLOAT) and returns
 * them. The snapshot is then exactly "shared totals + what is not sent yet": nothing is counted
 * twice. A refresh (every `refreshIntervalMs`) is the same script with nothing to add.
 *
 * While Redis is unreachable, outcomes accumulate locally and are sent once it is back; selection
 * keeps working on the local snapshot. A batch whose reply timed out is sent again unchanged under
 * the same number, and Redis applies each writer's batch numbers once: nothing is lost or counted
 * twice, even when Redis was merely frozen and ran the first copy when it resumed.
 */
export class RedisStatsStore implements StatsStore {
  readonly key: string;
  readonly maxTasks: number;
  readonly connection: RedisConnection;
  readonly refreshIntervalMs: number;
  readonly #flushDelayMs: number;
  #version = 0;
  /** The snapshot: shared totals + pending. */
  #view = new Map<string, Arm>();
  /** Outcomes not sent yet. */
  #pending = new Map<string, Arm>();
  /** A batch sent whose reply never came: it may or may not be applied; it goes again, as is, before anything new. */
  #unacked: { seq: number; batch: Map<string, Arm> } | undefined;
  #batchSeq = 0;
  /** This store's own key beside the totals: the number of its last applied batch. */
  readonly #writerKey: string;
  #inFlight: Promise<void> | undefined;
  #followUp: Promise<void> | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #interval: ReturnType<typeof setInterval>;
  #epoch = 0;
  #lastReply: string[] = [];
  /** When the last exchange was answered (performance.now). */
  #exchangedAt = Number.NEGATIVE_INFINITY;
  #closed = false;
  /** Task tags applied here, least recently first, with their models: past `maxTasks` the oldest is forgotten locally. */
  readonly #scopes: LruMap<string, { scope: string; models: Set<string> }>;

  constructor(options: RedisStatsStoreOptions = {}) {
    const maxTasks = options.maxTasks ?? DEFAULT_MAX_TASKS;
    // Checked before connecting: a bad option opens nothing.
    if (!Number.isInteger(maxTasks) || maxTasks < 1) {
      throw new ConfigError(
        [{ path: "maxTasks", message: `must be a positive integer, got ${JSON.stringify(maxTasks)}` }],
        { title: "Invalid RedisStatsStore options" },
      );
    }
    this.maxTasks = maxTasks;
    this.#scopes = new LruMap(maxTasks);
    this.key = options.key ?? "orc:stats";
    this.refreshIntervalMs = options.refreshIntervalMs ?? 1_000;
    this.#flushDelayMs = options.flushDelayMs ?? 100;
    this.#writerKey = keyBeside(this.key, `:writer:${randomUUID()}`);
    // Probed on the totals' own shard after a failure (on a cluster, the one that failed).
    this.connection = new RedisConnection(options, { operationTimeoutMs: 1_000, probeKey: this.key });
    this.connection.client.defineCommand("orcStatsSync", { numberOfKeys: 2, lua: SYNC_SCRIPT });
    this.connection.client.defineCommand("orcStateExchange", { numberOfKeys: 1, lua: STATE_SCRIPT });
    // Back after an outage or a stall: send what waited, without waiting for the interval.
    this.connection.onRecovered(() => void this.sync());
    // Every update answers the shared totals too: a refresh only when none came for an interval.
    this.#interval = setInterval(() => {
      if (performance.now() - this.#exchangedAt >= this.refreshIntervalMs * 0.9) void this.sync();
    }, this.refreshIntervalMs);
    this.#interval.unref();
    void this.sync();
  }

  get version(): number {
    return this.#version;
  }

  get(model: string, scope?: string): Readonly<ArmStats> | undefined {
    return this.#view.get(armId(model, scope))?.stats;
  }

  entries(): Iterable<{ model: string; scope: string | undefined; stats: Readonly<ArmStats> }> {
    return this.#view.values();
  }

  record(model: string, outcome: ArmOutcome, scope?: string): void {
    const delta = emptyArmStats();
    delta.trials = 1;
    if (outcome.success) delta.successes = 1;
    else delta.failures = 1;
    // Only numbers go to Redis: a NaN sum failed the script after its counts were applied, and the batch,
    // never acknowledged, went again and again (trials counted thousands of times a second).
    const reward = finite(outcome.reward);
    delta.rewardSum = reward;
    delta.rewardSqSum = reward * reward;
    delta.latencyMsSum = finite(outcome.latencyMs);
    delta.costUsdSum = finite(outcome.costUsd);
    if (outcome.quality !== undefined && Number.isFinite(outcome.quality)) {
      delta.qualitySum = outcome.quality;
      delta.qualityCount = 1;
    }
    delta.updatedAt = Date.now();
    this.#apply(model, scope, delta);
  }

  adjust(model: string, delta: { reward: number; rewardSq: number; quality?: number }, scope?: string): void {
    const d = emptyArmStats();
    d.rewardSum = finite(delta.reward);
    d.rewardSqSum = finite(delta.rewardSq);
    if (delta.quality !== undefined && Number.isFinite(delta.quality)) {
      d.qualitySum = delta.quality;
      d.qualityCount = 1;
    }
    d.updatedAt = Date.now();
    this.#apply(model, scope, d);
  }

  /** Forget everything, here and in Redis (for every process sharing the key). */
  reset(): void {
    this.#epoch++;
    this.#view = new Map();
    this.#pending = new Map();
    this.#unacked = undefined;
    this.#scopes.clear();
    this.#lastReply = [];
    this.#version++;
    if (this.connection.available) {
      // Batches numbered so far are from before the reset: should one still arrive (resent after
      // a reconnect), it must not be applied.
      if (this.#batchSeq > 0)
        this.connection.client.set(this.#writerKey, this.#batchSeq, "PX", WRITER_TTL_MS).catch(() => undefined);
      this.connection.client
        .del(this.key, ...[...this.#stateChannels].map((c) => this.#stateKey(c)))
        .catch(() => undefined);
    }
  }

  /** Channels this process exchanged learned state on (reset deletes them too). */
  readonly #stateChannels = new Set<string>();

  /** In the totals' hash slot, so that `reset()` deletes them all in one command on a cluster too. */
  #stateKey(channel: string): string {
    return keyBeside(this.key, `:state:${channel}`);
  }

  /** Send what is pending now and pull the shared totals. Never rejects. */
  sync(): Promise<void> {
    // One exchange at a time (the reply must be the totals including exactly the batch sent);
    // a sync asked for during one runs right after it, and later asks share that follow-up.
    if (this.#inFlight) {
      this.#followUp ??= this.#inFlight.then(() => {
        this.#followUp = undefined;
        return this.#start();
      });
      return this.#followUp;
    }
    return this.#start();
  }

  #start(): Promise<void> {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    const run = this.#exchange().finally(() => {
      this.#inFlight = undefined;
      // While Redis is not answering, the refresh interval retries instead.
      if ((this.#pending.size > 0 || this.#unacked) && !this.#closed && !this.#followUp && this.connection.available)
        this.#scheduleFlush();
    });
    this.#inFlight = run;
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#interval);
    if (this.#inFlight) await this.#inFlight;
    // The unacknowledged batch first, then the rest.
    if (this.#unacked) await this.sync();
    if (this.#pending.size > 0) await this.sync();
    this.#closed = true;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    await this.connection.close();
  }

  #apply(model: string, scope: string | undefined, delta: ArmStats): void {
    if (scope !== undefined) this.#touchScope(model, scope);
    const id = armId(model, scope);
    let arm = this.#view.get(id);
    if (!arm) {
      arm = { model, scope, stats: emptyArmStats() };
      this.#view.set(id, arm);
    }
    add(arm.stats, delta);
    let pending = this.#pending.get(id);
    if (!pending) {
      pending = { model, scope, stats: emptyArmStats() };
      this.#pending.set(id, pending);
    }
    add(pending.stats, delta);
    this.#version++;
    this.#scheduleFlush();
  }

  /** Keep this process's view bounded between syncs too (and while Redis is unreachable). */
  #touchScope(model: string, scope: string): void {
    let entry = this.#scopes.get(scope);
    if (entry === undefined) {
      entry = { scope, models: new Set() };
      const evicted = this.#scopes.set(scope, entry);
      if (evicted !== undefined) {
        for (const m of evicted.models) {
          const id = armId(m, evicted.scope);
          this.#view.delete(id);
          this.#pending.delete(id);
        }
      }
    }
    entry.models.add(model);
  }

  #scheduleFlush(): void {
    if (this.#flushTimer || this.#inFlight || this.#closed) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.sync();
    }, this.#flushDelayMs);
    this.#flushTimer.unref();
  }

  async #exchange(): Promise<void> {
    if (!this.connection.available) return;
    const epoch = this.#epoch;
    let sending = this.#unacked;
    if (!sending && this.#pending.size > 0) {
      sending = { seq: ++this.#batchSeq, batch: this.#pending };
      this.#pending = new Map();
      this.#unacked = sending;
    }
    const incr: (string | number)[] = [];
    const latest: (string | number)[] = [];
    if (sending) {
      for (const [id, arm] of sending.batch) {
        for (const f of FIELDS) if (arm.stats[f] !== 0) incr.push(`${id}${SEP}${f}`, arm.stats[f]);
        if (arm.stats.updatedAt > 0) latest.push(`${id}${SEP}updatedAt`, arm.stats.updatedAt);
      }
    }
    let reply: string[];
    try {
      reply = await (this.connection.client as unknown as SyncClient).orcStatsSync(
        this.key,
        this.#writerKey,
        sending?.seq ?? 0,
        WRITER_TTL_MS,
        incr.length / 2,
        ...incr,
        latest.length / 2,
        ...latest,
        this.maxTasks,
        SEP,
      );
    } catch {
      // Not applied, or not known to be: the batch stays unacknowledged and goes again, as is.
      this.connection.commandFailed();
      return;
    }
    this.#exchangedAt = performance.now();
    if (epoch !== this.#epoch) return;
    if (sending && this.#unacked === sending) this.#unacked = undefined;
    if (!sending && sameReply(reply, this.#lastReply)) return;
    this.#lastReply = reply;
    this.#rebuild(reply);
  }

  #rebuild(reply: string[]): void {
    const view = new Map<string, Arm>();
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const field = reply[i] as string;
      const cut = field.lastIndexOf(SEP);
      if (cut < 0) continue;
      const id = field.slice(0, cut);
      const name = field.slice(cut + 1) as SumField | "updatedAt";
      let arm = view.get(id);
      if (!arm) {
        const sep = id.indexOf(SEP);
        arm = {
          model: sep < 0 ? id : id.slice(0, sep),
          scope: sep < 0 ? undefined : id.slice(sep + 1),
          stats: emptyArmStats(),
        };
        view.set(id, arm);
      }
      const value = Number(reply[i + 1]);
      if (Number.isFinite(value)) arm.stats[name] = value;
    }
    // Outcomes recorded while the exchange was under way are not in the reply yet.
    for (const [id, pending] of this.#pending) {
      let arm = view.get(id);
      if (!arm) {
        arm = { model: pending.model, scope: pending.scope, stats: emptyArmStats() };
        view.set(id, arm);
      }
      add(arm.stats, pending.stats);
    }
    this.#view = view;
    this.#version++;
  }

  /**
   * Learned state beyond scalar statistics (a `ContextualSelector`'s weights): one hash per
   * channel (`<key>:state:<channel>`), one field per participant, written and read back in one
   * script. `undefined` when Redis cannot be reached: the caller keeps what it has.
   */
  async exchangeState(
    channel: string,
    participant: string,
    contribution: string | undefined,
  ): Promise<ReadonlyMap<string, string> | undefined> {
    if (this.#closed || !this.connection.available) return undefined;
    this.#stateChannels.add(channel);
    try {
      const reply = await (this.connection.client as unknown as StateClient).orcStateExchange(
        this.#stateKey(channel),
        participant,
        contribution === undefined ? 0 : 1,
        contribution ?? "",
      );
      const states = new Map<string, string>();
      for (let i = 0; i + 1 < reply.length; i += 2) states.set(reply[i] as string, reply[i + 1] as string);
      return states;
    } catch {
      this.connection.commandFailed();
      return undefined;
    }
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `RedisStatsStore ${JSON.stringify({ key: this.key, arms: this.#view.size, version: this.#version })}`;
  }
}

function sameReply(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
