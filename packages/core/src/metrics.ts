import { redact } from "./redact";

export interface MetricsUpdate {
  tokensUsed?: number;
  inputTokens?: number;
  outputTokens?: number;
  cost?: number;
  /** Milliseconds. */
  responseTimeMs?: number;
  /** Seconds, as the seed's Python `response.duration`; prefer `responseTimeMs`. */
  responseTime?: number;
  success?: boolean;
}

export interface LastError {
  code: string;
  message: string;
  at: number;
}

export interface MetricsSnapshot {
  requests: number;
  successes: number;
  failures: number;
  successRate: number | undefined;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  totalCost: number;
  latencyP50Ms: number | undefined;
  latencyP95Ms: number | undefined;
  tokensPerSecond: number | undefined;
  lastError: LastError | undefined;
}

/** A fixed-size ring of recent samples: bounded memory, percentiles computed only when asked. */
class Window {
  readonly #values: Float64Array;
  #next = 0;
  #size = 0;
  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }
  push(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#size < this.#values.length) this.#size++;
  }
  get size(): number {
    return this.#size;
  }
  quantile(q: number): number | undefined {
    if (this.#size === 0) return undefined;
    const sorted = this.#values.slice(0, this.#size).sort();
    return sorted[Math.min(this.#size - 1, Math.floor(q * this.#size))];
  }
  clear(): void {
    this.#next = 0;
    this.#size = 0;
  }
}

/**
 * Per-model counters kept by the `Model` base class for every call: requests, outcomes, tokens,
 * cost, latency percentiles over a bounded window and generation speed.
 */
export class ModelMetrics {
  requests = 0;
  successes = 0;
  failures = 0;
  inputTokens = 0;
  outputTokens = 0;
  totalCost = 0;
  lastError: LastError | undefined;
  readonly #latency: Window;
  readonly #speed: Window;
  // Cached percentiles, invalidated on every new sample.
  #dirty = true;
  #p50: number | undefined;
  #p95: number | undefined;
  #tps: number | undefined;

  constructor(windowSize = 256) {
    this.#latency = new Window(windowSize);
    this.#speed = new Window(windowSize);
  }

  /** Record one finished call. Token counts that the provider did not report stay out of the sums. */
  recordSuccess(
    latencyMs: number | undefined,
    inputTokens: number | undefined,
    outputTokens: number | undefined,
    cost: number | undefined,
    generationMs: number | undefined = latencyMs,
  ): void {
    this.requests++;
    this.successes++;
    if (inputTokens !== undefined) this.inputTokens += inputTokens;
    if (outputTokens !== undefined) this.outputTokens += outputTokens;
    if (cost !== undefined) this.totalCost += cost;
    if (latencyMs !== undefined) this.#latency.push(latencyMs);
    if (outputTokens !== undefined && outputTokens > 0 && generationMs !== undefined && generationMs > 0)
      this.#speed.push((outputTokens * 1000) / generationMs);
    this.#dirty = true;
  }

  recordFailure(latencyMs: number, error: { code?: string; message?: string } | undefined): void {
    this.requests++;
    this.failures++;
    this.#latency.push(latencyMs);
    this.lastError = {
      code: error?.code ?? "unknown",
      message: redact(String(error?.message ?? error)),
      at: Date.now(),
    };
    this.#dirty = true;
  }

  /** For subclasses that report by hand, as the seed's `self.metrics.update_metrics(...)`. */
  updateMetrics(update: MetricsUpdate): void {
    const latency =
      update.responseTimeMs ?? (update.responseTime !== undefined ? update.responseTime * 1000 : undefined);
    if (update.success === false) {
      this.recordFailure(latency ?? 0, { code: "reported", message: "failure reported by the model" });
      return;
    }
    const output = update.outputTokens ?? (update.inputTokens === undefined ? update.tokensUsed : undefined);
    this.recordSuccess(latency, update.inputTokens, output, update.cost);
  }

  #compute(): void {
    if (!this.#dirty) return;
    this.#p50 = this.#latency.quantile(0.5);
    this.#p95 = this.#latency.quantile(0.95);
    this.#tps = this.#speed.quantile(0.5);
    this.#dirty = false;
  }

  get latencyP50Ms(): number | undefined {
    this.#compute();
    return this.#p50;
  }
  get latencyP95Ms(): number | undefined {
    this.#compute();
    return this.#p95;
  }
  /** Median observed output tokens per second, `undefined` until a call reported tokens. */
  get tokensPerSecond(): number | undefined {
    this.#compute();
    return this.#tps;
  }
  get successRate(): number | undefined {
    return this.requests === 0 ? undefined : this.successes / this.requests;
  }

  snapshot(): MetricsSnapshot {
    return {
      requests: this.requests,
      successes: this.successes,
      failures: this.failures,
      successRate: this.successRate,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      totalTokens: this.inputTokens + this.outputTokens,
      totalCost: this.totalCost,
      latencyP50Ms: this.latencyP50Ms,
      latencyP95Ms: this.latencyP95Ms,
      tokensPerSecond: this.tokensPerSecond,
      lastError: this.lastError,
    };
  }

  reset(): void {
    this.requests = this.successes = this.failures = this.inputTokens = this.outputTokens = this.totalCost = 0;
    this.lastError = undefined;
    this.#latency.clear();
    this.#speed.clear();
    this.#dirty = true;
  }

  toJSON(): MetricsSnapshot {
    return this.snapshot();
  }
}
