import type { GenerateRequest, HealthState, OrchestratorError, SelectionRequirements } from "@orchestrator-ts/core";
import type { SelectionExplanation } from "./explanation";
import type { CascadeStageReport } from "./routes/stage-report";

/**
 * A call through `generate` or `stream` begins, before any selection. Emitted synchronously
 * inside `generate()` (and inside a stream's first `next()`), so a listener runs in the caller's
 * async context and can tie the `selectionId` of later events to the call (tracing does).
 */
export interface CallEvent {
  selectionId: string;
  request: GenerateRequest;
  requirements: SelectionRequirements | undefined;
  stream: boolean;
  /** Set for a cascade's stage call: which cascade (its `cascade` events' id) and stage it answers for. */
  cascade?: CascadeCallTag | undefined;
}

/** Which cascade call and stage a registry call was made for. */
export interface CascadeCallTag {
  cascadeId: string;
  stage: number;
}

/**
 * A cascade route's stage begins or has decided. Emitted only while someone listens; the first
 * (stage 0's start) synchronously inside `generate()` / a stream's first `next()`, like `call`.
 * The stage's own model calls come as `call` events whose `cascade` names this `cascadeId`.
 */
export interface CascadeStageEvent extends CascadeStageReport {
  cascadeId: string;
  route: string;
}

export interface SelectionEvent {
  /** `undefined` for plain `selectModel` / `explainSelection` calls, which start no call. */
  selectionId: string | undefined;
  model: string;
  task: string | undefined;
  /** Set for calls through `generate`/`stream` and for `explainSelection`. */
  explanation: SelectionExplanation | undefined;
  /** 0 for the first choice, then 1, 2… for fallbacks. */
  fallback: number;
}

export interface OutcomeEvent {
  selectionId: string;
  model: string;
  task: string | undefined;
  success: boolean;
  /** The reward recorded for this call, in [0, 1] (before any late feedback). */
  reward: number;
  latencyMs: number;
  costUsd: number | undefined;
  error: OrchestratorError | undefined;
  /** Attempt number within the call, from 1. */
  attempt: number;
}

export interface FeedbackEvent {
  selectionId: string;
  model: string;
  task: string | undefined;
  quality: number;
  previousReward: number;
  reward: number;
}

export interface HealthEvent {
  model: string;
  status: HealthState;
  available: boolean;
  reason: string | undefined;
}

export interface RegistryEvents {
  call: CallEvent;
  selection: SelectionEvent;
  outcome: OutcomeEvent;
  feedback: FeedbackEvent;
  health: HealthEvent;
  cascade: CascadeStageEvent;
}

type Listener<T> = (payload: T) => void;

/** A tiny typed emitter; a throwing listener never breaks a call. */
export class Emitter<E> {
  readonly #listeners = new Map<keyof E, Listener<never>[]>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.#listeners.set(event, list);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    const i = list.indexOf(listener as Listener<never>);
    if (i >= 0) list.splice(i, 1);
  }

  /** Cheap check so callers build payloads only when someone listens. */
  has(event: keyof E): boolean {
    return (this.#listeners.get(event)?.length ?? 0) > 0;
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (const listener of [...list]) {
      try {
        (listener as Listener<E[K]>)(payload);
      } catch {
        // Observability must not change the outcome of a call.
      }
    }
  }
}
