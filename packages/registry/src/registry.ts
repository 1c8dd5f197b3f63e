import {
  AbortError,
  type ArmStats,
  AuthenticationError,
  type Cache,
  type CapabilityName,
  ConfigError,
  type ConfigIssue,
  ContextLengthError,
  estimateRequestTokens,
  type ExclusionReason,
  type GenerateRequest,
  type GenerateResult,
  type HealthState,
  type HealthStatus,
  type HealthTracker,
  LruMap,
  type MetricsSnapshot,
  type Model,
  ModelNotFoundError,
  NoEligibleModelError,
  OrchestratorError,
  RateLimitError,
  REFERENCE_OUTPUT_TOKENS,
  REFERENCE_REQUEST,
  type StatsStore,
  type StreamChunk,
  toOrchestratorError,
} from "@orchestrator-ts/core";
import { CacheAffinity } from "./cache-affinity";
import { Emitter, type RegistryEvents } from "./events";
import type { CandidateExplanation, NoEligibleModelExplanation, SelectionExplanation } from "./explanation";
import { BUILD_MODELS, type FromConfigOptions, type RegistryConfig, type SkippedConfigModel, registryOptionsFromConfig } from "./from-config";
import { type NormalizedRequirements, type SelectionRequirements, languageMatches, normalizeRequirements } from "./requirements";
import { DEFAULT_REWARD, type RewardFunction } from "./reward";
import type { CandidateScore, ModelSelector, SelectionCandidate, SelectionContext } from "./selector";
import { abortableSleep } from "./sleep";
import { MemoryStatsStore } from "./stats-store";
import { UCBModelSelector } from "./ucb-selector";

export interface BackoffOptions {
  /** First retry delay. Default 200 ms. */
  initialMs?: number;
  /** Largest delay; a `retryAfterMs` above it falls back to another model instead of waiting. Default 5,000 ms. */
  maxMs?: number;
  /** Growth per retry. Default 2. */
  multiplier?: number;
  /** `"full"` (default): uniform in [0, delay]; `"equal"`: uniform in [delay/2, delay]; `"none"`. */
  jitter?: "full" | "equal" | "none";
}

export interface ModelRegistryOptions {
  /** How to pick among eligible models. Default `new UCBModelSelector()`. */
  modelSelector?: ModelSelector;
  /** Health monitor (`ModelHealthMonitor` from `@orchestrator-ts/health`): unavailable models are skipped. */
  healthMonitor?: HealthTracker;
  /** Where outcomes are recorded. Default a `MemoryStatsStore`; a Redis store shares them between processes. */
  statsStore?: StatsStore;
  /** Enabled on every registered model that has no cache of its own. */
  cache?: Cache;
  /** Retries of a retryable failure on the same model. Default 2. */
  maxRetries?: number;
  /** Other models tried after a model fails. Default 2. */
  maxFallbacks?: number;
  backoff?: BackoffOptions;
  /** How long `generate`/`stream` wait when every eligible model is at its limits. Default 10,000 ms. */
  waitForCapacityMs?: number;
  /** When every eligible model is unhealthy: `"exclude"` (default) rejects; `"least-bad"` uses the degraded ones, then the unhealthy ones. */
  unhealthyPolicy?: "exclude" | "least-bad";
  /** Trials a (task, model) pair needs before its own statistics replace the model's overall ones. Default 10. */
  taskMinTrials?: number;
  /** Recent selections remembered for `recordFeedback`. Default 10,000. */
  feedbackCapacity?: number;
  /** Source of jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * Explicit fallback chains: model name → the models to try, in order, when it fails (after its
   * retries), before the selector picks the next-best eligible model. A listed model must still
   * meet the call's requirements and be healthy; unregistered names are skipped. `maxFallbacks`
   * still bounds how many other models one call tries.
   */
  fallbacks?: Readonly<Record<string, readonly string[]>>;
  /** Deadline of each model call the registry makes, unless the request sets `timeoutMs`. Default: each model's own `timeoutMs`. */
  timeoutMs?: number;
}

export interface RegisterOptions {
  /** Replace a registered model of the same name instead of failing. */
  replace?: boolean;
}

export interface SelectOptions {
  /** The request to be sent: its size prices `maxCost` and its `task` picks task statistics. */
  request?: GenerateRequest;
}

/** One try within a registry call. */
export interface AttemptRecord {
  model: string;
  success: boolean;
  latencyMs: number;
  /** The failure's stable code (`rate_limit_error`…), when it failed. */
  errorCode?: string;
  /** What the registry did next: `retry` the same model, `fallback` to another, or `throw`. */
  next?: "retry" | "fallback" | "throw";
}

/** What `registry.generate` resolves to: the model's result plus how it was chosen. */
export interface RegistryResult extends GenerateResult {
  /** Pass to `recordFeedback` to rate this answer later. */
  selectionId: string;
  /** Why the model that answered was chosen. */
  explanation: SelectionExplanation;
  attempts: AttemptRecord[];
}

/** The finish chunk of a registry stream also says which selection produced it. */
export type RegistryStreamChunk = StreamChunk | (Extract<StreamChunk, { type: "finish" }> & { selectionId: string; attempts: AttemptRecord[] });

/** What `registry.stream` returns: iterate it once; `selectionId` and `explanation` are set once a model is chosen. */
export interface RegistryStream extends AsyncIterable<RegistryStreamChunk> {
  readonly selectionId: string | undefined;
  readonly explanation: SelectionExplanation | undefined;
  readonly attempts: readonly AttemptRecord[];
}

export interface ArmSummary {
  trials: number;
  successes: number;
  failures: number;
  successRate: number | undefined;
  meanReward: number | undefined;
  meanLatencyMs: number | undefined;
  totalCostUsd: number;
  meanQuality: number | undefined;
}

export interface ModelStatistics extends ArmSummary {
  model: string;
  provider: string;
  /** Per task tag. */
  tasks: Record<string, ArmSummary>;
  /** The model's own counters (all calls, also those made outside the registry). */
  metrics: MetricsSnapshot;
}

export interface RegistryStatistics {
  selector: string;
  models: ModelStatistics[];
}

// ---- internals ---------------------------------------------------------------------------------

/** A registered model plus the per-selection scratch fields the selector reads (reused, never reallocated). */
class Entry implements SelectionCandidate {
  readonly model: Model;
  order: number;
  estimatedCostUsd = 0;
  stats: Readonly<ArmStats> | undefined;
  statsScope: string | undefined;
  overall: Readonly<ArmStats> | undefined;
  // Exclusion of the current selection: a code, plus a detail string that already exists (no formatting on the hot path).
  code: string | undefined;
  detail: string | undefined;
  healthStatus: HealthState = "unknown";
  lastHealth: HealthState | undefined;
  consecutiveFailures = 0;
  consecutiveSuccesses = 0;
  /** Calls of `generate`/`stream` running on this model now: selections whose outcome is not recorded yet. */
  pending = 0;
  constructor(model: Model, order: number) {
    this.model = model;
    this.order = order;
  }
}

/** The models an explicit `fallbacks` entry puts next, and whose entry it is. */
/** The `from` of a chain that sends a cached request back to the model that answered it. */
const AFFINITY = "\u0000cache";

interface FallbackChain {
  from: string;
  names: readonly string[];
}

interface Picked {
  entry: Entry;
  explanation: SelectionExplanation | undefined;
}

interface FeedbackEntry {
  model: string;
  task: string | undefined;
  latencyMs: number;
  costUsd: number;
  reward: number;
  rewardFn: RewardFunction;
  rated: boolean;
}

const HEALTH_RANK: Record<HealthState, number> = { healthy: 0, unknown: 0, degraded: 1, unhealthy: 2 };

let selectionCounter = 0;
const SELECTION_PREFIX = `sel_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}_`;

function nextSelectionId(): string {
  selectionCounter++;
  return SELECTION_PREFIX + selectionCounter.toString(36);
}

function usd(value: number): string {
  return `$${value < 0.01 ? value.toPrecision(3) : value.toFixed(4)}`;
}

function summarize(s: Readonly<ArmStats>): ArmSummary {
  return {
    trials: s.trials,
    successes: s.successes,
    failures: s.failures,
    successRate: s.trials > 0 ? s.successes / s.trials : undefined,
    meanReward: s.trials > 0 ? s.rewardSum / s.trials : undefined,
    meanLatencyMs: s.trials > 0 ? s.latencyMsSum / s.trials : undefined,
    totalCostUsd: s.costUsdSum,
    meanQuality: s.qualityCount > 0 ? s.qualitySum / s.qualityCount : undefined,
  };
}

const NO_SKIPPED: readonly SkippedConfigModel[] = Object.freeze([]);

function checkFallbacks(issues: ConfigIssue[], value: unknown): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  if (value === undefined) return out;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    issues.push({ path: "fallbacks", message: `must map model names to lists of model names, got ${JSON.stringify(value)}` });
    return out;
  }
  for (const [name, list] of Object.entries(value)) {
    if (!Array.isArray(list) || !list.every((n) => typeof n === "string")) {
      issues.push({ path: `fallbacks.${name}`, message: `must be a list of model names, got ${JSON.stringify(list)}` });
      continue;
    }
    // The model itself never follows its own failure in the same call.
    out.set(name, Object.freeze([...new Set(list as string[])].filter((n) => n !== name)));
  }
  return out;
}

function checkCount(issues: ConfigIssue[], path: string, value: unknown, positive = false): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (positive && value === 0)) issues.push({ path, message: `must be a ${positive ? "positive" : "non-negative"} number, got ${JSON.stringify(value)}` });
}

/**
 * Registers models from any provider and picks one per request: filter by requirements, ask
 * the selector, call, record the outcome so the selector learns, retry and fall back on failure.
 */
export class ModelRegistry {
  readonly selector: ModelSelector;
  readonly statsStore: StatsStore;
  readonly healthMonitor: HealthTracker | undefined;
  readonly cache: Cache | undefined;
  /**
   * With a registry-level cache: which model answered a request, so an identical request goes
   * back to it and its cache answers, whichever model the selector would try now.
   */
  readonly #affinity: CacheAffinity | undefined;
  readonly maxRetries: number;
  readonly maxFallbacks: number;
  readonly waitForCapacityMs: number;
  readonly unhealthyPolicy: "exclude" | "least-bad";
  readonly taskMinTrials: number;
  /** Per-call deadline given to every model call without its own; `undefined` leaves it to each model. */
  readonly timeoutMs: number | undefined;
  readonly #fallbacks: Map<string, readonly string[]>;
  #skipped: readonly SkippedConfigModel[] = NO_SKIPPED;
  readonly #backoff: Required<BackoffOptions>;
  readonly #random: () => number;
  readonly #entries: Entry[] = [];
  readonly #byName = new Map<string, Entry>();
  readonly #feedback: LruMap<string, FeedbackEntry>;
  readonly #events = new Emitter<RegistryEvents>();
  // Scratch reused by every selection: selection is synchronous, so it is never shared by two at once.
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

  constructor(options: ModelRegistryOptions = {}) {
    const issues: ConfigIssue[] = [];
    checkCount(issues, "maxRetries", options.maxRetries);
    checkCount(issues, "maxFallbacks", options.maxFallbacks);
    checkCount(issues, "waitForCapacityMs", options.waitForCapacityMs);
    checkCount(issues, "taskMinTrials", options.taskMinTrials);
    checkCount(issues, "feedbackCapacity", options.feedbackCapacity, true);
    checkCount(issues, "backoff.initialMs", options.backoff?.initialMs);
    checkCount(issues, "backoff.maxMs", options.backoff?.maxMs);
    checkCount(issues, "backoff.multiplier", options.backoff?.multiplier);
    checkCount(issues, "timeoutMs", options.timeoutMs, true);
    const fallbacks = checkFallbacks(issues, options.fallbacks);
    const jitter = options.backoff?.jitter ?? "full";
    if (jitter !== "full" && jitter !== "equal" && jitter !== "none") issues.push({ path: "backoff.jitter", message: `must be "full", "equal" or "none", got ${JSON.stringify(jitter)}` });
    const policy = options.unhealthyPolicy ?? "exclude";
    if (policy !== "exclude" && policy !== "least-bad") issues.push({ path: "unhealthyPolicy", message: `must be "exclude" or "least-bad", got ${JSON.stringify(policy)}` });
    if (options.modelSelector !== undefined && typeof options.modelSelector?.select !== "function") issues.push({ path: "modelSelector", message: "must have a select(candidates, context) method" });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid ModelRegistry options" });
    this.selector = options.modelSelector ?? new UCBModelSelector();
    this.statsStore = options.statsStore ?? new MemoryStatsStore();
    this.healthMonitor = options.healthMonitor;
    this.cache = options.cache;
    this.#affinity = options.cache ? new CacheAffinity(options.cache) : undefined;
    this.maxRetries = Math.floor(options.maxRetries ?? 2);
    this.maxFallbacks = Math.floor(options.maxFallbacks ?? 2);
    this.waitForCapacityMs = options.waitForCapacityMs ?? 10_000;
    this.unhealthyPolicy = policy;
    this.taskMinTrials = options.taskMinTrials ?? 10;
    this.timeoutMs = options.timeoutMs;
    this.#fallbacks = fallbacks;
    this.#backoff = { initialMs: options.backoff?.initialMs ?? 200, maxMs: options.backoff?.maxMs ?? 5_000, multiplier: options.backoff?.multiplier ?? 2, jitter };
    this.#random = options.random ?? Math.random;
    this.#feedback = new LruMap(options.feedbackCapacity ?? 10_000);
    this.#context = { selectionId: undefined, request: undefined, task: undefined, requirements: {}, taskMinTrials: this.taskMinTrials, explain: false, statsStore: this.statsStore };
  }

  /**
   * A registry built from a parsed config file (the seed's `ModelRegistry.from_config`):
   * `await ModelRegistry.fromConfig(await loadModelConfig("config/models.yaml"))`. The selector
   * comes from `selector:`, retries, backoff, deadline and fallback chains from `execution:`, and
   * the models from `models:`, created through their provider plugins. Explicit `options` win over
   * the file. Models the config left out (lenient loading: a variable is not set) are listed in
   * `skippedModels`. `cache:` and `health:` are not built here: pass `cache` / `healthMonitor`.
   */
  static async fromConfig(config: RegistryConfig, options: FromConfigOptions = {}): Promise<ModelRegistry> {
    const build = config?.[BUILD_MODELS];
    if (typeof build !== "function") {
      throw new ConfigError([{ path: "config", message: "is not a parsed model config: load it with loadModelConfig() or parseModelConfig() from @orchestrator-ts/config" }], {
        title: "Cannot build a registry from this config",
      });
    }
    const { providers, modulePaths, cwd, ...explicit } = options;
    // Options first: a bad option fails before any model is created.
    const registry = new ModelRegistry(registryOptionsFromConfig(config, explicit));
    const built = await build.call(config, { ...(providers !== undefined ? { providers } : {}), ...(modulePaths !== undefined ? { modulePaths } : {}), ...(cwd !== undefined ? { cwd } : {}) });
    try {
      for (const model of built.models) registry.registerModel(model);
    } catch (error) {
      await Promise.allSettled(built.models.map((m) => m.cleanup()));
      throw error;
    }
    registry.#skipped = Object.freeze([...built.skipped]);
    return registry;
  }

  /** Configured models `fromConfig` left out, with the reason (`"OPENAI_API_KEY is not set"`). Empty otherwise. */
  get skippedModels(): readonly SkippedConfigModel[] {
    return this.#skipped;
  }

  /** The explicit fallback chains (model → models tried in order when it fails). */
  get fallbacks(): Readonly<Record<string, readonly string[]>> {
    return Object.fromEntries(this.#fallbacks);
  }

  // ---- models --------------------------------------------------------------------------------

  /** Add a model. A second model with a registered name is an error unless `{ replace: true }`. */
  registerModel<M extends Model>(model: M, options: RegisterOptions = {}): M {
    if (!model || typeof model !== "object" || typeof model.name !== "string" || typeof model.generate !== "function") {
      throw new ConfigError([{ path: "model", message: "registerModel expects a Model instance (a subclass of Model from @orchestrator-ts/core)" }], { title: "Cannot register model" });
    }
    const existing = this.#byName.get(model.name);
    if (existing) {
      if (!options.replace) {
        throw new ConfigError([{ path: "name", message: `a model named "${model.name}" is already registered; pass { replace: true } to replace it` }], { title: "Cannot register model" });
      }
      this.#remove(existing);
    }
    if (this.cache && !model.cache) model.enableCaching(this.cache);
    const entry = new Entry(model, this.#entries.length);
    this.#entries.push(entry);
    this.#byName.set(model.name, entry);
    this.healthMonitor?.watch(model);
    return model;
  }

  /** Remove a model; false when no model has that name. Its learnt statistics stay in the store. */
  unregisterModel(name: string): boolean {
    const entry = this.#byName.get(name);
    if (!entry) return false;
    this.#remove(entry);
    return true;
  }

  #remove(entry: Entry): void {
    const i = this.#entries.indexOf(entry);
    if (i >= 0) this.#entries.splice(i, 1);
    this.#entries.forEach((e, order) => {
      e.order = order;
    });
    this.#byName.delete(entry.model.name);
    this.healthMonitor?.unwatch(entry.model.name);
  }

  /** The registered model of that name; `ModelNotFoundError` (with close names) when there is none. */
  getModel(name: string): Model {
    const entry = this.#byName.get(name);
    if (!entry) throw new ModelNotFoundError(name, this.#entries.map((e) => e.model.name));
    return entry.model;
  }

  hasModel(name: string): boolean {
    return this.#byName.has(name);
  }

  listModels(filter: { provider?: string } = {}): Model[] {
    const out: Model[] = [];
    for (const e of this.#entries) if (filter.provider === undefined || e.model.provider === filter.provider) out.push(e.model);
    return out;
  }

  listProviders(): string[] {
    return [...new Set(this.#entries.map((e) => e.model.provider))];
  }

  get size(): number {
    return this.#entries.length;
  }

  // ---- events --------------------------------------------------------------------------------

  /** Subscribe to `selection`, `outcome`, `feedback` or `health`; returns the unsubscribe function. */
  on<K extends keyof RegistryEvents>(event: K, listener: (payload: RegistryEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof RegistryEvents>(event: K, listener: (payload: RegistryEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  // ---- selection -----------------------------------------------------------------------------

  /** The model the selector picks for these requirements (the seed's `select_model`). Synchronous. */
  selectModel(requirements?: SelectionRequirements, options: SelectOptions = {}): Model {
    const req = normalizeRequirements(requirements);
    const picked = this.#pick(req, options.request, false, undefined, 0);
    if (!picked) throw this.#noEligible(req, options.request, undefined, 0);
    if (this.#events.has("selection")) this.#events.emit("selection", { selectionId: undefined, model: picked.entry.model.name, task: options.request?.task, explanation: undefined, fallback: 0 });
    return picked.entry.model;
  }

  /**
   * The same decision as `selectModel`, with every candidate's score and every excluded model's
   * reason. When no model is eligible it explains that too: `model` is `undefined` and `excluded`
   * says why each model was left out (where `selectModel` throws `NoEligibleModelError`).
   */
  explainSelection(requirements?: SelectionRequirements, options: SelectOptions = {}): SelectionExplanation | NoEligibleModelExplanation {
    const req = normalizeRequirements(requirements);
    const picked = this.#pick(req, options.request, true, undefined, 0);
    if (!picked) {
      // Run the filters again so every model's reason is current (as #noEligible does).
      this.#eligible(req, options.request, undefined, 0);
      return { model: undefined, selector: this.selector.name, task: options.request?.task, candidates: [], excluded: this.#reasons(req) };
    }
    const explanation = picked.explanation as SelectionExplanation;
    if (this.#events.has("selection")) this.#events.emit("selection", { selectionId: undefined, model: picked.entry.model.name, task: options.request?.task, explanation, fallback: 0 });
    return explanation;
  }

  /** Static checks of one model against requirements; sets `entry.code`/`entry.detail`. */
  #check(e: Entry, req: NormalizedRequirements, promptTokens: number, request: GenerateRequest | undefined, skip: ReadonlySet<string> | undefined, minWindowAbove: number): boolean {
    const model = e.model;
    const caps = model.capabilities;
    e.code = undefined;
    e.detail = undefined;
    if (skip?.has(model.name)) return this.#exclude(e, "already_tried");
    if (req.capabilities) {
      for (const name of req.capabilities) {
        if (caps[name as CapabilityName] !== true) {
          e.detail = name;
          return this.#exclude(e, "capability");
        }
      }
    }
    if (req.providers && !req.providers.includes(model.provider)) return this.#exclude(e, "provider");
    if (req.excludeProviders?.includes(model.provider)) return this.#exclude(e, "provider_excluded");
    if (req.localOnly && !model.isLocal) return this.#exclude(e, "not_local");
    if (req.minContextWindow !== undefined && caps.contextWindow < req.minContextWindow) return this.#exclude(e, "context_window");
    if (minWindowAbove > 0 && caps.contextWindow <= minWindowAbove) return this.#exclude(e, "context_window_fallback");
    if (req.tasks) {
      for (const task of req.tasks) {
        if (!caps.tasks.includes(task)) {
          e.detail = task;
          return this.#exclude(e, "task");
        }
      }
    }
    if (req.languages) {
      for (const lang of req.languages) {
        if (!caps.languages.some((d) => languageMatches(d, lang))) {
          e.detail = lang;
          return this.#exclude(e, "language");
        }
      }
    }
    // Priced from one token estimate for all models (estimateCost would re-count the prompt per model).
    const pin = caps.inputCostPerToken;
    const pout = caps.outputCostPerToken;
    if (pin === 0 && pout === 0) e.estimatedCostUsd = 0;
    else {
      const output = request ? (request.maxTokens ?? Math.min(REFERENCE_OUTPUT_TOKENS, caps.maxOutputTokens ?? REFERENCE_OUTPUT_TOKENS)) : REFERENCE_REQUEST.outputTokens;
      e.estimatedCostUsd = promptTokens * pin + output * pout;
    }
    if (req.maxCost !== undefined && e.estimatedCostUsd > req.maxCost) return this.#exclude(e, "cost");
    if (req.minSpeed !== undefined) {
      const tps = model.metrics.tokensPerSecond ?? caps.tokensPerSecond;
      if (tps !== undefined && tps < req.minSpeed) return this.#exclude(e, "speed");
    }
    if (req.maxLatencyMs !== undefined) {
      const p95 = model.metrics.latencyP95Ms;
      if (p95 !== undefined && p95 > req.maxLatencyMs) return this.#exclude(e, "latency");
    }
    return true;
  }

  #exclude(e: Entry, code: string): false {
    e.code = code;
    return false;
  }

  /** Fill the candidate scratch list; returns how many were excluded only by health and by limits. */
  #eligible(req: NormalizedRequirements, request: GenerateRequest | undefined, skip: ReadonlySet<string> | undefined, minWindowAbove: number): { unhealthy: number; saturated: number } {
    const out = this.#candidates;
    out.length = 0;
    let unhealthy = 0;
    let saturated = 0;
    const promptTokens = request ? estimateRequestTokens(request) : REFERENCE_REQUEST.inputTokens;
    const monitor = this.healthMonitor;
    for (const e of this.#entries) {
      if (!this.#check(e, req, promptTokens, request, skip, minWindowAbove)) continue;
      if (this.selector.exclude) {
        this.#fillStats(e, request?.task);
        const reason = this.selector.exclude(e, this.#ctx(req, request, false));
        if (reason !== undefined) {
          e.detail = reason;
          this.#exclude(e, "selector");
          continue;
        }
      }
      if (monitor) {
        const availability = monitor.availability(e.model.name);
        e.healthStatus = availability.status;
        this.#observeHealth(e, availability.available, availability.reason);
        if (!availability.available) {
          e.detail = availability.reason;
          this.#exclude(e, "unhealthy");
          unhealthy++;
          continue;
        }
      }
      if (e.model.rateLimiter.isSaturated()) {
        this.#exclude(e, "saturated");
        saturated++;
        continue;
      }
      out.push(e);
    }
    return { unhealthy, saturated };
  }

  #fillStats(e: Entry, task: string | undefined): void {
    const store = this.statsStore;
    const overall = store.get(e.model.name);
    e.overall = overall;
    e.stats = overall;
    e.statsScope = undefined;
    if (task !== undefined) {
      const scoped = store.get(e.model.name, task);
      if (scoped && scoped.trials >= this.taskMinTrials) {
        e.stats = scoped;
        e.statsScope = task;
      }
    }
  }

  #ctx(req: NormalizedRequirements, request: GenerateRequest | undefined, explain: boolean, selectionId?: string): SelectionContext {
    const ctx = this.#context;
    ctx.selectionId = selectionId;
    ctx.request = request;
    ctx.task = request?.task;
    ctx.requirements = req;
    ctx.explain = explain;
    return ctx;
  }

  /** Filter, then ask the selector. `undefined` when nothing is eligible (the caller builds the error). */
  #pick(
    req: NormalizedRequirements,
    request: GenerateRequest | undefined,
    explain: boolean,
    skip: ReadonlySet<string> | undefined,
    minWindowAbove: number,
    chain?: FallbackChain,
    selectionId?: string,
  ): Picked | undefined {
    const counts = this.#eligible(req, request, skip, minWindowAbove);
    const candidates = this.#candidates;
    if (candidates.length === 0 && counts.unhealthy > 0 && this.unhealthyPolicy === "least-bad") {
      // Least bad: the best health state among the unhealthy-only exclusions, if not at their limits.
      let rank = 3;
      for (const e of this.#entries) if (e.code === "unhealthy" && !e.model.rateLimiter.isSaturated()) rank = Math.min(rank, HEALTH_RANK[e.healthStatus]);
      for (const e of this.#entries) {
        if (e.code === "unhealthy" && HEALTH_RANK[e.healthStatus] === rank && !e.model.rateLimiter.isSaturated()) {
          e.code = undefined;
          candidates.push(e);
        }
      }
    }
    if (candidates.length === 0) return undefined;
    const task = request?.task;
    for (const e of candidates) this.#fillStats(e, task);
    if (chain) {
      // An explicit fallback chain decides before the selector: its first eligible model.
      for (const name of chain.names) {
        const index = candidates.findIndex((c) => c.model.name === name);
        if (index < 0) continue;
        const entry = candidates[index] as Entry;
        if (!explain) return { entry, explanation: undefined };
        const list: CandidateExplanation[] = candidates.map((c, i) => ({
          model: c.model.name,
          provider: c.model.provider,
          estimatedCostUsd: c.estimatedCostUsd,
          statsScope: c.statsScope,
          pending: c.pending,
          chosen: i === index,
          score: Number.NaN,
          note:
            chain.from === AFFINITY
              ? i === index
                ? "answered this request before: its cached answer is reused"
                : "not scored: a cached answer exists"
              : i === index
                ? `explicit fallback for "${chain.from}" (fallbacks: ${chain.names.join(" → ")})`
                : "not scored: an explicit fallback was chosen",
        }));
        const explanation: SelectionExplanation = { model: entry.model, selector: this.selector.name, task, candidates: list, excluded: this.#reasons(req) };
        if (chain.from !== AFFINITY) explanation.fallbackFor = chain.from;
        return { entry, explanation };
      }
    }
    // The selection id lets a contextual selector match this decision's features to its outcome.
    const choice = this.selector.select(candidates, this.#ctx(req, request, explain, selectionId));
    const index = choice?.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= candidates.length) {
      throw new ConfigError([{ path: "modelSelector", message: `selector "${this.selector.name}" returned index ${String(index)} for ${candidates.length} candidates` }], { title: "Invalid selector result" });
    }
    const entry = candidates[index] as Entry;
    if (!explain) return { entry, explanation: undefined };
    const scores = choice.scores;
    const list: CandidateExplanation[] = candidates.map((c, i) => {
      const s: CandidateScore = scores?.[i] ?? { score: Number.NaN, note: "the selector reported no score" };
      return { model: c.model.name, provider: c.model.provider, estimatedCostUsd: c.estimatedCostUsd, statsScope: c.statsScope, pending: c.pending, chosen: i === index, ...s };
    });
    return { entry, explanation: { model: entry.model, selector: this.selector.name, task, candidates: list, excluded: this.#reasons(req) } };
  }

  #reasons(req: NormalizedRequirements): ExclusionReason[] {
    const out: ExclusionReason[] = [];
    for (const e of this.#entries) if (e.code !== undefined) out.push({ model: e.model.name, code: e.code, reason: this.#describe(e, req) });
    return out;
  }

  #describe(e: Entry, req: NormalizedRequirements): string {
    const m = e.model;
    const caps = m.capabilities;
    switch (e.code) {
      case "already_tried":
        return "already failed in this call";
      case "capability":
        return `lacks capability "${e.detail}"`;
      case "provider":
        return `provider "${m.provider}" is not one of ${(req.providers ?? []).join(", ")}`;
      case "provider_excluded":
        return `provider "${m.provider}" is excluded`;
      case "not_local":
        return "is not a local model (localOnly)";
      case "context_window":
        return `context window ${caps.contextWindow} tokens is below minContextWindow ${req.minContextWindow}`;
      case "context_window_fallback":
        return `context window ${caps.contextWindow} tokens is not larger than the window that was too small`;
      case "task":
        return `does not declare task "${e.detail}"`;
      case "language":
        return `does not declare language "${e.detail}"`;
      case "cost":
        return `estimated cost ${usd(e.estimatedCostUsd)} exceeds maxCost ${usd(req.maxCost ?? 0)}`;
      case "speed": {
        const observed = m.metrics.tokensPerSecond;
        const tps = observed ?? caps.tokensPerSecond ?? 0;
        return `${observed === undefined ? "declared" : "observed median"} speed ${tps.toFixed(1)} tokens/s is below minSpeed ${req.minSpeed}`;
      }
      case "latency":
        return `observed p95 latency ${Math.round(m.metrics.latencyP95Ms ?? 0)} ms exceeds maxLatencyMs ${req.maxLatencyMs}`;
      case "selector":
        return `${this.selector.name} selector: ${e.detail}`;
      case "unhealthy":
        return `unavailable (${e.healthStatus})${e.detail ? `: ${e.detail}` : ""}`;
      case "saturated": {
        const c = m.constraints;
        const limits = [c.maxConcurrentRequests !== undefined ? `${c.maxConcurrentRequests} concurrent` : "", c.maxRequestsPerMinute !== undefined ? `${c.maxRequestsPerMinute}/min` : ""].filter(Boolean).join(", ");
        return `at its request limits${limits ? ` (${limits})` : ""}`;
      }
      default:
        return e.code ?? "excluded";
    }
  }

  #noEligible(req: NormalizedRequirements, request: GenerateRequest | undefined, skip: ReadonlySet<string> | undefined, minWindowAbove: number, waitedMs?: number): NoEligibleModelError {
    // Run the filters again so every model's reason is current.
    this.#eligible(req, request, skip, minWindowAbove);
    const excluded = this.#reasons(req);
    if (waitedMs !== undefined) {
      const detail = excluded.map((e) => `${e.model}: ${e.reason}`).join("; ");
      return new NoEligibleModelError(excluded, `Every eligible model stayed at its request limits for ${Math.round(waitedMs)} ms (${detail}).`);
    }
    return new NoEligibleModelError(excluded);
  }

  // ---- execution -----------------------------------------------------------------------------

  /**
   * Select for a call (waiting up to `waitForCapacityMs` while every eligible model is at its
   * limits) and count the chosen model in flight. A stream's `run` can stop the wait (`return()`).
   */
  async #pickForCall(
    req: NormalizedRequirements,
    request: GenerateRequest,
    skip: ReadonlySet<string> | undefined,
    minWindowAbove: number,
    chain: FallbackChain | undefined,
    selectionId: string,
    run?: StreamRun,
  ): Promise<Picked | undefined> {
    const started = performance.now();
    let delayMs = 5;
    for (;;) {
      const picked = this.#pick(req, request, true, skip, minWindowAbove, chain, selectionId);
      if (picked) {
        // In flight from the moment it is chosen: concurrent selections made before this call's
        // continuation runs already see it (the caller releases it when the model's attempts end).
        picked.entry.pending++;
        return picked;
      }
      const saturated = this.#entries.some((e) => e.code === "saturated");
      const waited = performance.now() - started;
      if (!saturated || waited >= this.waitForCapacityMs) return undefined;
      await abortableSleep(Math.min(delayMs, this.waitForCapacityMs - waited), run ? run.waitSignal() : request.signal);
      delayMs = Math.min(delayMs * 2, 100);
    }
  }

  /** The request as sent to models: with the registry's deadline when it has one and the request none. */
  #withDeadline(request: GenerateRequest): GenerateRequest {
    return this.timeoutMs !== undefined && request.timeoutMs === undefined ? { ...request, timeoutMs: this.timeoutMs } : request;
  }

  /** The fallback chain after `failed` fails: its own list first, then what remains of the current chain. */
  #chainAfter(failed: string, current: FallbackChain | undefined): FallbackChain | undefined {
    const own = this.#fallbacks.get(failed);
    if (own === undefined || own.length === 0) return current;
    if (current === undefined) return { from: failed, names: own };
    return { from: failed, names: [...new Set([...own, ...current.names])] };
  }

  #backoffDelay(retry: number, error: OrchestratorError): number | undefined {
    const b = this.#backoff;
    const base = Math.min(b.maxMs, b.initialMs * b.multiplier ** retry);
    const jittered = b.jitter === "none" ? base : b.jitter === "equal" ? base / 2 + (this.#random() * base) / 2 : this.#random() * base;
    if (RateLimitError.isInstance(error) && error.retryAfterMs !== undefined) {
      // Waiting longer than the backoff cap is worse than asking another model.
      if (error.retryAfterMs > b.maxMs) return undefined;
      return Math.max(jittered, error.retryAfterMs);
    }
    return jittered;
  }

  /** Record a failed attempt and decide what follows: a retry after `delayMs`, a fallback, or throwing. */
  #failedAttempt(
    thrown: unknown,
    entry: Entry,
    task: string | undefined,
    selectionId: string,
    attempt: number,
    retry: number,
    startedAt: number,
    attempts: AttemptRecord[],
    mustThrow: boolean,
  ): { error: OrchestratorError; next: "retry" | "fallback" | "throw"; delayMs: number } {
    const error = toOrchestratorError(thrown, { provider: entry.model.provider, model: entry.model.name });
    const latencyMs = performance.now() - startedAt;
    this.#recordFailure(entry, task, selectionId, attempt, latencyMs, error);
    let next: "retry" | "fallback" | "throw" = mustThrow ? "throw" : this.#decide(error, retry, entry);
    let delayMs = 0;
    if (next === "retry") {
      const backoff = this.#backoffDelay(retry, error);
      if (backoff === undefined) next = "fallback";
      else delayMs = backoff;
    }
    attempts.push({ model: entry.model.name, success: false, latencyMs, errorCode: error.code, next });
    return { error, next, delayMs };
  }

  /** What to do after a failed attempt. */
  #decide(error: OrchestratorError, retry: number, entry: Entry): "retry" | "fallback" | "throw" {
    if (AbortError.isInstance(error)) return "throw";
    if (ContextLengthError.isInstance(error) || AuthenticationError.isInstance(error)) return "fallback";
    if (!error.retryable) return "throw";
    if (retry >= this.maxRetries) return "fallback";
    // The health monitor just opened its circuit: another try would only add load to a dead provider.
    if (this.healthMonitor && this.healthMonitor.availability(entry.model.name).status === "unhealthy") return "fallback";
    return "retry";
  }

  #recordSuccess(entry: Entry, task: string | undefined, selectionId: string, attempt: number, latencyMs: number, costUsd: number | undefined, cached: boolean): void {
    const name = entry.model.name;
    entry.consecutiveFailures = 0;
    entry.consecutiveSuccesses++;
    // A cache hit says nothing about the provider: it teaches the bandit nothing.
    if (cached) return;
    const rewardFn = this.selector.reward ?? DEFAULT_REWARD;
    const overall = this.statsStore.get(name);
    const assumedQuality = overall && overall.qualityCount > 0 ? overall.qualitySum / overall.qualityCount : rewardFn.qualityPrior;
    const cost = costUsd ?? entry.estimatedCostUsd;
    const reward = rewardFn.of({ success: true, latencyMs, costUsd: cost, quality: assumedQuality });
    const outcome = { success: true, reward, latencyMs, costUsd: cost };
    this.statsStore.record(name, outcome);
    if (task !== undefined) this.statsStore.record(name, outcome, task);
    this.selector.update?.({ type: "outcome", selectionId, model: name, task, success: true, reward, latencyMs, costUsd });
    this.healthMonitor?.recordSuccess(name, latencyMs);
    this.#feedback.set(selectionId, { model: name, task, latencyMs, costUsd: cost, reward, rewardFn, rated: false });
    this.#observeHealth(entry);
    if (this.#events.has("outcome")) this.#events.emit("outcome", { selectionId, model: name, task, success: true, reward, latencyMs, costUsd, error: undefined, attempt });
  }

  #recordFailure(entry: Entry, task: string | undefined, selectionId: string, attempt: number, latencyMs: number, error: OrchestratorError): void {
    // The caller's own abort is not the model's failure.
    if (AbortError.isInstance(error)) return;
    const name = entry.model.name;
    entry.consecutiveSuccesses = 0;
    entry.consecutiveFailures++;
    const outcome = { success: false, reward: 0, latencyMs };
    this.statsStore.record(name, outcome);
    if (task !== undefined) this.statsStore.record(name, outcome, task);
    // Failed attempts get their own id so a forgetting selector never confuses them with the answer.
    if (this.selector.update) this.selector.update({ type: "outcome", selectionId: `${selectionId}#${attempt}`, model: name, task, success: false, reward: 0, latencyMs, costUsd: undefined });
    this.healthMonitor?.recordFailure(name, error);
    this.#observeHealth(entry);
    if (this.#events.has("outcome")) this.#events.emit("outcome", { selectionId, model: name, task, success: false, reward: 0, latencyMs, costUsd: undefined, error, attempt });
  }

  #derivedHealth(e: Entry): HealthState {
    if (e.consecutiveFailures >= 3) return "unhealthy";
    const rate = e.model.metrics.successRate;
    if (rate === undefined) return "unknown";
    if (e.consecutiveFailures > 0 || rate < 0.9) return "degraded";
    return "healthy";
  }

  #observeHealth(e: Entry, available?: boolean, reason?: string): void {
    let status: HealthState;
    if (this.healthMonitor) {
      if (available === undefined) {
        const a = this.healthMonitor.availability(e.model.name);
        available = a.available;
        reason = a.reason;
        status = a.status;
      } else status = e.healthStatus;
    } else {
      status = this.#derivedHealth(e);
      available = true;
    }
    e.healthStatus = status;
    if (e.lastHealth === status) return;
    const first = e.lastHealth === undefined;
    e.lastHealth = status;
    if (!first || status !== "unknown") this.#events.emit("health", { model: e.model.name, status, available, reason });
  }

  /** The affinity key of a cacheable request, or `undefined` when there is no registry cache or the request bypasses it. */
  #affinityKey(request: GenerateRequest, requirements: SelectionRequirements | undefined): string | undefined {
    return this.#affinity?.key(request, requirements);
  }

  #affinityChain(key: string | undefined): FallbackChain | undefined {
    if (key === undefined) return undefined;
    const name = this.#affinity?.get(key);
    return name === undefined ? undefined : { from: AFFINITY, names: [name] };
  }

  /**
   * Select a model, call it, record the outcome (the selector learns from every call), retry
   * retryable failures with backoff and fall back to the next-best model.
   */
  async generate(request: GenerateRequest, requirements?: SelectionRequirements): Promise<RegistryResult> {
    const req = normalizeRequirements(requirements);
    const selectionId = nextSelectionId();
    if (this.#events.has("call")) this.#events.emit("call", { selectionId, request, requirements, stream: false });
    const task = request.task;
    const attempts: AttemptRecord[] = [];
    const callRequest = this.#withDeadline(request);
    let tried: Set<string> | undefined;
    let chain: FallbackChain | undefined;
    let minWindowAbove = 0;
    let lastError: OrchestratorError | undefined;
    let attempt = 0;
    const affinityKey = this.#affinityKey(request, requirements);
    chain = this.#affinityChain(affinityKey);
    for (let fallback = 0; fallback <= this.maxFallbacks; fallback++) {
      const picked = await this.#pickForCall(req, request, tried, minWindowAbove, chain, selectionId);
      if (!picked) {
        if (lastError) throw lastError;
        throw this.#noEligible(req, request, tried, minWindowAbove, this.#entries.some((e) => e.code === "saturated") ? this.waitForCapacityMs : undefined);
      }
      const { entry } = picked;
      const explanation = picked.explanation as SelectionExplanation;
      if (this.#events.has("selection")) this.#events.emit("selection", { selectionId, model: entry.model.name, task, explanation, fallback });
      if (affinityKey !== undefined) this.#affinity?.set(affinityKey, entry.model.name);
      let next: "retry" | "fallback" | "throw" = "retry";
      try {
        for (let retry = 0; next === "retry"; retry++) {
          attempt++;
          const started = performance.now();
          try {
            const result = await entry.model.generate(callRequest);
            this.#recordSuccess(entry, task, selectionId, attempt, result.latencyMs, result.costUsd, result.cached);
            attempts.push({ model: entry.model.name, success: true, latencyMs: result.latencyMs });
            return { ...result, selectionId, explanation, attempts };
          } catch (thrown) {
            const failed = this.#failedAttempt(thrown, entry, task, selectionId, attempt, retry, started, attempts, false);
            lastError = failed.error;
            next = failed.next;
            if (next === "throw") throw failed.error;
            if (ContextLengthError.isInstance(failed.error)) minWindowAbove = Math.max(minWindowAbove, entry.model.capabilities.contextWindow);
            if (next === "retry") await abortableSleep(failed.delayMs, request.signal);
          }
        }
      } finally {
        // Counted in flight by #pickForCall; retries on the same model stay in flight.
        entry.pending--;
      }
      tried ??= new Set();
      tried.add(entry.model.name);
      chain = this.#chainAfter(entry.model.name, chain);
    }
    throw lastError ?? new NoEligibleModelError([]);
  }

  /**
   * Like `generate`, streamed. A failure before the first chunk retries and falls back
   * transparently; a failure after it rejects with the typed error (never a silently cut answer).
   */
  stream(request: GenerateRequest, requirements?: SelectionRequirements): RegistryStream {
    const run = new StreamRun(this.#streamHooks, request, normalizeRequirements(requirements), requirements);
    let started = false;
    return {
      get selectionId() {
        return run.selectionId;
      },
      get explanation() {
        return run.explanation;
      },
      get attempts() {
        return run.attempts;
      },
      [Symbol.asyncIterator]: () => {
        if (started) throw new TypeError("A registry stream can be iterated only once.");
        started = true;
        return run;
      },
    };
  }

  // The steps of a stream that need this registry's internals; the per-chunk path lives in StreamRun.
  readonly #streamHooks: StreamRunHooks = {
    begin: (run) => this.#beginStream(run),
    recover: (run, thrown) => this.#recoverStream(run, thrown),
    complete: (run) => this.#completeStream(run),
  };

  /** First step of a stream: the selection id, the affinity chain, then the first model's attempt. */
  #beginStream(run: StreamRun): Promise<void> {
    run.selectionId = nextSelectionId();
    if (this.#events.has("call")) this.#events.emit("call", { selectionId: run.selectionId, request: run.request, requirements: run.requirements, stream: true });
    run.callRequest = this.#withDeadline(run.request);
    run.affinityKey = this.#affinityKey(run.request, run.requirements);
    run.chain = this.#affinityChain(run.affinityKey);
    return this.#pickForStream(run);
  }

  /** Select the model for `run.fallback` (waiting for capacity when every one is at its limits) and start its first attempt. */
  async #pickForStream(run: StreamRun): Promise<void> {
    if (run.fallback > this.maxFallbacks) throw run.lastError ?? new NoEligibleModelError([]);
    const selectionId = run.selectionId as string;
    const picked = await this.#pickForCall(run.req, run.request, run.tried, run.minWindowAbove, run.chain, selectionId, run);
    if (!picked) {
      if (run.lastError) throw run.lastError;
      throw this.#noEligible(run.req, run.request, run.tried, run.minWindowAbove, this.#entries.some((e) => e.code === "saturated") ? this.waitForCapacityMs : undefined);
    }
    const { entry } = picked;
    run.held = entry;
    if (run.closed) {
      // The caller left while this selection was waiting: nothing will run on it.
      run.release();
      return;
    }
    if (run.affinityKey !== undefined) this.#affinity?.set(run.affinityKey, entry.model.name);
    run.explanation = picked.explanation;
    if (this.#events.has("selection")) this.#events.emit("selection", { selectionId, model: entry.model.name, task: run.request.task, explanation: picked.explanation, fallback: run.fallback });
    run.entry = entry;
    run.retry = 0;
    run.startAttempt();
  }

  /**
   * An attempt failed: record it, then retry the same model (after its backoff), fall back to the
   * next one, or throw. Chunks already reached the caller: another model cannot continue this answer.
   */
  async #recoverStream(run: StreamRun, thrown: unknown): Promise<void> {
    const entry = run.entry as Entry;
    const failed = this.#failedAttempt(thrown, entry, run.request.task, run.selectionId as string, run.attempt, run.retry, run.startedAt, run.attempts, run.sent > 0);
    run.lastError = failed.error;
    if (failed.next === "throw") throw failed.error;
    if (ContextLengthError.isInstance(failed.error)) run.minWindowAbove = Math.max(run.minWindowAbove, entry.model.capabilities.contextWindow);
    if (failed.next === "retry") {
      // return() stops this wait at once (the run's own signal), as does the request's abort.
      await abortableSleep(failed.delayMs, run.waitSignal());
      if (run.closed) return;
      run.retry++;
      run.startAttempt();
      return;
    }
    run.release();
    run.tried ??= new Set();
    run.tried.add(entry.model.name);
    run.chain = this.#chainAfter(entry.model.name, run.chain);
    run.fallback++;
    await this.#pickForStream(run);
  }

  /** The model's stream ended: record the outcome; the registry's finish chunk says which selection it was. */
  #completeStream(run: StreamRun): RegistryStreamChunk {
    const entry = run.entry as Entry;
    const finish = run.finish;
    const latencyMs = finish?.latencyMs ?? performance.now() - run.startedAt;
    this.#recordSuccess(entry, run.request.task, run.selectionId as string, run.attempt, latencyMs, finish?.costUsd, finish?.cached === true);
    run.attempts.push({ model: entry.model.name, success: true, latencyMs });
    return { ...(finish ?? { type: "finish" }), selectionId: run.selectionId as string, attempts: run.attempts };
  }

  /**
   * A late quality signal in [0, 1] for an answer (was it right?). Applies to the same
   * statistics the call was recorded in (overall and task). False when the selection is unknown,
   * was forgotten (only the most recent `feedbackCapacity` are kept), came from the cache, or
   * was already rated.
   */
  recordFeedback(selectionId: string, feedback: { quality: number }): boolean {
    const quality = feedback?.quality;
    if (typeof quality !== "number" || !(quality >= 0 && quality <= 1)) {
      throw new ConfigError([{ path: "quality", message: `must be a number in [0, 1], got ${JSON.stringify(quality)}` }], { title: "Invalid feedback" });
    }
    const entry = this.#feedback.get(selectionId);
    if (!entry || entry.rated) return false;
    entry.rated = true;
    const reward = entry.rewardFn.of({ success: true, latencyMs: entry.latencyMs, costUsd: entry.costUsd, quality });
    const delta = { reward: reward - entry.reward, rewardSq: reward * reward - entry.reward * entry.reward, quality };
    this.statsStore.adjust(entry.model, delta);
    if (entry.task !== undefined) this.statsStore.adjust(entry.model, delta, entry.task);
    this.selector.update?.({ type: "feedback", selectionId, model: entry.model, task: entry.task, previousReward: entry.reward, reward, quality });
    if (this.#events.has("feedback")) this.#events.emit("feedback", { selectionId, model: entry.model, task: entry.task, quality, previousReward: entry.reward, reward });
    return true;
  }

  // ---- statistics and health ------------------------------------------------------------------

  getStatistics(): RegistryStatistics {
    const models: ModelStatistics[] = [];
    // Maps, then fromEntries: a task named "__proto__" is reported as an own key like any other.
    const tasks = new Map<string, Map<string, ArmSummary>>();
    for (const { model, scope, stats } of this.statsStore.entries()) {
      if (scope === undefined) continue;
      let byTask = tasks.get(model);
      if (!byTask) tasks.set(model, (byTask = new Map()));
      byTask.set(scope, summarize(stats));
    }
    for (const e of this.#entries) {
      const name = e.model.name;
      const overall = this.statsStore.get(name);
      const base = overall ? summarize(overall) : summarize({ trials: 0, successes: 0, failures: 0, rewardSum: 0, rewardSqSum: 0, latencyMsSum: 0, costUsdSum: 0, qualitySum: 0, qualityCount: 0, updatedAt: 0 });
      const byTask = tasks.get(name);
      models.push({ model: name, provider: e.model.provider, ...base, tasks: byTask ? Object.fromEntries(byTask) : {}, metrics: e.model.metrics.snapshot() });
    }
    return { selector: this.selector.name, models };
  }

  /** Forget what was learnt: the stats store, the selector's own state and pending feedback. Model metrics stay. */
  resetStatistics(): void {
    this.statsStore.reset();
    this.selector.reset?.();
    this.#feedback.clear();
    for (const e of this.#entries) {
      e.consecutiveFailures = 0;
      e.consecutiveSuccesses = 0;
    }
  }

  /** Health of a model: from the health monitor when there is one, else derived from its live calls. */
  async getModelHealth(name: string): Promise<HealthStatus> {
    const entry = this.#byName.get(name);
    if (!entry) throw new ModelNotFoundError(name, this.#entries.map((e) => e.model.name));
    if (this.healthMonitor) return this.healthMonitor.getHealth(name);
    const status = this.#derivedHealth(entry);
    const issues: string[] = [];
    const metrics = entry.model.metrics;
    if (entry.consecutiveFailures > 0) issues.push(`${entry.consecutiveFailures} consecutive failed calls`);
    if (metrics.successRate !== undefined && metrics.successRate < 0.9) issues.push(`success rate ${(metrics.successRate * 100).toFixed(0)}% over ${metrics.requests} calls`);
    if (metrics.lastError && status !== "healthy") issues.push(`last error: ${metrics.lastError.code}: ${metrics.lastError.message}`);
    return {
      isHealthy: status !== "unhealthy",
      status,
      issues,
      consecutiveFailures: entry.consecutiveFailures,
      consecutiveSuccesses: entry.consecutiveSuccesses,
      lastCheckedAt: undefined,
      latencyMs: metrics.latencyP50Ms,
    };
  }

  /** Release every model's resources and close the stats store. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.#entries.map((e) => e.model.cleanup()));
    await this.statsStore.close?.();
  }

  /** Best-effort check so an unknown thrown value never escapes untyped. */
  static isTypedError(value: unknown): value is OrchestratorError {
    return OrchestratorError.isInstance(value);
  }
}

interface StreamRunHooks {
  begin(run: StreamRun): Promise<void>;
  recover(run: StreamRun, thrown: unknown): Promise<void>;
  complete(run: StreamRun): RegistryStreamChunk;
}

const RUN_DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

/**
 * One `registry.stream` call: select, stream from the model, retry or fall back before the first
 * chunk, record the outcome. Hand-written rather than an `async function*` so that a chunk costs
 * one `then` on the model's stream instead of a generator's promise and microtasks per chunk; the
 * rare steps (selection, recovery) are async functions of the registry.
 */
class StreamRun implements AsyncIterableIterator<RegistryStreamChunk> {
  readonly request: GenerateRequest;
  readonly req: NormalizedRequirements;
  readonly requirements: SelectionRequirements | undefined;
  readonly attempts: AttemptRecord[] = [];
  readonly #hooks: StreamRunHooks;
  selectionId: string | undefined;
  explanation: SelectionExplanation | undefined;
  callRequest: GenerateRequest;
  affinityKey: string | undefined;
  chain: FallbackChain | undefined;
  tried: Set<string> | undefined;
  minWindowAbove = 0;
  lastError: OrchestratorError | undefined;
  fallback = 0;
  retry = 0;
  attempt = 0;
  entry: Entry | undefined;
  startedAt = 0;
  sent = 0;
  finish: Extract<StreamChunk, { type: "finish" }> | undefined;
  /** The model this run counts in flight (`Entry.pending`), from its selection until its attempts end. */
  held: Entry | undefined;
  #inner: AsyncIterator<StreamChunk> | undefined;
  #openError: { error: unknown } | undefined;
  #state: "idle" | "open" | "closed" = "idle";
  // Made only when the run has to wait (backoff, capacity): return() aborts it to end the wait at once.
  #stop: AbortController | undefined;
  #unlinkStop: (() => void) | undefined;

  constructor(hooks: StreamRunHooks, request: GenerateRequest, req: NormalizedRequirements, requirements: SelectionRequirements | undefined) {
    this.#hooks = hooks;
    this.request = request;
    this.callRequest = request;
    this.req = req;
    this.requirements = requirements;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RegistryStreamChunk> {
    return this;
  }

  /** The caller left (`return()`) or the run ended. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /** The held model is no longer in flight for this run. Idempotent. */
  release(): void {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    held.pending--;
  }

  /** What a wait of this run listens to: aborted by the request's signal and by `return()`. */
  waitSignal(): AbortSignal {
    if (this.#stop === undefined) {
      const stop = new AbortController();
      this.#stop = stop;
      const outer = this.request.signal;
      if (outer?.aborted) stop.abort(outer.reason);
      else if (outer) {
        const onAbort = () => stop.abort(outer.reason);
        outer.addEventListener("abort", onAbort, { once: true });
        this.#unlinkStop = () => outer.removeEventListener("abort", onAbort);
      }
    }
    return this.#stop.signal;
  }

  /** The run is over: nothing of it stays in flight, nothing listens to the caller's signal. */
  #end(): void {
    this.#state = "closed";
    this.#inner = undefined;
    this.release();
    this.#unlinkStop?.();
    this.#unlinkStop = undefined;
  }

  /** A new attempt on `entry`. A model whose stream() throws fails at the first next(), as a failed call. */
  startAttempt(): void {
    this.attempt++;
    this.startedAt = performance.now();
    this.sent = 0;
    this.finish = undefined;
    this.#inner = undefined;
    this.#openError = undefined;
    try {
      this.#inner = (this.entry as Entry).model.stream(this.callRequest)[Symbol.asyncIterator]();
    } catch (error) {
      this.#openError = { error };
    }
  }

  next(): Promise<IteratorResult<RegistryStreamChunk>> {
    if (this.#state === "closed") return Promise.resolve(RUN_DONE);
    if (this.#state === "idle") {
      this.#state = "open";
      return this.#hooks.begin(this).then(this.#pull, this.#fail);
    }
    return this.#pull();
  }

  return(): Promise<IteratorResult<RegistryStreamChunk>> {
    const wasOpen = this.#state === "open";
    const inner = this.#inner;
    this.#end();
    // A wait for a retry or for capacity ends now; the pending next() then resolves done.
    this.#stop?.abort();
    if (!wasOpen || !inner?.return) return Promise.resolve(RUN_DONE);
    // The caller stopped early: stop the model's stream (and its provider's) too.
    let stopped: unknown;
    try {
      stopped = inner.return();
    } catch {
      // Nothing more to stop.
    }
    return Promise.resolve(stopped).then(
      () => RUN_DONE,
      () => RUN_DONE,
    );
  }

  readonly #pull = (): Promise<IteratorResult<RegistryStreamChunk>> => {
    if (this.#state === "closed") return Promise.resolve(RUN_DONE);
    const inner = this.#inner;
    let next: Promise<IteratorResult<StreamChunk>>;
    try {
      if (inner === undefined) throw (this.#openError as { error: unknown }).error;
      next = inner.next();
    } catch (error) {
      return this.#recover(error);
    }
    return next.then(this.#onNext, this.#recover);
  };

  readonly #onNext = (next: IteratorResult<StreamChunk>): Promise<IteratorResult<RegistryStreamChunk>> | IteratorResult<RegistryStreamChunk> => {
    if (this.#state === "closed") return RUN_DONE;
    if (next.done) {
      try {
        return { done: false, value: this.#hooks.complete(this) };
      } finally {
        this.#end();
      }
    }
    const chunk = next.value;
    if (chunk.type === "finish") {
      this.finish = chunk;
      return this.#pull();
    }
    this.sent++;
    return next;
  };

  readonly #recover = (thrown: unknown): Promise<IteratorResult<RegistryStreamChunk>> => {
    this.#inner = undefined;
    // The caller already left (return()): nothing is waiting for this attempt's outcome.
    if (this.#state === "closed") return Promise.resolve(RUN_DONE);
    return this.#hooks.recover(this, thrown).then(this.#pull, this.#fail);
  };

  readonly #fail = (error: unknown): IteratorResult<RegistryStreamChunk> => {
    // The caller already left (return()): the wait it cut short is not an error to report.
    if (this.#state === "closed") return RUN_DONE;
    this.#end();
    throw error;
  };
}
