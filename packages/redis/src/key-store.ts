import {
  ConfigError,
  type KeyAdmissionCheck,
  type KeyAdmissionVerdict,
  type KeySettlement,
  type KeyStore,
  type SpendDimension,
  type SpendRow,
  type VirtualKeyRecord,
} from "@orchestrator-ts/core";
import { spendHour } from "@orchestrator-ts/core/internal";
import {
  RedisConnection,
  type RedisConnectionOptions,
  RedisUnavailableError,
  validateRedisConnectionOptions,
} from "./connection";
import { ADMIT_SCRIPT, CREATE_SCRIPT, FIND_SCRIPT, REVOKE_SCRIPT, SETTLE_SCRIPT } from "./key-store-script";

export interface RedisKeyStoreOptions extends RedisConnectionOptions {
  /** Prefix of every Redis key. Default `"orc:"` (`orc:keys:{index}:…`, `orc:key:{<id>}:…`, `orc:spend:{<hour>}:…`). */
  keyPrefix?: string;
  /** A hold whose call never settles (its process died) is released after this long. Default 15 minutes. */
  holdTtlMs?: number;
  /** Hours of spend kept for `spend()`. Default 400 days. */
  spendRetentionHours?: number;
}

type ScriptClient = {
  orcKeyAdmit(
    w: string,
    g: string,
    h: string,
    ...args: (string | number)[]
  ): Promise<[number, number, number, number, number]>;
  orcKeySettle(w: string, g: string, h: string, ...args: (string | number)[]): Promise<number>;
  orcKeyFind(byHash: string, records: string, revoked: string, hash: string): Promise<[string, string] | null>;
  orcKeyCreate(byHash: string, records: string, hash: string, id: string, json: string): Promise<number>;
  orcKeyRevoke(records: string, revoked: string, id: string, at: string): Promise<[string, string] | null>;
};

/** Money in integer nano-dollars: sums in Redis are exact. */
const NANO = 1e9;
const HOUR_MS = 3_600_000;
const DIMENSIONS: readonly SpendDimension[] = ["key", "model", "user"];
/** Longest user or model name kept in spend (a client names its users: bounded). */
const MAX_NAME = 256;

/**
 * The gateway's virtual keys, their rate counters, budgets and spend in Redis (one server,
 * Cluster or Sentinel), shared by every gateway process using the same Redis: each admission and
 * each settlement is one Lua script on the key's own hash slot, so rpm, tpm and budgets hold
 * exactly however many processes serve the key. Keys are stored as the SHA-256 of their value.
 */
export class RedisKeyStore implements KeyStore {
  readonly connection: RedisConnection;
  readonly #prefix: string;
  readonly #index: [byHash: string, records: string, revoked: string];
  readonly #holdTtlMs: number;
  readonly #retentionHours: number;

  constructor(options: RedisKeyStoreOptions = {}) {
    validateRedisConnectionOptions(options);
    const ttl = options.holdTtlMs;
    if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0))
      throw new ConfigError(
        [{ path: "holdTtlMs", message: `must be a positive number of ms, got ${JSON.stringify(ttl)}` }],
        { title: "Invalid RedisKeyStore options" },
      );
    this.#prefix = options.keyPrefix ?? "orc:";
    this.#index = [
      `${this.#prefix}keys:{index}:by-hash`,
      `${this.#prefix}keys:{index}:records`,
      `${this.#prefix}keys:{index}:revoked`,
    ];
    this.#holdTtlMs = ttl ?? 15 * 60_000;
    this.#retentionHours = options.spendRetentionHours ?? 400 * 24;
    this.connection = new RedisConnection(options, {
      operationTimeoutMs: options.operationTimeoutMs ?? 1_000,
      probeKey: this.#index[1],
    });
    const client = this.connection.client;
    client.defineCommand("orcKeyAdmit", { numberOfKeys: 3, lua: ADMIT_SCRIPT });
    client.defineCommand("orcKeySettle", { numberOfKeys: 3, lua: SETTLE_SCRIPT });
    client.defineCommand("orcKeyFind", { numberOfKeys: 3, lua: FIND_SCRIPT });
    client.defineCommand("orcKeyCreate", { numberOfKeys: 2, lua: CREATE_SCRIPT });
    client.defineCommand("orcKeyRevoke", { numberOfKeys: 2, lua: REVOKE_SCRIPT });
  }

  get #scripts(): ScriptClient {
    return this.connection.client as unknown as ScriptClient;
  }

  /** A command, failing at once while Redis is known to be down (the gate answers 503, never waits). */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    if (!this.connection.available)
      throw new RedisUnavailableError(
        `Redis is unavailable (${this.connection.lastError ?? this.connection.client.status}).`,
      );
    try {
      return await command();
    } catch (error) {
      this.connection.commandFailed(error);
      throw error;
    }
  }

  #keysOf(keyId: string): [string, string, string] {
    const base = `${this.#prefix}key:{${keyId}}`;
    return [`${base}:window`, `${base}:gate`, `${base}:holds`];
  }

  async create(record: VirtualKeyRecord, keyHash: string): Promise<void> {
    const done = await this.#run(() =>
      this.#scripts.orcKeyCreate(this.#index[0], this.#index[1], keyHash, record.id, JSON.stringify(record)),
    );
    if (Number(done) !== 1) throw new Error(`A key with id ${record.id} (or the same value) exists already.`);
  }

  async findByHash(keyHash: string): Promise<VirtualKeyRecord | undefined> {
    const found = await this.#run(() => this.#scripts.orcKeyFind(...this.#index, keyHash));
    return found ? withRevoked(found[0], found[1]) : undefined;
  }

  /** The key with this id, revoked or not. */
  async get(id: string): Promise<VirtualKeyRecord | undefined> {
    const client = this.connection.client;
    const [raw, revoked] = await this.#run(() =>
      Promise.all([client.hget(this.#index[1], id), client.hget(this.#index[2], id)]),
    );
    return raw ? withRevoked(raw, revoked ?? "") : undefined;
  }

  /** Every key made through the API (any process), revoked ones included. */
  async list(): Promise<VirtualKeyRecord[]> {
    const client = this.connection.client;
    const [records, revoked] = await this.#run(() =>
      Promise.all([client.hgetall(this.#index[1]), client.hgetall(this.#index[2])]),
    );
    return Object.entries(records).map(([id, raw]) => withRevoked(raw, revoked[id] ?? ""));
  }

  async revoke(id: string, at: string): Promise<VirtualKeyRecord | undefined> {
    const done = await this.#run(() => this.#scripts.orcKeyRevoke(this.#index[1], this.#index[2], id, at));
    return done ? withRevoked(done[0], done[1]) : undefined;
  }

  /** One script: lapsed holds released, rpm and tpm counted in the sliding minute, the budget's hold taken — or the limit that refuses. */
  async admit(check: KeyAdmissionCheck): Promise<KeyAdmissionVerdict> {
    const args = [
      check.holdId,
      check.rpm ?? -1,
      check.tpm ?? -1,
      Math.max(0, Math.ceil(check.tokens)),
      check.budgetUsd === undefined ? -1 : Math.round(check.budgetUsd * NANO),
      check.period ?? "total",
      check.holdUsd === undefined ? -1 : Math.ceil(check.holdUsd * NANO),
      this.#holdTtlMs,
    ];
    const reply = await this.#run(() => this.#scripts.orcKeyAdmit(...this.#keysOf(check.keyId), ...args));
    const [status, wait, used, held, hold] = reply.map(Number) as [number, number, number, number, number];
    if (status === 1) return { ok: true, heldUsd: hold / NANO };
    if (status === 4)
      return { ok: false, reason: "budget", spentUsd: used / NANO, heldUsd: held / NANO, neededUsd: hold / NANO };
    return { ok: false, reason: status === 2 ? "rpm" : "tpm", retryAfterMs: wait, used };
  }

  async settle(s: KeySettlement): Promise<void> {
    const cost = Math.max(0, Math.round(s.costUsd * NANO));
    await this.#run(() =>
      this.#scripts.orcKeySettle(...this.#keysOf(s.keyId), s.holdId, s.period ?? "total", cost, s.tokens ?? -1),
    );
    // Spend by key, model and user: one hash per dimension and UTC hour (the hour is the hash tag,
    // so a cluster keeps one hour's three hashes together).
    const hour = spendHour(new Date());
    const client = this.connection.client;
    const ttlMs = this.#retentionHours * HOUR_MS + HOUR_MS;
    const names: [SpendDimension, string | undefined][] = [
      ["key", s.keyId],
      ["model", s.model],
      ["user", s.user],
    ];
    const multi = client.multi();
    for (const [by, raw] of names) {
      if (raw === undefined) continue;
      const name = raw.slice(0, MAX_NAME);
      const key = this.#spendKey(hour, by);
      multi.hincrby(key, `c|${name}`, cost).hincrby(key, `n|${name}`, 1);
      if (s.inputTokens) multi.hincrby(key, `i|${name}`, s.inputTokens);
      if (s.outputTokens) multi.hincrby(key, `o|${name}`, s.outputTokens);
      multi.pexpire(key, ttlMs);
    }
    await this.#run(() => multi.exec());
  }

  #spendKey(hour: string, by: SpendDimension): string {
    return `${this.#prefix}spend:{${hour}}:${by}`;
  }

  async spent(keyId: string, period: string): Promise<{ spentUsd: number; heldUsd: number }> {
    const [spent, held] = await this.#run(() =>
      this.connection.client.hmget(this.#keysOf(keyId)[1], `s:${period}`, `H:${period}`),
    );
    return { spentUsd: Number(spent ?? 0) / NANO, heldUsd: Math.max(0, Number(held ?? 0)) / NANO };
  }

  async spend(query: { by: SpendDimension; since: Date }): Promise<SpendRow[]> {
    if (!DIMENSIONS.includes(query.by)) throw new TypeError(`spend: by must be one of ${DIMENSIONS.join(", ")}`);
    const now = Date.now();
    const from = Math.max(Math.floor(query.since.getTime() / HOUR_MS) * HOUR_MS, now - this.#retentionHours * HOUR_MS);
    const hours: string[] = [];
    for (let t = from; t <= now; t += HOUR_MS) hours.push(spendHour(new Date(t)));
    const client = this.connection.client;
    const total = new Map<string, SpendRow>();
    // Bounded fan-out: a year is ~8,800 hours.
    for (let i = 0; i < hours.length; i += 256) {
      const batch = hours.slice(i, i + 256);
      const buckets = await this.#run(() => Promise.all(batch.map((h) => client.hgetall(this.#spendKey(h, query.by)))));
      for (const bucket of buckets) {
        for (const [field, value] of Object.entries(bucket)) {
          const kind = field.slice(0, 1);
          const name = field.slice(2);
          const row = total.get(name) ?? { name, costUsd: 0, requests: 0, inputTokens: 0, outputTokens: 0 };
          const n = Number(value);
          if (kind === "c") row.costUsd += n;
          else if (kind === "n") row.requests += n;
          else if (kind === "i") row.inputTokens += n;
          else if (kind === "o") row.outputTokens += n;
          total.set(name, row);
        }
      }
    }
    return [...total.values()]
      .map((r) => ({ ...r, costUsd: r.costUsd / NANO }))
      .sort((a, b) => b.costUsd - a.costUsd || a.name.localeCompare(b.name));
  }

  /** Closes the connection this store made (not a `client` you passed). */
  async close(): Promise<void> {
    await this.connection.close();
  }
}

function withRevoked(raw: string, revokedAt: string): VirtualKeyRecord {
  const record = JSON.parse(raw) as VirtualKeyRecord;
  if (revokedAt) record.revokedAt = revokedAt;
  return record;
}
