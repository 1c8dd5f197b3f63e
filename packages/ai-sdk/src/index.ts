// Any AI SDK model inside the orchestrator. (The other direction, the orchestrator as an AI SDK
// provider, will live beside it: orchestrator-provider.ts, sharing normalize.ts and spec.ts.)
export { AISDKModel, CONSERVATIVE_PRICE, type AISDKModelOptions, type PriceSource } from "./ai-sdk-model";
export { mapAISDKError } from "./map-error";
export { normalizeFinishReason, normalizeUsage, toFinishReason, toUsage } from "./normalize";
export { type AISDKLanguageModel, isAISDKLanguageModel } from "./spec";
export { toCallOptions, toPrompt } from "./to-call-options";
export { aiSdkConfigSchema, aiSdkProvider, loadLanguageModel, type AISDKProviderConfig } from "./plugin";
import { aiSdkProvider } from "./plugin";

/** The YAML plugin, so `provider: "@orchestrator-ts/ai-sdk"` finds it by package name. */
export default aiSdkProvider;
