import {
  CAPABILITY_NAMES,
  type CapabilityName,
  ConfigError,
  type ConfigIssue,
  type NormalizedRequirements,
  type RequirementFields,
  type SelectionRequirements,
  closestNames,
} from "@orchestrator-ts/core";

const FIELDS = [
  "capabilities",
  "maxCost",
  "minSpeed",
  "minContextWindow",
  "tasks",
  "languages",
  "models",
  "providers",
  "excludeProviders",
  "maxLatencyMs",
  "localOnly",
] as const satisfies readonly (keyof RequirementFields)[];
const KEYS = new Set<string>(FIELDS);
const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** snake_case requirement key → its camelCase field (only the keys that differ). */
const SNAKE_KEYS = new Map<string, string>(FIELDS.filter((f) => snake(f) !== f).map((f) => [snake(f), f]));
const CAMEL = new Set<string>(CAPABILITY_NAMES);
const SNAKE = new Map<string, CapabilityName>(CAPABILITY_NAMES.map((n) => [snake(n), n]));
const EMPTY: readonly CapabilityName[] = Object.freeze([]);
const NONE: NormalizedRequirements = Object.freeze({});

function checkNumber(issues: ConfigIssue[], key: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    issues.push({ path: key, message: `must be a non-negative number, got ${JSON.stringify(value)}` });
}

function checkStrings(issues: ConfigIssue[], key: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    issues.push({ path: key, message: `must be an array of strings, got ${JSON.stringify(value)}` });
}

/** The key a field was written as, for error paths. */
function spelling(written: Map<string, string> | undefined, field: string): string {
  return written?.get(field) ?? field;
}

/**
 * Validate requirements and resolve capability names. Unknown capability names and unknown
 * fields are errors (a typo must not silently match every model).
 */
export function normalizeRequirements(requirements: SelectionRequirements | undefined): NormalizedRequirements {
  if (requirements === undefined) return NONE;
  if (typeof requirements !== "object" || requirements === null) {
    throw new ConfigError(
      [{ path: "", message: `requirements must be an object, got ${JSON.stringify(requirements)}` }],
      { title: "Invalid selection requirements" },
    );
  }
  const issues: ConfigIssue[] = [];
  // camelCase field → the snake_case key it was written as (only when one was).
  let written: Map<string, string> | undefined;
  for (const key in requirements) {
    if (KEYS.has(key)) continue;
    const field = SNAKE_KEYS.get(key);
    if (field !== undefined) {
      if (Object.hasOwn(requirements, field))
        issues.push({ path: key, message: `and "${field}" are the same requirement: write one of them` });
      else (written ??= new Map()).set(field, key);
      continue;
    }
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = KEYS.has(camel) ? ` (did you mean "${camel}"?)` : ` (known: ${[...KEYS].join(", ")})`;
    issues.push({ path: key, message: `is not a selection requirement${hint}` });
  }
  // The common case (camelCase keys) reads the caller's object as is: no allocation.
  let req = requirements as RequirementFields;
  if (written !== undefined) {
    const copy: Record<string, unknown> = {};
    for (const key in requirements) copy[SNAKE_KEYS.get(key) ?? key] = (requirements as Record<string, unknown>)[key];
    req = copy as RequirementFields;
  }
  let capabilities: readonly CapabilityName[] = EMPTY;
  const raw = req.capabilities as unknown;
  if (raw !== undefined) {
    if (!Array.isArray(raw)) {
      issues.push({
        path: "capabilities",
        message: `must be an array of capability names, got ${JSON.stringify(raw)}`,
      });
    } else {
      let camelOnly = true;
      for (const name of raw) if (typeof name !== "string" || !CAMEL.has(name)) camelOnly = false;
      // The common case (camelCase names) reuses the caller's array: no allocation.
      if (camelOnly) capabilities = raw as CapabilityName[];
      const out: CapabilityName[] = [];
      if (!camelOnly)
        raw.forEach((name: unknown, i: number) => {
          if (typeof name === "string" && CAMEL.has(name)) out.push(name as CapabilityName);
          else if (typeof name === "string" && SNAKE.has(name)) out.push(SNAKE.get(name) as CapabilityName);
          else {
            const suggestions =
              typeof name === "string" ? closestNames(name, [...CAPABILITY_NAMES, ...SNAKE.keys()], 2) : [];
            const hint =
              suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?` : "";
            issues.push({
              path: `capabilities[${i}]`,
              message: `unknown capability ${JSON.stringify(name)}.${hint} Known: ${CAPABILITY_NAMES.join(", ")}.`,
            });
          }
        });
      if (!camelOnly) capabilities = out;
    }
  }
  checkNumber(issues, spelling(written, "maxCost"), req.maxCost);
  checkNumber(issues, spelling(written, "minSpeed"), req.minSpeed);
  checkNumber(issues, spelling(written, "minContextWindow"), req.minContextWindow);
  checkNumber(issues, spelling(written, "maxLatencyMs"), req.maxLatencyMs);
  checkStrings(issues, "tasks", req.tasks);
  checkStrings(issues, "languages", req.languages);
  checkStrings(issues, "models", req.models);
  checkStrings(issues, "providers", req.providers);
  checkStrings(issues, spelling(written, "excludeProviders"), req.excludeProviders);
  if (req.localOnly !== undefined && typeof req.localOnly !== "boolean")
    issues.push({
      path: spelling(written, "localOnly"),
      message: `must be a boolean, got ${JSON.stringify(req.localOnly)}`,
    });
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid selection requirements" });
  if (raw === undefined || capabilities === raw) return req as NormalizedRequirements;
  return { ...req, capabilities };
}

/** Case-insensitive language match where a primary tag matches its regional variants (`en` ~ `en-US`). */
export function languageMatches(declared: string, wanted: string): boolean {
  const d = declared.toLowerCase();
  const w = wanted.toLowerCase();
  return d === w || d.startsWith(`${w}-`) || w.startsWith(`${d}-`);
}
