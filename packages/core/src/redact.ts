/**
 * Secrets never appear in messages, logs, JSON or inspection. Every package keeps API keys in a
 * `Secret` and passes error text through `redact` before it leaves the library.
 */

const INSPECT = Symbol.for("nodejs.util.inspect.custom");
export const REDACTED = "[REDACTED]";

// Values registered as secrets in this process; `redact` scrubs them from any text.
const known = new Set<string>();
// One alternation of every secret, longest first, rebuilt at the next redact after a registration
// (rebuilding at each registration made 8,000 secrets in one config file take 47 s).
let pattern: RegExp | undefined;
let patternStale = false;
// Past this many secrets, one regex alternation is slow to build and to run: a scan looks up the
// secrets that start with each 4 characters of the text instead.
const PATTERN_LIMIT = 256;
const PREFIX = 4;
const byPrefix = new Map<string, string[]>();

// Shapes of credentials that may reach us from elsewhere (SDK messages, URLs, headers a server
// echoes): scrubbed whether or not the value was ever registered. Each pattern is linear in the
// text (no nested quantifiers, runs stop at a delimiter), so hostile input costs no backtracking.
const KEY_SHAPES =
  /\b(?:(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|(?:hf|gsk|r8|glpat|ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{8,}|(?:xai|pplx|glpat)-[A-Za-z0-9_-]{8,}|xox[abposr]-[A-Za-z0-9-]{8,}|AIza[A-Za-z0-9_-]{30,}|(?:AKIA|ASIA)[A-Z0-9]{16}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/g;
// An authorization scheme and its credentials: `Bearer abc…`, `Basic dXNl…`.
const SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
// Header- or field-like `name: value` / `"name": "value"` / `name=value` for names that only ever hold credentials.
// Not after `.`: `models[0].api_key: …` is a path in a message, not an echoed header.
const SECRET_FIELD =
  /((?:^|[^A-Za-z0-9_.-])["']?(?:proxy-authorization|authorization|x-api-key|api-key|apikey|api_key|x-goog-api-key|ocp-apim-subscription-key|x-auth-token|x-access-token|access_token|refresh_token|id_token|client_secret|private_key|password|passwd|secret|token|cookie|set-cookie)["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Token|Digest)\s+)?([^\s"',;&]+)/gi;
// Query parameters that carry credentials: `?key=…`, `&sig=…`, `&code=…` (signed URLs, OAuth redirects).
const SECRET_PARAM =
  /([?&;#](?:[A-Za-z0-9_.-]*[_.-])?(?:api[_-]?key|key|token|access_token|refresh_token|id_token|sig|signature|code|secret|client_secret|password|passwd|pwd|auth|credential|x-amz-credential|x-amz-signature|x-amz-security-token)=)[^&\s"'#<>]+/gi;
// User information in URLs: `redis://user:pass@host`, `https://:pass@host`, `https://token@host`.
const USERINFO = /(\/\/)([^\s/?#@"'<>]+)@/g;

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
  if (!value || value.length < PREFIX || known.has(value)) return;
  known.add(value);
  patternStale = true;
  const key = value.slice(0, PREFIX);
  const list = byPrefix.get(key);
  if (!list) byPrefix.set(key, [value]);
  else {
    // Longest first, as in the alternation: a secret that extends another is scrubbed whole.
    let at = list.findIndex((other) => other.length < value.length);
    if (at < 0) at = list.length;
    list.splice(at, 0, value);
  }
}

function scrubKnown(text: string): string {
  if (known.size === 0) return text;
  if (known.size <= PATTERN_LIMIT) {
    if (patternStale) {
      pattern = new RegExp(
        [...known]
          .sort((a, b) => b.length - a.length)
          .map(escapeRegExp)
          .join("|"),
        "g",
      );
      patternStale = false;
    }
    return pattern ? text.replace(pattern, REDACTED) : text;
  }
  let out = "";
  let copied = 0;
  for (let i = 0; i <= text.length - PREFIX; ) {
    const candidates = byPrefix.get(text.slice(i, i + PREFIX));
    let length = 0;
    if (candidates) {
      for (const candidate of candidates) {
        if (text.startsWith(candidate, i)) {
          length = candidate.length;
          break;
        }
      }
    }
    if (length === 0) i++;
    else {
      out += `${text.slice(copied, i)}${REDACTED}`;
      i += length;
      copied = i;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// Header names whose values are credentials (compared lower-cased, `-`/`_` removed).
const SECRET_HEADER = /auth|key|token|secret|password|passwd|cookie|signature|credential|session/;

/**
 * Register the values of headers that carry credentials (`Authorization`, `x-api-key`,
 * `api-key`, a proxy's `x-portkey-api-key`, cookies…), so a server that echoes them cannot
 * leak them through an error. Other headers (`content-type`, `anthropic-version`) stay visible.
 */
export function registerSecretHeaders(headers: Readonly<Record<string, unknown>> | undefined | null): void {
  if (!headers || typeof headers !== "object") return;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string" || !SECRET_HEADER.test(name.toLowerCase().replace(/[-_]/g, ""))) continue;
    registerSecret(value);
    // `Bearer abc…`: the credential alone too, as a server may echo only that part.
    const space = value.indexOf(" ");
    if (space > 0) registerSecret(value.slice(space + 1).trim());
  }
}

function replaceUserinfo(_match: string, slashes: string, userinfo: string): string {
  const colon = userinfo.indexOf(":");
  // `user:password@`: the user stays (useful in messages); a lone `token@` is the credential itself.
  return colon > 0 ? `${slashes}${userinfo.slice(0, colon)}:${REDACTED}@` : `${slashes}${REDACTED}@`;
}

// A value that is a plain word ("apiKey: must be a string") is prose, not a credential:
// credentials have digits or symbols. (Registered values are scrubbed whatever their shape.)
const CREDENTIAL_CHAR = /[0-9+/=_.~-]/;

function replaceField(match: string, prefix: string, value: string): string {
  if (value.startsWith(REDACTED) || value.length < 6 || !CREDENTIAL_CHAR.test(value)) return match;
  return `${prefix}${REDACTED}`;
}

/** Remove registered secrets and credential-shaped substrings from text. */
export function redact(text: string): string {
  if (typeof text !== "string" || text.length === 0) return text;
  let out = scrubKnown(text);
  out = out.replace(USERINFO, replaceUserinfo);
  out = out.replace(SECRET_PARAM, `$1${REDACTED}`);
  out = out.replace(SECRET_FIELD, replaceField);
  out = out.replace(SCHEME, `$1 ${REDACTED}`);
  out = out.replace(KEY_SHAPES, REDACTED);
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
    return typeof foreign === "string"
      ? new Secret(foreign)
      : Secret.isSecret(foreign)
        ? new Secret(foreign.reveal())
        : undefined;
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
export function secretFromEnv(
  name: string,
  env: Record<string, string | undefined> = globalThis.process?.env ?? {},
): Secret | undefined {
  const value = env[name];
  return value ? new Secret(value) : undefined;
}

/** A deep copy of a plain object in which keys that look like credentials are redacted. */
export function redactObject<T>(value: T, secretKeys: readonly string[] = DEFAULT_SECRET_KEYS): T {
  return walk(value, new Set(secretKeys.map(normalizeKey))) as T;
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
  "x-api-key",
  "masterKey",
];

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

function walk(value: unknown, keys: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, keys));
  if (Secret.isSecret(value)) return REDACTED;
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = keys.has(normalizeKey(k)) && v != null && v !== "" ? REDACTED : walk(v, keys);
    }
    return out;
  }
  return typeof value === "string" ? redact(value) : value;
}
