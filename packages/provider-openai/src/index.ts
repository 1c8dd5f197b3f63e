export { OpenAIModel, OPENAI_DEFAULT_BASE_URL, resolveCapabilities, type OpenAIModelOptions, type PriceSource } from "./openai-model";
// Shared with other providers, from core; still exported here.
export { isLoopbackURL } from "@orchestrator-ts/core";
export { OPENAI_MODELS, OPENAI_PRICES_AS_OF, CONSERVATIVE_PRICE, lookupOpenAIModel, openAICapabilities, type OpenAIModelInfo } from "./models";
export { mapOpenAIError } from "./map-error";
export { AZURE_DEFAULT_API_VERSION, OPENAI_PRESETS, OPENAI_PRESET_NAMES, lookupPreset, type OpenAIPreset, type OpenAIPresetName, type PresetModelInfo } from "./presets";
export {
  createOpenAI,
  openai,
  openaiConfigSchema,
  openaiProvider,
  type OpenAIProvider,
  type OpenAIProviderConfig,
  type OpenAIProviderSettings,
} from "./provider";
import { openaiProvider } from "./provider";

/** The YAML plugin, so `provider: "@orchestrator-ts/provider-openai"` finds it by package name. */
export default openaiProvider;
