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
 * Redis does not answer. A queue with a running sum: a take and a total cost O(1) amortised (the
 * limiter records one per call, so a full minute at 100k calls must not be copied per call).
 */
export class OwnTakes {
  // Two arrays rather than a pair per take; entries before #head have left the horizon.
  #at: number[] = [];
  #amount: number[] = [];
  #head = 0;
  #sum = 0;

  constructor(private readonly horizonMs: number | undefined) {}

  record(now: number, amount: number): void {
    this.#expire(now);
    this.#at.push(now);
    this.#amount.push(amount);
    this.#sum += amount;
  }

  total(now: number): number {
    this.#expire(now);
    return this.#sum;
  }

  clear(): void {
    this.#at = [];
    this.#amount = [];
    this.#head = 0;
    this.#sum = 0;
  }

  #expire(now: number): void {
    const horizon = this.horizonMs;
    if (horizon === undefined) return;
    const at = this.#at;
    let head = this.#head;
    while (head < at.length && (at[head] as number) <= now - horizon) {
      this.#sum -= this.#amount[head] as number;
      head++;
    }
    if (head === this.#head) return;
    if (head === at.length) {
      this.clear();
      return;
    }
    this.#head = head;
    // Drop the expired front once it is most of the arrays; the sum is recounted (no float drift).
    if (head >= 64 && head * 2 >= at.length) {
      this.#at = at.slice(head);
      this.#amount = this.#amount.slice(head);
      this.#head = 0;
      let sum = 0;
      for (const amount of this.#amount) sum += amount;
      this.#sum = sum;
    }
  }
}
