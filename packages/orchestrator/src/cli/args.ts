import { parseArgs } from "node:util";
import { ConfigError, type SelectionRequirements } from "@orchestrator-ts/core";
import { normalizeRequirements } from "@orchestrator-ts/registry";
import { UsageError } from "./report";

export { UsageError };

export const COMMON = {
  config: { type: "string", short: "c" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const REQUIREMENTS = {
  capability: { type: "string", multiple: true },
  "max-cost": { type: "string" },
  "min-speed": { type: "string" },
  "min-context": { type: "string" },
  "max-latency": { type: "string" },
  task: { type: "string" },
  "require-task": { type: "string", multiple: true },
  provider: { type: "string", multiple: true },
  "exclude-provider": { type: "string", multiple: true },
  "local-only": { type: "boolean" },
} as const;

export const REQUEST = {
  "max-tokens": { type: "string" },
  temperature: { type: "string" },
  seed: { type: "string" },
  system: { type: "string" },
  model: { type: "string", short: "m" },
  "no-cache": { type: "boolean" },
} as const;

type OptionSpec = { type: "string" | "boolean"; short?: string; multiple?: boolean };
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined> & {
  config?: string;
  json?: boolean;
  help?: boolean;
};

/** Strict parsing: an unknown flag or a missing value is a usage error (exit code 2). */
export function parse(argv: string[], options: Record<string, OptionSpec>): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...COMMON, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function number(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`--${flag} expects a number, got "${String(value)}"`);
  return n;
}

export function requirementsFrom(values: Record<string, unknown>): SelectionRequirements {
  const req: Record<string, unknown> = {};
  if (values.capability) req.capabilities = values.capability;
  const maxCost = number(values["max-cost"], "max-cost");
  if (maxCost !== undefined) req.maxCost = maxCost;
  const minSpeed = number(values["min-speed"], "min-speed");
  if (minSpeed !== undefined) req.minSpeed = minSpeed;
  const minContext = number(values["min-context"], "min-context");
  if (minContext !== undefined) req.minContextWindow = minContext;
  const maxLatency = number(values["max-latency"], "max-latency");
  if (maxLatency !== undefined) req.maxLatencyMs = maxLatency;
  if (values["require-task"]) req.tasks = values["require-task"];
  if (values.provider) req.providers = values.provider;
  if (values["exclude-provider"]) req.excludeProviders = values["exclude-provider"];
  if (values["local-only"]) req.localOnly = true;
  // A bad value in a flag is a usage mistake (exit code 2), said with the flag's name.
  try {
    normalizeRequirements(req as SelectionRequirements);
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    throw new UsageError(error.issues.map((issue) => `${flagOf(issue.path)}: ${issue.message}`).join("\n"));
  }
  return req as SelectionRequirements;
}

const FLAG_OF: Record<string, string> = {
  capabilities: "--capability",
  maxCost: "--max-cost",
  minSpeed: "--min-speed",
  minContextWindow: "--min-context",
  maxLatencyMs: "--max-latency",
  tasks: "--require-task",
  providers: "--provider",
  excludeProviders: "--exclude-provider",
  localOnly: "--local-only",
};

function flagOf(path: string): string {
  const key = /^[A-Za-z]+/.exec(path)?.[0] ?? path;
  return FLAG_OF[key] ?? path;
}
