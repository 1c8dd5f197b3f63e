// Everything a user needs from one package. @orchestrator-ts/testing is left out on purpose: it is a
// development tool (install it next to vitest).
export * from "@orchestrator-ts/core";
export * from "@orchestrator-ts/registry";
export * from "@orchestrator-ts/cache";
export * from "@orchestrator-ts/health";
export * from "@orchestrator-ts/config";
export * from "@orchestrator-ts/replay";
export * from "@orchestrator-ts/redis";
// Providers: their model classes, plugins and factories (helpers with clashing names stay in their own packages).
export {
  OpenAIModel,
  type OpenAIModelOptions,
  OPENAI_MODELS,
  OPENAI_PRICES_AS_OF,
  createOpenAI,
  openai,
  openaiProvider,
} from "@orchestrator-ts/provider-openai";
export {
  AnthropicModel,
  type AnthropicModelOptions,
  ANTHROPIC_MODELS,
  ANTHROPIC_PRICES_AS_OF,
  createAnthropic,
  anthropic,
  anthropicProvider,
} from "@orchestrator-ts/provider-anthropic";
export {
  HuggingFaceModel,
  type HuggingFaceModelOptions,
  HUGGINGFACE_MODELS,
  createHuggingFace,
  huggingface,
  huggingfaceProvider,
} from "@orchestrator-ts/provider-huggingface";
export {
  OllamaModel,
  type OllamaModelOptions,
  type OllamaPullProgress,
  createOllama,
  ollama,
  ollamaProvider,
} from "@orchestrator-ts/provider-ollama";
export * from "@orchestrator-ts/provider-llama-cpp";
export {
  AISDKModel,
  type AISDKModelOptions,
  aiSdkProvider,
  AUTO_MODEL_ID,
  type OrchestratorModelSettings,
  type OrchestratorProvider,
} from "@orchestrator-ts/ai-sdk";
export {
  createOrchestratorProvider,
  type OrchestratorProviderFromConfig,
  type OrchestratorProviderFromConfigOptions,
} from "./ai-sdk-provider";
export { builtinProviders, builtinProvidersWith } from "./providers";
export {
  createOrchestrator,
  loadConfig,
  resolveConfigPath,
  type CreateOrchestratorOptions,
  type Orchestrator,
  type OrchestratorTelemetryOptions,
} from "./orchestrator";
export { EMBEDDED_CONFIG, LOCAL_MODELS, defaultModelDir, prepareLocalModels } from "./default-config";
export { type ConfiguredServer, createServer, type CreateServerOptions, withRedisUrl } from "./server";
export {
  GatewayError,
  type Caller,
  type Gatekeeper,
  type Admission,
  type OrchestratorServer,
  type ServedOrchestrator,
  type ServerObserver,
  type RequestRecord,
  type ServerRoute,
} from "@orchestrator-ts/server";
