export {
  DEFAULT_OLLAMA_PORT,
  OllamaModel,
  type OllamaModelOptions,
  type OllamaPricing,
  type OllamaPullProgress,
  resolveOllamaUrl,
} from "./ollama-model";
export { capabilitiesFromShow, normalizeModelTag } from "./models";
export { mapDoneReason } from "./mapping";
export { type OllamaProviderConfig, type OllamaSettings, createOllama, ollama, ollamaProvider } from "./plugin";
/** The YAML plugin under the name the config loader looks for, so `provider: "@orchestrator-ts/provider-ollama"` finds it by package name. A named export rather than a default one: CommonJS consumers would otherwise need `.default`. */
export { ollamaProvider as provider } from "./plugin";
