import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ConfigError } from "@orchestrator-ts/core";

/** The shortest master key accepted: it opens the admin API, the dashboard and every model. */
export const MIN_MASTER_KEY_LENGTH = 16;

/**
 * Refuses a master key shorter than `MIN_MASTER_KEY_LENGTH` (without showing it): nothing limits
 * how many keys a client may try on `/admin` and `/v1`, so a short one would be guessed.
 */
export function checkMasterKey(key: string | undefined): void {
  if (key === undefined || key.length >= MIN_MASTER_KEY_LENGTH) return;
  throw new ConfigError([
    {
      path: "masterKey",
      message: `must be at least ${MIN_MASTER_KEY_LENGTH} characters, got ${key.length}: a shorter key can be guessed, and it opens the admin API and every model (make one with \`openssl rand -base64 32\`)`,
    },
  ]);
}

/** The prefix of generated virtual keys, so that secret scanners and people can tell what one is. */
export const KEY_PREFIX = "sk-orc-";

/** A new virtual key: 32 bytes from the system's CSPRNG, base64url (256 bits: not guessable). */
export function generateKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** A new key id (not secret: it names the key in logs, metrics and the admin API). */
export function generateKeyId(): string {
  return `key_${randomBytes(9).toString("base64url")}`;
}

/** What is stored in place of a key: its SHA-256, hex. A 256-bit random key needs no slow hash. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Equal digests, compared in constant time (for the master key, which is compared, not looked up). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
