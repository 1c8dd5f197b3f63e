import type { SparseFeatures } from "./features";

// Decisions waiting for their outcome, then for the caller's quality feedback: bounded in count
// and (without a selection id) in age, so a caller that never reports cannot grow them.

const PENDING_CAPACITY = 1024;
const PENDING_TTL_MS = 10 * 60_000;

/** One decision: what the selector saw and predicted, and what came of it so far. */
export interface Pending {
  features: SparseFeatures;
  task: string | undefined;
  candidates: string[];
  model: string;
  probability: number;
  lambda: number;
  predictedQuality: number[];
  predictedCostUsd: number[];
  time: number;
  costUsd?: number;
  latencyMs?: number;
}

export class PendingOutcomes {
  // By selection id, else per model (newest first); then by selection id until feedback comes.
  readonly #byId = new Map<string, Pending>();
  readonly #byModel = new Map<string, Pending[]>();
  readonly #awaitingFeedback = new Map<string, Pending>();

  remember(selectionId: string | undefined, pending: Pending): void {
    if (selectionId !== undefined) {
      this.#byId.set(selectionId, pending);
      if (this.#byId.size > PENDING_CAPACITY) {
        const oldest = this.#byId.keys().next().value;
        if (oldest !== undefined) this.#byId.delete(oldest);
      }
      return;
    }
    let stack = this.#byModel.get(pending.model);
    if (!stack) {
      stack = [];
      this.#byModel.set(pending.model, stack);
    }
    stack.push(pending);
    if (stack.length > PENDING_CAPACITY) stack.shift();
  }

  /** The decision an outcome of `model` belongs to. */
  take(selectionId: string, model: string): Pending | undefined {
    const base = selectionId.includes("#") ? selectionId.slice(0, selectionId.indexOf("#")) : selectionId;
    const byId = this.#byId.get(base);
    if (byId && byId.model === model) {
      this.#byId.delete(base);
      return byId;
    }
    // Without a selection id in the context: the newest decision for this model (exact for
    // sequential calls; concurrent calls of one model may swap features).
    const stack = this.#byModel.get(model);
    const now = Date.now();
    while (stack && stack.length > 0) {
      const p = stack.pop() as Pending;
      if (now - p.time <= PENDING_TTL_MS) return p;
    }
    return undefined;
  }

  awaitFeedback(selectionId: string, pending: Pending): void {
    this.#awaitingFeedback.set(selectionId, pending);
    if (this.#awaitingFeedback.size > PENDING_CAPACITY * 10) {
      const oldest = this.#awaitingFeedback.keys().next().value;
      if (oldest !== undefined) this.#awaitingFeedback.delete(oldest);
    }
  }

  takeFeedback(selectionId: string): Pending | undefined {
    const p = this.#awaitingFeedback.get(selectionId);
    if (p) this.#awaitingFeedback.delete(selectionId);
    return p;
  }

  clear(): void {
    this.#byId.clear();
    this.#byModel.clear();
    this.#awaitingFeedback.clear();
  }
}
