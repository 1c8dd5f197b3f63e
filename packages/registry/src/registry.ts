import {
  type Cache,
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
  type StatsStore,
} from "@orchestrator-ts/core";
import type { CallLoop } from "./call-state";
import { Entry } from "./eligibility";
import { Emitter, type RegistryEvents } from "./events";
import type { NoEligibleModelExplanation, SelectionExplanation } from "./explanation";
import { type ResolvedOptions, resolveOptions } from "./options";
import type { Outcomes } from "./outcomes";
import { PassiveHealth } from "./passive-health";
import { normalizeRequirements } from "./requirements";
import { failedStream, registryStream } from "./registry-stream";
import { type CascadeRunner, generateCascade, parseCascadeId, streamCascade } from "./routes/live";
import type { ResolvedRoute, Route } from "./routes/route";
import type { Selection } from "./selection";
import type { RouteTable } from "./route-table";
import { checkRegistration } from "./registration";
import { registryGenerate } from "./registry-generate";
import { skippedModelsOf } from "./skipped-models";
import { statisticsOf } from "./statistics";
import { wireRegistry } from "./wiring";
import type {
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
// How the parts are connected: wiring.ts.

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
  readonly #routes: RouteTable;
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
    const parts = wireRegistry(o, this.health, this.#events);
    this.#selection = parts.selection;
    this.#routes = parts.routes;
    this.#outcomes = parts.outcomes;
    this.#loop = parts.loop;
    this.#cascadeRunner = parts.cascadeRunner;
  }

  /** Configured models `registryFromConfig` left out, with the reason (`"OPENAI_API_KEY is not set"`). Empty otherwise. */
  get skippedModels(): readonly SkippedModel[] {
    return skippedModelsOf(this);
  }

  /** The explicit fallback chains (model → models tried in order when it fails). */
  get fallbacks(): Readonly<Record<string, readonly string[]>> {
    return Object.fromEntries(this.#options.fallbacks);
  }

  // ---- models --------------------------------------------------------------------------------

  /** Add a model. A second model with a registered name is an error unless `{ replace: true }`. */
  registerModel<M extends Model>(model: M, options: RegisterOptions = {}): M {
    const existing = checkRegistration(model, {
      isRoute: (name) => this.#routes.has(name),
      registered: (name) => this.#selection.byName.get(name),
      replace: options.replace,
    });
    if (existing) this.#remove(existing);
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
    return this.#routes.add(route, options);
  }

  /** Remove a route; false when there is none of that name. */
  removeRoute(name: string): boolean {
    return this.#routes.remove(name);
  }

  /** The route of that name, or `undefined`. */
  getRoute(name: string): Route | undefined {
    return this.#routes.get(name);
  }

  listRoutes(): Route[] {
    return this.#routes.list();
  }

  /**
   * What an id stands for, as every front end reads it (the HTTP server's `model`, the AI SDK
   * provider's model id, `request.route`): `"auto"` → the registry's selector over every model;
   * a route's name → that route; a registered model's name → that model with its configured
   * fallbacks. Anything else throws `RouteNotFoundError` (with close names).
   */
  resolveRoute(id: string): ResolvedRoute {
    return this.#routes.resolve(id);
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
    const picked = this.#selection.decide(query, false);
    if (!picked) throw this.#selection.noEligible(query);
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
    const picked = this.#selection.decide(query, true);
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
    return picked.explanation as SelectionExplanation;
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
      if (request?.route === undefined)
        return registryGenerate(this.#loop, request, normalizeRequirements(requirements), requirements);
      const call = this.#routes.target(request, requirements);
      if (call.cascade) return generateCascade(this.#cascadeRunner, call.cascade, call.request);
      return registryGenerate(this.#loop, call.request, call.normalized, call.requirements, call.options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Like `generate`, streamed. A failure before the first chunk retries and falls back
   * transparently; a failure after it rejects with the typed error (never a silently cut answer).
   */
  stream(request: RegistryRequest, requirements?: SelectionRequirements): RegistryStream {
    // Bad input (requirements, an unknown route) fails the stream's first next(), as generate rejects: never a throw here.
    try {
      if (request?.route === undefined)
        return registryStream(this.#loop, request, normalizeRequirements(requirements), requirements);
      const call = this.#routes.target(request, requirements);
      if (call.cascade) return streamCascade(this.#cascadeRunner, call.cascade, call.request);
      return registryStream(this.#loop, call.request, call.normalized, call.requirements, call.options);
    } catch (error) {
      return failedStream(error);
    }
  }

  /**
   * A late quality signal in [0, 1] for an answer (was it right?). Applies to the same
   * statistics the call was recorded in (overall and task). False when the selection is unknown,
   * was forgotten (only the most recent `feedbackCapacity` are kept), came from the cache, or
   * was already rated.
   */
  recordFeedback(selectionId: string, feedback: { quality: number }): boolean {
    const cascade = typeof selectionId === "string" ? parseCascadeId(selectionId) : undefined;
    if (cascade) return this.#outcomes.cascadeFeedback(selectionId, cascade, feedback?.quality);
    return this.#outcomes.feedback(selectionId, feedback?.quality);
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
