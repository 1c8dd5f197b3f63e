import { Secret } from "./redact";

/** Header values as an SDK takes them: `Secret`s (an `Authorization` or `api-key` header from YAML) revealed here, at the last moment. */
export function revealHeaders(headers: Readonly<Record<string, string | Secret>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    out[name] = typeof value === "string" ? value : Secret.isSecret(value) ? value.reveal() : String(value);
  return out;
}
