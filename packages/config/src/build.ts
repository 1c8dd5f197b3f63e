import {
  type AnyProviderPlugin,
  type BuildModelsOptions,
  ConfigError,
  type ConfigIssue,
  type Model,
  type ModelConfig,
  type ProviderModelSpec,
  type SkippedModel,
} from "@orchestrator-ts/core";
import { issueAt, sortIssues } from "./issues";
import { entryMeta } from "./meta";
import { resolveProviders } from "./providers";
import { validateEntryConfig } from "./validate-config";

export interface BuiltModels {
  /** In the order of the file. Not initialised yet: models connect lazily on first use. */
  models: Model[];
  skipped: SkippedModel[];
}

/**
 * Create the models of a parsed config through their provider plugins. `registryFromConfig` (in @orchestrator-ts/registry)
 * sits on top of this. Throws one `ConfigError` for every provider that cannot be found, every
 * `config:` block its plugin rejects, and every `create` that fails.
 */
export async function buildModels(config: ModelConfig, options: BuildModelsOptions = {}): Promise<BuiltModels> {
  const plugins = await resolveProviders(config, options);
  const skipped: SkippedModel[] = [];
  const specs: { index: number; spec: ProviderModelSpec<unknown> }[] = [];
  const issues: ConfigIssue[] = [];
  config.models.forEach((entry, index) => {
    if (entry.unavailable) {
      skipped.push({ name: entry.name, provider: entry.provider, reason: entry.unavailable, location: entry.location });
      return;
    }
    const plugin = plugins.get(entry.provider);
    if (!plugin) return; // resolveProviders has thrown for it
    const checked = validateEntryConfig(plugin, entry, index);
    issues.push(...checked.issues);
    if (checked.issues.length === 0) {
      specs.push({
        index,
        spec: {
          name: entry.name,
          config: checked.value,
          capabilities: entry.capabilities,
          constraints: entry.constraints,
          capabilitiesDeclared: entry.capabilitiesDeclared,
        },
      });
    }
  });
  if (issues.length > 0) throw new ConfigError(sortIssues(issues), { title: "Invalid model configuration" });
  const cannotRun = await checkDependencies(config, plugins);
  if (cannotRun.length > 0 && !config.lenient)
    throw new ConfigError(sortIssues(cannotRun.map((p) => p.issue)), {
      title: "Could not create the configured models",
    });
  // Lenient: left out like a model whose key is not set, so the others still run.
  for (const { index, reason } of cannotRun) {
    const entry = config.models[index] as ModelConfig["models"][number];
    skipped.push({ name: entry.name, provider: entry.provider, reason, location: entry.location });
    const at = specs.findIndex((s) => s.index === index);
    if (at >= 0) specs.splice(at, 1);
  }
  // In file order, whatever left them out.
  if (cannotRun.length > 0) {
    const order = new Map(config.models.map((m, i) => [m.name, i]));
    skipped.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  }

  const models: Model[] = [];
  for (const { index, spec } of specs) {
    const entry = config.models[index];
    if (!entry) continue;
    const plugin = plugins.get(entry.provider);
    try {
      if (plugin) models.push(await plugin.create(spec));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      issues.push(
        issueAt(
          entryMeta(entry, index).locator,
          ["models", index],
          `provider "${entry.provider}" could not create model "${entry.name}": ${reason}`,
        ),
      );
    }
  }
  if (issues.length > 0) {
    await Promise.allSettled(models.map((m) => m.cleanup()));
    throw new ConfigError(sortIssues(issues), { title: "Could not create the configured models" });
  }
  return { models, skipped };
}

/** A model whose provider cannot run here: its index in `config.models`, why, and the issue at its line. */
export interface DependencyProblem {
  index: number;
  model: string;
  reason: string;
  issue: ConfigIssue;
}

/**
 * Loads what each model's provider needs at run time (the plugin's `loadDependencies`: its SDK)
 * and returns a problem, with an issue at the model's line, for each one that cannot run here — a
 * package that is not installed says which and how to install it. Models left out (`unavailable`),
 * providers not in `plugins` and `config:` blocks their plugin rejects are skipped: those are
 * reported elsewhere. `buildModels` calls it before creating any model (a lenient config leaves
 * such models out, in `skipped`); `orchestrator validate` calls it too.
 */
export async function checkDependencies(
  config: ModelConfig,
  plugins: ReadonlyMap<string, AnyProviderPlugin>,
  options: { timeoutMs?: number } = {},
): Promise<DependencyProblem[]> {
  const timeoutMs = options.timeoutMs ?? DEPENDENCY_TIMEOUT_MS;
  const checks = config.models.map(async (entry, index): Promise<DependencyProblem | undefined> => {
    const plugin = entry.unavailable ? undefined : plugins.get(entry.provider);
    if (plugin?.loadDependencies === undefined) return undefined;
    const checked = validateEntryConfig(plugin, entry, index);
    if (checked.issues.length > 0) return undefined;
    try {
      await within(plugin.loadDependencies(checked.value), timeoutMs, plugin.name);
      return undefined;
    } catch (error) {
      const reason = ConfigError.isInstance(error)
        ? error.issues.map((i) => i.message).join("; ")
        : error instanceof Error
          ? error.message
          : String(error);
      const issue = issueAt(
        entryMeta(entry, index).locator,
        ["models", index, "provider"],
        `model "${entry.name}" cannot run: ${reason}`,
      );
      return { index, model: entry.name, reason, issue };
    }
  });
  return (await Promise.all(checks)).filter((problem) => problem !== undefined);
}

/** How long a plugin's `loadDependencies` may take (an SDK import takes well under a second here). */
const DEPENDENCY_TIMEOUT_MS = 60_000;

/** `promise`, or a rejection once `ms` have passed: a check that never settles must not hang start-up. */
function within(promise: Promise<void>, ms: number, plugin: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the ${plugin} provider did not finish loading what it needs within ${ms / 1000} s`)),
      ms,
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
