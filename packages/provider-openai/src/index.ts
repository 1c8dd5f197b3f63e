export { OpenAIModel, OPENAI_DEFAULT_BASE_URL, type OpenAIModelOptions } from "./openai-model";
/** Where `model.priceSource` says a price came from (the rule is `@orchestrator-ts/openai-format`'s). */
export type { PriceSource } from "@orchestrator-ts/openai-format";
/** A model table's row: limits, abilities and prices (the shape `@orchestrator-ts/openai-format` gives both providers). */
export type { ChatModelInfo } from "@orchestrator-ts/openai-format";
export {
  OPENAI_MODELS,
  OPENAI_PRICES_AS_OF,
  CONSERVATIVE_PRICE,
  lookupOpenAIModel,
  type OpenAIModelInfo,
} from "./models";
export { mapOpenAIError } from "./map-error";
export {
  AZURE_DEFAULT_API_VERSION,
  OPENAI_PRESETS,
  OPENAI_PRESET_NAMES,
  lookupPreset,
  type OpenAIPreset,
  type OpenAIPresetName,
  type PresetModelInfo,
} from "./presets";
export {
  createOpenAI,
  openai,
  openaiConfigSchema,
  openaiProvider,
  type OpenAIProvider,
  type OpenAIProviderConfig,
  type OpenAIProviderSettings,
} from "./plugin";
/** The YAML plugin under the name the config loader looks for, so `provider: "@orchestrator-ts/provider-openai"` finds it by package name. A named export rather than a default one: CommonJS consumers would otherwise need `.default`. */
export { openaiProvider as provider } from "./plugin";
