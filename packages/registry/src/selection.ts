import {
  type CandidateScore,
  ConfigError,
  type GenerateRequest,
  type HealthState,
  type HealthTracker,
  type ModelSelector,
  NoEligibleModelError,
  type NormalizedRequirements,
  REFERENCE_REQUEST,
  type SelectionContext,
  type StatsStore,
  estimateRequestTokens,
} from "@orchestrator-ts/core";
import { type Entry, excludeFor, exclusionReasons, meetsRequirements } from "./eligibility";
import type { Emitter, RegistryEvents } from "./events";
import type { CandidateExplanation, SelectionExplanation } from "./explanation";
import { abortableSleep } from "./sleep";

// One selection: filter the registered models, then let a fallback chain or the selector choose.

/** The `from` of a chain that sends a cached request back to the model that answered it. */
export const AFFINITY = "\u0000cache";
/** The `from` of the chain of a request for a model by name (`route: "<model>"`, a cascade's stage model). */
export const PIN = "\u0000pin";

/** Models tried, in order, before the selector: an explicit `fallbacks` entry, or cache affinity. */
export interface FallbackChain {
  /** Whose chain it is: the failed model's name, or `AFFINITY`. */
  from: string;
  names: readonly string[];
}

/** What one selection is asked. A `CallState` is one (no object per selection on the call path). */
export interface SelectionQuery {
  readonly requirements: NormalizedRequirements;
  readonly request: GenerateRequest | undefined;
  /** Models already tried in this call. */
  readonly tried?: ReadonlySet<string> | undefined;
  /** After a `ContextLengthError`: only models with a larger window than this. 0 for none. */
  readonly minWindowAbove?: number;
  readonly chain?: FallbackChain | undefined;
  /** The call's id, passed to the selector so it can pair its decision with the outcome. */
  readonly selectionId?: string | undefined;
  /** A route's own selector, in place of the registry's. */
  readonly selector?: ModelSelector | undefined;
  /** Only the chain's models may answer (a request for a model by name): the selector is never asked. */
  readonly pinned?: boolean;
}

export interface Picked {
  entry: Entry;
  /** Set when the selection was asked to explain itself. */
  explanation: SelectionExplanation | undefined;
}

export interface SelectionOptions {
  readonly selector: ModelSelector;
  readonly statsStore: StatsStore;
  readonly health: HealthTracker;
  readonly events: Emitter<RegistryEvents>;
  readonly unhealthyPolicy: "exclude" | "least-bad";
  readonly taskMinTrials: number;
  readonly waitForCapacityMs: number;
}

const HEALTH_RANK: Record<HealthState, number> = { healthy: 0, unknown: 0, degraded: 1, unhealthy: 2 };

/**
 * The registered models and how one is chosen for a request. Synchronous and cheap: the
 * candidate list, the entries' scratch fields and the selector's context are reused by every
 * selection (selection never runs twice at once).
 */
export class Selection {
  readonly selector: ModelSelector;
  readonly statsStore: StatsStore;
  readonly health: HealthTracker;
  readonly entries: Entry[] = [];
  readonly byName = new Map<string, Entry>();
  readonly #events: Emitter<RegistryEvents>;
  readonly #unhealthyPolicy: "exclude" | "least-bad";
  readonly #taskMinTrials: number;
  readonly #waitForCapacityMs: number;
  readonly #candidates: Entry[] = [];
  readonly #context: {
    selectionId: string | undefined;
    request: GenerateRequest | undefined;
    task: string | undefined;
    requirements: NormalizedRequirements;
    taskMinTrials: number;
    explain: boolean;
    statsStore: StatsStore;
  };

  constructor(options: SelectionOptions) {
    this.selector = options.selector;
    this.statsStore = options.statsStore;
    this.health = options.health;
    this.#events = options.events;
    this.#unhealthyPolicy = options.unhealthyPolicy;
    this.#taskMinTrials = options.taskMinTrials;
    this.#waitForCapacityMs = options.waitForCapacityMs;
    this.#context = {
      selectionId: undefined,
      request: undefined,
      task: undefined,
      requirements: {},
      taskMinTrials: options.taskMinTrials,
      explain: false,
      statsStore: options.statsStore,
    };
  }

  // ---- the registered models ---------------------------------------------------------------

  add(entry: Entry): void {
    this.entries.push(entry);
    this.byName.set(entry.model.name, entry);
  }

  remove(entry: Entry): void {
    const i = this.entries.indexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
    this.entries.forEach((e, order) => {
      e.order = order;
    });
    this.byName.delete(entry.model.name);
  }

  // ---- one selection -----------------------------------------------------------------------

  /** One decision outside a call (`selectModel`, `explainSelection`), announced to `selection` listeners. */
  decide(query: SelectionQuery, explain: boolean): Picked | undefined {
    const picked = this.pick(query, explain);
    if (picked && this.#events.has("selection"))
      this.#events.emit("selection", {
        selectionId: undefined,
        model: picked.entry.model.name,
        task: query.request?.task,
        explanation: explain ? (picked.explanation as SelectionExplanation) : undefined,
        fallback: 0,
      });
    return picked;
  }

  /** Filter, then ask the chain or the selector. `undefined` when nothing is eligible (see `noEligible`). */
  pick(query: SelectionQuery, explain: boolean): Picked | undefined {
    const counts = this.#eligible(query);
    const candidates = this.#candidates;
    if (candidates.length === 0 && counts.unhealthy > 0 && this.#unhealthyPolicy === "least-bad")
      this.#leastBad(candidates);
    if (candidates.length === 0) return undefined;
    const request = query.request;
    const task = request?.task;
    for (const e of candidates) this.#fillStats(e, task);
    if (query.chain) {
      const picked = this.#fromChain(query, query.chain, explain);
      if (picked) return picked;
    }
    if (query.pinned) return undefined;
    const selector = query.selector ?? this.selector;
    // The selection id lets a contextual selector match this decision's features to its outcome.
    const choice = selector.select(candidates, this.#ctx(query, explain));
    const index = choice?.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= candidates.length) {
      throw new ConfigError(
        [
          {
            path: "modelSelector",
            message: `selector "${selector.name}" returned index ${String(index)} for ${candidates.length} candidates`,
          },
        ],
        { title: "Invalid selector result" },
      );
    }
    const entry = candidates[index] as Entry;
    if (!explain) return { entry, explanation: undefined };
    const scores = choice.scores;
    const list: CandidateExplanation[] = candidates.map((c, i) => {
      const s: CandidateScore = scores?.[i] ?? { score: Number.NaN, note: "the selector reported no score" };
      return {
        model: c.model.name,
        provider: c.model.provider,
        estimatedCostUsd: c.estimatedCostUsd,
        statsScope: c.statsScope,
        pending: c.pending,
        chosen: i === index,
        ...s,
      };
    });
    return {
      entry,
      explanation: {
        model: entry.model,
        selector: selector.name,
        task,
        candidates: list,
        excluded: this.reasons(query.requirements, undefined, selector),
      },
    };
  }

  /**
   * `pick` for a call: waits (polling 5 → 100 ms, up to `waitForCapacityMs`) while every eligible
   * model is at its limits, and counts the chosen model in flight from the moment it is chosen,
   * so concurrent selections made before this call's continuation runs already see it (the call
   * releases it when its attempts on that model end). `waiter.waitSignal()` ends the wait.
   */
  async pickForCall(
    query: SelectionQuery,
    waiter: { waitSignal(): AbortSignal | undefined },
  ): Promise<Picked | undefined> {
    const started = performance.now();
    let delayMs = 5;
    for (;;) {
      const picked = this.pick(query, true);
      if (picked) {
        picked.entry.pending++;
        return picked;
      }
      const waited = performance.now() - started;
      if (!this.anySaturated() || waited >= this.#waitForCapacityMs) return undefined;
      await abortableSleep(Math.min(delayMs, this.#waitForCapacityMs - waited), waiter.waitSignal());
      delayMs = Math.min(delayMs * 2, 100);
    }
  }

  /** Whether the last selection left a model out only for being at its limits. */
  anySaturated(): boolean {
    return this.entries.some((e) => e.code === "saturated");
  }

  /** The error for a selection that found nothing: every model's current reason (`waitedMs` when it waited for capacity). */
  noEligible(query: SelectionQuery, waitedMs?: number): NoEligibleModelError {
    // Run the filters again so every model's reason is current.
    this.#eligible(query);
    const excluded = this.reasons(query.requirements, undefined, query.selector ?? this.selector);
    if (waitedMs !== undefined) {
      const detail = excluded.map((e) => `${e.model}: ${e.reason}`).join("; ");
      return new NoEligibleModelError(
        excluded,
        `Every eligible model stayed at its request limits for ${Math.round(waitedMs)} ms (${detail}).`,
      );
    }
    return new NoEligibleModelError(excluded);
  }

  /** Why each model is left out, as of the last selection (`refresh` runs the filters again first). */
  reasons(
    requirements: NormalizedRequirements,
    refresh?: SelectionQuery,
    selector: ModelSelector = refresh?.selector ?? this.selector,
  ) {
    if (refresh) this.#eligible(refresh);
    return exclusionReasons(this.entries, requirements, selector.name);
  }

  /** Read the health tracker's answer for `e` and emit a `health` event when it changed. */
  observeHealth(e: Entry, availability = this.health.availability(e.model.name)): void {
    const status = availability.status;
    e.healthStatus = status;
    if (e.lastHealth === status) return;
    const first = e.lastHealth === undefined;
    e.lastHealth = status;
    if (!first || status !== "unknown")
      this.#events.emit("health", {
        model: e.model.name,
        status,
        available: availability.available,
        reason: availability.reason,
      });
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Fill the candidate list; returns how many were excluded only by health and by limits. */
  #eligible(query: SelectionQuery): { unhealthy: number; saturated: number } {
    const out = this.#candidates;
    out.length = 0;
    let unhealthy = 0;
    let saturated = 0;
    const { requirements, request } = query;
    const tried = query.tried;
    const minWindowAbove = query.minWindowAbove ?? 0;
    const promptTokens = request ? estimateRequestTokens(request) : REFERENCE_REQUEST.inputTokens;
    const selector = query.selector ?? this.selector;
    const health = this.health;
    const reportsOnly = health.reportsOnly === true;
    for (const e of this.entries) {
      if (!meetsRequirements(e, requirements, promptTokens, request, tried, minWindowAbove)) continue;
      if (selector.exclude) {
        this.#fillStats(e, request?.task);
        const reason = selector.exclude(e, this.#ctx(query, false));
        if (reason !== undefined) {
          excludeFor(e, "selector", reason);
          continue;
        }
      }
      // A tracker that only reports is read after outcomes (observeHealth), not per candidate.
      if (!reportsOnly) {
        const availability = health.availability(e.model.name);
        this.observeHealth(e, availability);
        if (!availability.available) {
          excludeFor(e, "unhealthy", availability.reason);
          unhealthy++;
          continue;
        }
      }
      // Calls already chosen for this model but not started yet (a burst selected in one tick) count as
      // taking their slots: without them every call of the burst saw the model free and queued on it.
      const limiter = e.model.rateLimiter;
      const starting = e.pending - limiter.inFlight;
      if (starting > 0 && limiter.isSaturatedWith ? limiter.isSaturatedWith(starting) : limiter.isSaturated()) {
        excludeFor(e, "saturated");
        saturated++;
        continue;
      }
      out.push(e);
    }
    return { unhealthy, saturated };
  }

  /** `unhealthyPolicy: "least-bad"`: the best health state among the unhealthy-only exclusions, if not at their limits. */
  #leastBad(candidates: Entry[]): void {
    let rank = 3;
    for (const e of this.entries)
      if (e.code === "unhealthy" && !e.model.rateLimiter.isSaturated())
        rank = Math.min(rank, HEALTH_RANK[e.healthStatus]);
    for (const e of this.entries) {
      if (e.code === "unhealthy" && HEALTH_RANK[e.healthStatus] === rank && !e.model.rateLimiter.isSaturated()) {
        e.code = undefined;
        candidates.push(e);
      }
    }
  }

  /** An explicit fallback chain decides before the selector: its first eligible model. */
  #fromChain(query: SelectionQuery, chain: FallbackChain, explain: boolean): Picked | undefined {
    const candidates = this.#candidates;
    for (const name of chain.names) {
      const index = candidates.findIndex((c) => c.model.name === name);
      if (index < 0) continue;
      const entry = candidates[index] as Entry;
      if (!explain) return { entry, explanation: undefined };
      const affinity = chain.from === AFFINITY;
      const pin = chain.from === PIN;
      const list: CandidateExplanation[] = candidates.map((c, i) => ({
        model: c.model.name,
        provider: c.model.provider,
        estimatedCostUsd: c.estimatedCostUsd,
        statsScope: c.statsScope,
        pending: c.pending,
        chosen: i === index,
        score: Number.NaN,
        note: pin
          ? i === index
            ? `requested by name (fallbacks: ${chain.names.slice(1).join(" → ") || "none"})`
            : "not scored: a model was requested by name"
          : affinity
            ? i === index
              ? "answered this request before: its cached answer is reused"
              : "not scored: a cached answer exists"
            : i === index
              ? `explicit fallback for "${chain.from}" (fallbacks: ${chain.names.join(" → ")})`
              : "not scored: an explicit fallback was chosen",
      }));
      const selectorName = (query.selector ?? this.selector).name;
      const explanation: SelectionExplanation = {
        model: entry.model,
        selector: selectorName,
        task: query.request?.task,
        candidates: list,
        excluded: this.reasons(query.requirements, undefined, query.selector ?? this.selector),
      };
      if (!affinity && !pin) explanation.fallbackFor = chain.from;
      return { entry, explanation };
    }
    return undefined;
  }

  #fillStats(e: Entry, task: string | undefined): void {
    const store = this.statsStore;
    const overall = store.get(e.model.name);
    e.overall = overall;
    e.stats = overall;
    e.statsScope = undefined;
    if (task !== undefined) {
      const scoped = store.get(e.model.name, task);
      if (scoped && scoped.trials >= this.#taskMinTrials) {
        e.stats = scoped;
        e.statsScope = task;
      }
    }
  }

  #ctx(query: SelectionQuery, explain: boolean): SelectionContext {
    const ctx = this.#context;
    ctx.selectionId = query.selectionId;
    ctx.request = query.request;
    ctx.task = query.request?.task;
    ctx.requirements = query.requirements;
    ctx.explain = explain;
    return ctx;
  }
}
