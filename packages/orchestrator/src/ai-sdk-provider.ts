import {
  type OrchestratorProvider,
  type OrchestratorProviderOptions,
  createOrchestratorProvider as createProvider,
} from "@orchestrator-ts/ai-sdk";
import { type CreateOrchestratorOptions, type Orchestrator, createOrchestrator } from "./orchestrator";

/** `createOrchestratorProvider`'s options here: those of `@orchestrator-ts/ai-sdk`, or a config. */
export type OrchestratorProviderFromConfigOptions =
  | OrchestratorProviderOptions
  | (CreateOrchestratorOptions & {
      config: NonNullable<CreateOrchestratorOptions["config"]>;
      resolveModelId?: OrchestratorProviderOptions["resolveModelId"];
    });

/** The provider, and — when it was built from a config — `close()` for what it built. */
export interface OrchestratorProviderFromConfig extends OrchestratorProvider {
  /** Closes the orchestrator built from `config` (Redis connections, health checks); nothing otherwise. */
  close(): Promise<void>;
}

/**
 * The orchestrator as a Vercel AI SDK provider, also straight from a config:
 * `createOrchestratorProvider({ config: "models.yaml" })("auto")`. The orchestrator is built on the
 * first call's way (its errors reach that call), once.
 */
export function createOrchestratorProvider(
  options: OrchestratorProviderFromConfigOptions,
): OrchestratorProviderFromConfig {
  if (
    options &&
    "config" in options &&
    options.config !== undefined &&
    !("registry" in options) &&
    !("orchestrator" in options)
  ) {
    const { resolveModelId, ...setup } = options;
    const built: Promise<Orchestrator> = createOrchestrator(setup);
    // A failure reaches every call that awaits it; this only keeps it from being unhandled meanwhile.
    built.catch(() => undefined);
    const provider = createProvider({ orchestrator: built, ...(resolveModelId ? { resolveModelId } : {}) });
    return Object.assign(provider, {
      close: () =>
        built.then(
          (o) => o.close(),
          () => undefined,
        ),
    });
  }
  return Object.assign(createProvider(options as OrchestratorProviderOptions), { close: () => Promise.resolve() });
}
