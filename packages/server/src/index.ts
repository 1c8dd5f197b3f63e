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
