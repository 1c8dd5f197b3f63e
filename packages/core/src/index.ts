// What a user needs: the Model contract, its types, errors and interfaces, and the helpers a provider
// author uses. Helpers for this repository's own packages are in ./internal ("@orchestrator-ts/core/internal").
export * from "./errors";
export * from "./redact";
export * from "./types";
export * from "./capabilities";
export * from "./metrics";
export * from "./limits";
export * from "./interfaces";
export * from "./plugin";
export { SPECIFICATION_VERSION, type SpecificationVersion, SpecificationVersionError } from "./specification";
export * from "./selection";
export * from "./config-shape";
export { Model, type ModelOptions, REFERENCE_OUTPUT_TOKENS, REFERENCE_REQUEST } from "./model";
export type { CallControl, StreamReport } from "./call-scope";
export { providerStream } from "./provider-stream";
export { seededRandom } from "./random";
export { endpointIdentity, headersIdentity } from "./cache-identity";
export {
  DEFAULT_MAX_EVENT_BYTES,
  eventTooLargeError,
  fetchWithLineLimit,
  limitLines,
  type LineLimitOptions,
} from "./line-limit";
export { revealHeaders } from "./headers";
export type {
  BudgetPeriod,
  VirtualKeyLimits,
  VirtualKeyRecord,
  KeyAdmissionCheck,
  KeyAdmissionVerdict,
  KeySettlement,
  SpendDimension,
  SpendRow,
  KeyStore,
} from "./virtual-keys";
