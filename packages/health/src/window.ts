/**
 * The last `size` live-call outcomes and success latencies, in fixed typed arrays so recording
 * allocates nothing. Success rate and p95 latency are derived on the write path, never during
 * selection.
 */
export class OutcomeWindow {
  readonly #ok: Uint8Array;
  readonly #latency: Float64Array;
  readonly #scratch: Float64Array;
  #okNext = 0;
  #okCount = 0;
  #okSum = 0;
  #latNext = 0;
  #latCount = 0;

  constructor(readonly size: number) {
    this.#ok = new Uint8Array(size);
    this.#latency = new Float64Array(size);
    this.#scratch = new Float64Array(size);
  }

  record(success: boolean, latencyMs?: number): void {
    const bit = success ? 1 : 0;
    if (this.#okCount === this.size) this.#okSum -= this.#ok[this.#okNext] ?? 0;
    else this.#okCount++;
    this.#ok[this.#okNext] = bit;
    this.#okSum += bit;
    this.#okNext = (this.#okNext + 1) % this.size;
    if (success && latencyMs !== undefined && Number.isFinite(latencyMs)) {
      this.#latency[this.#latNext] = latencyMs;
      this.#latNext = (this.#latNext + 1) % this.size;
      if (this.#latCount < this.size) this.#latCount++;
    }
  }

  get calls(): number {
    return this.#okCount;
  }

  get latencySamples(): number {
    return this.#latCount;
  }

  /** Share of successful calls in the window, or `undefined` before any call. */
  successRate(): number | undefined {
    return this.#okCount === 0 ? undefined : this.#okSum / this.#okCount;
  }

  /** Nearest-rank 95th percentile of success latencies, or `undefined` before any. */
  p95(): number | undefined {
    const n = this.#latCount;
    if (n === 0) return undefined;
    const s = this.#scratch;
    for (let i = 0; i < n; i++) s[i] = this.#latency[i] ?? 0;
    // Only the first n slots are live; fill the rest high so an in-place sort keeps them last.
    for (let i = n; i < this.size; i++) s[i] = Number.POSITIVE_INFINITY;
    s.sort();
    return s[Math.max(0, Math.ceil(0.95 * n) - 1)];
  }

  reset(): void {
    this.#okNext = this.#okCount = this.#okSum = this.#latNext = this.#latCount = 0;
  }
}
