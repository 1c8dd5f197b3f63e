import type { ZodType } from "zod";
import type { ModelCapabilities, ModelConstraints } from "./capabilities";
import type { Model } from "./model";
import { SPECIFICATION_VERSION, type SpecificationVersion } from "./specification";

const PLUGIN = Symbol.for("@orchestrator-ts/core/provider-plugin");

/** What a provider plugin's `create` receives for one model entry of a config file. */
export interface ProviderModelSpec<C> {
  name: string;
  /** The entry's `config:` block, validated by the plugin's `configSchema`. */
  config: C;
  capabilities: ModelCapabilities;
  constraints: ModelConstraints;
  /** Set when the capabilities came from the config file, so the plugin keeps them over its own defaults. */
  capabilitiesDeclared: boolean;
}

/**
 * How YAML config and third-party packages create models. A package that exports a plugin
 * (default export or `provider`) can be named in `provider:` of a config file.
 */
export interface ProviderPlugin<C = Record<string, unknown>> {
  readonly name: string;
  /**
   * The version of the plugin contract this plugin was built for. `defineProvider` fills in its
   * core's `SPECIFICATION_VERSION`; the config loader refuses a plugin package built for another.
   */
  readonly specificationVersion?: SpecificationVersion;
  /** Validates (and may transform) the entry's `config:` block. Keys are given in camelCase. */
  readonly configSchema: ZodType<C>;
  /** Config keys whose values are secrets: redacted wherever a parsed config is shown. */
  readonly secretKeys?: readonly string[];
  /** Environment variables the provider reads when its config leaves them out (`OPENAI_API_KEY`). */
  readonly envKeys?: readonly string[];
  /**
   * Loads what the provider's models need at run time (its SDK), once, and rejects when it cannot
   * — a package that is not installed is a `ConfigError` that names it; what it resolves with is
   * ignored. Config checks call it for every provider a config uses (`buildModels`, `orchestrator
   * validate`, `serve`), so that the failure is reported with the model's line at start-up, not by
   * the first request.
   */
  loadDependencies?(config: C): Promise<unknown>;
  create(spec: ProviderModelSpec<C>): Model | Promise<Model>;
}

export function defineProvider<C>(plugin: ProviderPlugin<C>): ProviderPlugin<C> {
  Object.defineProperty(plugin, PLUGIN, { value: true, enumerable: false });
  if (plugin.specificationVersion === undefined)
    Object.defineProperty(plugin, "specificationVersion", { value: SPECIFICATION_VERSION, enumerable: true });
  return plugin;
}

/** True for plugins made by `defineProvider` in any loaded copy of `@orchestrator-ts/core`. */
export function isProviderPlugin(value: unknown): value is ProviderPlugin<unknown> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PLUGIN] === true;
}
