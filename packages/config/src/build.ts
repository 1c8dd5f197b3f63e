import {
  type AnyProviderPlugin,
  type BuildModelsOptions,
  ConfigError,
  type ConfigIssue,
  type Model,
  type ModelConfig,
  type SkippedModel,
} from "@orchestrator-ts/core";
import { timeLimit } from "@orchestrator-ts/core/internal";
import { issueAt, sortIssues } from "./issues";
import { entryMeta } from "./meta";
import { resolveProviders } from "./providers";
import { validateEntryConfig } from "./validate-config";

/** How long a plugin's `loadDependencies` may take (an SDK import takes well under a second here). */
const DEPENDENCY_TIMEOUT_MS = 60_000;

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
  const { checked, issues } = checkEntries(config, plugins);
  if (issues.length > 0) throw new ConfigError(sortIssues(issues), { title: "Invalid model configuration" });
  const cannotRun = await dependencyProblems(config, checked, DEPENDENCY_TIMEOUT_MS);
  if (cannotRun.length > 0 && !config.lenient)
    throw new ConfigError(sortIssues(cannotRun.map((p) => p.issue)), {
      title: "Could not create the configured models",
    });
  // Lenient: a model that cannot run is left out like one whose key is not set, so the others still run.
  const reasons = new Map(cannotRun.map((p) => [p.index, p.reason]));
  const skipped: SkippedModel[] = [];
  config.models.forEach((entry, index) => {
    const reason = entry.unavailable ?? reasons.get(index);
    if (reason) skipped.push({ name: entry.name, provider: entry.provider, reason, location: entry.location });
  });
  const models = await createChecked(
    config,
    checked.filter(({ index }) => !reasons.has(index)),
  );
  return { models, skipped };
}

/**
 * Create the models whose provider is in `plugins` (the others are left out: their code is not run)
 * and release them at once. Creating checks what parsing cannot — a file a model names that does
 * not exist — so `orchestrator validate` calls it on a checked config. Throws the `ConfigError`
 * `buildModels` would, with each model's line.
 */
export async function checkModelCreation(
  config: ModelConfig,
  plugins: ReadonlyMap<string, AnyProviderPlugin>,
): Promise<void> {
  const { checked, issues } = checkEntries(config, plugins);
  if (issues.length > 0) throw new ConfigError(sortIssues(issues), { title: "Invalid model configuration" });
  const models = await createChecked(config, checked);
  await Promise.allSettled(models.map((m) => m.cleanup()));
}

/** The models (not left out) whose `config:` block their plugin accepts, and an issue for every block it rejects. */
function checkEntries(
  config: ModelConfig,
  plugins: ReadonlyMap<string, AnyProviderPlugin>,
): { checked: Checked[]; issues: ConfigIssue[] } {
  const checked: Checked[] = [];
  const issues: ConfigIssue[] = [];
  config.models.forEach((entry, index) => {
    if (entry.unavailable) return;
    const plugin = plugins.get(entry.provider);
    if (!plugin) return; // not loaded, or resolveProviders has thrown for it
    const result = validateEntryConfig(plugin, entry, index);
    issues.push(...result.issues);
    if (result.issues.length === 0) checked.push({ index, plugin, value: result.value });
  });
  return { checked, issues };
}

/** Creates each checked model, in file order; if any `create` fails, releases the others and throws every failure at its line. */
async function createChecked(config: ModelConfig, checked: readonly Checked[]): Promise<Model[]> {
  const models: Model[] = [];
  const issues: ConfigIssue[] = [];
  for (const { index, plugin, value } of checked) {
    const entry = config.models[index] as ModelConfig["models"][number];
    try {
      models.push(
        await plugin.create({
          name: entry.name,
          config: value,
          capabilities: entry.capabilities,
          constraints: entry.constraints,
          capabilitiesDeclared: entry.capabilitiesDeclared,
        }),
      );
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
  return models;
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
  const { checked } = checkEntries(config, plugins);
  return dependencyProblems(config, checked, options.timeoutMs ?? DEPENDENCY_TIMEOUT_MS);
}

/** A model whose `config:` block its plugin accepted, with the block as the plugin parsed it. */
interface Checked {
  index: number;
  plugin: AnyProviderPlugin;
  value: unknown;
}

/** Runs each checked model's `loadDependencies` (all at once) and returns those that failed. */
async function dependencyProblems(
  config: ModelConfig,
  checked: readonly Checked[],
  timeoutMs: number,
): Promise<DependencyProblem[]> {
  const problems = checked.map(async ({ index, plugin, value }): Promise<DependencyProblem | undefined> => {
    if (plugin.loadDependencies === undefined) return undefined;
    const entry = config.models[index] as ModelConfig["models"][number];
    try {
      await timeLimit(
        plugin.loadDependencies(value),
        timeoutMs,
        () =>
          new Error(`the ${plugin.name} provider did not finish loading what it needs within ${timeoutMs / 1000} s`),
      );
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
  return (await Promise.all(problems)).filter((problem) => problem !== undefined);
}
