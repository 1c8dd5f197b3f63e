import type { MeterProvider, TracerProvider } from "@opentelemetry/api";

/** The OpenTelemetry semantic conventions release whose GenAI attributes and metrics this package follows. */
export const SEMCONV_VERSION = "1.41.1";
/** The instrumentation scope name of the tracer and the meter. */
export const INSTRUMENTATION_NAME = "@orchestrator-ts/otel";
export const INSTRUMENTATION_VERSION = "0.1.0";

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`), which follows an SDK registered later. */
  tracerProvider?: TracerProvider;
  /** Default: the global meter provider at the time of `instrument` (register the metrics SDK first). */
  meterProvider?: MeterProvider;
  /**
   * Record message content (`gen_ai.system_instructions`, `gen_ai.input.messages`,
   * `gen_ai.output.messages`: the conventions' opt-in attributes). Default `false`: prompts and
   * answers often hold personal data.
   */
  captureContent?: boolean;
  /** Calls tracked at once (default 10,000); past it the oldest — a stream dropped unfinished — is ended and let go. */
  maxCallsInFlight?: number;
}

/** What `instrument` returns: call it (or `using` it) to stop instrumenting. */
export interface Instrumentation {
  /** Stop instrumenting: the registry's own `generate`/`stream` are back, its events unsubscribed. Idempotent. */
  (): void;
  /** The same, for `using`. */
  [Symbol.dispose](): void;
}
