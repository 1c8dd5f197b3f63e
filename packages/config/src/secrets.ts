import { DEFAULT_SECRET_KEYS, Secret } from "@orchestrator-ts/core";
import { setOwn } from "./yaml-tree";

function normalize(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

const DEFAULTS = new Set(DEFAULT_SECRET_KEYS.map(normalize));

export function isSecretKey(key: string, extra: readonly string[] = []): boolean {
  const k = normalize(key);
  return DEFAULTS.has(k) || extra.some((e) => normalize(e) === k);
}

/**
 * A copy of a `config:` block in which the values of secret keys (any depth) and the values read
 * from secret-named variables (`envSecret(yamlPath)`) are `Secret`s.
 */
export function wrapSecrets(
  value: unknown,
  extraKeys: readonly string[],
  envSecret: (path: readonly (string | number)[]) => boolean,
  path: readonly (string | number)[] = [],
  secretHere = false,
): unknown {
  if (typeof value === "string") return secretHere || envSecret(path) ? new Secret(value) : value;
  if (Array.isArray(value)) return value.map((v, i) => wrapSecrets(v, extraKeys, envSecret, [...path, i], secretHere));
  if (
    value &&
    typeof value === "object" &&
    !Secret.isSecret(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // A `__proto__` key stays a plain key of the copy.
      setOwn(out, k, wrapSecrets(v, extraKeys, envSecret, [...path, k], secretHere || isSecretKey(k, extraKeys)));
    }
    return out;
  }
  return value;
}

/** A URL with `user:password@` in it. */
export function hasCredentials(url: string): boolean {
  return /\/\/[^/@\s]*:[^/@\s]*@/.test(url) || /\/\/[^/:@\s]+@/.test(url);
}
