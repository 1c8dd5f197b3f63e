// Guessing the master key: an address that sends wrong keys (the login form, or a wrong Bearer
// key on /ui) is refused for a while once it has failed `maxFailures` times in `windowMs`, with
// 429 and Retry-After. The table of addresses is bounded: past `maxAddresses` the least recently
// failing address is forgotten, so a flood from many addresses cannot grow memory.
import { ConfigError } from "@orchestrator-ts/core";

/** Options of the dashboard's login throttle. */
export interface LoginThrottleOptions {
  /** Wrong keys an address may send within `windowMs` before it is refused. Default 5. */
  maxFailures?: number;
  /** The window failures are counted in, and how long an address is then refused. Default 60 s. */
  windowMs?: number;
  /** Addresses remembered at once. Default 10,000. */
  maxAddresses?: number;
}

interface Entry {
  /** When the current window began. */
  since: number;
  failures: number;
  /** Refused until then (0: not refused). */
  lockedUntil: number;
}

export class LoginThrottle {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly maxAddresses: number;
  // Insertion order is recency of the last failure: the first entry is the one to forget.
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = positive(options.maxFailures, 5, "maxFailures");
    this.windowMs = positive(options.windowMs, 60_000, "windowMs");
    this.maxAddresses = positive(options.maxAddresses, 10_000, "maxAddresses");
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds this address must still wait; 0 when it may try. */
  waitMs(address: string, now = Date.now()): number {
    const entry = this.#entries.get(address);
    if (entry === undefined) return 0;
    if (entry.lockedUntil > now) return entry.lockedUntil - now;
    if (entry.lockedUntil !== 0 || now - entry.since >= this.windowMs) this.#entries.delete(address);
    return 0;
  }

  /** A wrong key from this address. */
  fail(address: string, now = Date.now()): void {
    let entry = this.#entries.get(address);
    if (entry !== undefined) this.#entries.delete(address);
    if (
      entry === undefined ||
      now - entry.since >= this.windowMs ||
      (entry.lockedUntil !== 0 && entry.lockedUntil <= now)
    )
      entry = { since: now, failures: 0, lockedUntil: 0 };
    entry.failures++;
    if (entry.failures >= this.maxFailures) entry.lockedUntil = now + this.windowMs;
    this.#entries.set(address, entry);
    while (this.#entries.size > this.maxAddresses) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  /** The right key: the address's failures are forgotten. */
  succeed(address: string): void {
    this.#entries.delete(address);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
    throw new ConfigError([
      { path: `loginThrottle.${name}`, message: `must be a positive number, got ${JSON.stringify(value)}` },
    ]);
  return value;
}
