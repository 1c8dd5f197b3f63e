import { redact, scrubUrls } from "./redact";

/** Marker shared by every copy of this package, so `isInstance` works where `instanceof` does not. */
const MARKER = Symbol.for("@orchestrator-ts/core/error");

type ErrorClass = { readonly errorName: string };

export interface OrchestratorErrorOptions {
  cause?: unknown;
  provider?: string;
  model?: string;
}

/**
 * Base of every error this library throws. `code` is stable across releases: branch on it,
 * or on the static `isInstance` of a class, never on the message.
 */
export class OrchestratorError extends Error {
  static readonly errorName: string = "OrchestratorError";
  readonly code: string = "orchestrator_error";
  readonly provider: string | undefined;
  readonly model: string | undefined;
  /** Whether trying the same call again can succeed. */
  readonly retryable: boolean = false;
  declare readonly [MARKER]: readonly string[];

  constructor(message: string, options: OrchestratorErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: sanitizeCause(options.cause) });
    this.name = (new.target as unknown as ErrorClass).errorName;
    this.provider = options.provider;
    this.model = options.model;
    // The names of every class in the chain, for cross-copy isInstance checks.
    const chain: string[] = [];
    for (let c: unknown = new.target; c && (c as ErrorClass).errorName; c = Object.getPrototypeOf(c)) {
      const name = (c as ErrorClass).errorName;
      if (chain[chain.length - 1] !== name) chain.push(name);
    }
    Object.defineProperty(this, MARKER, { value: chain, enumerable: false });
  }

  /** True for errors of this class (or a subclass) from any loaded copy of `@orchestrator-ts/core`. */
  static isInstance<T extends abstract new (...args: never[]) => OrchestratorError>(
    this: T & { errorName: string },
    value: unknown,
  ): value is InstanceType<T> {
    if (typeof value !== "object" || value === null) return false;
    const chain = (value as Record<symbol, unknown>)[MARKER];
    return Array.isArray(chain) && chain.includes(this.errorName);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      provider: this.provider,
      model: this.model,
      retryable: this.retryable,
    };
  }
}

export class ModelNotFoundError extends OrchestratorError {
  static override readonly errorName: string = "ModelNotFoundError";
  override readonly code = "model_not_found";
  readonly suggestions: readonly string[];
  constructor(name: string, known: readonly string[] = [], options: OrchestratorErrorOptions = {}) {
    const suggestions = closestNames(name, known);
    const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?` : "";
    const list = known.length > 0 ? ` Registered models: ${known.join(", ")}.` : " No models are registered.";
    super(`Model "${name}" is not registered.${hint}${list}`, { ...options, model: name });
    this.suggestions = suggestions;
  }
}

export interface ExclusionReason {
  model: string;
  /** Machine-readable reason, e.g. `capability`, `cost`, `speed`, `context_window`, `unhealthy`, `saturated`. */
  code: string;
  /** Human-readable reason. */
  reason: string;
}

export class NoEligibleModelError extends OrchestratorError {
  static override readonly errorName: string = "NoEligibleModelError";
  override readonly code = "no_eligible_model";
  readonly excluded: readonly ExclusionReason[];
  constructor(excluded: readonly ExclusionReason[], message?: string) {
    const detail =
      excluded.length === 0 ? "no models are registered" : excluded.map((e) => `${e.model}: ${e.reason}`).join("; ");
    super(message ?? `No model satisfies the requirements (${detail}).`);
    this.excluded = excluded;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), excluded: this.excluded };
  }
}

export interface ConfigIssue {
  /** Where the problem is, as a field path (`models[1].capabilities.max_tokens`). */
  path: string;
  message: string;
  /** File the value came from, when known. */
  source?: string;
  line?: number;
  column?: number;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.source
    ? `${issue.source}${issue.line ? `:${issue.line}${issue.column ? `:${issue.column}` : ""}` : ""}: `
    : issue.line
      ? `line ${issue.line}${issue.column ? `:${issue.column}` : ""}: `
      : "";
  return `${where}${issue.path ? `${issue.path}: ` : ""}${issue.message}`;
}

/** How many problems a `ConfigError` keeps and shows; the rest are only counted (`totalIssues`). */
export const MAX_CONFIG_ISSUES = 20;

export class ConfigError extends OrchestratorError {
  static override readonly errorName: string = "ConfigError";
  override readonly code: string = "config_error";
  /** The first `MAX_CONFIG_ISSUES` problems, in the order given. */
  readonly issues: readonly ConfigIssue[];
  /** How many problems there were in all: a file with one typo repeated 31,000 times printed 4.2 MB of errors. */
  readonly totalIssues: number;
  constructor(issues: readonly ConfigIssue[] | string, options: OrchestratorErrorOptions & { title?: string } = {}) {
    const all: readonly ConfigIssue[] = typeof issues === "string" ? [{ path: "", message: issues }] : issues;
    const list = all.slice(0, MAX_CONFIG_ISSUES);
    const more = all.length - list.length;
    const title = options.title ?? "Invalid configuration";
    const body =
      all.length === 1
        ? `${title}: ${formatConfigIssue(list[0] as ConfigIssue)}`
        : `${title} (${all.length} problems):\n${list.map((i) => `  - ${formatConfigIssue(i)}`).join("\n")}${more > 0 ? `\n  … and ${more} more` : ""}`;
    super(body, options);
    this.issues = list;
    this.totalIssues = all.length;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues, totalIssues: this.totalIssues };
  }
}

export interface ProviderErrorOptions extends OrchestratorErrorOptions {
  status?: number;
  retryable?: boolean;
}

/** A failure reported by (or on the way to) a provider. `retryable` says whether a retry can help. */
export class ProviderError extends OrchestratorError {
  static override readonly errorName: string = "ProviderError";
  override readonly code: string = "provider_error";
  readonly status: number | undefined;
  override readonly retryable: boolean;
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, options);
    this.status = options.status;
    this.retryable =
      options.retryable ?? (options.status === undefined || options.status >= 500 || options.status === 408);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status };
  }
}

export class AuthenticationError extends ProviderError {
  static override readonly errorName: string = "AuthenticationError";
  override readonly code = "authentication_error";
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, { status: 401, ...options, retryable: false });
  }
}

export class RateLimitError extends ProviderError {
  static override readonly errorName: string = "RateLimitError";
  override readonly code = "rate_limit_error";
  /** How long the provider asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: ProviderErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, { status: 429, ...options, retryable: true });
    this.retryAfterMs = options.retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

export class TimeoutError extends ProviderError {
  static override readonly errorName: string = "TimeoutError";
  override readonly code = "timeout_error";
  readonly timeoutMs: number | undefined;
  constructor(message: string, options: ProviderErrorOptions & { timeoutMs?: number } = {}) {
    super(message, { ...options, retryable: true });
    this.timeoutMs = options.timeoutMs;
  }
}

export class ContextLengthError extends ProviderError {
  static override readonly errorName: string = "ContextLengthError";
  override readonly code = "context_length_error";
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, { status: 400, ...options, retryable: false });
  }
}

/** The caller aborted the request through its `signal`. */
export class AbortError extends OrchestratorError {
  static override readonly errorName: string = "AbortError";
  override readonly code = "abort_error";
  constructor(message = "The request was aborted.", options: OrchestratorErrorOptions = {}) {
    super(message, options);
  }
}

const KEPT_FIELDS = ["status", "code", "type", "param", "errno", "syscall"] as const;

/**
 * A copy of an underlying error that is safe to show: message and stack redacted, only
 * well-known fields kept. SDK errors can carry request options, headers and keys.
 */
function sanitizeCause(cause: unknown, depth = 0): unknown {
  if (OrchestratorError.isInstance(cause)) return cause;
  if (!(cause instanceof Error))
    return typeof cause === "string" ? redact(cause) : typeof cause === "object" ? "[non-error cause]" : cause;
  const copy = new Error(redact(scrubUrls(cause.message)));
  copy.name = cause.name;
  copy.stack = cause.stack ? redact(scrubUrls(cause.stack)) : copy.stack;
  for (const field of KEPT_FIELDS) {
    const value = (cause as unknown as Record<string, unknown>)[field];
    if (typeof value === "string" || typeof value === "number")
      (copy as unknown as Record<string, unknown>)[field] = typeof value === "string" ? redact(value) : value;
  }
  const inner = (cause as { cause?: unknown }).cause;
  if (inner !== undefined && depth < 3) (copy as { cause?: unknown }).cause = sanitizeCause(inner, depth + 1);
  return copy;
}

/** Up to three registered names within a small edit distance of `name`. */
export function closestNames(name: string, known: readonly string[], max = 3): string[] {
  // No name is a typo of one this long; and the edit distance costs its length times each name's
  // (a 3 MB model name in a request took ~0.5 s of CPU to answer 404 with four names, ~6 s with twenty).
  if (name.length > MAX_SUGGESTED_NAME) return [];
  const limit = Math.max(2, Math.floor(name.length / 3));
  // A name may be listed twice (a camelCase name and its snake_case alias are often the same word).
  return [...new Set(known)]
    .map((k) => ({ k, d: editDistance(name.toLowerCase(), k.toLowerCase()) }))
    .filter((x) => x.d <= limit || x.k.toLowerCase().includes(name.toLowerCase()))
    .sort((a, b) => a.d - b.d)
    .slice(0, max)
    .map((x) => x.k);
}

/** Names longer than this get no "did you mean" suggestions. */
const MAX_SUGGESTED_NAME = 256;

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

/**
 * Turn an HTTP status from a provider into the matching error class. Provider packages call this
 * from their error mapping so every provider fails the same way.
 */
export function errorFromStatus(
  status: number | undefined,
  message: string,
  options: OrchestratorErrorOptions & { retryAfterMs?: number; contextLength?: boolean } = {},
): ProviderError {
  if (options.contextLength) return new ContextLengthError(message, { ...options, status: status ?? 400 });
  if (status === 401 || status === 403) return new AuthenticationError(message, { ...options, status });
  if (status === 429) return new RateLimitError(message, options);
  if (status === 408 || status === 504) return new TimeoutError(message, { ...options, status });
  return new ProviderError(message, { ...options, ...(status === undefined ? {} : { status }) });
}

/** Parse `retry-after-ms` / `retry-after` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  get: (name: string) => string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = get("retry-after-ms");
  if (ms != null && ms !== "") {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const value = get("retry-after");
  if (value == null || value === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
