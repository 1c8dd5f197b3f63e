import { CAPABILITY_NAMES, type CapabilityName, ConfigError, type ConfigIssue, closestNames } from "@orchestrator-ts/core";

/** The seed's snake_case spelling of a capability name: `"text_generation"`. */
type Snake<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}` : S;

/** A capability name in camelCase (`"textGeneration"`) or the seed's snake_case (`"text_generation"`). */
export type CapabilityRequirement = CapabilityName | Snake<CapabilityName>;

/** What a model must satisfy to be considered. Every field is optional; all given fields must hold. */
export interface SelectionRequirements {
  /** Boolean capabilities the model must have. */
  capabilities?: readonly CapabilityRequirement[];
  /**
   * Highest acceptable USD for this request, estimated from its prompt tokens and `maxTokens`
   * (500 completion tokens when unset). Without a request: for the reference request of 1,000
   * prompt + 500 completion tokens (`REFERENCE_REQUEST` in core).
   */
  maxCost?: number;
  /** Lowest acceptable generation speed in tokens/s: the observed median once known, else the declared `tokensPerSecond`. A model with neither is not excluded. */
  minSpeed?: number;
  /** Smallest acceptable `contextWindow` in tokens. */
  minContextWindow?: number;
  /** Task tags the model must declare (all of them). */
  tasks?: readonly string[];
  /** Languages the model must declare (all of them; `"en"` matches `"en-US"`). */
  languages?: readonly string[];
  /** Only these providers. */
  providers?: readonly string[];
  /** Never these providers. */
  excludeProviders?: readonly string[];
  /** Highest acceptable observed p95 latency. A model with no observed calls is not excluded. */
  maxLatencyMs?: number;
  /** Only models that run on this machine. */
  localOnly?: boolean;
  /**
   * Pin the call to this registered model: it is asked first, and when it fails only its
   * configured `fallbacks` chain (followed transitively) may answer; every other model is excluded.
   */
  model?: string;
}

/** Requirements after validation: capability names resolved to camelCase. */
export interface NormalizedRequirements extends SelectionRequirements {
  capabilities?: readonly CapabilityName[];
}

const KEYS = new Set(["capabilities", "maxCost", "minSpeed", "minContextWindow", "tasks", "languages", "providers", "excludeProviders", "maxLatencyMs", "localOnly", "model"]);
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
  if (requirements.model !== undefined && (typeof requirements.model !== "string" || requirements.model === "")) issues.push({ path: "model", message: `must be a model name, got ${JSON.stringify(requirements.model)}` });
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
