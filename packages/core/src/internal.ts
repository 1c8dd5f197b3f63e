// For this repository's own packages, not for applications or third-party providers: no stability
// promise. Import from "@orchestrator-ts/core/internal". What a user needs is in the main entry.
export { type Deadline, Deadlines, sdkBackstopTimeoutMs, timeLimit } from "./deadlines";
export { LruMap } from "./lru";
export { isLoopbackURL, mergeDeclaredCapabilities } from "./pricing";
export { formatPath } from "./validation";
export { specificationMismatch } from "./specification";
export { describeConnectionError, toOrchestratorError } from "./map-error";
export { isZodSchema, toJsonSchema } from "./schema";
export { budgetPeriodEnd, budgetPeriodId, spendHour } from "./virtual-keys";
export { replaceMethods, rewrapStream, type StreamFacts } from "./wrap-calls";
export {
  type LazyModule,
  type LazyModuleOptions,
  isModuleNotFound,
  lazyModule,
  missingPackageError,
} from "./lazy-module";
export { withFields } from "./with-fields";
export { checkedUsage, countOrUndefined } from "./counts";
export { TAKE, type Takeable, takerOf } from "./take";
export { wireCacheControl } from "./wire-cache-control";
