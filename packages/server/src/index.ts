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
export { type AdminHandler, type CreateServerOptions, type OrchestratorServer, type ServerRoute, createServer, rawKeyOf } from "./server";
export { openAIErrorBody, toGatewayError } from "./errors";
export { DEFAULT_BODY_LIMIT_BYTES } from "./body";
export { type RoutingHints, routingHints } from "./hints";
