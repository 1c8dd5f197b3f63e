import { randomBytes } from "node:crypto";
import {
  type BudgetPeriod,
  type VirtualKeyLimits,
  type KeyStore,
  Secret,
  type SpendDimension,
  type SpendRow,
  type StaticKeyConfig,
  type VirtualKeyRecord,
  redact,
} from "@orchestrator-ts/core";
import { LruMap, budgetPeriodEnd, budgetPeriodId, withFields } from "@orchestrator-ts/core/internal";
import {
  type Admission,
  type AdmissionOutcome,
  type AdmissionRequest,
  type Caller,
  type Gatekeeper,
  GatewayError,
} from "../contract";
import { checkMasterKey, generateKey, generateKeyId, hashKey, sameDigest } from "./key-material";
import { MemoryKeyStore } from "./memory-key-store";

/** What creating a key takes (the admin API's body, camelCase). */
export interface NewKey extends VirtualKeyLimits {
  name: string;
}

/** A key as the admin API lists it: its record and this period's spend. */
export interface KeyView extends VirtualKeyRecord {
  /** The budget period now (`2026-12-03`, `2026-12`, `total`), when the key has a budget. */
  period?: string;
  spentUsd?: number;
  /** Held by calls in flight. */
  heldUsd?: number;
  /** ISO 8601: when the budget starts again (absent for `total`). */
  resetsAt?: string;
}

/** Options of `KeyGate`. */
export interface KeyGateOptions {
  /** Where keys and counters live. Default: this process's memory (`MemoryKeyStore`). */
  store?: KeyStore;
  /** `close()` closes the store too. Default: only the store it made itself. */
  ownsStore?: boolean;
  /** The admin key (`Caller.admin`). Default: `ORCHESTRATOR_MASTER_KEY`; none: no admin API. */
  masterKey?: string | Secret;
  /** Keys declared in the config (`keys:`): checked in memory, counted in the store. */
  keys?: readonly StaticKeyConfig[];
  /**
   * The most a request may cost, held against the key's budget while it runs, when the front gives
   * none (`estimatedCostUsd`). The hold is at least the key's mean cost per request.
   */
  estimateCostUsd?: (request: AdmissionRequest) => number | undefined;
  /** Told about a settlement the store could not record (the request itself already answered). */
  onError?: (error: unknown) => void;
}

const NO_KEY = "No API key: send it as `Authorization: Bearer <key>` (or `x-api-key`).";

/** The gate is open to what a key may do, closed to anything else. Implements the server's `Gatekeeper`. */
export class KeyGate implements Gatekeeper {
  readonly store: KeyStore;
  readonly #masterDigest: string | undefined;
  /** Static keys by the hash of their value. */
  readonly #static = new Map<string, VirtualKeyRecord>();
  /** Records of keys seen by `authenticate`, for `admit` (which gets only the caller). */
  readonly #recent = new LruMap<string, VirtualKeyRecord>(10_000);
  readonly #onError: (error: unknown) => void;
  readonly #estimate: ((request: AdmissionRequest) => number | undefined) | undefined;
  readonly #owned: boolean;

  constructor(options: KeyGateOptions = {}) {
    this.#owned = options.ownsStore ?? options.store === undefined;
    this.store = options.store ?? new MemoryKeyStore();
    const master = Secret.from(options.masterKey ?? process.env.ORCHESTRATOR_MASTER_KEY);
    checkMasterKey(master?.reveal());
    this.#masterDigest = master && hashKey(master.reveal());
    for (const k of options.keys ?? []) {
      const value = Secret.from(k.key)?.reveal();
      if (!value) continue;
      const record: VirtualKeyRecord = compact({
        id: `cfg_${k.name}`,
        name: k.name,
        createdAt: new Date(0).toISOString(),
        budgetUsd: k.budgetUsd,
        budgetPeriod: k.budgetUsd === undefined ? undefined : (k.budgetPeriod ?? "month"),
        rpm: k.rpm,
        tpm: k.tpm,
        models: k.models && [...k.models],
        metadata: k.metadata && { ...k.metadata },
        source: "config" as const,
      });
      this.#static.set(hashKey(value), record);
    }
    this.#onError = options.onError ?? (() => undefined);
    this.#estimate = options.estimateCostUsd;
  }

  /** True when a master key is set (the admin API answers). */
  get hasMasterKey(): boolean {
    return this.#masterDigest !== undefined;
  }

  async authenticate(rawKey: string | undefined): Promise<Caller> {
    if (rawKey === undefined || rawKey.trim() === "")
      throw new GatewayError(401, "authentication_error", NO_KEY, { code: "missing_api_key" });
    const digest = hashKey(rawKey.trim());
    if (this.#masterDigest !== undefined && sameDigest(digest, this.#masterDigest))
      return { admin: true, keyName: "master" };
    const record = this.#static.get(digest) ?? (await this.#find(digest));
    if (!record) throw new GatewayError(401, "authentication_error", "Unknown API key.", { code: "invalid_api_key" });
    if (record.revokedAt !== undefined)
      throw new GatewayError(
        401,
        "authentication_error",
        `The API key "${record.name}" was revoked at ${record.revokedAt}.`,
        { code: "revoked_api_key" },
      );
    this.#recent.set(record.id, record);
    const caller: Caller = { keyId: record.id, keyName: record.name };
    if (record.models) caller.models = record.models;
    return caller;
  }

  async #find(digest: string): Promise<VirtualKeyRecord | undefined> {
    try {
      return await this.store.findByHash(digest);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async admit(caller: Caller, request: AdmissionRequest): Promise<Admission> {
    if (caller.keyId === undefined) return OPEN;
    const record =
      this.#recent.get(caller.keyId) ??
      (await this.store.get(caller.keyId).catch((e) => Promise.reject(unavailable(e))));
    if (!record) throw new GatewayError(401, "authentication_error", "Unknown API key.", { code: "invalid_api_key" });
    if (record.models && !record.models.includes(request.model)) {
      throw new GatewayError(
        403,
        "permission_error",
        `The key "${record.name}" may not use "${request.model}" (it may use: ${record.models.join(", ")}).`,
        { code: "model_not_allowed", param: "model" },
      );
    }
    let tokens = Math.max(0, Math.ceil(request.estimatedTokens ?? 0));
    // Without max_tokens the answer may be as long as the model allows: a tpm counts that, and when
    // that is more than the key may use in a minute, the answer is capped to what is left of it.
    let cap: number | undefined;
    const capable =
      record.tpm !== undefined && request.maxOutputTokens === undefined && request.promptTokens !== undefined;
    const prompt = capable ? Math.max(0, Math.ceil(request.promptTokens as number)) : 0;
    if (record.tpm !== undefined && capable) {
      const room = record.tpm - prompt;
      const longest = request.longestAnswerTokens;
      if (longest !== undefined && longest <= room) tokens = prompt + longest;
      else {
        // No larger than what every reachable model takes as max_tokens, nor than the minute.
        cap = Math.max(1, Math.min(room, request.safeAnswerTokens ?? room));
        tokens = prompt + cap;
      }
    }
    if (record.tpm !== undefined && tokens > record.tpm) {
      throw new GatewayError(
        400,
        "invalid_request_error",
        `This request may use up to ${tokens} tokens, more than the key "${record.name}" may use in a minute (tpm ${record.tpm}): lower max_tokens or shorten the prompt.`,
        { code: "tokens_exceed_tpm", param: "max_tokens" },
      );
    }
    const now = new Date();
    const periodKind = record.budgetPeriod ?? "month";
    const period = record.budgetUsd === undefined ? undefined : budgetPeriodId(periodKind, now);
    const holdUsd =
      request.estimatedCostUsd ??
      (record.budgetUsd === undefined
        ? undefined
        : this.#estimate?.(record.models ? withFields(request, { allowed: record.models }) : request));
    if (record.budgetUsd !== undefined && holdUsd !== undefined && holdUsd > record.budgetUsd)
      // It could never be admitted, not even after the budget resets: a 400, as a request over the whole tpm is.
      throw new GatewayError(
        400,
        "invalid_request_error",
        `This request may cost up to ${usd(holdUsd)}, more than the whole ${PERIOD_WORD[periodKind]} budget of the key "${record.name}" (${usd(record.budgetUsd)}): ${request.maxOutputTokens === undefined ? "set max_tokens (the hold otherwise covers the longest answer the model allows)" : "lower max_tokens"} or shorten the prompt.`,
        { code: "cost_exceeds_budget", param: "max_tokens" },
      );
    const holdId = randomBytes(12).toString("base64url");
    let verdict: Awaited<ReturnType<KeyStore["admit"]>>;
    const ask = (tokens: number) =>
      this.store
        .admit(
          compact({
            keyId: record.id,
            holdId,
            rpm: record.rpm,
            tpm: record.tpm,
            tokens,
            budgetUsd: record.budgetUsd,
            period,
            holdUsd,
          }),
        )
        .catch((error: unknown) => Promise.reject(unavailable(error)));
    verdict = await ask(tokens);
    // Without max_tokens, what is left of the minute may still hold a shorter answer: asked once more for that.
    if (!verdict.ok && verdict.reason === "tpm" && capable && record.tpm !== undefined) {
      const left = record.tpm - verdict.used - prompt;
      if (left >= 1 && left < tokens - prompt) {
        cap = left;
        tokens = prompt + left;
        verdict = await ask(tokens);
      }
    }
    if (!verdict.ok) {
      if (verdict.reason === "budget") throw budgetError(record, periodKind, period as string, verdict, now);
      const retryAfterMs = Math.max(1, verdict.retryAfterMs);
      const what =
        verdict.reason === "rpm"
          ? `${record.rpm} requests per minute`
          : `${record.tpm} tokens per minute (${verdict.used} counted in the last minute, this request needs ${tokens})`;
      throw new GatewayError(
        429,
        "rate_limit_error",
        `The key "${record.name}" is over its limit of ${what}; retry in ${Math.ceil(retryAfterMs / 1000)} s.`,
        { code: verdict.reason === "rpm" ? "rpm_exceeded" : "tpm_exceeded", retryAfterMs },
      );
    }
    let settled = false;
    const keyId = record.id;
    return {
      ...(cap === undefined ? {} : { maxOutputTokens: cap }),
      settle: async (outcome: AdmissionOutcome) => {
        if (settled) return;
        settled = true;
        const tokensUsed =
          outcome.inputTokens !== undefined || outcome.outputTokens !== undefined
            ? (outcome.inputTokens ?? 0) + (outcome.outputTokens ?? 0)
            : undefined;
        try {
          await this.store.settle(
            compact({
              keyId,
              holdId,
              period,
              costUsd: outcome.costUsd ?? 0,
              tokens: tokensUsed,
              inputTokens: outcome.inputTokens,
              outputTokens: outcome.outputTokens,
              model: outcome.model,
              user: caller.user,
            }),
          );
        } catch (error) {
          this.#onError(error);
        }
      },
    };
  }

  /** Creates a key; the raw key is in the answer only (it is stored as its hash). */
  async createKey(input: NewKey): Promise<{ key: string; record: VirtualKeyRecord }> {
    const key = generateKey();
    const record: VirtualKeyRecord = compact({
      id: generateKeyId(),
      name: input.name,
      createdAt: new Date().toISOString(),
      budgetUsd: input.budgetUsd,
      budgetPeriod: input.budgetUsd === undefined ? undefined : (input.budgetPeriod ?? "month"),
      rpm: input.rpm,
      tpm: input.tpm,
      models: input.models,
      metadata: input.metadata,
      source: "api" as const,
    });
    await this.store.create(record, hashKey(key));
    return { key, record };
  }

  /** Every key (static ones first) with this period's spend. */
  async listKeys(): Promise<KeyView[]> {
    const records = [
      ...this.#static.values(),
      ...(await this.store.list()).sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    ];
    const now = new Date();
    return Promise.all(records.map((r) => this.#view(r, now)));
  }

  /** One key with this period's spend (a `keys:` key too). */
  async getKey(id: string): Promise<KeyView | undefined> {
    const record = [...this.#static.values()].find((r) => r.id === id) ?? (await this.store.get(id));
    return record && this.#view(record, new Date());
  }

  async #view(record: VirtualKeyRecord, now: Date): Promise<KeyView> {
    if (record.budgetUsd === undefined) return { ...record };
    const kind = record.budgetPeriod ?? "month";
    const period = budgetPeriodId(kind, now);
    const { spentUsd, heldUsd } = await this.store.spent(record.id, period);
    const end = budgetPeriodEnd(kind, now);
    return compact({ ...record, period, spentUsd, heldUsd, resetsAt: end?.toISOString() });
  }

  /** Revokes a key made through the API (a config key is removed from the config instead). */
  async revokeKey(id: string): Promise<VirtualKeyRecord | undefined> {
    const record = await this.store.revoke(id, new Date().toISOString());
    if (record) this.#recent.delete(id);
    return record;
  }

  /** True for a key declared in the config (`keys:`), which the API does not revoke. */
  isStaticKey(id: string): boolean {
    return [...this.#static.values()].some((r) => r.id === id);
  }

  /** Spend since `since` by key, model or user, most first. */
  spend(query: { by: SpendDimension; since: Date }): Promise<SpendRow[]> {
    return this.store.spend(query);
  }

  /** Closes the store when the gate owns it (it made it, or `ownsStore`). */
  async close(): Promise<void> {
    if (this.#owned) await this.store.close();
  }
}

const OPEN: Admission = { settle: async () => undefined };

/** Dollars as a person reads them: cents from $1 up, every significant digit (to the nano-dollar) below. */
function usd(value: number): string {
  if (value >= 1) return `$${value.toFixed(2)}`;
  const text = value.toFixed(9).replace(/0+$/, "");
  return `$${text.length - text.indexOf(".") - 1 < 2 ? Number(text).toFixed(2) : text}`;
}

const PERIOD_WORD: Readonly<Record<BudgetPeriod, string>> = { day: "daily", month: "monthly", total: "total" };

function budgetError(
  record: VirtualKeyRecord,
  kind: BudgetPeriod,
  period: string,
  verdict: { spentUsd: number; heldUsd: number; neededUsd: number },
  now: Date,
): GatewayError {
  const end = budgetPeriodEnd(kind, now);
  const budget = record.budgetUsd as number;
  const label = kind === "total" ? "total budget" : `${PERIOD_WORD[kind]} budget (UTC ${kind} ${period})`;
  const inFlight = verdict.heldUsd > 0 ? ` and ${usd(verdict.heldUsd)} held by calls in flight` : "";
  const left = budget - verdict.spentUsd - verdict.heldUsd;
  const short =
    left > 1e-9 ? `: ${usd(left)} is left, less than this request may cost (${usd(verdict.neededUsd)})` : "";
  const when = end ? `It resets at ${end.toISOString()}.` : "It does not reset: raise it or use another key.";
  const message = `The key "${record.name}" has used its ${label} of ${usd(budget)}: ${usd(verdict.spentUsd)} spent${inFlight}${short}. ${when}`;
  const headers: Record<string, string> = {};
  if (end) headers["x-orchestrator-budget-resets-at"] = end.toISOString();
  return new GatewayError(429, "budget_exceeded", message, {
    code: "budget_exceeded",
    headers,
    ...(end ? { retryAfterMs: end.getTime() - now.getTime() } : {}),
  });
}

function unavailable(error: unknown): GatewayError {
  if (GatewayError.isInstance(error)) return error as GatewayError;
  const reason = redact(error instanceof Error ? error.message : String(error));
  return new GatewayError(503, "api_error", `The key store is unavailable (${reason}); try again shortly.`, {
    code: "key_store_unavailable",
    retryAfterMs: 1_000,
    cause: error,
  });
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
