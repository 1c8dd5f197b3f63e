export {
  ANTHROPIC_API_KEY_ENV,
  AnthropicModel,
  type AnthropicModelOptions,
  type AnthropicPriceInfo,
  type AnthropicPricing,
} from "./anthropic-model";
export {
  ANTHROPIC_MODELS,
  ANTHROPIC_PRICES_AS_OF,
  type AnthropicModelInfo,
  type AnthropicModelLookup,
  type PriceSource,
  lookupAnthropicModel,
  normalizeAnthropicName,
} from "./models";
// The wire mapping lives in @orchestrator-ts/anthropic-format; these two stay exported here as before.
export { DEFAULT_RESPONSE_TOOL, fromStopReason as mapStopReason } from "@orchestrator-ts/anthropic-format";
export {
  type AnthropicProviderConfig,
  type AnthropicSettings,
  anthropic,
  anthropicProvider,
  createAnthropic,
} from "./plugin";
/** The YAML plugin under the name the config loader looks for, so `provider: "@orchestrator-ts/provider-anthropic"` finds it by package name. A named export rather than a default one: CommonJS consumers would otherwise need `.default`. */
export { anthropicProvider as provider } from "./plugin";
