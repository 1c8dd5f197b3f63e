// Both directions: any AI SDK model inside the orchestrator (AISDKModel), and the orchestrator as an
// AI SDK provider (createOrchestratorProvider). They share normalize.ts and spec.ts.
export {
  AUTO_MODEL_ID,
  createOrchestratorProvider,
  type ModelIdResolver,
  type ModelTarget,
  type OrchestratorAttempt,
  type OrchestratorModelSettings,
  type OrchestratorProvider,
  type OrchestratorProviderOptions,
  type OrchestratorRegistry,
  type OrchestratorRequirements,
  type OrchestratorRequest,
} from "./orchestrator-provider";
export { OrchestratorCallError, toAISDKError } from "./to-ai-sdk-error";
export { fromCallOptions, fromPrompt } from "./from-call-options";
export { AISDKModel, CONSERVATIVE_PRICE, type AISDKModelOptions, type PriceSource } from "./ai-sdk-model";
export { mapAISDKError } from "./map-error";
export {
  fromFinishReason,
  fromUsage,
  normalizeFinishReason,
  normalizeUsage,
  toFinishReason,
  toUsage,
} from "./normalize";
export { type AISDKLanguageModel, isAISDKLanguageModel } from "./spec";
export { toCallOptions, toPrompt } from "./to-call-options";
export { aiSdkConfigSchema, aiSdkProvider, loadLanguageModel, type AISDKProviderConfig } from "./plugin";
import { aiSdkProvider } from "./plugin";

/** The YAML plugin, so `provider: "@orchestrator-ts/ai-sdk"` finds it by package name. */
export default aiSdkProvider;
