// One `models:` entry as a ModelEntry: its config (keys camel-cased, secrets wrapped), capabilities and constraints.
import {
  type AnyProviderPlugin,
  ConfigError,
  type ConfigIssue,
  ModelCapabilities,
  ModelConstraints,
  type ModelEntry,
} from "@orchestrator-ts/core";
import { formatPath } from "@orchestrator-ts/core/internal";
import type { z } from "zod";
import { SECRET_ENV_NAME } from "./env";
import { type Locator, issueAt } from "./issues";
import { setEntryMeta } from "./meta";
import { configKeyToCamel } from "./names";
import { CAPABILITY_FIELDS, CONSTRAINT_FIELDS, type modelSchema } from "./schema";
import { wrapSecrets } from "./secrets";
import { type PathKey, type YamlTree, setOwn } from "./yaml-tree";

export function buildEntry(
  data: z.output<typeof modelSchema>,
  raw: Record<string, unknown>,
  index: number,
  tree: YamlTree,
  locator: Locator,
  plugin: AnyProviderPlugin | undefined,
  missing: string[] | undefined,
): { entry?: ModelEntry; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const prefix: PathKey[] = ["models", index];
  const here = locator.position(prefix) ?? { line: 1, column: 1 };

  // config: secrets wrapped while keys are still as written (env provenance is keyed by YAML path).
  const envSecret = (path: readonly PathKey[]) =>
    (tree.envVariables.get(formatPath([...prefix, "config", ...path])) ?? []).some((v) => SECRET_ENV_NAME.test(v));
  const wrapped = wrapSecrets(data.config ?? {}, plugin?.secretKeys ?? [], envSecret) as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  const yamlKeys = new Map<string, string>();
  for (const [key, value] of Object.entries(wrapped)) {
    if (value === undefined) continue; // a variable lenient mode forgave
    const camel = configKeyToCamel(key);
    const earlier = yamlKeys.get(camel);
    if (earlier !== undefined) {
      issues.push(
        issueAt(
          locator,
          [...prefix, "config", key],
          `"${key}" and "${earlier}" are the same setting (${camel}); keep one`,
          "key",
        ),
      );
      continue;
    }
    yamlKeys.set(camel, key);
    setOwn(config, camel, value);
  }

  // capabilities: the seed's `constraints.cost_per_token` prices both directions unless the
  // capabilities give their own input/output prices.
  const capsRaw = (raw.capabilities ?? {}) as Record<string, unknown>;
  const capsInput: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data.capabilities ?? {})) {
    if (Object.hasOwn(capsRaw, key)) capsInput[CAPABILITY_FIELDS.get(key) ?? key] = value;
  }
  const costPerToken = data.constraints?.cost_per_token;
  if (costPerToken !== undefined) {
    if (!Object.hasOwn(capsRaw, "input_cost_per_token")) capsInput.inputCostPerToken = costPerToken;
    if (!Object.hasOwn(capsRaw, "output_cost_per_token")) capsInput.outputCostPerToken = costPerToken;
  }
  const consRaw = (raw.constraints ?? {}) as Record<string, unknown>;
  const consInput: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data.constraints ?? {})) {
    if (key !== "cost_per_token" && Object.hasOwn(consRaw, key) && value !== undefined)
      consInput[CONSTRAINT_FIELDS.get(key) ?? key] = value;
  }
  let capabilities: ModelCapabilities;
  let constraints: ModelConstraints;
  try {
    capabilities = new ModelCapabilities(capsInput);
    constraints = new ModelConstraints(consInput);
  } catch (error) {
    // Validated above; a core rule the derived schema does not carry would still land here.
    const issue = ConfigError.isInstance(error) ? error.issues.map((i) => i.message).join("; ") : String(error);
    issues.push(issueAt(locator, prefix, issue));
    return { issues };
  }

  const entry: ModelEntry = {
    name: data.name,
    provider: data.provider,
    config,
    capabilities,
    constraints,
    capabilitiesDeclared: data.capabilities !== undefined && data.capabilities !== null,
    location: { source: locator.source, line: here.line, column: here.column },
  };
  if (missing && missing.length > 0) {
    const unique = [...new Set(missing)];
    const list = unique.length === 1 ? unique[0] : `${unique.slice(0, -1).join(", ")} and ${unique[unique.length - 1]}`;
    entry.unavailable = `${list} ${unique.length === 1 ? "is" : "are"} not set`;
  }
  setEntryMeta(entry, { index, locator, yamlKeys });
  return { entry, issues };
}
