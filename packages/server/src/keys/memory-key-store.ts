import type {
  KeyAdmissionCheck,
  KeyAdmissionVerdict,
  KeySettlement,
  KeyStore,
  SpendDimension,
  SpendRow,
  VirtualKeyRecord,
} from "@orchestrator-ts/core";
import { spendHour } from "@orchestrator-ts/core/internal";

const WINDOW_MS = 60_000;
/** Money is counted in integer nano-dollars, so that sums are exact (a budget of 5 × a cost is 5 calls, not 4 or 6). */
const NANO = 1e9;
const HOUR_MS = 3_600_000;

/** Options of `MemoryKeyStore`. */
export interface MemoryKeyStoreOptions {
  /** A hold whose call never settles (a crashed handler) is released after this long. Default 15 minutes. */
  holdTtlMs?: number;
  /** Hours of spend kept for `spend()`. Default 400 days. */
  spendRetentionHours?: number;
}

interface Hold {
  amount: number;
  period: string;
  expiresAt: number;
}

interface KeyCounters {
  /** Admissions in the last 60 s, oldest first: [holdId, at, tokens]. */
  window: { id: string; at: number; tokens: number }[];
  tokens: number;
  holds: Map<string, Hold>;
  /** Per period: spent and held (nano-USD), settled requests. */
  periods: Map<string, { spent: number; held: number; count: number }>;
  /** Moving mean cost of one request (nano-USD), the hold when a request has no estimate. */
  mean: number | undefined;
}

type SpendBucket = Map<SpendDimension, Map<string, SpendRow>>;

/**
 * Keys, counters and spend in this process's memory: for one gateway process. The same rules as
 * `RedisKeyStore`, which a fleet shares.
 */
export class MemoryKeyStore implements KeyStore {
  readonly #records = new Map<string, VirtualKeyRecord>();
  readonly #byHash = new Map<string, string>();
  readonly #counters = new Map<string, KeyCounters>();
  readonly #spend = new Map<string, SpendBucket>();
  readonly #holdTtlMs: number;
  readonly #retentionHours: number;

  constructor(options: MemoryKeyStoreOptions = {}) {
    this.#holdTtlMs = options.holdTtlMs ?? 15 * 60_000;
    this.#retentionHours = options.spendRetentionHours ?? 400 * 24;
  }

  async create(record: VirtualKeyRecord, keyHash: string): Promise<void> {
    if (this.#byHash.has(keyHash) || this.#records.has(record.id))
      throw new Error(`A key with id ${record.id} (or the same value) exists already.`);
    this.#records.set(record.id, structuredClone(record));
    this.#byHash.set(keyHash, record.id);
  }

  async findByHash(keyHash: string): Promise<VirtualKeyRecord | undefined> {
    const id = this.#byHash.get(keyHash);
    return id === undefined ? undefined : this.get(id);
  }

  /** The key with this id, revoked or not. */
  async get(id: string): Promise<VirtualKeyRecord | undefined> {
    const record = this.#records.get(id);
    return record && structuredClone(record);
  }

  /** Every key made through the store, revoked ones included. */
  async list(): Promise<VirtualKeyRecord[]> {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }

  async revoke(id: string, at: string): Promise<VirtualKeyRecord | undefined> {
    const record = this.#records.get(id);
    if (!record) return undefined;
    record.revokedAt ??= at;
    return structuredClone(record);
  }

  #countersOf(keyId: string): KeyCounters {
    let c = this.#counters.get(keyId);
    if (!c) {
      c = { window: [], tokens: 0, holds: new Map(), periods: new Map(), mean: undefined };
      this.#counters.set(keyId, c);
    }
    return c;
  }

  #period(c: KeyCounters, period: string): { spent: number; held: number; count: number } {
    let p = c.periods.get(period);
    if (!p) {
      p = { spent: 0, held: 0, count: 0 };
      c.periods.set(period, p);
    }
    return p;
  }

  /** rpm and tpm counted in the sliding minute and the budget's hold taken, or the limit that refuses. */
  async admit(check: KeyAdmissionCheck): Promise<KeyAdmissionVerdict> {
    const now = Date.now();
    const c = this.#countersOf(check.keyId);
    for (const [id, hold] of c.holds) {
      if (hold.expiresAt > now) continue;
      this.#period(c, hold.period).held -= hold.amount;
      c.holds.delete(id);
    }
    let drop = 0;
    while (drop < c.window.length && (c.window[drop] as { at: number }).at <= now - WINDOW_MS)
      c.tokens -= (c.window[drop++] as { tokens: number }).tokens;
    if (drop > 0) c.window.splice(0, drop);
    if (check.rpm !== undefined && c.window.length + 1 > check.rpm) {
      const first = c.window[0];
      return {
        ok: false,
        reason: "rpm",
        retryAfterMs: first ? first.at + WINDOW_MS - now : 1_000,
        used: c.window.length,
      };
    }
    if (check.tpm !== undefined && c.tokens + check.tokens > check.tpm) {
      let excess = c.tokens + check.tokens - check.tpm;
      let wait = WINDOW_MS;
      for (const entry of c.window) {
        excess -= entry.tokens;
        if (excess <= 0) {
          wait = entry.at + WINDOW_MS - now;
          break;
        }
      }
      return { ok: false, reason: "tpm", retryAfterMs: wait, used: c.tokens };
    }
    let hold = 0;
    if (check.budgetUsd !== undefined) {
      const period = this.#period(c, check.period ?? "total");
      // The estimate, or the key's mean cost when that is more (an estimate that leaves out the answer).
      hold = Math.max(check.holdUsd !== undefined ? Math.ceil(check.holdUsd * NANO) : 0, c.mean ?? 0);
      // Admitted when what is left, beyond what calls in flight hold, covers this call's hold.
      const budget = Math.round(check.budgetUsd * NANO);
      if (period.spent + period.held >= budget || period.spent + period.held + hold > budget)
        return {
          ok: false,
          reason: "budget",
          spentUsd: period.spent / NANO,
          heldUsd: period.held / NANO,
          neededUsd: hold / NANO,
        };
      if (hold > 0) {
        period.held += hold;
        c.holds.set(check.holdId, { amount: hold, period: check.period ?? "total", expiresAt: now + this.#holdTtlMs });
      }
    }
    if (check.rpm !== undefined || check.tpm !== undefined) {
      c.window.push({ id: check.holdId, at: now, tokens: check.tokens });
      c.tokens += check.tokens;
    }
    return { ok: true, heldUsd: hold / NANO };
  }

  async settle(s: KeySettlement): Promise<void> {
    const c = this.#countersOf(s.keyId);
    const hold = c.holds.get(s.holdId);
    if (hold) {
      this.#period(c, hold.period).held -= hold.amount;
      c.holds.delete(s.holdId);
    }
    const cost = Math.max(0, Math.round(s.costUsd * NANO));
    const period = this.#period(c, s.period ?? "total");
    period.spent += cost;
    period.count += 1;
    c.mean = c.mean === undefined ? cost : Math.round(c.mean * 0.8 + cost * 0.2);
    if (s.tokens !== undefined) {
      const entry = c.window.find((e) => e.id === s.holdId);
      if (entry) {
        c.tokens += s.tokens - entry.tokens;
        entry.tokens = s.tokens;
      }
    }
    this.#recordSpend(s, cost);
  }

  #recordSpend(s: KeySettlement, cost: number): void {
    const hour = spendHour(new Date());
    let bucket = this.#spend.get(hour);
    if (!bucket) {
      bucket = new Map();
      this.#spend.set(hour, bucket);
      const oldest = spendHour(new Date(Date.now() - this.#retentionHours * HOUR_MS));
      for (const h of this.#spend.keys()) {
        if (h >= oldest) break;
        this.#spend.delete(h);
      }
    }
    const add = (by: SpendDimension, name: string | undefined) => {
      if (name === undefined) return;
      let rows = bucket.get(by);
      if (!rows) {
        rows = new Map();
        bucket.set(by, rows);
      }
      const row = rows.get(name) ?? { name, costUsd: 0, requests: 0, inputTokens: 0, outputTokens: 0 };
      row.costUsd += cost;
      row.requests += 1;
      row.inputTokens += s.inputTokens ?? 0;
      row.outputTokens += s.outputTokens ?? 0;
      rows.set(name, row);
    };
    add("key", s.keyId);
    add("model", s.model);
    add("user", s.user);
  }

  async spent(keyId: string, period: string): Promise<{ spentUsd: number; heldUsd: number }> {
    const p = this.#counters.get(keyId)?.periods.get(period);
    return { spentUsd: (p?.spent ?? 0) / NANO, heldUsd: (p?.held ?? 0) / NANO };
  }

  async spend(query: { by: SpendDimension; since: Date }): Promise<SpendRow[]> {
    const from = spendHour(query.since);
    const total = new Map<string, SpendRow>();
    for (const [hour, bucket] of this.#spend) {
      if (hour < from) continue;
      for (const row of bucket.get(query.by)?.values() ?? []) {
        const t = total.get(row.name) ?? { name: row.name, costUsd: 0, requests: 0, inputTokens: 0, outputTokens: 0 };
        t.costUsd += row.costUsd;
        t.requests += row.requests;
        t.inputTokens += row.inputTokens;
        t.outputTokens += row.outputTokens;
        total.set(row.name, t);
      }
    }
    return [...total.values()]
      .map((r) => ({ ...r, costUsd: r.costUsd / NANO }))
      .sort((a, b) => b.costUsd - a.costUsd || a.name.localeCompare(b.name));
  }

  /** Nothing to release: for the `KeyStore` contract. */
  async close(): Promise<void> {}
}
