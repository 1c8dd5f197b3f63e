export {
  HuggingFaceModel,
  HUGGINGFACE_HUB_URL,
  HUGGINGFACE_TOKEN_ENV,
  isLoopbackURL,
  resolveCapabilities,
  type HuggingFaceModelOptions,
  type PriceSource,
} from "./huggingface-model";
export {
  HUGGINGFACE_CONSERVATIVE_PRICE,
  HUGGINGFACE_MODELS,
  HUGGINGFACE_PRICES_AS_OF,
  huggingFaceCapabilities,
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
} from "./provider";
import { huggingfaceProvider } from "./provider";

/** The YAML plugin, so `provider: "@orchestrator/provider-huggingface"` finds it by package name. */
export default huggingfaceProvider;
