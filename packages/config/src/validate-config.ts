import type { AnyProviderPlugin, ConfigIssue, ModelEntry } from "@orchestrator-ts/core";
import { fromZodIssues } from "./issues";
import { entryMeta } from "./meta";
import { camelToSnake } from "./names";
import { wrapSecrets } from "./secrets";

/**
 * Check an entry's `config:` block with its plugin's `configSchema`. Issues point at the YAML
 * keys as written (`models[0].config.api_key`), even though the plugin sees camelCase.
 */
export function validateEntryConfig(
  plugin: AnyProviderPlugin,
  entry: ModelEntry,
  index: number,
): { value?: unknown; issues: ConfigIssue[] } {
  const meta = entryMeta(entry, index);
  const config = plugin.secretKeys?.length
    ? (wrapSecrets(entry.config, plugin.secretKeys, () => false) as Record<string, unknown>)
    : entry.config;
  const result = plugin.configSchema.safeParse(config);
  if (result.success) return { value: result.data, issues: [] };
  const snakeStyle = [...meta.yamlKeys.values()].some((k) => k.includes("_"));
  const yamlKey = (key: string | number, depth: number) => {
    if (depth !== 0 || typeof key !== "string") return key;
    return meta.yamlKeys.get(key) ?? (snakeStyle ? camelToSnake(key) : key);
  };
  return {
    issues: fromZodIssues(
      result.error.issues,
      config,
      plugin.configSchema,
      ["models", meta.index, "config"],
      meta.locator,
      yamlKey,
    ),
  };
}
