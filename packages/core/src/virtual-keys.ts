// The contract between a gateway's key gate and where its keys, counters and spend live (one
// process's memory, or Redis shared by a fleet). The raw key never crosses it: only its hash.

/** When a key's budget starts again: each UTC calendar day, each UTC calendar month, or never. */
export type BudgetPeriod = "day" | "month" | "total";

/** What a key may do: its budget, rate limits and models — the same for API-made and YAML keys. */
export interface VirtualKeyLimits {
  /** Most the key may spend per `budgetPeriod`, in USD. */
  budgetUsd?: number;
  /** Default `"month"` when a budget is set. */
  budgetPeriod?: BudgetPeriod;
  /** Requests admitted in any sliding 60 s. */
  rpm?: number;
  /** Tokens (prompt estimate + output) in any sliding 60 s. */
  tpm?: number;
  /** Model and route names the key may ask for; undefined = all. */
  models?: string[];
  metadata?: Record<string, string>;
}

/** A virtual key as stored: everything but the key itself (only its SHA-256 is kept). */
export interface VirtualKeyRecord extends VirtualKeyLimits {
  /** Stable id (`key_…`); what logs, metrics and the admin API name the key by. */
  id: string;
  name: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, once revoked. */
  revokedAt?: string;
  /** `"config"` for keys declared in YAML (not revocable through the API), `"api"` otherwise. */
  source?: "api" | "config";
}

/**
 * What one admission asks of a key's counters, atomically. A request is admitted when the budget,
 * less what is spent and what calls in flight hold, covers its hold: with holds that cover each
 * call's cost the budget is never exceeded, and with smaller ones by no more than the shortfall.
 */
export interface KeyAdmissionCheck {
  keyId: string;
  /** Unique per request: names the hold that `settle` later adjusts. */
  holdId: string;
  rpm?: number;
  tpm?: number;
  /** Tokens to count against tpm now (settled to the real number later). */
  tokens: number;
  budgetUsd?: number;
  /** The budget period this request is charged to (`2026-12-03`, `2026-12`, `total`). */
  period?: string;
  /** Cost to hold against the budget until the call settles; the key's mean cost per request when that is more. */
  holdUsd?: number;
}

/** Why an admission was refused, with what the message needs. */
export type KeyAdmissionVerdict =
  | { ok: true; heldUsd: number }
  | { ok: false; reason: "rpm" | "tpm"; retryAfterMs: number; used: number }
  | {
      ok: false;
      reason: "budget";
      spentUsd: number;
      heldUsd: number /** What this request would have held. */;
      neededUsd: number;
    };

/** What the end of one admitted request tells the store: its hold to release and what it really cost. */
export interface KeySettlement {
  keyId: string;
  holdId: string;
  period?: string;
  /** Real cost (0 when nothing was generated). */
  costUsd: number;
  /** Real tokens, when known: replaces the estimate counted against tpm. */
  tokens?: number;
  inputTokens?: number;
  outputTokens?: number;
  model?: string;
  user?: string;
}

/** What spend is grouped by: the key (its id), the model that answered, or the end user the client named. */
export type SpendDimension = "key" | "model" | "user";

/** Spend of one key, model or user over a span of time. */
export interface SpendRow {
  /** The key id, model name or user. */
  name: string;
  costUsd: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * Where virtual keys and their counters live. `admit` and `settle` are atomic per key across
 * every process sharing the store.
 */
export interface KeyStore {
  /** Stores a new key under the SHA-256 (hex) of its raw value. */
  create(record: VirtualKeyRecord, keyHash: string): Promise<void>;
  /** The key whose raw value hashes to `keyHash`. */
  findByHash(keyHash: string): Promise<VirtualKeyRecord | undefined>;
  /** The key with this id, revoked or not. */
  get(id: string): Promise<VirtualKeyRecord | undefined>;
  /** Every key made through the store, revoked ones included. */
  list(): Promise<VirtualKeyRecord[]>;
  /** Marks it revoked; returns the updated record (undefined: no such key). */
  revoke(id: string, at: string): Promise<VirtualKeyRecord | undefined>;
  /** Counts the request against rpm and tpm and holds its cost against the budget, or says which limit refuses it. */
  admit(check: KeyAdmissionCheck): Promise<KeyAdmissionVerdict>;
  /** Exactly once per admitted request: releases its hold, charges the real cost, records spend. */
  settle(settlement: KeySettlement): Promise<void>;
  /** Spent in a period (settled, and held by calls in flight). */
  spent(keyId: string, period: string): Promise<{ spentUsd: number; heldUsd: number }>;
  /** Spend since `since` (hour precision), per key, model or user, most first. */
  spend(query: { by: SpendDimension; since: Date }): Promise<SpendRow[]>;
  /** Releases the store's connections. */
  close(): Promise<void>;
}

/** The budget period a moment falls in: `2026-12-03` (day), `2026-12` (month), `total`. */
export function budgetPeriodId(period: BudgetPeriod, at: Date): string {
  const iso = at.toISOString();
  return period === "day" ? iso.slice(0, 10) : period === "month" ? iso.slice(0, 7) : "total";
}

/** When the period that holds `at` ends (the next UTC midnight or month start); undefined for `total`. */
export function budgetPeriodEnd(period: BudgetPeriod, at: Date): Date | undefined {
  if (period === "day") return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1));
  if (period === "month") return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return undefined;
}

/** The UTC hour a moment falls in, as the spend buckets name it: `2026-12-03T21`. */
export function spendHour(at: Date): string {
  return at.toISOString().slice(0, 13);
}
