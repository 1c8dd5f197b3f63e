/**
 * What this process itself asked for, as the leasing parts size what they ask of Redis: its
 * demand over the last `sliceMs` (the current and the previous period), so that the next slice
 * covers about one period of it.
 */
export class DemandMeter {
  #current = 0;
  #previous = 0;
  #periodStart = 0;

  constructor(private readonly sliceMs: number) {}

  note(amount: number): void {
    const now = performance.now();
    if (now - this.#periodStart >= this.sliceMs) {
      this.#previous = now - this.#periodStart >= 2 * this.sliceMs ? 0 : this.#current;
      this.#current = 0;
      this.#periodStart = now;
    }
    this.#current += amount;
  }

  /** The larger of this period's and the previous one's demand. */
  get recent(): number {
    return Math.max(this.#previous, this.#current);
  }
}

/**
 * What this process took within a horizon (`undefined`: ever), for its share of a limit while
 * Redis does not answer. Pruned now and then rather than per take.
 */
export class OwnTakes {
  // Two arrays rather than a pair per take: the limiter records one per call.
  #at: number[] = [];
  #amount: number[] = [];

  constructor(private readonly horizonMs: number | undefined) {}

  record(now: number, amount: number): void {
    this.#at.push(now);
    this.#amount.push(amount);
    const horizon = this.horizonMs;
    if (horizon !== undefined && this.#at.length > 64 && (this.#at[0] as number) <= now - horizon) {
      const keep = this.#at.findIndex((t) => t > now - horizon);
      const from = keep < 0 ? this.#at.length : keep;
      this.#at = this.#at.slice(from);
      this.#amount = this.#amount.slice(from);
    }
  }

  total(now: number): number {
    let sum = 0;
    for (let i = 0; i < this.#at.length; i++)
      if (this.horizonMs === undefined || (this.#at[i] as number) > now - this.horizonMs)
        sum += this.#amount[i] as number;
    return sum;
  }

  clear(): void {
    this.#at = [];
    this.#amount = [];
  }
}
