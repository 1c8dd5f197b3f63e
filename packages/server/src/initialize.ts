import type { ModelRegistry } from "@orchestrator-ts/registry";
import { upstreamMessage } from "./errors";

/** A model whose initialisation at start-up failed. */
export interface ModelInitFailure {
  /** The model's registered name. */
  readonly model: string;
  /** The model's provider. */
  readonly provider: string;
  /** Why, as its error said it, with upstream addresses masked (it is printed and served by `/readyz`). */
  readonly reason: string;
}

/** Where the start-up initialisation of the registered models stands. */
export interface ModelInitialization {
  /** Names of the models still initialising. */
  readonly pending: ReadonlySet<string>;
  /** The models whose initialisation failed, by name. */
  readonly failed: ReadonlyMap<string, ModelInitFailure>;
  /** Settles (never rejects) once every model has initialised or failed: the failures. */
  readonly done: Promise<readonly ModelInitFailure[]>;
}

/**
 * Starts initialising every model registered now, all at once: the provider SDK's import, a
 * client's construction, a local model's load. A request that arrives meanwhile waits on the same
 * initialisation (a model initialises once); a model whose initialisation failed tries again at its
 * next request, as before.
 */
export function initializeModels(registry: ModelRegistry): ModelInitialization {
  const pending = new Set<string>();
  const failed = new Map<string, ModelInitFailure>();
  const done = Promise.all(
    registry.listModels().map(async (model) => {
      pending.add(model.name);
      try {
        await model.initialize();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failed.set(model.name, { model: model.name, provider: model.provider, reason: upstreamMessage(message) });
      } finally {
        pending.delete(model.name);
      }
    }),
  ).then(() => [...failed.values()]);
  return { pending, failed, done };
}
