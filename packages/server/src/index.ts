export {
  type Admission,
  type AdmissionOutcome,
  type AdmissionRequest,
  type Caller,
  GatewayError,
  type GatewayErrorOptions,
  type GatewayErrorType,
  type Gatekeeper,
  type RequestRecord,
  type ServedOrchestrator,
  type ServerObserver,
} from "./contract";
export {
  createMetrics,
  DEFAULT_LATENCY_BUCKETS_SECONDS,
  DEFAULT_TTFC_BUCKETS_SECONDS,
  type GatewayMetrics,
  type MetricsOptions,
  type MetricsRoute,
} from "./metrics/metrics";
