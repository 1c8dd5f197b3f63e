import {
  AbortError,
  AuthenticationError,
  ContextLengthError,
  type GenerateRequest,
  type ModelSelector,
  NoEligibleModelError,
  type NormalizedRequirements,
  type OrchestratorError,
  RateLimitError,
  type SelectionRequirements,
} from "@orchestrator-ts/core";
import { toOrchestratorError, withFields } from "@orchestrator-ts/core/internal";
import type { CacheAffinity } from "./cache-affinity";
import type { Entry } from "./eligibility";
import type { CascadeCallTag, Emitter, RegistryEvents } from "./events";
import type { SelectionExplanation } from "./explanation";
import type { ResolvedOptions } from "./options";
import type { AttemptOf, Outcomes } from "./outcomes";
import { AFFINITY, type FallbackChain, PIN, type SelectionQuery, type Selection } from "./selection";
import type { AttemptRecord } from "./types";

// The call loop's state and its one decision. `generate` and `stream` both run
//   select → attempt → (success: record, done) | (failure: record, then retry / fallback / throw)
// on a CallState; only how an attempt runs differs (one promise, or a stream of chunks).

/** What a call needs of its registry. One object per registry, shared by its calls. */
export interface CallLoop {
  readonly selection: Selection;
  readonly outcomes: Outcomes;
  readonly events: Emitter<RegistryEvents>;
  readonly affinity: CacheAffinity | undefined;
  readonly options: ResolvedOptions;
}

/** Who runs the call, when it can stop waiting early (a stream's `return()`). */
export interface CallOwner {
  /** The caller left: a selection made while waiting is released at once. */
  readonly closed: boolean;
  /** What a wait (backoff, capacity) listens to. */
  waitSignal(): AbortSignal | undefined;
}

/** How a route narrows a call: its own selector, or one model asked by name. */
export interface CallOptions {
  /** A route's own selector, in place of the registry's. */
  readonly selector?: ModelSelector | undefined;
  /** Only this model answers (a request for it by name, a cascade's stage model); the selector is never asked. */
  readonly pin?: string | undefined;
  /** With `pin`: whether the model's configured `fallbacks` may answer when it fails. Default true. */
  readonly pinFallbacks?: boolean;
  /** A cascade's stage call (set only while someone listens to `cascade` events): named in its `call` event. */
  readonly cascade?: CascadeCallTag | undefined;
}

const NO_OPTIONS: CallOptions = Object.freeze({});

/** What follows a failed attempt. */
export type NextStep = "retry" | "fallback" | "throw";

let selectionCounter = 0;
const SELECTION_PREFIX = `sel_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}_`;

export function nextSelectionId(): string {
  selectionCounter++;
  return SELECTION_PREFIX + selectionCounter.toString(36);
}

/**
 * One registry call: what it was asked, what it tried, where it stands. A `SelectionQuery`
 * itself, so each selection of the call allocates no query. A route that runs several models
 * (a cascade) runs one CallState per step.
 */
export class CallState implements SelectionQuery, AttemptOf {
  readonly selectionId: string = nextSelectionId();
  readonly request: GenerateRequest;
  /** The request as sent to models: with the registry's deadline when it has one and the request none. */
  readonly callRequest: GenerateRequest;
  readonly requirements: NormalizedRequirements;
  readonly selector: ModelSelector;
  /** Every attempt so far, with what followed it. */
  readonly attempts: AttemptRecord[] = [];
  /** Models that failed in this call (never selected again by it). */
  tried: Set<string> | undefined;
  /** Models to try before the selector: the failed model's `fallbacks`, or the one that answered this request before. */
  chain: FallbackChain | undefined;
  /** After a `ContextLengthError`: only models with a larger window than this one. */
  minWindowAbove = 0;
  /** Other models tried so far (0 for the first choice). */
  fallback = 0;
  /** Retries on the current model. */
  retry = 0;
  /** Attempts in the call, from 1. */
  attempt = 0;
  /** The model of the current attempt. */
  entry: Entry | undefined;
  explanation: SelectionExplanation | undefined;
  lastError: OrchestratorError | undefined;
  /** The backoff before the retry `afterFailure` decided. */
  delayMs = 0;
  /** `performance.now()` when the current attempt started. */
  startedAt = 0;
  /** Only the chain's models may answer: a model asked for by name. */
  readonly pinned: boolean;
  readonly #pinFallbacks: boolean;
  readonly #loop: CallLoop;
  readonly #affinityKey: string | undefined;
  readonly #owner: CallOwner | undefined;
  readonly #cascade: CascadeCallTag | undefined;
  /** The model this call counts in flight (`Entry.pending`), from its selection until its attempts end. */
  #held: Entry | undefined;

  constructor(
    loop: CallLoop,
    request: GenerateRequest,
    requirements: NormalizedRequirements,
    raw: SelectionRequirements | undefined,
    owner?: CallOwner,
    options: CallOptions = NO_OPTIONS,
  ) {
    this.#loop = loop;
    this.#owner = owner;
    this.#cascade = options.cascade;
    this.request = request;
    this.requirements = requirements;
    this.selector = options.selector ?? loop.selection.selector;
    const timeoutMs = loop.options.timeoutMs;
    this.callRequest =
      timeoutMs !== undefined && request.timeoutMs === undefined ? withFields(request, { timeoutMs }) : request;
    const pin = options.pin;
    this.pinned = pin !== undefined;
    this.#pinFallbacks = options.pinFallbacks !== false;
    if (pin !== undefined) {
      // A model asked for by name: it, then its configured fallbacks; never the selector, never cache affinity.
      const own = this.#pinFallbacks ? loop.options.fallbacks.get(pin) : undefined;
      this.#affinityKey = undefined;
      this.chain = { from: PIN, names: own && own.length > 0 ? [pin, ...own] : [pin] };
      return;
    }
    // With a registry cache, a request answered before goes back to the model that answered it.
    const key = loop.affinity?.key(request, raw);
    this.#affinityKey = key;
    const name = key === undefined ? undefined : loop.affinity?.get(key);
    this.chain = name === undefined ? undefined : { from: AFFINITY, names: [name] };
  }

  /**
   * Tell `call` listeners that this call begins: synchronously, in the caller's async context (at
   * `generate()`, or a stream's first `next()`), so tracing can tie later events to the call.
   */
  announce(stream: boolean): void {
    const events = this.#loop.events;
    if (events.has("call"))
      events.emit("call", {
        selectionId: this.selectionId,
        request: this.request,
        requirements: this.requirements,
        stream,
        cascade: this.#cascade,
      });
  }

  /** What the waits of this call listen to: the owner's signal, else the request's. */
  waitSignal(): AbortSignal | undefined {
    return this.#owner ? this.#owner.waitSignal() : this.request.signal;
  }

  /**
   * Choose the model for the next attempts (waiting for capacity when every eligible one is at
   * its limits) and count it in flight. Throws the last error once the fallbacks are used up or
   * nothing is left, else `NoEligibleModelError`. `undefined` when the owner left meanwhile.
   */
  async select(): Promise<Entry | undefined> {
    const loop = this.#loop;
    if (this.fallback > loop.options.maxFallbacks) throw this.lastError ?? new NoEligibleModelError([]);
    const picked = await loop.selection.pickForCall(this, this);
    if (!picked) {
      if (this.lastError) throw this.lastError;
      throw loop.selection.noEligible(this, loop.selection.anySaturated() ? loop.options.waitForCapacityMs : undefined);
    }
    const entry = picked.entry;
    this.#held = entry;
    if (this.#owner?.closed) {
      // The caller left while this selection was waiting: nothing will run on it.
      this.release();
      return undefined;
    }
    if (this.#affinityKey !== undefined) loop.affinity?.set(this.#affinityKey, entry.model.name);
    this.entry = entry;
    this.explanation = picked.explanation;
    this.retry = 0;
    if (loop.events.has("selection"))
      loop.events.emit("selection", {
        selectionId: this.selectionId,
        model: entry.model.name,
        task: this.request.task,
        explanation: picked.explanation,
        fallback: this.fallback,
      });
    return entry;
  }

  /** An attempt on the current model starts now. */
  beginAttempt(): void {
    this.attempt++;
    this.startedAt = performance.now();
  }

  /** The current attempt answered: record it (the selector learns) and end the call's hold on the model. */
  succeeded(latencyMs: number, costUsd: number | undefined, cached: boolean): void {
    const entry = this.entry as Entry;
    this.#loop.outcomes.success(entry, this, latencyMs, costUsd, cached);
    this.attempts.push({ model: entry.model.name, success: true, latencyMs });
  }

  /**
   * The current attempt failed: record it, then decide — once, for every kind of call — what
   * follows: `retry` the same model after `delayMs`, `fallback` to another, or `throw`
   * `lastError`. `answerStarted` (chunks already reached the caller) always throws: another model
   * cannot continue this answer.
   */
  afterFailure(thrown: unknown, answerStarted = false): NextStep {
    const entry = this.entry as Entry;
    const model = entry.model;
    const error = toOrchestratorError(thrown, { provider: model.provider, model: model.name });
    const latencyMs = performance.now() - this.startedAt;
    this.lastError = error;
    this.#loop.outcomes.failure(entry, this, latencyMs, error);
    let next: NextStep = answerStarted ? "throw" : this.#decide(error, entry);
    this.delayMs = 0;
    if (next === "retry") {
      const delay = this.#backoff(error);
      if (delay === undefined) next = "fallback";
      else {
        this.delayMs = delay;
        this.retry++;
      }
    }
    this.attempts.push({ model: model.name, success: false, latencyMs, errorCode: error.code, next });
    if (next === "throw") return next;
    if (ContextLengthError.isInstance(error))
      this.minWindowAbove = Math.max(this.minWindowAbove, model.capabilities.contextWindow);
    if (next === "fallback") {
      this.release();
      (this.tried ??= new Set()).add(model.name);
      this.chain = this.#chainAfter(model.name);
      this.fallback++;
    }
    return next;
  }

  /** The held model is no longer in flight for this call. Idempotent. */
  release(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    held.pending--;
  }

  /** What to do after a failed attempt, before backoff is considered. */
  #decide(error: OrchestratorError, entry: Entry): NextStep {
    if (AbortError.isInstance(error)) return "throw";
    if (ContextLengthError.isInstance(error) || AuthenticationError.isInstance(error)) return "fallback";
    if (!error.retryable) return "throw";
    if (this.retry >= this.#loop.options.maxRetries) return "fallback";
    // The health tracker just opened the model's circuit: another try would only add load to a dead provider.
    const health = this.#loop.selection.health.availability(entry.model.name);
    if (!health.available && health.status === "unhealthy") return "fallback";
    return "retry";
  }

  /** The delay before retry number `this.retry`; `undefined` when the provider asks to wait longer than the backoff allows. */
  #backoff(error: OrchestratorError): number | undefined {
    const { backoff: b, random } = this.#loop.options;
    const base = Math.min(b.maxMs, b.initialMs * b.multiplier ** this.retry);
    const jittered =
      b.jitter === "none" ? base : b.jitter === "equal" ? base / 2 + (random() * base) / 2 : random() * base;
    if (RateLimitError.isInstance(error) && error.retryAfterMs !== undefined) {
      // Waiting longer than the backoff cap is worse than asking another model.
      if (error.retryAfterMs > b.maxMs) return undefined;
      return Math.max(jittered, error.retryAfterMs);
    }
    return jittered;
  }

  /** The chain after `failed` fails: its own `fallbacks` first, then what remains of the current chain. */
  #chainAfter(failed: string): FallbackChain | undefined {
    const own = this.#pinFallbacks ? this.#loop.options.fallbacks.get(failed) : undefined;
    const current = this.chain;
    if (own === undefined || own.length === 0) return current;
    if (current === undefined) return { from: failed, names: own };
    return { from: failed, names: [...new Set([...own, ...current.names])] };
  }
}
