import { randomUUID } from "node:crypto";
import { type CandidateScore, ConfigError, type ConfigIssue, type ModelSelector, type SelectionCandidate, type SelectionContext, type SelectorChoice, type SelectorEvent, type StatsStore } from "@orchestrator-ts/core";
import { seededRandom } from "../random";
import type { DecisionRecord, DecisionSink } from "./decision-log";
import { type FeatureExtractor, HashedNgramExtractor, SparseFeatures, requestText } from "./features";
import { BudgetPacer } from "./pacing";
import { DiagonalLogisticPredictor, sigmoid } from "./predictor";
import { type ArmContribution, type Contribution, type CostTotals, addContribution, addCost, decodeContribution, decodeFloats, emptyArmContribution, encodeContribution, encodeFloats } from "./shared-state";

export type ContextualExploration = "linucb" | "thompson" | "greedy";

export interface ContextualSelectorOptions {
  /** Request → features. Default `new HashedNgramExtractor()` (1,024 hashed word/char n-grams, length, task). */
  extractor?: FeatureExtractor;
  /**
   * `"linucb"` (default): score the upper confidence bound `σ(m·x + alpha·√(Σ xᵢ²/qᵢ))`.
   * `"thompson"`: sample the logit from its posterior `N(m·x, alpha²·Σ xᵢ²/qᵢ)`.
   * `"greedy"`: the posterior mean, no exploration (after a warm start, or with `epsilon`).
   */
  exploration?: ContextualExploration;
  /** Width of the exploration (standard deviations of the logit). Default 1. */
  alpha?: number;
  /** Prior precision of every weight (L2 regularisation). Default 1. */
  ridge?: number;
  /** Price of cost in quality per USD: the selector maximises predicted quality − λ·predicted cost. Default 0. */
  lambda?: number;
  /** Average USD per request: λ is then paced online so that the running mean cost stays at or under it. */
  budgetPerRequest?: number;
  /** Step of the budget pacer's multiplicative update. Default 0.05. */
  pacingRate?: number;
  /** Choose uniformly at random with this probability (and log the smoothed probability). Default 0. */
  epsilon?: number;
  /** Seed of the selector's random numbers (Thompson, ε). */
  seed?: number;
  /** Thompson only: samples used to estimate the probability of the choice for the log. Default 64. */
  propensitySamples?: number;
  /**
   * Where quality comes from when used through `ModelRegistry`: `"feedback"` (default) waits for
   * `recordFeedback(selectionId, { quality })`; `"reward"` learns the registry's reward at once.
   */
  learnFrom?: "feedback" | "reward";
  /** Decision log (opt-in): one record per learned outcome. */
  log?: DecisionSink;
  /** USD assumed for a model with no observed cost and no estimate. Default 0. */
  defaultCostUsd?: number;
}

/** How `ContextualSelector.share` exchanges what is learnt. */
export interface ShareOptions {
  /**
   * This process's name on the channel. Give each worker a stable one (e.g. `${hostname}-${index}`)
   * so that a restarted worker resumes its own contribution; default a random UUID (then each
   * process start adds a field to the shared hash).
   */
  participant?: string;
  /** Selectors on the same channel learn together. Default `"contextual"`. */
  channel?: string;
  /** How often to publish and pull. Default 1000 ms; 0 = only on `sync()`. */
  intervalMs?: number;
}

/** A running share (see `ContextualSelector.share`). */
export interface SharedLearning {
  readonly participant: string;
  readonly channel: string;
  /** Other participants' contributions skipped at the last exchange, and why. */
  readonly problems: readonly { participant: string; message: string }[];
  /** Publish now and pull the others' contributions; `false` when the store could not be reached. Never rejects. */
  sync(): Promise<boolean>;
  /** Publish a last time and stop. */
  close(): Promise<void>;
}

interface Sharing {
  own: Contribution;
  others: Contribution;
  resumed: boolean;
}

/** What `choose` returns. The object is reused by the next call: read it before choosing again. */
export interface ContextualChoice {
  index: number;
  /** Probability that this policy chooses `index` for these features (1 for a deterministic choice without ε). */
  probability: number;
  /** Price of cost used for this choice. */
  lambda: number;
}

/** What a selector learns from: features (or text/task to extract them from) and one or more models' outcomes. */
export interface TrainingExample {
  features?: SparseFeatures;
  text?: string;
  task?: string;
  outcomes: readonly { model: string; quality: number; costUsd?: number }[];
  /** Importance weight (e.g. 1/probability for logged bandit data). Default 1. */
  weight?: number;
}

/** Saved state: JSON-serialisable; typed arrays as base64 (little-endian float64). */
export interface ContextualSelectorState {
  kind: "contextual-selector";
  version: 1;
  dimensions: number;
  ridge: number;
  lambda: number;
  pacer?: { lambda: number; requests: number; spentUsd: number };
  extractor?: unknown;
  arms: {
    model: string;
    count: number;
    mean: string;
    precision: string;
    cost: { sum: number; count: number; tasks: Record<string, [number, number]> };
  }[];
}

interface Arm extends CostTotals {
  readonly model: string;
  readonly predictor: DiagonalLogisticPredictor;
}

interface Pending {
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

function fromBase64(s: string, length: number, path: string): Float64Array {
  try {
    return decodeFloats(s, length);
  } catch (error) {
    throw new ConfigError([{ path, message: (error as Error).message }], { title: "Invalid ContextualSelector state" });
  }
}

function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const PENDING_CAPACITY = 1024;
const PENDING_TTL_MS = 10 * 60_000;

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
  // Decisions waiting for their outcome (by selection id, else per model, newest first) and for feedback.
  readonly #pendingById = new Map<string, Pending>();
  readonly #pendingByModel = new Map<string, Pending[]>();
  readonly #awaitingFeedback = new Map<string, Pending>();
  #sharing: Sharing | undefined;

  constructor(options: ContextualSelectorOptions = {}) {
    const issues: ConfigIssue[] = [];
    const exploration = options.exploration ?? "linucb";
    if (exploration !== "linucb" && exploration !== "thompson" && exploration !== "greedy") issues.push({ path: "exploration", message: `must be "linucb", "thompson" or "greedy", got ${JSON.stringify(exploration)}` });
    const alpha = options.alpha ?? 1;
    if (!(Number.isFinite(alpha) && alpha >= 0)) issues.push({ path: "alpha", message: `must be a non-negative number, got ${String(alpha)}` });
    const ridge = options.ridge ?? 1;
    if (!(Number.isFinite(ridge) && ridge > 0)) issues.push({ path: "ridge", message: `must be a positive number, got ${String(ridge)}` });
    if (options.lambda !== undefined && !(Number.isFinite(options.lambda) && options.lambda >= 0)) issues.push({ path: "lambda", message: `must be ≥ 0 (quality per USD), got ${String(options.lambda)}` });
    const epsilon = options.epsilon ?? 0;
    if (!(epsilon >= 0 && epsilon <= 1)) issues.push({ path: "epsilon", message: `must be in [0, 1], got ${String(epsilon)}` });
    const learnFrom = options.learnFrom ?? "feedback";
    if (learnFrom !== "feedback" && learnFrom !== "reward") issues.push({ path: "learnFrom", message: `must be "feedback" or "reward", got ${JSON.stringify(learnFrom)}` });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid ContextualSelector options" });
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
        ? new BudgetPacer({ budgetPerRequest: options.budgetPerRequest, ...(options.lambda !== undefined ? { initialLambda: options.lambda } : {}), ...(options.pacingRate !== undefined ? { rate: options.pacingRate } : {}) })
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
      arm = { model, predictor: new DiagonalLogisticPredictor(this.extractor.dimensions, this.ridge), costSum: 0, costCount: 0, taskCost: new Map() };
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
  choose(features: SparseFeatures, models: readonly string[], options: { costs?: ArrayLike<number>; task?: string; probability?: boolean } = {}): ContextualChoice {
    const count = models.length;
    if (count === 0) throw new ConfigError([{ path: "models", message: "no models to choose from" }], { title: "Invalid choice" });
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
      const optimistic = this.exploration === "linucb" ? sigmoid(zi + si) : thompson ? sigmoid(zi + si * gaussian(this.#random)) : (quality[i] as number);
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
          const v = sigmoid((z[i] as number) + (sd[i] as number) * gaussian(this.#random)) - lambda * (cost[i] as number);
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
  learn(features: SparseFeatures, model: string, quality: number, costUsd: number | undefined, options: { task?: string; weight?: number; paced?: boolean; shared?: boolean } = {}): void {
    const arm = this.#armFor(model);
    const own = this.#sharing && options.shared !== false ? this.#ownContribution(model) : undefined;
    if (Number.isFinite(quality)) arm.predictor.update(features, Math.min(1, Math.max(0, quality)), options.weight ?? 1, own);
    if (costUsd !== undefined && Number.isFinite(costUsd) && costUsd >= 0) {
      addCost(arm, costUsd, 1, options.task);
      if (own) addCost(own, costUsd, 1, options.task);
      if (options.paced !== false) this.pacer?.observe(costUsd);
    }
  }

  #ownContribution(model: string): ArmContribution {
    const own = (this.#sharing as Sharing).own;
    let c = own.get(model);
    if (!c) {
      c = emptyArmContribution(this.extractor.dimensions);
      own.set(model, c);
    }
    return c;
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
  async share(store: Pick<StatsStore, "exchangeState">, options: ShareOptions = {}): Promise<SharedLearning> {
    const issues: ConfigIssue[] = [];
    if (typeof store?.exchangeState !== "function") issues.push({ path: "store", message: "this stats store cannot exchange learned state (it has no exchangeState): use MemoryStatsStore or RedisStatsStore" });
    if (this.#sharing) issues.push({ path: "share", message: "this selector is already shared; close the running share first" });
    const intervalMs = options.intervalMs ?? 1_000;
    if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) issues.push({ path: "intervalMs", message: `must be a non-negative number of milliseconds, got ${String(options.intervalMs)}` });
    if (options.participant !== undefined && !(typeof options.participant === "string" && options.participant.length > 0)) issues.push({ path: "participant", message: "must be a non-empty string" });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Cannot share ContextualSelector state" });
    const exchange = (store.exchangeState as NonNullable<StatsStore["exchangeState"]>).bind(store);
    const participant = options.participant ?? randomUUID();
    const channel = options.channel ?? "contextual";
    const dimensions = this.extractor.dimensions;
    const sharing: Sharing = { own: new Map(), others: new Map(), resumed: false };
    this.#sharing = sharing;
    let problems: { participant: string; message: string }[] = [];
    const once = async (): Promise<boolean> => {
      // Until this participant's stored contribution has been read (and resumed), only read.
      const states = await exchange(channel, participant, sharing.resumed ? encodeContribution(sharing.own, dimensions) : undefined).catch(() => undefined);
      if (!states || this.#sharing !== sharing) return false;
      const others: Contribution = new Map();
      const found: typeof problems = [];
      for (const [who, text] of states) {
        if (who === participant && sharing.resumed) continue;
        let c: Contribution;
        try {
          c = decodeContribution(text, dimensions);
        } catch (error) {
          found.push({ participant: who, message: error instanceof Error ? error.message : String(error) });
          continue;
        }
        if (who === participant) {
          addContribution(sharing.own, c, dimensions);
          this.#applyContribution(c, 1);
        } else addContribution(others, c, dimensions);
      }
      problems = found;
      const wasResumed = sharing.resumed;
      sharing.resumed = true;
      this.#applyContribution(sharing.others, -1);
      this.#applyContribution(others, 1);
      sharing.others = others;
      // The first read resumed; publish at once so the others see this participant.
      return wasResumed ? true : once();
    };
    let running: Promise<boolean> | undefined;
    const sync = (): Promise<boolean> => {
      running ??= once().finally(() => {
        running = undefined;
      });
      return running;
    };
    await sync();
    const timer = intervalMs > 0 ? setInterval(() => void sync(), intervalMs) : undefined;
    timer?.unref();
    return {
      participant,
      channel,
      get problems() {
        return problems;
      },
      sync,
      close: async () => {
        if (timer) clearInterval(timer);
        if (this.#sharing !== sharing) return;
        await running;
        await sync();
        this.#sharing = undefined;
      },
    };
  }

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

  #remember(x: SparseFeatures, candidates: readonly SelectionCandidate[], context: SelectionContext, choice: ContextualChoice): void {
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
    const id = context.selectionId;
    if (id !== undefined) {
      this.#pendingById.set(id, pending);
      if (this.#pendingById.size > PENDING_CAPACITY) {
        const oldest = this.#pendingById.keys().next().value;
        if (oldest !== undefined) this.#pendingById.delete(oldest);
      }
      return;
    }
    let stack = this.#pendingByModel.get(model);
    if (!stack) {
      stack = [];
      this.#pendingByModel.set(model, stack);
    }
    stack.push(pending);
    if (stack.length > PENDING_CAPACITY) stack.shift();
  }

  #takePending(selectionId: string, model: string): Pending | undefined {
    const base = selectionId.includes("#") ? selectionId.slice(0, selectionId.indexOf("#")) : selectionId;
    const byId = this.#pendingById.get(base);
    if (byId && byId.model === model) {
      this.#pendingById.delete(base);
      return byId;
    }
    // Without a selection id in the context: the newest decision for this model (exact for
    // sequential calls; concurrent calls of one model may swap features).
    const stack = this.#pendingByModel.get(model);
    const now = Date.now();
    while (stack && stack.length > 0) {
      const p = stack.pop() as Pending;
      if (now - p.time <= PENDING_TTL_MS) return p;
    }
    return undefined;
  }

  update(event: SelectorEvent): void {
    if (event.type === "outcome") {
      const p = this.#takePending(event.selectionId, event.model);
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
      this.#awaitingFeedback.set(event.selectionId, p);
      if (this.#awaitingFeedback.size > PENDING_CAPACITY * 10) {
        const oldest = this.#awaitingFeedback.keys().next().value;
        if (oldest !== undefined) this.#awaitingFeedback.delete(oldest);
      }
      // Cost is known now: pace on it without waiting for the quality.
      if (event.costUsd !== undefined) this.pacer?.observe(event.costUsd);
      return;
    }
    const p = this.#awaitingFeedback.get(event.selectionId);
    if (!p) return;
    this.#awaitingFeedback.delete(event.selectionId);
    this.#complete(p, event.quality, p.costUsd, p.latencyMs, true, false);
  }

  #complete(p: Pending, quality: number, costUsd: number | undefined, latencyMs: number | undefined, success: boolean, paced = true): void {
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
  fit(examples: Iterable<TrainingExample | DecisionRecord>, options: { epochs?: number; calibrate?: boolean } = {}): this {
    const list: { x: SparseFeatures; task: string | undefined; outcomes: TrainingExample["outcomes"]; weight: number }[] = [];
    for (const e of examples) {
      const ex = "outcomes" in e ? e : fromRecord(e);
      if (!ex) continue;
      const x = ex.features ? ex.features : this.extractor.extract({ text: ex.text ?? "", task: ex.task }, new SparseFeatures(256));
      list.push({ x, task: ex.task, outcomes: ex.outcomes, weight: ex.weight ?? 1 });
    }
    const epochs = options.epochs ?? 1;
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const ex of list) {
        for (const o of ex.outcomes) this.learn(ex.x, o.model, o.quality, epoch === 0 ? o.costUsd : undefined, { ...(ex.task !== undefined ? { task: ex.task } : {}), weight: ex.weight, paced: false, shared: false });
      }
    }
    if (this.pacer && options.calibrate !== false && list.length > 0) this.pacer.lambda = this.calibrateLambda(list, this.pacer.budgetPerRequest);
    return this;
  }

  /**
   * The λ at which choosing greedily (posterior mean quality − λ·predicted cost) spends
   * `budgetPerRequest` on average over these examples (bisection in log λ).
   */
  calibrateLambda(examples: readonly { x: SparseFeatures; task: string | undefined; outcomes: TrainingExample["outcomes"] }[], budgetPerRequest: number): number {
    const spend = (lambda: number): number => {
      let total = 0;
      for (const ex of examples) {
        let best = Number.NEGATIVE_INFINITY;
        let bestCost = 0;
        for (const o of ex.outcomes) {
          const c = this.predictedCost(o.model, ex.task);
          const s = this.predictQuality(ex.x, o.model) - lambda * c;
          if (s > best) {
            best = s;
            bestCost = c;
          }
        }
        total += bestCost;
      }
      return total / examples.length;
    };
    let lo = Math.log(1e-3 / budgetPerRequest);
    let hi = Math.log(1e3 / budgetPerRequest);
    if (spend(Math.exp(lo)) <= budgetPerRequest) return Math.exp(lo);
    for (let i = 0; i < 40; i++) {
      const mid = (lo + hi) / 2;
      if (spend(Math.exp(mid)) > budgetPerRequest) lo = mid;
      else hi = mid;
    }
    return Math.exp(hi);
  }

  save(): ContextualSelectorState {
    const extractor = this.extractor.save ? this.extractor.save() : this.extractor instanceof HashedNgramExtractor ? this.extractor.options : undefined;
    return {
      kind: "contextual-selector",
      version: 1,
      dimensions: this.extractor.dimensions,
      ridge: this.ridge,
      lambda: this.#lambda,
      ...(this.pacer ? { pacer: this.pacer.save() } : {}),
      ...(extractor !== undefined ? { extractor } : {}),
      arms: [...this.#arms.values()].map((a) => ({
        model: a.model,
        count: a.predictor.count,
        mean: encodeFloats(a.predictor.mean),
        precision: encodeFloats(a.predictor.precision),
        cost: { sum: a.costSum, count: a.costCount, tasks: Object.fromEntries([...a.taskCost].map(([t, v]) => [t, [v.sum, v.count] as [number, number]])) },
      })),
    };
  }

  /** Replace what was learnt with a saved state (same feature dimensions). */
  restore(state: ContextualSelectorState): this {
    if (state?.kind !== "contextual-selector" || state.version !== 1) throw new ConfigError([{ path: "kind", message: "not a ContextualSelector state (version 1)" }], { title: "Invalid ContextualSelector state" });
    if (state.dimensions !== this.extractor.dimensions) throw new ConfigError([{ path: "dimensions", message: `state has ${state.dimensions} dimensions, the extractor ${this.extractor.dimensions}` }], { title: "Invalid ContextualSelector state" });
    this.#arms.clear();
    state.arms.forEach((a, k) => {
      const arm = this.#armFor(a.model);
      arm.predictor.mean.set(fromBase64(a.mean, state.dimensions, `arms[${k}].mean`));
      arm.predictor.precision.set(fromBase64(a.precision, state.dimensions, `arms[${k}].precision`));
      arm.predictor.count = a.count;
      arm.costSum = a.cost.sum;
      arm.costCount = a.cost.count;
      for (const [t, [sum, count]] of Object.entries(a.cost.tasks)) arm.taskCost.set(t, { sum, count });
    });
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
    this.#pendingById.clear();
    this.#pendingByModel.clear();
    this.#awaitingFeedback.clear();
  }
}

/** A decision record as a training example: the chosen model's observed quality. */
function fromRecord(r: DecisionRecord): TrainingExample | undefined {
  if (r.quality === undefined) return undefined;
  return {
    ...(r.features ? { features: SparseFeatures.fromJSON(r.features) } : {}),
    ...(r.task !== undefined ? { task: r.task } : {}),
    outcomes: [{ model: r.model, quality: r.quality, ...(r.costUsd !== undefined ? { costUsd: r.costUsd } : {}) }],
  };
}
