// Per-request metric updates without prom-client's per-update work. prom-client checks a label
// object, builds a string of its values and looks that string up in a dictionary on every `inc` and
// `observe` (with a closure per `observe`): about 1 µs each, ten of them per gateway request. Here
// a series is found through nested Maps keyed by the label values themselves (the same string
// objects each time: endpoint names, model names, status strings), and the figures are plain
// numbers. Counters hand what they gathered to their prom-client Counter when it is read (its
// `collect`), so the registry's exposition, JSON and cluster aggregation are prom-client's;
// histograms are metrics of their own, in prom-client's shape.
import { Counter, type Registry } from "prom-client";

/** One series: its labels (made once) and what it holds. */
interface Series<T> {
  labels: Record<string, string>;
  data: T;
}

/** Series by label values, one Map level per label. */
class SeriesMap<T> {
  readonly #root = new Map<string, unknown>();
  readonly all: Series<T>[] = [];
  constructor(
    readonly labelNames: readonly string[],
    readonly make: () => T,
  ) {}

  /** The series of these label values (as many as `labelNames`, in its order). */
  get(values: readonly string[]): T {
    let level = this.#root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const key = values[i] as string;
      let next = level.get(key) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const key = values[last] as string;
    let series = level.get(key) as Series<T> | undefined;
    if (series === undefined) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i] as string] = values[i] as string;
      series = { labels, data: this.make() };
      level.set(key, series);
      this.all.push(series);
    }
    return series.data;
  }

  clear(): void {
    this.#root.clear();
    this.all.length = 0;
  }
}

/**
 * A Prometheus counter whose increments are gathered per series and handed to its prom-client
 * Counter (registered in `register`) when the registry reads it.
 */
export class CounterTally<L extends string> {
  readonly #series: SeriesMap<{ pending: number }>;
  // One array reused for the label values of an update (the callers are synchronous).
  readonly #values: string[] = [];
  readonly #counter: Counter<L>;

  constructor(name: string, help: string, labelNames: readonly L[], register: Registry) {
    this.#series = new SeriesMap(labelNames, () => ({ pending: 0 }));
    const counter = new Counter({
      name,
      help,
      labelNames: [...labelNames],
      registers: [register],
      collect: () => this.flush(),
    });
    // A reset (the registry's resetMetrics) also forgets what was gathered and not handed on yet.
    const reset = counter.reset.bind(counter);
    counter.reset = () => {
      this.#series.clear();
      reset();
    };
    this.#counter = counter;
  }

  /** Adds `value` (> 0) to the series of the label values `a`, `b`, `c` (as many as the labels). */
  inc(value: number, a: string, b?: string, c?: string): void {
    // What prom-client refuses (it threw at the update); gathered, it would fail every later scrape.
    if (!(value >= 0 && value < Number.POSITIVE_INFINITY)) return;
    const values = this.#values;
    values.length = 0;
    values.push(a);
    if (b !== undefined) values.push(b);
    if (c !== undefined) values.push(c);
    this.#series.get(values).pending += value;
  }

  /** Hands the gathered increments to the Counter. */
  flush(): void {
    const counter = this.#counter;
    for (const s of this.#series.all) {
      if (s.data.pending === 0) continue;
      counter.inc(s.labels as Partial<Record<L, string>>, s.data.pending);
      s.data.pending = 0;
    }
  }
}

/** What a histogram series holds: a count per bucket (not cumulative), the sum and the count. */
interface HistogramData {
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** What prom-client's registry reads of a metric (`get()`), as its own metrics give it. */
interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram that prom-client's Registry serves beside its own metrics: the same
 * exposition (`_bucket` with `le`, `_sum`, `_count`) as prom-client's Histogram.
 */
export class FastHistogram<L extends string> {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  readonly #series: SeriesMap<HistogramData>;
  readonly #values: string[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
    register: Registry,
  ) {
    this.#bounds = [...buckets].sort((x, y) => x - y);
    const size = this.#bounds.length;
    this.#series = new SeriesMap(labelNames, () => ({ buckets: new Float64Array(size), sum: 0, count: 0 }));
    // The registry reads `name`, `help`, `type`, `aggregator`, `get()` and `reset()`: what prom-client's own metrics have.
    register.registerMetric(this as never);
  }

  /** Records `value` in the series of the label values `a`, `b` (as many as the labels). */
  observe(value: number, a: string, b?: string): void {
    // What prom-client refuses (it threw at the update): a NaN would stay in the series' sum for good.
    if (!Number.isFinite(value)) return;
    const values = this.#values;
    values.length = 0;
    values.push(a);
    if (b !== undefined) values.push(b);
    const data = this.#series.get(values);
    data.sum += value;
    data.count += 1;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        data.buckets[i] = (data.buckets[i] as number) + 1;
        return;
      }
    }
  }

  /** The series as prom-client's registry reads a metric. */
  async get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const values: MetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, data } of this.#series.all) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += data.buckets[i] as number;
        values.push({
          labels: { le: this.#bounds[i] as number, ...labels },
          value: cumulative,
          metricName: bucketName,
        });
      }
      values.push({ labels: { le: "+Inf", ...labels }, value: data.count, metricName: bucketName });
      values.push({ labels: { ...labels }, value: data.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: data.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Forgets every series (prom-client's `reset`). */
  reset(): void {
    this.#series.clear();
  }
}
