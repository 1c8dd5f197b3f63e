/**
 * Secrets never appear in messages, logs, JSON or inspection. Every package keeps API keys in a
 * `Secret` and passes error text through `redact` before it leaves the library.
 */

const INSPECT = Symbol.for("nodejs.util.inspect.custom");
export const REDACTED = "[REDACTED]";

// Values registered as secrets in this process; `redact` scrubs them from any text.
const known = new Set<string>();
let pattern: RegExp | undefined;

// Shapes of credentials that may reach us from elsewhere (SDK messages, URLs, headers).
const SHAPES: readonly RegExp[] = [
  /\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, // OpenAI / Anthropic style keys (sk-ant-…, sk-proj-…)
  /\bhf_[A-Za-z0-9]{8,}/g, // Hugging Face tokens
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /([?&](?:api[_-]?key|key|token|access_token)=)[^&\s"']+/gi,
  /(\/\/[^:/\s"']+:)[^@/\s"']+@/g, // credentials in URLs: redis://user:pass@host
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// A URL inside an error's text: shown without its userinfo, query or fragment.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi;

/**
 * A URL as an error message may show it: scheme, host, port and path. Never its userinfo
 * (`user:password@`), query (`?api-key=…`) or fragment. `undefined` when it does not parse.
 */
export function displayUrl(url: string | URL | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(String(url));
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return undefined;
  }
}

/** `text` with every URL in it as `displayUrl` shows it. */
export function scrubUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => displayUrl(url) ?? url.replace(/\/\/[^/@\s]*@/, "//"));
}

/** Register a value that must never be shown. Short values (< 4 chars) are ignored to avoid scrubbing noise. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 4 || known.has(value)) return;
  known.add(value);
  pattern = new RegExp([...known].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|"), "g");
}

/** Remove registered secrets and credential-shaped substrings from text. */
export function redact(text: string): string {
  if (typeof text !== "string" || text.length === 0) return text;
  let out = pattern ? text.replace(pattern, REDACTED) : text;
  for (const shape of SHAPES) {
    shape.lastIndex = 0;
    if (shape.test(out)) {
      shape.lastIndex = 0;
      out = out.replace(shape, (match, prefix: unknown) =>
        typeof prefix === "string" && (prefix.startsWith("?") || prefix.startsWith("&") || prefix.startsWith("//"))
          ? `${prefix}${REDACTED}${match.endsWith("@") ? "@" : ""}`
          : /^(Bearer|Basic)/i.test(match)
            ? `${match.split(/\s+/)[0]} ${REDACTED}`
            : REDACTED,
      );
    }
  }
  return out;
}

/**
 * A string that refuses to be shown: `String()`, template literals, `JSON.stringify` and
 * `util.inspect` all print `[REDACTED]`. Call `reveal()` where the real value is needed.
 */
const SECRET = Symbol.for("@orchestrator-ts/core/secret");

export class Secret {
  readonly #value: string;
  declare readonly [SECRET]: true;
  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
    Object.defineProperty(this, SECRET, { value: true, enumerable: false });
  }
  /** True for a `Secret` from any loaded copy of this package (where `instanceof` fails). */
  static isSecret(value: unknown): value is Secret {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SECRET] === true;
  }
  static from(value: string | Secret | undefined | null): Secret | undefined {
    if (value == null || value === "") return undefined;
    if (value instanceof Secret) return value;
    // A Secret from another loaded copy of this package: re-wrap its value in ours.
    const foreign: unknown = value;
    return typeof foreign === "string" ? new Secret(foreign) : Secret.isSecret(foreign) ? new Secret(foreign.reveal()) : undefined;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [INSPECT](): string {
    return REDACTED;
  }
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

/** Read a secret from the environment lazily: nothing throws at import time, and the value is registered. */
export function secretFromEnv(name: string, env: Record<string, string | undefined> = globalThis.process?.env ?? {}): Secret | undefined {
  const value = env[name];
  return value ? new Secret(value) : undefined;
}

/** A deep copy of a plain object in which keys that look like credentials are redacted. */
export function redactObject<T>(value: T, secretKeys: readonly string[] = DEFAULT_SECRET_KEYS): T {
  return walk(value, new Set(secretKeys.map(normaliseKey))) as T;
}

export const DEFAULT_SECRET_KEYS: readonly string[] = [
  "apiKey",
  "api_key",
  "accessToken",
  "access_token",
  "token",
  "password",
  "secret",
  "authorization",
  "organization_key",
];

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

function walk(value: unknown, keys: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, keys));
  if (Secret.isSecret(value)) return REDACTED;
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = keys.has(normaliseKey(k)) && v != null && v !== "" ? REDACTED : walk(v, keys);
    }
    return out;
  }
  return typeof value === "string" ? redact(value) : value;
}
