import { ConfigError } from "./errors";
import { REDACTED, Secret, redact } from "./redact";

/**
 * Who answers, as a cache sees it: the canonical JSON (keys sorted, `undefined` left out) of the
 * model's name, provider and the declared parts that decide its answers (API model id, endpoint,
 * deployment, weights file, options). Computed once per model. Credentials are left out:
 * `Secret`s and members named like credentials become `[REDACTED]`, and known secrets and
 * credential-shaped text are scrubbed from every string.
 */
export function cacheIdentityOf(name: string, provider: string, declared?: Record<string, unknown>): string {
  if (declared !== undefined && (typeof declared !== "object" || declared === null || Array.isArray(declared))) {
    throw new ConfigError(
      [{ path: "cacheIdentity", message: "must be an object of the options that decide this model's answers" }],
      {
        title: "Invalid model options",
        provider,
        model: name,
      },
    );
  }
  try {
    return stable({ ...declared, name, provider }, []);
  } catch (error) {
    throw new ConfigError([{ path: "cacheIdentity", message: (error as Error).message }], {
      title: "Invalid model options",
      provider,
      model: name,
    });
  }
}

// Members of a declared identity that hold credentials (`apiKey`, `accessToken`; not `maxTokens`).
const CREDENTIAL_MEMBER = /(key|token|secret|password|passwd|authorization|cookie|credentials?|signature)$/i;
// Words of header and query parameter names that authenticate rather than decide the answer
// (`x-api-key`, `proxy-authorization`, `sig`). Broad on purpose: leaving out a harmless one only
// makes two identities alike.
const CREDENTIAL_WORD =
  /^(auth|authorization|bearer|key|apikey|token|secret|password|passwd|cookie|credential|credentials|signature|sig|session|sessionid)$/;

function isCredentialName(name: string): boolean {
  if (CREDENTIAL_MEMBER.test(name)) return true;
  for (const word of name.toLowerCase().split(/[-_.\s]+/)) if (CREDENTIAL_WORD.test(word)) return true;
  return false;
}

/**
 * An endpoint as part of a cache identity: scheme, host, port and path, with query parameters
 * that change behaviour (e.g. Azure's `api-version`) but without userinfo, fragment or query
 * parameters that carry credentials (`api-key`, `token`, `sig`…). `undefined` stays `undefined`.
 */
export function endpointIdentity(url: string | undefined): string | undefined {
  if (url === undefined || url === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL we can take apart: keep what precedes a query, scrubbed.
    return redact(url.replace(/[?#].*$/s, ""));
  }
  parsed.username = "";
  parsed.password = "";
  parsed.hash = "";
  for (const name of [...parsed.searchParams.keys()]) if (isCredentialName(name)) parsed.searchParams.delete(name);
  return redact(parsed.toString().replace(/\/+$/, ""));
}

/**
 * Request headers as part of a cache identity: the ones that can change answers (`anthropic-beta`,
 * a gateway's routing header), by lower-cased name; credential headers are left out.
 * `undefined` when none remain.
 */
export function headersIdentity(
  headers: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> | undefined {
  if (!headers) return undefined;
  let out: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (isCredentialName(name) || typeof value !== "string") continue;
    (out ??= {})[name.toLowerCase()] = redact(value);
  }
  return out;
}

function stable(value: unknown, ancestors: object[]): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(redact(value));
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return String(value);
    case "bigint":
      return JSON.stringify(value.toString());
    case "object": {
      if (Secret.isSecret(value)) return JSON.stringify(REDACTED);
      if (ancestors.includes(value)) throw new TypeError("must not refer to itself");
      ancestors.push(value);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value.map((item) => (item === undefined || typeof item === "function" || typeof item === "symbol" ? "null" : stable(item, ancestors))).join(",")}]`;
      } else if (value instanceof Date) {
        out = JSON.stringify(value.toISOString());
      } else {
        const record = value as Record<string, unknown>;
        const parts: string[] = [];
        for (const key of Object.keys(record).sort()) {
          const member = record[key];
          if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
          parts.push(
            `${JSON.stringify(key)}:${CREDENTIAL_MEMBER.test(key) ? JSON.stringify(REDACTED) : stable(member, ancestors)}`,
          );
        }
        out = `{${parts.join(",")}}`;
      }
      ancestors.pop();
      return out;
    }
    default:
      return "null";
  }
}
