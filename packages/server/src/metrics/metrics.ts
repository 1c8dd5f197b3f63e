// Prometheus metrics for the gateway: a ServerObserver for finished requests, listeners on the
// registry's events (selections, attempts, feedback, health) and the GET /metrics route.
//
// Labels are kept to small, closed sets: a model label only ever holds a registered model's name,
// error codes and key names are capped, and nothing a client writes (a prompt, a key, an unknown
// model name, a user) becomes a label. onRequest runs once per request on the gateway's hot path:
// its updates go to tallies (tally.ts), not through prom-client's per-update label checks, and
// reach prom-client's registry when it is read (about 1.7 µs; measured in metrics.test.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HealthState } from "@orchestrator-ts/core";
import type { ModelRegistry } from "@orchestrator-ts/registry";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { CounterTally, FastHistogram } from "./tally";
import type { RequestRecord, ServerObserver } from "../contract";

/**
 * Request latency buckets, in seconds: LLM calls run from a few ms (a cache hit, an error) to
 * minutes (a long generation), so the buckets span 5 ms to 10 min.
 */
export const DEFAULT_LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600,
];
/** Time to the first chunk of a stream, in seconds: usually well under the whole call. */
export const DEFAULT_TTFC_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** What `createServer`'s `extraRoutes` takes. */
export interface MetricsRoute {
  /** Always `GET`. */
  method: "GET";
  /** `/metrics` unless `MetricsOptions.path` says otherwise. */
  path: string;
  /** Writes the exposition text with Prometheus' content type (500 with a plain-text reason if collection fails). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** The registry the server serves: its events feed the selection, attempt, feedback and health metrics. */
  registry: ModelRegistry;
  /** Where the metrics are registered; default a new `prom-client` Registry of their own. */
  promRegistry?: Registry;
  /** Also export prom-client's default process metrics (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`…). Default true. */
  processMetrics?: boolean;
  /** The route's path. Default `/metrics`. */
  path?: string;
  /** Histogram buckets (seconds) for request latency. */
  latencyBucketsSeconds?: readonly number[];
  /** Histogram buckets (seconds) for a stream's time to first chunk. */
  timeToFirstChunkBucketsSeconds?: readonly number[];
  /** Distinct key names tracked for per-key spend before the rest are counted as `other`. Default 1000. */
  maxKeys?: number;
}

/** The gateway's metrics: an observer for `createServer`'s `observers`, its route and its prom-client registry. */
export interface GatewayMetrics extends ServerObserver {
  /** The GET /metrics route, for `createServer({ extraRoutes: [metrics.route] })`. */
  readonly route: MetricsRoute;
  /** The prom-client registry that holds the metrics. */
  readonly promRegistry: Registry;
  /** The exposition text, as the route serves it. */
  scrape(): Promise<string>;
  /** Stop listening to the registry's events (the metrics stay registered). */
  close(): void;
}

const OTHER = "other";
const NONE = "none";
/** Error codes are set by our code, not the client; the cap only guards against a bug. */
const MAX_ERROR_CODES = 100;
const CIRCUIT = { closed: 0, "half-open": 1, open: 2 } as const;
const HEALTH_STATES: readonly HealthState[] = ["healthy", "degraded", "unhealthy", "unknown"];

/** A string label from a possibly unbounded source, capped at `max` distinct values. */
class BoundedLabel {
  readonly #seen = new Set<string>();
  constructor(readonly max: number) {}
  of(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.max) return OTHER;
    this.#seen.add(value);
    return value;
  }
}

/**
 * Prometheus metrics for `@orchestrator-ts/server`. Pass the result as an observer and its route
 * as an extra route:
 *
 * ```ts
 * const metrics = createMetrics({ registry: orchestrator.registry });
 * createServer({ orchestrator, observers: [metrics], extraRoutes: [metrics.route] });
 * ```
 */
export function createMetrics(options: MetricsOptions): GatewayMetrics {
  const { registry } = options;
  const prom = options.promRegistry ?? new Registry();
  const registers = [prom];
  if (options.processMetrics !== false) collectDefaultMetrics({ register: prom });

  const requests = new CounterTally(
    "orchestrator_requests_total",
    "API requests answered, by endpoint, HTTP status and the model that answered (none when no model did).",
    ["endpoint", "status", "model"] as const,
    prom,
  );
  const errors = new CounterTally(
    "orchestrator_request_errors_total",
    "API requests that failed, by endpoint and error code.",
    ["endpoint", "code"] as const,
    prom,
  );
  const latency = new FastHistogram(
    "orchestrator_request_duration_seconds",
    "Time from a request's arrival to its last byte, by endpoint and whether it streamed.",
    ["endpoint", "stream"] as const,
    [...(options.latencyBucketsSeconds ?? DEFAULT_LATENCY_BUCKETS_SECONDS)],
    prom,
  );
  const ttfc = new FastHistogram(
    "orchestrator_time_to_first_chunk_seconds",
    "Time from a streamed request's arrival to its first text or tool-call chunk, by endpoint and model.",
    ["endpoint", "model"] as const,
    [...(options.timeToFirstChunkBucketsSeconds ?? DEFAULT_TTFC_BUCKETS_SECONDS)],
    prom,
  );
  const tokens = new CounterTally(
    "orchestrator_tokens_total",
    "Tokens the answering models reported, by model and direction (input, output).",
    ["model", "direction"] as const,
    prom,
  );
  const cost = new CounterTally(
    "orchestrator_cost_usd_total",
    "Cost of the answered requests in US dollars, by model.",
    ["model"] as const,
    prom,
  );
  const cacheHits = new CounterTally(
    "orchestrator_cache_hits_total",
    "Requests answered from the response cache, by model.",
    ["model"] as const,
    prom,
  );
  const cacheMisses = new CounterTally(
    "orchestrator_cache_misses_total",
    "Requests that looked in the response cache and called the model, by model.",
    ["model"] as const,
    prom,
  );
  const keySpend = new CounterTally(
    "orchestrator_key_spend_usd_total",
    "Spend in US dollars per virtual key, by the key's name (never the key).",
    ["key_name"] as const,
    prom,
  );
  const keyRequests = new CounterTally(
    "orchestrator_key_requests_total",
    "API requests per virtual key, by the key's name (never the key).",
    ["key_name"] as const,
    prom,
  );

  const selections = new CounterTally(
    "orchestrator_selections_total",
    "Models chosen by the selector, by model and whether the choice was a fallback.",
    ["model", "fallback"] as const,
    prom,
  );
  const attempts = new CounterTally(
    "orchestrator_model_attempts_total",
    "Calls to a model (retries and fallbacks each count), by model and result.",
    ["model", "result"] as const,
    prom,
  );
  const attemptErrors = new CounterTally(
    "orchestrator_model_errors_total",
    "Failed calls to a model, by model and error code.",
    ["model", "code"] as const,
    prom,
  );
  const attemptLatency = new FastHistogram(
    "orchestrator_model_call_duration_seconds",
    "Duration of successful calls to a model, by model.",
    ["model"] as const,
    [...(options.latencyBucketsSeconds ?? DEFAULT_LATENCY_BUCKETS_SECONDS)],
    prom,
  );
  const feedback = new FastHistogram(
    "orchestrator_feedback_quality",
    "Quality scores sent as feedback (0 to 1), by model.",
    ["model"] as const,
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    prom,
  );
  const healthChanges = new CounterTally(
    "orchestrator_model_health_changes_total",
    "Changes of a model's health status seen by selection, by model and the new status.",
    ["model", "status"] as const,
    prom,
  );

  // Circuit and health state are read from the registry's health tracker when scraped, so they are
  // current even for a model no request has touched since it recovered.
  const health = registry.health as typeof registry.health & {
    circuit?: (name: string) => keyof typeof CIRCUIT | undefined;
  };
  new Gauge({
    name: "orchestrator_model_circuit_state",
    help: "A model's circuit: 0 closed, 1 half-open, 2 open (without a circuit breaker: 0 available, 2 unavailable).",
    labelNames: ["model"] as const,
    registers,
    collect() {
      this.reset();
      for (const model of registry.listModels()) {
        const name = model.name;
        const circuit = typeof health.circuit === "function" ? health.circuit(name) : undefined;
        this.set(
          { model: name },
          circuit !== undefined
            ? CIRCUIT[circuit]
            : health.availability(name).available
              ? CIRCUIT.closed
              : CIRCUIT.open,
        );
      }
    },
  });
  new Gauge({
    name: "orchestrator_model_available",
    help: "1 when selection may pick the model now, 0 when it rests (circuit open, rate limited).",
    labelNames: ["model"] as const,
    registers,
    collect() {
      this.reset();
      for (const model of registry.listModels())
        this.set({ model: model.name }, health.availability(model.name).available ? 1 : 0);
    },
  });
  new Gauge({
    name: "orchestrator_model_health_status",
    help: "A model's health status: 1 for the current one of healthy, degraded, unhealthy, unknown.",
    labelNames: ["model", "status"] as const,
    registers,
    collect() {
      this.reset();
      for (const model of registry.listModels()) {
        const status = health.availability(model.name).status;
        for (const s of HEALTH_STATES) this.set({ model: model.name, status: s }, s === status ? 1 : 0);
      }
    },
  });

  // A model label is a registered model's name or `other`; lookups are cached per name seen.
  const modelLabels = new Map<string, string>();
  const modelLabel = (name: string | undefined): string => {
    if (name === undefined) return NONE;
    let label = modelLabels.get(name);
    if (label === undefined) {
      label = registry.hasModel(name) ? name : OTHER;
      // Unknown names are not remembered, so a flood of them cannot grow the map.
      if (label !== OTHER) modelLabels.set(name, label);
    }
    return label;
  };
  const errorCodes = new BoundedLabel(MAX_ERROR_CODES);
  const keyNames = new BoundedLabel(options.maxKeys ?? 1000);
  const statusLabels: string[] = [];
  const statusLabel = (status: number) => statusLabels[status] ?? (statusLabels[status] = String(status));

  const observer = (record: RequestRecord): void => {
    const model = modelLabel(record.model);
    const endpoint = record.endpoint;
    const status = statusLabel(record.status);
    requests.inc(1, endpoint, status, model);
    if (record.status >= 400 || record.errorCode !== undefined)
      errors.inc(1, endpoint, errorCodes.of(record.errorCode ?? `http_${status}`));
    if (Number.isFinite(record.latencyMs))
      latency.observe(record.latencyMs / 1000, endpoint, record.stream ? "true" : "false");
    const ttfcMs = record.timeToFirstChunkMs;
    if (ttfcMs !== undefined && Number.isFinite(ttfcMs)) ttfc.observe(ttfcMs / 1000, endpoint, model);
    if (record.inputTokens !== undefined && record.inputTokens > 0) tokens.inc(record.inputTokens, model, "input");
    if (record.outputTokens !== undefined && record.outputTokens > 0) tokens.inc(record.outputTokens, model, "output");
    const usd = record.costUsd;
    const spent = usd !== undefined && usd > 0 && Number.isFinite(usd);
    if (spent) cost.inc(usd, model);
    if (record.cached === true) cacheHits.inc(1, model);
    else if (record.cached === false) cacheMisses.inc(1, model);
    if (record.keyId !== undefined || record.keyName !== undefined) {
      // The name the key was given; a key without one is counted under `unnamed`, never under its id or value.
      const key_name = keyNames.of(record.keyName ?? "unnamed");
      keyRequests.inc(1, key_name);
      if (spent) keySpend.inc(usd, key_name);
    }
  };

  const unsubscribe = [
    registry.on("selection", (e) => {
      selections.inc(1, modelLabel(e.model), e.fallback > 0 ? "true" : "false");
    }),
    registry.on("outcome", (e) => {
      const model = modelLabel(e.model);
      attempts.inc(1, model, e.success ? "success" : "error");
      if (e.success) attemptLatency.observe(e.latencyMs / 1000, model);
      else attemptErrors.inc(1, model, errorCodes.of(e.error?.code ?? "unknown"));
    }),
    registry.on("feedback", (e) => {
      feedback.observe(e.quality, modelLabel(e.model));
    }),
    registry.on("health", (e) => {
      healthChanges.inc(1, modelLabel(e.model), e.status);
    }),
  ];

  const path = options.path ?? "/metrics";
  const scrape = () => prom.metrics();
  return {
    onRequest(record: RequestRecord): void {
      try {
        observer(record);
      } catch {
        // Metrics must never fail a request.
      }
    },
    promRegistry: prom,
    scrape,
    route: {
      method: "GET",
      path,
      async handle(_req, res) {
        try {
          const body = await scrape();
          res.writeHead(200, { "content-type": prom.contentType, "cache-control": "no-store" });
          res.end(body);
        } catch (error) {
          res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
          res.end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      },
    },
    close() {
      for (const off of unsubscribe.splice(0)) off();
    },
  };
}
