import {
  type CandidateScore,
  ConfigError,
  type Model,
  type ModelSelector,
  type SelectionCandidate,
  type SelectionContext,
  type SelectorChoice,
} from "@orchestrator-ts/core";
import { seededRandom } from "./random";

export interface WeightedRandomSelectorOptions {
  /** Weight per model name (missing names weigh `defaultWeight`), or a function of the model. */
  weights?: Readonly<Record<string, number>> | ((model: Model) => number);
  /** Default 1. */
  defaultWeight?: number;
  seed?: number;
  random?: () => number;
}

/** Picks a model at random in proportion to fixed weights: canary splits, A/B tests, load spreading. */
export class WeightedRandomSelector implements ModelSelector {
  readonly name = "weighted-random";
  // Per-name weights in a Map: a model named "constructor" or "__proto__" must not read Object.prototype.
  readonly #weights: ReadonlyMap<string, number> | ((model: Model) => number) | undefined;
  readonly #default: number;
  readonly #random: () => number;
  #scratch = new Float64Array(16);

  constructor(options: WeightedRandomSelectorOptions = {}) {
    const def = options.defaultWeight ?? 1;
    if (!(def >= 0))
      throw new ConfigError([{ path: "defaultWeight", message: `must be a non-negative number, got ${def}` }], {
        title: "Invalid WeightedRandomSelector options",
      });
    if (options.weights && typeof options.weights === "object") {
      for (const [name, w] of Object.entries(options.weights)) {
        if (!(typeof w === "number" && w >= 0 && Number.isFinite(w)))
          throw new ConfigError(
            [{ path: `weights.${name}`, message: `must be a non-negative number, got ${String(w)}` }],
            { title: "Invalid WeightedRandomSelector options" },
          );
      }
    }
    const weights = options.weights;
    this.#weights = typeof weights === "function" ? weights : weights ? new Map(Object.entries(weights)) : undefined;
    this.#default = def;
    this.#random = options.random ?? seededRandom(options.seed ?? Date.now());
  }

  #weight(model: Model): number {
    const w = this.#weights;
    const value =
      w === undefined ? this.#default : typeof w === "function" ? w(model) : (w.get(model.name) ?? this.#default);
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  exclude(candidate: SelectionCandidate): string | undefined {
    return this.#weight(candidate.model) > 0 ? undefined : "its weight is 0";
  }

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    if (this.#scratch.length < candidates.length) this.#scratch = new Float64Array(candidates.length * 2);
    let total = 0;
    for (let i = 0; i < candidates.length; i++) {
      const w = this.#weight((candidates[i] as SelectionCandidate).model);
      this.#scratch[i] = w;
      total += w;
    }
    let r = this.#random() * total;
    let index = candidates.length - 1;
    for (let i = 0; i < candidates.length; i++) {
      r -= this.#scratch[i] as number;
      if (r < 0) {
        index = i;
        break;
      }
    }
    if (!context.explain) return { index };
    const scores: CandidateScore[] = [];
    for (let i = 0; i < candidates.length; i++)
      scores.push({ score: total > 0 ? (this.#scratch[i] as number) / total : 0, note: "probability of being picked" });
    return { index, scores };
  }
}

/** Takes eligible models in turn, in registration order: spreads load evenly, learns nothing. */
export class RoundRobinSelector implements ModelSelector {
  readonly name = "round-robin";
  // Registration order of the last model picked; the next pick is the first eligible one after it.
  #last = -1;

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    let index = -1;
    let first = 0;
    for (let i = 0; i < candidates.length; i++) {
      const order = (candidates[i] as SelectionCandidate).order;
      if (order < (candidates[first] as SelectionCandidate).order) first = i;
      if (order > this.#last && (index < 0 || order < (candidates[index] as SelectionCandidate).order)) index = i;
    }
    if (index < 0) index = first;
    this.#last = (candidates[index] as SelectionCandidate).order;
    if (!context.explain) return { index };
    return {
      index,
      scores: candidates.map((_, i) => ({
        score: i === index ? 1 : 0,
        note: "round robin: next in registration order",
      })),
    };
  }

  reset(): void {
    this.#last = -1;
  }
}
