// Who may open the dashboard: the master key, sent as `Authorization: Bearer …` (tools, tests) or
// typed once into the login form, which sets a session cookie. The cookie never holds the key: it
// is `<expiry>.<HMAC-SHA256(expiry)>` under a secret drawn at start, so a restart logs everyone out
// and nothing the browser keeps can be turned back into the key.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { rawKeyOf } from "../server";

export const SESSION_COOKIE = "orchestrator_ui";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export class Sessions {
  readonly #master: Buffer;
  readonly #secret = randomBytes(32);
  readonly ttlMs: number;

  constructor(masterKey: string, ttlMs: number) {
    this.#master = digest(masterKey);
    this.ttlMs = ttlMs;
  }

  /** Constant-time: the digests have the same length whatever was sent. */
  isMasterKey(candidate: string | undefined): boolean {
    if (candidate === undefined || candidate.length === 0 || candidate.length > 4096) return false;
    return timingSafeEqual(digest(candidate), this.#master);
  }

  issue(now = Date.now()): string {
    const expires = String(now + this.ttlMs);
    return `${expires}.${this.#sign(expires)}`;
  }

  valid(token: string | undefined, now = Date.now()): boolean {
    if (token === undefined || token.length > 200) return false;
    const dot = token.indexOf(".");
    if (dot <= 0) return false;
    const expires = token.slice(0, dot);
    if (!/^\d{1,16}$/.test(expires) || Number(expires) <= now) return false;
    const given = Buffer.from(token.slice(dot + 1));
    const wanted = Buffer.from(this.#sign(expires));
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  /** The Bearer key, or else the session cookie. */
  allows(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (typeof auth === "string") return this.isMasterKey(rawKeyOf(req));
    return this.valid(cookieOf(req, SESSION_COOKIE));
  }

  cookie(token: string, path: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${token}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? "; Secure" : ""}`;
  }

  #sign(expires: string): string {
    return createHmac("sha256", this.#secret).update(`ui-session:${expires}`).digest("base64url");
  }
}

export function clearCookie(path: string): string {
  return `${SESSION_COOKIE}=; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== "string" || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
