// What the dashboard remembers, all in bounded rings: the last decisions (the feed), per-minute
// buckets per model (the charts), and the registry events of calls whose request has not finished
// yet. Listeners only keep references to the events the registry already built; summaries are made
// when a page or an SSE client asks, off the request path.
import type { OutcomeEvent, SelectionEvent } from "@orchestrator-ts/registry";
import type { RequestRecord } from "../contract";

/** One finished request and the registry's decisions behind it. */
export interface Decision {
  seq: number;
  at: number;
  record: RequestRecord;
  selections: SelectionEvent[];
  outcomes: OutcomeEvent[];
}

export interface MinuteBucket {
  /** Epoch minute. */
  minute: number;
  /** Per model (`(none)` for requests no model answered). */
  models: Map<string, { requests: number; errors: number; latencyMs: number; costUsd: number }>;
}

/** The endpoints whose requests are decisions (the API calls, not /v1/models or /admin). */
const DECISION_ENDPOINTS = new Set(["openai.chat", "openai.responses", "anthropic.messages", "library"]);

export class Activity {
  readonly feed: (Decision | undefined)[];
  #next = 0;
  #seq = 0;
  readonly buckets: (MinuteBucket | undefined)[];
  readonly #pending = new Map<string, { selections: SelectionEvent[]; outcomes: OutcomeEvent[] }>();
  readonly #maxPending: number;
  totals = { requests: 0, errors: 0, costUsd: 0, cacheHits: 0, cacheLookups: 0 };

  constructor(feedSize: number, minutes: number, maxPending = 2048) {
    this.feed = new Array(feedSize).fill(undefined);
    this.buckets = new Array(minutes).fill(undefined);
    this.#maxPending = maxPending;
  }

  onSelection(event: SelectionEvent): void {
    if (event.selectionId === undefined) return;
    this.#entry(event.selectionId).selections.push(event);
  }

  onOutcome(event: OutcomeEvent): void {
    this.#entry(event.selectionId).outcomes.push(event);
  }

  /** Returns the decision when the request is one (an API call), for the live feed. */
  onRequest(record: RequestRecord, now = Date.now(), selections?: SelectionEvent[]): Decision | undefined {
    if (!DECISION_ENDPOINTS.has(record.endpoint)) return undefined;
    const pending = record.selectionId === undefined ? undefined : this.#pending.get(record.selectionId);
    if (pending) this.#pending.delete(record.selectionId as string);
    const decision: Decision = {
      seq: ++this.#seq,
      at: now,
      record,
      selections: pending?.selections ?? selections ?? [],
      outcomes: pending?.outcomes ?? [],
    };
    this.feed[this.#next] = decision;
    this.#next = (this.#next + 1) % this.feed.length;
    const failed = record.status >= 400;
    const t = this.totals;
    t.requests++;
    if (failed) t.errors++;
    t.costUsd += record.costUsd ?? 0;
    if (record.cached !== undefined && !failed) {
      t.cacheLookups++;
      if (record.cached) t.cacheHits++;
    }
    const minute = Math.floor(now / 60_000);
    const slot = minute % this.buckets.length;
    let bucket = this.buckets[slot];
    if (bucket === undefined || bucket.minute !== minute) {
      bucket = { minute, models: new Map() };
      this.buckets[slot] = bucket;
    }
    const name = record.model ?? "(none)";
    let cell = bucket.models.get(name);
    if (cell === undefined) {
      cell = { requests: 0, errors: 0, latencyMs: 0, costUsd: 0 };
      bucket.models.set(name, cell);
    }
    cell.requests++;
    if (failed) cell.errors++;
    cell.latencyMs += record.latencyMs;
    cell.costUsd += record.costUsd ?? 0;
    return decision;
  }

  /** Newest first. */
  recent(limit = this.feed.length): Decision[] {
    const out: Decision[] = [];
    const n = this.feed.length;
    for (let i = 1; i <= n && out.length < limit; i++) {
      const d = this.feed[(this.#next - i + n) % n];
      if (d === undefined) break;
      out.push(d);
    }
    return out;
  }

  /** The last `minutes` buckets, oldest first, empty minutes included. */
  series(now = Date.now(), minutes = this.buckets.length): MinuteBucket[] {
    const last = Math.floor(now / 60_000);
    const out: MinuteBucket[] = [];
    for (let m = last - minutes + 1; m <= last; m++) {
      const b = this.buckets[m % this.buckets.length];
      out.push(b !== undefined && b.minute === m ? b : { minute: m, models: new Map() });
    }
    return out;
  }

  #entry(id: string): { selections: SelectionEvent[]; outcomes: OutcomeEvent[] } {
    let entry = this.#pending.get(id);
    if (entry === undefined) {
      // Calls that never end in a server request (library calls, cascades' inner stages) age out.
      if (this.#pending.size >= this.#maxPending) this.#pending.delete(this.#pending.keys().next().value as string);
      entry = { selections: [], outcomes: [] };
      this.#pending.set(id, entry);
    }
    if (entry.selections.length + entry.outcomes.length > 32) return { selections: [], outcomes: [] };
    return entry;
  }
}
