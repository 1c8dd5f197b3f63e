import {
  type CandidateScore,
  ConfigError,
  type ModelSelector,
  type SelectionCandidate,
  type SelectionContext,
  type SelectorChoice,
  type SelectorEvent,
  type StatsStore,
} from "@orchestrator-ts/core";
import { normal, seededRandom } from "../random";
import type { DecisionRecord, DecisionSink } from "./decision-log";
import { type FeatureExtractor, HashedNgramExtractor, SparseFeatures, requestText } from "./features";
import { BudgetPacer } from "./pacing";
import {
  type ContextualChoice,
  type ContextualExploration,
  type ContextualSelectorOptions,
  checkOptions,
} from "./options";
import { type Pending, PendingOutcomes } from "./pending";
import { DiagonalLogisticPredictor, sigmoid } from "./predictor";
import { type Contribution, addCost } from "./shared-state";
import {
  type ShareOptions,
  type ShareTarget,
  type SharedLearning,
  type Sharing,
  ownContribution,
  shareLearning,
} from "./sharing";
import { type Arm, type ContextualSelectorState, armState, checkState, restoreArm } from "./state";
import { type PreparedExample, type TrainingExample, calibrateLambda, fromRecord } from "./training";

/**
 * A router that reads the request. One predictor of quality per model (online Bayesian logistic
 * regression over the request's features, see `DiagonalLogisticPredictor`); it chooses the
 * model with the best `predicted quality − λ·predicted cost`, exploring by UCB or Thompson
 * sampling. λ is fixed, or paced online to meet an average budget (`BudgetPacer`).
 *
 * Use it as the registry's `modelSelector` (it reads `context.request` and `context.task`), or
 * directly: `choose(features, models)` then `learn(...)` — the replay does that.
 */
export class ContextualSelector implements ModelSelector {
  readonly name = "contextual";
  readonly extractor: FeatureExtractor;
  readonly exploration: ContextualExploration;
  readonly alpha: number;
  readonly ridge: number;
  readonly epsilon: number;
  readonly propensitySamples: number;
  readonly learnFrom: "feedback" | "reward";
  readonly defaultCostUsd: number;
  readonly pacer: BudgetPacer | undefined;
  log: DecisionSink | undefined;
  #lambda: number;
  readonly #random: () => number;
  readonly #arms = new Map<string, Arm>();
  // Scratch, reused between selections.
  readonly #x = new SparseFeatures(1024);
  #arm: Arm[] = [];
  #cost = new Float64Array(16);
  #quality = new Float64Array(16);
  #score = new Float64Array(16);
  #z = new Float64Array(16);
  #sd = new Float64Array(16);
  readonly #moments = new Float64Array(2);
  readonly #choice: ContextualChoice = { index: 0, probability: 1, lambda: 0 };
  readonly #pending = new PendingOutcomes();
  #sharing: Sharing | undefined;

  constructor(options: ContextualSelectorOptions = {}) {
    const { exploration, alpha, ridge, epsilon, learnFrom } = checkOptions(options);
    this.extractor = options.extractor ?? new HashedNgramExtractor();
    this.exploration = exploration;
    this.alpha = alpha;
    this.ridge = ridge;
    this.epsilon = epsilon;
    this.propensitySamples = options.propensitySamples ?? 64;
    this.learnFrom = learnFrom;
    this.defaultCostUsd = options.defaultCostUsd ?? 0;
    this.log = options.log;
    this.#lambda = options.lambda ?? 0;
    this.pacer =
      options.budgetPerRequest !== undefined
        ? new BudgetPacer({
            budgetPerRequest: options.budgetPerRequest,
            ...(options.lambda !== undefined ? { initialLambda: options.lambda } : {}),
            ...(options.pacingRate !== undefined ? { rate: options.pacingRate } : {}),
          })
        : undefined;
    this.#random = seededRandom(options.seed ?? 0x5eed);
  }

  /** Price of cost in quality per USD now (the pacer's when a budget is set). */
  get lambda(): number {
    return this.pacer ? this.pacer.lambda : this.#lambda;
  }

  set lambda(value: number) {
    if (this.pacer) this.pacer.lambda = value;
    else this.#lambda = value;
  }

  /** Models the selector has state for. */
  get models(): string[] {
    return [...this.#arms.keys()];
  }

  #armFor(model: string): Arm {
    let arm = this.#arms.get(model);
    if (!arm) {
      arm = {
        model,
        predictor: new DiagonalLogisticPredictor(this.extractor.dimensions, this.ridge),
        costSum: 0,
        costCount: 0,
        taskCost: new Map(),
      };
      this.#arms.set(model, arm);
    }
    return arm;
  }

  #grow(count: number): void {
    if (this.#cost.length >= count) return;
    const n = Math.max(count, this.#cost.length * 2);
    this.#cost = new Float64Array(n);
    this.#quality = new Float64Array(n);
    this.#score = new Float64Array(n);
    this.#z = new Float64Array(n);
    this.#sd = new Float64Array(n);
  }

  /** The request's features, in the selector's reused buffer (valid until the next call). */
  features(text: string, task?: string): SparseFeatures {
    return this.extractor.extract({ text, task }, this.#x);
  }

  /** Predicted USD of a model: its mean observed cost on this task, else overall, else `fallback`. */
  predictedCost(model: string, task: string | undefined, fallback?: number): number {
    const arm = this.#arms.get(model);
    if (arm) {
      const t = task !== undefined ? arm.taskCost.get(task) : undefined;
      if (t && t.count > 0) return t.sum / t.count;
      if (arm.costCount > 0) return arm.costSum / arm.costCount;
    }
    return fallback ?? this.defaultCostUsd;
  }

  /** Predicted quality of a model for these features (posterior mean, no exploration). */
  predictQuality(features: SparseFeatures, model: string): number {
    const arm = this.#arms.get(model);
    return arm ? sigmoid(arm.predictor.logit(features)) : 0.5;
  }

  /**
   * Chooses among `models` for these features. `costs` (per model, USD) overrides the learned
   * cost estimates (e.g. a price computed from the prompt's tokens). Synchronous and allocation-free
   * (the returned object is reused).
   */
  choose(
    features: SparseFeatures,
    models: readonly string[],
    options: { costs?: ArrayLike<number>; task?: string; probability?: boolean } = {},
  ): ContextualChoice {
    const count = models.length;
    if (count === 0)
      throw new ConfigError([{ path: "models", message: "no models to choose from" }], { title: "Invalid choice" });
    this.#grow(count);
    const arms = this.#arm;
    arms.length = count;
    const cost = this.#cost;
    for (let i = 0; i < count; i++) {
      const name = models[i] as string;
      arms[i] = this.#armFor(name);
      cost[i] = options.costs?.[i] ?? this.predictedCost(name, options.task);
    }
    return this.#decide(features, count, options.probability ?? this.log !== undefined);
  }

  #decide(x: SparseFeatures, count: number, wantProbability: boolean): ContextualChoice {
    const arms = this.#arm;
    const lambda = this.lambda;
    const cost = this.#cost;
    const quality = this.#quality;
    const score = this.#score;
    const z = this.#z;
    const sd = this.#sd;
    const mom = this.#moments;
    const thompson = this.exploration === "thompson";
    let best = 0;
    for (let i = 0; i < count; i++) {
      (arms[i] as Arm).predictor.moments(x, mom);
      const zi = mom[0] as number;
      const si = Math.sqrt(mom[1] as number) * this.alpha;
      z[i] = zi;
      sd[i] = si;
      quality[i] = sigmoid(zi);
      const optimistic =
        this.exploration === "linucb"
          ? sigmoid(zi + si)
          : thompson
            ? sigmoid(zi + si * normal(this.#random))
            : (quality[i] as number);
      score[i] = optimistic - lambda * (cost[i] as number);
      if ((score[i] as number) > (score[best] as number)) best = i;
    }
    let probability = 1;
    if (thompson && wantProbability && this.propensitySamples > 0) {
      // Monte Carlo estimate of P(best wins) under the same posterior.
      let wins = 0;
      for (let s = 0; s < this.propensitySamples; s++) {
        let arg = 0;
        let top = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < count; i++) {
          const v = sigmoid((z[i] as number) + (sd[i] as number) * normal(this.#random)) - lambda * (cost[i] as number);
          if (v > top) {
            top = v;
            arg = i;
          }
        }
        if (arg === best) wins++;
      }
      // Never log 0 for what was actually chosen.
      probability = Math.max(wins, 0.5) / this.propensitySamples;
    }
    let index = best;
    if (this.epsilon > 0) {
      if (this.#random() < this.epsilon) index = Math.min(count - 1, Math.floor(this.#random() * count));
      probability = index === best ? (1 - this.epsilon) * probability + this.epsilon / count : this.epsilon / count;
    }
    const choice = this.#choice;
    choice.index = index;
    choice.probability = probability;
    choice.lambda = lambda;
    return choice;
  }

  /**
   * Learn one observed outcome: the model's quality in [0, 1] and its cost for these features.
   * `paced: false` leaves the budget pacer alone (full-information training on outcomes of
   * models that were not actually called); `shared: false` keeps it out of what `share`
   * publishes (warm-start data every process may learn on its own).
   */
  learn(
    features: SparseFeatures,
    model: string,
    quality: number,
    costUsd: number | undefined,
    options: { task?: string; weight?: number; paced?: boolean; shared?: boolean } = {},
  ): void {
    const arm = this.#armFor(model);
    const own =
      this.#sharing && options.shared !== false
        ? ownContribution(this.#sharing, model, this.extractor.dimensions)
        : undefined;
    if (Number.isFinite(quality))
      arm.predictor.update(features, Math.min(1, Math.max(0, quality)), options.weight ?? 1, own);
    if (costUsd !== undefined && Number.isFinite(costUsd) && costUsd >= 0) {
      addCost(arm, costUsd, 1, options.task);
      if (own) addCost(own, costUsd, 1, options.task);
      if (options.paced !== false) this.pacer?.observe(costUsd);
    }
  }

  // Sharing between processes ---------------------------------------------------------------

  /**
   * Learn together with other processes through a stats store that can exchange state
   * (`MemoryStatsStore` in one process, `RedisStatsStore` across processes).
   *
   * The posterior of each weight is Gaussian, and Bayesian updates add up in natural parameters
   * (precision·mean, precision). So each process publishes what its own outcomes added (from
   * `learn`, `update`, feedback — not `fit`/`restore`, which every process may do from the same
   * data), reads every other participant's latest, and adds the change since the last exchange
   * to its predictors and cost estimates. Selection keeps reading local arrays: it stays
   * synchronous. The combination is exact for the precisions and cost totals and a close
   * approximation for the means (each Laplace step was taken around its own process's mean).
   *
   * Resolves after the first exchange (a worker restarted under the same `participant` resumes
   * its contribution); then exchanges every `intervalMs`. If the store is unreachable the
   * selector keeps learning alone and publishes when it is back.
   */
  share(store: Pick<StatsStore, "exchangeState">, options: ShareOptions = {}): Promise<SharedLearning> {
    return shareLearning(this.#shareTarget, store, options);
  }

  // What sharing needs of this selector: its dimensions, its running share, adding contributions.
  readonly #shareTarget: ShareTarget = {
    dimensions: () => this.extractor.dimensions,
    current: () => this.#sharing,
    attach: (sharing) => {
      this.#sharing = sharing;
    },
    apply: (c, sign) => this.#applyContribution(c, sign),
  };

  #applyContribution(c: Contribution, sign: 1 | -1): void {
    for (const [model, a] of c) {
      const arm = this.#armFor(model);
      arm.predictor.apply(a, sign);
      addCost(arm, sign * a.costSum, sign * a.costCount, undefined);
      for (const [task, v] of a.taskCost) addCost(arm, sign * v.sum, sign * v.count, task, false);
    }
  }

  // ModelSelector -------------------------------------------------------------------------

  select(candidates: readonly SelectionCandidate[], context: SelectionContext): SelectorChoice {
    const count = candidates.length;
    this.#grow(count);
    const x = this.extractor.extract({ text: requestText(context.request), task: context.task }, this.#x);
    const arms = this.#arm;
    arms.length = count;
    const cost = this.#cost;
    for (let i = 0; i < count; i++) {
      const c = candidates[i] as SelectionCandidate;
      arms[i] = this.#armFor(c.model.name);
      cost[i] = this.predictedCost(c.model.name, context.task, c.estimatedCostUsd);
    }
    const choice = this.#decide(x, count, this.log !== undefined);
    const index = choice.index;
    this.#remember(x, candidates, context, choice);
    if (!context.explain) return { index };
    const scores: CandidateScore[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const arm = arms[i] as Arm;
      const q = this.#quality[i] as number;
      const s = this.#score[i] as number;
      scores[i] = {
        score: s,
        meanReward: q,
        bonus: s + choice.lambda * (cost[i] as number) - q,
        trials: arm.predictor.count,
        note: `predicted quality ${q.toFixed(3)}, cost $${(cost[i] as number).toPrecision(3)}, λ ${choice.lambda.toPrecision(3)}/USD`,
      };
    }
    return { index, scores };
  }

  #remember(
    x: SparseFeatures,
    candidates: readonly SelectionCandidate[],
    context: SelectionContext,
    choice: ContextualChoice,
  ): void {
    const model = (candidates[choice.index] as SelectionCandidate).model.name;
    const pending: Pending = {
      features: x.clone(),
      task: context.task,
      candidates: candidates.map((c) => c.model.name),
      model,
      probability: choice.probability,
      lambda: choice.lambda,
      predictedQuality: Array.from(this.#quality.subarray(0, candidates.length)),
      predictedCostUsd: Array.from(this.#cost.subarray(0, candidates.length)),
      time: Date.now(),
    };
    this.#pending.remember(context.selectionId, pending);
  }

  update(event: SelectorEvent): void {
    if (event.type === "outcome") {
      const p = this.#pending.take(event.selectionId, event.model);
      if (!p) return;
      if (!event.success) {
        this.#complete(p, 0, undefined, event.latencyMs, false);
        return;
      }
      p.costUsd = event.costUsd;
      p.latencyMs = event.latencyMs;
      if (this.learnFrom === "reward") {
        this.#complete(p, event.reward, event.costUsd, event.latencyMs, true);
        return;
      }
      this.#pending.awaitFeedback(event.selectionId, p);
      // Cost is known now: pace on it without waiting for the quality.
      if (event.costUsd !== undefined) this.pacer?.observe(event.costUsd);
      return;
    }
    const p = this.#pending.takeFeedback(event.selectionId);
    if (!p) return;
    this.#complete(p, event.quality, p.costUsd, p.latencyMs, true, false);
  }

  #complete(
    p: Pending,
    quality: number,
    costUsd: number | undefined,
    latencyMs: number | undefined,
    success: boolean,
    paced = true,
  ): void {
    this.learn(p.features, p.model, quality, costUsd, { ...(p.task !== undefined ? { task: p.task } : {}), paced });
    this.log?.write({
      v: 1,
      time: p.time,
      ...(p.task !== undefined ? { task: p.task } : {}),
      features: p.features.toJSON(),
      candidates: p.candidates,
      model: p.model,
      probability: p.probability,
      predictedQuality: p.predictedQuality,
      predictedCostUsd: p.predictedCostUsd,
      lambda: p.lambda,
      quality,
      ...(costUsd !== undefined ? { costUsd } : {}),
      ...(latencyMs !== undefined ? { latencyMs } : {}),
      success,
    });
  }

  // Warm start, save, restore --------------------------------------------------------------

  /**
   * Warm start. Each example updates the predictor of every model it has an outcome for: full
   * information (RouterBench: every model's recorded quality) trains all of them, a decision log
   * record trains the chosen one. `epochs` passes (default 1) in the given order.
   * With a budget, it then sets the pacer's starting λ to the one that meets the budget on these
   * examples (bisection on the greedy policy's predicted cost).
   */
  fit(
    examples: Iterable<TrainingExample | DecisionRecord>,
    options: { epochs?: number; calibrate?: boolean } = {},
  ): this {
    const list: (PreparedExample & { weight: number })[] = [];
    for (const e of examples) {
      const ex = "outcomes" in e ? e : fromRecord(e);
      if (!ex) continue;
      const x = ex.features
        ? ex.features
        : this.extractor.extract({ text: ex.text ?? "", task: ex.task }, new SparseFeatures(256));
      list.push({ x, task: ex.task, outcomes: ex.outcomes, weight: ex.weight ?? 1 });
    }
    const epochs = options.epochs ?? 1;
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const ex of list) {
        for (const o of ex.outcomes)
          this.learn(ex.x, o.model, o.quality, epoch === 0 ? o.costUsd : undefined, {
            ...(ex.task !== undefined ? { task: ex.task } : {}),
            weight: ex.weight,
            paced: false,
            shared: false,
          });
      }
    }
    if (this.pacer && options.calibrate !== false && list.length > 0)
      this.pacer.lambda = this.calibrateLambda(list, this.pacer.budgetPerRequest);
    return this;
  }

  /**
   * The λ at which choosing greedily (posterior mean quality − λ·predicted cost) spends
   * `budgetPerRequest` on average over these examples (bisection in log λ).
   */
  calibrateLambda(examples: readonly PreparedExample[], budgetPerRequest: number): number {
    return calibrateLambda(this, examples, budgetPerRequest);
  }

  save(): ContextualSelectorState {
    const extractor = this.extractor.save
      ? this.extractor.save()
      : this.extractor instanceof HashedNgramExtractor
        ? this.extractor.options
        : undefined;
    return {
      kind: "contextual-selector",
      version: 1,
      dimensions: this.extractor.dimensions,
      ridge: this.ridge,
      lambda: this.#lambda,
      ...(this.pacer ? { pacer: this.pacer.save() } : {}),
      ...(extractor !== undefined ? { extractor } : {}),
      arms: [...this.#arms.values()].map(armState),
    };
  }

  /** Replace what was learnt with a saved state (same feature dimensions). */
  restore(state: ContextualSelectorState): this {
    checkState(state, this.extractor.dimensions);
    this.#arms.clear();
    for (const [k, a] of state.arms.entries()) restoreArm(this.#armFor(a.model), a, state.dimensions, k);
    this.#lambda = state.lambda;
    // Shared contributions are no longer in the predictors: the next exchange adds them again.
    if (this.#sharing) this.#sharing.others = new Map();
    if (state.pacer && this.pacer) this.pacer.restore(state.pacer);
    if (state.extractor !== undefined) this.extractor.restore?.(state.extractor);
    return this;
  }

  reset(): void {
    this.#arms.clear();
    if (this.#sharing) {
      this.#sharing.own = new Map();
      this.#sharing.others = new Map();
    }
    this.#pending.clear();
  }
}
