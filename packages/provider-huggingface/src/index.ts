export {
  HuggingFaceModel,
  HUGGINGFACE_HUB_URL,
  HUGGINGFACE_TOKEN_ENV,
  type HuggingFaceModelOptions,
} from "./huggingface-model";
/** Where `model.priceSource` says a price came from (the rule is `@orchestrator-ts/openai-format`'s). */
export type { PriceSource } from "@orchestrator-ts/openai-format";
/** A model table's row: limits, abilities and prices (the shape `@orchestrator-ts/openai-format` gives both providers). */
export type { ChatModelInfo } from "@orchestrator-ts/openai-format";
export {
  HUGGINGFACE_CONSERVATIVE_PRICE,
  HUGGINGFACE_MODELS,
  HUGGINGFACE_PRICES_AS_OF,
  lookupHuggingFaceModel,
  type HuggingFaceModelInfo,
} from "./models";
export { mapHuggingFaceError } from "./map-error";
export {
  createHuggingFace,
  huggingface,
  huggingfaceConfigSchema,
  huggingfaceProvider,
  type HuggingFaceProvider,
  type HuggingFaceProviderConfig,
  type HuggingFaceProviderSettings,
} from "./plugin";
/** The YAML plugin under the name the config loader looks for, so `provider: "@orchestrator-ts/provider-huggingface"` finds it by package name. A named export rather than a default one: CommonJS consumers would otherwise need `.default`. */
export { huggingfaceProvider as provider } from "./plugin";
