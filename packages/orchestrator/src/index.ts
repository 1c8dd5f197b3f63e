// Everything a user needs from one package. @orchestrator/testing is left out on purpose: it is a
// development tool (install it next to vitest).
export * from "@orchestrator/core";
export * from "@orchestrator/registry";
export * from "@orchestrator/cache";
export * from "@orchestrator/health";
export * from "@orchestrator/config";
// Both packages export the same well-known symbol.
export { BUILD_MODELS } from "@orchestrator/config";
export * from "@orchestrator/redis";
// Providers: their model classes, plugins and factories (helpers with clashing names stay in their own packages).
export { OpenAIModel, type OpenAIModelOptions, OPENAI_MODELS, OPENAI_PRICES_AS_OF, createOpenAI, openai, openaiProvider } from "@orchestrator/provider-openai";
export { AnthropicModel, type AnthropicModelOptions, ANTHROPIC_MODELS, ANTHROPIC_PRICES_AS_OF, createAnthropic, anthropic, anthropicProvider } from "@orchestrator/provider-anthropic";
export { HuggingFaceModel, type HuggingFaceModelOptions, HUGGINGFACE_MODELS, createHuggingFace, huggingface, huggingfaceProvider } from "@orchestrator/provider-huggingface";
export { OllamaModel, type OllamaModelOptions, type OllamaPullProgress, createOllama, ollama, ollamaProvider } from "@orchestrator/provider-ollama";
export * from "@orchestrator/provider-llama-cpp";
export { builtinProviders, builtinProvidersWith } from "./providers";
export { createOrchestrator, loadConfig, resolveConfigPath, type CreateOrchestratorOptions, type Orchestrator } from "./orchestrator";
export { EMBEDDED_CONFIG, LOCAL_MODELS, defaultModelDir, prepareLocalModels } from "./default-config";
