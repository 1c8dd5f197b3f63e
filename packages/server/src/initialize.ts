import { type Model, redact } from "@orchestrator-ts/core";
import type { ModelRegistry } from "@orchestrator-ts/registry";
import { upstreamMessage } from "./errors";

/** A model whose initialisation at start-up failed. */
export interface ModelInitFailure {
  /** The model's registered name. */
  readonly model: string;
  /** The model's provider. */
  readonly provider: string;
  /** Why, as its error said it, with credentials and upstream addresses taken out (it is printed and served by `/readyz`). */
  readonly reason: string;
}

/** Where the start-up initialisation of the registered models stands. */
export interface ModelInitialization {
  /** Whether `model` (this instance: a model registered in its place is not it) is still initialising. */
  initialising(model: Model): boolean;
  /** Why `model` failed to initialise, while it has not initialised since; `undefined` otherwise. */
  failure(model: Model): ModelInitFailure | undefined;
  /**
   * Starts another attempt for each model whose initialisation failed and is not being tried now
   * (`/readyz` calls it: without it a model that failed at start-up, say its server was not up yet,
   * would only be tried again by a request, which a load balancer sends to a ready instance only).
   */
  retryFailed(): void;
  /** Settles (never rejects) once every start-up initialisation has finished or failed: the failures. */
  readonly done: Promise<readonly ModelInitFailure[]>;
}

/**
 * Starts initialising every model registered now: the provider SDK's import, a client's
 * construction, a local model's load. Remote models all at once; local ones one after another, so
 * that each load's free-memory check sees the memory the loads before it took. A request that
 * arrives meanwhile waits on the same initialisation (a model initialises once); a model whose
 * initialisation failed tries again at its next request, or when `retryFailed()` is called.
 */
export function initializeModels(registry: ModelRegistry): ModelInitialization {
  const pending = new Set<Model>();
  const failed = new Map<Model, ModelInitFailure>();
  const attempt = async (model: Model): Promise<void> => {
    pending.add(model);
    try {
      await model.initialize();
      failed.delete(model);
    } catch (error) {
      failed.set(model, { model: model.name, provider: model.provider, reason: reasonOf(error) });
    } finally {
      pending.delete(model);
    }
  };
  const models = registry.listModels();
  for (const model of models) pending.add(model);
  const remote = models.filter((model) => !model.isLocal).map(attempt);
  const local = models
    .filter((model) => model.isLocal)
    .reduce((previous, model) => previous.then(() => attempt(model)), Promise.resolve());
  const done = Promise.all([...remote, local]).then(() => [...failed.values()]);
  return {
    initialising: (model) => pending.has(model),
    failure: (model) => (model.isInitialized ? undefined : failed.get(model)),
    retryFailed: () => {
      for (const model of failed.keys())
        if (!pending.has(model) && !model.isInitialized && registered(registry, model)) void attempt(model);
        else if (!registered(registry, model)) failed.delete(model);
    },
    done,
  };
}

/** Whether `model` is still the one registered under its name (not removed, not replaced). */
function registered(registry: ModelRegistry, model: Model): boolean {
  return registry.hasModel(model.name) && registry.getModel(model.name) === model;
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return upstreamMessage(redact(message));
}
