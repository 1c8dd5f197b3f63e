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
  KEY_PREFIX,
  KeyGate,
  type KeyGateOptions,
  type KeyView,
  MemoryKeyStore,
  type MemoryKeyStoreOptions,
  type NewKey,
  type AdminHandlerOptions,
  createAdminHandler,
  generateKey,
  hashKey,
  parseNewKey,
  parseSince,
} from "./keys/index";
export {
  createMetrics,
  DEFAULT_LATENCY_BUCKETS_SECONDS,
  DEFAULT_TTFC_BUCKETS_SECONDS,
  type GatewayMetrics,
  type MetricsOptions,
  type MetricsRoute,
} from "./metrics/metrics";
export {
  type AdminHandler,
  type CreateServerOptions,
  type OrchestratorServer,
  type ServerRoute,
  createServer,
  rawKeyOf,
} from "./server";
export type { ModelInitFailure } from "./initialize";
export { openAIErrorBody, toGatewayError } from "./errors";
export { DEFAULT_BODY_LIMIT_BYTES } from "./body";
export { type RoutingHints, routingHints } from "./hints";
export { createDashboard } from "./dashboard/dashboard";
export type { Dashboard, DashboardOptions, DashboardState, ReplaySource, SpendSource } from "./dashboard/types";
export type { LoginThrottleOptions } from "./dashboard/login-throttle";
export type { CascadeView } from "./dashboard/cascade-view";
export type { ModelView, SpendView } from "./dashboard/page";
export {
  type DecisionRecord,
  decisionOfError,
  decisionOfResult,
  fromDecisionRecord,
} from "./dashboard/decision-record";
export { allowedModels, reachableModels } from "./answer";
