export { OpenAIModel, OPENAI_DEFAULT_BASE_URL, resolveCapabilities, type OpenAIModelOptions, type PriceSource } from "./openai-model";
// Shared with other providers, from core; still exported here.
export { isLoopbackURL } from "@orchestrator-ts/core";
export { OPENAI_MODELS, OPENAI_PRICES_AS_OF, CONSERVATIVE_PRICE, lookupOpenAIModel, openAICapabilities, type OpenAIModelInfo } from "./models";
export { mapOpenAIError } from "./map-error";
export {
  createOpenAI,
  openai,
  openaiConfigSchema,
  openaiProvider,
  type OpenAIProvider,
  type OpenAIProviderConfig,
  type OpenAIProviderSettings,
} from "./provider";
/** The YAML plugin under the name the config loader looks for, so `provider: "@orchestrator-ts/provider-openai"` finds it by package name. A named export rather than a default one: CommonJS consumers would otherwise need `.default`. */
export { openaiProvider as provider } from "./provider";
