import { CAPABILITY_NAMES, type CapabilityName, ConfigError, type ConfigIssue, type NormalizedRequirements, type SelectionRequirements, closestNames } from "@orchestrator-ts/core";

const KEYS = new Set(["capabilities", "maxCost", "minSpeed", "minContextWindow", "tasks", "languages", "providers", "excludeProviders", "maxLatencyMs", "localOnly"]);
const CAMEL = new Set<string>(CAPABILITY_NAMES);
const SNAKE = new Map<string, CapabilityName>(CAPABILITY_NAMES.map((n) => [n.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), n]));
const EMPTY: readonly CapabilityName[] = Object.freeze([]);
const NONE: NormalizedRequirements = Object.freeze({});

function checkNumber(issues: ConfigIssue[], key: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) issues.push({ path: key, message: `must be a non-negative number, got ${JSON.stringify(value)}` });
}

function checkStrings(issues: ConfigIssue[], key: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) issues.push({ path: key, message: `must be an array of strings, got ${JSON.stringify(value)}` });
}

/**
 * Validate requirements and resolve capability names. Unknown capability names and unknown
 * fields are errors (a typo must not silently match every model).
 */
export function normalizeRequirements(requirements: SelectionRequirements | undefined): NormalizedRequirements {
  if (requirements === undefined) return NONE;
  if (typeof requirements !== "object" || requirements === null) {
    throw new ConfigError([{ path: "", message: `requirements must be an object, got ${JSON.stringify(requirements)}` }], { title: "Invalid selection requirements" });
  }
  const issues: ConfigIssue[] = [];
  for (const key in requirements) {
    if (!KEYS.has(key)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = KEYS.has(camel) ? ` (did you mean "${camel}"?)` : ` (known: ${[...KEYS].join(", ")})`;
      issues.push({ path: key, message: `is not a selection requirement${hint}` });
    }
  }
  let capabilities: readonly CapabilityName[] = EMPTY;
  const raw = requirements.capabilities as unknown;
  if (raw !== undefined) {
    if (!Array.isArray(raw)) {
      issues.push({ path: "capabilities", message: `must be an array of capability names, got ${JSON.stringify(raw)}` });
    } else {
      let camelOnly = true;
      for (const name of raw) if (typeof name !== "string" || !CAMEL.has(name)) camelOnly = false;
      // The common case (camelCase names) reuses the caller's array and object: no allocation.
      if (camelOnly) capabilities = raw as CapabilityName[];
      const out: CapabilityName[] = [];
      if (!camelOnly) raw.forEach((name: unknown, i: number) => {
        if (typeof name === "string" && CAMEL.has(name)) out.push(name as CapabilityName);
        else if (typeof name === "string" && SNAKE.has(name)) out.push(SNAKE.get(name) as CapabilityName);
        else {
          const suggestions = typeof name === "string" ? closestNames(name, [...CAPABILITY_NAMES, ...SNAKE.keys()], 2) : [];
          const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?` : "";
          issues.push({ path: `capabilities[${i}]`, message: `unknown capability ${JSON.stringify(name)}.${hint} Known: ${CAPABILITY_NAMES.join(", ")}.` });
        }
      });
      if (!camelOnly) capabilities = out;
    }
  }
  checkNumber(issues, "maxCost", requirements.maxCost);
  checkNumber(issues, "minSpeed", requirements.minSpeed);
  checkNumber(issues, "minContextWindow", requirements.minContextWindow);
  checkNumber(issues, "maxLatencyMs", requirements.maxLatencyMs);
  checkStrings(issues, "tasks", requirements.tasks);
  checkStrings(issues, "languages", requirements.languages);
  checkStrings(issues, "providers", requirements.providers);
  checkStrings(issues, "excludeProviders", requirements.excludeProviders);
  if (requirements.localOnly !== undefined && typeof requirements.localOnly !== "boolean") issues.push({ path: "localOnly", message: `must be a boolean, got ${JSON.stringify(requirements.localOnly)}` });
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid selection requirements" });
  if (raw === undefined || capabilities === raw) return requirements as NormalizedRequirements;
  return { ...requirements, capabilities };
}

/** Case-insensitive language match where a primary tag matches its regional variants (`en` ~ `en-US`). */
export function languageMatches(declared: string, wanted: string): boolean {
  const d = declared.toLowerCase();
  const w = wanted.toLowerCase();
  return d === w || d.startsWith(`${w}-`) || w.startsWith(`${d}-`);
}
