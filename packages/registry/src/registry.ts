import {
  type Cache,
  ConfigError,
  type GenerateRequest,
  type HealthStatus,
  type HealthTracker,
  type Model,
  type ModelSelector,
  ModelNotFoundError,
  type NormalizedRequirements,
  OrchestratorError,
  type SelectionRequirements,
  type SkippedModel,
  SpecificationVersionError,
  type StatsStore,
  specificationMismatch,
} from "@orchestrator-ts/core";
import { CacheAffinity } from "./cache-affinity";
import { type CallLoop, type CallOptions, CallState } from "./call-state";
import { Entry } from "./eligibility";
import { Emitter, type RegistryEvents } from "./events";
import type { NoEligibleModelExplanation, SelectionExplanation } from "./explanation";
import { type ResolvedOptions, resolveOptions } from "./options";
import { Outcomes } from "./outcomes";
import { PassiveHealth } from "./passive-health";
import { normalizeRequirements } from "./requirements";
import { registryStream } from "./registry-stream";
import { CascadeRoute } from "./routes/cascade";
import { type CascadeRunner, generateCascade, parseCascadeId, streamCascade } from "./routes/live";
import { AUTO_ROUTE, type ResolvedRoute, type Route, RouteNotFoundError, SelectorRoute } from "./routes/route";
import { Selection } from "./selection";
import { abortableSleep } from "./sleep";
import { statisticsOf } from "./statistics";
import type {
  AttemptRecord,
  ModelRegistryOptions,
  RegisterOptions,
  RegistryRequest,
  RegistryResult,
  RegistryStatistics,
  RegistryStream,
  SelectOptions,
} from "./types";

// The front of the registry: what a newcomer reads first. One request goes
//   generate / stream (here) → CallState (call-state.ts: the one call loop and its decision)
//   → Selection.pick (selection.ts) → meetsRequirements (eligibility.ts) → the selector
//   → model.generate / model.stream (core) → Outcomes (outcomes.ts: stats store, selector, health, events).
// Health comes from one HealthTracker: the caller's monitor, else PassiveHealth (passive-health.ts).

const NO_SKIPPED: readonly SkippedModel[] = Object.freeze([]);
const NO_REQUIREMENTS: NormalizedRequirements = Object.freeze({});
// Written by registryFromConfig (from-config.ts), a function of its own so that this file loads no selector but the default.
const skippedByRegistry = new WeakMap<ModelRegistry, readonly SkippedModel[]>();

/** Records the configured models `registryFromConfig` left out. For that function only. */
export function setSkippedModels(registry: ModelRegistry, skipped: readonly SkippedModel[]): void {
  skippedByRegistry.set(registry, Object.freeze([...skipped]));
}

/**
 * Registers models from any provider and picks one per request: filter by requirements, ask
 * the selector, call, record the outcome so the selector learns, retry and fall back on failure.
 */
export class ModelRegistry {
  readonly selector: ModelSelector;
  readonly statsStore: StatsStore;
  /** The health monitor given in the options, if any. */
  readonly healthMonitor: HealthTracker | undefined;
  /** The health tracker selection and outcomes talk to: `healthMonitor`, else a `PassiveHealth` of the registry's own. */
  readonly health: HealthTracker;
  readonly cache: Cache | undefined;
  readonly maxRetries: number;
  readonly maxFallbacks: number;
  readonly waitForCapacityMs: number;
  readonly unhealthyPolicy: "exclude" | "least-bad";
  readonly taskMinTrials: number;
  /** Per-call deadline given to every model call without its own; `undefined` leaves it to each model. */
  readonly timeoutMs: number | undefined;
  readonly #options: ResolvedOptions;
  readonly #events = new Emitter<RegistryEvents>();
  readonly #selection: Selection;
  readonly #outcomes: Outcomes;
  readonly #loop: CallLoop;
  // Reused by selectModel/explainSelection (synchronous: never two at once).
  readonly #query: { requirements: NormalizedRequirements; request: GenerateRequest | undefined } = {
    requirements: {},
    request: undefined,
  };
  readonly #routes = new Map<string, Route>();
  readonly #cascadeRunner: CascadeRunner;

  constructor(options: ModelRegistryOptions = {}) {
    const o = resolveOptions(options);
    this.#options = o;
    this.selector = o.selector;
    this.statsStore = o.statsStore;
    this.healthMonitor = o.healthMonitor;
    this.health = o.healthMonitor ?? new PassiveHealth();
    this.cache = o.cache;
    this.maxRetries = o.maxRetries;
    this.maxFallbacks = o.maxFallbacks;
    this.waitForCapacityMs = o.waitForCapacityMs;
    this.unhealthyPolicy = o.unhealthyPolicy;
    this.taskMinTrials = o.taskMinTrials;
    this.timeoutMs = o.timeoutMs;
    const events = this.#events;
    this.#selection = new Selection({
      selector: o.selector,
      statsStore: o.statsStore,
      health: this.health,
      events,
      unhealthyPolicy: o.unhealthyPolicy,
      taskMinTrials: o.taskMinTrials,
      waitForCapacityMs: o.waitForCapacityMs,
    });
    this.#outcomes = new Outcomes({
      selection: this.#selection,
      statsStore: o.statsStore,
      health: this.health,
      events,
      feedbackCapacity: o.feedbackCapacity,
    });
    // With a registry-level cache: which model answered a request, so an identical request goes back to it.
    const affinity = o.cache ? new CacheAffinity(o.cache) : undefined;
    this.#loop = { selection: this.#selection, outcomes: this.#outcomes, events, affinity, options: o };
    this.#cascadeRunner = {
      call: (request, callOptions, attempts) =>
        this.#generate(request, NO_REQUIREMENTS, undefined, callOptions, attempts),
      stream: (request, callOptions) => registryStream(this.#loop, request, NO_REQUIREMENTS, undefined, callOptions),
      random: o.random,
      events,
    };
  }

  /** Configured models `registryFromConfig` left out, with the reason (`"OPENAI_API_KEY is not set"`). Empty otherwise. */
  get skippedModels(): readonly SkippedModel[] {
    return skippedByRegistry.get(this) ?? NO_SKIPPED;
  }

  /** The explicit fallback chains (model → models tried in order when it fails). */
  get fallbacks(): Readonly<Record<string, readonly string[]>> {
    return Object.fromEntries(this.#options.fallbacks);
  }

  // ---- models --------------------------------------------------------------------------------

  /** Add a model. A second model with a registered name is an error unless `{ replace: true }`. */
  registerModel<M extends Model>(model: M, options: RegisterOptions = {}): M {
    if (!model || typeof model !== "object" || typeof model.name !== "string" || typeof model.generate !== "function") {
      throw new ConfigError(
        [
          {
            path: "model",
            message: "registerModel expects a Model instance (a subclass of Model from @orchestrator-ts/core)",
          },
        ],
        { title: "Cannot register model" },
      );
    }
    // A model package built against another core would break in ways far from their cause.
    const mismatch = specificationMismatch(
      `model "${model.name}" (${model.constructor?.name ?? "object"})`,
      model.specificationVersion,
    );
    if (mismatch !== undefined)
      throw new SpecificationVersionError([{ path: "model", message: mismatch }], { model: model.name });
    if (this.#routes.has(model.name) || model.name === AUTO_ROUTE) {
      throw new ConfigError(
        [
          {
            path: "name",
            message: `"${model.name}" is ${model.name === AUTO_ROUTE ? "reserved (it asks the selector)" : "the name of a route"}: a request for it could not tell the two apart`,
          },
        ],
        { title: "Cannot register model" },
      );
    }
    const existing = this.#selection.byName.get(model.name);
    if (existing) {
      if (!options.replace) {
        throw new ConfigError(
          [
            {
              path: "name",
              message: `a model named "${model.name}" is already registered; pass { replace: true } to replace it`,
            },
          ],
          { title: "Cannot register model" },
        );
      }
      this.#remove(existing);
    }
    if (this.cache && !model.cache) model.enableCaching(this.cache);
    this.#selection.add(new Entry(model, this.#selection.entries.length));
    this.health.watch(model);
    return model;
  }

  /** Remove a model; false when no model has that name. Its learnt statistics stay in the store. */
  unregisterModel(name: string): boolean {
    const entry = this.#selection.byName.get(name);
    if (!entry) return false;
    this.#remove(entry);
    return true;
  }

  #remove(entry: Entry): void {
    this.#selection.remove(entry);
    this.health.unwatch(entry.model.name);
  }

  /** The registered model of that name; `ModelNotFoundError` (with close names) when there is none. */
  getModel(name: string): Model {
    const entry = this.#selection.byName.get(name);
    if (!entry) throw this.#notFound(name);
    return entry.model;
  }

  hasModel(name: string): boolean {
    return this.#selection.byName.has(name);
  }

  listModels(filter: { provider?: string } = {}): Model[] {
    const out: Model[] = [];
    for (const e of this.#selection.entries)
      if (filter.provider === undefined || e.model.provider === filter.provider) out.push(e.model);
    return out;
  }

  listProviders(): string[] {
    return [...new Set(this.#selection.entries.map((e) => e.model.provider))];
  }

  get size(): number {
    return this.#selection.entries.length;
  }

  #notFound(name: string): ModelNotFoundError {
    return new ModelNotFoundError(
      name,
      this.#selection.entries.map((e) => e.model.name),
    );
  }

  // ---- routes --------------------------------------------------------------------------------

  /**
   * Add a route: a `SelectorRoute` (requirements, optionally its own selector) or a
   * `CascadeRoute`. Requests name it with `route: "<name>"`. A cascade's stage models must be
   * registered (`{ allowUnregistered: true }` defers that to the call, where a missing model
   * counts as a failed one).
   */
  addRoute<R extends Route>(route: R, options: { replace?: boolean; allowUnregistered?: boolean } = {}): R {
    if (!(route instanceof SelectorRoute) && !(route instanceof CascadeRoute)) {
      throw new ConfigError([{ path: "route", message: "addRoute expects a SelectorRoute or a CascadeRoute" }], {
        title: "Cannot add route",
      });
    }
    const name = route.name;
    const issues = [];
    if (name === AUTO_ROUTE)
      issues.push({
        path: "name",
        message: `"${AUTO_ROUTE}" is reserved: it means the registry's selector over every model`,
      });
    else if (this.#selection.byName.has(name))
      issues.push({
        path: "name",
        message: `a model is named "${name}": a request for it could not tell the two apart`,
      });
    else if (this.#routes.has(name) && !options.replace)
      issues.push({
        path: "name",
        message: `a route named "${name}" already exists; pass { replace: true } to replace it`,
      });
    if (route instanceof CascadeRoute && !options.allowUnregistered) {
      const known = this.#selection.entries.map((e) => e.model.name);
      for (const m of route.models)
        if (!this.#selection.byName.has(m))
          issues.push({ path: "stages", message: new ModelNotFoundError(m, known).message });
    }
    if (issues.length > 0) throw new ConfigError(issues, { title: `Cannot add route "${name}"` });
    this.#routes.set(name, route);
    return route;
  }

  /** Remove a route; false when there is none of that name. */
  removeRoute(name: string): boolean {
    return this.#routes.delete(name);
  }

  /** The route of that name, or `undefined`. */
  getRoute(name: string): Route | undefined {
    return this.#routes.get(name);
  }

  listRoutes(): Route[] {
    return [...this.#routes.values()];
  }

  /**
   * What an id stands for, as every front end reads it (the HTTP server's `model`, the AI SDK
   * provider's model id, `request.route`): `"auto"` → the registry's selector over every model;
   * a route's name → that route; a registered model's name → that model with its configured
   * fallbacks. Anything else throws `RouteNotFoundError` (with close names).
   */
  resolveRoute(id: string): ResolvedRoute {
    if (id === AUTO_ROUTE) return { type: "auto", id };
    if (typeof id === "string") {
      const route = this.#routes.get(id);
      if (route) return { type: "route", id, route };
      const entry = this.#selection.byName.get(id);
      if (entry) return { type: "model", id, model: entry.model };
    }
    throw new RouteNotFoundError(
      id,
      [...this.#routes.keys()],
      this.#selection.entries.map((e) => e.model.name),
    );
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
    const query = this.#queryFor(requirements, options);
    const picked = this.#selection.pick(query, false);
    if (!picked) throw this.#selection.noEligible(query);
    if (this.#events.has("selection"))
      this.#events.emit("selection", {
        selectionId: undefined,
        model: picked.entry.model.name,
        task: options.request?.task,
        explanation: undefined,
        fallback: 0,
      });
    return picked.entry.model;
  }

  /**
   * The same decision as `selectModel`, with every candidate's score and every excluded model's
   * reason. When no model is eligible it explains that too: `model` is `undefined` and `excluded`
   * says why each model was left out (where `selectModel` throws `NoEligibleModelError`).
   */
  explainSelection(
    requirements?: SelectionRequirements,
    options: SelectOptions = {},
  ): SelectionExplanation | NoEligibleModelExplanation {
    const query = this.#queryFor(requirements, options);
    const picked = this.#selection.pick(query, true);
    if (!picked) {
      // Run the filters again so every model's reason is current (as noEligible does).
      return {
        model: undefined,
        selector: this.selector.name,
        task: options.request?.task,
        candidates: [],
        excluded: this.#selection.reasons(query.requirements, query),
      };
    }
    const explanation = picked.explanation as SelectionExplanation;
    if (this.#events.has("selection"))
      this.#events.emit("selection", {
        selectionId: undefined,
        model: picked.entry.model.name,
        task: options.request?.task,
        explanation,
        fallback: 0,
      });
    return explanation;
  }

  #queryFor(requirements: SelectionRequirements | undefined, options: SelectOptions) {
    const query = this.#query;
    query.requirements = normalizeRequirements(requirements);
    query.request = options.request;
    return query;
  }

  // ---- calls ---------------------------------------------------------------------------------

  /**
   * Select a model, call it, record the outcome (the selector learns from every call), retry
   * retryable failures with backoff and fall back to the next-best model.
   */
  generate(request: RegistryRequest, requirements?: SelectionRequirements): Promise<RegistryResult> {
    // Not async itself (one promise per call, as before routes); bad input still rejects, never throws.
    try {
      if (request?.route !== undefined) return this.#generateRouted(request, requirements);
      return this.#generate(request, normalizeRequirements(requirements), requirements, undefined, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A request with `route`: resolve it (once), then run it without the field (models never see it). */
  #generateRouted(request: RegistryRequest, requirements: SelectionRequirements | undefined): Promise<RegistryResult> {
    const { route: id, ...plain } = request;
    const resolved = this.resolveRoute(id as string);
    if (resolved.type === "auto")
      return this.#generate(plain, normalizeRequirements(requirements), requirements, undefined, undefined);
    if (resolved.type === "model")
      return this.#generate(plain, normalizeRequirements(requirements), requirements, { pin: resolved.id }, undefined);
    const route = resolved.route;
    if (route instanceof CascadeRoute) return generateCascade(this.#cascadeRunner, route, plain);
    const merged = route.merge(requirements);
    return this.#generate(plain, merged ?? NO_REQUIREMENTS, merged, { selector: route.selector }, undefined);
  }

  /** The call loop for one generate call; `attemptsOut` (a cascade's) receives its attempts, also when it fails. */
  async #generate(
    request: GenerateRequest,
    normalized: NormalizedRequirements,
    requirements: SelectionRequirements | undefined,
    options: CallOptions | undefined,
    attemptsOut: AttemptRecord[] | undefined,
  ): Promise<RegistryResult> {
    const call = new CallState(this.#loop, request, normalized, requirements, undefined, options);
    if (attemptsOut === undefined || options?.cascade !== undefined) call.announce(false);
    try {
      for (;;) {
        // Never undefined here: only a call whose owner left (a stream's return()) gets no model.
        const entry = (await call.select()) as Entry;
        try {
          for (;;) {
            call.beginAttempt();
            try {
              const result = await entry.model.generate(call.callRequest);
              call.succeeded(result.latencyMs, result.costUsd, result.cached);
              return {
                ...result,
                selectionId: call.selectionId,
                explanation: call.explanation as SelectionExplanation,
                attempts: call.attempts,
              };
            } catch (thrown) {
              const next = call.afterFailure(thrown);
              if (next === "throw") throw call.lastError;
              if (next === "fallback") break;
              await abortableSleep(call.delayMs, request.signal);
            }
          }
        } finally {
          // Counted in flight since its selection; retries on the same model stay in flight.
          call.release();
        }
      }
    } finally {
      if (attemptsOut) attemptsOut.push(...call.attempts);
    }
  }

  /**
   * Like `generate`, streamed. A failure before the first chunk retries and falls back
   * transparently; a failure after it rejects with the typed error (never a silently cut answer).
   */
  stream(request: RegistryRequest, requirements?: SelectionRequirements): RegistryStream {
    if (request?.route === undefined)
      return registryStream(this.#loop, request, normalizeRequirements(requirements), requirements);
    const { route: id, ...plain } = request;
    const resolved = this.resolveRoute(id as string);
    if (resolved.type === "auto")
      return registryStream(this.#loop, plain, normalizeRequirements(requirements), requirements);
    if (resolved.type === "model")
      return registryStream(this.#loop, plain, normalizeRequirements(requirements), requirements, { pin: resolved.id });
    const route = resolved.route;
    if (route instanceof CascadeRoute) return streamCascade(this.#cascadeRunner, route, plain);
    const merged = route.merge(requirements);
    return registryStream(this.#loop, plain, merged ?? NO_REQUIREMENTS, merged, { selector: route.selector });
  }

  /**
   * A late quality signal in [0, 1] for an answer (was it right?). Applies to the same
   * statistics the call was recorded in (overall and task). False when the selection is unknown,
   * was forgotten (only the most recent `feedbackCapacity` are kept), came from the cache, or
   * was already rated.
   */
  recordFeedback(selectionId: string, feedback: { quality: number }): boolean {
    const cascade = typeof selectionId === "string" ? parseCascadeId(selectionId) : undefined;
    if (cascade) return this.#cascadeFeedback(selectionId, cascade, feedback?.quality);
    return this.#outcomes.feedback(selectionId, feedback?.quality);
  }

  /**
   * Feedback on a cascade's answer credits its stage models: every model whose extracted answer
   * agreed with the returned one gets `quality`; when the returned answer is rated fully right
   * (1), a model that answered otherwise (or unreadably) was wrong and gets 0. Judge calls are
   * not rated. Each stage model can still be rated alone with its own `answers[i].selectionId`.
   */
  #cascadeFeedback(id: string, stages: { agreed: string[]; differed: string[] }, quality: unknown): boolean {
    if (typeof quality !== "number" || !(quality >= 0 && quality <= 1)) return this.#outcomes.feedback(id, quality);
    let any = false;
    for (const sel of stages.agreed) any = this.#outcomes.feedback(sel, quality) || any;
    if (quality === 1) for (const sel of stages.differed) any = this.#outcomes.feedback(sel, 0) || any;
    return any;
  }

  // ---- statistics and health ------------------------------------------------------------------

  getStatistics(): RegistryStatistics {
    return statisticsOf(this.#selection.entries, this.statsStore, this.selector.name);
  }

  /** Forget what was learnt: the stats store, the selector's own state, pending feedback and passive health. Model metrics stay. */
  resetStatistics(): void {
    this.statsStore.reset();
    this.selector.reset?.();
    this.#outcomes.reset();
    if (this.health instanceof PassiveHealth) this.health.reset();
  }

  /** Health of a registered model, from the health tracker (the monitor, or health derived from live calls). */
  async getModelHealth(name: string): Promise<HealthStatus> {
    if (!this.#selection.byName.has(name)) throw this.#notFound(name);
    return this.health.getHealth(name);
  }

  /** Release every model's resources and close the stats store. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.#selection.entries.map((e) => e.model.cleanup()));
    await this.statsStore.close?.();
  }

  /** Best-effort check so an unknown thrown value never escapes untyped. */
  static isTypedError(value: unknown): value is OrchestratorError {
    return OrchestratorError.isInstance(value);
  }
}
