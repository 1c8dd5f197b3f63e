export * from "./errors";
export * from "./redact";
export * from "./types";
export * from "./capabilities";
export * from "./metrics";
export * from "./limits";
export * from "./interfaces";
export * from "./plugin";
export {
  SPECIFICATION_VERSION,
  type SpecificationVersion,
  SpecificationVersionError,
  specificationMismatch,
} from "./specification";
export * from "./selection";
export * from "./config-shape";
export * from "./map-error";
export * from "./schema";
export { Model, type ModelOptions, REFERENCE_OUTPUT_TOKENS, REFERENCE_REQUEST } from "./model";
export type { CallControl } from "./call-scope";
export { formatPath, parseOrThrow } from "./validation";
export { providerStream } from "./provider-stream";
export { LruMap } from "./lru";
export { seededRandom } from "./random";
export { isLoopbackURL, mergeDeclaredCapabilities } from "./pricing";
export { cacheIdentityOf, endpointIdentity, headersIdentity } from "./cache-identity";
export {
  DEFAULT_MAX_EVENT_BYTES,
  eventTooLargeError,
  fetchWithLineLimit,
  limitLines,
  type LineLimitOptions,
} from "./line-limit";
export { revealHeaders } from "./headers";
export * from "./virtual-keys";
