export {
  DEFAULT_OLLAMA_PORT,
  OllamaModel,
  type OllamaModelOptions,
  type OllamaPricing,
  type OllamaPullProgress,
  capabilitiesFromShow,
  normalizeModelTag,
  resolveOllamaUrl,
} from "./ollama-model";
export { mapDoneReason } from "./mapping";
export { type OllamaProviderConfig, type OllamaSettings, createOllama, ollama, ollamaProvider } from "./plugin";
export { ollamaProvider as default } from "./plugin";
